//! The rule files embedded at build time (parsed by `build.rs` into static data) give exactly the
//! rule set that compiling the same TOML files at run time gives: same rules and skipped files, in
//! the same order, with the same origin, file name, every rule field, skip reason and query IR.
//! Run it with `TRAILWATCH_EXTRA_RULES=$PWD/../shared/elastic/rules` at build time to check the
//! whole Elastic catalogue as well.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::path::{Path, PathBuf};

use trailwatch::rules::{RuleOrigin, RuleSet};

/// The files `build.rs` embeds, in its order: sorted paths, directories recursed in place.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// (origin, file name as `build.rs` names it, TOML text) of every embedded file.
fn sources() -> Vec<(RuleOrigin, String, String)> {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut project = Vec::new();
    collect(&rules, &mut project);
    let mut extra = Vec::new();
    // Tracked by cargo: this test is rebuilt when the variable changes, like build.rs reruns.
    if let Some(dir) = option_env!("TRAILWATCH_EXTRA_RULES").filter(|d| !d.is_empty()) {
        collect(Path::new(dir), &mut extra);
    }
    let read = |p: &PathBuf| std::fs::read_to_string(p).expect("read rule file");
    project
        .iter()
        .map(|p| {
            let name = p.strip_prefix(&rules).expect("under rules/");
            (RuleOrigin::Project, name.display().to_string(), read(p))
        })
        .chain(
            extra
                .iter()
                .map(|p| (RuleOrigin::Extra, p.display().to_string(), read(p))),
        )
        .collect()
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("serialize")
}

#[test]
fn embedded_rules_equal_the_rule_files_compiled_at_run_time() {
    let sources = sources();
    let runtime = RuleSet::from_sources(
        sources
            .iter()
            .map(|(origin, name, text)| (*origin, name.clone(), text.as_str())),
    );
    let embedded = RuleSet::embedded();
    assert_eq!(
        embedded.rules().len() + embedded.skipped().len(),
        sources.len(),
        "one entry per rule file"
    );
    assert!(!runtime.rules().is_empty());

    let active = |s: &RuleSet| -> Vec<(String, String)> {
        s.rules()
            .iter()
            .map(|r| (r.file.clone(), r.rule.rule_id.clone()))
            .collect()
    };
    assert_eq!(
        active(&embedded),
        active(&runtime),
        "active rules, in order"
    );
    for (e, r) in embedded.rules().iter().zip(runtime.rules()) {
        assert_eq!(e.origin, r.origin, "{}", r.file);
        // Every field, `extra` (the rest of `[rule]`) included.
        assert_eq!(json(&e.rule), json(&r.rule), "{}", r.file);
        assert_eq!(e.expr, r.expr, "{}: query IR", r.file);
        assert_eq!(e.stateful, r.stateful, "{}: stateful parameters", r.file);
    }

    let skipped = |s: &RuleSet| -> Vec<(String, RuleOrigin, String)> {
        s.skipped()
            .iter()
            .map(|k| (k.file.clone(), k.origin, k.reason.clone()))
            .collect()
    };
    assert_eq!(
        skipped(&embedded),
        skipped(&runtime),
        "skipped files and reasons"
    );
    for (e, r) in embedded.skipped().iter().zip(runtime.skipped()) {
        assert_eq!(json(&e.rule), json(&r.rule), "{}", r.file);
    }
    assert_eq!(
        embedded.unconstrained_rules(),
        runtime.unconstrained_rules(),
        "dispatch index"
    );
}
