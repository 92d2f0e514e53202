#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The VPN-ASN discovery rule (`rules/discovery_new_terms_vpn_asn_discovery_api_calls.toml`, a
//! new_terms rule on `source.as.number`, `user.name`, `cloud.account.id`) runs through the
//! detector and its state: with an ASN database it alerts the first time an identity calls a
//! discovery API from a listed autonomous system, and only the first time; without a database,
//! or from another network, it never does.
use crate::mmdb;

use std::path::Path;

use serde_json::Value as Json;
use trailwatch::rules::degraded_status;
use trailwatch::sink::Collector;
use trailwatch::{Config, Detector, RuleSet};

const RULE_ID: &str = "e3c7a891-4b2d-4e8c-a1f0-9d8e7c6b5a4d";
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rules/discovery_new_terms_vpn_asn_discovery_api_calls"
);

fn fixture(name: &str) -> Json {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join(name)).expect("read fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The default build's detector (embedded rules and exceptions), with or without the test ASN
/// database, and its own in-memory state.
fn detector(with_asn_db: bool) -> Detector {
    let config = Config {
        geoip_asn_db: with_asn_db.then(mmdb::test_asn_database),
        ..Config::default()
    };
    Detector::from_config(RuleSet::embedded(), &config).expect("detector")
}

/// How many alerts of the VPN-ASN rule `record` raises on `detector` (its state is kept).
fn vpn_alerts(detector: &Detector, record: &Json) -> Vec<trailwatch::alert::Alert> {
    let mut sink = Collector::default();
    detector.detect_value(record, &mut sink).expect("detect");
    sink.alerts
        .into_iter()
        .filter(|a| a.rule_id() == RULE_ID)
        .collect()
}

/// The same call by `user` with another event id (a later, distinct event).
fn again(record: &Json, user: &str, event_id: &str, time: &str) -> Json {
    let mut r = record.clone();
    r["userIdentity"]["userName"] = user.into();
    r["userIdentity"]["arn"] = format!("arn:aws:iam::123456789012:user/{user}").into();
    r["eventID"] = event_id.into();
    r["eventTime"] = time.into();
    r
}

#[test]
fn the_rule_is_active_and_degraded_only_without_the_asn_database() {
    let without = detector(false);
    let rule = without
        .rules
        .get(RULE_ID)
        .expect("the VPN-ASN rule compiles");
    assert!(
        rule.is_stateful(),
        "a new_terms rule, evaluated through the state"
    );
    assert_eq!(
        degraded_status(rule, &without.enrichment).as_deref(),
        Some("degraded: needs GEOIP_ASN_DB")
    );
    let with = detector(true);
    let rule = with.rules.get(RULE_ID).expect("the VPN-ASN rule compiles");
    assert_eq!(degraded_status(rule, &with.enrichment), None);
}

#[test]
fn fires_with_the_asn_database_on_a_listed_asn_first_time_only() {
    let detector = detector(true);
    let attack = fixture("fire-describe-db-instances-from-m247.json");
    let first = vpn_alerts(&detector, &attack);
    assert_eq!(first.len(), 1, "first discovery call from AS9009");
    let alert = &first[0];
    assert_eq!(alert.get("source.as.number"), Some(&Json::from(9009)));
    assert_eq!(
        alert.get_str("source.as.organization.name"),
        Some("M247 Europe SRL")
    );
    assert_eq!(alert.get_str("user.name"), Some("alice"));

    // The same identity, network and account again: not new.
    let later = again(
        &attack,
        "alice",
        "0f6b7c1e-7d4a-4c53-9e3b-8d2f1a0b9c10",
        "2026-03-02T11:00:00Z",
    );
    assert!(vpn_alerts(&detector, &later).is_empty(), "seen term");
    // Another identity from the same network: a new term.
    let bob = again(
        &attack,
        "bob",
        "0f6b7c1e-7d4a-4c53-9e3b-8d2f1a0b9c11",
        "2026-03-02T11:05:00Z",
    );
    assert_eq!(vpn_alerts(&detector, &bob).len(), 1, "new identity");
}

#[test]
fn does_not_fire_from_other_networks_other_calls_or_without_the_database() {
    let with = detector(true);
    for name in [
        "nofire-describe-db-instances-from-office-network.json",
        "nofire-modify-db-instance-from-m247.json",
    ] {
        assert!(vpn_alerts(&with, &fixture(name)).is_empty(), "{name}");
    }
    // Without the database, source.as.number is absent: the clause is false, no alert, no term.
    let without = detector(false);
    let attack = fixture("fire-describe-db-instances-from-m247.json");
    assert!(vpn_alerts(&without, &attack).is_empty());
}
