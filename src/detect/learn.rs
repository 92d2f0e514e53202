//! Learning from history (`trailwatch state learn`): records go the detection path of
//! [`Detector::detect_record`] (candidates → parse → ECS view → rules → exceptions), but a
//! stateful rule's match fills the state ([`crate::state::Stateful::learn`]) instead of raising
//! an alert. A fresh deployment that learned the last days does not flood its first days with
//! first-seen alerts.
use std::io::Read;
use std::time::Instant;

use super::{DetectError, Detector};
use crate::engine::Document;
use crate::reader::{self, ReadError};
use crate::state::{event_time_ms, StateError};

/// The span of event times learned: `from_ms <= eventTime <= until_ms` (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearnWindow {
    pub from_ms: i64,
    pub until_ms: i64,
}

impl LearnWindow {
    /// The `span_ms` before `until_ms`.
    pub fn before(until_ms: i64, span_ms: i64) -> LearnWindow {
        LearnWindow {
            from_ms: until_ms.saturating_sub(span_ms),
            until_ms,
        }
    }

    pub fn contains(&self, t: i64) -> bool {
        (self.from_ms..=self.until_ms).contains(&t)
    }
}

/// What learning made of one record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    /// Matches of stateful (new_terms, threshold) rules, not excepted, within the window.
    pub matches: usize,
    /// Alerts those matches would have raised live (terms first seen, thresholds reached).
    pub would_alert: usize,
    /// Stateful matches outside the window (or without a readable eventTime): not learned.
    pub outside: usize,
}

/// What learning from one object did.
#[derive(Debug)]
pub struct LearnReport {
    pub object: String,
    /// Records read (including those no rule could match, not parsed).
    pub records: usize,
    /// Records with at least one stateful match learned.
    pub matching_events: usize,
    /// The sums over the object's records.
    pub learned: Learned,
    /// Records that could not be read (those with a readable head were learned from it).
    pub bad_records: usize,
    /// The object could not be read to its end (what came before was learned).
    pub error: Option<ReadError>,
    /// The state store failed: learning this object must be run again.
    pub state_error: Option<StateError>,
    /// A CloudTrail digest object: no events.
    pub digest: bool,
    /// Decompressed JSON bytes read.
    pub bytes: u64,
    pub millis: u128,
}

impl LearnReport {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.state_error.is_some()
    }
}

impl Detector {
    /// Learns from one record of history: the stateful rules' matches whose eventTime is in
    /// `window` fill the state; nothing is raised, no suppression window opens. The record's
    /// path is [`Detector::detect_record`]'s. Call [`Detector::end_object`] after each object.
    pub fn learn_record(
        &self,
        record: &reader::RecordRef<'_>,
        candidates: &mut Vec<usize>,
        window: LearnWindow,
    ) -> Result<(Learned, Option<ReadError>), DetectError> {
        let learned = self.on_record(record, candidates, |candidates, view, parsed| {
            self.learn_event(candidates, view, parsed, window)
        })?;
        Ok(learned.unwrap_or_default())
    }

    fn learn_event(
        &self,
        candidates: &[usize],
        event: &dyn Document,
        record: &serde_json::Value,
        window: LearnWindow,
    ) -> Result<Learned, DetectError> {
        let mut learned = Learned::default();
        let event_id = record
            .get("eventID")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        for rule in self.rules.matches_candidates(candidates, event) {
            let stateful = rule.stateful.as_ref().is_some_and(|s| s.kind.is_some());
            // Excepted matches never reach the state live: they are not learned either.
            if !stateful || self.is_excepted(rule, event) {
                continue;
            }
            match event_time_ms(event).filter(|t| window.contains(*t)) {
                Some(t) => {
                    learned.matches += 1;
                    learned.would_alert += self
                        .state
                        .learn(rule, event, t, event_id)
                        .map_err(DetectError::State)?;
                }
                None => learned.outside += 1,
            }
        }
        Ok(learned)
    }
}

/// Learns from one object's bytes (gzip or plain JSON), its records in order, then writes the
/// state's end-of-object updates.
pub fn learn_object(
    object: &str,
    input: impl Read,
    detector: &Detector,
    window: LearnWindow,
) -> LearnReport {
    let start = Instant::now();
    let mut report = LearnReport {
        object: object.to_owned(),
        records: 0,
        matching_events: 0,
        learned: Learned::default(),
        bad_records: 0,
        error: None,
        state_error: None,
        digest: false,
        bytes: 0,
        millis: 0,
    };
    let mut records = reader::open(input);
    let mut candidates = Vec::new();
    while let Some(item) = records.next_record() {
        let result = item
            .map_err(DetectError::Record)
            .and_then(|record| detector.learn_record(&record, &mut candidates, window));
        match result {
            Ok((learned, damage)) => {
                report.records += 1;
                if learned.matches > 0 {
                    report.matching_events += 1;
                }
                report.learned.matches += learned.matches;
                report.learned.would_alert += learned.would_alert;
                report.learned.outside += learned.outside;
                if let Some(e) = damage {
                    tracing::warn!(object, error = %e, "bad record: learned from its readable head");
                    report.bad_records += 1;
                }
            }
            Err(DetectError::State(e)) => {
                report.state_error = Some(e);
                break;
            }
            Err(DetectError::Record(ReadError::Digest)) => {
                report.digest = true;
                break;
            }
            Err(DetectError::Record(e)) if e.is_fatal() => {
                report.error = Some(e);
                break;
            }
            Err(DetectError::Record(e)) => {
                tracing::warn!(object, error = %e, "skipping bad record");
                report.bad_records += 1;
            }
            // Learning sends nothing to a sink.
            Err(DetectError::Sink(e)) => {
                tracing::error!(object, error = %e, "unexpected sink error while learning");
                break;
            }
        }
    }
    report.bytes = records.bytes_read();
    if report.state_error.is_none() {
        if let Err(e) = detector.end_object() {
            report.state_error = Some(e);
        }
    }
    report.millis = start.elapsed().as_millis();
    report
}
