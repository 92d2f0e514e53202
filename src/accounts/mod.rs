//! Account names on alerts (`cloud.account.name`): responders ask "which account is
//! 123456789012?", and an organisation trail mixes dozens of them.
//!
//! Names come from a static mapping (`ACCOUNT_NAMES_JSON` / `ACCOUNT_NAMES_FILE`: a JSON object of
//! account ids to names, for accounts outside an organisation) and, with
//! `ACCOUNT_NAMES=organizations`, from Organizations `ListAccounts` ([`AccountDirectory`], cached
//! per container and refreshed hourly). A static name wins over a listed one. Both are off by
//! default: without a name an alert carries the account id alone, as before.
//!
//! ```
//! use trailwatch::accounts::AccountNames;
//!
//! let names = AccountNames::from_json("ACCOUNT_NAMES_JSON", r#"{"123456789012": "prod-data"}"#)?;
//! assert_eq!(names.name("123456789012").as_deref(), Some("prod-data"));
//! assert_eq!(names.name("111122223333"), None);
//! # Ok::<(), trailwatch::accounts::AccountNamesError>(())
//! ```
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use serde_json::Value as Json;

use crate::alert::{key, Alert};
use crate::config::Config;

mod directory;
#[cfg(feature = "aws")]
mod organizations;

pub use directory::{AccountDirectory, AccountLister, ListFuture};
#[cfg(feature = "aws")]
pub use organizations::OrganizationsLister;

/// Why a static mapping cannot be used (a configuration error: the function does not start).
#[derive(Debug, thiserror::Error)]
pub enum AccountNamesError {
    #[error("cannot read ACCOUNT_NAMES_FILE {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Not a JSON object of 12-digit account ids to non-empty strings, e.g. `["prod"]`.
    #[error("{origin}: expected a JSON object of 12-digit account ids to names: {reason}")]
    Invalid { origin: String, reason: String },
}

type Map = HashMap<String, String>;

