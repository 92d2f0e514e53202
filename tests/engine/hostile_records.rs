//! Hostile records (issue 14): nesting and damage that must not hide a record from the rules.
//! Each record here is one Elasticsearch indexes and Elastic's rule fires on, or one whose
//! readable head still names the event.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::robust;

use robust::{alerted_ids, event_id, export_record, DETECTOR, EXPORT_RULE};
use serde_json::{json, Value};
use trailwatch::detect::Collected;
use trailwatch::scan_collect;

/// `persistence_rds_cluster_creation.toml`: a successful CreateDBCluster.
const CLUSTER_RULE: &str = "e14c5fd7-fdd7-49c2-9e5b-ec49d817bc8d";

fn scan(name: &str, bytes: &[u8]) -> Collected {
    scan_collect(name, bytes, &DETECTOR)
}

/// A successful CreateDBCluster record (eventID from `n`) whose `requestParameters` is
/// `{"tags": <nested>}`; `nested` is raw JSON text, spliced in unparsed.
fn cluster_record_with(n: usize, nested: &str) -> String {
    let mut r = export_record(n);
    r["eventName"] = json!("CreateDBCluster");
    r["requestParameters"] = json!({"dBClusterIdentifier": "orders", "tags": "@NESTED@"});
    r["responseElements"] = Value::Null;
    r.to_string().replace("\"@NESTED@\"", nested)
}

