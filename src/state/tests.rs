//! §7 semantics, point by point, on the memory and redb stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use serde_json::{json, Value as Json};

use super::*;
use crate::ecs::CloudTrailView;
use crate::rules::{CompiledRule, RuleOrigin, RuleSet};

pub(super) const ROLE_RULE: &str = "93075852-b0f5-4b8b-89c3-a226efae5726";
pub(super) const DAY: i64 = 86_400_000;
pub(super) const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// An sts:AssumeRole by `service` of `role` at `t` (ms), as CloudTrail records it.
pub(super) fn assume_role(id: &str, t: i64, service: &str, roles: &[&str]) -> Json {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AWSService", "invokedBy": service},
        "eventTime": format_ms(t).replace(".000Z", "Z"),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": service,
        "userAgent": service,
        "requestParameters": {"roleArn": roles.first().copied().unwrap_or(""), "roleSessionName": "s"},
        "responseElements": null,
        "eventID": id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
        "resources": roles.iter().map(|r| json!({"ARN": r, "accountId": "111122223333", "type": "AWS::IAM::Role"})).collect::<Vec<_>>(),
    })
}

/// Runs `record` through the embedded rule `rule_id` (query, then state): the hits.
pub(super) fn run<S: StateStore>(
    st: &Stateful<S>,
    set: &RuleSet,
    rule_id: &str,
    record: &Json,
) -> Vec<StatefulHit> {
    let view = CloudTrailView::new(record);
    let rule = set.get(rule_id).expect("rule compiled");
    let mut hits = Vec::new();
    if set
        .matches(record)
        .iter()
        .any(|r| r.rule.rule_id == rule_id)
    {
        assert!(st.applies_to(rule));
        let t = event_time_ms(&view).expect("eventTime");
        let id = record["eventID"].as_str().unwrap();
        st.evaluate(rule, &view, t, id, &mut |h| hits.push(h))
            .unwrap();
    }
    hits
}

pub(super) fn role(n: u32) -> String {
    format!("arn:aws:iam::111122223333:role/app-{n}")
}

/// The must-fire / must-not-fire timeline of the project rule, on any store.
fn role_assumption_timeline<S: StateStore>(st: &Stateful<S>) {
    let set = RuleSet::embedded();
    let r1 = role(1);
    let ev = |id: &str, t: i64, svc: &str| assume_role(id, t, svc, &[r1.as_str()]);
    // First time EC2 assumes the role: fires, with the term in field order.
    let hits = run(st, &set, ROLE_RULE, &ev("e1", T0, "ec2.amazonaws.com"));
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].fields,
        vec![(
            "kibana.alert.new_terms".to_owned(),
            json!(["ec2.amazonaws.com", r1])
        )]
    );
    assert_eq!(
        hits[0].id_seed,
        format!("{ROLE_RULE}\ne1\nec2.amazonaws.com\n{r1}")
    );
    // Same pair an hour later: seen. Another service, same role: a new term.
    assert!(run(
        st,
        &set,
        ROLE_RULE,
        &ev("e2", T0 + 3_600_000, "ec2.amazonaws.com")
    )
    .is_empty());
    assert_eq!(
        run(
            st,
            &set,
            ROLE_RULE,
            &ev("e3", T0 + 3_600_000, "lambda.amazonaws.com")
        )
        .len(),
        1
    );
    // Seen every 4 days: each sighting refreshes last-seen, so never new (5-day window).
    for (i, day) in [4, 8, 12].into_iter().enumerate() {
        let id = format!("r{i}");
        assert!(
            run(
                st,
                &set,
                ROLE_RULE,
                &ev(&id, T0 + day * DAY, "ec2.amazonaws.com")
            )
            .is_empty(),
            "day {day}"
        );
    }
    st.flush().unwrap();
    // Not seen for more than 5 days (last at day 12): new again at day 18.
    assert_eq!(
        run(
            st,
            &set,
            ROLE_RULE,
            &ev("e4", T0 + 18 * DAY, "ec2.amazonaws.com")
        )
        .len(),
        1
    );
    // A service the query does not list (not a match) and a user (not AWSService): nothing.
    assert!(run(
        st,
        &set,
        ROLE_RULE,
        &ev("e5", T0 + 19 * DAY, "glue.amazonaws.com")
    )
    .is_empty());
    let mut user = ev("e6", T0 + 19 * DAY, "ec2.amazonaws.com");
    user["userIdentity"] = json!({"type": "IAMUser", "userName": "bob"});
    assert!(run(st, &set, ROLE_RULE, &user).is_empty());
    // No resources: no term, no alert.
    let bare = assume_role("e7", T0 + 19 * DAY, "rds.amazonaws.com", &[]);
    assert!(run(st, &set, ROLE_RULE, &bare).is_empty());
}

