//! `java_map_to_string` against the 3,150 real CloudTrail values whose exact Elasticsearch string
//! is in `shared/elastic/request-parameters-vectors.ndjson` (elastic-semantics.md §4).

// Tests fail by panicking; the crate-wide denials are for library code.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use trailwatch::ecs::java_map_to_string;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/elastic/request-parameters-vectors.ndjson"
);

#[test]
fn every_vector_prints_exactly_like_elasticsearch() {
    let text = std::fs::read_to_string(VECTORS).expect("vectors file readable");
    let mut total = 0usize;
    let mut mismatches = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).expect("vector line is JSON");
        let expected = v["expected"].as_str().expect("expected is a string");
        let got = java_map_to_string(&v["input"]);
        total += 1;
        if got.as_deref() != Some(expected) {
            mismatches.push(format!(
                "line {} ({} {}):\n  expected {expected}\n  got      {got:?}",
                n + 1,
                v["event_id"],
                v["field"]
            ));
        }
    }
    assert_eq!(total, 3150, "the vector file should hold 3,150 cases");
    assert!(
        mismatches.is_empty(),
        "{} of {total} mismatch:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
