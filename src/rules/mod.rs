//! The rule catalogue: Elastic detection-rules TOML → [`Rule`], compiled into a [`RuleSet`].

mod degraded;
mod embedded;
mod model;
mod set;

pub use degraded::{degraded_status, expr_fields, missing_enrichment, rule_fields};
pub use model::{InvestigationFields, Rule, RuleFile, Severity, Tactic, Technique, Threat};
pub use set::{CompiledRule, RuleOrigin, RuleSet, RuleStatus, SkippedRule};
