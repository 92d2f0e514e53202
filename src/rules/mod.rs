//! The rule catalogue: Elastic detection-rules TOML → [`Rule`], compiled into a [`RuleSet`].

mod embedded;
mod model;
mod set;

pub use model::{InvestigationFields, Rule, RuleFile, Severity, Tactic, Technique, Threat};
pub use set::{CompiledRule, RuleOrigin, RuleSet, RuleStatus, SkippedRule};
