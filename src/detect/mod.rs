//! Detection: one record's path from raw bytes to alerts ([`Detector::detect_record`]), one
//! object's path from bytes to a report ([`process_object`]), and the per-object publishing
//! policy ([`FloodControl`]).
use crate::accounts::AccountNames;
use crate::alert::{mark_self_target, Alert, Date, SelfNames};
use crate::config::Config;
use crate::ecs::{CloudTrailView, Enrichment, ViewOptions};
use crate::engine::Document;
use crate::reader::{ReadError, RecordRef};
use crate::rules::{CompiledRule, RuleSet};
use crate::sink::{AlertSink, SinkError};
use crate::state::{
    event_time_ms, MemoryStore, StateError, StateStore, Stateful, UserSuppressions,
};

mod exceptions;
mod learn;
mod process;

pub use crate::alert::{FloodControl, Policy, DEFAULT_PER_RULE_LIMIT};
pub use exceptions::{Exception, ExceptionError, Exceptions};
pub use learn::{learn_object, LearnReport, LearnWindow, Learned};
pub use process::{process_object, scan_collect, scan_collect_pipelined, Collected, ObjectReport};

/// What detection made of one record.
#[derive(Debug)]
pub enum Verdict {
    /// No rule could match: decided on the raw bytes, not parsed.
    Prefiltered,
    /// Parsed and evaluated.
    Evaluated(Evaluated),
    /// The record could not be parsed: evaluated on its readable head fields instead
    /// ([`RecordRef::head_record`]), so damage after the head cannot hide it; the parse error.
    Partial(Evaluated, ReadError),
}

/// The counts of an evaluated record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Evaluated {
    /// Alerts sent to the sink.
    pub alerts: usize,
    /// Matches dropped by an exception.
    pub excepted: usize,
}

/// Why a record's detection stopped.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The record could not be read (see [`ReadError::is_fatal`]).
    #[error(transparent)]
    Record(ReadError),
    /// The sink refused an alert (e.g. stdout closed): the object's scan stops.
    #[error(transparent)]
    Sink(SinkError),
    /// The state store failed: the object must be retried.
    #[error(transparent)]
    State(StateError),
}

/// The exceptions compiled into the binary (`exceptions.toml`).
pub const EMBEDDED_EXCEPTIONS: &str = include_str!("../../exceptions.toml");

/// Why the detector could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error("{origin}: {source}")]
    Exceptions {
        origin: String,
        source: Box<ExceptionError>,
    },
    #[error(transparent)]
    GeoIp(crate::ecs::GeoIpError),
    #[error(transparent)]
    AccountNames(#[from] crate::accounts::AccountNamesError),
    #[error("exceptions: [[suppress]]: {0}")]
    Suppress(String),
    #[error("cannot read EXCEPTIONS_FILE {path}: {source}")]
    ExceptionsFile {
        path: String,
        source: std::io::Error,
    },
}

/// Rules and exceptions, evaluated together on each event.
#[derive(Clone)]
pub struct Detector {
    pub rules: RuleSet,
    /// Compiled-in exceptions followed by those from the environment.
    pub exceptions: Exceptions,
    /// The date exceptions' expiry is checked against (UTC, at construction).
    pub today: Option<Date>,
    /// trailwatch's own function, topic, trail and bucket: alerts on calls that target them
    /// say so.
    pub self_names: SelfNames,
    /// `[[suppress]]` entries of the exceptions files (kept to rebuild the state on another store).
    pub suppressions: UserSuppressions,
    /// GeoIP databases for `source.as.*` / `source.geo.*` (opened once, shared).
    pub enrichment: std::sync::Arc<Enrichment>,
    /// Names given to alerts' accounts (`cloud.account.name`); shared with the
    /// [`crate::accounts::AccountDirectory`] that refreshes them.
    pub account_names: AccountNames,
    /// The state of the stateful rules (new_terms, threshold) and of alert suppression: in
    /// memory for this process unless a persistent store is given ([`Detector::with_state`]).
    pub state: std::sync::Arc<Stateful<Box<dyn StateStore>>>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("rules", &self.rules.rules().len())
            .field("exceptions", &self.exceptions)
            .finish_non_exhaustive()
    }
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new(RuleSet::default())
    }
}

/// Whether the ECS view never has a value at `path` with this enrichment: the fields of a
/// database that is not configured, the parsed user agent in a build without uap-core's regexes.
fn absent_without(enrichment: &Enrichment, path: &str) -> bool {
    (path.starts_with("source.as.") && !enrichment.has_asn())
        || (path.starts_with("source.geo.") && !enrichment.has_city())
        || (path.starts_with("user_agent.")
            && path != "user_agent.original"
            && !crate::ecs::user_agent_available())
}

