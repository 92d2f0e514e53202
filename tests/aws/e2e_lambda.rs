//! End to end against moto server with the real AWS SDK: S3 event → GetObject → rules →
//! SNS PublishBatch → an SQS queue subscribed to the topic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
use crate::common;

use common::moto::{Moto, TopicTap};
use serde_json::{json, Value};
use trailwatch::RuleSet;

const DEMO: &str = "events/cloudtrail/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/123456789012_CloudTrail_us-east-1_20261122T1405Z_Demo0001.json.gz";
const EXPORT_RULE: &str = "119c8877-8613-416d-a98a-96b6664ee73a";

fn demo_bytes() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/", "events/cloudtrail/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/123456789012_CloudTrail_us-east-1_20261122T1405Z_Demo0001.json.gz"))
        .expect("demo object (scripts/gen_events.py events)")
}

/// The oracle, independent of the engine: successful StartExportTask calls in the demo object.
fn successful_exports() -> Vec<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&demo_bytes()[..])
        .read_to_string(&mut text)
        .expect("gunzip");
    let doc: Value = serde_json::from_str(&text).expect("json");
    doc["Records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["eventName"] == "StartExportTask" && r.get("errorCode").is_none())
        .map(|r| r["eventID"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn s3_event(bucket: &str, keys: &[&str]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                   "awsRegion": "us-east-1",
                   "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                          "object": {"key": k.replace(' ', "+"), "size": 1}}})
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_event_publishes_alerts_readable_through_an_sqs_subscription() {
    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-alerts-1").await;
    let key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/with space.json.gz";
    moto.put("trail-1", key, demo_bytes()).await;

    let response = moto
        .handler(&tap.topic_arn, RuleSet::embedded())
        .await
        .handle(&s3_event("trail-1", &[key]))
        .await
        .expect("invocation succeeds");

    let expected = successful_exports();
    assert!(!expected.is_empty(), "the demo object must contain a hit");
    assert_eq!(response["alerts_published"], expected.len());
    let delivered = tap.drain().await;
    assert_eq!(delivered.len(), expected.len());
    for envelope in &delivered {
        let subject = envelope["Subject"].as_str().expect("subject");
        assert!(subject.contains("AWS RDS Snapshot Export"), "{subject}");
        assert!(subject.chars().count() <= 100);
        assert_eq!(
            envelope["MessageAttributes"]["rule_id"]["Value"],
            EXPORT_RULE
        );
        assert!(envelope["MessageAttributes"]["severity"]["Value"].is_string());
        let alert: Value = serde_json::from_str(envelope["Message"].as_str().expect("message"))
            .expect("the sqs message is the alert JSON");
        assert_eq!(alert["kibana.alert.rule.rule_id"], EXPORT_RULE);
        assert!(expected.contains(&alert["event.id"].as_str().unwrap_or_default().to_owned()));
        assert!(alert["kibana.alert.rule.note"]
            .as_str()
            .is_some_and(|n| n.contains("Investigating AWS RDS Snapshot Export")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_object_fails_the_invocation_but_others_are_processed() {
    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-alerts-2").await;
    moto.put("trail-2", "present.json.gz", demo_bytes()).await;

    let err = moto
        .handler(&tap.topic_arn, RuleSet::embedded())
        .await
        .handle(&s3_event("trail-2", &["absent.json.gz", "present.json.gz"]))
        .await
        .expect_err("a missing object fails the invocation");
    let msg = err.to_string();
    assert!(msg.contains("s3://trail-2/absent.json.gz"), "{msg}");
    assert!(msg.starts_with("1 of 2 objects failed"), "{msg}");
    assert_eq!(tap.drain().await.len(), successful_exports().len());
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_to_a_missing_topic_fails_the_invocation() {
    let moto = Moto::start();
    moto.put("trail-3", "a.json.gz", demo_bytes()).await;
    let err = moto
        .handler(
            "arn:aws:sns:us-east-1:123456789012:does-not-exist",
            RuleSet::embedded(),
        )
        .await
        .handle(&s3_event("trail-3", &["a.json.gz"]))
        .await
        .expect_err("publish failure must fail the invocation");
    assert!(err.to_string().contains("not published"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_invoke_runs_the_handler_like_the_deployed_function() {
    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-alerts-4").await;
    let key = DEMO.trim_start_matches("events/cloudtrail/");
    moto.put("trail-4", key, demo_bytes()).await;
    let dir = std::env::temp_dir().join(format!("tw-invoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let event = dir.join("event.json");
    std::fs::write(&event, s3_event("trail-4", &[key]).to_string()).expect("write event");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["invoke", "--event"])
        .arg(&event)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("ALERT_TOPIC_ARN", &tap.topic_arn)
        .output()
        .expect("run trailwatch invoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value = serde_json::from_slice(&out.stdout).expect("response JSON");
    assert_eq!(response["alerts_published"], successful_exports().len());
    assert_eq!(tap.drain().await.len(), successful_exports().len());
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_scan_of_an_unlistable_prefix_fails_it_and_still_scans_the_next_one() {
    let moto = Moto::start();
    moto.put("trail-5", "AWSLogs/demo.json.gz", demo_bytes())
        .await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args([
            "scan",
            "--format",
            "ndjson",
            "s3://no-such-bucket/AWSLogs/",
            "s3://trail-5/AWSLogs/",
        ])
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run trailwatch scan");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("s3://no-such-bucket/AWSLogs/"), "{stderr}");
    let alerts = String::from_utf8_lossy(&out.stdout);
    let exports = alerts.lines().filter(|l| l.contains(EXPORT_RULE)).count();
    assert_eq!(exports, successful_exports().len(), "{stderr}");
}
