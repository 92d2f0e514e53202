//! Every trigger shape in `events/` (S3, SQS, SNS, EventBridge, SNS→SQS), end to end against moto
//! with the real SDK: the objects each payload names are fetched, scanned and their alerts
//! published; SQS failures are reported per message; re-running an event republishes the same ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::moto::{Moto, TopicTap};
use serde_json::Value;
use trailwatch::detect::{FloodControl, Policy};
use trailwatch::handler::Handler;
use trailwatch::sink::{Collector, SnsPublisher};
use trailwatch::source::S3Source;
use trailwatch::{process_object, Config, Detector, RuleSet};

const BUCKET: &str = "trailwatch-demo-trail";
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events/cloudtrail");

fn payload(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("payload")).expect("JSON payload")
}

fn demo_keys() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("events/cloudtrail").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if let Ok(rel) = p.strip_prefix(ROOT) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut keys = Vec::new();
    walk(Path::new(ROOT), &mut keys);
    keys.sort();
    keys
}

/// The alert ids the deployed function must publish for these objects: the library's own scan
/// of the same files, through the same publishing policy.
fn expected_ids(keys: &[&str]) -> BTreeSet<String> {
    let detector = Detector::new(RuleSet::embedded());
    let mut ids = BTreeSet::new();
    for key in keys {
        let file = std::fs::File::open(Path::new(ROOT).join(key)).expect("demo object");
        let mut sink =
            FloodControl::new(Policy::publishing(&Config::default()), Collector::default());
        let report = process_object(key, file, &detector, &mut sink, false);
        assert!(report.error.is_none(), "{:?}", report.error);
        for alert in sink.into_inner().alerts {
            ids.insert(alert.uuid().to_owned());
        }
    }
    ids
}

async fn setup(moto: &Moto, topic: &str) -> (TopicTap, Handler<S3Source, SnsPublisher>) {
    let sdk = moto.sdk_config().await;
    let tap = TopicTap::new(&sdk, topic).await;
    for key in demo_keys() {
        let body = std::fs::read(Path::new(ROOT).join(&key)).expect("read");
        moto.put(BUCKET, &key, body).await;
    }
    let handler = moto.handler(&tap.topic_arn, RuleSet::embedded()).await;
    (tap, handler)
}

fn delivered_ids(envelopes: &[Value]) -> BTreeSet<String> {
    envelopes
        .iter()
        .map(|e| {
            let alert: Value =
                serde_json::from_str(e["Message"].as_str().expect("message")).expect("alert JSON");
            alert["kibana.alert.uuid"]
                .as_str()
                .expect("uuid")
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_trigger_shape_publishes_the_alerts_of_the_objects_it_names() {
    let moto = Moto::start();
    let keys = demo_keys();
    let (gz, plain) = (keys[0].as_str(), keys[1].as_str());
    let cases: [(&str, Vec<&str>); 5] = [
        ("s3-put.json", vec![gz]),
        ("sqs.json", vec![gz, plain]),
        ("sns.json", vec![plain]),
        ("eventbridge.json", vec![plain]),
        ("sqs-sns.json", vec![plain]),
    ];
    for (i, (name, objects)) in cases.into_iter().enumerate() {
        let (tap, handler) = setup(&moto, &format!("tw-trigger-{i}")).await;
        let response = handler.handle(&payload(name)).await.expect(name);
        if name.starts_with("sqs") {
            assert_eq!(
                response["batchItemFailures"],
                serde_json::json!([]),
                "{name}"
            );
        }
        let want = expected_ids(&objects);
        assert!(!want.is_empty(), "{name}: the demo objects hold hits");
        let got = delivered_ids(&tap.drain().await);
        assert_eq!(got, want, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rerunning_an_event_republishes_the_same_alert_ids() {
    let moto = Moto::start();
    let (tap, handler) = setup(&moto, "tw-idempotent").await;
    let event = payload("sqs.json");
    handler.handle(&event).await.expect("first run");
    let first = tap.drain().await;
    handler.handle(&event).await.expect("second run");
    let second = tap.drain().await;
    assert_eq!(first.len(), second.len());
    assert_eq!(delivered_ids(&first), delivered_ids(&second));
    assert_eq!(delivered_ids(&first).len(), first.len(), "ids are distinct");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_reports_only_the_failed_messages() {
    let moto = Moto::start();
    let (tap, handler) = setup(&moto, "tw-sqs-partial").await;
    let mut event = payload("sqs.json");
    // Point message 2 at an object that does not exist.
    let records = event["Records"].as_array_mut().expect("records");
    let body = records[1]["body"]
        .as_str()
        .expect("body")
        .replace("Demo0002.json", "Missing.json");
    records[1]["body"] = Value::String(body);
    let failing_id = records[1]["messageId"].clone();

    let response = handler
        .handle(&event)
        .await
        .expect("SQS batches report, not fail");
    assert_eq!(
        response["batchItemFailures"],
        serde_json::json!([{ "itemIdentifier": failing_id }])
    );
    let keys = demo_keys();
    assert_eq!(
        delivered_ids(&tap.drain().await),
        expected_ids(&[keys[0].as_str()])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_messages_whose_alerts_cannot_be_published_are_retried() {
    let moto = Moto::start();
    let (_tap, _) = setup(&moto, "tw-sqs-nopublish").await;
    let handler = moto
        .handler(
            "arn:aws:sns:us-east-1:123456789012:missing-topic",
            RuleSet::embedded(),
        )
        .await;
    let response = handler.handle(&payload("sqs.json")).await.expect("report");
    let failed: BTreeSet<String> = response["batchItemFailures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
        .collect();
    let sent: Vec<String> = payload("sqs.json")["Records"]
        .as_array()
        .expect("records")
        .iter()
        .take(2) // the third is an s3:TestEvent: nothing to publish, nothing to retry
        .map(|r| r["messageId"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(failed, sent.into_iter().collect());
}
