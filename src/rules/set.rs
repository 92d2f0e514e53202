//! Compiling rule files into a [`RuleSet`]: every file is either compiled or skipped with a
//! specific reason (stateful type, sequence, ES|QL, machine learning, unsupported construct) —
//! never silently approximated.
use std::time::{Duration, Instant};

use super::{Rule, RuleFile};
use crate::engine::{self, Document, Expr};
use crate::prefilter::{self, Dispatch, Head};

/// Where a rule file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleOrigin {
    /// `rules/` in this repository.
    Project,
    /// The directory named by `TRAILWATCH_EXTRA_RULES` at build time.
    Extra,
}

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

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
    /// The rule files compiled into this binary (`rules/` plus any build-time extra directory).
    pub fn embedded() -> RuleSet {
        Self::from_sources(
            EMBEDDED_RULES
                .iter()
                .map(|(origin, name, text)| (*origin, (*name).to_owned(), *text)),
        )
    }

    /// Compiles rule files given as (origin, file name, TOML text).
    pub fn from_sources<'a>(
        files: impl IntoIterator<Item = (RuleOrigin, String, &'a str)>,
    ) -> RuleSet {
        let start = Instant::now();
        let mut set = RuleSet::default();
        for (origin, file, text) in files {
            match compile_file(text) {
                Ok((rule, expr)) => set.rules.push(CompiledRule {
                    rule,
                    expr,
                    file,
                    origin,
                }),
                Err((rule, reason)) => set.skipped.push(SkippedRule {
                    file,
                    origin,
                    rule,
                    reason,
                }),
            }
        }
        set.dispatch = Dispatch::new(set.rules.iter().map(|r| &r.expr));
        set.compile_time = start.elapsed();
        set
    }

    /// The rules whose query matches `doc`: only the candidates for its `event.provider` and
    /// `event.action` are evaluated (same result as [`RuleSet::matches_document_slow`]).
    pub fn matches_document<'s>(&'s self, doc: &dyn Document) -> Vec<&'s CompiledRule> {
        let (provider, action) = prefilter::head_of_document(doc);
        let mut candidates = Vec::new();
        self.candidates_for(
            Head {
                provider: provider.as_field(),
                action: action.as_field(),
            },
            &mut candidates,
        );
        self.matches_candidates(&candidates, doc)
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
        self.candidates_for(prefilter::scan_head(raw), out);
    }

    fn candidates_for(&self, head: Head<'_>, out: &mut Vec<usize>) {
        if self.dispatch.covers(self.rules.len()) {
            self.dispatch.candidates(head, out);
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

    /// Rules evaluated on every record (no `event.provider` / `event.action` they require).
    pub fn unconstrained_rules(&self) -> usize {
        self.dispatch.unconstrained()
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

/// Compiles one rule file, or says why not.
fn compile_file(text: &str) -> Result<(Rule, Expr), (Option<Rule>, String)> {
    let file: RuleFile =
        toml::from_str(text).map_err(|e| (None, format!("invalid rule file: {e}")))?;
    let rule = file.rule;
    if file.metadata.get("maturity").and_then(|m| m.as_str()) == Some("deprecated") {
        return Err((
            Some(rule),
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
        return Err((Some(rule), reason));
    }
    let Some(query) = rule.query.as_deref() else {
        return Err((Some(rule), "rule has no query".into()));
    };
    let language = rule.language.as_deref().unwrap_or("kuery");
    let compiled = match language {
        "kuery" => crate::kql::parse(query).map_err(|e| format!("KQL error: {e}")),
        "eql" => crate::eql::parse(query).map_err(|e| match e {
            crate::eql::Error::Unsupported(what) => format!("unsupported EQL: {what}"),
            other => format!("EQL error: {other}"),
        }),
        "esql" => Err("ES|QL query: not evaluated per event".into()),
        "lucene" => Err("Lucene query language is not supported".into()),
        other => Err(format!("unknown query language {other:?}")),
    };
    match compiled {
        Ok(expr) => Ok((rule, expr)),
        Err(reason) => Err((Some(rule), reason)),
    }
}
