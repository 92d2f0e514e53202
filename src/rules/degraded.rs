//! Which rules read enrichment fields this process cannot produce: `trailwatch rules list` shows
//! them as `active (degraded: ...)`, so a rule that cannot match as in Elastic is never silently
//! taken for a working one.
//!
//! A degraded rule still runs. The fields it cannot have are absent, as in Elasticsearch when
//! the pipeline did not add them: a clause on them is false (so `not` of it is true), and a
//! `new_terms` event missing one of its terms' fields has no term (neither learnt nor alerted on).
//! It is never given a guessed value.

use super::CompiledRule;
use crate::ecs::{user_agent_available, Enrichment};
use crate::engine::Expr;

/// The field paths an expression reads (a nested query's inner paths prefixed with its path).
pub fn expr_fields(expr: &Expr) -> Vec<String> {
    fn walk(e: &Expr, prefix: &str, out: &mut Vec<String>) {
        let full = |p: &str| {
            if prefix.is_empty() {
                p.to_string()
            } else {
                format!("{prefix}.{p}")
            }
        };
        match e {
            Expr::True | Expr::False | Expr::AnyField(_) => {}
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|x| walk(x, prefix, out)),
            Expr::Not(x) => walk(x, prefix, out),
            Expr::Field { path, .. } => out.push(full(path)),
            Expr::Nested { path, inner } => walk(inner, &full(path), out),
            Expr::FieldContainsField {
                path, needle_path, ..
            } => {
                out.push(full(path));
                out.push(full(needle_path));
            }
        }
    }
    let mut out = Vec::new();
    walk(expr, "", &mut out);
    out.sort();
    out.dedup();
    out
}

/// The fields a rule reads: its query's, plus the fields named by its `new_terms` / `threshold`
/// sections (a new_terms rule keyed on `source.as.number` is blind without the ASN database).
pub fn rule_fields(rule: &CompiledRule) -> Vec<String> {
    let mut out = expr_fields(&rule.expr);
    let mut strings = |v: Option<&toml::Value>| {
        let items = match v {
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        out.extend(items);
    };
    let extra = &rule.rule.extra;
    if let Some(nt) = extra.get("new_terms").and_then(toml::Value::as_table) {
        strings(nt.get("value"));
    }
    if let Some(th) = extra.get("threshold").and_then(toml::Value::as_table) {
        strings(th.get("field"));
    }
    out.sort();
    out.dedup();
    out
}

/// What is missing for `fields` to be produced as Elastic's pipeline does, e.g.
/// `["GEOIP_ASN_DB"]`; empty when nothing is.
pub fn missing_enrichment(fields: &[String], enrichment: &Enrichment) -> Vec<&'static str> {
    let reads = |prefix: &str| fields.iter().any(|f| f.starts_with(prefix));
    let mut missing = Vec::new();
    if reads("source.as.") && !enrichment.has_asn() {
        missing.push("GEOIP_ASN_DB");
    }
    if reads("source.geo.") && !enrichment.has_city() {
        missing.push("GEOIP_CITY_DB");
    }
    let reads_parsed_agent = fields
        .iter()
        .any(|f| f.starts_with("user_agent.") && f != "user_agent.original");
    if reads_parsed_agent && !user_agent_available() {
        missing.push("a build with uap-core's regexes.yaml (UAP_REGEXES)");
    }
    missing
}

/// `Some("degraded: needs GEOIP_ASN_DB")` for a rule reading fields this process cannot make.
pub fn degraded_status(rule: &CompiledRule, enrichment: &Enrichment) -> Option<String> {
    let missing = missing_enrichment(&rule_fields(rule), enrichment);
    (!missing.is_empty()).then(|| format!("degraded: needs {}", missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn a_rule_reading_source_as_is_degraded_without_the_asn_database() {
        let set = RuleSet::embedded();
        let mut rule = set.rules().first().expect("a compiled-in rule").clone();
        rule.expr = crate::query::kql::parse(
            "event.action: ListBuckets and source.as.organization.name: *VPN* \
             and not user_agent.original: *Terraform*",
        )
        .expect("query parses");
        let fields = rule_fields(&rule);
        assert_eq!(
            fields,
            [
                "event.action",
                "source.as.organization.name",
                "user_agent.original"
            ]
        );
        assert_eq!(
            degraded_status(&rule, &Enrichment::NONE).as_deref(),
            Some("degraded: needs GEOIP_ASN_DB")
        );
        // The rule as shipped reads no enrichment field: not degraded.
        let shipped = set.rules().first().expect("a compiled-in rule");
        let reads_enrichment = rule_fields(shipped)
            .iter()
            .any(|f| f.starts_with("source.as.") || f.starts_with("source.geo."));
        assert_eq!(
            degraded_status(shipped, &Enrichment::NONE).is_some(),
            reads_enrichment
        );
    }

    #[test]
    fn user_agent_original_alone_needs_nothing() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let none = &Enrichment::NONE;
        assert!(missing_enrichment(&f(&["user_agent.original", "event.action"]), none).is_empty());
        assert_eq!(
            missing_enrichment(&f(&["source.geo.country_iso_code"]), none),
            ["GEOIP_CITY_DB"]
        );
        let ua = missing_enrichment(&f(&["user_agent.name"]), none);
        assert_eq!(ua.is_empty(), user_agent_available(), "{ua:?}");
    }
}
