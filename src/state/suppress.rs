//! User suppression as data, beside exceptions (same file, `exceptions.toml`):
//!
//! ```toml
//! [[suppress]]
//! rule_id = "93075852-b0f5-4b8b-89c3-a226efae5726"
//! group_by = ["aws.cloudtrail.user_identity.invoked_by"]
//! duration = "1h"                          # s, m, h, d
//! missing_fields_strategy = "suppress"     # or "doNotSuppress"; default "suppress"
//! ```
//!
//! After an alert of the rule for a group (the values of `group_by`), its further alerts for
//! that group within `duration` are counted, not raised — through the same code as a rule's
//! own `[rule.alert_suppression]`, which a `[[suppress]]` entry replaces.
use serde::Deserialize;

use crate::rules::stateful::{parse_duration, MissingFields, Suppression};

/// One `[[suppress]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSuppression {
    pub rule_id: String,
    pub suppression: Suppression,
}

/// The `[[suppress]]` entries of an exceptions file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSuppressions {
    list: Vec<UserSuppression>,
}

/// Why a `[[suppress]]` entry was rejected (index is 0-based).
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    #[error("invalid suppress entries: {0}")]
    Toml(Box<toml::de::Error>),
    #[error("suppress {index} ({rule_id}): {message}")]
    Entry {
        index: usize,
        rule_id: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppress {
    rule_id: String,
    #[serde(default)]
    group_by: Vec<String>,
    duration: String,
    #[serde(default)]
    missing_fields_strategy: Option<String>,
}

#[derive(Deserialize)]
struct RawFile {
    // `[[exception]]` tables are the exceptions loader's; only `[[suppress]]` is read here.
    #[serde(default)]
    suppress: Vec<RawSuppress>,
}

impl UserSuppressions {
    /// Reads the `[[suppress]]` tables of an exceptions file (other tables are ignored).
    pub fn from_toml(text: &str) -> Result<UserSuppressions, SuppressError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| SuppressError::Toml(Box::new(e)))?;
        let mut list = Vec::with_capacity(raw.suppress.len());
        for (index, s) in raw.suppress.into_iter().enumerate() {
            let err = |message: String| SuppressError::Entry {
                index,
                rule_id: s.rule_id.clone(),
                message,
            };
            if s.rule_id.trim().is_empty() {
                return Err(err("rule_id must not be empty".into()));
            }
            let duration_ms = parse_duration(&s.duration).ok_or_else(|| {
                err(format!(
                    "duration {:?}: expected e.g. \"30m\", \"1h\", \"2d\"",
                    s.duration
                ))
            })?;
            let missing = match s.missing_fields_strategy.as_deref() {
                None | Some("suppress") => MissingFields::Suppress,
                Some("doNotSuppress") => MissingFields::DoNotSuppress,
                Some(other) => {
                    return Err(err(format!(
                    "missing_fields_strategy {other:?}: expected \"suppress\" or \"doNotSuppress\""
                )))
                }
            };
            list.push(UserSuppression {
                rule_id: s.rule_id.clone(),
                suppression: Suppression {
                    group_by: s.group_by,
                    duration_ms,
                    missing,
                },
            });
        }
        Ok(UserSuppressions { list })
    }

    /// Adds the entries of `other` (a later file's entry for the same rule wins).
    pub fn extend(&mut self, other: UserSuppressions) {
        for s in other.list {
            self.list.retain(|x| x.rule_id != s.rule_id);
            self.list.push(s);
        }
    }

    /// The suppression configured for `rule_id`.
    pub fn get(&self, rule_id: &str) -> Option<&Suppression> {
        self.list
            .iter()
            .find(|s| s.rule_id == rule_id)
            .map(|s| &s.suppression)
    }

    pub fn iter(&self) -> impl Iterator<Item = &UserSuppression> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_beside_exceptions_and_rejects_bad_entries() {
        let text = r#"
[[exception]]
rule_id = "x"
query = "user.name:a"
reason = "r"

[[suppress]]
rule_id = "r1"
group_by = ["user.name"]
duration = "1h"
"#;
        let s = UserSuppressions::from_toml(text).unwrap();
        assert_eq!(s.len(), 1);
        let r1 = s.get("r1").unwrap();
        assert_eq!(r1.duration_ms, 3_600_000);
        assert_eq!(r1.missing, MissingFields::Suppress);
        assert!(s.get("x").is_none());
        // Exceptions still load from the same file.
        assert_eq!(crate::detect::Exceptions::from_toml(text).unwrap().len(), 1);
        for bad in [
            "[[suppress]]\nrule_id = \"r\"\nduration = \"1y\"",
            "[[suppress]]\nrule_id = \"\"\nduration = \"1h\"",
            "[[suppress]]\nrule_id = \"r\"\nduration = \"1h\"\nmissing_fields_strategy = \"x\"",
            "[[suppress]]\nrule_id = \"r\"\nduration = \"1h\"\ngroupby = []",
        ] {
            assert!(UserSuppressions::from_toml(bad).is_err(), "{bad}");
        }
    }
}
