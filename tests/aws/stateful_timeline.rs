//! The held-back 12-day timeline check (issue 15): a generated CloudTrail timeline in many gzip
//! objects and hidden stateful rules (new_terms on two fields and on an array field, threshold
//! with and without cardinality, a query rule with alert suppression) must raise exactly the
//! alerts of the independent reference model (`scripts/reference_stateful.py`), no more, no
//! fewer, through every path:
//! (a) `scan --rules DIR --state PATH` in one run;
//! (b) one object per `scan` run, with the same persisted state;
//! (c) the Lambda (`invoke` per object, `STATE_TABLE` on moto's DynamoDB, `EXTRA_RULES_DIR`),
//!     alerts read back from SNS through SQS;
//! (d) as (c), every object's publish failing first (the topic does not exist), then retried:
//!     the same alerts with the same `kibana.alert.uuid`s as (c), none lost, none duplicated.
#![cfg(feature = "aws")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::common;

use std::ffi::OsStr;

use common::moto::{Moto, TopicTap};
use common::timeline::{
    alerts_in_ndjson, by_key, generate, hidden_rules, scratch, sorted, trailwatch, Key,
};
use serde_json::{json, Value};

#[test]
fn one_scan_with_persisted_state_raises_exactly_the_reference_alerts() {
    let dir = scratch("timeline-a");
    let tl = generate(&dir);
    let state = dir.join("state.redb");
    let out = trailwatch(
        &[
            "scan".as_ref(),
            "--rules".as_ref(),
            hidden_rules().as_os_str(),
            "--state".as_ref(),
            state.as_os_str(),
            "--format".as_ref(),
            "ndjson".as_ref(),
            "--no-progress".as_ref(),
            tl.dir.as_os_str(),
        ],
        &[],
    );
    let got = alerts_in_ndjson(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        sorted(got.iter().map(|(k, _)| k.clone())),
        sorted(tl.expected.clone())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_object_per_run_with_persisted_state_raises_exactly_the_reference_alerts() {
    let dir = scratch("timeline-b");
    let tl = generate(&dir);
    let state = dir.join("state.redb");
    let mut got: Vec<Key> = Vec::new();
    for object in &tl.objects {
        let out = trailwatch(
            &[
                "scan".as_ref(),
                "--rules".as_ref(),
                hidden_rules().as_os_str(),
                "--state".as_ref(),
                state.as_os_str(),
                "--format".as_ref(),
                "ndjson".as_ref(),
                "--no-progress".as_ref(),
                object.as_os_str(),
            ],
            &[],
        );
        let alerts = alerts_in_ndjson(&String::from_utf8_lossy(&out.stdout));
        got.extend(alerts.into_iter().map(|(k, _)| k));
    }
    // Same alerts, and in the same order: the model's processing order is the key order.
    assert_eq!(got, tl.expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One S3 notification for `key` in `bucket`, as a Lambda payload file.
fn payload(dir: &std::path::Path, bucket: &str, key: &str) -> std::path::PathBuf {
    let event = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "awsRegion": "us-east-1",
        "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 1}}}]});
    let path = dir.join("payload.json");
    std::fs::write(&path, event.to_string()).expect("write payload");
    path
}

/// `trailwatch invoke` as the deployed function: its exit status.
fn invoke(moto: &Moto, payload: &std::path::Path, topic: &str, table: &str) -> bool {
    let rules = hidden_rules();
    std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args([
            OsStr::new("invoke"),
            "--event".as_ref(),
            payload.as_os_str(),
        ])
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("ALERT_TOPIC_ARN", topic)
        .env("STATE_TABLE", table)
        .env("EXTRA_RULES_DIR", &rules)
        .output()
        .expect("run trailwatch invoke")
        .status
        .success()
}

/// The hidden rules' alerts delivered to the tap.
async fn delivered(tap: &TopicTap) -> Vec<(Key, String)> {
    tap.drain()
        .await
        .iter()
        .filter_map(|envelope| {
            let alert: Value = serde_json::from_str(envelope["Message"].as_str()?).ok()?;
            let uuid = alert["kibana.alert.uuid"].as_str()?.to_owned();
            Some((common::timeline::key_of(&alert)?, uuid))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_per_object_on_dynamodb_and_every_publish_failing_first_raise_the_reference_alerts()
{
    let dir = scratch("timeline-cd");
    let tl = generate(&dir);
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    common::dynamo::create_table(&dynamo, "tl-state-c").await;
    common::dynamo::create_table(&dynamo, "tl-state-d").await;
    let tap_c = TopicTap::new(&sdk, "tl-alerts-c").await;
    let tap_d = TopicTap::new(&sdk, "tl-alerts-d").await;
    let missing = "arn:aws:sns:us-east-1:123456789012:tl-no-such-topic";
    let bucket = "tl-trail";
    for object in &tl.objects {
        let key = tl.key(object);
        moto.put(bucket, &key, std::fs::read(object).expect("object"))
            .await;
    }

    // (c) One invocation per object, in delivery order.
    let mut got_c = Vec::new();
    for object in &tl.objects {
        let event = payload(&dir, bucket, &tl.key(object));
        let ok =
            tokio::task::block_in_place(|| invoke(&moto, &event, &tap_c.topic_arn, "tl-state-c"));
        assert!(ok, "{}", tl.key(object));
        got_c.extend(delivered(&tap_c).await);
    }
    assert_eq!(
        sorted(got_c.iter().map(|(k, _)| k.clone())),
        sorted(tl.expected.clone())
    );
    let ids_c = by_key(&got_c);

    // (d) Each object: the publish fails (no such topic) after the state was written, then the
    // retry publishes. The objects whose hidden-rule alerts could not be published must fail.
    let mut got_d = Vec::new();
    let mut failed_first = 0;
    for object in &tl.objects {
        let event = payload(&dir, bucket, &tl.key(object));
        let first = tokio::task::block_in_place(|| invoke(&moto, &event, missing, "tl-state-d"));
        failed_first += usize::from(!first);
        let retry =
            tokio::task::block_in_place(|| invoke(&moto, &event, &tap_d.topic_arn, "tl-state-d"));
        assert!(retry, "retry of {}", tl.key(object));
        got_d.extend(delivered(&tap_d).await);
    }
    let objects_with_alerts = tl
        .objects
        .iter()
        .zip(per_object_expected(&tl))
        .filter(|(_, n)| *n > 0)
        .count();
    assert!(
        failed_first >= objects_with_alerts,
        "{failed_first} first attempts failed, {objects_with_alerts} objects have alerts"
    );
    assert_eq!(by_key(&got_d), ids_c, "same alerts, same ids, none twice");
    let _ = std::fs::remove_dir_all(&dir);
}

/// How many expected alerts each object's events raise (by the events it holds).
fn per_object_expected(tl: &common::timeline::Timeline) -> Vec<usize> {
    tl.objects
        .iter()
        .map(|object| {
            let bytes = std::fs::read(object).expect("object");
            let mut text = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
                .expect("gzip");
            tl.expected
                .iter()
                .filter(|k| text.contains(&format!("\"{}\"", k.1)))
                .count()
        })
        .collect()
}
