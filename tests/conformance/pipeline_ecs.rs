//! `CloudTrailView` against the documents Elastic's CloudTrail ingest pipeline produces from its
//! own test inputs (`shared/elastic/pipeline/`: `X.log`, one CloudTrail record per line, and
//! `X.log-expected.json`). Every leaf of every expected document must read the same through
//! `Document::any_value` (typed: strings, numbers, booleans; lists as multisets, since order never
//! changes a match), and every leaf the view reports through `Document::any_leaf` must be in the
//! expected document — except the deliberate differences listed below, each with its reason.
//!
//! Which expected file: `X.log-expected.json` is the current pipeline's; when only an older one
//! exists (`X.log-expected.OLD-<commit>.json`, the pipeline at that elastic/integrations commit)
//! it is used, with the differences between the two versions listed as such.

// Tests fail by panicking; the crate-wide denials are for library code.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use trailwatch::ecs::{user_agent_available, CloudTrailView, Enrichment, ViewOptions};
use trailwatch::engine::{Document, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/elastic/pipeline");

/// A field the expected document has and the view deliberately does not produce, or produces
/// differently. `file` is a file-name substring ("" = every file); `path` is a field or a prefix
/// ending in '.'.
struct Difference {
    file: &'static str,
    path: &'static str,
    why: &'static str,
}

const DIFFERENCES: &[Difference] = &[
    // --- Not produced by the view, in every file ---
    Difference { file: "", path: "event.original", why: "kept only with the preserve_original_event option (off by default); the raw record is CloudTrailView::record()" },
    Difference { file: "", path: "event.created", why: "the agent's read time (the test harness fixes it), not a property of the record" },
    Difference { file: "", path: "tags", why: "agent configuration (preserve_original_event, actor_target_mapping), not the record" },
    // --- Produced by the view, absent from pipeline test output ---
    Difference { file: "", path: "event.dataset", why: "set by the data stream (agent `data_stream` fields / constant_keyword mapping), outside the pipeline; rules rely on it" },
    Difference { file: "", path: "data_stream.dataset", why: "data stream constant, outside the pipeline; rules rely on it" },
    Difference { file: "", path: "data_stream.type", why: "data stream constant, outside the pipeline" },
    Difference { file: "", path: "event.module", why: "set by the integration outside the pipeline" },
    Difference { file: "", path: "cloud.provider", why: "set by the aws-s3 input, not the pipeline (the assume-role tests' documents show it)" },
    // --- The expected files are from older pipeline versions than the one modelled ---
    // The modelled version (elastic/integrations 0b97ab02) no longer splits an e-mail user name
    // ("Don't dissect the user email into <user.name>@<user.domain>"), sets user.email only from
    // user.name, adds user.id/user.name/user.changes.name to related.user and takes
    // user.changes.name from the session ARN of role sessions; it sets no related.ip,
    // cloud.service.name or service.name.
    Difference { file: "assume-role", path: "cloud.service.name", why: "older pipeline version" },
    Difference { file: "assume-role-aws-service", path: "service.name", why: "older pipeline version" },
    Difference { file: "assume-role-email-session", path: "related.ip", why: "older pipeline version" },
    Difference { file: "assume-role-email-session", path: "related.user", why: "older version split the e-mail session name into related.user" },
    Difference { file: "assume-role-email-session", path: "user.email", why: "older version took user.email from the session name; current copies user.name only" },
    Difference { file: "assume-role-email-session", path: "user.changes.name", why: "current version's grok of the session ARN" },
    Difference { file: "modify-db-instance", path: "user.name", why: "older version dissected test@elastic.co into user.name=test, user.domain" },
    Difference { file: "modify-db-instance", path: "user.domain", why: "older version's dissect" },
    Difference { file: "modify-db-instance", path: "related.user", why: "older version: dissected name, no user.id" },
    Difference { file: "OLD-0046748f", path: "related.entity", why: "0046748f ran its entity pipeline on every event; the current one only with the actor_target_mapping option, which this test's tags do not set" },
    Difference { file: "modify-db-instance", path: "service.target.entity.id", why: "the typed target fields (user./host./service.target.entity.id for non-STS events) are newer than this expected file" },
    Difference { file: "modify-db-instance", path: "user.entity.id", why: "the typed actor fields for non-STS events are newer than this expected file" },
    Difference { file: "OLD-0046748f", path: "related.user", why: "0046748f appended only userIdentity.userName; current adds user.id and user.changes.name" },
    Difference { file: "OLD-0046748f", path: "user.changes.name", why: "0046748f had no grok of the session ARN" },
];

/// Enrichment this run cannot do (a build without uap-core's regexes; no test GeoIP database):
/// then, and only then, these fields are expected to be missing.
const WITHOUT_UAP: &[Difference] = &[
    Difference {
        file: "",
        path: "user_agent.name",
        why: "built without uap-core's regexes.yaml (UAP_REGEXES)",
    },
    Difference {
        file: "",
        path: "user_agent.version",
        why: "built without uap-core's regexes.yaml",
    },
    Difference {
        file: "",
        path: "user_agent.os.",
        why: "built without uap-core's regexes.yaml",
    },
    Difference {
        file: "",
        path: "user_agent.device.",
        why: "built without uap-core's regexes.yaml",
    },
];
const WITHOUT_GEOIP: &[Difference] = &[
    Difference {
        file: "",
        path: "source.geo.",
        why: "no GEOIP_CITY_DB (scripts/test-geoip.sh)",
    },
    Difference {
        file: "",
        path: "source.as.",
        why: "no GEOIP_ASN_DB (scripts/test-geoip.sh)",
    },
];

/// The test GeoIP databases named by `GEOIP_ASN_DB` / `GEOIP_CITY_DB` (scripts/test-geoip.sh
/// prints them). In CI they must be there; elsewhere their absence is said loudly and the
/// `source.as.*` / `source.geo.*` comparison is skipped.
fn test_enrichment() -> Option<Enrichment> {
    let path = |k: &str| {
        std::env::var_os(k)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    };
    match (path("GEOIP_ASN_DB"), path("GEOIP_CITY_DB")) {
        (Some(asn), Some(city)) => {
            Some(Enrichment::open(Some(&asn), Some(&city)).expect("test GeoIP databases open"))
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set GEOIP_ASN_DB and GEOIP_CITY_DB (scripts/test-geoip.sh)"
            );
            eprintln!(
                "\n*** SKIPPING the source.as.* / source.geo.* comparison: GEOIP_ASN_DB / \
                 GEOIP_CITY_DB unset (run `eval \"$(scripts/test-geoip.sh | sed 's/^/export /')\"`) ***\n"
            );
            None
        }
    }
}