fn one_record_object(record: &str) -> Vec<u8> {
    format!(r#"{{"Records":[{record}]}}"#).into_bytes()
}

fn nested_arrays(depth: usize) -> String {
    format!("{}\"deep\"{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn nested_request_parameters_still_alert() {
    for depth in [400, 100_000] {
        let object = one_record_object(&cluster_record_with(7, &nested_arrays(depth)));
        let report = scan("deep", &object);
        assert!(!report.failed(), "{depth}: {:?}", report.error);
        assert_eq!(
            report.bad_records, 0,
            "{depth}: {:?}",
            report.bad_record_messages
        );
        assert_eq!(report.partial_records, 0, "{depth}");
        assert_eq!(
            alerted_ids(&report.alerts, CLUSTER_RULE),
            [event_id(7)],
            "{depth} levels"
        );
    }
}

#[test]
fn nested_objects_in_request_parameters_still_alert() {
    let depth = 5_000;
    let nested = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let report = scan(
        "deep-objects",
        &one_record_object(&cluster_record_with(8, &nested)),
    );
    assert_eq!(report.bad_records, 0, "{:?}", report.bad_record_messages);
    assert_eq!(alerted_ids(&report.alerts, CLUSTER_RULE), [event_id(8)]);
}

#[test]
fn deep_record_alert_renders_in_every_format() {
    // The alert of a deep record goes through the ECS view, redaction and every renderer.
    let report = scan(
        "deep-render",
        &one_record_object(&cluster_record_with(9, &nested_arrays(200_000))),
    );
    let alert = report
        .alerts
        .iter()
        .find(|a| a.rule_id() == CLUSTER_RULE)
        .expect("the cluster alert");
    let email = trailwatch::alert::body(alert);
    assert!(email.contains("CreateDBCluster"), "{email}");
    let chatbot = trailwatch::alert::chatbot(alert);
    assert!(chatbot.to_string().contains("CreateDBCluster"));
    assert!(trailwatch::alert::json(alert).contains(&event_id(9)));
    let sns = trailwatch::alert::sns_message(alert);
    assert!(sns.size() <= trailwatch::alert::SNS_MAX_BYTES);
    // Dropping the alert and the report (deep values) must not overflow the stack either.
    drop(report);
}

#[test]
fn broken_tail_alerts_from_its_head_and_is_counted() {
    // Valid up to requestParameters, then invalid JSON: the head still names the event.
    let good = cluster_record_with(10, "[1, 2]");
    let cut = good
        .find("\"requestParameters\"")
        .expect("requestParameters");
    let broken = format!(
        "{}\"requestParameters\": {{\"a\": tru, \"b\": [}}], \"eventID\": \"{}\"}}",
        &good[..cut],
        event_id(10)
    );
    let object = format!(
        r#"{{"Records":[{},{broken},{}]}}"#,
        export_record(1),
        export_record(2)
    );
    let report = scan("broken-tail", object.as_bytes());
    assert!(!report.failed(), "{:?}", report.error);
    assert_eq!(report.bad_records, 1, "{report:?}");
    assert_eq!(report.partial_records, 1, "{report:?}");
    assert!(
        report.bad_record_messages[0].starts_with("record 1: invalid JSON"),
        "{:?}",
        report.bad_record_messages
    );
    assert_eq!(alerted_ids(&report.alerts, CLUSTER_RULE), [event_id(10)]);
    assert_eq!(
        alerted_ids(&report.alerts, EXPORT_RULE),
        [event_id(1), event_id(2)]
    );
}

#[test]
fn broken_record_with_an_error_code_in_its_head_stays_failed() {
    // The head carries errorCode: the outcome is failure, the success-only rule stays quiet.
    let good = cluster_record_with(11, "[1]");
    let cut = good
        .find("\"requestParameters\"")
        .expect("requestParameters");
    let broken = format!(
        "{}\"errorCode\": \"AccessDenied\", \"requestParameters\": {{\"a\": }}}}",
        &good[..cut]
    );
    let report = scan("broken-denied", &one_record_object(&broken));
    assert_eq!(report.partial_records, 1, "{report:?}");
    assert!(alerted_ids(&report.alerts, CLUSTER_RULE).is_empty());
}

/// One of each invisible class: U+061C, the zero-width characters, the soft hyphen, tags,
/// noncharacters, and other format (Cf) characters (invisible plus, Mongolian vowel separator,
/// an Egyptian format control, a bidi override).
const INVISIBLE: [char; 17] = [
    '\u{61C}',
    '\u{200B}',
    '\u{200C}',
    '\u{200D}',
    '\u{2060}',
    '\u{FEFF}',
    '\u{AD}',
    '\u{E0001}',
    '\u{E0041}',
    '\u{E007F}',
    '\u{FDD0}',
    '\u{FFFE}',
    '\u{FFFF}',
    '\u{10FFFF}',
    '\u{2064}',
    '\u{180E}',
    '\u{13430}',
];

/// An alerting record with every invisible class in the fields an attacker controls.
fn invisible_record() -> Value {
    let hidden: String = INVISIBLE.iter().collect();
    let mut r = export_record(20);
    r["userAgent"] = json!(format!("aws-cli{hidden}/2"));
    r["userIdentity"]["arn"] = json!(format!(
        "arn:aws:sts::111122223333:assumed-role/A/al{hidden}ice"
    ));
    r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] =
        json!(format!("Ad{hidden}min"));
    r["requestParameters"][format!("s3{hidden}Prefix")] = json!(format!("pre{hidden}fix"));
    r["requestParameters"]["s3BucketName"] = json!(format!("exfil{hidden}-bucket"));
    r
}

fn assert_no_invisible(what: &str, text: &str) {
    for c in INVISIBLE {
        assert!(
            !text.contains(c),
            "U+{:04X} raw in the {what}: {text:?}",
            c as u32
        );
    }
}

fn assert_escaped(what: &str, text: &str) {
    for c in INVISIBLE {
        let escape = format!("\\u{{{:x}}}", c as u32);
        assert!(
            text.contains(&escape),
            "{escape} missing from the {what}: {text}"
        );
    }
}

#[test]
fn invisible_characters_are_escaped_in_email_chatbot_and_cli_text() {
    let object = robust::object(&[invisible_record()]);
    let report = scan("invisible", &object);
    let alerts: Vec<_> = report
        .alerts
        .iter()
        .filter(|a| a.rule_id() == EXPORT_RULE)
        .collect();
    assert_eq!(alerts.len(), 1, "{report:?}");
    let sns = trailwatch::alert::sns_message(alerts[0]);
    assert!(sns.subject.is_ascii(), "{:?}", sns.subject);
    let messages: Value = serde_json::from_str(&sns.message).expect("message structure");
    let email = messages["email"].as_str().expect("email");
    assert_no_invisible("email", email);
    assert_escaped("email", email);
    let chatbot = messages["https"].as_str().expect("chatbot");
    let chatbot: Value = serde_json::from_str(chatbot).expect("chatbot JSON");
    let description = chatbot["content"]["description"]
        .as_str()
        .expect("description");
    assert_no_invisible("chatbot", &chatbot.to_string());
    assert_escaped("chatbot description", description);
    for (name, value) in &sns.attributes {
        assert_no_invisible(name, value);
    }

    let dir = robust::TempDir::new("invisible");
    let path = dir.0.join("invisible.json");
    std::fs::write(&path, &object).expect("write the object");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["scan", "--format", "text"])
        .arg(&path)
        .output()
        .expect("run trailwatch");
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(text.contains("StartExportTask"), "{text}");
    assert_no_invisible("CLI text", &text);
    assert_escaped("CLI text", &text);
}
