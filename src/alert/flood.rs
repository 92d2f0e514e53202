//! Flood control: one CloudTrail object can hold hundreds of matches of one rule (a script
//! looping over snapshots). Per rule, the first alerts go out individually and the rest become
//! one summary alert that counts them all and names every distinct actor — nothing is dropped
//! uncounted. The summary uses Elastic's alert-suppression fields
//! (`kibana.alert.suppression.docs_count`, `.start`, `.end`).
use serde_json::Value as Json;

use super::model::{key, uuid_v5, Alert};

/// How many alerts per rule and object are sent individually by default.
pub const DEFAULT_PER_RULE_LIMIT: usize = 20;

/// The alerts of one object, flood-controlled: per rule (in order of first appearance) the first
/// `per_rule_limit` alerts are kept as they are, in their original order; the rest of each rule
/// are replaced by one summary alert, appended after the kept alerts.
pub fn flood_control(alerts: Vec<Alert>, per_rule_limit: usize) -> Vec<Alert> {
    let mut kept = Vec::new();
    // (rule_id, how many seen, the suppressed alerts) in order of first appearance.
    let mut per_rule: Vec<(String, usize, Vec<Alert>)> = Vec::new();
    for alert in alerts {
        let rule_id = alert.rule_id().to_string();
        let index = match per_rule.iter().position(|(r, _, _)| *r == rule_id) {
            Some(i) => i,
            None => {
                per_rule.push((rule_id, 0, Vec::new()));
                per_rule.len() - 1
            }
        };
        let entry = &mut per_rule[index];
        entry.1 += 1;
        if entry.1 <= per_rule_limit {
            kept.push(alert);
        } else {
            entry.2.push(alert);
        }
    }
    kept.extend(
        per_rule
            .into_iter()
            .filter_map(|(_, _, suppressed)| summary(&suppressed)),
    );
    kept
}

/// Distinct values in order of first appearance.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// One value when all agree, else the list of distinct values.
fn one_or_list(values: Vec<String>) -> Option<Json> {
    match values.len() {
        0 => None,
        1 => values.into_iter().next().map(Json::String),
        _ => Some(values.into()),
    }
}