#[test]
fn role_assumption_by_service_timeline_memory() {
    role_assumption_timeline(&Stateful::new(MemoryStore::new()));
}

#[test]
fn role_assumption_by_service_timeline_redb() {
    role_assumption_timeline(&Stateful::new(RedbStore::temporary().unwrap()));
}

#[test]
fn an_event_with_two_new_terms_raises_two_alerts_and_the_same_term_twice_in_an_object_one() {
    let set = RuleSet::embedded();
    let st = Stateful::new(MemoryStore::new());
    let (a, b) = (role(1), role(2));
    let both = assume_role("e1", T0, "ec2.amazonaws.com", &[a.as_str(), b.as_str()]);
    let hits = run(&st, &set, ROLE_RULE, &both);
    assert_eq!(hits.len(), 2);
    assert_ne!(hits[0].id_seed, hits[1].id_seed);
    assert_eq!(hits[1].fields[0].1, json!(["ec2.amazonaws.com", b]));
    // Same object, later record with one of them: already seen.
    assert!(run(
        &st,
        &set,
        ROLE_RULE,
        &assume_role("e2", T0 + 1, "ec2.amazonaws.com", &[a.as_str()])
    )
    .is_empty());
}

#[test]
fn replays_raise_the_same_alerts_and_nothing_else() {
    let set = RuleSet::embedded();
    let st = Stateful::new(MemoryStore::new());
    let r = role(1);
    let object: Vec<Json> = (0..4)
        .map(|i| {
            assume_role(
                &format!("e{i}"),
                T0 + i * 1_000,
                "ec2.amazonaws.com",
                &[r.as_str()],
            )
        })
        .collect();
    let first: Vec<_> = object
        .iter()
        .flat_map(|rec| run(&st, &set, ROLE_RULE, rec))
        .collect();
    st.flush().unwrap();
    assert_eq!(first.len(), 1);
    // The whole object again (a retry after a failed publish), with a fresh cache (another
    // container) and with the warm one: the same single alert.
    let cold = Stateful::new(st.store());
    let again: Vec<_> = object
        .iter()
        .flat_map(|rec| run(&st, &set, ROLE_RULE, rec))
        .collect();
    let again_cold: Vec<_> = object
        .iter()
        .flat_map(|rec| run(&cold, &set, ROLE_RULE, rec))
        .collect();
    assert_eq!(again, first);
    assert_eq!(again_cold, first);
}

/// A threshold rule: `value` events of one `user.name` within `from`.
pub(super) fn threshold_rule(extra: &str) -> RuleSet {
    let text = format!(
        "[metadata]\nmaturity = \"production\"\n[rule]\nrule_id = \"th\"\nname = \"th\"\ntype = \"threshold\"\nlanguage = \"kuery\"\nseverity = \"low\"\nrisk_score = 21\nfrom = \"now-60m\"\nquery = 'event.action:GetSecretValue'\n{extra}"
    );
    let set = RuleSet::from_sources([(RuleOrigin::Extra, "th.toml".to_owned(), text.as_str())]);
    assert_eq!(set.rules().len(), 1, "{:?}", set.skipped());
    set
}

pub(super) fn get_secret(id: &str, t: i64, user: &str, secret: &str) -> Json {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "userName": user, "arn": format!("arn:aws:iam::1:user/{user}")},
        "eventTime": format_ms(t),
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "GetSecretValue",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.1",
        "requestParameters": {"secretId": secret},
        "eventID": id,
        "recipientAccountId": "111122223333",
    })
}

