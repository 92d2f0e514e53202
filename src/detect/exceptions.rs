//! Exceptions as data: known automation and accepted activity, written as KQL on the event
//! (like Elastic's rule exceptions), each with a reason and an optional expiry date.
//!
//! ```toml
//! [[exception]]
//! rule_id = "119c8877-8613-416d-a98a-96b6664ee73a"   # or "*" for every rule
//! query = 'user.name:"backup-automation" and source.address:"rds.amazonaws.com"'
//! reason = "nightly export to the analytics account (CHG-1234)"
//! expires = 2026-06-30                               # or "2026-06-30"; omit for no expiry
//! ```
use serde::Deserialize;

use crate::alert::{Date, DateError};
use crate::engine::{matches, Document, Expr};

/// One exception. It applies to alerts of `rule_id` (or every rule for `"*"`) whose event
/// matches `query`, up to and including its `expires` date.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub rule_id: String,
    pub query: String,
    pub reason: String,
    pub expires: Option<Date>,
    compiled: Expr,
}

impl Exception {
    /// True once `today` is after the expiry date.
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today > e)
    }

    fn applies_to(&self, rule_id: &str) -> bool {
        self.rule_id == "*" || self.rule_id == rule_id
    }
}

/// Why an exceptions file was rejected; every variant names the offending entry (0-based).
#[derive(Debug, thiserror::Error)]
pub enum ExceptionError {
    /// Not TOML, or an `[[exception]]` table lacks `rule_id`, `query` or `reason`.
    #[error("invalid exceptions file: {0}")]
    Toml(Box<toml::de::Error>),
    /// `query = 'user.name:('` — the KQL does not parse.
    #[error("exception {index} ({rule_id}): invalid query {query:?}: {source}")]
    Query {
        index: usize,
        rule_id: String,
        query: String,
        source: Box<crate::query::QueryError>,
    },
    /// `expires = "2025-02-30"`, or a date-time instead of a date.
    #[error("exception {index} ({rule_id}): {source}")]
    Date {
        index: usize,
        rule_id: String,
        source: DateError,
    },
    /// `reason = ""` or `rule_id = ""`: every exception says what it is for and why.
    #[error("exception {index}: {field} must not be empty")]
    Empty { index: usize, field: &'static str },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    rule_id: String,
    query: String,
    reason: String,
    #[serde(default)]
    expires: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<RawException>,
    /// `[[suppress]]` entries share the file; `crate::state::UserSuppressions` reads them.
    #[serde(default)]
    #[allow(dead_code)]
    suppress: Vec<toml::Table>,
}

/// A loaded, compiled list of exceptions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exceptions {
    list: Vec<Exception>,
}

impl Exceptions {
    /// Loads `[[exception]]` tables; queries are compiled with [`crate::query::kql::parse`] once here.
    pub fn from_toml(text: &str) -> Result<Exceptions, ExceptionError> {
        // Errors are boxed to keep `Result<_, ExceptionError>` small (clippy::result_large_err).
        let raw: RawFile = toml::from_str(text).map_err(|e| ExceptionError::Toml(Box::new(e)))?;
        let mut list = Vec::with_capacity(raw.exception.len());
        for (index, e) in raw.exception.into_iter().enumerate() {
            for (field, value) in [
                ("rule_id", &e.rule_id),
                ("query", &e.query),
                ("reason", &e.reason),
            ] {
                if value.trim().is_empty() {
                    return Err(ExceptionError::Empty { index, field });
                }
            }
            let expires = match &e.expires {
                None => None,
                Some(v) => Some(parse_expiry(v).map_err(|source| ExceptionError::Date {
                    index,
                    rule_id: e.rule_id.clone(),
                    source,
                })?),
            };
            let compiled =
                crate::query::kql::parse(&e.query).map_err(|source| ExceptionError::Query {
                    index,
                    rule_id: e.rule_id.clone(),
                    query: e.query.clone(),
                    source: Box::new(source),
                })?;
            list.push(Exception {
                rule_id: e.rule_id,
                query: e.query,
                reason: e.reason,
                expires,
                compiled,
            });
        }
        Ok(Exceptions { list })
    }

    /// The first unexpired exception for `rule_id` whose query matches the event.
    pub fn is_excepted(
        &self,
        rule_id: &str,
        event: &dyn Document,
        today: Date,
    ) -> Option<&Exception> {
        self.list
            .iter()
            .find(|e| e.applies_to(rule_id) && !e.is_expired(today) && matches(&e.compiled, event))
    }

