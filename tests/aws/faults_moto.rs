//! Fault injection against moto with the real AWS SDK, through the Lambda handler: missing
//! objects and buckets, a missing topic, alerts past SNS's size limit, and an SQS batch where one
//! object fails. Each case checks "no alert lost": every alert of an object is published, or the
//! object is reported failed (so Lambda or SQS retries it); a retry publishes the same alert ids.
#![cfg(feature = "aws")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::common;
use crate::robust;

use std::collections::BTreeSet;

use common::moto::{Moto, TopicTap};
use robust::{event_id, export_record, gzip, object, quiet_record, EXPORT_RULE};
use serde_json::{json, Value};
use trailwatch::rules::RuleOrigin;
use trailwatch::RuleSet;

fn notification(bucket: &str, key: &str) -> Value {
    json!({"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
           "awsRegion": "us-east-1",
           "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                  "object": {"key": key, "size": 1}}})
}

fn s3_event(objects: &[(&str, &str)]) -> Value {
    let records: Vec<Value> = objects.iter().map(|(b, k)| notification(b, k)).collect();
    json!({ "Records": records })
}

/// An SQS event: one message per object, each carrying an S3 notification.
fn sqs_event(messages: &[(&str, &str, &str)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, bucket, key)| {
            json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:trail-events",
                   "awsRegion": "us-east-1",
                   "body": json!({"Records": [notification(bucket, key)]}).to_string()})
        })
        .collect();
    json!({ "Records": records })
}

