//! The DynamoDB state store against moto server's DynamoDB, with the table created as
//! `template.yaml` defines it: the §7 semantics end to end over the real SDK, replays across
//! containers, concurrent invocations racing on one new term, and the request counts per 1,000
//! matching events.
#![cfg(feature = "aws")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use common::dynamo::create_table;
use common::moto::Moto;
use serde_json::{json, Value};
use trailwatch::ecs::CloudTrailView;
use trailwatch::state::{event_time_ms, format_ms, DynamoStore, StateStore, Stateful, StatefulHit};
use trailwatch::RuleSet;

const ROLE_RULE: &str = "93075852-b0f5-4b8b-89c3-a226efae5726";
const DAY: i64 = 86_400_000;
const T0: i64 = 1_767_225_600_000;

struct Env {
    _moto: Moto,
    rt: tokio::runtime::Runtime,
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn env(table: &str) -> Env {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(async {
        let sdk = moto.sdk_config().await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        create_table(&client, table).await;
        client
    });
    Env {
        _moto: moto,
        rt,
        client,
        table: table.to_owned(),
    }
}

impl Env {
    /// A new container: its own store object and cache.
    fn stateful(&self) -> Stateful<DynamoStore> {
        Stateful::new(DynamoStore::new(
            self.client.clone(),
            &self.table,
            self.rt.handle().clone(),
        ))
    }
}

fn assume_role(id: &str, t: i64, service: &str, role: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AWSService", "invokedBy": service},
        "eventTime": format_ms(t),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": service,
        "requestParameters": {"roleArn": role, "roleSessionName": "s"},
        "eventID": id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
        "resources": [{"ARN": role, "accountId": "111122223333", "type": "AWS::IAM::Role"}],
    })
}

fn run(st: &Stateful<DynamoStore>, set: &RuleSet, record: &Value) -> Vec<StatefulHit> {
    let view = CloudTrailView::new(record);
    let mut hits = Vec::new();
    for rule in set.matches(record) {
        if rule.rule.rule_id == ROLE_RULE && st.applies_to(rule) {
            let t = event_time_ms(&view).unwrap();
            st.evaluate(
                rule,
                &view,
                t,
                record["eventID"].as_str().unwrap(),
                &mut |h| hits.push(h),
            )
            .unwrap();
        }
    }
    hits
}

fn role(n: usize) -> String {
    format!("arn:aws:iam::111122223333:role/app-{n}")
}

#[test]
fn new_terms_on_dynamodb_first_seen_replays_and_ttl() {
    let env = env("trailwatch-state");
    let set = RuleSet::embedded();
    let st = env.stateful();
    let r = role(1);
    let first = run(&st, &set, &assume_role("e1", T0, "ec2.amazonaws.com", &r));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].fields[0].1, json!(["ec2.amazonaws.com", r]));
    assert!(run(
        &st,
        &set,
        &assume_role("e2", T0 + 4 * DAY, "ec2.amazonaws.com", &r)
    )
    .is_empty());
    st.flush().unwrap();
    // Another container, after the first publish failed: the same alert for e1, nothing for e2,
    // and the refresh at day 4 keeps day 8 within the 5-day history.
    let cold = env.stateful();
    assert_eq!(
        run(&cold, &set, &assume_role("e1", T0, "ec2.amazonaws.com", &r)),
        first
    );
    assert!(run(
        &cold,
        &set,
        &assume_role("e2", T0 + 4 * DAY, "ec2.amazonaws.com", &r)
    )
    .is_empty());
    assert!(run(
        &cold,
        &set,
        &assume_role("e3", T0 + 8 * DAY, "ec2.amazonaws.com", &r)
    )
    .is_empty());
    assert_eq!(
        run(
            &cold,
            &set,
            &assume_role("e4", T0 + 14 * DAY, "ec2.amazonaws.com", &r)
        )
        .len(),
        1
    );
    // The item carries the TTL attribute the table expires on, in epoch seconds.
    let item = env
        .rt
        .block_on(env.client.scan().table_name(&env.table).send())
        .unwrap();
    let items = item.items();
    assert_eq!(items.len(), 1, "one term");
    let Some(AttributeValue::N(expires)) = items[0].get("expires_at") else {
        panic!("no TTL attribute: {:?}", items[0]);
    };
    let expires: i64 = expires.parse().unwrap();
    assert!(expires * 1000 >= T0 + 14 * DAY + 5 * DAY, "{expires}");
}

#[test]
fn concurrent_invocations_racing_on_one_new_term_raise_exactly_one_alert() {
    let env = env("trailwatch-race");
    let set = RuleSet::embedded();
    for round in 0..5 {
        let r = role(100 + round);
        let alerts = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..4 {
                let (env, set, r, alerts) = (&env, &set, &r, &alerts);
                s.spawn(move || {
                    let st = env.stateful();
                    let rec = assume_role(
                        &format!("r{round}-{i}"),
                        T0 + i as i64,
                        "lambda.amazonaws.com",
                        r,
                    );
                    alerts.fetch_add(run(&st, set, &rec).len(), Ordering::SeqCst);
                });
            }
        });
        assert_eq!(alerts.into_inner(), 1, "round {round}");
    }
}

#[test]
fn dynamodb_requests_per_thousand_matching_events() {
    let env = env("trailwatch-cost");
    let set = RuleSet::embedded();
    let st = env.stateful();
    // 1,000 matching events in 10 objects: 50 (service, role) pairs, each seen again and again.
    let mut alerts = 0;
    for object in 0..10 {
        for i in 0..100 {
            let n = object * 100 + i;
            let rec = assume_role(
                &format!("c{n}"),
                T0 + n as i64 * 60_000,
                "ecs-tasks.amazonaws.com",
                &role(n % 50),
            );
            alerts += run(&st, &set, &rec).len();
        }
        st.flush().unwrap();
    }
    assert_eq!(alerts, 50, "one alert per new pair");
    let stats = st.store().stats();
    eprintln!(
        "DynamoDB requests per 1,000 matching events (repeat-heavy: 50 pairs, 10 objects): {} reads ({} keys), {} writes",
        stats.reads, stats.keys_read, stats.writes
    );
    // Reads: each pair once (then cached). Writes: each new pair once, then one last-seen
    // refresh per pair per object.
    assert_eq!(stats.reads, 50);
    assert!(stats.writes <= 50 + 50 * 10, "{stats:?}");
}

#[test]
fn dynamodb_requests_per_thousand_first_seen_events() {
    let env = env("trailwatch-cost-new");
    let set = RuleSet::embedded();
    let st = env.stateful();
    // 1,000 matching events in 10 objects, every one a pair never seen: the worst case.
    let mut alerts = 0;
    for object in 0..10 {
        for i in 0..100 {
            let n = object * 100 + i;
            let rec = assume_role(
                &format!("f{n}"),
                T0 + n as i64 * 60_000,
                "ecs-tasks.amazonaws.com",
                &role(10_000 + n),
            );
            alerts += run(&st, &set, &rec).len();
        }
        st.flush().unwrap();
    }
    assert_eq!(alerts, 1_000, "every pair is new");
    let stats = st.store().stats();
    eprintln!(
        "DynamoDB requests per 1,000 matching events (first-seen-heavy: 1,000 new pairs, 10 objects): {} reads ({} keys), {} writes",
        stats.reads, stats.keys_read, stats.writes
    );
    // One read of the unknown pair and one conditional put per new pair; nothing to refresh.
    assert_eq!(stats.reads, 1_000, "{stats:?}");
    assert_eq!(stats.writes, 1_000, "{stats:?}");
}