/// The summary of the suppressed alerts of one rule (`None` when there are none).
fn summary(suppressed: &[Alert]) -> Option<Alert> {
    let first = suppressed.first()?;
    let count = suppressed.len();
    let ids: Vec<&str> = suppressed.iter().map(Alert::uuid).collect();
    let id_name = format!("flood\n{}\n{}", first.rule_id(), ids.join("\n"));
    let actors = distinct(suppressed.iter().map(Alert::actor));
    let actions = distinct(suppressed.iter().filter_map(|a| a.get_str(key::ACTION)));
    let event_ids = distinct(suppressed.iter().filter_map(|a| a.get_str(key::EVENT_ID)));
    let mut times: Vec<&str> = suppressed
        .iter()
        .filter_map(|a| a.get_str(key::TIMESTAMP))
        .collect();
    times.sort_unstable();

    let mut s = Alert::from_fields(Vec::new());
    s.set(key::UUID, uuid_v5(id_name.as_bytes()));
    if let (Some(start), Some(end)) = (times.first(), times.last()) {
        s.set(key::TIMESTAMP, *end);
        s.set(key::ORIGINAL_TIME, *start);
    }
    for k in [
        key::SEVERITY,
        key::RISK_SCORE,
        key::RULE_ID,
        key::RULE_NAME,
        key::RULE_TYPE,
        key::BUILDING_BLOCK,
        key::DESCRIPTION,
    ] {
        if let Some(v) = first.get(k) {
            s.set(k, v.clone());
        }
    }
    s.set(
        key::REASON,
        format!(
            "{count} more events{} by {} created {} alerts {}; grouped into this summary after the first alerts of this rule in the same CloudTrail object.",
            match actions.as_slice() {
                [] => String::new(),
                list => format!(" with action {}", list.join(", ")),
            },
            match actors.as_slice() {
                [one] => one.clone(),
                list => format!("{} actors ({})", list.len(), list.join(", ")),
            },
            first.severity(),
            first.rule_name()
        ),
    );
    s.set(key::SUPPRESSION_COUNT, count);
    if let (Some(start), Some(end)) = (times.first(), times.last()) {
        s.set(key::SUPPRESSION_START, *start);
        s.set(key::SUPPRESSION_END, *end);
    }
    s.set(key::SUPPRESSED_ACTORS, actors);
    s.set(key::SUPPRESSED_ACTIONS, actions);
    s.set("trailwatch.suppressed.event_ids", event_ids);
    for k in [key::PROVIDER, key::ACCOUNT, key::REGION] {
        if let Some(v) = one_or_list(distinct(suppressed.iter().filter_map(|a| a.get_str(k)))) {
            s.set(k, v);
        }
    }
    for k in [key::REFERENCES, key::THREAT, key::NOTE] {
        if let Some(v) = first.get(k) {
            s.set(k, v.clone());
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(rule: &str, n: usize, actor: &str) -> Alert {
        Alert::from_fields(vec![
            (key::UUID.into(), json!(format!("{rule}-{n}"))),
            (
                key::TIMESTAMP.into(),
                json!(format!("2024-01-01T00:00:{:02}Z", n % 60)),
            ),
            (key::RULE_ID.into(), json!(rule)),
            (key::RULE_NAME.into(), json!(format!("Rule {rule}"))),
            (key::SEVERITY.into(), json!("low")),
            (key::ACTION.into(), json!("StartExportTask")),
            (key::EVENT_ID.into(), json!(format!("ev-{rule}-{n}"))),
            (key::USER_NAME.into(), json!(actor)),
        ])
    }

    #[test]
    fn under_the_limit_nothing_changes() {
        let alerts: Vec<Alert> = (0..3).map(|n| alert("r", n, "a")).collect();
        assert_eq!(flood_control(alerts.clone(), 3), alerts);
    }

    #[test]
    fn over_the_limit_keeps_first_n_and_summarises_the_rest() {
        let mut alerts: Vec<Alert> = (0..25)
            .map(|n| alert("r", n, if n % 2 == 0 { "alice" } else { "bob" }))
            .collect();
        alerts.insert(3, alert("other", 0, "carol"));
        let out = flood_control(alerts, 20);
        assert_eq!(out.len(), 22);
        let kept_r: Vec<&str> = out
            .iter()
            .filter(|a| a.rule_id() == "r")
            .map(Alert::uuid)
            .collect();
        assert_eq!(
            &kept_r[..20],
            (0..20)
                .map(|n| format!("r-{n}"))
                .collect::<Vec<_>>()
                .as_slice()
        );
        assert_eq!(out[3].uuid(), "other-0");
        let s = &out[21];
        assert_eq!(s.rule_id(), "r");
        assert_eq!(s.get(key::SUPPRESSION_COUNT), Some(&json!(5)));
        assert_eq!(s.get_strs(key::SUPPRESSED_ACTORS), vec!["alice", "bob"]);
        assert_eq!(s.get_strs("trailwatch.suppressed.event_ids").len(), 5);
        assert_eq!(
            s.get_str(key::SUPPRESSION_START),
            Some("2024-01-01T00:00:20Z")
        );
        assert_eq!(
            s.get_str(key::SUPPRESSION_END),
            Some("2024-01-01T00:00:24Z")
        );
        assert!(s
            .get_str(key::REASON)
            .is_some_and(|r| r.starts_with("5 more events")));
    }

    #[test]
    fn every_suppressed_alert_is_counted_for_each_rule() {
        let alerts: Vec<Alert> = (0..50)
            .map(|n| alert(if n % 2 == 0 { "a" } else { "b" }, n, "x"))
            .collect();
        let out = flood_control(alerts, 4);
        let counted: u64 = out
            .iter()
            .filter_map(|a| a.get(key::SUPPRESSION_COUNT)?.as_u64())
            .sum();
        let individual = out
            .iter()
            .filter(|a| a.get(key::SUPPRESSION_COUNT).is_none())
            .count() as u64;
        assert_eq!(counted + individual, 50);
        assert_eq!(individual, 8);
    }

    #[test]
    fn summary_id_is_deterministic_and_depends_on_the_suppressed_set() {
        let make = |k: usize| flood_control((0..k).map(|n| alert("r", n, "x")).collect(), 1);
        assert_eq!(
            make(5).last().map(Alert::uuid),
            make(5).last().map(Alert::uuid)
        );
        assert_ne!(
            make(5).last().map(Alert::uuid),
            make(6).last().map(Alert::uuid)
        );
    }
}
