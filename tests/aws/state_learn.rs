//! `trailwatch state learn`: filling the state from history without alerting, into the CLI's
//! redb file and into the Lambda's DynamoDB table (moto), with the hidden timeline rules
//! (`tests/fixtures/timeline/rules`).
#![cfg(feature = "aws")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use crate::common;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::moto::{Moto, TopicTap};
use common::timeline::{
    alerts_in_ndjson, generate, hidden_rules, scratch, trailwatch, Key, KMS_RULE, LOGIN_RULE,
    REGIONS_RULE, SECRET_RULE,
};
use serde_json::{json, Value};

/// A GetSecretValue by `who` from `ip` (the two-field new_terms rule, 7-day history).
fn secret_read(id: &str, time: &str, who: &str, ip: &str) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "accountId": "111122223333",
                         "arn": format!("arn:aws:sts::111122223333:assumed-role/App/{who}")},
        "eventTime": time,
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "GetSecretValue",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "requestParameters": {"secretId": "prod/db"},
        "eventID": id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    })
}

fn gzip_object(records: &[Value]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json!({ "Records": records }).to_string().as_bytes())
        .unwrap();
    gz.finish().unwrap()
}

fn write_object(path: &Path, records: &[Value]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, gzip_object(records)).unwrap();
    path.to_path_buf()
}

fn term(who: &str, ip: &str) -> String {
    json!([
        format!("arn:aws:sts::111122223333:assumed-role/App/{who}"),
        ip
    ])
    .to_string()
}

/// The number after `label` in the learn summary.
fn summary_number(summary: &str, label: &str) -> usize {
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {summary}"));
    summary[at + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after {label:?} in {summary}"))
}

/// The number before `label` in the learn summary.
fn number_before(summary: &str, label: &str) -> usize {
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {summary}"));
    let head = summary[..at].trim_end();
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..]
        .parse()
        .unwrap_or_else(|_| panic!("a number before {label:?} in {summary}"))
}