impl Detector {
    /// A detector with no exceptions.
    pub fn new(rules: RuleSet) -> Detector {
        Detector {
            rules,
            exceptions: Exceptions::default(),
            today: Some(Date::from_system_time(std::time::SystemTime::now())),
            self_names: SelfNames::default(),
            suppressions: UserSuppressions::default(),
            enrichment: std::sync::Arc::default(),
            account_names: AccountNames::default(),
            state: std::sync::Arc::new(Stateful::new(Box::new(MemoryStore::default()))),
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
        let suppressions = UserSuppressions::from_toml(&text)
            .map_err(|e| DetectorError::Suppress(e.to_string()))?;
        let state = Stateful::new(Box::new(MemoryStore::default()) as Box<dyn StateStore>)
            .with_suppressions(suppressions.clone());
        let enrichment = config.open_enrichment().map_err(DetectorError::GeoIp)?;
        let mut rules = rules;
        rules.assume_absent(&|path| absent_without(&enrichment, path));
        Ok(Detector {
            state: std::sync::Arc::new(state),
            suppressions,
            exceptions,
            self_names: SelfNames::from_config(config),
            account_names: AccountNames::from_config(config)?,
            enrichment: std::sync::Arc::new(enrichment),
            ..Detector::new(rules)
        })
    }

    /// The detector with its stateful rules' state kept in `store` (DynamoDB in Lambda, an
    /// embedded database for the CLI).
    pub fn with_state(mut self, store: Box<dyn StateStore>) -> Detector {
        self.state =
            std::sync::Arc::new(Stateful::new(store).with_suppressions(self.suppressions.clone()));
        self
    }

    /// Writes what the state keeps for the end of an object (call once per object).
    pub fn end_object(&self) -> Result<(), StateError> {
        self.state.flush()
    }

    /// The record's path through detection: candidate rules on its raw bytes (most records stop
    /// here, unparsed) → parse → ECS view → evaluate → exceptions → alerts, each handed to `sink`
    /// as it is built. `candidates` is scratch space reused across records.
    pub fn detect_record(
        &self,
        record: &RecordRef<'_>,
        candidates: &mut Vec<usize>,
        sink: &mut dyn AlertSink,
    ) -> Result<Verdict, DetectError> {
        let evaluated = self.on_record(record, candidates, |candidates, view, parsed| {
            self.detect_event(candidates, view, parsed, sink)
        })?;
        Ok(match evaluated {
            None => Verdict::Prefiltered,
            Some((Verdict::Evaluated(counts), Some(e))) => Verdict::Partial(counts, e),
            Some((verdict, _)) => verdict,
        })
    }

    /// The record path shared by detection and learning: candidate rules on the raw bytes
    /// (`None`: no rule can match, not parsed) → parse (a damaged record: its readable head, and
    /// the parse error) → ECS view → `evaluate`.
    fn on_record<T>(
        &self,
        record: &RecordRef<'_>,
        candidates: &mut Vec<usize>,
        evaluate: impl FnOnce(&[usize], &dyn Document, &serde_json::Value) -> Result<T, DetectError>,
    ) -> Result<Option<(T, Option<ReadError>)>, DetectError> {
        self.rules.candidates_for_record(record, candidates);
        if candidates.is_empty() {
            return Ok(None);
        }
        let (parsed, damage) = match record.parse() {
            Ok(parsed) => (parsed, None),
            Err(e) => (record.head_record(), Some(e)),
        };
        let view =
            CloudTrailView::with_enrichment(&parsed, ViewOptions::default(), &self.enrichment);
        Ok(Some((evaluate(candidates, &view, &parsed)?, damage)))
    }

    /// Evaluates the rules among `candidates` on one event (a CloudTrail record and its ECS view)
    /// and sends an alert per matching, not excepted rule.
    pub fn detect_event(
        &self,
        candidates: &[usize],
        event: &dyn Document,
        record: &serde_json::Value,
        sink: &mut dyn AlertSink,
    ) -> Result<Verdict, DetectError> {
        let mut verdict = Evaluated::default();
        for rule in self.rules.matches_candidates(candidates, event) {
            if self.is_excepted(rule, event) {
                verdict.excepted += 1;
                continue;
            }
            if self.state.applies_to(rule) {
                // Stateful: the state decides which alerts (if any) this match raises.
                let Some(time) = event_time_ms(event) else {
                    tracing::warn!(rule_id = %rule.rule.rule_id, "stateful rule: event without a readable eventTime, not evaluated");
                    continue;
                };
                let event_id = record
                    .get("eventID")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let mut hits = Vec::new();
                self.state
                    .evaluate(rule, event, time, event_id, &mut |hit| hits.push(hit))
                    .map_err(DetectError::State)?;
                for hit in hits {
                    let mut alert = Alert::new(&rule.rule, event, record);
                    hit.apply_to(&mut alert);
                    mark_self_target(&mut alert, &self.self_names);
                    self.account_names.apply(&mut alert);
                    verdict.alerts += 1;
                    sink.send(alert).map_err(DetectError::Sink)?;
                }
                continue;
            }
            verdict.alerts += 1;
            let mut alert = Alert::new(&rule.rule, event, record);
            mark_self_target(&mut alert, &self.self_names);
            self.account_names.apply(&mut alert);
            sink.send(alert).map_err(DetectError::Sink)?;
        }
        Ok(Verdict::Evaluated(verdict))
    }

    /// The alerts for one CloudTrail record, every rule considered (tests, examples, `match`).
    pub fn detect_value(
        &self,
        record: &serde_json::Value,
        sink: &mut dyn AlertSink,
    ) -> Result<Verdict, DetectError> {
        let view =
            CloudTrailView::with_enrichment(record, ViewOptions::default(), &self.enrichment);
        let mut candidates = Vec::new();
        self.rules.document_candidates(&view, &mut candidates);
        self.detect_event(&candidates, &view, record, sink)
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
