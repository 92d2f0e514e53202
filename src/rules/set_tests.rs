//! Tests of src/rules/set.rs.
use super::*;

fn rule(id: &str, name: &str, query: &str, extra: &str) -> String {
    format!(
        "[metadata]\nmaturity = \"production\"\n[rule]\nrule_id = \"{id}\"\nname = \"{name}\"\ntype = \"query\"\nlanguage = \"kuery\"\nseverity = \"low\"\nrisk_score = 21\nquery = '{query}'\n{extra}"
    )
}

#[test]
fn project_rules_take_precedence_over_extra_files_with_the_same_id() {
    let ours = rule("r1", "ours", "event.action:A", "");
    let theirs = rule("r1", "theirs", "event.action:B", "");
    let other = rule("r2", "other", "event.action:C", "");
    let set = RuleSet::from_sources([
        (RuleOrigin::Project, "ours.toml".to_owned(), ours.as_str()),
        (RuleOrigin::Extra, "theirs.toml".to_owned(), theirs.as_str()),
        (RuleOrigin::Extra, "other.toml".to_owned(), other.as_str()),
    ]);
    let names: Vec<_> = set.rules.iter().map(|r| r.rule.name.as_str()).collect();
    assert_eq!(names, ["ours", "other"]);
    assert_eq!(set.skipped.len(), 1);
    assert_eq!(set.skipped[0].file, "theirs.toml");
    assert!(
        set.skipped[0].reason.contains("ours.toml"),
        "{}",
        set.skipped[0].reason
    );
}

#[test]
fn a_rules_directory_adds_to_the_embedded_set_through_the_same_compile_path() {
    let dir = std::env::temp_dir().join(format!("trailwatch-rules-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).ok();
    let embedded = RuleSet::embedded();
    let taken = embedded.rules[0].rule.rule_id.clone();
    let files = [
        ("a.toml", rule("x1", "extra one", "event.action:A", "")),
        ("sub/b.toml", rule(&taken, "dup", "event.action:B", "")),
        ("c.toml", "junk [".to_owned()),
        ("notes.txt", "not a rule".to_owned()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).ok();
    }
    let alone = RuleSet::from_dir(&dir).ok().unwrap_or_default();
    assert_eq!(alone.rules.len(), 2, "a.toml and sub/b.toml");
    assert_eq!(alone.skipped.len(), 1, "c.toml");
    let merged = RuleSet::embedded_with_dir(&dir).ok().unwrap_or_default();
    assert_eq!(merged.rules.len(), embedded.rules.len() + 1);
    assert!(merged
        .rules
        .iter()
        .any(|r| r.rule.rule_id == "x1" && r.origin == RuleOrigin::Runtime));
    let runtime_skips: Vec<_> = merged
        .skipped
        .iter()
        .filter(|s| s.origin == RuleOrigin::Runtime)
        .map(|s| (s.file.as_str(), s.kind))
        .collect();
    assert_eq!(
        runtime_skips,
        [
            ("c.toml", SkipReason::InvalidFile),
            ("sub/b.toml", SkipReason::Duplicate)
        ]
    );
    assert!(RuleSet::from_dir(&dir.join("missing")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stateful_rules_compile_and_deprecated_broken_and_sequence_files_are_skipped() {
    let with_type = |id: &str, ty: &str, extra: &str| {
        rule(id, id, "event.action:A", extra)
            .replace("type = \"query\"", &format!("type = \"{ty}\""))
    };
    let new_terms = with_type(
        "n",
        "new_terms",
        "[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"user.name\"]\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"now-7d\"\n",
    );
    let threshold = with_type(
        "t",
        "threshold",
        "from = \"now-60m\"\n[rule.threshold]\nfield = [\"user.name\"]\nvalue = 5\n",
    );
    let no_params = with_type("p", "new_terms", "");
    let esql = with_type("q", "esql", "");
    let sequence = "[metadata]\n[rule]\nrule_id = \"s\"\nname = \"s\"\ntype = \"eql\"\nlanguage = \"eql\"\nseverity = \"low\"\nrisk_score = 1\nquery = 'sequence [any where true] [any where true]'\n";
    let deprecated = rule("d", "dep", "event.action:A", "").replace("production", "deprecated");
    let bad_query = rule("b", "bad", "event.action:(A", "");
    let files = [
        ("nt", new_terms.as_str()),
        ("th", threshold.as_str()),
        ("np", no_params.as_str()),
        ("esql", esql.as_str()),
        ("seq", sequence),
        ("dep", deprecated.as_str()),
        ("bad", bad_query.as_str()),
        ("junk", "not toml ["),
    ];
    let set = RuleSet::from_sources(
        files
            .iter()
            .map(|(f, t)| (RuleOrigin::Project, format!("{f}.toml"), *t)),
    );
    let active: Vec<_> = set.rules.iter().map(|r| r.rule.rule_id.as_str()).collect();
    assert_eq!(active, ["n", "t"]);
    use crate::rules::stateful::StatefulKind;
    assert_eq!(
        set.rules[0].stateful.as_ref().and_then(|s| s.kind.clone()),
        Some(StatefulKind::NewTerms {
            fields: vec!["user.name".into()],
            history_ms: 7 * 86_400_000
        })
    );
    assert_eq!(
        set.rules[1].stateful.as_ref().and_then(|s| s.kind.clone()),
        Some(StatefulKind::Threshold {
            fields: vec!["user.name".into()],
            value: 5,
            cardinality: None,
            window_ms: 3_600_000
        })
    );
    let kinds: Vec<_> = set.skipped.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SkipReason::StatefulParameters,
            SkipReason::Esql,
            SkipReason::Sequence,
            SkipReason::Deprecated,
            SkipReason::Query,
            SkipReason::InvalidFile
        ],
        "{:?}",
        set.skipped.iter().map(|s| &s.reason).collect::<Vec<_>>()
    );
}
