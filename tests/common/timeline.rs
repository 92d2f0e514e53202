//! The 12-day stateful timeline (`scripts/gen_timeline.py`), its hidden rules
//! (`tests/fixtures/timeline/rules`) and the alerts of the independent reference model
//! (`scripts/reference_stateful.py`), plus helpers to run the CLI and compare alerts.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const SECRET_RULE: &str = "7e1a0001-5c1e-4a8e-9d10-7a11e1000001";
pub const KMS_RULE: &str = "7e1a0002-5c1e-4a8e-9d10-7a11e1000002";
pub const LOGIN_RULE: &str = "7e1a0003-5c1e-4a8e-9d10-7a11e1000003";
pub const REGIONS_RULE: &str = "7e1a0004-5c1e-4a8e-9d10-7a11e1000004";
pub const BUCKET_RULE: &str = "7e1a0005-5c1e-4a8e-9d10-7a11e1000005";
pub const HIDDEN_RULES: [&str; 5] = [SECRET_RULE, KMS_RULE, LOGIN_RULE, REGIONS_RULE, BUCKET_RULE];

/// One alert as the reference model and the tests compare it: rule, triggering event, the
/// term / group values (JSON text), the threshold count.
pub type Key = (String, String, String, Option<u64>);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn hidden_rules() -> PathBuf {
    repo().join("tests/fixtures/timeline/rules")
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub struct Timeline {
    /// The objects' root (CloudTrail's key layout below it).
    pub dir: PathBuf,
    /// The objects, in key order.
    pub objects: Vec<PathBuf>,
    /// The reference model's alerts, in order.
    pub expected: Vec<Key>,
}

impl Timeline {
    /// The key of `object` below the root (`AWSLogs/...`).
    pub fn key(&self, object: &Path) -> String {
        object
            .strip_prefix(&self.dir)
            .expect("object under the root")
            .to_string_lossy()
            .into_owned()
    }

    /// The expected alerts of `rules` only.
    pub fn expected_of(&self, rules: &[&str]) -> Vec<Key> {
        self.expected
            .iter()
            .filter(|k| rules.contains(&k.0.as_str()))
            .cloned()
            .collect()
    }
}

fn python(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("python3")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Generates the timeline into `<scratch>/objects` and runs the reference model on it.
pub fn generate(scratch: &Path) -> Timeline {
    let dir = scratch.join("objects");
    python(&[
        "scripts/gen_timeline.py".as_ref(),
        dir.as_os_str(),
        "--seed".as_ref(),
        "15".as_ref(),
    ]);
    let mut objects = Vec::new();
    collect(&dir, &mut objects);
    objects.sort();
    let rules = hidden_rules();
    let model = python(&[
        "scripts/reference_stateful.py".as_ref(),
        "--rules".as_ref(),
        rules.as_os_str(),
        dir.as_os_str(),
    ]);
    let expected: Vec<Key> = model
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("model line");
            (
                v["rule_id"].as_str().expect("rule_id").to_owned(),
                v["event_id"].as_str().expect("event_id").to_owned(),
                v["terms"].to_string(),
                v["count"].as_u64(),
            )
        })
        .collect();
    // A timeline that exercised nothing would prove nothing: every hidden rule alerts, and
    // each of the rules also has matches that do not alert (checked by the tests' scans).
    for rule in HIDDEN_RULES {
        assert!(
            expected.iter().any(|k| k.0 == rule),
            "the timeline raises no alert of {rule}"
        );
    }
    assert!(objects.len() >= 20, "{} objects", objects.len());
    Timeline {
        dir,
        objects,
        expected,
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.to_string_lossy().ends_with(".json.gz") {
            out.push(path);
        }
    }
}

/// The comparison key of an alert document of a hidden rule (`None` for other rules).
pub fn key_of(alert: &Value) -> Option<Key> {
    let rule = alert["kibana.alert.rule.rule_id"].as_str()?;
    if !HIDDEN_RULES.contains(&rule) {
        return None;
    }
    let event = alert["event.id"].as_str()?.to_owned();
    let values = |terms: &Value| -> String {
        Value::Array(
            terms
                .as_array()
                .map(|t| t.iter().map(|x| x["value"].clone()).collect())
                .unwrap_or_default(),
        )
        .to_string()
    };
    Some(if let Some(nt) = alert.get("kibana.alert.new_terms") {
        (rule.to_owned(), event, nt.to_string(), None)
    } else if let Some(th) = alert.get("kibana.alert.threshold_result") {
        (
            rule.to_owned(),
            event,
            values(&th["terms"]),
            th["count"].as_u64(),
        )
    } else {
        let terms = alert
            .get("kibana.alert.suppression.terms")
            .cloned()
            .unwrap_or(Value::Null);
        (rule.to_owned(), event, values(&terms), None)
    })
}

/// The hidden rules' alerts in NDJSON output, with their `kibana.alert.uuid`s.
pub fn alerts_in_ndjson(text: &str) -> Vec<(Key, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let alert: Value = serde_json::from_str(l).expect("NDJSON alert");
            let uuid = alert["kibana.alert.uuid"].as_str()?.to_owned();
            Some((key_of(&alert)?, uuid))
        })
        .collect()
}

/// Sorted keys (duplicates kept: an alert raised twice shows).
pub fn sorted(keys: impl IntoIterator<Item = Key>) -> Vec<Key> {
    let mut v: Vec<Key> = keys.into_iter().collect();
    v.sort();
    v
}

/// Key → uuid, failing on an alert raised twice.
pub fn by_key(alerts: &[(Key, String)]) -> BTreeMap<Key, String> {
    let mut map = BTreeMap::new();
    for (k, uuid) in alerts {
        assert!(
            map.insert(k.clone(), uuid.clone()).is_none(),
            "raised twice: {k:?}"
        );
    }
    map
}

/// Runs the CLI; asserts it exited 0.
pub fn trailwatch(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(args)
        .env_remove("STATE_TABLE")
        .envs(env.iter().copied())
        .output()
        .expect("run trailwatch");
    assert!(
        out.status.success(),
        "trailwatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
