//! Configuration from the environment, read once at cold start.

use crate::ecs::{Enrichment, GeoIpError};
use std::path::PathBuf;

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
    /// `DEADLINE_MARGIN_SECONDS`: no new object is started when less than this remains before
    /// the invocation's deadline (default 15).
    pub deadline_margin_seconds: u64,
    /// `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda): this function, so that tampering with it is
    /// flagged as targeting trailwatch itself.
    pub function_name: Option<String>,
    /// `TRAIL_BUCKET`: the bucket CloudTrail writes the log files trailwatch reads.
    pub trail_bucket: Option<String>,
    /// `TRAIL_NAME`: the trail trailwatch reads (name or ARN).
    pub trail_name: Option<String>,
    /// `GEOIP_ASN_DB`: a MaxMind-format ASN database (GeoLite2-ASN) for `source.as.*`; in Lambda
    /// a file of a layer, under /opt. Without it those fields are absent.
    pub geoip_asn_db: Option<PathBuf>,
    /// `GEOIP_CITY_DB`: a MaxMind-format City database (GeoLite2-City) for `source.geo.*`.
    pub geoip_city_db: Option<PathBuf>,
    /// `EXTRA_RULES_DIR`: Elastic rule files added at cold start (e.g. a layer at `/opt/rules`),
    /// compiled like the embedded ones (`RuleSet::embedded_with_dir`).
    pub extra_rules_dir: Option<String>,
    /// `STATE_TABLE`: the DynamoDB table of the stateful rules' state (`state::DynamoStore`).
    pub state_table: Option<String>,
    /// `ACCOUNT_NAMES=organizations`: name alerts' accounts (`cloud.account.name`) from
    /// Organizations `ListAccounts`, cached per container (off by default).
    pub account_names_from_organizations: bool,
    /// `ACCOUNT_NAMES_JSON`: a static mapping `{"123456789012": "prod-data", ...}`.
    pub account_names_json: Option<String>,
    /// `ACCOUNT_NAMES_FILE`: the same mapping in a JSON file.
    pub account_names_file: Option<String>,
}

/// Default for [`Config::deadline_margin_seconds`]: time to scan and publish one more object.
pub const DEFAULT_DEADLINE_MARGIN_SECONDS: u64 = 15;

