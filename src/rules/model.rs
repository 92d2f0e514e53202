//! Elastic detection-rules TOML, as data.
use serde::{Deserialize, Serialize};

/// A whole rule file: `[metadata]` and `[rule]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RuleFile {
    #[serde(default)]
    pub metadata: toml::Table,
    pub rule: Rule,
}

/// One Elastic detection rule (the fields trailwatch reads; others are kept in `extra`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Rule {
    pub rule_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rule_type: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    pub risk_score: u8,
    /// The Markdown triage guide.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub setup: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub false_positives: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub author: Vec<String>,
    #[serde(default)]
    pub threat: Vec<Threat>,
    #[serde(default)]
    pub investigation_fields: Option<InvestigationFields>,
    /// `"default"` for building-block rules: evaluated and shown, not published by default.
    #[serde(default)]
    pub building_block_type: Option<String>,
    /// The look-back of each scheduled run in Elastic (`"now-6m"`): a threshold rule's window.
    #[serde(default)]
    pub from: Option<String>,
    /// `[rule.new_terms]` of a `new_terms` rule.
    #[serde(default)]
    pub new_terms: Option<NewTermsSpec>,
    /// `[rule.threshold]` of a `threshold` rule.
    #[serde(default)]
    pub threshold: Option<ThresholdSpec>,
    /// `[rule.alert_suppression]` (any rule type).
    #[serde(default)]
    pub alert_suppression: Option<AlertSuppressionSpec>,
    /// Everything else in `[rule]` (interval, index, timestamp_override, ...).
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// `[rule.new_terms]`: `field = "new_terms_fields"`, `value` = the fields (up to 3), and
/// `[[rule.new_terms.history_window_start]]` with `value = "now-Nd"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct NewTermsSpec {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Vec<String>,
    #[serde(default)]
    pub history_window_start: Vec<FieldValue>,
}

/// A `{ field, value }` parameter table, as Elastic's rule schema writes them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FieldValue {
    #[serde(default)]
    pub field: Option<String>,
    pub value: String,
}

/// `[rule.threshold]`: group-by `field`s (none: one group), `value` = the count that alerts,
/// optional `[[rule.threshold.cardinality]]` (distinct values of a field).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ThresholdSpec {
    #[serde(default, deserialize_with = "one_or_many")]
    pub field: Vec<String>,
    pub value: u64,
    #[serde(default)]
    pub cardinality: Vec<Cardinality>,
}

/// `[[rule.threshold.cardinality]]`: at least `value` distinct values of `field`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Cardinality {
    pub field: String,
    pub value: u64,
}

/// `[rule.alert_suppression]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct AlertSuppressionSpec {
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Absent: Elastic suppresses for the duration of one rule run (its interval).
    #[serde(default)]
    pub duration: Option<DurationSpec>,
    /// `"suppress"` (default) or `"doNotSuppress"`.
    #[serde(default)]
    pub missing_fields_strategy: Option<String>,
}

/// `duration = {value = 5, unit = "m"}` (`s`, `m`, `h`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct DurationSpec {
    pub value: u64,
    pub unit: String,
}

/// Elastic writes `threshold.field` as a list, older files as one string (or `""` for none).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) if s.is_empty() => Vec::new(),
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InvestigationFields {
    #[serde(default)]
    pub field_names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `[[rule.threat]]` MITRE ATT&CK mapping.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Threat {
    pub framework: String,
    pub tactic: Tactic,
    #[serde(default)]
    pub technique: Vec<Technique>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Tactic {
    pub id: String,
    pub name: String,
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub reference: String,
    #[serde(default)]
    pub subtechnique: Vec<Technique>,
}

impl Rule {
    /// True for building-block rules (evaluated, not published by default).
    pub fn is_building_block(&self) -> bool {
        self.building_block_type.is_some()
    }
}