/// The index in `differences` of the entry covering `path` in `file`.
fn differs_deliberately(differences: &[&Difference], file: &str, path: &str) -> Option<usize> {
    differences.iter().position(|d| {
        file.contains(d.file)
            && (d.path == path || (d.path.ends_with('.') && path.starts_with(d.path)))
    })
}

fn repr(v: Value<'_>) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("b:{b}"),
        Value::Number(n) => format!("n:{n}"),
        Value::Str(s) => format!("s:{s}"),
        Value::Object => "object".to_owned(),
    }
}

fn json_repr(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("s:{s}"),
        serde_json::Value::Number(n) => format!("n:{n}"),
        serde_json::Value::Bool(b) => format!("b:{b}"),
        other => format!("json:{other}"),
    }
}

/// The leaves of an expected document by dotted path, lists flattened.
fn flatten(v: &serde_json::Value, prefix: &str, out: &mut BTreeMap<String, Vec<String>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| flatten(x, prefix, out)),
        leaf => out
            .entry(prefix.to_owned())
            .or_default()
            .push(json_repr(leaf)),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The (log, expected) pairs, preferring the current pipeline's expected file.
fn cases() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .expect("pipeline dir readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for log in names.iter().filter(|n| n.ends_with(".log")) {
        let current = format!("{log}-expected.json");
        let old = names
            .iter()
            .find(|n| n.starts_with(&format!("{log}-expected.OLD-")));
        if names.contains(&current) {
            out.push((log.clone(), current));
        } else if let Some(old) = old {
            out.push((log.clone(), old.clone()));
        }
    }
    out
}

