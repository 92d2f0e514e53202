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

const DATASET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/datasets/invictus-aws/CloudTrail"
);

/// The vectors come from the invictus dataset: read each one's record there (parsed from the
/// file, so with its keys in their real order) and check the view's `aws.cloudtrail.*` string.
#[test]
fn view_strings_match_the_vectors_on_the_real_records() {
    use std::collections::HashMap;
    use trailwatch::ecs::CloudTrailView;
    use trailwatch::engine::{Document, Value};

    let mut files: Vec<_> = std::fs::read_dir(DATASET)
        .expect("dataset dir readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let objects: Vec<serde_json::Value> = files
        .iter()
        .map(|p| {
            serde_json::from_str(&std::fs::read_to_string(p).expect("readable")).expect("JSON")
        })
        .collect();
    let mut by_id: HashMap<&str, &serde_json::Value> = HashMap::new();
    for o in &objects {
        for r in o["Records"].as_array().expect("Records") {
            if let Some(id) = r["eventID"].as_str() {
                by_id.insert(id, r);
            }
        }
    }
    let text = std::fs::read_to_string(VECTORS).expect("vectors file readable");
    let (mut checked, mut mismatches) = (0usize, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let Some(record) = by_id.get(v["event_id"].as_str().expect("event_id")) else {
            continue;
        };
        let path = match v["field"].as_str() {
            Some("requestParameters") => "aws.cloudtrail.request_parameters",
            Some("responseElements") => "aws.cloudtrail.response_elements",
            Some("additionalEventData") => "aws.cloudtrail.additional_eventdata",
            Some("serviceEventDetails") => "aws.cloudtrail.service_event_details",
            other => panic!("unknown field {other:?}"),
        };
        let expected = v["expected"].as_str().expect("expected");
        let view = CloudTrailView::new(record);
        let stored = view.stored_string(path);
        let mut indexed = None;
        view.any_value(path, &mut |x| {
            if let Value::Str(s) = x {
                indexed = Some(s.to_owned());
            }
            true
        });
        // Longer than ignore_above (request/response only): stored, not searchable.
        let searchable = expected.encode_utf16().count() <= 8191
            || path.ends_with("additional_eventdata")
            || path.ends_with("service_event_details");
        checked += 1;
        if stored != Some(expected) || indexed.is_some() != searchable {
            mismatches.push(format!("{} {path}", v["event_id"]));
        }
    }
    eprintln!("{checked} vectors checked through the view on their dataset records");
    assert!(
        checked >= 3000,
        "only {checked} vectors found in the dataset"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {checked}: {mismatches:?}",
        mismatches.len()
    );
}