    /// Exceptions past their expiry date: they no longer apply and should be reported (renewed
    /// or removed).
    pub fn expired(&self, today: Date) -> Vec<&Exception> {
        self.list.iter().filter(|e| e.is_expired(today)).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Exception> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// `expires = 2026-06-30` (a TOML local date) or `expires = "2026-06-30"`.
fn parse_expiry(v: &toml::Value) -> Result<Date, DateError> {
    match v {
        toml::Value::String(s) => Date::parse(s),
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            Date::parse(&dt.to_string())
        }
        other => Err(DateError(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::JsonDocument;
    use serde_json::json;

    const FILE: &str = r#"
[[exception]]
rule_id = "rule-a"
query = 'user.name:"backup-bot" and source.address:"rds.amazonaws.com"'
reason = "nightly export"
expires = 2026-06-30

[[exception]]
rule_id = "*"
query = "cloud.account.id:111122223333"
reason = "sandbox account"
expires = "2025-01-31"

[[exception]]
rule_id = "rule-b"
query = "user.name:ci-*"
reason = "CI pipelines"
"#;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap_or(Date {
            year: 0,
            month: 1,
            day: 1,
        })
    }

    fn load() -> Exceptions {
        Exceptions::from_toml(FILE).unwrap_or_default()
    }

    #[test]
    fn loads_every_entry_with_its_expiry() {
        let e = load();
        assert_eq!(e.len(), 3);
        let expiries: Vec<Option<String>> =
            e.iter().map(|x| x.expires.map(|d| d.to_string())).collect();
        assert_eq!(
            expiries,
            vec![Some("2026-06-30".into()), Some("2025-01-31".into()), None]
        );
    }

    #[test]
    fn matching_event_of_the_right_rule_is_excepted() {
        let e = load();
        let ev =
            json!({"user": {"name": "backup-bot"}, "source": {"address": "rds.amazonaws.com"}});
        let hit = e.is_excepted("rule-a", &JsonDocument(&ev), day("2026-06-30"));
        assert_eq!(hit.map(|x| x.reason.as_str()), Some("nightly export"));
        // Another rule, or another actor, is not.
        assert!(e
            .is_excepted("rule-b", &JsonDocument(&ev), day("2026-01-01"))
            .is_none());
        let other = json!({"user": {"name": "alice"}, "source": {"address": "rds.amazonaws.com"}});
        assert!(e
            .is_excepted("rule-a", &JsonDocument(&other), day("2026-01-01"))
            .is_none());
    }

    #[test]
    fn wildcard_rule_id_applies_to_every_rule() {
        let e = load();
        let ev = json!({"cloud": {"account": {"id": "111122223333"}}});
        for rule in ["rule-a", "rule-b", "anything"] {
            let hit = e.is_excepted(rule, &JsonDocument(&ev), day("2025-01-31"));
            assert_eq!(
                hit.map(|x| x.reason.as_str()),
                Some("sandbox account"),
                "{rule}"
            );
        }
    }

    #[test]
    fn expired_exceptions_stop_applying_and_are_reported() {
        let e = load();
        let ev =
            json!({"user": {"name": "backup-bot"}, "source": {"address": "rds.amazonaws.com"}});
        assert!(e
            .is_excepted("rule-a", &JsonDocument(&ev), day("2026-07-01"))
            .is_none());
        let reasons = |d: &str| -> Vec<&str> {
            e.expired(day(d))
                .iter()
                .map(|x| x.reason.as_str())
                .collect()
        };
        assert_eq!(reasons("2025-01-31"), Vec::<&str>::new());
        assert_eq!(reasons("2025-02-01"), vec!["sandbox account"]);
        assert_eq!(
            reasons("2026-07-01"),
            vec!["nightly export", "sandbox account"]
        );
    }

    #[test]
    fn bad_query_is_reported_with_its_entry() {
        let text = "[[exception]]\nrule_id = \"r\"\nquery = \"user.name:(\"\nreason = \"x\"\n";
        match Exceptions::from_toml(text) {
            Err(ExceptionError::Query {
                index: 0, rule_id, ..
            }) => assert_eq!(rule_id, "r"),
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn impossible_date_is_rejected() {
        let text = "[[exception]]\nrule_id = \"r\"\nquery = \"a:b\"\nreason = \"x\"\nexpires = \"2025-02-30\"\n";
        assert!(matches!(
            Exceptions::from_toml(text),
            Err(ExceptionError::Date { index: 0, .. })
        ));
    }

    #[test]
    fn expiry_accepts_toml_dates_and_strings_only() {
        let parse = |s: &str| -> Result<Date, DateError> {
            let t: toml::Table =
                toml::from_str(&format!("v = {s}")).map_err(|e| DateError(e.to_string()))?;
            parse_expiry(&t["v"])
        };
        assert_eq!(
            parse("2026-06-30").map(|d| d.to_string()),
            Ok("2026-06-30".to_string())
        );
        assert_eq!(
            parse("\"2026-06-30\"").map(|d| d.to_string()),
            Ok("2026-06-30".to_string())
        );
        assert!(parse("2026-06-30T10:00:00Z").is_err());
        assert!(parse("20260630").is_err());
    }

    #[test]
    fn empty_reason_is_rejected_before_the_query_is_compiled() {
        let text = "[[exception]]\nrule_id = \"*\"\nquery = \"a:b\"\nreason = \"\"\n";
        assert!(matches!(
            Exceptions::from_toml(text),
            Err(ExceptionError::Empty {
                index: 0,
                field: "reason"
            })
        ));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = "[[exception]]\nrule_id = \"*\"\nquery = \"a:b\"\nreason = \"r\"\nexpiry = \"2026-01-01\"\n";
        assert!(matches!(
            Exceptions::from_toml(text),
            Err(ExceptionError::Toml(_))
        ));
    }
}
