//! The fast path (raw-byte prefilter + (event.provider, event.action) dispatch) gives exactly the
//! rules that evaluating every compiled rule on every record gives.
//!
//! Records: the Invictus Stratus Red Team detonation, the RDS samples, the pipeline's sample
//! objects, a `scripts/gen_events.py bulk` object, and deterministic mutations of all of them
//! (eventName/eventSource swapped across records and set to every literal a rule requires,
//! unicode-escaped values and keys, duplicate keys, other JSON types, errorCode added/removed,
//! pretty-printing; the texts the text-constrained rules require, in user agents and identities,
//! plain, `\uXXXX`-escaped, split by escapes, in lists, in nested and unrelated fields). Run it with `TRAILWATCH_EXTRA_RULES=../shared/elastic/rules` at build time to
//! cover the whole AWS catalogue.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch::ecs::schema::{is_verbatim, verbatim_paths};
use trailwatch::ecs::CloudTrailView;
use trailwatch::engine::{required_equalities, required_texts, Document};
use trailwatch::rules::RuleSet;
use trailwatch::{scan_collect, scan_collect_pipelined, Detector};

mod mutations;

use mutations::*;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared");
const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events/cloudtrail");

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Raw records of a file: `Records` elements as the reader cuts them, a single-record file as
/// it is, NDJSON line by line.
fn raw_records(path: &Path) -> Vec<Vec<u8>> {
    let bytes = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "ndjson") {
        return bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(<[u8]>::to_vec)
            .collect();
    }
    let records: Vec<_> = trailwatch::reader::open(&bytes[..])
        .filter_map(Result::ok)
        .map(|r| r.bytes)
        .collect();
    if records.is_empty() {
        vec![bytes]
    } else {
        records
    }
}

/// A gzipped object of `records` records from `scripts/gen_events.py bulk`.
fn bulk_object(name: &str, records: usize) -> Vec<u8> {
    let out =
        std::env::temp_dir().join(format!("trailwatch-{name}-{}.json.gz", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/gen_events.py"
        ))
        .args([
            "bulk",
            out.to_str().unwrap(),
            "--records",
            &records.to_string(),
        ])
        .status()
        .expect("python3 runs scripts/gen_events.py");
    assert!(status.success());
    let bytes = fs::read(&out).unwrap();
    let _ = fs::remove_file(&out);
    bytes
}

fn corpus() -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    files(
        &Path::new(SHARED).join("datasets/invictus-aws/CloudTrail"),
        &mut paths,
    );
    files(&Path::new(SHARED).join("samples/rds"), &mut paths);
    files(Path::new(EVENTS), &mut paths);
    let mut records: Vec<_> = paths.iter().flat_map(|p| raw_records(p)).collect();
    let bulk = bulk_object("equiv", 3000);
    records.extend(
        trailwatch::reader::open(&bulk[..])
            .filter_map(Result::ok)
            .map(|r| r.bytes),
    );
    assert!(records.len() > 5000, "{} records", records.len());
    records
}

fn slow_ids(set: &RuleSet, record: &Value) -> Vec<String> {
    let view = CloudTrailView::new(record);
    set.matches_document_slow(&view)
        .iter()
        .map(|r| r.rule.rule_id.clone())
        .collect()
}

fn fast_ids(set: &RuleSet, raw: &[u8], candidates: &mut Vec<usize>) -> Option<Vec<String>> {
    set.candidates(raw, candidates);
    if candidates.is_empty() {
        return None; // not parsed: no rule can match
    }
    let record: Value = serde_json::from_slice(raw).unwrap();
    let view = CloudTrailView::new(&record);
    Some(
        set.matches_candidates(candidates, &view)
            .iter()
            .map(|r| r.rule.rule_id.clone())
            .collect(),
    )
}

