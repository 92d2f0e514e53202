//! Conformance with Elastic's reference KQL evaluator (detection-rules `lib/kql`): 180 queries ×
//! 2,799 nested ECS documents, every pair labelled by the reference (elastic-semantics.md §2).
//! `1` match, `0` no match, `E` the reference raised a type error (nothing to compare).
#![allow(clippy::unwrap_used, clippy::panic)] // a test reports failures by panicking
use std::collections::BTreeMap;
use trailwatch::engine::{matches, JsonDocument};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/elastic/kql-vectors");

#[derive(serde::Deserialize)]
struct Query {
    id: String,
    query: String,
}

fn read(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

#[test]
fn agrees_with_the_reference_evaluator_on_every_vector() {
    let queries: Vec<Query> = serde_json::from_str(&read("queries.json")).unwrap();
    let verdicts: BTreeMap<String, String> = serde_json::from_str(&read("verdicts.json")).unwrap();
    let docs: Vec<serde_json::Value> = read("docs.ndjson")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(queries.len(), 180, "query count");
    assert_eq!(docs.len(), 2799, "document count");

    let mut parse_failures = Vec::new();
    let mut disagreements = Vec::new();
    let (mut agreed, mut compared, mut skipped) = (0usize, 0usize, 0usize);
    let started = std::time::Instant::now();
    for q in &queries {
        let verdict = verdicts
            .get(&q.id)
            .unwrap_or_else(|| panic!("no verdicts for {}", q.id));
        assert_eq!(verdict.len(), docs.len(), "verdict length for {}", q.id);
        let expr = match trailwatch::query::kql::parse(&q.query) {
            Ok(expr) => expr,
            Err(e) => {
                parse_failures.push(format!("{}: {}", q.id, e.render(&q.query)));
                continue;
            }
        };
        for (line, (doc, want)) in docs.iter().zip(verdict.chars()).enumerate() {
            let want = match want {
                '1' => true,
                '0' => false,
                'E' => {
                    skipped += 1;
                    continue;
                }
                other => panic!("bad verdict char {other:?} for {}", q.id),
            };
            compared += 1;
            let got = matches(&expr, &JsonDocument(doc));
            if got == want {
                agreed += 1;
            } else {
                disagreements.push(format!(
                    "{} line {}: expected {want}, got {got}\n  query: {}\n  doc: {doc}",
                    q.id,
                    line + 1,
                    q.query
                ));
            }
        }
    }
    println!(
        "kql vectors: {agreed}/{compared} pairs agree ({skipped} skipped as reference errors); \
         {} of {} queries parsed; parsed and evaluated in {:?}",
        queries.len() - parse_failures.len(),
        queries.len(),
        started.elapsed()
    );
    for f in &parse_failures {
        println!("PARSE FAILURE {f}");
    }
    for d in &disagreements {
        println!("DISAGREE {d}");
    }
    assert!(
        parse_failures.is_empty(),
        "{} queries did not parse",
        parse_failures.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements",
        disagreements.len()
    );
    assert_eq!(agreed, compared);
}
