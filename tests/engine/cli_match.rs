//! `trailwatch match` as a user runs it: gzip by content, dotted keys as Elasticsearch indexes
//! them, `--cloudtrail` through the ECS view, and query errors rendered with carets (also in
//! `rules list`/`rules show` for a rule file whose query does not compile).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn trailwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(args)
        .env_remove("EXCEPTIONS_FILE")
        .env_remove("EXCEPTIONS_TOML")
        .output()
        .expect("run trailwatch")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-match-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn write(path: &Path, bytes: &[u8]) -> String {
    std::fs::write(path, bytes).expect("write");
    path.to_str().expect("utf8").to_owned()
}

/// `match` on `file` with `query` (KQL unless `eql`), and the lines it printed.
fn run_match(file: &str, query: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let mut args = vec!["match", "--query", query];
    args.extend_from_slice(extra);
    args.push(file);
    let out = trailwatch(&args);
    let lines = stdout(&out).lines().map(str::to_owned).collect();
    (out.status.code(), lines, stderr(&out))
}

#[test]
fn match_reads_gzip_detected_by_content_not_name() {
    let dir = tmp("gzip");
    let docs = "{\"event\":{\"action\":\"A\"}}\n{\"event\":{\"action\":\"B\"}}\n";
    // No `.gz` in the name: the magic bytes decide.
    let file = write(&dir.join("docs.ndjson"), &gzip(docs.as_bytes()));
    let (code, lines, err) = run_match(&file, "event.action:B", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines, vec!["{\"event\":{\"action\":\"B\"}}"]);
    let plain = write(&dir.join("docs.json.gz"), docs.as_bytes());
    let (code, lines, err) = run_match(&plain, "event.action:A", &[]);
    assert_eq!((code, lines.len()), (Some(0), 1), "{err}");
    assert_eq!(run_match(&file, "event.action:C", &[]).0, Some(1));
}

#[test]
fn dotted_keys_nested_objects_and_mixes_are_the_same_document() {
    let dir = tmp("dotted");
    let docs = [
        json!({"id": 1, "event.action": "X", "event.provider": "a"}),
        json!({"id": 2, "event": {"action": "X", "provider": "a"}}),
        json!({"id": 3, "event.provider": "a", "event": {"action": "X"}}),
        json!({"id": 4, "event": {"action": "Y", "provider": "a"}}),
        // Arrays of objects flatten: `related.user.name` has both values.
        json!({"id": 5, "related": [{"user.name": "alice"}, {"user": {"name": "X"}}], "event.action": "X"}),
    ];
    let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
    let file = write(&dir.join("docs.ndjson"), text.as_bytes());
    let ids = |lines: &[String]| -> Vec<i64> {
        lines
            .iter()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_i64()
                    .unwrap()
            })
            .collect()
    };
    for (lang, query) in [
        ("kuery", "event.action:X and event.provider:a"),
        (
            "eql",
            "any where event.action == \"X\" and event.provider == \"a\"",
        ),
    ] {
        let (code, lines, err) = run_match(&file, query, &["--language", lang]);
        assert_eq!(code, Some(0), "{lang}: {err}");
        assert_eq!(ids(&lines), vec![1, 2, 3], "{lang}");
    }
    let (_, lines, _) = run_match(&file, "related.user.name:alice", &[]);
    assert_eq!(ids(&lines), vec![5]);
    let (_, lines, _) = run_match(&file, "related.user.name:X and event.action:X", &[]);
    assert_eq!(ids(&lines), vec![5]);
    // Printed as written: the dotted line is not rewritten.
    let (_, lines, _) = run_match(&file, "id:1", &[]);
    assert_eq!(lines, vec![docs[0].to_string()]);
}

#[test]
fn a_document_elasticsearch_would_reject_is_an_error_and_the_others_still_match() {
    let dir = tmp("reject");
    let text = "{\"a\":1,\"a.b\":2}\n{\"a\":{\"b\":2}}\n";
    let file = write(&dir.join("docs.ndjson"), text.as_bytes());
    let (code, lines, err) = run_match(&file, "a.b:2", &[]);
    assert_eq!(
        code,
        Some(2),
        "an unreadable document fails the run, like grep"
    );
    assert_eq!(lines, vec!["{\"a\":{\"b\":2}}"]);
    assert!(err.contains("docs.ndjson:1:"), "{err}");
    assert!(err.contains("`a` is both a value and an object"), "{err}");
}