#[test]
fn fast_path_matches_every_rule_evaluated() {
    let set = RuleSet::embedded();
    assert!(!set.rules().is_empty());
    // The (provider, action) pairs the rules require ("" where a rule does not constrain one).
    let mut literals = BTreeSet::new();
    for r in set.rules() {
        let ps =
            required_equalities(&r.expr, "event.provider").unwrap_or_else(|| vec![String::new()]);
        let actions =
            required_equalities(&r.expr, "event.action").unwrap_or_else(|| vec![String::new()]);
        for p in &ps {
            for a in &actions {
                literals.insert((p.clone(), a.clone()));
            }
        }
    }
    let literals: Vec<_> = literals.into_iter().collect();
    let base = corpus();
    let mut rng = Rng(0x7261_696c_7761_7463);
    let mut records = mutations(&base, &literals, &mut rng);
    records.extend(text_mutations(&base, &rule_texts(&set), &mut rng));
    records.extend(base);

    let (mut skipped, mut matched, mut alerts, mut fewer) = (0, 0, 0, 0);
    let mut fired = BTreeSet::new();
    // Text-constrained rules that fired on records with escapes / without (the escaped ones
    // are those a prefilter ignoring escapes would lose).
    let text_rules: BTreeSet<String> = set
        .rules()
        .iter()
        .filter(|r| {
            required_equalities(&r.expr, "event.provider").is_none()
                && required_equalities(&r.expr, "event.action").is_none()
                && required_texts(&r.expr, &is_verbatim).is_some()
        })
        .map(|r| r.rule.rule_id.clone())
        .collect();
    let (mut text_fired_escaped, mut text_fired_plain) = (0, 0);
    let mut candidates = Vec::new();
    for raw in &records {
        let Ok(record) = serde_json::from_slice::<Value>(raw) else {
            continue;
        };
        let slow = slow_ids(&set, &record);
        let fast = fast_ids(&set, raw, &mut candidates);
        if fast.is_none() {
            skipped += 1;
        } else if candidates.len() < set.rules().len() {
            fewer += 1;
        }
        let fast = fast.unwrap_or_default();
        assert_eq!(fast, slow, "record {}", String::from_utf8_lossy(raw));
        // The document-level dispatch agrees too.
        let view = CloudTrailView::new(&record);
        let doc: Vec<_> = set
            .matches_document(&view)
            .iter()
            .map(|r| r.rule.rule_id.clone())
            .collect();
        assert_eq!(doc, slow, "record {}", String::from_utf8_lossy(raw));
        if slow.iter().any(|id| text_rules.contains(id)) {
            if raw.contains(&b'\\') {
                text_fired_escaped += 1;
            } else {
                text_fired_plain += 1;
            }
        }
        if !slow.is_empty() {
            matched += 1;
            alerts += slow.len();
            fired.extend(slow);
        }
    }
    eprintln!(
        "{} rules ({} evaluated on every record, {} on records with their texts: fired on {} \
         escaped and {} plain records), {} records: {} skipped unparsed, {} with fewer \
         candidates than rules, {} matching ({} matches), {} rules fired",
        set.rules().len(),
        set.unconstrained_rules(),
        set.text_constrained_rules(),
        text_fired_escaped,
        text_fired_plain,
        records.len(),
        skipped,
        fewer,
        matched,
        alerts,
        fired.len()
    );
    assert_eq!(text_rules.len(), set.text_constrained_rules());
    if !text_rules.is_empty() {
        assert!(
            text_fired_escaped > 10 && text_fired_plain > 10,
            "text-constrained rules fired on {text_fired_escaped} escaped and {text_fired_plain} \
             plain records"
        );
    }
    if set.unconstrained_rules() == 0 {
        // A third of the records are mutations made to be candidates (required provider/action
        // literals, required texts).
        assert!(
            skipped > records.len() / 3,
            "the prefilter skipped only {skipped}"
        );
    } else {
        // A rule without a required provider/action sees every record: nothing is skipped, but
        // the dispatch still narrows the candidates.
        assert!(
            fewer > records.len() / 2,
            "the dispatch narrowed only {fewer}"
        );
    }
    assert!(matched > 50, "only {matched} records matched some rule");
    assert!(
        fired.len() * 2 >= set.rules().len(),
        "only {} rules fired",
        fired.len()
    );
}

