//! The stateful evaluator: what a match of a `new_terms` or `threshold` rule, or of a rule with
//! alert suppression, raises (`elastic-semantics.md` §7), with the state in a [`StateStore`].
//!
//! Stored entries (key → `data` JSON, see [`Entry`]):
//! - `nt|<rule_id>|<term>`: a term of a new_terms rule; `last_seen_ms` is the latest matching
//!   event with that term, `data` names the event that made it new (`by`), so that reprocessing
//!   exactly that event raises the same alert again.
//! - `th|<rule_id>|<group>`: a threshold group's counted events within the look-back since its
//!   last alert (`ev`: time, event hash, cardinality value hash), and the last alerts (`closed`,
//!   then `past`, bounded: the closing event, the hashes of the events it counted, its fields)
//!   for replays (`threshold.rs`).
//! - `su|<rule_id>|<group>`: a suppression window (`start`, `end`, `count`), the alert that
//!   opened it (`by`), the hashes of the alerts it suppressed, and the earlier windows (`past`,
//!   bounded) for replays (`suppress_window.rs`).
//!
//! Every change is a compare-and-set on the entry's version, retried on conflict: concurrent
//! invocations agree on who saw a term first, and counts are not lost.
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Entry, StateError, StateStore, UserSuppressions};
use crate::engine::{Document, Value};
use crate::rules::stateful::{StatefulKind, Suppression};
use crate::rules::CompiledRule;

/// An alert the evaluator raises.
#[derive(Debug, Clone, PartialEq)]
pub struct StatefulHit {
    /// What to hash into `kibana.alert.uuid` (`uuid_v5(id_seed)`): the same for a replay.
    pub id_seed: String,
    /// Fields to set on the alert (`kibana.alert.new_terms`, `kibana.alert.threshold_result`,
    /// `kibana.alert.suppression.*`).
    pub fields: Vec<(String, Json)>,
}

impl StatefulHit {
    /// Sets the hit on an alert built for the matched event (`Alert::new`): its id
    /// (`kibana.alert.uuid` = `uuid_v5(id_seed)`) and its fields.
    pub fn apply_to(&self, alert: &mut crate::alert::Alert) {
        alert.set(
            crate::alert::key::UUID,
            crate::alert::uuid_v5(self.id_seed.as_bytes()),
        );
        for (name, value) in &self.fields {
            alert.set(name, value.clone());
        }
    }
}

/// Field names of the alert fields the evaluator sets.
pub mod field {
    pub const NEW_TERMS: &str = "kibana.alert.new_terms";
    pub const THRESHOLD_RESULT: &str = "kibana.alert.threshold_result";
    pub const SUPPRESSION_TERMS: &str = "kibana.alert.suppression.terms";
    pub const SUPPRESSION_COUNT: &str = "kibana.alert.suppression.docs_count";
    pub const SUPPRESSION_START: &str = "kibana.alert.suppression.start";
    pub const SUPPRESSION_END: &str = "kibana.alert.suppression.end";
}

/// How long the record of an alert is kept for replays at least (at-least-once retries of an
/// object come within hours; SQS keeps a message up to 14 days).
pub(super) const REPLAY_MS: i64 = 14 * 86_400_000;
/// Compare-and-set attempts before giving up on a hot key.
const ATTEMPTS: u32 = 16;
/// Counted events kept per threshold group (an entry must stay well under DynamoDB's 400 KB).
pub(super) const MAX_COUNTED: usize = 4_000;
/// Keys longer than this hash their values (DynamoDB's partition key limit is 2048 bytes).
const MAX_KEY: usize = 1_024;
/// Entries cached per warm container before the cache starts again.
const MAX_CACHE: usize = 200_000;

#[derive(Serialize, Deserialize)]
struct TermData {
    /// The event that made the term new.
    by: String,
    /// Made new by `state learn`: no alert was raised, so reprocessing `by` raises none either.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    learned: bool,
}

