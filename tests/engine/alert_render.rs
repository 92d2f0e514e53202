#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Alert construction and rendering through the public API: golden files for every renderer,
//! the whole triage guide in the email, the SNS size limit, injection and secret safety, ids.
//!
//! `UPDATE_GOLDEN=1 cargo test --test alert_render` rewrites the golden files.
#[path = "alert_render/ecs_doc.rs"]
mod ecs_doc;
#[path = "alert_render/enriched.rs"]
mod enriched;
#[path = "alert_render/hostile.rs"]
mod hostile;
use crate::mmdb;

use std::path::{Path, PathBuf};

use ecs_doc::ecs;
use serde_json::{json, Value as Json};
use trailwatch::alert::{self, key, Alert};
use trailwatch::ecs::CloudTrailView;
use trailwatch::engine::JsonDocument;
use trailwatch::rules::{Rule, RuleFile};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared");
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/samples");
const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");

pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn rule_file(path: impl AsRef<Path>) -> Rule {
    let path = path.as_ref();
    let file: RuleFile =
        toml::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.rule
}

pub fn project_rule(name: &str) -> Rule {
    rule_file(Path::new(RULES).join(name))
}

/// Line `n` (0-based) of the synthetic RDS sample records.
pub fn synthetic(n: usize) -> Json {
    let text = read(format!("{SAMPLES}/SYNTHETIC_rds_events.ndjson"));
    let line = text.lines().nth(n).unwrap_or_else(|| panic!("no line {n}"));
    serde_json::from_str(line).expect("sample record is JSON")
}

pub fn sample(name: &str) -> Json {
    serde_json::from_str(&read(format!("{SAMPLES}/{name}"))).expect("sample record is JSON")
}

/// The alert as production builds it: through the CloudTrail view.
pub fn alert_for(rule: &Rule, record: &Json) -> Alert {
    Alert::new(rule, &CloudTrailView::new(record), record)
}

