//! Account names from Organizations, end to end against moto server with the real AWS SDK: an
//! organisation and accounts created through the SDK, then an S3 event → the handler lists the
//! accounts (paginated) → the published alert names its account in the JSON, the email, the
//! Chatbot notification and the SNS message attributes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
use crate::common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use aws_sdk_organizations::types::OrganizationFeatureSet;
use common::moto::{Moto, TopicTap};
use serde_json::{json, Value};
use trailwatch::accounts::{AccountDirectory, OrganizationsLister};
use trailwatch::handler::Handler;
use trailwatch::{Config, Detector, RuleSet};

const EXPORT_RULE: &str = "119c8877-8613-416d-a98a-96b6664ee73a";

/// A CloudTrail object holding the snapshot-export fixture, made in `account`.
fn object_in(account: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rules/exfiltration_rds_snapshot_export/fire-start-export-task.json"
    ))
    .expect("fixture");
    let mut record: Value = serde_json::from_str(&text).expect("fixture JSON");
    record["recipientAccountId"] = json!(account);
    record["userIdentity"]["accountId"] = json!(account);
    let body = json!({ "Records": [record] }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body.as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

fn s3_event(bucket: &str, key: &str) -> Value {
    json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "awsRegion": "us-east-1",
        "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 1}}}]})
}

/// Every account of the organisation as the SDK lists it (the oracle, read independently).
async fn all_accounts(org: &aws_sdk_organizations::Client) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        for a in page.expect("list accounts").accounts() {
            out.insert(
                a.id().unwrap_or_default().to_owned(),
                a.name().unwrap_or_default().to_owned(),
            );
        }
    }
    out
}

/// The handler on moto, naming accounts through `directory` when given.
async fn handler(
    moto: &Moto,
    topic_arn: &str,
    org: aws_sdk_organizations::Client,
) -> Handler<trailwatch::source::S3Source, trailwatch::sink::SnsPublisher> {
    let sdk = moto.sdk_config().await;
    let detector = Detector::new(RuleSet::embedded());
    // Pages of two: the account under test is on a later page.
    let lister = OrganizationsLister::new(org).with_page_size(2);
    let directory = AccountDirectory::new(Box::new(lister), detector.account_names.clone());
    Handler::new(
        trailwatch::source::S3Source::new(moto.s3().await),
        trailwatch::sink::SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), topic_arn),
        Arc::new(detector),
        Config::default(),
    )
    .with_account_directory(Arc::new(directory))
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_name_their_account_from_organizations_list_accounts() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let org = aws_sdk_organizations::Client::new(&sdk);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    for name in ["prod-data", "staging", "sandbox-7"] {
        org.create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("create account");
    }
    let accounts = all_accounts(&org).await;
    assert_eq!(accounts.len(), 4, "the management account and three more");
    let (sandbox, _) = accounts
        .iter()
        .find(|(_, name)| *name == "sandbox-7")
        .expect("created account listed");

    let tap = TopicTap::new(&sdk, "tw-account-names").await;
    let key = format!("AWSLogs/{sandbox}/CloudTrail/us-east-1/2026/11/22/export.json.gz");
    moto.put("trail-names", &key, object_in(sandbox)).await;
    let response = handler(&moto, &tap.topic_arn, org)
        .await
        .handle(&s3_event("trail-names", &key))
        .await
        .expect("invocation succeeds");
    assert_eq!(response["alerts_published"], 1, "{response}");

    let delivered = tap.drain().await;
    assert_eq!(delivered.len(), 1);
    let envelope = &delivered[0];
    assert_eq!(
        envelope["MessageAttributes"]["account_name"]["Value"],
        "sandbox-7"
    );
    assert!(envelope["Subject"]
        .as_str()
        .is_some_and(|s| s.ends_with(" in sandbox-7/us-east-1")));
    let alert: Value =
        serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("alert JSON");
    assert_eq!(alert["kibana.alert.rule.rule_id"], EXPORT_RULE);
    assert_eq!(alert["cloud.account.id"], sandbox.as_str());
    assert_eq!(alert["cloud.account.name"], "sandbox-7");
    let email = trailwatch::alert::body(&trailwatch::alert::Alert::from_fields(
        alert
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ));
    assert!(
        email.contains(&format!("Where:      account {sandbox} (sandbox-7)")),
        "{email}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_organisation_alerts_go_out_with_the_account_id_only() {
    // ListAccounts fails (AWSOrganizationsNotInUseException): one warning, the object succeeds.
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let org = aws_sdk_organizations::Client::new(&sdk);
    let tap = TopicTap::new(&sdk, "tw-no-org").await;
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/export.json.gz";
    moto.put("trail-no-org", key, object_in("111122223333"))
        .await;
    let response = handler(&moto, &tap.topic_arn, org)
        .await
        .handle(&s3_event("trail-no-org", key))
        .await
        .expect("a listing failure never fails the invocation");
    assert_eq!(response["alerts_published"], 1, "{response}");
    let delivered = tap.drain().await;
    let alert: Value = serde_json::from_str(delivered[0]["Message"].as_str().expect("message"))
        .expect("alert JSON");
    assert_eq!(alert["cloud.account.id"], "111122223333");
    assert!(alert.get("cloud.account.name").is_none(), "{alert}");
    assert!(delivered[0]["MessageAttributes"]
        .get("account_name")
        .is_none());
}
