//! The per-object publishing policy, as a sink in front of the real one: building-block alerts
//! are dropped unless asked for, and flood control caps the alerts per rule and object.
//!
//! One CloudTrail object can hold thousands of matches of one rule (a script looping over
//! snapshots, or an attacker drowning the detector). Per rule, the first alerts go through
//! individually; the rest are *counted* — number, first and last time, a bounded set of distinct
//! actors, actions, accounts and regions, a bounded sample of event ids, and a running digest of
//! their alert ids — and become one summary alert at the end of the object. The suppressed alerts
//! themselves are never kept, so memory does not grow with the number of matches. The summary
//! uses Elastic's alert-suppression fields (`kibana.alert.suppression.docs_count`, `.start`,
//! `.end`).
use serde_json::Value as Json;

use crate::alert::{key, uuid_v5, Alert};
use crate::sink::{AlertSink, SinkError};

/// How many alerts per rule and object are sent individually by default.
pub const DEFAULT_PER_RULE_LIMIT: usize = 20;
/// Distinct actors, actions, accounts, regions and providers named in a summary (the others are
/// counted).
const KEEP_DISTINCT: usize = 20;
/// Event ids of suppressed alerts named in a summary.
const KEEP_EVENT_IDS: usize = 10;

/// What goes through to the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Alerts per rule and object sent individually (`None`: all).
    pub max_per_rule: Option<usize>,
    /// Send building-block alerts too.
    pub building_blocks: bool,
}

impl Policy {
    /// Everything goes through.
    pub const ALL: Policy = Policy {
        max_per_rule: None,
        building_blocks: true,
    };

    /// What the Lambda publishes under `config`.
    pub fn publishing(config: &crate::Config) -> Policy {
        Policy {
            max_per_rule: (config.max_alerts_per_rule > 0).then_some(config.max_alerts_per_rule),
            building_blocks: config.publish_building_blocks,
        }
    }
}

/// A sink applying a [`Policy`] per object in front of `inner`.
pub struct FloodControl<S> {
    inner: S,
    policy: Policy,
    /// One entry per rule seen in the current object, in order of first appearance (bounded by
    /// the number of rules).
    rules: Vec<RuleCount>,
    /// Counts over the sink's life.
    pub counts: FloodCounts,
}

/// What a [`FloodControl`] let through and held back.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FloodCounts {
    /// Alerts passed on individually.
    pub passed: usize,
    /// Alerts counted into a summary instead.
    pub suppressed: usize,
    /// Summary alerts passed on.
    pub summaries: usize,
    /// Building-block alerts dropped.
    pub building_blocks: usize,
}

impl<S: AlertSink> FloodControl<S> {
    pub fn new(policy: Policy, inner: S) -> Self {
        FloodControl {
            inner,
            policy,
            rules: Vec::new(),
            counts: FloodCounts::default(),
        }
    }

    /// The sink behind.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AlertSink> AlertSink for FloodControl<S> {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        if !self.policy.building_blocks && is_building_block(&alert) {
            self.counts.building_blocks += 1;
            return Ok(());
        }
        let Some(limit) = self.policy.max_per_rule else {
            self.counts.passed += 1;
            return self.inner.send(alert);
        };
        let index = match self.rules.iter().position(|r| r.rule_id == alert.rule_id()) {
            Some(i) => i,
            None => {
                self.rules.push(RuleCount::new(alert.rule_id()));
                self.rules.len() - 1
            }
        };
        let entry = &mut self.rules[index];
        entry.seen += 1;
        if entry.seen <= limit {
            self.counts.passed += 1;
            self.inner.send(alert)
        } else {
            self.counts.suppressed += 1;
            entry
                .summary
                .get_or_insert_with(|| Summary::new(&alert))
                .add(&alert);
            Ok(())
        }
    }

    fn end_object(&mut self) -> Result<(), SinkError> {
        let mut result = Ok(());
        for entry in std::mem::take(&mut self.rules) {
            if let Some(summary) = entry.summary {
                self.counts.summaries += 1;
                result = result.and(self.inner.send(summary.finish()));
            }
        }
        result.and(self.inner.end_object())
    }
}

