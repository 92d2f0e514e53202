//! The CLI shows exactly what the Lambda publishes: `trailwatch scan --max-per-rule 20` on an
//! object prints the same alert ids (the alerts and the flood summary) that the handler
//! publishes to SNS for that object under its default policy.
use crate::common::moto::{Moto, TopicTap};
use crate::robust;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use trailwatch::RuleSet;

#[tokio::test(flavor = "multi_thread")]
async fn scan_max_per_rule_prints_the_alert_ids_the_lambda_publishes() {
    // 75 matching records among quiet ones: more than the per-rule limit, so the Lambda
    // publishes 20 alerts and one summary counting the other 55.
    let records: Vec<Value> = (0..150)
        .map(|n| {
            if n % 2 == 0 {
                robust::export_record(n)
            } else {
                robust::quiet_record(n)
            }
        })
        .collect();
    let body = robust::gzip(&robust::object(&records));

    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-parity").await;
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/parity.json.gz";
    moto.put("parity", key, body.clone()).await;
    let event = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
        "s3": {"bucket": {"name": "parity"}, "object": {"key": key, "size": body.len()}}}]});
    moto.handler(&tap.topic_arn, RuleSet::embedded())
        .await
        .handle(&event)
        .await
        .expect("invocation succeeds");
    let published: BTreeSet<String> = tap
        .drain()
        .await
        .iter()
        .map(|envelope| {
            let alert: Value =
                serde_json::from_str(envelope["Message"].as_str().expect("message")).unwrap();
            alert["kibana.alert.uuid"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(published.len(), 21, "20 alerts and one summary");

    let dir = robust::TempDir::new("parity");
    let path = dir.0.join("parity.json.gz");
    std::fs::write(&path, &body).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["scan", "--format", "ndjson", "--max-per-rule", "20"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let alert: Value = serde_json::from_str(l).unwrap();
            alert["kibana.alert.uuid"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(printed, published);
}
