//! The detector: the compiled rule set plus the exceptions that drop known activity.
use crate::alert::{Alert, Date, ExceptionError, Exceptions};
use crate::config::Config;
use crate::engine::Document;
use crate::rules::{CompiledRule, RuleSet};

/// The exceptions compiled into the binary (`exceptions.toml`).
pub const EMBEDDED_EXCEPTIONS: &str = include_str!("../exceptions.toml");

/// Why the detector could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error("{origin}: {source}")]
    Exceptions {
        origin: String,
        source: Box<ExceptionError>,
    },
    #[error("cannot read EXCEPTIONS_FILE {path}: {source}")]
    ExceptionsFile {
        path: String,
        source: std::io::Error,
    },
}

/// Rules and exceptions, evaluated together on each event.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    pub rules: RuleSet,
    /// Compiled-in exceptions followed by those from the environment.
    pub exceptions: Exceptions,
    /// The date exceptions' expiry is checked against (UTC, at construction).
    pub today: Option<Date>,
}

impl Detector {
    /// A detector with no exceptions.
    pub fn new(rules: RuleSet) -> Detector {
        Detector {
            rules,
            exceptions: Exceptions::default(),
            today: Some(Date::from_system_time(std::time::SystemTime::now())),
        }
    }

    /// The compiled-in rules and exceptions, plus `EXCEPTIONS_FILE` / `EXCEPTIONS_TOML`.
    pub fn from_config(rules: RuleSet, config: &Config) -> Result<Detector, DetectorError> {
        let mut text = EMBEDDED_EXCEPTIONS.to_owned();
        let parse = |origin: &str, t: &str| {
            Exceptions::from_toml(t).map_err(|source| DetectorError::Exceptions {
                origin: origin.to_owned(),
                source: Box::new(source),
            })
        };
        parse("exceptions.toml", EMBEDDED_EXCEPTIONS)?;
        if let Some(path) = &config.exceptions_file {
            let extra =
                std::fs::read_to_string(path).map_err(|source| DetectorError::ExceptionsFile {
                    path: path.clone(),
                    source,
                })?;
            parse(&format!("EXCEPTIONS_FILE {path}"), &extra)?;
            text.push('\n');
            text.push_str(&extra);
        }
        if let Some(inline) = &config.exceptions_toml {
            parse("EXCEPTIONS_TOML", inline)?;
            text.push('\n');
            text.push_str(inline);
        }
        let exceptions = parse("exceptions", &text)?;
        Ok(Detector {
            exceptions,
            ..Detector::new(rules)
        })
    }

    /// The alerts for one event (a CloudTrail record and its ECS view), and how many matches an
    /// exception dropped.
    pub fn detect(
        &self,
        event: &dyn Document,
        record: &serde_json::Value,
        out: &mut Vec<Alert>,
    ) -> usize {
        self.detect_matches(self.rules.matches_document(event), event, record, out)
    }

    /// [`Detector::detect`] evaluating only `candidates` (from [`RuleSet::candidates`] on the
    /// record's raw bytes).
    pub fn detect_candidates(
        &self,
        candidates: &[usize],
        event: &dyn Document,
        record: &serde_json::Value,
        out: &mut Vec<Alert>,
    ) -> usize {
        let matched = self.rules.matches_candidates(candidates, event);
        self.detect_matches(matched, event, record, out)
    }

    fn detect_matches(
        &self,
        matched: Vec<&CompiledRule>,
        event: &dyn Document,
        record: &serde_json::Value,
        out: &mut Vec<Alert>,
    ) -> usize {
        let mut excepted = 0;
        for rule in matched {
            if self.is_excepted(rule, event) {
                excepted += 1;
                continue;
            }
            out.push(Alert::new(&rule.rule, event, record));
        }
        excepted
    }

    fn is_excepted(&self, rule: &CompiledRule, event: &dyn Document) -> bool {
        let (Some(today), false) = (self.today, self.exceptions.is_empty()) else {
            return false;
        };
        match self
            .exceptions
            .is_excepted(&rule.rule.rule_id, event, today)
        {
            Some(e) => {
                tracing::debug!(rule_id = %rule.rule.rule_id, reason = %e.reason, "alert excepted");
                true
            }
            None => false,
        }
    }
}

/// True for building-block alerts (evaluated and shown, not published by default).
pub fn is_building_block(alert: &Alert) -> bool {
    alert
        .get("kibana.alert.rule.building_block_type")
        .is_some_and(|v| !v.is_null())
}

/// The alerts of one object that go to the sink: building blocks only when configured, then
/// flood control per rule (`max_alerts_per_rule`, 0 = no limit).
pub fn publishable(alerts: &[Alert], config: &Config) -> Vec<Alert> {
    let selected: Vec<Alert> = alerts
        .iter()
        .filter(|a| config.publish_building_blocks || !is_building_block(a))
        .cloned()
        .collect();
    if config.max_alerts_per_rule == 0 {
        selected
    } else {
        crate::alert::flood_control(selected, config.max_alerts_per_rule)
    }
}
