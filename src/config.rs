//! Configuration from the environment, read once at cold start.

/// Default number of individual alerts per object and rule before the rest are summarised.
pub const DEFAULT_MAX_ALERTS_PER_RULE: usize = 20;

/// The function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `ALERT_TOPIC_ARN`: the SNS topic alerts are published to.
    pub topic_arn: Option<String>,
    /// `MAX_ALERTS_PER_RULE`: flood control per object and rule (0 = no limit).
    pub max_alerts_per_rule: usize,
    /// `PUBLISH_BUILDING_BLOCKS`: also publish building-block rules' alerts (default false).
    pub publish_building_blocks: bool,
    /// `EXCEPTIONS_FILE`: an exceptions TOML file used in addition to the compiled-in one.
    pub exceptions_file: Option<String>,
    /// `EXCEPTIONS_TOML`: exceptions as inline TOML (e.g. from a stack parameter), also added.
    pub exceptions_toml: Option<String>,
    /// `EXTRA_RULES_DIR`: Elastic rule files added at cold start (e.g. a layer at `/opt/rules`),
    /// compiled like the embedded ones (`RuleSet::embedded_with_dir`).
    pub extra_rules_dir: Option<String>,
    /// `STATE_TABLE`: the DynamoDB table of the stateful rules' state (`state::DynamoStore`).
    pub state_table: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            topic_arn: None,
            max_alerts_per_rule: DEFAULT_MAX_ALERTS_PER_RULE,
            publish_building_blocks: false,
            exceptions_file: None,
            exceptions_toml: None,
            extra_rules_dir: None,
            state_table: None,
        }
    }
}

/// A variable with a value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (testable without touching the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = Config {
            topic_arn: nonempty("ALERT_TOPIC_ARN"),
            exceptions_file: nonempty("EXCEPTIONS_FILE"),
            exceptions_toml: nonempty("EXCEPTIONS_TOML"),
            extra_rules_dir: nonempty("EXTRA_RULES_DIR"),
            state_table: nonempty("STATE_TABLE"),
            ..Config::default()
        };
        if let Some(v) = nonempty("MAX_ALERTS_PER_RULE") {
            config.max_alerts_per_rule = v.trim().parse().map_err(|_| ConfigError {
                name: "MAX_ALERTS_PER_RULE",
                value: v.clone(),
                reason: "expected a whole number (0 = no limit)",
            })?;
        }
        if let Some(v) = nonempty("PUBLISH_BUILDING_BLOCKS") {
            config.publish_building_blocks = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(ConfigError {
                        name: "PUBLISH_BUILDING_BLOCKS",
                        value: v,
                        reason: "expected true or false",
                    })
                }
            };
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(config(&[]).unwrap(), Config::default());
        let c = config(&[
            ("ALERT_TOPIC_ARN", "arn:t"),
            ("MAX_ALERTS_PER_RULE", "5"),
            ("PUBLISH_BUILDING_BLOCKS", "TRUE"),
            ("EXTRA_RULES_DIR", "/opt/rules"),
            ("STATE_TABLE", "trailwatch-state"),
        ])
        .unwrap();
        assert_eq!(c.extra_rules_dir.as_deref(), Some("/opt/rules"));
        assert_eq!(c.state_table.as_deref(), Some("trailwatch-state"));
        assert_eq!(
            (
                c.topic_arn.as_deref(),
                c.max_alerts_per_rule,
                c.publish_building_blocks
            ),
            (Some("arn:t"), 5, true)
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = config(&[("MAX_ALERTS_PER_RULE", "lots")]).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("environment variable MAX_ALERTS_PER_RULE=\"lots\""));
        assert!(config(&[("PUBLISH_BUILDING_BLOCKS", "maybe")]).is_err());
    }
}