/// Evaluates stateful rules over a [`StateStore`], caching what it knows per warm container.
pub struct Stateful<S: StateStore> {
    store: S,
    user: UserSuppressions,
    /// Entries as last read or written by this process.
    cache: Mutex<HashMap<String, Entry>>,
    /// Last-seen times to write at [`Stateful::flush`]: key → (last seen, expires).
    pending: Mutex<HashMap<String, (i64, i64)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps are only ever replaced entry by entry: a poisoned lock holds consistent data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn hash64(text: &str) -> u64 {
    let digest = sha1_smol::Sha1::from(text).digest().bytes();
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(b)
}

pub(super) fn corrupt(key: &str, e: serde_json::Error) -> StateError {
    StateError::Corrupt {
        key: key.to_owned(),
        message: e.to_string(),
    }
}

/// The distinct values of `field` in `event` (scalars; null and objects are not values).
pub(super) fn values(event: &dyn Document, field: &str) -> Vec<Json> {
    let mut out: Vec<Json> = Vec::new();
    event.any_value(field, &mut |v| {
        let j = match v {
            Value::Str(s) => Json::String(s.to_owned()),
            Value::Number(n) => Json::Number(n.clone()),
            Value::Bool(b) => Json::Bool(b),
            Value::Null | Value::Object => return false,
        };
        if !out.contains(&j) {
            out.push(j);
        }
        false
    });
    out
}

/// Every combination of one value per field (cartesian product, in field order); none when a
/// field has no value.
pub(super) fn combinations(event: &dyn Document, fields: &[String]) -> Vec<Vec<Json>> {
    let mut combos: Vec<Vec<Json>> = vec![Vec::new()];
    for f in fields {
        let vals = values(event, f);
        combos = combos
            .iter()
            .flat_map(|prefix| {
                vals.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    combos
}

pub(super) fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn key(kind: &str, rule_id: &str, values: &Json) -> String {
    let text = values.to_string();
    let k = format!("{kind}|{rule_id}|{text}");
    if k.len() <= MAX_KEY {
        k
    } else {
        format!(
            "{kind}|{rule_id}|#{}",
            sha1_smol::Sha1::from(&text).digest()
        )
    }
}

#[cfg(test)]
pub(crate) fn key_for_tests(kind: &str, rule_id: &str, values: &Json) -> String {
    key(kind, rule_id, values)
}

/// What a compare-and-set step decided.
pub(super) enum Step<T> {
    /// Write this entry, then return the value.
    Write(Entry, T),
    /// Nothing to write.
    Done(T),
}

impl<S: StateStore> Stateful<S> {
    pub fn new(store: S) -> Stateful<S> {
        Stateful {
            store,
            user: UserSuppressions::default(),
            cache: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Adds the users' `[[suppress]]` entries (they replace a rule's own alert_suppression).
    pub fn with_suppressions(mut self, user: UserSuppressions) -> Stateful<S> {
        self.user = user;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// True when a match of `rule` must go through [`Stateful::evaluate`] instead of becoming
    /// an alert directly.
    pub fn applies_to(&self, rule: &CompiledRule) -> bool {
        rule.is_stateful() || self.user.get(&rule.rule.rule_id).is_some()
    }

    fn suppression_of<'a>(&'a self, rule: &'a CompiledRule) -> Option<&'a Suppression> {
        self.user
            .get(&rule.rule.rule_id)
            .or_else(|| rule.stateful.as_ref()?.suppression.as_ref())
    }

    /// The alerts `rule`'s match of `event` (at `time_ms`, CloudTrail `eventID` `event_id`)
    /// raises, into `out`. Call it per matching stateful rule, per record, in processing order;
    /// then [`Stateful::flush`] once per object.
    pub fn evaluate(
        &self,
        rule: &CompiledRule,
        event: &dyn Document,
        time_ms: i64,
        event_id: &str,
        out: &mut impl FnMut(StatefulHit),
    ) -> Result<(), StateError> {
        let hits = self.detect(rule, event, time_ms, event_id, false)?;
        let rule_id = rule.rule.rule_id.as_str();
        match self.suppression_of(rule) {
            None => hits.into_iter().for_each(&mut *out),
            Some(s) => {
                for hit in hits {
                    if let Some(hit) = self.suppress(rule_id, s, event, time_ms, hit)? {
                        out(hit);
                    }
                }
            }
        }
        Ok(())
    }

    /// Fills the state from a historical event (`trailwatch state learn`): terms become seen and
    /// threshold groups count, as [`Stateful::evaluate`] would, but no suppression window opens
    /// and nothing is raised. Returns how many alerts the event would have raised (0 for a rule
    /// that is neither new_terms nor threshold: there is nothing to learn for it).
    ///
    /// What learning makes new is marked learned: scanning the same history afterwards raises
    /// nothing for it (a live first sight would be replayed with its alert, a learned one has
    /// none to replay).
    pub fn learn(
        &self,
        rule: &CompiledRule,
        event: &dyn Document,
        time_ms: i64,
        event_id: &str,
    ) -> Result<usize, StateError> {
        if rule
            .stateful
            .as_ref()
            .and_then(|s| s.kind.as_ref())
            .is_none()
        {
            return Ok(0);
        }
        Ok(self.detect(rule, event, time_ms, event_id, true)?.len())
    }

    /// The new-terms or threshold hits of a match (a plain rule: the match itself), before
    /// suppression.
    fn detect(
        &self,
        rule: &CompiledRule,
        event: &dyn Document,
        time_ms: i64,
        event_id: &str,
        learning: bool,
    ) -> Result<Vec<StatefulHit>, StateError> {
        let rule_id = rule.rule.rule_id.as_str();
        let mut hits = Vec::new();
        match rule.stateful.as_ref().and_then(|s| s.kind.as_ref()) {
            Some(StatefulKind::NewTerms { fields, history_ms }) => self.new_terms(
                rule_id,
                fields,
                *history_ms,
                event,
                time_ms,
                (event_id, learning),
                &mut hits,
            )?,
            Some(StatefulKind::Threshold {
                fields,
                value,
                cardinality,
                window_ms,
            }) => {
                let spec = super::threshold::ThresholdParams {
                    fields,
                    value: *value,
                    cardinality: cardinality.as_ref(),
                    window_ms: *window_ms,
                };
                self.threshold(
                    rule_id,
                    &spec,
                    event,
                    time_ms,
                    (event_id, learning),
                    &mut hits,
                )?
            }
            None => hits.push(StatefulHit {
                id_seed: format!("{rule_id}\n{event_id}"),
                fields: Vec::new(),
            }),
        }
        Ok(hits)
    }

    /// Writes the last-seen times of terms seen again since the last flush (one write per term,
    /// not per event). Call once per object, before acknowledging it.
    pub fn flush(&self) -> Result<(), StateError> {
        let pending: Vec<(String, (i64, i64))> = lock(&self.pending).drain().collect();
        for (key, (last_seen, expires)) in pending {
            self.store.refresh(&key, last_seen, expires)?;
        }
        Ok(())
    }

    /// Reads the keys not cached, in one request.
    pub(super) fn prefetch(&self, keys: &[String]) -> Result<(), StateError> {
        let missing: Vec<String> = {
            let cache = lock(&self.cache);
            keys.iter()
                .filter(|k| !cache.contains_key(*k))
                .cloned()
                .collect::<HashSet<_>>()
                .into_iter()
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let found = self.store.get_many(&missing)?;
        let mut cache = lock(&self.cache);
        if cache.len() > MAX_CACHE {
            cache.clear();
        }
        for (k, e) in missing.into_iter().zip(found) {
            if let Some(e) = e {
                cache.insert(k, e);
            }
        }
        Ok(())
    }

    /// Applies `step` to the entry of `key` (cached, or read) and writes its result with
    /// compare-and-set, rereading and retrying when another writer came first.
    pub(super) fn update<T>(
        &self,
        key: &str,
        mut step: impl FnMut(Option<&Entry>) -> Result<Step<T>, StateError>,
    ) -> Result<T, StateError> {
        let mut current = lock(&self.cache).get(key).cloned();
        for _ in 0..ATTEMPTS {
            match step(current.as_ref())? {
                Step::Done(v) => return Ok(v),
                Step::Write(entry, v) => {
                    let expected = current.as_ref().map(|e| e.version);
                    if self.store.put_if(key, expected, &entry)? {
                        lock(&self.cache).insert(key.to_owned(), entry);
                        return Ok(v);
                    }
                    current = self
                        .store
                        .get_many(&[key.to_owned()])?
                        .into_iter()
                        .next()
                        .flatten();
                    let mut cache = lock(&self.cache);
                    match &current {
                        Some(e) => cache.insert(key.to_owned(), e.clone()),
                        None => cache.remove(key),
                    };
                }
            }
        }
        Err(StateError::Contention {
            key: key.to_owned(),
            attempts: ATTEMPTS,
        })
    }

    #[allow(clippy::too_many_arguments)] // the rule's parameters and the event, spelled out
    fn new_terms(
        &self,
        rule_id: &str,
        fields: &[String],
        history_ms: i64,
        event: &dyn Document,
        t: i64,
        (event_id, learning): (&str, bool),
        hits: &mut Vec<StatefulHit>,
    ) -> Result<(), StateError> {
        let terms = combinations(event, fields);
        if terms.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = terms
            .iter()
            .map(|t| key("nt", rule_id, &Json::Array(t.clone())))
            .collect();
        self.prefetch(&keys)?;
        let new_data = serde_json::to_string(&TermData {
            by: event_id.to_owned(),
            learned: learning,
        })
        .map_err(|e| corrupt(rule_id, e))?;
        for (term, key) in terms.into_iter().zip(keys) {
            let expires = t.saturating_add(history_ms.max(REPLAY_MS));
            let is_new = self.update(&key, |current| {
                let Some(c) = current else {
                    return Ok(Step::Write(
                        Entry {
                            version: 1,
                            last_seen_ms: t,
                            expires_ms: expires,
                            data: new_data.clone(),
                        },
                        true,
                    ));
                };
                let data: TermData = serde_json::from_str(&c.data).map_err(|e| corrupt(&key, e))?;
                if data.by == event_id {
                    // The event that made the term new, processed again: same alert (none when
                    // it was learned).
                    return Ok(Step::Done(!data.learned || learning));
                }
                if c.last_seen_ms >= t.saturating_sub(history_ms) {
                    return Ok(Step::Done(false));
                }
                // Last seen before the history window: new again.
                Ok(Step::Write(
                    Entry {
                        version: c.version + 1,
                        last_seen_ms: t.max(c.last_seen_ms),
                        expires_ms: expires,
                        data: new_data.clone(),
                    },
                    true,
                ))
            })?;
            // Every matching event refreshes the term's last-seen time (written at flush).
            let stale = lock(&self.cache)
                .get_mut(&key)
                .filter(|e| e.last_seen_ms < t)
                .map(|e| {
                    e.last_seen_ms = t;
                    e.expires_ms = e.expires_ms.max(expires);
                })
                .is_some();
            if stale {
                let mut pending = lock(&self.pending);
                let p = pending.entry(key.clone()).or_insert((t, expires));
                *p = (p.0.max(t), p.1.max(expires));
            }
            if is_new {
                let seed = std::iter::once(rule_id.to_owned())
                    .chain(std::iter::once(event_id.to_owned()))
                    .chain(term.iter().map(text_of))
                    .collect::<Vec<_>>()
                    .join("\n");
                hits.push(StatefulHit {
                    id_seed: seed,
                    fields: vec![(field::NEW_TERMS.to_owned(), Json::Array(term))],
                });
            }
        }
        Ok(())
    }
}