/// True for building-block alerts (evaluated and shown, not published by default).
pub fn is_building_block(alert: &Alert) -> bool {
    alert.get(key::BUILDING_BLOCK).is_some_and(|v| !v.is_null())
}

struct RuleCount {
    rule_id: String,
    seen: usize,
    summary: Option<Summary>,
}

impl RuleCount {
    fn new(rule_id: &str) -> Self {
        RuleCount {
            rule_id: rule_id.to_owned(),
            seen: 0,
            summary: None,
        }
    }
}

/// Distinct values in order of first appearance, at most [`KEEP_DISTINCT`] of them; the rest
/// counted.
#[derive(Default)]
struct Distinct {
    values: Vec<String>,
    more: usize,
}

impl Distinct {
    fn add(&mut self, value: &str) {
        if self.values.iter().any(|v| v == value) {
            return;
        }
        if self.values.len() < KEEP_DISTINCT {
            self.values.push(value.to_owned());
        } else {
            // Counts further values (a value seen twice past the cap is counted twice: the
            // figure is "at least this many more").
            self.more += 1;
        }
    }

    /// One value when all agree, else the list.
    fn one_or_list(&self) -> Option<Json> {
        match self.values.as_slice() {
            [] => None,
            [one] if self.more == 0 => Some(Json::String(one.clone())),
            list => Some(list.to_vec().into()),
        }
    }

    fn describe(&self) -> String {
        let list = self.values.join(", ");
        if self.more > 0 {
            format!("{list} and others")
        } else {
            list
        }
    }
}

/// The summary of one rule's suppressed alerts, built as they go by.
struct Summary {
    /// The rule's fields (taken from its first suppressed alert).
    rule_fields: Vec<(String, Json)>,
    count: usize,
    first_time: Option<String>,
    last_time: Option<String>,
    actors: Distinct,
    actions: Distinct,
    providers: Distinct,
    accounts: Distinct,
    account_names: Distinct,
    regions: Distinct,
    event_ids: Vec<String>,
    /// Digest of every suppressed alert id, in order: the summary's id depends on the whole set.
    ids: sha1_smol::Sha1,
}

/// The rule's fields a summary carries (from the first suppressed alert).
const RULE_FIELDS: [&str; 10] = [
    key::SEVERITY,
    key::RISK_SCORE,
    key::RULE_ID,
    key::RULE_NAME,
    key::RULE_TYPE,
    key::BUILDING_BLOCK,
    key::DESCRIPTION,
    key::REFERENCES,
    key::THREAT,
    key::NOTE,
];

impl Summary {
    fn new(first: &Alert) -> Summary {
        Summary {
            rule_fields: RULE_FIELDS
                .iter()
                .filter_map(|k| Some(((*k).to_owned(), first.get(k)?.clone())))
                .collect(),
            count: 0,
            first_time: None,
            last_time: None,
            actors: Distinct::default(),
            actions: Distinct::default(),
            providers: Distinct::default(),
            accounts: Distinct::default(),
            account_names: Distinct::default(),
            regions: Distinct::default(),
            event_ids: Vec::new(),
            ids: sha1_smol::Sha1::new(),
        }
    }