/// A rule written for these tests, exercising what the project's two rules do not:
/// investigation fields, a building-block type, techniques with sub-techniques, Markdown links
/// and code in the guide.
fn test_rule() -> Rule {
    toml::from_str::<RuleFile>(
        r###"
[rule]
rule_id = "00000000-test-4000-8000-000000000001"
name = "Test RDS Instance Modification"
type = "query"
language = "kuery"
query = "event.action:ModifyDBInstance"
description = "A test rule for ModifyDBInstance."
severity = "high"
risk_score = 73
building_block_type = "default"
references = ["https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html"]
note = """## Triage and analysis

### Possible investigation steps

- Check `aws.cloudtrail.request_parameters` for **masterUserPassword**.
  - Nested: see [the API](https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
1. Numbered steps stay numbered.

> Quoted advice.

```
aws rds describe-db-instances --db-instance-identifier <id>
```
"""

[rule.investigation_fields]
field_names = ["user.name", "source.ip", "aws.cloudtrail.error_code", "event.outcome"]

[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
id = "TA0003"
name = "Persistence"
reference = "https://attack.mitre.org/tactics/TA0003/"
[[rule.threat.technique]]
id = "T1098"
name = "Account Manipulation"
reference = "https://attack.mitre.org/techniques/T1098/"
[[rule.threat.technique.subtechnique]]
id = "T1098.001"
name = "Additional Cloud Credentials"
reference = "https://attack.mitre.org/techniques/T1098/001/"
"###,
    )
    .expect("test rule parses")
    .rule
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file, or writes it with `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("create tests/golden");
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b);
        panic!(
            "{name} differs from the golden file (first differing line {first:?}); rerun with UPDATE_GOLDEN=1 \
             if the change is intended\n--- actual ---\n{actual}"
        );
    }
}

fn golden_all(name: &str, alert: &Alert) {
    check_golden(
        &format!("{name}.alert.json"),
        &(alert::json_pretty(alert) + "\n"),
    );
    check_golden(
        &format!("{name}.email.txt"),
        &format!(
            "Subject: {}\n\n{}",
            alert::subject(alert),
            alert::body(alert)
        ),
    );
    let chatbot = serde_json::to_string_pretty(&alert::chatbot(alert)).expect("chatbot JSON");
    check_golden(&format!("{name}.chatbot.json"), &(chatbot + "\n"));
    let sns = alert::sns_message(alert);
    let message: Json = serde_json::from_str(&sns.message).expect("SNS message is JSON");
    let sns_view =
        json!({"subject": sns.subject, "attributes": sns.attributes, "message": message});
    check_golden(
        &format!("{name}.sns.json"),
        &(serde_json::to_string_pretty(&sns_view).expect("json") + "\n"),
    );
}

#[test]
fn golden_snapshot_export() {
    let alert = alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &synthetic(0),
    );
    golden_all("snapshot_export", &alert);
}

#[test]
fn golden_cluster_creation() {
    let alert = alert_for(
        &project_rule("persistence_rds_cluster_creation.toml"),
        &sample("sumologic-docs_CreateDBCluster.json"),
    );
    golden_all("cluster_creation", &alert);
}

#[test]
fn golden_failed_modification_with_investigation_fields() {
    golden_all("modify_failed", &alert_for(&test_rule(), &synthetic(4)));
}

#[test]
fn golden_flood_summary() {
    let rule = project_rule("exfiltration_rds_snapshot_export.toml");
    let alerts: Vec<Alert> = (0..25)
        .map(|n| {
            let mut record = synthetic(0);
            record["eventID"] = json!(format!("11111111-0000-4000-8000-{n:012}"));
            record["eventTime"] = json!(format!("2024-11-05T09:30:{n:02}Z"));
            if n % 3 == 0 {
                record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] =
                    json!("Ops");
            }
            alert_for(&rule, &record)
        })
        .collect();
    let policy = trailwatch::detect::Policy {
        max_per_rule: Some(trailwatch::detect::DEFAULT_PER_RULE_LIMIT),
        building_blocks: true,
    };
    let mut sink =
        trailwatch::detect::FloodControl::new(policy, trailwatch::sink::Collector::default());
    for a in alerts {
        trailwatch::sink::AlertSink::send(&mut sink, a).unwrap();
    }
    trailwatch::sink::AlertSink::end_object(&mut sink).unwrap();
    let out = sink.into_inner().alerts;
    assert_eq!(out.len(), 21);
    golden_all("flood_summary", &out[20]);
}

#[test]
fn alert_has_elastic_fields_investigation_fields_first_and_stable_order() {
    let a = alert_for(&test_rule(), &synthetic(4));
    let keys: Vec<&str> = a.fields().iter().map(|(k, _)| k.as_str()).collect();
    let pos = |k: &str| {
        keys.iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k} in {keys:?}"))
    };
    for k in [
        key::UUID,
        key::RULE_ID,
        key::RULE_NAME,
        key::DESCRIPTION,
        key::NOTE,
        key::REFERENCES,
        key::THREAT,
        key::SEVERITY,
        key::RISK_SCORE,
        key::ORIGINAL_TIME,
        key::REASON,
        key::BUILDING_BLOCK,
    ] {
        pos(k);
    }
    // Investigation fields in the rule's order, before the other event fields.
    let inv = [
        "user.name",
        "source.ip",
        "aws.cloudtrail.error_code",
        "event.outcome",
    ]
    .map(pos);
    assert!(inv.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    assert!(
        inv[3] < pos("event.action") && inv[3] < pos("cloud.account.id"),
        "{keys:?}"
    );
    assert_eq!(
        a.get_str(key::ORIGINAL_TIME),
        Some("2024-11-05T09:53:30.000Z")
    );
    assert_eq!(a.get_str(key::BUILDING_BLOCK), Some("default"));
    assert_eq!(a.get_str(key::ERROR_CODE), Some("AccessDenied"));
    assert_eq!(
        alert::json(&a),
        alert::json(&alert_for(&test_rule(), &synthetic(4)))
    );
    let parsed: serde_json::Map<String, Json> =
        serde_json::from_str(&alert::json(&a)).expect("alert JSON");
    assert_eq!(parsed.len(), keys.len());
}

#[test]
fn reason_reads_like_elastic() {
    let a = alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &synthetic(0),
    );
    assert_eq!(
        a.get_str(key::REASON),
        Some("event with action StartExportTask by DBAdmin on rds.amazonaws.com created low alert AWS RDS Snapshot Export.")
    );
}

/// Every rule file of the project (and all of Elastic's AWS rules, read in place): the email carries
/// the whole guide. Checked two ways: each line of our plain-text rendering is in the body, and
/// each non-empty line of the raw Markdown, stripped of markup characters and whitespace, is in
/// the body stripped the same way — so a line dropped by the renderer is caught either way.
#[test]
fn email_contains_the_whole_guide_of_every_rule() {
    let mut files: Vec<PathBuf> = Vec::new();
    let elastic = Path::new(SHARED).join("elastic/rules");
    let mut dirs = vec![PathBuf::from(RULES)];
    // Elastic's own rule files, beside the clone: `make conformance`.
    if cfg!(feature = "conformance") {
        dirs.extend(["rds", "rds/deprecated", "aws-kuery", "aws-eql"].map(|d| elastic.join(d)));
    }
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    let project = std::fs::read_dir(RULES).map(|d| d.count()).unwrap_or(0);
    let expected = if cfg!(feature = "conformance") {
        project + 180
    } else {
        project
    };
    assert!(
        project >= 30 && files.len() >= expected,
        "{} rule files",
        files.len()
    );
    let strip = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && !"*`#>[]()-=".contains(*c))
            .collect::<String>()
    };
    let mut checked = 0;
    for path in files {
        let rule = rule_file(&path);
        let Some(note) = rule.note.clone() else {
            continue;
        };
        let body = alert::body(&alert_for(&rule, &synthetic(0)));
        for line in alert::markdown_to_text(&note)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            assert!(
                body.contains(line),
                "{}: rendered guide line missing: {line:?}",
                path.display()
            );
        }
        let flat_body = strip(&body);
        for raw in note.lines().map(strip).filter(|l| !l.is_empty()) {
            assert!(
                flat_body.contains(&raw),
                "{}: guide line missing: {raw:?}",
                path.display()
            );
            checked += 1;
        }
    }
    // Every project guide has dozens of lines; Elastic's catalogue adds thousands.
    let floor = if cfg!(feature = "conformance") {
        3000
    } else {
        20 * project
    };
    assert!(checked > floor, "only {checked} guide lines checked");
}

