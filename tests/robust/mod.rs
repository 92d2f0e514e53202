//! Helpers shared by the robustness tests (bad inputs, faults, injection): CloudTrail objects
//! built in the test, so no binary fixture is committed.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;

use serde_json::{json, Value};
use trailwatch::{Detector, RuleSet};

/// `exfiltration_rds_snapshot_export.toml`: alerts on every successful StartExportTask.
pub const EXPORT_RULE: &str = "119c8877-8613-416d-a98a-96b6664ee73a";

/// The embedded rules, compiled once per test binary.
pub static DETECTOR: LazyLock<Detector> = LazyLock::new(|| Detector::new(RuleSet::embedded()));

/// A successful StartExportTask record: the seed rule alerts on it. `n` makes the eventID unique.
pub fn export_record(n: usize) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Admin",
                "arn": "arn:aws:iam::111122223333:role/Admin", "accountId": "111122223333"}}
        },
        "eventTime": "2026-11-22T14:05:00Z",
        "eventSource": "rds.amazonaws.com",
        "eventName": "StartExportTask",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "exportTaskIdentifier": format!("export-{n}"),
            "sourceArn": "arn:aws:rds:us-east-1:111122223333:snapshot:snap-1",
            "s3BucketName": "exfil-bucket",
            "iamRoleArn": "arn:aws:iam::111122223333:role/export",
            "kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"
        },
        "responseElements": {"exportTaskIdentifier": format!("export-{n}"), "status": "STARTING"},
        "requestID": format!("req-{n}"),
        "eventID": event_id(n),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    })
}

/// A record no seed rule alerts on.
pub fn quiet_record(n: usize) -> Value {
    let mut r = export_record(n);
    r["eventName"] = json!("DescribeDBInstances");
    r["readOnly"] = json!(true);
    r
}

pub fn event_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// `{"Records":[...]}` as CloudTrail writes it.
pub fn object(records: &[Value]) -> Vec<u8> {
    json!({ "Records": records }).to_string().into_bytes()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip write");
    enc.finish().expect("gzip finish")
}

/// The eventIDs of the alerts of `rule_id`, in order.
pub fn alerted_ids(alerts: &[trailwatch::alert::Alert], rule_id: &str) -> Vec<String> {
    alerts
        .iter()
        .filter(|a| a.rule_id() == rule_id)
        .filter_map(|a| {
            a.get_str(trailwatch::alert::key::EVENT_ID)
                .map(str::to_owned)
        })
        .collect()
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tw-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A deterministic byte generator (xorshift64*), for random-looking inputs that are the same on
/// every run.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}