/// Account id → name, shared (cheap clones) by the detector, which names each alert as it is
/// built, and the [`AccountDirectory`], which replaces the listed names when it refreshes.
#[derive(Debug, Clone, Default)]
pub struct AccountNames {
    fixed: Arc<Map>,
    listed: Arc<RwLock<Arc<Map>>>,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl AccountNames {
    /// A static mapping from JSON text (`{"123456789012": "prod-data", ...}`); `origin` names
    /// where it came from in errors.
    pub fn from_json(origin: &str, text: &str) -> Result<AccountNames, AccountNamesError> {
        let invalid = |reason: String| AccountNamesError::Invalid {
            origin: origin.to_owned(),
            reason,
        };
        let json: Json = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let Json::Object(object) = json else {
            return Err(invalid("not an object".into()));
        };
        let mut fixed = Map::new();
        for (id, name) in object {
            let id = id.trim().to_owned();
            if !is_account_id(&id) {
                return Err(invalid(format!("{id:?} is not a 12-digit account id")));
            }
            match name.as_str().map(str::trim) {
                Some(n) if !n.is_empty() => fixed.insert(id, n.to_owned()),
                _ => {
                    return Err(invalid(format!(
                        "the name of {id} is not a non-empty string"
                    )))
                }
            };
        }
        Ok(AccountNames {
            fixed: Arc::new(fixed),
            ..AccountNames::default()
        })
    }

    /// The static mapping of `ACCOUNT_NAMES_FILE` and `ACCOUNT_NAMES_JSON` (the inline one wins
    /// for an account named in both); empty when neither is set.
    pub fn from_config(config: &Config) -> Result<AccountNames, AccountNamesError> {
        let mut fixed = Map::new();
        if let Some(path) = &config.account_names_file {
            let text = std::fs::read_to_string(path).map_err(|source| AccountNamesError::Read {
                path: path.clone(),
                source,
            })?;
            let file = AccountNames::from_json(&format!("ACCOUNT_NAMES_FILE {path}"), &text)?;
            fixed.extend(file.fixed.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(text) = &config.account_names_json {
            let inline = AccountNames::from_json("ACCOUNT_NAMES_JSON", text)?;
            fixed.extend(inline.fixed.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(AccountNames {
            fixed: Arc::new(fixed),
            ..AccountNames::default()
        })
    }

    /// The name of `account_id`: the static mapping's, else the last listing's.
    pub fn name(&self, account_id: &str) -> Option<String> {
        if let Some(n) = self.fixed.get(account_id) {
            return Some(n.clone());
        }
        let listed = self.listed.read().unwrap_or_else(PoisonError::into_inner);
        listed.get(account_id).cloned()
    }

    /// Replaces the listed names (an [`AccountDirectory`] refresh).
    pub fn set_listed(&self, names: Map) {
        let mut listed = self.listed.write().unwrap_or_else(PoisonError::into_inner);
        *listed = Arc::new(names);
    }

    /// How many accounts are named (static and listed, an account in both counted twice).
    pub fn len(&self) -> usize {
        let listed = self.listed.read().unwrap_or_else(PoisonError::into_inner);
        self.fixed.len() + listed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets `cloud.account.name` on `alert` (right after `cloud.account.id`) when its account
    /// has a name; an alert without one is left as it is.
    pub fn apply(&self, alert: &mut Alert) {
        if self.is_empty() {
            return;
        }
        let Some(name) = alert.get_str(key::ACCOUNT).and_then(|id| self.name(id)) else {
            return;
        };
        let fields = alert.fields_mut();
        fields.retain(|(k, _)| k != key::ACCOUNT_NAME);
        let at = fields
            .iter()
            .position(|(k, _)| k == key::ACCOUNT)
            .map_or(fields.len(), |i| i + 1);
        fields.insert(at, (key::ACCOUNT_NAME.to_owned(), Json::String(name)));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn alert(account: &str) -> Alert {
        Alert::from_fields(vec![
            ("event.action".into(), "StartExportTask".into()),
            ("cloud.account.id".into(), account.into()),
            ("cloud.region".into(), "eu-west-1".into()),
        ])
    }

    #[test]
    fn names_an_alert_after_its_account_id() {
        let names = AccountNames::from_json("t", r#"{"123456789012": " prod-data "}"#).unwrap();
        let mut a = alert("123456789012");
        names.apply(&mut a);
        let keys: Vec<&str> = a.fields().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "event.action",
                "cloud.account.id",
                "cloud.account.name",
                "cloud.region"
            ]
        );
        assert_eq!(a.get_str("cloud.account.name"), Some("prod-data"));
        let mut other = alert("111122223333");
        names.apply(&mut other);
        assert_eq!(other.get("cloud.account.name"), None);
    }

    #[test]
    fn static_names_win_over_listed_ones() {
        let names = AccountNames::from_json("t", r#"{"123456789012": "static"}"#).unwrap();
        names.set_listed(HashMap::from([
            ("123456789012".to_owned(), "listed".to_owned()),
            ("111122223333".to_owned(), "sandbox".to_owned()),
        ]));
        assert_eq!(names.name("123456789012").as_deref(), Some("static"));
        assert_eq!(names.name("111122223333").as_deref(), Some("sandbox"));
        // A clone shares the listed names (the detector's copy sees a refresh).
        let copy = names.clone();
        names.set_listed(HashMap::new());
        assert_eq!(copy.name("111122223333"), None);
    }

    #[test]
    fn the_inline_mapping_wins_over_the_file_and_a_missing_file_is_an_error() {
        let path = std::env::temp_dir().join(format!("tw-names-{}.json", std::process::id()));
        std::fs::write(
            &path,
            r#"{"123456789012": "from-file", "111122223333": "dev"}"#,
        )
        .unwrap();
        let config = Config {
            account_names_file: Some(path.display().to_string()),
            account_names_json: Some(r#"{"123456789012": "inline"}"#.into()),
            ..Config::default()
        };
        let names = AccountNames::from_config(&config).unwrap();
        assert_eq!(names.name("123456789012").as_deref(), Some("inline"));
        assert_eq!(names.name("111122223333").as_deref(), Some("dev"));
        std::fs::remove_file(&path).unwrap();
        let err = AccountNames::from_config(&config).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read ACCOUNT_NAMES_FILE"),
            "{err}"
        );
    }

    #[test]
    fn rejects_what_is_not_an_id_to_name_object() {
        for bad in [
            r#"["prod"]"#,
            r#"{"12345": "short id"}"#,
            r#"{"123456789012": ""}"#,
            r#"{"123456789012": 7}"#,
            "not json",
        ] {
            let err = AccountNames::from_json("ACCOUNT_NAMES_JSON", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("ACCOUNT_NAMES_JSON: expected"),
                "{bad}: {err}"
            );
        }
    }
}
