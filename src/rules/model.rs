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
    /// Everything else in `[rule]` (from, interval, index, new_terms, threshold, ...).
    #[serde(flatten)]
    pub extra: toml::Table,
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