#[test]
fn email_has_links_parameters_mitre_and_references() {
    let a = alert_for(
        &project_rule("exfiltration_rds_snapshot_export.toml"),
        &synthetic(0),
    );
    let body = alert::body(&a);
    for expected in [
        "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/11111111-0000-4000-8000-009870076469",
        "https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#db-snapshot:id=prod-orders-2024-11-05",
        "\ns3BucketName: exfil-bucket-4455\n",
        "Tactic: Exfiltration (TA0010) https://attack.mitre.org/tactics/TA0010/",
        "119c8877-8613-416d-a98a-96b6664ee73a",
        "- https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StartExportTask.html",
        "From:       198.51.100.23",
    ] {
        assert!(body.contains(expected), "missing {expected:?} in\n{body}");
    }
    assert_eq!(
        alert::subject(&a),
        "[LOW] AWS RDS Snapshot Export by DBAdmin in 111122223333/us-east-1"
    );
}

#[test]
fn same_input_same_id() {
    let rule = project_rule("exfiltration_rds_snapshot_export.toml");
    let a = alert_for(&rule, &synthetic(0));
    let b = alert_for(&rule, &synthetic(0));
    assert_eq!(a.uuid(), b.uuid());
    assert_eq!(alert::sns_message(&a), alert::sns_message(&b));
}

#[test]
fn different_rule_or_event_different_id() {
    let export = project_rule("exfiltration_rds_snapshot_export.toml");
    let creation = project_rule("persistence_rds_cluster_creation.toml");
    let r0 = synthetic(0);
    let mut r0_other_id = r0.clone();
    r0_other_id["eventID"] = json!("11111111-0000-4000-8000-000000000000");
    let ids = [
        alert_for(&export, &r0).uuid().to_string(),
        alert_for(&creation, &r0).uuid().to_string(),
        alert_for(&export, &r0_other_id).uuid().to_string(),
        alert_for(&export, &synthetic(1)).uuid().to_string(),
    ];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn without_event_id_the_id_comes_from_the_record_bytes() {
    let rule = project_rule("exfiltration_rds_snapshot_export.toml");
    let mut record = synthetic(0);
    record.as_object_mut().expect("object").remove("eventID");
    // The same record with its keys in another order is the same record.
    let reordered: Json = {
        let mut pairs: Vec<(String, Json)> = record
            .as_object()
            .expect("object")
            .clone()
            .into_iter()
            .collect();
        pairs.reverse();
        Json::Object(pairs.into_iter().collect())
    };
    let mut changed = record.clone();
    changed["eventTime"] = json!("2024-11-05T09:30:03Z");
    let id = alert_for(&rule, &record).uuid().to_string();
    assert_eq!(id, alert_for(&rule, &reordered).uuid());
    assert_ne!(id, alert_for(&rule, &changed).uuid());
    assert_ne!(id, alert_for(&rule, &synthetic(0)).uuid());
}

/// The alert reads the event only through `Document`: a plain nested-JSON ECS document (with
/// fewer fields than the view derives) gives the same value for every field it has, except the
/// `request_parameters` string, whose key order only the view reproduces (Java HashMap order).
#[test]
fn alert_is_the_same_through_any_document() {
    for (rule, record) in [
        (
            project_rule("exfiltration_rds_snapshot_export.toml"),
            synthetic(0),
        ),
        (test_rule(), synthetic(4)),
        (
            project_rule("persistence_rds_cluster_creation.toml"),
            sample("sumologic-docs_CreateDBCluster.json"),
        ),
    ] {
        let via_view = alert_for(&rule, &record);
        let ecs_doc = ecs(&record);
        let via_json = Alert::new(&rule, &JsonDocument(&ecs_doc), &record);
        assert!(via_json.fields().len() >= 30, "{:?}", via_json.fields());
        for (k, v) in via_json.fields() {
            if k != key::REQUEST_PARAMETERS {
                assert_eq!(via_view.get(k), Some(v), "{k}");
            }
        }
        assert!(
            via_view.get(key::REQUEST_PARAMETERS).is_some()
                && via_json.get(key::REQUEST_PARAMETERS).is_some()
        );
        // Same order too, for the fields both have.
        let order = |a: &Alert| -> Vec<String> {
            a.fields()
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| via_json.get(k).is_some())
                .collect()
        };
        assert_eq!(order(&via_view), order(&via_json));
    }
}
