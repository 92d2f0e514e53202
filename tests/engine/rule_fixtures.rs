//! Every rule in `rules/` is proven by CloudTrail records: `tests/fixtures/rules/<rule-file-stem>/`
//! holds `fire-*.json` records the rule must match and `nofire-*.json` near misses it must not
//! (failed calls, look-alike actions, benign parameters). Each file is one element of a CloudTrail
//! `Records` array; the directory's `README.md` says why each verdict is what Elasticsearch gives.
use crate::mmdb;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use trailwatch::ecs::{CloudTrailView, Enrichment, ViewOptions};
use trailwatch::rules::{CompiledRule, RuleOrigin, RuleSet};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rules");

struct Fixture {
    path: PathBuf,
    must_fire: bool,
    record: serde_json::Value,
}

fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, String> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))? {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .path();
        if keep(&path) {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn load_fixture(path: PathBuf) -> Result<Fixture, String> {
    let name = file_name(&path);
    let must_fire = if name.starts_with("fire-") {
        true
    } else if name.starts_with("nofire-") {
        false
    } else {
        return Err(format!(
            "{}: fixture names start with fire- or nofire-",
            path.display()
        ));
    };
    let text = fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let record: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    if record.get("eventName").is_none() || record.get("Records").is_some() {
        return Err(format!(
            "{}: a fixture is one CloudTrail record, not a log file",
            path.display()
        ));
    }
    Ok(Fixture {
        path,
        must_fire,
        record,
    })
}

/// Fixture directory name (= rule file stem) → its fixtures, sorted by file name.
fn load_fixtures() -> Result<BTreeMap<String, Vec<Fixture>>, String> {
    let mut by_rule = BTreeMap::new();
    for dir in sorted_entries(Path::new(FIXTURES), |p| p.is_dir())? {
        let files = sorted_entries(&dir, |p| p.extension().is_some_and(|x| x == "json"))?;
        let fixtures = files
            .into_iter()
            .map(load_fixture)
            .collect::<Result<Vec<_>, _>>()?;
        by_rule.insert(file_name(&dir), fixtures);
    }
    Ok(by_rule)
}

/// The project rule compiled from `rules/<stem>.toml`, if it was compiled.
fn project_rule<'s>(set: &'s RuleSet, stem: &str) -> Option<&'s CompiledRule> {
    let file = format!("{stem}.toml");
    set.rules()
        .iter()
        .find(|r| r.origin == RuleOrigin::Project && r.file == file)
}

