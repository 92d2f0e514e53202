//! Every Elastic rule file in `../shared/elastic/rules/{aws-kuery,aws-eql,rds}` (read in place) is
//! either compiled or skipped with a specific reason; no stateless rule fails to compile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::path::{Path, PathBuf};

use trailwatch::rules::{RuleOrigin, RuleSet};

fn files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                files(&p, recursive, out);
            }
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn every_elastic_aws_and_rds_rule_is_compiled_or_skipped_for_a_stated_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/elastic/rules");
    let mut paths = Vec::new();
    for dir in ["aws-kuery", "aws-eql", "rds"] {
        files(&root.join(dir), dir == "rds", &mut paths);
    }
    let texts: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .expect("under root")
                .display()
                .to_string();
            (name, std::fs::read_to_string(p).expect("read rule"))
        })
        .collect();
    // Each file on its own: duplicates across folders (rds/ repeats some aws-* files) are not the
    // point here.
    let mut compiled = 0;
    let mut skipped: Vec<(String, String, String)> = Vec::new();
    for (name, text) in &texts {
        let set = RuleSet::from_sources([(RuleOrigin::Extra, name.clone(), text.as_str())]);
        compiled += set.rules().len();
        for s in set.skipped() {
            let ty = s
                .rule
                .as_ref()
                .map(|r| r.rule_type.clone())
                .unwrap_or_default();
            skipped.push((name.clone(), ty, s.reason.clone()));
        }
    }
    assert_eq!(
        compiled + skipped.len(),
        texts.len(),
        "every file is accounted for"
    );
    // new_terms and threshold rules compile (their matches go through crate::state), those on
    // enrichment fields included (degraded without a GeoIP database, never skipped).
    let allowed = [
        ("esql", "ES|QL rule"),
        ("machine_learning", "machine learning rule"),
        ("eql", "unsupported EQL: sequence"),
    ];
    let mut wrong = Vec::new();
    for (name, ty, reason) in &skipped {
        let deprecated = reason.starts_with("deprecated rule");
        let stated = allowed
            .iter()
            .any(|(t, r)| ty == t && reason.starts_with(r));
        if !(deprecated || stated) {
            wrong.push(format!("{name} ({ty}): {reason}"));
        }
    }
    eprintln!(
        "{} files: {compiled} compiled, {} skipped ({} stateful or sequence, {} deprecated)",
        texts.len(),
        skipped.len(),
        skipped
            .iter()
            .filter(|s| !s.2.starts_with("deprecated"))
            .count(),
        skipped
            .iter()
            .filter(|s| s.2.starts_with("deprecated"))
            .count(),
    );
    assert!(
        wrong.is_empty(),
        "stateless rules that failed to compile:\n{}",
        wrong.join("\n")
    );
    assert!(
        compiled > 100,
        "most of the catalogue is stateless and must compile"
    );
}

#[test]
fn every_catalogue_new_terms_and_threshold_rule_compiles_with_its_parameters() {
    use trailwatch::rules::stateful::StatefulKind;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/elastic/rules");
    let mut paths = Vec::new();
    for dir in ["aws-kuery", "aws-eql"] {
        files(&root.join(dir), false, &mut paths);
    }
    let (mut new_terms, mut threshold, mut failed) = (0, 0, Vec::new());
    for p in &paths {
        let text = std::fs::read_to_string(p).expect("read rule");
        let set =
            RuleSet::from_sources([(RuleOrigin::Extra, p.display().to_string(), text.as_str())]);
        for s in set.skipped() {
            let ty = s.rule.as_ref().map(|r| r.rule_type.as_str()).unwrap_or("");
            if (ty == "new_terms" || ty == "threshold") && !s.reason.starts_with("deprecated") {
                failed.push(format!("{}: {}", p.display(), s.reason));
            }
        }
        for r in set.rules() {
            match r.stateful.as_ref().and_then(|s| s.kind.as_ref()) {
                Some(StatefulKind::NewTerms { fields, history_ms }) => {
                    assert!(
                        !fields.is_empty() && *history_ms >= 86_400_000,
                        "{}",
                        p.display()
                    );
                    new_terms += 1;
                }
                Some(StatefulKind::Threshold {
                    window_ms, value, ..
                }) => {
                    assert!(*window_ms > 0 && *value > 0, "{}", p.display());
                    threshold += 1;
                }
                None => assert!(
                    r.rule.rule_type != "new_terms" && r.rule.rule_type != "threshold",
                    "{}",
                    p.display()
                ),
            }
        }
    }
    eprintln!("{new_terms} new_terms and {threshold} threshold rules compiled");
    assert!(
        failed.is_empty(),
        "stateful rules skipped:\n{}",
        failed.join("\n")
    );
    // Every stateful rule of the catalogue: 45 new_terms and 4 threshold rules compiled before
    // the view had the enrichment fields, plus the 4 new_terms and 1 threshold rule on
    // source.as.* / user_agent.name that were skipped until it did.
    assert_eq!((new_terms, threshold), (49, 5));
}