#[test]
fn view_reads_like_the_pipeline_output() {
    let cases = cases();
    assert!(
        cases.len() >= 4,
        "expected at least 4 input/expected pairs, found {cases:?}"
    );
    let enrichment = test_enrichment();
    let mut differences: Vec<&Difference> = DIFFERENCES.iter().collect();
    if !user_agent_available() {
        eprintln!("\n*** built without uap-core's regexes: user_agent.* not compared ***\n");
        differences.extend(WITHOUT_UAP);
    }
    if enrichment.is_none() {
        differences.extend(WITHOUT_GEOIP);
    }
    let enrichment = enrichment.unwrap_or_default();
    let mut problems = Vec::new();
    let mut used = vec![false; differences.len()];
    let mut compared = 0usize;
    for (log, expected_file) in &cases {
        let text = std::fs::read_to_string(format!("{DIR}/{log}")).expect("log readable");
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{DIR}/{expected_file}")).expect("expected readable"),
        )
        .expect("expected is JSON");
        let docs = expected["expected"].as_array().expect("expected: [...]");
        let records: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for (i, doc) in docs.iter().enumerate() {
            let Some(line) = records.get(i) else {
                // More expected documents than records: the upstream input had a blank line,
                // which the pipeline turns into a document without any CloudTrail field.
                assert!(
                    doc["event"]["original"].is_null(),
                    "{expected_file}#{i} has no input"
                );
                continue;
            };
            let record: serde_json::Value = serde_json::from_str(line).expect("record is JSON");
            // The pipeline test ran with the agent's tags: `actor_target_mapping` is an option.
            let tags = doc["tags"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let options = ViewOptions {
                actor_target_mapping: tags.iter().any(|t| t == "actor_target_mapping"),
            };
            let view = CloudTrailView::with_enrichment(&record, options, &enrichment);
            let mut want = BTreeMap::new();
            flatten(doc, "", &mut want);
            let mut ours: BTreeMap<String, Vec<String>> = BTreeMap::new();
            view.any_leaf(&mut |p, v| {
                ours.entry(p.to_owned()).or_default().push(repr(v));
                false
            });
            let mut note = |path: &str, msg: String| match differs_deliberately(
                &differences,
                expected_file,
                path,
            ) {
                Some(k) => used[k] = true,
                None => problems.push(format!("{expected_file}#{i} {path}: {msg}")),
            };
            for (path, values) in &want {
                let mut got = Vec::new();
                view.any_value(path, &mut |v| {
                    got.push(repr(v));
                    false
                });
                compared += 1;
                let (got, values) = (sorted(got), sorted(values.clone()));
                if got != values {
                    note(path, format!("expected {values:?}, view has {got:?}"));
                }
            }
            for (path, values) in &ours {
                if !want.contains_key(path) {
                    note(
                        path,
                        format!("view has {values:?}, expected document has no such field"),
                    );
                }
            }
        }
    }
    let stale: Vec<&str> = differences
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(d, _)| d.path)
        .collect();
    assert!(compared > 100, "only {compared} fields compared");
    let applied: Vec<String> = differences
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(d, _)| format!("  {} [{}]: {}", d.path, d.file, d.why))
        .collect();
    eprintln!(
        "{} input files, {compared} expected fields compared; deliberate differences applied:\n{}",
        cases.len(),
        applied.join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} undocumented differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed differences that no longer occur: {stale:?}"
    );
}

const DATASET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/datasets/invictus-aws/CloudTrail"
);

/// Every record of the real dataset reads as a complete event, and the view is consistent with
/// itself: each leaf `any_leaf` reports is a mapped field and reads the same through `any_value`.
#[test]
fn every_dataset_record_reads_consistently() {
    use trailwatch::ecs::{field_type, FieldType};
    let mut files: Vec<_> = std::fs::read_dir(DATASET)
        .expect("dataset dir readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut records = 0usize;
    let mut problems = Vec::new();
    for f in &files {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("readable")).expect("JSON");
        for r in v["Records"].as_array().expect("Records") {
            records += 1;
            // With the actor_target_mapping option, so the entity script runs too.
            let view = CloudTrailView::with_options(
                r,
                ViewOptions {
                    actor_target_mapping: true,
                },
            );
            let id = r["eventID"].as_str().unwrap_or("?").to_owned();
            for p in [
                "@timestamp",
                "event.provider",
                "event.action",
                "event.id",
                "event.outcome",
                "cloud.account.id",
                "cloud.region",
            ] {
                if !view.any_value(p, &mut |_| true) {
                    problems.push(format!("{id}: no {p}"));
                }
            }
            let mut leaves: BTreeMap<String, Vec<String>> = BTreeMap::new();
            view.any_leaf(&mut |p, v| {
                leaves.entry(p.to_owned()).or_default().push(repr(v));
                false
            });
            for (p, vals) in leaves {
                if field_type(&p) == FieldType::Unmapped {
                    problems.push(format!("{id}: leaf {p} has no field type"));
                }
                let mut got = Vec::new();
                view.any_value(&p, &mut |v| {
                    got.push(repr(v));
                    false
                });
                if sorted(got.clone()) != sorted(vals.clone()) {
                    problems.push(format!("{id}: {p} any_leaf {vals:?} vs any_value {got:?}"));
                }
            }
        }
    }
    assert!(records > 2800, "only {records} records");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
