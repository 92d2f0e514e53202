//! Compiling rule files into a [`RuleSet`]: every file is either compiled or skipped with a
//! specific reason (stateful type, sequence, ES|QL, machine learning, unsupported construct) —
//! never silently approximated.
use std::time::{Duration, Instant};

use super::embedded::{EmbeddedFile, EMBEDDED_RULES};
use super::{Rule, RuleFile};
use crate::engine::{self, Document, Expr};
use crate::prefilter::{self, Dispatch, Head, Raw};
use crate::reader::RecordRef;

/// Where a rule file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleOrigin {
    /// `rules/` in this repository.
    Project,
    /// The directory named by `TRAILWATCH_EXTRA_RULES` at build time.
    Extra,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: Rule,
    pub expr: Expr,
    /// The rule file's name (relative to its directory).
    pub file: String,
    pub origin: RuleOrigin,
}

/// A rule file that is not evaluated, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedRule {
    pub file: String,
    pub origin: RuleOrigin,
    /// Present when the file parsed far enough to have them.
    pub rule: Option<Rule>,
    pub reason: String,
}

/// The status shown by `trailwatch rules list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleStatus {
    Active,
    Skipped(String),
}

/// The compiled rule catalogue.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<CompiledRule>,
    pub skipped: Vec<SkippedRule>,
    /// How long compiling took.
    pub compile_time: Duration,
    /// The rules indexed by the `event.provider` / `event.action` values they require.
    dispatch: Dispatch,
}

impl RuleSet {
    /// The rule files compiled into this binary (`rules/` plus any build-time extra directory):
    /// the same rules, order and skip reasons as [`RuleSet::from_sources`] on those files, without
    /// parsing their TOML (done at build time, see `src/rules/embedded.rs`).
    pub fn embedded() -> RuleSet {
        Self::compile(EMBEDDED_RULES.iter().map(|(origin, name, file)| {
            let compiled = match file {
                EmbeddedFile::Parsed { maturity, rule } => compile_rule(rule.to_rule(), *maturity),
                EmbeddedFile::Source(text) => compile_file(text),
            };
            (*origin, (*name).to_owned(), compiled)
        }))
    }

    /// Compiles rule files given as (origin, file name, TOML text).
    pub fn from_sources<'a>(
        files: impl IntoIterator<Item = (RuleOrigin, String, &'a str)>,
    ) -> RuleSet {
        Self::compile(
            files
                .into_iter()
                .map(|(origin, file, text)| (origin, file, compile_file(text))),
        )
    }

    /// Builds the set from each file's compile result, in order (`compile_time` includes
    /// computing them: the iterator is consumed here).
    fn compile(
        files: impl Iterator<Item = (RuleOrigin, String, Result<(Rule, Expr), Skip>)>,
    ) -> RuleSet {
        let start = Instant::now();
        let mut set = RuleSet::default();
        let (files_hint, _) = files.size_hint();
        set.rules.reserve(files_hint);
        // rule_id → the file that defined it first (project files come first, so a project rule
        // replaces Elastic's file of the same id from the extra directory).
        let mut seen: std::collections::HashMap<String, String> =
            std::collections::HashMap::with_capacity(files_hint);
        for (origin, file, compiled) in files {
            let compiled = compiled.and_then(|(rule, expr)| match seen.get(&rule.rule_id) {
                Some(first) => Err((
                    Some(Box::new(rule)),
                    format!("duplicate rule_id: {first} defines it and takes precedence"),
                )),
                None => Ok((rule, expr)),
            });
            match compiled {
                Ok((rule, expr)) => {
                    seen.insert(rule.rule_id.clone(), file.clone());
                    set.rules.push(CompiledRule {
                        rule,
                        expr,
                        file,
                        origin,
                    })
                }
                Err((rule, reason)) => {
                    if let Some(r) = &rule {
                        seen.entry(r.rule_id.clone())
                            .or_insert_with(|| file.clone());
                    }
                    set.skipped.push(SkippedRule {
                        file,
                        origin,
                        rule: rule.map(|r| *r),
                        reason,
                    })
                }
            }
        }
        set.dispatch = Dispatch::new(set.rules.iter().map(|r| &r.expr));
        set.compile_time = start.elapsed();
        set
    }

