//! The detector defends itself (issue 14): every call that can blind trailwatch raises a
//! published (non-building-block) alert from the default build, and when the call targets
//! trailwatch's own function, topic, trail or bucket the alert says so.
//!
//! Each record is a successful call as CloudTrail logs it (Lambda event names carry their
//! API-version suffixes; S3 logs PutBucketNotificationConfiguration as PutBucketNotification).
use serde_json::{json, Value};
use trailwatch::alert::{self, key, mark_self_target, Alert, SelfNames, TARGETS_SELF};
use trailwatch::config::Config;
use trailwatch::ecs::CloudTrailView;
use trailwatch::rules::{RuleOrigin, RuleSet};

const ACCOUNT: &str = "111122223333";
const FUNCTION: &str = "trailwatch-lambda";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:trailwatch-AlertTopic-1A2B3C4D5E6F";
const BUCKET: &str = "trailwatch-111122223333-us-east-1-0a1b2c3d4e5f";
const TRAIL: &str = "trailwatch-trail";

fn record(source: &str, name: &str, params: Value, response: Value) -> Value {
    json!({
        "eventVersion": "1.10",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEUSER00009",
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/mallory"),
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLEKEY000009",
            "userName": "mallory"
        },
        "eventTime": "2026-12-01T03:14:15Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.22.4",
        "requestParameters": params,
        "responseElements": response,
        "requestID": "5f0e1d2c-3b4a-5968-7a8b-9c0d1e2f3a4b",
        "eventID": format!("0e1d2c3b-{:04x}-4a59-8b7a-6c5d4e3f2a1b", name.len()),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    })
}