/// Hand-written CloudTrail records: a successful RDS export by alice, the same call failing for
/// bob, and an S3 read.
fn records() -> Vec<Value> {
    let record = |id: &str, user: &str, source: &str, name: &str, error: Option<&str>| {
        let mut r = json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::123456789012:user/{user}"),
                             "accountId": "123456789012", "userName": user},
            "eventTime": "2026-11-22T14:02:24Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": {"exportTaskIdentifier": "exp-1"},
            "responseElements": null,
            "eventID": id,
            "eventType": "AwsApiCall",
            "recipientAccountId": "123456789012"
        });
        if let Some(code) = error {
            r["errorCode"] = json!(code);
        }
        r
    };
    vec![
        record("e-1", "alice", "rds.amazonaws.com", "StartExportTask", None),
        record(
            "e-2",
            "bob",
            "rds.amazonaws.com",
            "StartExportTask",
            Some("AccessDenied"),
        ),
        record("e-3", "alice", "s3.amazonaws.com", "GetObject", None),
    ]
}

fn event_ids(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one raw record per line");
            v["eventID"].as_str().expect("a raw record").to_owned()
        })
        .collect()
}

#[test]
fn cloudtrail_mode_evaluates_ecs_queries_on_raw_records_in_every_input_form() {
    let dir = tmp("cloudtrail");
    let records = records();
    let object = json!({ "Records": records });
    let inputs = [
        ("object.json.gz", gzip(object.to_string().as_bytes())),
        ("object.json", object.to_string().into_bytes()),
        // Pretty-printed (as `jq .` writes it): each record spans lines, is printed on one.
        (
            "pretty.json",
            serde_json::to_string_pretty(&object).unwrap().into_bytes(),
        ),
        // `Records` not the first key: not streamed, still read as an object.
        (
            "sorted.json",
            format!("{{\"A\":1,\"Records\":{}}}", Value::from(records.clone())).into_bytes(),
        ),
        (
            "records.ndjson",
            records
                .iter()
                .map(|r| format!("{r}\n"))
                .collect::<String>()
                .into_bytes(),
        ),
        (
            "records.ndjson.gz",
            gzip(
                records
                    .iter()
                    .map(|r| format!("{r}\n"))
                    .collect::<String>()
                    .as_bytes(),
            ),
        ),
    ];
    for (name, bytes) in inputs {
        let file = write(&dir.join(name), &bytes);
        // ECS names only: event.provider ← eventSource, event.outcome ← errorCode, user.name ←
        // userIdentity.userName; none of them is a key of the raw record.
        let (code, lines, err) = run_match(
            &file,
            "event.provider:rds.amazonaws.com and event.action:StartExportTask and event.outcome:success",
            &["--cloudtrail"],
        );
        assert_eq!(code, Some(0), "{name}: {err}");
        assert_eq!(event_ids(&lines), vec!["e-1"], "{name}");
        let raw: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(raw, records[0], "{name}: the raw record, not its ECS view");
        let (code, lines, err) = run_match(
            &file,
            "any where user.name == \"alice\" and aws.cloudtrail.user_identity.type == \"IAMUser\"",
            &["--cloudtrail", "--language", "eql"],
        );
        assert_eq!(code, Some(0), "{name}: {err}");
        assert_eq!(event_ids(&lines), vec!["e-1", "e-3"], "{name}");
        let (code, lines, _) = run_match(
            &file,
            "event.outcome:failure and user.name:bob",
            &["--cloudtrail"],
        );
        assert_eq!(
            (code, event_ids(&lines)),
            (Some(0), vec!["e-2".to_owned()]),
            "{name}"
        );
        // The raw field names are not ECS fields: nothing matches them.
        let (code, lines, _) = run_match(&file, "eventName:StartExportTask", &["--cloudtrail"]);
        assert_eq!((code, lines.len()), (Some(1), 0), "{name}");
    }
    // An `info where` rule tests its event_category_override (`event.type`, which the pipeline
    // sets to `info`), not `event.category`.
    let file = dir.join("records.ndjson");
    let file = file.to_str().unwrap();
    let info = "info where event.action == \"GetObject\"";
    let eql = ["--cloudtrail", "--language", "eql"];
    assert_eq!(run_match(file, info, &eql).0, Some(1));
    let (code, lines, err) = run_match(
        file,
        info,
        &[&eql[..], &["--event-category-field", "event.type"]].concat(),
    );
    assert_eq!(
        (code, event_ids(&lines)),
        (Some(0), vec!["e-3".to_owned()]),
        "{err}"
    );
    // Without --cloudtrail the same file is a plain JSON document: the ECS query does not match.
    let file = write(
        &dir.join("plain.ndjson"),
        format!("{}\n", records[0]).as_bytes(),
    );
    assert_eq!(
        run_match(&file, "event.provider:rds.amazonaws.com", &[]).0,
        Some(1)
    );
    assert_eq!(
        run_match(&file, "event.provider:rds.amazonaws.com", &["--cloudtrail"]).0,
        Some(0)
    );
}