impl Default for Config {
    fn default() -> Self {
        Config {
            topic_arn: None,
            max_alerts_per_rule: DEFAULT_MAX_ALERTS_PER_RULE,
            publish_building_blocks: false,
            exceptions_file: None,
            exceptions_toml: None,
            deadline_margin_seconds: DEFAULT_DEADLINE_MARGIN_SECONDS,
            function_name: None,
            trail_bucket: None,
            trail_name: None,
            geoip_asn_db: None,
            geoip_city_db: None,
            extra_rules_dir: None,
            state_table: None,
            account_names_from_organizations: false,
            account_names_json: None,
            account_names_file: None,
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
    /// Opens the GeoIP databases this configuration names, once per process (cold start); the
    /// result is shared read-only by every [`crate::ecs::CloudTrailView::with_enrichment`].
    /// A named database that does not open is an error, not a silent absence.
    pub fn open_enrichment(&self) -> Result<Enrichment, GeoIpError> {
        let e = Enrichment::open(self.geoip_asn_db.as_deref(), self.geoip_city_db.as_deref())?;
        if !crate::ecs::user_agent_available() {
            tracing::warn!(
                "user_agent.name/version/os/device unavailable: built without uap-core's regexes.yaml"
            );
        }
        tracing::info!(
            asn = e.has_asn(),
            city = e.has_city(),
            user_agent = crate::ecs::user_agent_available(),
            "enrichment ready"
        );
        Ok(e)
    }

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
            function_name: nonempty("AWS_LAMBDA_FUNCTION_NAME").map(|v| v.trim().to_owned()),
            trail_bucket: nonempty("TRAIL_BUCKET").map(|v| v.trim().to_owned()),
            trail_name: nonempty("TRAIL_NAME").map(|v| v.trim().to_owned()),
            geoip_asn_db: nonempty("GEOIP_ASN_DB").map(PathBuf::from),
            geoip_city_db: nonempty("GEOIP_CITY_DB").map(PathBuf::from),
            extra_rules_dir: nonempty("EXTRA_RULES_DIR"),
            state_table: nonempty("STATE_TABLE"),
            account_names_json: nonempty("ACCOUNT_NAMES_JSON"),
            account_names_file: nonempty("ACCOUNT_NAMES_FILE"),
            ..Config::default()
        };
        if let Some(v) = nonempty("ACCOUNT_NAMES") {
            config.account_names_from_organizations = match v.trim().to_ascii_lowercase().as_str() {
                "organizations" => true,
                "off" | "none" | "false" => false,
                _ => {
                    return Err(ConfigError {
                        name: "ACCOUNT_NAMES",
                        value: v,
                        reason: "expected organizations or off",
                    })
                }
            };
        }
        if let Some(v) = nonempty("MAX_ALERTS_PER_RULE") {
            config.max_alerts_per_rule = v.trim().parse().map_err(|_| ConfigError {
                name: "MAX_ALERTS_PER_RULE",
                value: v.clone(),
                reason: "expected a whole number (0 = no limit)",
            })?;
        }
        if let Some(v) = nonempty("DEADLINE_MARGIN_SECONDS") {
            config.deadline_margin_seconds = v.trim().parse().map_err(|_| ConfigError {
                name: "DEADLINE_MARGIN_SECONDS",
                value: v.clone(),
                reason: "expected a whole number of seconds",
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
    fn reads_the_names_of_trailwatch_own_resources() {
        let c = config(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "trailwatch-Detector-1A2B"),
            ("TRAIL_BUCKET", " org-cloudtrail-111122223333 "),
            ("TRAIL_NAME", ""),
        ])
        .unwrap();
        assert_eq!(c.function_name.as_deref(), Some("trailwatch-Detector-1A2B"));
        assert_eq!(
            c.trail_bucket.as_deref(),
            Some("org-cloudtrail-111122223333")
        );
        // Empty means not set (the template passes "" when the parameter is left empty).
        assert_eq!(c.trail_name, None);
    }

    #[test]
    fn geoip_paths_are_read_and_a_missing_database_is_an_error() {
        let c = config(&[("GEOIP_ASN_DB", "/nonexistent/asn.mmdb")]).unwrap();
        assert_eq!(
            c.geoip_asn_db.as_deref(),
            Some(std::path::Path::new("/nonexistent/asn.mmdb"))
        );
        assert_eq!(c.geoip_city_db, None);
        let e = c.open_enrichment().unwrap_err();
        assert!(e.to_string().contains("/nonexistent/asn.mmdb"), "{e}");
        let none = config(&[]).unwrap().open_enrichment().unwrap();
        assert!(!none.has_asn() && !none.has_city());
    }

    #[test]
    fn account_names_are_off_unless_asked_for() {
        assert!(!config(&[]).unwrap().account_names_from_organizations);
        for (v, on) in [
            ("organizations", true),
            (" Organizations ", true),
            ("off", false),
        ] {
            let c = config(&[("ACCOUNT_NAMES", v)]).unwrap();
            assert_eq!(c.account_names_from_organizations, on, "{v}");
        }
        let e = config(&[("ACCOUNT_NAMES", "ldap")]).unwrap_err();
        assert!(e.to_string().contains("ACCOUNT_NAMES=\"ldap\""), "{e}");
        let c = config(&[("ACCOUNT_NAMES_JSON", r#"{"123456789012": "prod"}"#)]).unwrap();
        assert_eq!(
            c.account_names_json.as_deref(),
            Some(r#"{"123456789012": "prod"}"#)
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