#[test]
fn threshold_counts_per_group_within_the_look_back_and_restarts_after_an_alert() {
    let set = threshold_rule("[rule.threshold]\nfield = [\"user.name\"]\nvalue = 3\n");
    let st = Stateful::new(RedbStore::temporary().unwrap());
    let min = 60_000;
    let mut fired = Vec::new();
    // alice: 2 events, then a third 2 hours later: the first two fell out of the hour.
    for (i, (t, user)) in [
        (0, "alice"),
        (10, "alice"),
        (5, "bob"),
        (130, "alice"),
        (131, "alice"),
        (132, "alice"),
        (133, "alice"),
        (134, "bob"),
    ]
    .into_iter()
    .enumerate()
    {
        let hits = run(
            &st,
            &set,
            "th",
            &get_secret(&format!("e{i}"), T0 + t * min, user, "s"),
        );
        fired.extend(hits.into_iter().map(|h| (i, h)));
    }
    assert_eq!(fired.len(), 1, "{fired:?}");
    let (i, hit) = &fired[0];
    assert_eq!(
        *i, 5,
        "the third alice event within the hour closes the window"
    );
    assert_eq!(
        hit.fields[0].1,
        json!({"terms": [{"field": "user.name", "value": "alice"}], "count": 3, "from": format_ms(T0 + 130 * min)})
    );
    // The count restarted after the alert: event 6 is the first of a new window. Replaying the
    // closing event gives the same alert; replaying a counted one gives nothing.
    assert_eq!(
        run(
            &st,
            &set,
            "th",
            &get_secret("e5", T0 + 132 * min, "alice", "s")
        ),
        vec![hit.clone()]
    );
    assert!(run(
        &st,
        &set,
        "th",
        &get_secret("e4", T0 + 131 * min, "alice", "s")
    )
    .is_empty());
    assert!(run(
        &st,
        &set,
        "th",
        &get_secret("e6", T0 + 133 * min, "alice", "s")
    )
    .is_empty());
    // Two new ones complete the new window of three (e6, e8, e9).
    assert!(run(
        &st,
        &set,
        "th",
        &get_secret("e8", T0 + 135 * min, "alice", "s")
    )
    .is_empty());
    let hits = run(
        &st,
        &set,
        "th",
        &get_secret("e9", T0 + 136 * min, "alice", "s"),
    );
    assert_eq!(hits[0].fields[0].1["count"], json!(3));
    assert_eq!(
        hits[0].fields[0].1["from"],
        json!(format_ms(T0 + 133 * min))
    );
}

#[test]
fn threshold_cardinality_needs_distinct_values() {
    let set = threshold_rule(
        "[rule.threshold]\nfield = [\"user.name\"]\nvalue = 1\n[[rule.threshold.cardinality]]\nfield = \"aws.cloudtrail.flattened.request_parameters.secretId\"\nvalue = 3\n",
    );
    let st = Stateful::new(MemoryStore::new());
    let mut n = 0;
    let mut hits = Vec::new();
    for secret in ["a", "a", "b", "a", "b", "c"] {
        n += 1;
        hits.extend(run(
            &st,
            &set,
            "th",
            &get_secret(&format!("e{n}"), T0 + n * 1_000, "u", secret),
        ));
    }
    assert_eq!(hits.len(), 1);
    let result = &hits[0].fields[0].1;
    assert_eq!(result["count"], json!(6));
    assert_eq!(
        result["cardinality"],
        json!([{"field": "aws.cloudtrail.flattened.request_parameters.secretId", "value": 3}])
    );
}

#[test]
fn suppression_counts_repeats_of_a_group_within_its_duration() {
    let set = threshold_rule(
        "[rule.threshold]\nfield = []\nvalue = 1\n[rule.alert_suppression]\ngroup_by = [\"user.name\"]\nduration = {value = 10, unit = \"m\"}\nmissing_fields_strategy = \"doNotSuppress\"\n",
    );
    let st = Stateful::new(MemoryStore::new());
    let min = 60_000;
    let mut raised = Vec::new();
    for (i, (t, user)) in [
        (0, Some("a")),
        (1, Some("a")),
        (2, Some("b")),
        (9, Some("a")),
        (11, Some("a")),
        (12, None),
        (13, None),
    ]
    .into_iter()
    .enumerate()
    {
        let mut rec = get_secret(&format!("e{i}"), T0 + t * min, user.unwrap_or("x"), "s");
        if user.is_none() {
            rec["userIdentity"] = json!({"type": "Root"});
        }
        if !run(&st, &set, "th", &rec).is_empty() {
            raised.push(i);
        }
    }
    // a at 0 opens a window; 1 and 9 suppressed; 11 opens the next; b has its own group;
    // events without user.name are never suppressed (doNotSuppress).
    assert_eq!(raised, vec![0, 2, 4, 5, 6]);
    let key = super::eval_key_for_tests("su", "th", &json!(["a"]));
    let entry = st.store().get_many(&[key]).unwrap().remove(0).unwrap();
    let data: Json = serde_json::from_str(&entry.data).unwrap();
    assert_eq!(
        data["count"],
        json!(0),
        "the window opened at 11 has suppressed nothing yet"
    );
}