#[test]
fn cloudtrail_mode_reports_a_bad_record_and_still_prints_the_good_ones() {
    let dir = tmp("cloudtrail-bad");
    let records = records();
    let text = format!("{}\n[1, 2]\nnot json\n{}\n", records[0], records[2]);
    let file = write(&dir.join("records.ndjson"), text.as_bytes());
    let (code, lines, err) = run_match(&file, "user.name:alice", &["--cloudtrail"]);
    assert_eq!(code, Some(2));
    assert_eq!(event_ids(&lines), vec!["e-1", "e-3"]);
    assert!(
        err.contains("records.ndjson:2: not a CloudTrail record"),
        "{err}"
    );
    assert!(err.contains("records.ndjson:3: not JSON"), "{err}");
}

/// The stderr of a `match` whose query does not compile: exit 2, nothing on stdout.
fn query_error(query: &str, language: &str) -> String {
    let dir = tmp("errors");
    let file = write(&dir.join("docs.ndjson"), b"{\"a\":1}\n");
    let (code, lines, err) = run_match(&file, query, &["--language", language]);
    assert_eq!(code, Some(2), "{err}");
    assert!(lines.is_empty());
    err
}

/// The column (in characters) of the `^` under the excerpt (`N | text`) of the query line `line`.
fn caret_column(rendered: &str, line: &str) -> usize {
    let mut lines = rendered.lines();
    lines
        .find(|l| l.ends_with(&format!(" | {line}")))
        .unwrap_or_else(|| panic!("no excerpt of {line:?} in {rendered}"));
    let carets = lines.next().unwrap();
    let gutter = carets.find(" | ").unwrap() + 3;
    carets[gutter..].chars().take_while(|c| *c == ' ').count()
}

#[test]
fn match_renders_kql_and_eql_syntax_errors_with_a_caret_at_the_right_column() {
    let err = query_error("event.action:(a or b", "kuery");
    assert!(err.starts_with("trailwatch: invalid KQL query:\n"), "{err}");
    assert_eq!(caret_column(&err, "event.action:(a or b"), 20, "{err}");
    assert!(err.contains("^ opened here"), "{err}");

    // Non-ASCII before the error: columns are characters, not bytes.
    let err = query_error("user.name:\"Zoë\" AND event.action:x", "kuery");
    assert_eq!(
        caret_column(&err, "user.name:\"Zoë\" AND event.action:x"),
        16,
        "{err}"
    );

    let err = query_error(
        "any where user.name == \"Zoë\" and event.action = \"x\"",
        "eql",
    );
    assert!(
        err.starts_with("trailwatch: invalid EQL query:\n`=` is not a comparison"),
        "{err}"
    );
    assert_eq!(
        caret_column(
            &err,
            "any where user.name == \"Zoë\" and event.action = \"x\""
        ),
        46,
        "{err}"
    );

    // A multi-line EQL query: the excerpt is the line of the error, numbered.
    let query = "any where event.provider == \"rds.amazonaws.com\"\n  and event.action in (\"A\", \"B\")\n  and user.name = \"x\"";
    let err = query_error(query, "eql");
    assert!(err.contains("\n3 |   and user.name = \"x\"\n"), "{err}");
    assert_eq!(caret_column(&err, "  and user.name = \"x\""), 16, "{err}");
    // Unclosed over several lines: the caret where `)` was expected, and at the `(`.
    let query = "any where event.action in (\"A\", \"B\"\n  and user.name == \"x\"";
    let err = query_error(query, "eql");
    assert!(err.contains("found end of query\n2 |"), "{err}");
    assert_eq!(caret_column(&err, "  and user.name == \"x\""), 22, "{err}");
    assert_eq!(
        caret_column(&err, "any where event.action in (\"A\", \"B\""),
        26,
        "{err}"
    );
    assert!(err.trim_end().ends_with("^ opened here"), "{err}");
}

