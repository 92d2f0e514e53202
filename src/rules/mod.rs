//! The rule catalogue: Elastic detection-rules TOML → [`Rule`], compiled into a [`RuleSet`].

mod degraded;
mod embedded;
mod model;
mod set;
pub mod stateful;

pub use degraded::{degraded_status, expr_fields, missing_enrichment, rule_fields};
pub use model::{
    AlertSuppressionSpec, Cardinality, DurationSpec, FieldValue, InvestigationFields, NewTermsSpec,
    Rule, RuleFile, Severity, Tactic, Technique, Threat, ThresholdSpec,
};
pub use set::{
    CompiledRule, RuleOrigin, RuleSet, RuleStatus, RulesDirError, SkipReason, SkippedRule,
};