/// The alerts delivered to the tap: (alert id, event id) of the export rule.
fn delivered_ids(envelopes: &[Value]) -> Vec<(String, String)> {
    envelopes
        .iter()
        .map(|e| {
            let alert: Value =
                serde_json::from_str(e["Message"].as_str().expect("message")).expect("alert JSON");
            assert_eq!(alert["kibana.alert.rule.rule_id"], EXPORT_RULE);
            (
                alert["kibana.alert.uuid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                alert["event.id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn event_ids(delivered: &[(String, String)]) -> BTreeSet<String> {
    delivered.iter().map(|(_, e)| e.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_key_and_missing_bucket_fail_their_objects_and_lose_no_alert() {
    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-faults-1").await;
    moto.put(
        "trail-f1",
        "good.json.gz",
        gzip(&object(&[
            quiet_record(0),
            export_record(1),
            export_record(2),
        ])),
    )
    .await;
    let event = s3_event(&[
        ("trail-f1", "absent.json.gz"),
        ("trail-f1", "good.json.gz"),
        ("no-such-bucket-f1", "x.json.gz"),
    ]);
    let h = moto.handler(&tap.topic_arn, RuleSet::embedded()).await;
    let err = h.handle(&event).await.expect_err("two objects failed");
    let msg = err.to_string();
    assert!(msg.starts_with("2 of 3 objects failed"), "{msg}");
    assert!(
        msg.contains("s3://trail-f1/absent.json.gz") && msg.contains("NoSuchKey"),
        "{msg}"
    );
    assert!(
        msg.contains("s3://no-such-bucket-f1/x.json.gz") && msg.contains("NoSuchBucket"),
        "{msg}"
    );
    let first = delivered_ids(&tap.drain().await);
    assert_eq!(
        event_ids(&first),
        BTreeSet::from([event_id(1), event_id(2)])
    );
    // Lambda retries the whole event: the same alerts, with the same ids, are published again.
    assert!(h.handle(&event).await.is_err());
    let again = delivered_ids(&tap.drain().await);
    let ids = |d: &[(String, String)]| d.iter().map(|(a, _)| a.clone()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&first), ids(&again));
    assert_eq!(first.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_to_a_missing_topic_reports_the_sqs_message_failed() {
    let moto = Moto::start();
    moto.put("trail-f2", "a.json.gz", gzip(&object(&[export_record(1)])))
        .await;
    moto.put(
        "trail-f2",
        "quiet.json.gz",
        gzip(&object(&[quiet_record(2)])),
    )
    .await;
    let h = moto
        .handler(
            "arn:aws:sns:us-east-1:123456789012:does-not-exist",
            RuleSet::embedded(),
        )
        .await;
    let response = h
        .handle(&sqs_event(&[
            ("m-alerts", "trail-f2", "a.json.gz"),
            ("m-quiet", "trail-f2", "quiet.json.gz"),
        ]))
        .await
        .expect("an SQS batch answers with batchItemFailures");
    // The alert could not be published: its message is redriven. The object without alerts
    // needed no publish and is done.
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-alerts"}]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_batch_reports_only_the_failing_message_and_publishes_both_objects_alerts() {
    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-faults-3").await;
    moto.put(
        "trail-f3",
        "good.json.gz",
        gzip(&object(&[export_record(1), export_record(2)])),
    )
    .await;
    let damaged = gzip(&object(&(10..400).map(export_record).collect::<Vec<_>>()));
    moto.put(
        "trail-f3",
        "cut.json.gz",
        damaged[..damaged.len() / 2].to_vec(),
    )
    .await;
    let event = sqs_event(&[
        ("m-good", "trail-f3", "good.json.gz"),
        ("m-cut", "trail-f3", "cut.json.gz"),
    ]);
    let h = moto.handler(&tap.topic_arn, RuleSet::embedded()).await;
    let response = h.handle(&event).await.expect("SQS response");
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-cut"}]})
    );
    let first = delivered_ids(&tap.drain().await);
    let got = event_ids(&first);
    // Every alert of the good object; the records of the damaged one read before the damage.
    assert!(got.contains(&event_id(1)) && got.contains(&event_id(2)));
    let before_damage: Vec<String> = (10..400)
        .map(event_id)
        .filter(|id| got.contains(id))
        .collect();
    assert!(
        !before_damage.is_empty() && before_damage.len() < 390,
        "{}",
        before_damage.len()
    );
    let prefix: Vec<String> = (10..10 + before_damage.len()).map(event_id).collect();
    assert_eq!(before_damage, prefix, "alerts before the damage, in order");
    // The redriven message publishes the same ids again.
    h.handle(&sqs_event(&[("m-cut", "trail-f3", "cut.json.gz")]))
        .await
        .expect("SQS response");
    let again = delivered_ids(&tap.drain().await);
    let redriven: BTreeSet<&String> = again.iter().map(|(a, _)| a).collect();
    let originally: BTreeSet<&String> = first
        .iter()
        .filter(|(_, e)| e != &event_id(1) && e != &event_id(2))
        .map(|(a, _)| a)
        .collect();
    assert_eq!(redriven, originally);
}

/// The export rule with a guide of `note_bytes` bytes.
fn export_rule_with_huge_note(note_bytes: usize) -> RuleSet {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/exfiltration_rds_snapshot_export.toml"
    );
    let text = std::fs::read_to_string(path).expect("rule file");
    let mut doc: toml::Table = toml::from_str(&text).expect("rule TOML");
    let line = "- Check the export task, its S3 bucket and the role it used. <!channel>\n";
    let note = line.repeat(note_bytes / line.len() + 1);
    doc.get_mut("rule")
        .and_then(toml::Value::as_table_mut)
        .expect("[rule]")
        .insert("note".into(), toml::Value::String(note));
    let text = toml::to_string(&doc).expect("serialise");
    let set = RuleSet::from_sources([(RuleOrigin::Project, "huge.toml".to_owned(), text.as_str())]);
    assert_eq!(set.rules().len(), 1, "{:?}", set.skipped());
    set
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_alerts_are_shrunk_to_fit_and_published() {
    let moto = Moto::start();
    let tap = TopicTap::new(&moto.sdk_config().await, "tw-faults-4").await;
    // A 600 KB guide, and one record whose parameters alone are 1 MB.
    let mut huge_params = export_record(3);
    for i in 0..100 {
        huge_params["requestParameters"][format!("p{i}")] = json!("v".repeat(10_000));
    }
    let records = [export_record(1), export_record(2), huge_params];
    moto.put("trail-f4", "big.json.gz", gzip(&object(&records)))
        .await;
    let h = moto
        .handler(&tap.topic_arn, export_rule_with_huge_note(600_000))
        .await;
    let response = h
        .handle(&s3_event(&[("trail-f4", "big.json.gz")]))
        .await
        .expect("oversize alerts are published, not failed");
    assert_eq!(response["alerts_published"], 3);
    let delivered = tap.drain().await;
    assert_eq!(
        event_ids(&delivered_ids(&delivered)),
        BTreeSet::from([event_id(1), event_id(2), event_id(3)])
    );
    for envelope in &delivered {
        let message = envelope["Message"].as_str().expect("message");
        assert!(
            message.len() <= trailwatch::alert::SNS_MAX_BYTES,
            "{}",
            message.len()
        );
        let alert: Value = serde_json::from_str(message).expect("alert JSON");
        let note = alert["kibana.alert.rule.note"].as_str().unwrap_or_default();
        assert!(
            note.contains("guide shortened to fit the SNS size limit"),
            "{}",
            &note[..200.min(note.len())]
        );
    }
}
