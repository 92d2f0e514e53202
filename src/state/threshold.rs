//! Threshold rules: counts per group within the look-back, restarting after each alert.
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::eval::{
    combinations, corrupt, field, hash64, key, text_of, values, Step, MAX_COUNTED, REPLAY_MS,
};
use super::{Entry, StateError, StateStore, Stateful, StatefulHit};
use crate::engine::Document;

/// A threshold rule's parameters, borrowed from its compiled spec.
pub(super) struct ThresholdParams<'a> {
    pub(super) fields: &'a [String],
    pub(super) value: u64,
    pub(super) cardinality: Option<&'a (String, u64)>,
    pub(super) window_ms: i64,
}

#[derive(Serialize, Deserialize, Default)]
pub(super) struct ThresholdData {
    /// (time ms, event hash, cardinality value hash) of the events counted since the last alert.
    ev: Vec<(i64, u64, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed: Option<Closed>,
    /// The alerts before `closed`, latest first (bounded): an object retried after a publish
    /// failure replays every window it closed, not only the last one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    past: Vec<Closed>,
}

/// Earlier alerts kept per group for replays, and the event hashes they may hold in all.
const MAX_PAST: usize = 32;
const MAX_PAST_IDS: usize = 8_000;

impl ThresholdData {
    /// Files the current alert among the past ones (keeping the bounds) before a new one.
    fn retire_closed(&mut self) {
        let Some(closed) = self.closed.take() else {
            return;
        };
        self.past.insert(0, closed);
        let mut ids = 0;
        let keep = self
            .past
            .iter()
            .take(MAX_PAST)
            .take_while(|c| {
                ids += c.ids.len();
                ids <= MAX_PAST_IDS
            })
            .count();
        self.past.truncate(keep.max(1));
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct Closed {
    by: String,
    /// Closed by `state learn`: no alert was raised, so reprocessing `by` raises none either.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    learned: bool,
    ids: Vec<u64>,
    seed: String,
    fields: Vec<(String, Json)>,
}

impl<S: StateStore> Stateful<S> {
    pub(super) fn threshold(
        &self,
        rule_id: &str,
        spec: &ThresholdParams<'_>,
        event: &dyn Document,
        t: i64,
        (event_id, learning): (&str, bool),
        hits: &mut Vec<StatefulHit>,
    ) -> Result<(), StateError> {
        let groups = combinations(event, spec.fields);
        let card_values: Vec<u64> = match spec.cardinality {
            Some((f, _)) => values(event, f)
                .iter()
                .map(|v| hash64(&v.to_string()))
                .collect(),
            None => vec![0],
        };
        if groups.is_empty() || card_values.is_empty() {
            // No group (a field missing) or no value to count distinct: not counted.
            return Ok(());
        }
        let keys: Vec<String> = groups
            .iter()
            .map(|g| key("th", rule_id, &Json::Array(g.clone())))
            .collect();
        self.prefetch(&keys)?;
        let id = hash64(event_id);
        let expires = t.saturating_add(spec.window_ms.max(REPLAY_MS));
        for (group, key) in groups.into_iter().zip(keys) {
            let hit = self.update(&key, |current| {
                let mut data: ThresholdData = match current {
                    Some(c) => serde_json::from_str(&c.data).map_err(|e| corrupt(&key, e))?,
                    None => ThresholdData::default(),
                };
                for closed in data.closed.iter().chain(&data.past) {
                    if closed.by == event_id && closed.learned && !learning {
                        return Ok(Step::Done(None));
                    }
                    if closed.by == event_id {
                        // The event that closed a window, processed again: same alert.
                        return Ok(Step::Done(Some(StatefulHit {
                            id_seed: closed.seed.clone(),
                            fields: closed.fields.clone(),
                        })));
                    }
                    if closed.ids.contains(&id) {
                        return Ok(Step::Done(None));
                    }
                }
                if data.ev.iter().any(|e| e.1 == id) {
                    return Ok(Step::Done(None));
                }
                // One entry per distinct value of the cardinality field (or one without it).
                data.ev.extend(card_values.iter().map(|&v| (t, id, v)));
                let from = t.saturating_sub(spec.window_ms);
                data.ev.retain(|e| e.0 >= from);
                if data.ev.len() > MAX_COUNTED {
                    data.ev.sort_by_key(|e| e.0);
                    let excess = data.ev.len() - MAX_COUNTED;
                    data.ev.drain(..excess);
                }
                let count = data.ev.iter().map(|e| e.1).collect::<HashSet<_>>().len() as u64;
                let distinct = data.ev.iter().map(|e| e.2).collect::<HashSet<_>>().len() as u64;
                let reached =
                    count >= spec.value && spec.cardinality.is_none_or(|(_, min)| distinct >= *min);
                let mut hit = None;
                if reached {
                    let first = data.ev.iter().map(|e| e.0).min().unwrap_or(t);
                    let mut result = json!({
                        "terms": spec.fields.iter().zip(&group)
                            .map(|(f, v)| json!({"field": f, "value": v}))
                            .collect::<Vec<_>>(),
                        "count": count,
                        "from": super::format_ms(first),
                    });
                    if let (Some((f, _)), Some(obj)) = (spec.cardinality, result.as_object_mut()) {
                        obj.insert(
                            "cardinality".into(),
                            json!([{"field": f, "value": distinct}]),
                        );
                    }
                    let seed = std::iter::once(rule_id.to_owned())
                        .chain(std::iter::once(event_id.to_owned()))
                        .chain(group.iter().map(text_of))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let fields = vec![(field::THRESHOLD_RESULT.to_owned(), result)];
                    let ids: Vec<u64> = data
                        .ev
                        .iter()
                        .map(|e| e.1)
                        .collect::<HashSet<_>>()
                        .into_iter()
                        .collect();
                    data.retire_closed();
                    data.closed = Some(Closed {
                        by: event_id.to_owned(),
                        learned: learning,
                        ids,
                        seed: seed.clone(),
                        fields: fields.clone(),
                    });
                    data.ev.clear();
                    hit = Some(StatefulHit {
                        id_seed: seed,
                        fields,
                    });
                }
                let entry = Entry {
                    version: current.map_or(1, |c| c.version + 1),
                    last_seen_ms: current.map_or(t, |c| c.last_seen_ms.max(t)),
                    expires_ms: current.map_or(expires, |c| c.expires_ms.max(expires)),
                    data: serde_json::to_string(&data).map_err(|e| corrupt(&key, e))?,
                };
                Ok(Step::Write(entry, hit))
            })?;
            hits.extend(hit);
        }
        Ok(())
    }
}
