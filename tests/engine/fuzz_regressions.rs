//! Inputs the fuzz targets (fuzz/) found, kept as regression tests. Each parse runs on its own
//! thread with a deadline, so a hang fails the test instead of stalling the suite.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` and fails if it has not returned within 10 seconds.
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what}: no answer within 10 s (hang)"))
}

/// eql_parse, timeout-083b006c: a `@` not followed by a letter made the lexer loop forever,
/// pushing empty identifiers until memory ran out.
#[test]
fn eql_lexer_does_not_hang_on_a_lone_at_sign() {
    let found = "info where data_stream.dataset == \"aws.cloudtrail\"*   y@BUnapshotAttribute\", \"ModifyDBClusterSnapshotAttrijute\")\n    and stringContains(aws.cloudtrail.request_parameters, \"attributeName=restore\")\n    and stringContains(aws.cloudtrail.request_parameters, \"{aluesToAdd=[*]\")\n";
    for query in [found, "any where @", "any where a == @", "@"] {
        let q = query.to_owned();
        let result = within_deadline(query, move || trailwatch::query::eql::parse(&q).map(|_| ()));
        assert!(result.is_err(), "{query:?} is not valid EQL");
    }
    // `@timestamp` is still one identifier.
    let ok = within_deadline("@timestamp", || {
        trailwatch::query::eql::parse("any where @timestamp != null").map(|_| ())
    });
    assert!(ok.is_ok(), "{ok:?}");
}

/// rule_toml, timeout-253af4a1: the same hang reached through a rule file (`aws.cloudtrai@.`);
/// the rule is now skipped with the parse error as its reason.
#[test]
fn rule_with_a_stray_at_sign_in_its_query_is_skipped_not_hung() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/persistence_rds_db_instance_password_modified.toml"
    );
    let text = std::fs::read_to_string(path).expect("rule file");
    let field = "stringContains(aws.cloudtrail.request_parameters, \"masterUserPassword";
    assert!(text.contains(field));
    let found = text.replace(
        field,
        "stringContains(aws.cloudtrai@.request_parameters, \"masterUserPassword",
    );
    let set = within_deadline("rule", move || {
        trailwatch::RuleSet::from_sources([(
            trailwatch::rules::RuleOrigin::Project,
            "found.toml".to_owned(),
            found.as_str(),
        )])
    });
    assert!(set.rules().is_empty());
    assert_eq!(set.skipped().len(), 1);
    assert!(!set.skipped()[0].reason.is_empty());
}