/// (what the issue lists, the CloudTrail record of a successful call on trailwatch's resource).
fn tampering_calls() -> Vec<(&'static str, Value)> {
    let ct = "cloudtrail.amazonaws.com";
    let s3 = "s3.amazonaws.com";
    let lambda = "lambda.amazonaws.com";
    let sns = "sns.amazonaws.com";
    let host = format!("{BUCKET}.s3.us-east-1.amazonaws.com");
    let mapping = "6d9bce8e-836b-442c-8070-74e77903c815";
    let function_arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}");
    vec![
        (
            "CloudTrail StopLogging",
            record(ct, "StopLogging", json!({"name": TRAIL}), Value::Null),
        ),
        (
            "CloudTrail DeleteTrail",
            record(ct, "DeleteTrail", json!({"name": TRAIL}), Value::Null),
        ),
        (
            "CloudTrail UpdateTrail",
            record(
                ct,
                "UpdateTrail",
                json!({"name": TRAIL, "s3BucketName": "elsewhere"}),
                Value::Null,
            ),
        ),
        (
            "CloudTrail PutEventSelectors (management events off)",
            record(
                ct,
                "PutEventSelectors",
                json!({"trailName": TRAIL, "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": false}]}),
                Value::Null,
            ),
        ),
        (
            "CloudTrail PutEventSelectors (write events dropped)",
            record(
                ct,
                "PutEventSelectors",
                json!({"trailName": TRAIL, "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": true}]}),
                Value::Null,
            ),
        ),
        (
            "CloudTrail PutInsightSelectors",
            record(
                ct,
                "PutInsightSelectors",
                json!({"trailName": TRAIL, "insightSelectors": []}),
                Value::Null,
            ),
        ),
        (
            "S3 PutBucketNotificationConfiguration",
            record(
                s3,
                "PutBucketNotification",
                json!({"bucketName": BUCKET, "Host": host, "notification": "", "NotificationConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}),
                Value::Null,
            ),
        ),
        (
            "S3 DeleteBucketPolicy",
            record(
                s3,
                "DeleteBucketPolicy",
                json!({"bucketName": BUCKET, "Host": host, "policy": ""}),
                Value::Null,
            ),
        ),
        (
            "S3 PutBucketLifecycle (expiration)",
            record(
                s3,
                "PutBucketLifecycle",
                json!({"bucketName": BUCKET, "Host": host, "lifecycle": "", "LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}, "ID": "x"}}}),
                Value::Null,
            ),
        ),
        (
            "S3 PutBucketLifecycle (transition)",
            record(
                s3,
                "PutBucketLifecycle",
                json!({"bucketName": BUCKET, "Host": host, "lifecycle": "", "LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Filter": {"Prefix": ""}, "Transition": {"Days": 0, "StorageClass": "GLACIER"}, "ID": "x"}}}),
                Value::Null,
            ),
        ),
        (
            "Lambda DeleteFunction",
            record(
                lambda,
                "DeleteFunction20150331",
                json!({"functionName": FUNCTION}),
                Value::Null,
            ),
        ),
        (
            "Lambda UpdateFunctionCode",
            record(
                lambda,
                "UpdateFunctionCode20150331v2",
                json!({"functionName": FUNCTION, "publish": false}),
                json!({"functionName": FUNCTION, "functionArn": function_arn}),
            ),
        ),
        (
            "Lambda UpdateFunctionConfiguration",
            record(
                lambda,
                "UpdateFunctionConfiguration20150331v2",
                json!({"functionName": FUNCTION, "timeout": 1}),
                json!({"functionName": FUNCTION, "functionArn": function_arn}),
            ),
        ),
        (
            "Lambda PutFunctionConcurrency 0",
            record(
                lambda,
                "PutFunctionConcurrency20171031",
                json!({"functionName": FUNCTION, "reservedConcurrentExecutions": 0}),
                json!({"reservedConcurrentExecutions": 0}),
            ),
        ),
        (
            "Lambda PutFunctionConcurrency 1",
            record(
                lambda,
                "PutFunctionConcurrency20171031",
                json!({"functionName": FUNCTION, "reservedConcurrentExecutions": 1}),
                json!({"reservedConcurrentExecutions": 1}),
            ),
        ),
        (
            "Lambda DeleteEventSourceMapping",
            record(
                lambda,
                "DeleteEventSourceMapping20150331",
                json!({"uUID": mapping}),
                json!({"uUID": mapping, "functionArn": function_arn, "state": "Deleting"}),
            ),
        ),
        (
            "Lambda RemovePermission",
            record(
                lambda,
                "RemovePermission20150331v2",
                json!({"functionName": FUNCTION, "statementId": "s3"}),
                Value::Null,
            ),
        ),
        (
            "SNS Unsubscribe",
            record(
                sns,
                "Unsubscribe",
                json!({"subscriptionArn": format!("{TOPIC}:3b1f6c0e-9a4d-4e2b-8f7a-1c2d3e4f5a6b")}),
                Value::Null,
            ),
        ),
        (
            "SNS DeleteTopic",
            record(sns, "DeleteTopic", json!({"topicArn": TOPIC}), Value::Null),
        ),
        (
            "SNS SetTopicAttributes",
            record(
                sns,
                "SetTopicAttributes",
                json!({"topicArn": TOPIC, "attributeName": "KmsMasterKeyId", "attributeValue": "alias/x"}),
                Value::Null,
            ),
        ),
        (
            "SNS RemovePermission",
            record(
                sns,
                "RemovePermission",
                json!({"topicArn": TOPIC, "label": "publish"}),
                Value::Null,
            ),
        ),
    ]
}

fn self_names() -> Result<SelfNames, trailwatch::config::ConfigError> {
    let config = Config::from_lookup(|name| match name {
        "AWS_LAMBDA_FUNCTION_NAME" => Some(FUNCTION.into()),
        "ALERT_TOPIC_ARN" => Some(TOPIC.into()),
        "TRAIL_BUCKET" => Some(BUCKET.into()),
        "TRAIL_NAME" => Some(TRAIL.into()),
        _ => None,
    })?;
    Ok(SelfNames::from_config(&config))
}

/// The published alerts the default build raises on `record`.
fn published_alerts(set: &RuleSet, record: &Value) -> Vec<Alert> {
    set.matches(record)
        .into_iter()
        .filter(|r| r.origin == RuleOrigin::Project && !r.rule.is_building_block())
        .map(|r| Alert::new(&r.rule, &CloudTrailView::new(record), record))
        .collect()
}