#[test]
fn every_fixture_gets_the_verdict_its_name_promises() -> Result<(), String> {
    let set = RuleSet::embedded();
    // Records are seen as the function sees them with an ASN database (the VPN-ASN rule reads
    // source.as.number); the test database maps the fixtures' documentation addresses only.
    let enrichment = Enrichment::open(Some(&mmdb::test_asn_database()), None)
        .map_err(|e| format!("test ASN database: {e}"))?;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (stem, fixtures) in load_fixtures()? {
        let Some(rule) = project_rule(&set, &stem) else {
            failures.push(format!("{stem}: no compiled rule rules/{stem}.toml"));
            continue;
        };
        for fixture in fixtures {
            let view = CloudTrailView::with_enrichment(
                &fixture.record,
                ViewOptions::default(),
                &enrichment,
            );
            let fired = set
                .matches_document(&view)
                .iter()
                .any(|m| m.rule.rule_id == rule.rule.rule_id);
            checked += 1;
            if fired != fixture.must_fire {
                failures.push(format!(
                    "{}: rule {:?} ({}) {}",
                    fixture.path.display(),
                    rule.rule.name,
                    rule.rule.rule_id,
                    if fixture.must_fire {
                        "did not fire"
                    } else {
                        "fired"
                    }
                ));
            }
        }
    }
    assert!(checked > 0, "no fixtures found under {FIXTURES}");
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

#[test]
fn every_project_rule_has_one_fire_and_two_nofire_fixtures() -> Result<(), String> {
    // Rules compiled in from a build-time extra directory (Elastic's own files) are proven by the
    // engine's agreement tests, not here: only `rules/` is this catalogue.
    let set = RuleSet::embedded();
    let fixtures = load_fixtures()?;
    let project: Vec<&CompiledRule> = set
        .rules()
        .iter()
        .filter(|r| r.origin == RuleOrigin::Project)
        .collect();
    assert!(!project.is_empty(), "no project rule compiled in");
    let mut missing = Vec::new();
    for rule in project {
        let stem = rule.file.trim_end_matches(".toml");
        let list = fixtures.get(stem).map(Vec::as_slice).unwrap_or_default();
        let fire = list.iter().filter(|f| f.must_fire).count();
        let nofire = list.len() - fire;
        if fire < 1 || nofire < 2 {
            missing.push(format!(
                "{} ({}): {fire} fire, {nofire} nofire fixtures in tests/fixtures/rules/{stem}/",
                rule.file, rule.rule.name
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "rules without enough fixtures:\n{}",
        missing.join("\n")
    );
    Ok(())
}

#[test]
fn every_project_rule_compiles() {
    // Our own files must all compile, the stateful (new_terms) ones included: their matches go
    // through trailwatch::state, their fixtures here check the query (tests/vpn_asn_rule.rs
    // checks the VPN-ASN rule's first-seen behaviour).
    let set = RuleSet::embedded();
    let project_skipped: Vec<String> = set
        .skipped()
        .iter()
        .filter(|s| s.origin == RuleOrigin::Project)
        .map(|s| format!("{}: {}", s.file, s.reason))
        .collect();
    assert!(
        project_skipped.is_empty(),
        "project rules not compiled:\n{}",
        project_skipped.join("\n")
    );
    let stateful = set
        .rules()
        .iter()
        .filter(|r| r.origin == RuleOrigin::Project && r.is_stateful())
        .count();
    assert_eq!(
        stateful, 2,
        "STS Role Assumption by Service and the VPN-ASN discovery rule are stateful and active"
    );
}

/// The ```toml block of a guide (the `exceptions.toml` example), if any.
fn toml_example(note: &str) -> Option<&str> {
    let start = note.find("```toml\n")? + "```toml\n".len();
    let len = note[start..].find("```")?;
    Some(&note[start..start + len])
}

#[test]
fn guide_exception_examples_are_valid_exceptions_for_their_rule() -> Result<(), String> {
    // A responder copies these into exceptions.toml at 3 a.m.: they must name the right rule,
    // compile as KQL and say why.
    let set = RuleSet::embedded();
    let ours = set.rules().iter().filter(|r| {
        r.origin == RuleOrigin::Project && r.rule.author.iter().any(|a| a == "trailwatch")
    });
    let mut problems = Vec::new();
    let mut checked = 0;
    for rule in ours {
        let name = &rule.file;
        let Some(block) = rule.rule.note.as_deref().and_then(toml_example) else {
            problems.push(format!("{name}: guide has no exceptions.toml example"));
            continue;
        };
        let table: toml::Table =
            toml::from_str(block).map_err(|e| format!("{name}: example is not TOML: {e}"))?;
        let entries = table
            .get("exception")
            .and_then(|v| v.as_array())
            .ok_or_else(|| format!("{name}: example has no [[exception]]"))?;
        for entry in entries {
            checked += 1;
            let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            if field("rule_id") != rule.rule.rule_id {
                problems.push(format!("{name}: example rule_id {:?}", field("rule_id")));
            }
            if field("reason").is_empty() {
                problems.push(format!("{name}: example without a reason"));
            }
            if let Err(e) = trailwatch::query::kql::parse(field("query")) {
                problems.push(format!("{name}: example query does not parse: {e:?}"));
            }
        }
    }
    assert!(checked > 0, "no exception examples found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}
