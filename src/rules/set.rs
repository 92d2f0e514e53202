//! Compiling rule files into a [`RuleSet`]: every file is either compiled or skipped with a
//! specific reason (stateful type, sequence, ES|QL, machine learning, unsupported construct) —
//! never silently approximated.
use std::path::Path;
use std::time::{Duration, Instant};

use super::embedded::{EmbeddedFile, EMBEDDED_RULES};
use super::stateful::StatefulSpec;
use super::{Rule, RuleFile};
use crate::engine::dispatch::{head_of_document, Dispatch, Raw};
use crate::engine::{self, Document, Expr};
use crate::reader::RecordRef;
use crate::reader::{scan_head, Head};

/// Where a rule file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleOrigin {
    /// `rules/` in this repository.
    Project,
    /// The directory named by `TRAILWATCH_EXTRA_RULES` at build time.
    Extra,
    /// A directory given at run time (`EXTRA_RULES_DIR`, `scan --rules DIR`).
    Runtime,
}

/// A rules directory that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("rules directory {path}: {source}")]
pub struct RulesDirError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// The `*.toml` files under `dir` (recursive), sorted by path, as (name relative to `dir`, text).
fn read_rules_dir(dir: &Path) -> Result<Vec<(String, String)>, RulesDirError> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
        Ok(())
    }
    let err = |source| RulesDirError {
        path: dir.display().to_string(),
        source,
    };
    let mut paths = Vec::new();
    walk(dir, &mut paths).map_err(err)?;
    paths
        .into_iter()
        .map(|p| {
            // A file that is not UTF-8 is read lossily: it then fails to parse and is listed
            // as skipped, like any broken file, instead of failing the whole directory.
            let bytes = std::fs::read(&p).map_err(err)?;
            let name = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
            Ok((name, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: Rule,
    pub expr: Expr,
    /// The rule file's name (relative to its directory).
    pub file: String,
    pub origin: RuleOrigin,
    /// `new_terms` / `threshold` parameters and alert suppression: the rule's matches go through
    /// [`crate::state`] before they become alerts. `None`: every match is an alert.
    pub stateful: Option<StatefulSpec>,
}

impl CompiledRule {
    /// True when a match is not an alert by itself (new terms, threshold, suppression).
    pub fn is_stateful(&self) -> bool {
        self.stateful.is_some()
    }
}

/// Why a rule file is not evaluated (the text in [`SkippedRule::reason`] gives the details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Not TOML, or not a rule file.
    InvalidFile,
    /// `[metadata] maturity = "deprecated"`.
    Deprecated,
    /// Another file defines the same rule_id.
    Duplicate,
    /// An EQL `sequence`: correlates several events.
    Sequence,
    /// An ES|QL rule: aggregations over the look-back window.
    Esql,
    MachineLearning,
    /// Indicator match: needs a threat intelligence index.
    ThreatMatch,
    UnknownType,
    NoQuery,
    /// The query does not parse, or uses a construct trailwatch does not evaluate.
    Query,
    /// `[rule.new_terms]`, `[rule.threshold]` or `[rule.alert_suppression]` is missing or invalid.
    StatefulParameters,
}

/// A rule file that is not evaluated, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedRule {
    pub file: String,
    pub origin: RuleOrigin,
    /// Present when the file parsed far enough to have them.
    pub rule: Option<Rule>,
    pub kind: SkipReason,
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
    rules: Vec<CompiledRule>,
    skipped: Vec<SkippedRule>,
    /// How long compiling took.
    compile_time: Duration,
    /// The rules indexed by the `event.provider` / `event.action` values they require.
    dispatch: Dispatch,
}

impl RuleSet {
    /// The rules evaluated, in catalogue order (rule indices elsewhere refer to this order).
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// The rule files not evaluated, each with its reason.
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// Re-indexes the rules knowing that no record has a value at the paths `absent` accepts
    /// (the fields of an enrichment that is not configured): rules that need one are never
    /// candidates, so records only they could match are not parsed. They stay in the catalogue
    /// (listed as degraded), and would not match anyway.
    pub fn assume_absent(&mut self, absent: &dyn Fn(&str) -> bool) {
        self.dispatch = Dispatch::with_absent(self.rules.iter().map(|r| &r.expr), absent);
    }

    /// How long compiling the catalogue took.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

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

    /// The rule files under `dir` (recursive, `*.toml`, sorted), compiled at run time.
    pub fn from_dir(dir: &Path) -> Result<RuleSet, RulesDirError> {
        let files = read_rules_dir(dir)?;
        Ok(Self::from_sources(files.iter().map(|(name, text)| {
            (RuleOrigin::Runtime, name.clone(), text.as_str())
        })))
    }

    /// The embedded rules, then the files under `dir` (`EXTRA_RULES_DIR`, `scan --rules`),
    /// through the same compile path: an embedded rule takes precedence over a file of the same
    /// rule_id (listed as skipped, duplicate), skip reasons are kept.
    pub fn embedded_with_dir(dir: &Path) -> Result<RuleSet, RulesDirError> {
        let files = read_rules_dir(dir)?;
        let embedded = EMBEDDED_RULES.iter().map(|(origin, name, file)| {
            let compiled = match file {
                EmbeddedFile::Parsed { maturity, rule } => compile_rule(rule.to_rule(), *maturity),
                EmbeddedFile::Source(text) => compile_file(text),
            };
            (*origin, (*name).to_owned(), compiled)
        });
        let extra = files
            .iter()
            .map(|(name, text)| (RuleOrigin::Runtime, name.clone(), compile_file(text)));
        Ok(Self::compile(embedded.chain(extra)))
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
        files: impl Iterator<Item = (RuleOrigin, String, Result<Compiled, Skip>)>,
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
            let compiled = compiled.and_then(|c| match seen.get(&c.0.rule_id) {
                Some(first) => Err((
                    Some(Box::new(c.0)),
                    SkipReason::Duplicate,
                    format!("duplicate rule_id: {first} defines it and takes precedence"),
                )),
                None => Ok(c),
            });
            match compiled {
                Ok((rule, expr, stateful)) => {
                    seen.insert(rule.rule_id.clone(), file.clone());
                    set.rules.push(CompiledRule {
                        rule,
                        expr,
                        file,
                        origin,
                        stateful,
                    })
                }
                Err((rule, kind, reason)) => {
                    if let Some(r) = &rule {
                        seen.entry(r.rule_id.clone())
                            .or_insert_with(|| file.clone());
                    }
                    set.skipped.push(SkippedRule {
                        file,
                        origin,
                        rule: rule.map(|r| *r),
                        kind,
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
        let (provider, action) = head_of_document(doc);
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
    /// parsed. See [`crate::engine::dispatch`].
    pub fn candidates(&self, raw: &[u8], out: &mut Vec<usize>) {
        self.dispatch_into(scan_head(raw), Some(Raw::new(raw)), out);
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
    /// escape); see [`crate::engine::dispatch`].
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

/// Why a file is skipped: the rule when it parsed that far, the kind of reason, and the reason.
type Skip = (Option<Box<Rule>>, SkipReason, String);

/// A compiled rule: the rule, its query, its stateful parameters.
type Compiled = (Rule, Expr, Option<StatefulSpec>);

/// Compiles one rule file, or says why not.
fn compile_file(text: &str) -> Result<Compiled, Skip> {
    let RuleFile { metadata, rule } = toml::from_str(text).map_err(|e| {
        (
            None,
            SkipReason::InvalidFile,
            format!("invalid rule file: {e}"),
        )
    })?;
    compile_rule(rule, metadata.get("maturity").and_then(|m| m.as_str()))
}

/// Compiles a parsed rule whose `[metadata] maturity` is `maturity`, or says why not.
fn compile_rule(rule: Rule, maturity: Option<&str>) -> Result<Compiled, Skip> {
    let skip = |rule: Rule, kind, reason: String| Err((Some(Box::new(rule)), kind, reason));
    if maturity == Some("deprecated") {
        return skip(
            rule,
            SkipReason::Deprecated,
            "deprecated rule (maturity = \"deprecated\")".into(),
        );
    }
    let unsupported = match rule.rule_type.as_str() {
        // new_terms and threshold rules are single-event queries whose matches go through
        // crate::state (first-seen history, counts per group).
        "query" | "eql" | "new_terms" | "threshold" => None,
        "machine_learning" => Some((
            SkipReason::MachineLearning,
            "machine learning rule: needs an anomaly detection job".to_owned(),
        )),
        "esql" => Some((
            SkipReason::Esql,
            "ES|QL rule: aggregations over the look-back window are not evaluated per event"
                .to_owned(),
        )),
        "threat_match" => Some((
            SkipReason::ThreatMatch,
            "indicator match rule: needs a threat intelligence index".to_owned(),
        )),
        other => Some((
            SkipReason::UnknownType,
            format!("unknown rule type {other:?}"),
        )),
    };
    if let Some((kind, reason)) = unsupported {
        return skip(rule, kind, reason);
    }
    let stateful = match StatefulSpec::of(&rule) {
        Ok(s) => s,
        Err(e) => {
            let reason = format!("invalid {} parameters: {e}", rule.rule_type);
            return skip(rule, SkipReason::StatefulParameters, reason);
        }
    };
    let Some(query) = rule.query.as_deref() else {
        return skip(rule, SkipReason::NoQuery, "rule has no query".into());
    };
    let language = rule.language.as_deref().unwrap_or("kuery");
    let compiled = match language {
        "kuery" => crate::query::kql::parse(query)
            .map_err(|e| (SkipReason::Query, format!("KQL error: {e}"))),
        // The detection engine sends a rule's `event_category_override` as the EQL search's
        // `event_category_field` (Elastic's AWS `info where` rules use `event.type`).
        "eql" => crate::query::eql::parse_with_category_field(
            query,
            rule.extra
                .get("event_category_override")
                .and_then(|v| v.as_str())
                .unwrap_or(crate::query::eql::DEFAULT_EVENT_CATEGORY_FIELD),
        )
        .map_err(|e| {
            if e.is_unsupported() {
                let kind = if e.message.starts_with("sequence") {
                    SkipReason::Sequence
                } else {
                    SkipReason::Query
                };
                (kind, format!("unsupported EQL: {e}"))
            } else {
                (SkipReason::Query, format!("EQL error: {e}"))
            }
        }),
        "esql" => Err((
            SkipReason::Esql,
            "ES|QL query: not evaluated per event".into(),
        )),
        "lucene" => Err((
            SkipReason::Query,
            "Lucene query language is not supported".into(),
        )),
        other => Err((
            SkipReason::Query,
            format!("unknown query language {other:?}"),
        )),
    };
    match compiled {
        Ok(expr) => Ok((rule, expr, stateful)),
        Err((kind, reason)) => skip(rule, kind, reason),
    }
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;