    /// The rules whose query matches `doc`: only the candidates for its `event.provider` and
    /// `event.action` are evaluated (same result as [`RuleSet::matches_document_slow`]).
    pub fn matches_document<'s>(&'s self, doc: &dyn Document) -> Vec<&'s CompiledRule> {
        let mut candidates = Vec::new();
        self.document_candidates(doc, &mut candidates);
        self.matches_candidates(&candidates, doc)
    }

    /// The indices of the rules that could match `doc` (by its `event.provider` and
    /// `event.action`; with no raw bytes, every rule with required texts is a candidate).
    pub fn document_candidates(&self, doc: &dyn Document, out: &mut Vec<usize>) {
        let (provider, action) = prefilter::head_of_document(doc);
        self.dispatch_into(
            Head {
                provider: provider.as_field(),
                action: action.as_field(),
            },
            None,
            out,
        );
    }

    /// Every rule evaluated on `doc`: the reference the dispatch is tested against.
    pub fn matches_document_slow<'s>(&'s self, doc: &dyn Document) -> Vec<&'s CompiledRule> {
        self.rules
            .iter()
            .filter(|r| engine::matches(&r.expr, doc))
            .collect()
    }

    /// The indices of the rules that could match the raw record `raw` (an element of `Records`,
    /// unparsed), in catalogue order, into `out`. Empty: no rule can match, the record need not be
    /// parsed. See [`crate::prefilter`].
    pub fn candidates(&self, raw: &[u8], out: &mut Vec<usize>) {
        self.dispatch_into(prefilter::scan_head(raw), Some(Raw::new(raw)), out);
    }

    /// [`RuleSet::candidates`] for a record from [`crate::reader::Records::next_record`]: the
    /// splitter already read its dispatch fields and knows whether it holds a backslash, so
    /// neither is looked for again.
    pub fn candidates_for_record(&self, record: &RecordRef<'_>, out: &mut Vec<usize>) {
        let raw = Raw {
            bytes: record.bytes,
            escape_free: record.escape_free(),
        };
        self.dispatch_into(record.head(), Some(raw), out);
    }

    fn dispatch_into(&self, head: Head<'_>, raw: Option<Raw<'_>>, out: &mut Vec<usize>) {
        if self.dispatch.covers(self.rules.len()) {
            self.dispatch.candidates(head, raw, out);
        } else {
            // `rules` was changed after compiling: the index is stale, evaluate everything.
            out.clear();
            out.extend(0..self.rules.len());
        }
    }

    /// The rules among `candidates` (indices from [`RuleSet::candidates`]) whose query matches.
    pub fn matches_candidates<'s>(
        &'s self,
        candidates: &[usize],
        doc: &dyn Document,
    ) -> Vec<&'s CompiledRule> {
        candidates
            .iter()
            .filter_map(|&i| self.rules.get(i))
            .filter(|r| engine::matches(&r.expr, doc))
            .collect()
    }

    /// Rules evaluated on every record (no `event.provider` / `event.action` / text they require).
    pub fn unconstrained_rules(&self) -> usize {
        self.dispatch.unconstrained()
    }

    /// Rules evaluated only on records whose raw bytes hold one of their required texts (or an
    /// escape); see [`crate::prefilter`].
    pub fn text_constrained_rules(&self) -> usize {
        self.dispatch.text_constrained()
    }

    /// The rules that match one CloudTrail record (an element of `Records`), seen as the ECS
    /// document Elastic's pipeline makes of it.
    pub fn matches(&self, record: &serde_json::Value) -> Vec<&CompiledRule> {
        let view = crate::ecs::CloudTrailView::new(record);
        self.matches_document(&view)
    }

    /// Finds a compiled rule by id.
    pub fn get(&self, rule_id: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|r| r.rule.rule_id == rule_id)
    }
}

/// Why a file is skipped: the rule when it parsed that far, and the reason.
type Skip = (Option<Box<Rule>>, String);

