//! Shared by the fuzz targets: one CloudTrail record to evaluate parsed queries against, and the
//! embedded rules.
#![allow(dead_code)]
use std::sync::LazyLock;

/// A successful StartExportTask record (the seed rule alerts on it), with nested parameters so
/// wildcard, nested and exists queries have something to walk.
pub static RECORD: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/r/s",
                         "accountId": "111122223333",
                         "sessionContext": {"sessionIssuer": {"userName": "r"}}},
        "eventTime": "2026-11-22T14:05:00Z",
        "eventSource": "rds.amazonaws.com",
        "eventName": "StartExportTask",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"exportTaskIdentifier": "e1", "s3BucketName": "b",
                              "exportOnly": ["db.t1", "db.t2"], "port": 5432,
                              "tags": [{"key": "k", "value": "v"}]},
        "responseElements": {"status": "STARTING", "percentProgress": 0},
        "eventID": "00000000-0000-0000-0000-000000000001",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    })
});

pub static DETECTOR: LazyLock<trailwatch::Detector> =
    LazyLock::new(|| trailwatch::Detector::new(trailwatch::RuleSet::embedded()));

/// Evaluates `expr` on the ECS view of [`RECORD`]: a parsed query must also evaluate.
pub fn evaluate(expr: &trailwatch::engine::Expr) -> bool {
    let view = trailwatch::ecs::CloudTrailView::new(&RECORD);
    trailwatch::engine::matches(expr, &view)
}