#[test]
fn user_suppression_applies_to_a_plain_rule_and_replays_are_stable() {
    let set = RuleSet::embedded();
    // Any single-event project rule works; take the first that is not stateful.
    let plain: &CompiledRule = set.rules().iter().find(|r| !r.is_stateful()).unwrap();
    let user = UserSuppressions::from_toml(&format!(
        "[[suppress]]\nrule_id = \"{}\"\ngroup_by = [\"user.name\"]\nduration = \"1h\"\n",
        plain.rule.rule_id
    ))
    .unwrap();
    let st = Stateful::new(MemoryStore::new()).with_suppressions(user);
    assert!(st.applies_to(plain));
    let doc = json!({"user": {"name": "bob"}});
    let ev = crate::engine::JsonDocument(&doc);
    let mut out = Vec::new();
    for (id, t) in [
        ("e1", T0),
        ("e2", T0 + 1_000),
        ("e1", T0),
        ("e3", T0 + 3_700_000),
    ] {
        st.evaluate(plain, &ev, t, id, &mut |h| out.push(h))
            .unwrap();
    }
    let seeds: Vec<_> = out
        .iter()
        .map(|h| h.id_seed.rsplit('\n').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(seeds, ["e1", "e1", "e3"]);
    assert_eq!(out[0], out[1], "the replayed alert is identical");
    assert_eq!(
        out[0]
            .fields
            .iter()
            .find(|f| f.0 == "kibana.alert.suppression.docs_count")
            .map(|f| &f.1),
        Some(&json!(0))
    );
}

#[test]
fn state_persists_across_runs_in_a_redb_file() {
    let dir = std::env::temp_dir().join(format!("trailwatch-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.redb");
    let _ = std::fs::remove_file(&path);
    let set = RuleSet::embedded();
    let r = role(7);
    {
        let st = Stateful::new(RedbStore::open(&path).unwrap());
        assert_eq!(
            run(
                &st,
                &set,
                ROLE_RULE,
                &assume_role("e1", T0, "ecs.amazonaws.com", &[r.as_str()])
            )
            .len(),
            1
        );
        assert!(run(
            &st,
            &set,
            ROLE_RULE,
            &assume_role("e2", T0 + 4 * DAY, "ecs.amazonaws.com", &[r.as_str()])
        )
        .is_empty());
        st.flush().unwrap();
    }
    // Next run: the refresh at day 4 was written, so day 8 is still within 5 days.
    let st = Stateful::new(RedbStore::open(&path).unwrap());
    assert!(run(
        &st,
        &set,
        ROLE_RULE,
        &assume_role("e3", T0 + 8 * DAY, "ecs.amazonaws.com", &[r.as_str()])
    )
    .is_empty());
    assert_eq!(
        run(
            &st,
            &set,
            ROLE_RULE,
            &assume_role("e1", T0, "ecs.amazonaws.com", &[r.as_str()])
        )
        .len(),
        1,
        "replay"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_evaluations_agree_on_who_saw_a_term_first() {
    let set = RuleSet::embedded();
    let store = std::sync::Arc::new(MemoryStore::new());
    let r = role(9);
    let hits = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for i in 0..8 {
            let (store, set, r, hits) = (store.clone(), &set, &r, &hits);
            s.spawn(move || {
                // Each thread is its own container: its own cache.
                let st = Stateful::new(store);
                let rec = assume_role(&format!("e{i}"), T0 + i, "ec2.amazonaws.com", &[r.as_str()]);
                let n = run(&st, set, ROLE_RULE, &rec).len();
                hits.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            });
        }
    });
    assert_eq!(hits.into_inner(), 1);
}

#[test]
fn a_hit_sets_the_alert_id_from_its_seed_and_its_fields() {
    let set = RuleSet::embedded();
    let st = Stateful::new(MemoryStore::new());
    let r = role(3);
    let record = assume_role("e1", T0, "ssm.amazonaws.com", &[r.as_str()]);
    let hits = run(&st, &set, ROLE_RULE, &record);
    let rule = set.get(ROLE_RULE).unwrap();
    let view = CloudTrailView::new(&record);
    let mut alert = crate::alert::Alert::new(&rule.rule, &view, &record);
    let stateless_id = alert.uuid().to_owned();
    hits[0].apply_to(&mut alert);
    assert_eq!(
        alert.uuid(),
        crate::alert::uuid_v5(hits[0].id_seed.as_bytes())
    );
    assert_ne!(alert.uuid(), stateless_id, "the term is part of the id");
    assert_eq!(
        alert.get("kibana.alert.new_terms"),
        Some(&json!(["ssm.amazonaws.com", r]))
    );
}