/// Compiles one rule file, or says why not.
fn compile_file(text: &str) -> Result<(Rule, Expr), Skip> {
    let RuleFile { metadata, rule } =
        toml::from_str(text).map_err(|e| (None, format!("invalid rule file: {e}")))?;
    compile_rule(rule, metadata.get("maturity").and_then(|m| m.as_str()))
}

/// Compiles a parsed rule whose `[metadata] maturity` is `maturity`, or says why not.
fn compile_rule(rule: Rule, maturity: Option<&str>) -> Result<(Rule, Expr), Skip> {
    if maturity == Some("deprecated") {
        return Err((
            Some(Box::new(rule)),
            "deprecated rule (maturity = \"deprecated\")".into(),
        ));
    }
    let stateful = match rule.rule_type.as_str() {
        "query" | "eql" => None,
        "new_terms" => Some(
            "stateful rule type new_terms: needs the history of values over its history window",
        ),
        "threshold" => {
            Some("stateful rule type threshold: counts events per group over the look-back window")
        }
        "machine_learning" => Some("machine learning rule: needs an anomaly detection job"),
        "esql" => {
            Some("ES|QL rule: aggregations over the look-back window are not evaluated per event")
        }
        "threat_match" => Some("indicator match rule: needs a threat intelligence index"),
        _ => Some("unknown rule type"),
    };
    if let Some(reason) = stateful {
        let reason = if reason == "unknown rule type" {
            format!("unknown rule type {:?}", rule.rule_type)
        } else {
            reason.to_owned()
        };
        return Err((Some(Box::new(rule)), reason));
    }
    let Some(query) = rule.query.as_deref() else {
        return Err((Some(Box::new(rule)), "rule has no query".into()));
    };
    let language = rule.language.as_deref().unwrap_or("kuery");
    let compiled = match language {
        "kuery" => crate::kql::parse(query).map_err(|e| format!("KQL error: {e}")),
        // The detection engine sends a rule's `event_category_override` as the EQL search's
        // `event_category_field` (Elastic's AWS `info where` rules use `event.type`).
        "eql" => crate::eql::parse_with_category_field(
            query,
            rule.extra
                .get("event_category_override")
                .and_then(|v| v.as_str())
                .unwrap_or(crate::eql::DEFAULT_EVENT_CATEGORY_FIELD),
        )
        .map_err(|e| match e {
            crate::eql::Error::Unsupported(what) => format!("unsupported EQL: {what}"),
            other => format!("EQL error: {other}"),
        }),
        "esql" => Err("ES|QL query: not evaluated per event".into()),
        "lucene" => Err("Lucene query language is not supported".into()),
        other => Err(format!("unknown query language {other:?}")),
    };
    match compiled {
        Ok(expr) => Ok((rule, expr)),
        Err(reason) => Err((Some(Box::new(rule)), reason)),
    }
}

#[cfg(test)]
mod tests {
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
    fn stateful_deprecated_and_broken_files_are_skipped_with_reasons() {
        let new_terms = rule("n", "nt", "event.action:A", "")
            .replace("type = \"query\"", "type = \"new_terms\"");
        let deprecated = rule("d", "dep", "event.action:A", "").replace("production", "deprecated");
        let bad_query = rule("b", "bad", "event.action:(A", "");
        let set = RuleSet::from_sources([
            (
                RuleOrigin::Project,
                "nt.toml".to_owned(),
                new_terms.as_str(),
            ),
            (
                RuleOrigin::Project,
                "dep.toml".to_owned(),
                deprecated.as_str(),
            ),
            (
                RuleOrigin::Project,
                "bad.toml".to_owned(),
                bad_query.as_str(),
            ),
            (RuleOrigin::Project, "junk.toml".to_owned(), "not toml ["),
        ]);
        assert!(set.rules.is_empty());
        let reasons: Vec<_> = set.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons[0].starts_with("stateful rule type new_terms"),
            "{reasons:?}"
        );
        assert!(reasons[1].starts_with("deprecated rule"), "{reasons:?}");
        assert!(reasons[2].starts_with("KQL error"), "{reasons:?}");
        assert!(reasons[3].starts_with("invalid rule file"), "{reasons:?}");
    }
}
