//! The CLI as a user runs it: exit codes, formats, rules listing, exceptions, match.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::mmdb;

fn trailwatch(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("EXCEPTIONS_FILE")
        .env_remove("EXCEPTIONS_TOML");
    // Enrichment and account names only where a test asks for them.
    for var in [
        "GEOIP_ASN_DB",
        "GEOIP_CITY_DB",
        "ACCOUNT_NAMES",
        "ACCOUNT_NAMES_JSON",
        "ACCOUNT_NAMES_FILE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run trailwatch")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ndjson(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("ndjson line"))
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// Successful calls in the demo objects that the seed rules cover — the oracle, from the raw files.
fn demo_seed_hits() -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/cloudtrail");
    let mut n = 0;
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).expect("read");
            let text = if p.extension().is_some_and(|x| x == "gz") {
                use std::io::Read;
                let mut s = String::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut s)
                    .expect("gz");
                s
            } else {
                String::from_utf8(bytes).expect("utf8")
            };
            let doc: Value = serde_json::from_str(&text).expect("json");
            n += doc["Records"]
                .as_array()
                .expect("records")
                .iter()
                .filter(|r| r.get("errorCode").is_none() && r["eventSource"] == "rds.amazonaws.com")
                .filter(|r| {
                    matches!(
                        r["eventName"].as_str(),
                        Some("StartExportTask" | "CreateDBCluster" | "CreateGlobalCluster")
                    )
                })
                .count();
        }
    }
    n
}

