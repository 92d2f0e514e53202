//! Alert suppression windows (`[rule.alert_suppression]`, `[[suppress]]`): after an alert of a
//! group, the rule's alerts of that group within the duration are counted, not raised.
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::eval::{corrupt, field, hash64, key, values, Step, REPLAY_MS};
use super::{Entry, StateError, StateStore, Stateful, StatefulHit};
use crate::engine::Document;
use crate::rules::stateful::{MissingFields, Suppression};

/// Suppressed alert hashes kept per window (replays of them are not counted twice).
const MAX_SUPPRESSED_IDS: usize = 1_000;

#[derive(Serialize, Deserialize)]
struct SuppressData {
    start: i64,
    end: i64,
    count: u64,
    by: String,
    #[serde(default)]
    ids: Vec<u64>,
    /// Earlier windows of the group, latest first (bounded): an object retried after a publish
    /// failure replays each window it opened or fed, not only the last one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    past: Vec<PastWindow>,
}

#[derive(Serialize, Deserialize)]
struct PastWindow {
    start: i64,
    by: String,
    ids: Vec<u64>,
}

/// Earlier suppression windows kept per group for replays.
const MAX_PAST_WINDOWS: usize = 16;

impl<S: StateStore> Stateful<S> {
    /// Passes `hit` through the rule's suppression: `Some` to raise it, `None` when suppressed.
    pub(super) fn suppress(
        &self,
        rule_id: &str,
        s: &Suppression,
        event: &dyn Document,
        t: i64,
        mut hit: StatefulHit,
    ) -> Result<Option<StatefulHit>, StateError> {
        let mut group = Vec::with_capacity(s.group_by.len());
        let mut missing = false;
        for f in &s.group_by {
            let vals = values(event, f);
            missing |= vals.is_empty();
            group.push(match vals.len() {
                0 => Json::Null,
                1 => vals.into_iter().next().unwrap_or(Json::Null),
                _ => Json::Array(vals),
            });
        }
        if missing && s.missing == MissingFields::DoNotSuppress {
            return Ok(Some(hit));
        }
        let key = key("su", rule_id, &Json::Array(group.clone()));
        let seed_hash = hash64(&hit.id_seed);
        let expires = t.saturating_add(s.duration_ms.max(REPLAY_MS));
        let seed = hit.id_seed.clone();
        let start = self.update(&key, |current| {
            let old: Option<SuppressData> = match current {
                Some(c) => Some(serde_json::from_str(&c.data).map_err(|e| corrupt(&key, e))?),
                None => None,
            };
            let version = current.map_or(1, |c| c.version + 1);
            if let Some(d) = &old {
                let windows = std::iter::once((d.start, &d.by, &d.ids))
                    .chain(d.past.iter().map(|p| (p.start, &p.by, &p.ids)));
                for (start, by, ids) in windows {
                    if *by == seed {
                        // The alert that opened this window, processed again: raised again.
                        return Ok(Step::Done(Some(start)));
                    }
                    if ids.contains(&seed_hash) {
                        return Ok(Step::Done(None));
                    }
                }
            }
            let data = match old {
                Some(mut d) if t < d.start.saturating_add(s.duration_ms) => {
                    d.count += 1;
                    d.end = d.end.max(t);
                    if d.ids.len() < MAX_SUPPRESSED_IDS {
                        d.ids.push(seed_hash);
                    }
                    let entry = Entry {
                        version,
                        last_seen_ms: d.end,
                        expires_ms: current.map_or(expires, |c| c.expires_ms),
                        data: serde_json::to_string(&d).map_err(|e| corrupt(&key, e))?,
                    };
                    return Ok(Step::Write(entry, None));
                }
                previous => {
                    let past = previous
                        .map(|d| {
                            let mut past = d.past;
                            past.insert(
                                0,
                                PastWindow {
                                    start: d.start,
                                    by: d.by,
                                    ids: d.ids,
                                },
                            );
                            past.truncate(MAX_PAST_WINDOWS);
                            past
                        })
                        .unwrap_or_default();
                    SuppressData {
                        start: t,
                        end: t,
                        count: 0,
                        by: seed.clone(),
                        ids: Vec::new(),
                        past,
                    }
                }
            };
            let entry = Entry {
                version,
                last_seen_ms: t,
                expires_ms: expires,
                data: serde_json::to_string(&data).map_err(|e| corrupt(&key, e))?,
            };
            Ok(Step::Write(entry, Some(t)))
        })?;
        let Some(start) = start else {
            tracing::debug!(rule_id, "alert suppressed");
            return Ok(None);
        };
        let terms: Vec<Json> = s
            .group_by
            .iter()
            .zip(group)
            .map(|(f, v)| json!({"field": f, "value": v}))
            .collect();
        hit.fields
            .push((field::SUPPRESSION_TERMS.to_owned(), Json::Array(terms)));
        hit.fields
            .push((field::SUPPRESSION_COUNT.to_owned(), json!(0)));
        hit.fields.push((
            field::SUPPRESSION_START.to_owned(),
            json!(super::format_ms(start)),
        ));
        hit.fields.push((
            field::SUPPRESSION_END.to_owned(),
            json!(super::format_ms(start)),
        ));
        Ok(Some(hit))
    }
}
