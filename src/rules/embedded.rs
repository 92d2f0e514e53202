//! The rule files compiled into the binary, already parsed: `build.rs` deserializes each TOML file
//! into [`super::RuleFile`] (the same `model.rs`, the same `toml` version) and writes it out as the
//! static data below, so cold start only copies strings into a [`Rule`] instead of parsing ~1.4 MB
//! of TOML (the whole Elastic catalogue: TOML was ~97% of the 44–50 ms the rule set took to load,
//! see docs/performance.md).
//!
//! A file `build.rs` cannot represent this way (invalid TOML, not a rule file, or a float or date
//! value that has no static form here) is embedded as its text and compiled at run time exactly
//! like [`super::RuleSet::from_sources`] does, so it is reported with the same error.
use super::{InvestigationFields, Rule, RuleOrigin, Severity, Tactic, Technique, Threat};

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// One embedded rule file.
#[allow(dead_code)] // which variants are built depends on the files embedded
#[allow(clippy::large_enum_variant)] // static data, never moved: a Box cannot be in a static
pub(crate) enum EmbeddedFile {
    /// Parsed at build time: `[metadata] maturity` (the only metadata compiling reads) and `[rule]`.
    Parsed {
        maturity: Option<&'static str>,
        rule: StaticRule,
    },
    /// Compiled from its TOML text at run time.
    Source(&'static str),
}

/// [`Rule`] with static data; every field maps one to one (see [`StaticRule::to_rule`]).
pub(crate) struct StaticRule {
    pub rule_id: &'static str,
    pub name: &'static str,
    pub rule_type: &'static str,
    pub language: Option<&'static str>,
    pub query: Option<&'static str>,
    pub description: &'static str,
    pub severity: Severity,
    pub risk_score: u8,
    pub note: Option<&'static str>,
    pub setup: Option<&'static str>,
    pub references: &'static [&'static str],
    pub false_positives: &'static [&'static str],
    pub tags: &'static [&'static str],
    pub author: &'static [&'static str],
    pub threat: &'static [StaticThreat],
    pub investigation_fields: Option<&'static [&'static str]>,
    pub building_block_type: Option<&'static str>,
    pub from: Option<&'static str>,
    pub new_terms: Option<StaticValue>,
    pub threshold: Option<StaticValue>,
    pub alert_suppression: Option<StaticValue>,
    pub extra: &'static [(&'static str, StaticValue)],
}

pub(crate) struct StaticThreat {
    pub framework: &'static str,
    pub tactic: StaticTactic,
    pub technique: &'static [StaticTechnique],
}

pub(crate) struct StaticTactic {
    pub id: &'static str,
    pub name: &'static str,
    pub reference: &'static str,
}

pub(crate) struct StaticTechnique {
    pub id: &'static str,
    pub name: &'static str,
    pub reference: &'static str,
    pub subtechnique: &'static [StaticTechnique],
}

/// A TOML value of the kinds rule files use (others make `build.rs` embed the file's text).
#[allow(dead_code)] // which variants are built depends on the files embedded
pub(crate) enum StaticValue {
    String(&'static str),
    Integer(i64),
    Boolean(bool),
    Array(&'static [StaticValue]),
    Table(&'static [(&'static str, StaticValue)]),
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

fn spec<T: serde::de::DeserializeOwned>(v: Option<&StaticValue>) -> Option<T> {
    v.and_then(|v| v.to_value().try_into().ok())
}

fn table(entries: &[(&str, StaticValue)]) -> toml::Table {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_value()))
        .collect()
}

impl StaticValue {
    fn to_value(&self) -> toml::Value {
        match self {
            StaticValue::String(s) => toml::Value::String((*s).to_owned()),
            StaticValue::Integer(i) => toml::Value::Integer(*i),
            StaticValue::Boolean(b) => toml::Value::Boolean(*b),
            StaticValue::Array(a) => toml::Value::Array(a.iter().map(Self::to_value).collect()),
            StaticValue::Table(t) => toml::Value::Table(table(t)),
        }
    }
}

impl StaticTechnique {
    fn to_technique(&self) -> Technique {
        Technique {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            reference: self.reference.to_owned(),
            subtechnique: self.subtechnique.iter().map(Self::to_technique).collect(),
        }
    }
}

impl StaticRule {
    /// The [`Rule`] `toml::from_str` made of the file at build time.
    pub(crate) fn to_rule(&self) -> Rule {
        Rule {
            rule_id: self.rule_id.to_owned(),
            name: self.name.to_owned(),
            rule_type: self.rule_type.to_owned(),
            language: owned(self.language),
            query: owned(self.query),
            description: self.description.to_owned(),
            severity: self.severity,
            risk_score: self.risk_score,
            note: owned(self.note),
            setup: owned(self.setup),
            references: strings(self.references),
            false_positives: strings(self.false_positives),
            tags: strings(self.tags),
            author: strings(self.author),
            threat: self
                .threat
                .iter()
                .map(|t| Threat {
                    framework: t.framework.to_owned(),
                    tactic: Tactic {
                        id: t.tactic.id.to_owned(),
                        name: t.tactic.name.to_owned(),
                        reference: t.tactic.reference.to_owned(),
                    },
                    technique: t
                        .technique
                        .iter()
                        .map(StaticTechnique::to_technique)
                        .collect(),
                })
                .collect(),
            investigation_fields: self.investigation_fields.map(|f| InvestigationFields {
                field_names: strings(f),
            }),
            building_block_type: owned(self.building_block_type),
            from: owned(self.from),
            // Serialized from the same types by build.rs, so they deserialize again; a failure
            // would leave the parameter out and the rule skipped for lacking it, never wrong.
            new_terms: spec(self.new_terms.as_ref()),
            threshold: spec(self.threshold.as_ref()),
            alert_suppression: spec(self.alert_suppression.as_ref()),
            extra: table(self.extra),
        }
    }
}