const BROKEN_RULES: [(&str, &str, &str); 2] = [
    (
        "bad_kql.toml",
        "kuery",
        "event.provider:rds.amazonaws.com and\n  event.action:(CreateDBCluster or\n",
    ),
    (
        "bad_eql.toml",
        "eql",
        "any where event.provider == \"rds.amazonaws.com\"\n  and event.action = \"CreateDBCluster\"\n",
    ),
];

fn broken_rules_dir() -> PathBuf {
    let dir = tmp("rules");
    for (i, (file, language, query)) in BROKEN_RULES.iter().enumerate() {
        let rule_type = if *language == "eql" { "eql" } else { "query" };
        let toml = format!(
            "[metadata]\nmaturity = \"production\"\n\n[rule]\nrule_id = \"00000000-0000-4000-8000-00000000000{i}\"\n\
             name = \"Broken {language}\"\ntype = \"{rule_type}\"\nlanguage = \"{language}\"\nseverity = \"low\"\n\
             risk_score = 21\ndescription = \"Its query does not compile.\"\nquery = '''\n{query}'''\n"
        );
        std::fs::write(dir.join(file), toml).expect("write rule");
    }
    dir
}

#[test]
fn rules_list_and_show_print_the_rendered_error_of_a_rule_whose_query_does_not_compile() {
    let dir = broken_rules_dir();
    let dir = dir.to_str().unwrap();
    let list = trailwatch(&["rules", "list", "--rules", dir]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let text = stdout(&list);
    let errors = text
        .split("\nquery errors:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no query errors section: {text}"));
    assert!(
        errors.contains("KQL error: expected a value, found the end of the query\n"),
        "{errors}"
    );
    assert_eq!(
        caret_column(errors, "  event.action:(CreateDBCluster or"),
        34,
        "{errors}"
    );
    assert!(
        errors.contains("EQL error: `=` is not a comparison, use `==`\n"),
        "{errors}"
    );
    assert_eq!(
        caret_column(errors, "  and event.action = \"CreateDBCluster\""),
        19,
        "{errors}"
    );
    // One line per rule in the table still.
    assert!(text
        .lines()
        .any(|l| l.starts_with("00000000-0000-4000-8000-000000000001")
            && l.ends_with("[skipped: EQL error: `=` is not a comparison, use `==`]")));

    let ndjson = trailwatch(&["rules", "list", "--rules", dir, "--format", "ndjson"]);
    let rows: Vec<Value> = stdout(&ndjson)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let broken: Vec<&Value> = rows
        .iter()
        .filter(|r| r.get("query_error").is_some())
        .collect();
    assert_eq!(broken.len(), 2, "only the broken rules carry query_error");
    assert!(broken
        .iter()
        .all(|r| r["status"] == "skipped" && r["query_error"].as_str().unwrap().contains("\n  |")));

    let show = trailwatch(&[
        "rules",
        "show",
        "--rules",
        dir,
        "00000000-0000-4000-8000-000000000001",
    ]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(
        text.contains("EQL error: `=` is not a comparison, use `==`\n2 |   and event.action"),
        "{text}"
    );
    assert_eq!(
        caret_column(&text, "  and event.action = \"CreateDBCluster\""),
        19,
        "{text}"
    );
    // A compiled-in rule shows no error.
    let good = trailwatch(&["rules", "show", "119c8877-8613-416d-a98a-96b6664ee73a"]);
    let good = stdout(&good);
    assert!(
        good.contains("rule_id:") && !good.contains("KQL error: ") && !good.contains("EQL error: "),
        "{good}"
    );
}