#[test]
fn scan_prints_every_seed_hit_and_exits_zero() {
    let out = trailwatch(&["scan", "--format", "ndjson", "events/cloudtrail"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = ndjson(&out);
    let seeds = alerts
        .iter()
        .filter(|a| {
            matches!(
                a["kibana.alert.rule.rule_id"].as_str(),
                Some(
                    "119c8877-8613-416d-a98a-96b6664ee73a" | "e14c5fd7-fdd7-49c2-9e5b-ec49d817bc8d"
                )
            )
        })
        .count();
    assert_eq!(seeds, demo_seed_hits());
    // json is one array of the same alerts
    let json = trailwatch(&["scan", "--format", "json", "events/cloudtrail"], &[]);
    let arr: Value = serde_json::from_str(&stdout(&json)).expect("json array");
    assert_eq!(arr.as_array().map(Vec::len), Some(alerts.len()));
    // text is the email rendering, one subject line per alert
    let text = trailwatch(&["scan", "events/cloudtrail"], &[]);
    assert_eq!(
        stdout(&text)
            .lines()
            .filter(|l| l.starts_with("Subject: ["))
            .count(),
        alerts.len()
    );
}

#[test]
fn a_bad_file_beside_good_ones_exits_two_and_good_alerts_still_print() {
    let dir = tmp("bad");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "events/cloudtrail/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/123456789012_CloudTrail_us-east-1_20261122T1405Z_Demo0001.json.gz",
    );
    std::fs::copy(&demo, dir.join("good.json.gz")).expect("copy");
    std::fs::write(dir.join("bad.json.gz"), b"\x1f\x8b\x08\x00garbage").expect("write");
    let out = trailwatch(
        &["scan", "--format", "ndjson", dir.to_str().expect("utf8")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json.gz"), "{stderr}");
    assert!(ndjson(&out)
        .iter()
        .any(|a| a["kibana.alert.rule.rule_id"] == "119c8877-8613-416d-a98a-96b6664ee73a"));
    let missing = trailwatch(&["scan", "/nonexistent/trail.json.gz"], &[]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn exceptions_drop_matching_alerts_and_expired_ones_are_reported() {
    let dir = tmp("exc");
    let file = dir.join("exceptions.toml");
    std::fs::write(
        &file,
        "[[exception]]\nrule_id = \"e14c5fd7-fdd7-49c2-9e5b-ec49d817bc8d\"\nquery = 'user.name:\"ci-deployer\"'\nreason = \"CI creates clusters\"\n\n\
         [[exception]]\nrule_id = \"*\"\nquery = 'user.name:\"mallory\"'\nreason = \"expired long ago\"\nexpires = 2020-01-01\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf8");
    let base = ndjson(&trailwatch(
        &["scan", "--format", "ndjson", "events/cloudtrail"],
        &[],
    ));
    let with = ndjson(&trailwatch(
        &["scan", "--format", "ndjson", "events/cloudtrail"],
        &[("EXCEPTIONS_FILE", path)],
    ));
    let cluster = |v: &[Value]| {
        v.iter()
            .filter(|a| a["kibana.alert.rule.rule_id"] == "e14c5fd7-fdd7-49c2-9e5b-ec49d817bc8d")
            .count()
    };
    assert!(cluster(&base) > 0);
    assert_eq!(cluster(&with), 0);
    assert_eq!(
        with.len(),
        base.len() - cluster(&base),
        "the expired exception must not apply"
    );
    let list = trailwatch(&["rules", "list"], &[("EXCEPTIONS_FILE", path)]);
    assert!(stdout(&list).contains("EXPIRED"));
    assert!(String::from_utf8_lossy(&list.stderr).contains("expired on 2020-01-01"));
}

#[test]
fn rules_list_ndjson_has_one_object_per_rule_file() {
    let out = trailwatch(&["rules", "list", "--format", "ndjson"], &[]);
    assert!(out.status.success());
    let rows = ndjson(&out);
    let files = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
        .expect("rules dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    assert_eq!(rows.len(), files);
    for r in &rows {
        for key in ["rule_id", "name", "type", "language", "severity", "status"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        if r["rule_id"] == "93075852-b0f5-4b8b-89c3-a226efae5726" {
            // A new_terms rule, evaluated through trailwatch::state since issue 15.
            assert_eq!(r["status"], "active", "{r}");
        }
    }
    let show = trailwatch(
        &["rules", "show", "119c8877-8613-416d-a98a-96b6664ee73a"],
        &[],
    );
    assert!(stdout(&show).contains("Investigating AWS RDS Snapshot Export"));
    assert_eq!(
        trailwatch(&["rules", "show", "nope"], &[]).status.code(),
        Some(2)
    );
}

#[test]
fn scan_names_the_account_from_account_names_json_in_text_and_json() {
    let names = &[("ACCOUNT_NAMES_JSON", r#"{"123456789012": "demo-prod"}"#)];
    let text = trailwatch(&["scan", "--format", "text", "events/cloudtrail"], names);
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let out = stdout(&text);
    assert!(
        out.contains("Where:      account 123456789012 (demo-prod), region us-east-1"),
        "{out}"
    );
    assert!(out.contains(" in demo-prod/us-east-1\n"), "{out}");
    let json = trailwatch(&["scan", "--format", "ndjson", "events/cloudtrail"], names);
    let alerts = ndjson(&json);
    // The seed hits and the building blocks, every one in the named account.
    assert!(alerts.len() >= demo_seed_hits());
    assert!(alerts
        .iter()
        .all(|a| a["cloud.account.name"] == "demo-prod"));
    // Without the mapping: ids only, as before.
    let plain = ndjson(&trailwatch(
        &["scan", "--format", "ndjson", "events/cloudtrail"],
        &[],
    ));
    assert!(plain.iter().all(|a| a.get("cloud.account.name").is_none()));
    // A malformed mapping is a configuration error, not names silently missing.
    let bad = trailwatch(
        &["scan", "events/cloudtrail"],
        &[("ACCOUNT_NAMES_JSON", r#"{"prod": "123456789012"}"#)],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ACCOUNT_NAMES_JSON"));
}

#[test]
fn the_vpn_asn_rule_is_degraded_without_an_asn_database_and_active_with_one() {
    let status = |env: &[(&str, &str)]| {
        let out = trailwatch(&["rules", "list", "--format", "ndjson"], env);
        assert!(out.status.success());
        ndjson(&out)
            .into_iter()
            .find(|r| r["rule_id"] == "e3c7a891-4b2d-4e8c-a1f0-9d8e7c6b5a4d")
            .map(|r| (r["status"].clone(), r["degraded"].clone()))
            .expect("the VPN-ASN rule is listed")
    };
    assert_eq!(status(&[]), (Value::from("active"), Value::from(true)));
    let db = mmdb::test_asn_database();
    assert_eq!(
        status(&[("GEOIP_ASN_DB", db.to_str().expect("utf-8 path"))]),
        (Value::from("active"), Value::from(false))
    );
    // The text listing says what is missing.
    let text = stdout(&trailwatch(&["rules", "list"], &[]));
    let line = text
        .lines()
        .find(|l| l.starts_with("e3c7a891-4b2d-4e8c-a1f0-9d8e7c6b5a4d"))
        .expect("listed");
    assert!(
        line.ends_with("[active (degraded: needs GEOIP_ASN_DB)]"),
        "{line}"
    );
}

#[test]
fn match_behaves_like_grep() {
    let dir = tmp("match");
    let file = dir.join("docs.ndjson");
    std::fs::write(
        &file,
        "{\"event\":{\"action\":\"StartExportTask\",\"outcome\":\"success\"}}\n{\"event\":{\"action\":\"StartExportTask\",\"outcome\":\"failure\"}}\n",
    )
    .expect("write");
    let f = file.to_str().expect("utf8");
    let hit = trailwatch(&["match", "--query", "event.outcome:success", f], &[]);
    assert_eq!(hit.status.code(), Some(0));
    assert_eq!(stdout(&hit).lines().count(), 1);
    assert!(stdout(&hit).contains("\"success\""));
    let eql = trailwatch(
        &[
            "match",
            "--language",
            "eql",
            "--query",
            "any where event.outcome == \"failure\"",
            f,
        ],
        &[],
    );
    assert_eq!(eql.status.code(), Some(0));
    assert!(stdout(&eql).contains("\"failure\""));
    assert_eq!(
        trailwatch(&["match", "--query", "event.outcome:nothing", f], &[])
            .status
            .code(),
        Some(1)
    );
    let bad = trailwatch(&["match", "--query", "event.outcome:(success", f], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains('^'));
}

#[test]
fn progress_bar_stays_off_stderr_when_it_is_not_a_terminal_and_stdout_is_unchanged() {
    // Several objects (the bar's trigger on a terminal), one of them bad so that errors print.
    let dir = tmp("progress");
    std::fs::write(dir.join("bad.json"), b"not json").expect("write");
    let paths = ["events/cloudtrail", dir.to_str().expect("utf8")];
    let scan = |format: &str, extra: &[&str]| {
        let mut args = vec!["scan", "--format", format];
        args.extend_from_slice(extra);
        args.extend_from_slice(&paths);
        trailwatch(&args, &[("TRAILWATCH_LOG", "warn")])
    };
    let out = scan("ndjson", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\r') && !stderr.contains('\x1b'),
        "{stderr:?}"
    );
    assert!(
        !stderr.contains("objects, "),
        "bar message on stderr: {stderr}"
    );
    // Only the error and the summary: nothing a bar would have drawn.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].contains("bad.json"), "{stderr}");
    assert!(lines[1].starts_with("trailwatch: ") && lines[1].contains(" objects (1 failed)"));
    let alerts = stdout(&out);
    assert!(!alerts.is_empty());
    assert_eq!(alerts, stdout(&scan("ndjson", &["--no-progress"])));
    // The JSON array, written one element late for the bar, is byte for byte the classic layout.
    let json = stdout(&scan("json", &[]));
    let lines: Vec<&str> = alerts.lines().collect();
    assert_eq!(json, format!("[\n{}\n]\n", lines.join(",\n")));
}