    fn add(&mut self, alert: &Alert) {
        self.count += 1;
        self.ids.update(alert.uuid().as_bytes());
        self.ids.update(b"\n");
        if let Some(t) = alert.get_str(key::TIMESTAMP) {
            // ISO 8601 UTC timestamps order as strings.
            if self.first_time.as_deref().is_none_or(|f| t < f) {
                self.first_time = Some(t.to_owned());
            }
            if self.last_time.as_deref().is_none_or(|l| t > l) {
                self.last_time = Some(t.to_owned());
            }
        }
        self.actors.add(alert.actor());
        for (set, k) in [
            (&mut self.actions, key::ACTION),
            (&mut self.providers, key::PROVIDER),
            (&mut self.accounts, key::ACCOUNT),
            (&mut self.account_names, key::ACCOUNT_NAME),
            (&mut self.regions, key::REGION),
        ] {
            if let Some(v) = alert.get_str(k) {
                set.add(v);
            }
        }
        if self.event_ids.len() < KEEP_EVENT_IDS {
            if let Some(id) = alert.get_str(key::EVENT_ID) {
                self.event_ids.push(id.to_owned());
            }
        }
    }

    fn finish(self) -> Alert {
        let field = |k: &str| {
            self.rule_fields
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v)
        };
        let text = |k: &str| field(k).and_then(Json::as_str).unwrap_or_default();
        let rule_id = text(key::RULE_ID);
        let mut s = Alert::from_fields(Vec::new());
        let id_name = format!("flood\n{rule_id}\n{}", self.ids.digest());
        s.set(key::UUID, uuid_v5(id_name.as_bytes()));
        if let (Some(start), Some(end)) = (&self.first_time, &self.last_time) {
            s.set(key::TIMESTAMP, end.as_str());
            s.set(key::ORIGINAL_TIME, start.as_str());
        }
        for k in &RULE_FIELDS[..7] {
            if let Some(v) = field(k) {
                s.set(k, v.clone());
            }
        }
        let actions = match self.actions.values.is_empty() {
            true => String::new(),
            false => format!(" with action {}", self.actions.describe()),
        };
        let actors = match (self.actors.values.as_slice(), self.actors.more) {
            ([one], 0) => one.clone(),
            (list, 0) => format!("{} actors ({})", list.len(), self.actors.describe()),
            (list, _) => format!(
                "more than {} actors ({})",
                list.len(),
                self.actors.describe()
            ),
        };
        s.set(
            key::REASON,
            format!(
                "{} more events{actions} by {actors} created {} alerts {}; grouped into this summary after the first alerts of this rule in the same CloudTrail object.",
                self.count,
                text(key::SEVERITY),
                text(key::RULE_NAME),
            ),
        );
        s.set(key::SUPPRESSION_COUNT, self.count);
        if let (Some(start), Some(end)) = (&self.first_time, &self.last_time) {
            s.set(key::SUPPRESSION_START, start.as_str());
            s.set(key::SUPPRESSION_END, end.as_str());
        }
        s.set(key::SUPPRESSED_ACTORS, self.actors.values.clone());
        s.set(key::SUPPRESSED_ACTIONS, self.actions.values.clone());
        s.set("trailwatch.suppressed.event_ids_sample", self.event_ids);
        for (set, k) in [
            (&self.providers, key::PROVIDER),
            (&self.accounts, key::ACCOUNT),
            (&self.account_names, key::ACCOUNT_NAME),
            (&self.regions, key::REGION),
        ] {
            if let Some(v) = set.one_or_list() {
                s.set(k, v);
            }
        }
        for k in &RULE_FIELDS[7..] {
            if let Some(v) = field(k) {
                s.set(k, v.clone());
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Collector;
    use serde_json::json;

    fn alert(rule: &str, n: usize, actor: &str) -> Alert {
        Alert::from_fields(vec![
            (key::UUID.into(), json!(format!("{rule}-{n}"))),
            (
                key::TIMESTAMP.into(),
                json!(format!("2024-01-01T00:{:02}:{:02}Z", n / 60 % 60, n % 60)),
            ),
            (key::RULE_ID.into(), json!(rule)),
            (key::RULE_NAME.into(), json!(format!("Rule {rule}"))),
            (key::SEVERITY.into(), json!("low")),
            (key::ACTION.into(), json!("StartExportTask")),
            (key::EVENT_ID.into(), json!(format!("ev-{rule}-{n}"))),
            (key::USER_NAME.into(), json!(actor)),
        ])
    }

    fn run(alerts: impl IntoIterator<Item = Alert>, limit: usize) -> Vec<Alert> {
        let policy = Policy {
            max_per_rule: Some(limit),
            building_blocks: true,
        };
        let mut sink = FloodControl::new(policy, Collector::default());
        for a in alerts {
            sink.send(a).unwrap();
        }
        sink.end_object().unwrap();
        sink.into_inner().alerts
    }

    #[test]
    fn under_the_limit_nothing_changes() {
        let alerts: Vec<Alert> = (0..3).map(|n| alert("r", n, "a")).collect();
        assert_eq!(run(alerts.clone(), 3), alerts);
    }

    #[test]
    fn over_the_limit_keeps_first_n_and_summarises_the_rest() {
        let mut alerts: Vec<Alert> = (0..25)
            .map(|n| alert("r", n, if n % 2 == 0 { "alice" } else { "bob" }))
            .collect();
        alerts.insert(3, alert("other", 0, "carol"));
        let out = run(alerts, 20);
        assert_eq!(out.len(), 22);
        let kept_r: Vec<&str> = out
            .iter()
            .filter(|a| a.rule_id() == "r")
            .map(Alert::uuid)
            .collect();
        let expected: Vec<String> = (0..20).map(|n| format!("r-{n}")).collect();
        assert_eq!(&kept_r[..20], expected.as_slice());
        assert_eq!(out[3].uuid(), "other-0");
        let s = &out[21];
        assert_eq!(s.rule_id(), "r");
        assert_eq!(s.get(key::SUPPRESSION_COUNT), Some(&json!(5)));
        assert_eq!(s.get_strs(key::SUPPRESSED_ACTORS), vec!["alice", "bob"]);
        assert_eq!(
            s.get_strs("trailwatch.suppressed.event_ids_sample").len(),
            5
        );
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
        let alerts = (0..50).map(|n| alert(if n % 2 == 0 { "a" } else { "b" }, n, "x"));
        let out = run(alerts, 4);
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
    fn a_summary_names_a_bounded_number_of_actors_and_event_ids() {
        let out = run((0..10_000).map(|n| alert("r", n, &format!("actor-{n}"))), 1);
        let s = &out[1];
        assert_eq!(s.get(key::SUPPRESSION_COUNT), Some(&json!(9_999)));
        assert_eq!(s.get_strs(key::SUPPRESSED_ACTORS).len(), KEEP_DISTINCT);
        assert_eq!(
            s.get_strs("trailwatch.suppressed.event_ids_sample").len(),
            KEEP_EVENT_IDS
        );
        assert!(s
            .get_str(key::REASON)
            .is_some_and(|r| r.contains("more than 20 actors")));
    }

    #[test]
    fn summary_id_is_deterministic_and_depends_on_the_suppressed_set() {
        let make = |k: usize| run((0..k).map(|n| alert("r", n, "x")), 1);
        assert_eq!(
            make(5).last().map(|a| a.uuid().to_owned()),
            make(5).last().map(|a| a.uuid().to_owned())
        );
        assert_ne!(
            make(5).last().map(|a| a.uuid().to_owned()),
            make(6).last().map(|a| a.uuid().to_owned())
        );
    }

    #[test]
    fn building_blocks_are_dropped_unless_asked_for() {
        let mut bb = alert("bb", 0, "x");
        bb.set(key::BUILDING_BLOCK, "default");
        let policy = Policy {
            max_per_rule: None,
            building_blocks: false,
        };
        let mut sink = FloodControl::new(policy, Collector::default());
        sink.send(bb.clone()).unwrap();
        sink.send(alert("r", 0, "x")).unwrap();
        assert_eq!(sink.counts.building_blocks, 1);
        assert_eq!(sink.inner().alerts.len(), 1);
        let mut all = FloodControl::new(Policy::ALL, Collector::default());
        all.send(bb).unwrap();
        assert_eq!(all.inner().alerts.len(), 1);
    }
}
