//! The rule catalogue: Elastic detection-rules TOML → [`Rule`], compiled into a [`RuleSet`].

mod model;

pub use model::{Rule, RuleFile, Severity, Tactic, Technique, Threat};