#[test]
fn every_tampering_call_raises_a_published_alert_marked_as_targeting_trailwatch(
) -> Result<(), trailwatch::config::ConfigError> {
    let set = RuleSet::embedded();
    let names = self_names()?;
    let mut failures = Vec::new();
    for (what, record) in tampering_calls() {
        let mut alerts = published_alerts(&set, &record);
        if alerts.is_empty() {
            failures.push(format!("{what}: no published alert"));
            continue;
        }
        for a in &mut alerts {
            if !mark_self_target(a, &names) {
                failures.push(format!(
                    "{what}: {} not marked as targeting trailwatch",
                    a.rule_name()
                ));
                continue;
            }
            let subject = alert::subject(a);
            let body = alert::body(a);
            if a.get(TARGETS_SELF) != Some(&json!(true))
                || !subject.contains("Targets trailwatch itself")
                || !body.starts_with("This call targets trailwatch itself: ")
                || !a
                    .get_str(key::REASON)
                    .is_some_and(|r| r.starts_with("This call targets trailwatch itself"))
            {
                failures.push(format!("{what}: marked but not shown: {subject:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    Ok(())
}

#[test]
fn the_same_calls_on_other_resources_alert_without_the_self_mark(
) -> Result<(), trailwatch::config::ConfigError> {
    let set = RuleSet::embedded();
    let names = self_names()?;
    let mut checked = 0;
    for (what, record) in tampering_calls() {
        // Another deployment's names: the same calls are tampering, but not with this trailwatch.
        let text = record
            .to_string()
            .replace(FUNCTION, "billing-export")
            .replace(TOPIC, "arn:aws:sns:us-east-1:111122223333:billing")
            .replace(BUCKET, "billing-reports")
            .replace(TRAIL, "billing-trail");
        let other: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("{what}: {e}"),
        };
        for mut a in published_alerts(&set, &other) {
            assert!(
                !mark_self_target(&mut a, &names),
                "{what}: {}",
                a.rule_name()
            );
            assert_eq!(a.get(TARGETS_SELF), None, "{what}");
            assert!(!alert::subject(&a).contains("trailwatch itself"), "{what}");
            checked += 1;
        }
    }
    assert!(
        checked >= tampering_calls().len(),
        "only {checked} alerts checked"
    );
    Ok(())
}

/// The block `name:` of `template.yaml` at two spaces of indentation (a parameter or a
/// resource): its header and every following line indented deeper (or blank).
fn template_block(template: &str, name: &str) -> Option<String> {
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|l| *l != header);
    let first = lines.next()?;
    let body = lines.take_while(|l| l.is_empty() || l.starts_with("   "));
    Some(
        std::iter::once(first)
            .chain(body)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[test]
fn template_has_the_silence_alarm_and_the_operational_guards() {
    // cfn-lint and sam validate (scripts/check-template.sh) check the template is valid; this
    // checks it says what issue 14 asks, so a later edit cannot drop a guard unnoticed.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml");
    let template = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("{path}: {e}"),
    };
    let block = |name: &str| match template_block(&template, name) {
        Some(b) => b,
        None => panic!("template.yaml has no {name}"),
    };
    let alarm = block("SilenceAlarm");
    for line in [
        "Type: AWS::CloudWatch::Alarm",
        "Namespace: AWS/Lambda",
        "MetricName: Invocations",
        "Value: !Ref TrailwatchFunction",
        "Statistic: Sum",
        "Period: !Ref SilencePeriodSeconds",
        "Threshold: 1",
        "ComparisonOperator: LessThanThreshold",
        "TreatMissingData: breaching",
        "AlarmActions: [!Ref AlertTopic]",
    ] {
        assert!(
            alarm.contains(line),
            "SilenceAlarm lacks {line:?}:\n{alarm}"
        );
    }
    assert!(block("SilencePeriodSeconds").contains("Default: 7200"));
    assert!(block("ReservedConcurrency").contains("Default: \"\""));
    assert!(block("QueueMaximumConcurrency").contains("Type: Number"));
    assert!(block("TrailBucketAccessLogging").contains("Default: \"false\""));
    let function = block("TrailwatchFunction");
    for line in [
        "ReservedConcurrentExecutions: !If [HasReservedConcurrency, !Ref ReservedConcurrency, !Ref AWS::NoValue]",
        "TRAIL_BUCKET:",
        "TRAIL_NAME:",
        "ALERT_TOPIC_ARN: !Ref AlertTopic",
    ] {
        assert!(function.contains(line), "TrailwatchFunction lacks {line:?}");
    }
    assert!(block("NotificationQueueMapping")
        .contains("ScalingConfig:\n        MaximumConcurrency: !Ref QueueMaximumConcurrency"));
    assert!(block("TrailBucket").contains("LoggingConfiguration: !If"));
    assert!(block("AccessLogBucket").contains("Condition: CreateAccessLogBucket"));
}