fn scan(state: &Path, paths: &[&Path]) -> Vec<Key> {
    let mut args: Vec<&OsStr> = vec![
        "scan".as_ref(),
        "--rules".as_ref(),
        "--state".as_ref(),
        state.as_os_str(),
        "--format".as_ref(),
        "ndjson".as_ref(),
        "--no-progress".as_ref(),
    ];
    let rules = hidden_rules();
    args.insert(2, rules.as_os_str());
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let out = trailwatch(&args, &[]);
    alerts_in_ndjson(&String::from_utf8_lossy(&out.stdout))
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn learn(
    state_args: &[&OsStr],
    since: &str,
    until: &str,
    paths: &[&OsStr],
    env: &[(&str, &str)],
) -> String {
    let rules = hidden_rules();
    let mut args: Vec<&OsStr> = vec![
        "state".as_ref(),
        "learn".as_ref(),
        "--rules".as_ref(),
        rules.as_os_str(),
        "--since".as_ref(),
        since.as_ref(),
        "--until".as_ref(),
        until.as_ref(),
    ];
    args.extend_from_slice(state_args);
    args.extend_from_slice(paths);
    let out = trailwatch(&args, env);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn learning_the_history_then_scanning_it_raises_no_first_seen_alert_and_new_terms_still_fire() {
    let dir = scratch("learn-redb");
    let tl = generate(&dir);
    let state = dir.join("state.redb");
    let summary = learn(
        &["--state".as_ref(), state.as_os_str()],
        "12d",
        "2026-01-13T00:00:00Z",
        &[tl.dir.as_os_str()],
        &[],
    );
    // Nothing raised, but the summary counts what would have been: exactly the reference
    // model's new-terms and threshold alerts.
    let would = tl
        .expected_of(&[SECRET_RULE, KMS_RULE, LOGIN_RULE, REGIONS_RULE])
        .len();
    assert_eq!(
        summary_number(&summary, "would have alerted"),
        would,
        "{summary}"
    );
    assert_eq!(
        summary_number(&summary, "learned"),
        tl.objects.len(),
        "{summary}"
    );
    assert_eq!(
        number_before(&summary, "matches outside the span"),
        0,
        "{summary}"
    );
    let replay = scan(&state, &[&tl.dir]);
    let first_seen: Vec<&Key> = replay
        .iter()
        .filter(|k| k.0 == SECRET_RULE || k.0 == KMS_RULE)
        .collect();
    assert!(first_seen.is_empty(), "{first_seen:?}");
    // Live, after the history: a learned pair is known, a pair never seen fires once.
    let live = write_object(
        &dir.join("live/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/13/live.json.gz"),
        &[
            secret_read("live-1", "2026-01-13T06:00:00Z", "alice", "198.51.100.10"),
            secret_read("live-2", "2026-01-13T06:01:00Z", "zed", "203.0.113.99"),
            secret_read("live-3", "2026-01-13T06:02:00Z", "zed", "203.0.113.99"),
        ],
    );
    let alerts = scan(&state, &[&live]);
    assert_eq!(
        alerts,
        vec![(
            SECRET_RULE.to_owned(),
            "live-2".to_owned(),
            term("zed", "203.0.113.99"),
            None
        )]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn since_cuts_off_records_older_than_the_span() {
    let dir = scratch("learn-since");
    let history = write_object(
        &dir.join("history/a.json.gz"),
        &[
            secret_read("h-1", "2026-03-01T10:00:00Z", "alice", "198.51.100.10"),
            secret_read("h-2", "2026-03-06T10:00:00Z", "bob", "198.51.100.11"),
            // After --until: not learned either.
            secret_read("h-3", "2026-03-07T12:00:00Z", "carol", "198.51.100.12"),
        ],
    );
    let state = dir.join("state.redb");
    let summary = learn(
        &["--state".as_ref(), state.as_os_str()],
        "2d",
        "2026-03-07T00:00:00Z",
        &[history.as_os_str()],
        &[],
    );
    assert_eq!(
        number_before(&summary, "matches outside the span"),
        2,
        "{summary}"
    );
    assert_eq!(
        summary_number(&summary, "would have alerted"),
        1,
        "{summary}"
    );
    // Day 7: alice (day 1, within the rule's 7-day history but before the learned span) and
    // carol (after it) are new; bob (learned) is not.
    let live = write_object(
        &dir.join("live/b.json.gz"),
        &[
            secret_read("l-1", "2026-03-07T18:00:00Z", "alice", "198.51.100.10"),
            secret_read("l-2", "2026-03-07T18:01:00Z", "bob", "198.51.100.11"),
            secret_read("l-3", "2026-03-07T18:02:00Z", "carol", "198.51.100.12"),
        ],
    );
    let mut alerts = scan(&state, &[&live]);
    alerts.sort();
    assert_eq!(
        alerts,
        vec![
            (
                SECRET_RULE.to_owned(),
                "l-1".to_owned(),
                term("alice", "198.51.100.10"),
                None
            ),
            (
                SECRET_RULE.to_owned(),
                "l-3".to_owned(),
                term("carol", "198.51.100.12"),
                None
            ),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn learning_into_dynamodb_from_s3_then_invoking_the_function_raises_only_the_unseen_term() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    common::dynamo::create_table(&dynamo, "learn-state").await;
    let tap = TopicTap::new(&sdk, "learn-alerts").await;
    let bucket = "learn-trail";
    let prefix = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/02/";
    let pairs = [
        ("alice", "198.51.100.10"),
        ("bob", "198.51.100.11"),
        ("carol", "198.51.100.12"),
    ];
    for (day, (who, ip)) in pairs.iter().enumerate() {
        let records = [secret_read(
            &format!("h-{day}"),
            &format!("2026-02-0{}T10:00:00Z", day + 1),
            who,
            ip,
        )];
        moto.put(
            bucket,
            &format!("{prefix}0{}/h.json.gz", day + 1),
            gzip_object(&records),
        )
        .await;
    }
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let url = format!("s3://{bucket}/{prefix}");
    let summary = tokio::task::block_in_place(|| {
        learn(
            &["--state-table".as_ref(), "learn-state".as_ref()],
            "10d",
            "2026-02-05T00:00:00Z",
            &[url.as_ref()],
            &env,
        )
    });
    assert_eq!(summary_number(&summary, "learned"), 3, "{summary}");
    assert_eq!(
        summary_number(&summary, "would have alerted"),
        3,
        "{summary}"
    );
    assert!(summary.contains("DynamoDB table learn-state"), "{summary}");

    // The function goes live: the learned pairs are known, a new one alerts once.
    let live_key = format!("{prefix}05/live.json.gz");
    let mut live: Vec<Value> = pairs
        .iter()
        .enumerate()
        .map(|(i, (who, ip))| secret_read(&format!("l-{i}"), "2026-02-05T08:00:00Z", who, ip))
        .collect();
    live.push(secret_read(
        "l-new",
        "2026-02-05T08:05:00Z",
        "mallory",
        "192.0.2.66",
    ));
    moto.put(bucket, &live_key, gzip_object(&live)).await;
    let payload = scratch("learn-dynamo").join("payload.json");
    std::fs::write(
        &payload,
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
            "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                   "object": {"key": live_key, "size": 1}}}]})
        .to_string(),
    )
    .unwrap();
    let rules = hidden_rules();
    let rules = rules.to_str().unwrap();
    let mut invoke_env = env.to_vec();
    invoke_env.extend([
        ("ALERT_TOPIC_ARN", tap.topic_arn.as_str()),
        ("STATE_TABLE", "learn-state"),
        ("EXTRA_RULES_DIR", rules),
    ]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["invoke", "--event"])
        .arg(&payload)
        .envs(invoke_env)
        .output()
        .expect("run trailwatch invoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delivered: Vec<Key> = tap
        .drain()
        .await
        .iter()
        .filter_map(|e| {
            common::timeline::key_of(&serde_json::from_str(e["Message"].as_str()?).ok()?)
        })
        .collect();
    assert_eq!(
        delivered,
        vec![(
            SECRET_RULE.to_owned(),
            "l-new".to_owned(),
            term("mallory", "192.0.2.66"),
            None
        )]
    );
}

#[test]
fn learn_says_where_to_learn_into_and_refuses_a_bad_span() {
    let dir = scratch("learn-args");
    let object = write_object(
        &dir.join("a.json.gz"),
        &[secret_read(
            "a-1",
            "2026-03-01T10:00:00Z",
            "alice",
            "198.51.100.10",
        )],
    );
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_trailwatch"))
            .args(["state", "learn"])
            .args(extra)
            .arg(&object)
            .env_remove("STATE_TABLE")
            .output()
            .expect("run trailwatch");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--state PATH") && stderr.contains("--state-table"),
        "{stderr}"
    );
    let state = dir.join("s.redb");
    let (code, stderr) = run(&["--since", "10y", "--state", state.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--since \"10y\""), "{stderr}");
    let (code, stderr) = run(&["--until", "yesterday", "--state", state.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--until \"yesterday\""), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