/// Whole objects: the scan (single-threaded and pipelined) raises the alerts of every rule
/// evaluated on every parsed record, in order.
#[test]
fn scan_reports_the_slow_path_alerts() {
    let detector = Detector::new(RuleSet::embedded());
    let mut paths = Vec::new();
    files(
        &Path::new(SHARED).join("datasets/invictus-aws/CloudTrail"),
        &mut paths,
    );
    files(Path::new(EVENTS), &mut paths);
    let mut total = 0;
    for path in paths {
        let bytes = fs::read(&path).unwrap();
        // Stateful rules raise what their state decides, not one alert per match: compared here
        // are the stateless rules (the stateful ones have their own timeline tests).
        let stateful: Vec<&str> = detector
            .rules
            .rules()
            .iter()
            .filter(|r| r.is_stateful())
            .map(|r| r.rule.rule_id.as_str())
            .collect();
        let mut want = Vec::new();
        for raw in trailwatch::reader::open(&bytes[..]).filter_map(Result::ok) {
            let record = raw.parse().unwrap();
            want.extend(
                slow_ids(&detector.rules, &record)
                    .into_iter()
                    .filter(|id| !stateful.contains(&id.as_str())),
            );
        }
        let ids = |r: &trailwatch::detect::Collected| -> Vec<String> {
            r.alerts
                .iter()
                .map(|a| {
                    a.get("kibana.alert.rule.rule_id")
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_owned()
                })
                .filter(|id| !stateful.contains(&id.as_str()))
                .collect()
        };
        let name = path.display().to_string();
        let single = scan_collect(&name, &bytes[..], &detector);
        let piped = scan_collect_pipelined(&name, &bytes[..], &detector);
        assert!(single.error.is_none() && piped.error.is_none(), "{name}");
        assert_eq!(ids(&single), want, "{name}");
        assert_eq!(ids(&piped), want, "{name}");
        assert_eq!(
            (single.records, single.prefiltered, single.bytes),
            (piped.records, piped.prefiltered, piped.bytes)
        );
        total += want.len();
    }
    assert!(total >= 4, "{total} alerts");
}

/// A truncated gzip object: both scans keep the alerts and records read before the damage and
/// report the same error.
#[test]
fn pipelined_scan_reports_damage_like_the_single_threaded_one() {
    let bytes = bulk_object("trunc", 20000);
    let cut = &bytes[..bytes.len() * 2 / 3];
    let detector = Detector::new(RuleSet::embedded());
    let single = scan_collect("t", cut, &detector);
    let piped = scan_collect_pipelined("t", cut, &detector);
    let err = |r: &trailwatch::detect::Collected| r.error.as_ref().map(ToString::to_string);
    assert!(single.error.is_some());
    assert_eq!(err(&single), err(&piped));
    assert!(single.records > 10_000, "{}", single.records);
    assert_eq!(
        (single.records, single.alerts.len()),
        (piped.records, piped.alerts.len())
    );
}

/// The prefilter's premise: every string the CloudTrail view shows at a verbatim path is a
/// (substring of a) JSON string of the record.
#[test]
fn verbatim_paths_show_strings_of_the_record() {
    let base = corpus();
    let mut rng = Rng(0x7665_7262_6174_696d);
    let mut records = text_mutations(&base, &["BedrockAPIKey-".to_owned()], &mut rng);
    records.extend(base);
    let mut checked = 0usize;
    for raw in &records {
        let Ok(record) = serde_json::from_slice::<Value>(raw) else {
            continue;
        };
        let mut strings = Vec::new();
        collect_strings(&record, &mut strings);
        let mut paths: Vec<String> = verbatim_paths().map(|p| p.to_string()).collect();
        for (root, key) in [
            ("request_parameters", "requestParameters"),
            ("response_elements", "responseElements"),
            ("additional_eventdata", "additionalEventData"),
            ("service_event_details", "serviceEventDetails"),
        ] {
            if let Some(v) = record.get(key) {
                leaf_paths(v, &format!("aws.cloudtrail.flattened.{root}"), &mut paths);
            }
        }
        let view = CloudTrailView::new(&record);
        for path in &paths {
            assert!(is_verbatim(path), "{path}");
            view.any_value(path, &mut |v| {
                if let trailwatch::engine::Value::Str(s) = v {
                    checked += 1;
                    assert!(
                        strings.iter().any(|x| x.contains(s)),
                        "{path} = {s:?} is in no string of {record}"
                    );
                }
                false
            });
        }
    }
    assert!(checked > 20_000, "{checked} values checked");
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

fn leaf_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                leaf_paths(child, &format!("{prefix}.{k}"), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| leaf_paths(x, prefix, out)),
        _ => out.push(prefix.to_owned()),
    }
}
