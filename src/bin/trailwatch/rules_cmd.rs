//! `trailwatch rules list|show`.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use trailwatch::ecs::Enrichment;
use trailwatch::query;
use trailwatch::rules::{degraded_status, Rule, RuleSet, SkipReason, SkippedRule};
use trailwatch::{Config, Detector};

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Every rule file compiled in: rule_id, name, type, language, severity, status.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        /// Also the Elastic rule files (*.toml, recursive) of this directory, as `scan --rules`.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// One rule in full: metadata, query, triage guide, references, MITRE mapping.
    Show {
        rule_id: String,
        /// Also the Elastic rule files (*.toml, recursive) of this directory, as `scan --rules`.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Ndjson,
}

struct Row<'a> {
    rule: Option<&'a Rule>,
    file: &'a str,
    status: String,
    /// For a rule skipped because its query does not compile: the error with carets under it.
    query_error: Option<String>,
}

/// The rendered error of a rule skipped for its query. The rule set keeps the reason as one
/// line; compiling the query again here gives the caret rendering (only for skipped rules).
fn query_error(skipped: &SkippedRule) -> Option<String> {
    let rule = skipped.rule.as_ref()?;
    if skipped.kind != SkipReason::Query {
        return None;
    }
    let text = rule.query.as_deref()?;
    let language = match rule.language.as_deref().unwrap_or("kuery") {
        "kuery" => query::Language::Kuery,
        "eql" => query::Language::Eql,
        _ => return None,
    };
    let category = rule
        .extra
        .get("event_category_override")
        .and_then(|v| v.as_str())
        .unwrap_or(query::eql::DEFAULT_EVENT_CATEGORY_FIELD);
    let e = query::parse(language, text, category).err()?;
    Some(format!("{} error: {}", e.language.name(), e.render(text)))
}

fn rows<'a>(set: &'a RuleSet, enrichment: &Enrichment) -> Vec<Row<'a>> {
    let mut rows: Vec<Row> = set
        .rules()
        .iter()
        .map(|r| Row {
            rule: Some(&r.rule),
            file: &r.file,
            // "active (building block)", "active (degraded: needs GEOIP_ASN_DB)", ...
            status: {
                let notes: Vec<String> = r
                    .rule
                    .is_building_block()
                    .then(|| "building block".to_string())
                    .into_iter()
                    .chain(degraded_status(r, enrichment))
                    .collect();
                if notes.is_empty() {
                    "active".into()
                } else {
                    format!("active ({})", notes.join("; "))
                }
            },
            query_error: None,
        })
        .chain(set.skipped().iter().map(|s| Row {
            rule: s.rule.as_ref(),
            file: &s.file,
            status: format!("skipped: {}", s.reason),
            query_error: query_error(s),
        }))
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &Row| r.rule.map(|r| r.name.clone()).unwrap_or_default();
        key(a).cmp(&key(b)).then(a.file.cmp(b.file))
    });
    rows
}

pub fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let enrichment = config.open_enrichment()?;
    let rules = match &command {
        RulesCommand::List { rules, .. } | RulesCommand::Show { rules, .. } => rules,
    };
    let rules = match rules {
        Some(dir) => RuleSet::embedded_with_dir(dir)?,
        None => RuleSet::embedded(),
    };
    let detector = Detector::from_config(rules, &config)?;
    let set = &detector.rules;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        RulesCommand::List { format, .. } => {
            let rows = rows(set, &enrichment);
            for row in &rows {
                let (id, name, ty, lang, sev) = match row.rule {
                    Some(r) => (
                        r.rule_id.as_str(),
                        r.name.as_str(),
                        r.rule_type.as_str(),
                        r.language.as_deref().unwrap_or("kuery"),
                        r.severity.as_str(),
                    ),
                    None => ("-", "-", "-", "-", "-"),
                };
                match format {
                    ListFormat::Ndjson => {
                        let (status, reason) = match row.status.strip_prefix("skipped: ") {
                            Some(reason) => ("skipped", Some(reason)),
                            None => ("active", None),
                        };
                        let mut obj = json!({
                            "rule_id": id, "name": name, "type": ty, "language": lang,
                            "severity": sev, "status": status, "file": row.file,
                            "building_block": row.rule.is_some_and(Rule::is_building_block),
                            "degraded": row.status.contains("degraded: "),
                        });
                        if let (Some(reason), Some(map)) = (reason, obj.as_object_mut()) {
                            map.insert("reason".into(), json!(reason));
                            if let Some(error) = &row.query_error {
                                map.insert("query_error".into(), json!(error));
                            }
                        }
                        writeln!(out, "{obj}")?;
                    }
                    ListFormat::Text => writeln!(
                        out,
                        "{id:<36}  {sev:<8}  {ty:<9}  {lang:<5}  {name}  [{}]",
                        row.status
                    )?,
                }
            }
            if let ListFormat::Text = format {
                query_errors(&rows, &mut out)?;
            }
            report_exceptions(&detector, matches!(format, ListFormat::Text), &mut out)?;
            if let ListFormat::Text = format {
                enrichment_summary(&enrichment);
                eprintln!(
                    "{} active, {} skipped (compiled in {} µs)",
                    set.rules().len(),
                    set.skipped().len(),
                    set.compile_time().as_micros()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Show { rule_id, .. } => {
            let found = rows(set, &enrichment)
                .into_iter()
                .find(|r| r.rule.is_some_and(|r| r.rule_id == rule_id));
            let Some(Row {
                rule: Some(rule),
                file,
                status,
                query_error,
            }) = found
            else {
                anyhow::bail!("no rule with rule_id {rule_id:?} (see `trailwatch rules list`)");
            };
            writeln!(out, "{}\n", rule.name)?;
            writeln!(out, "rule_id:    {}", rule.rule_id)?;
            writeln!(out, "file:       {file}")?;
            writeln!(out, "status:     {status}")?;
            writeln!(
                out,
                "type:       {} ({})",
                rule.rule_type,
                rule.language.as_deref().unwrap_or("kuery")
            )?;
            writeln!(
                out,
                "severity:   {} (risk score {})",
                rule.severity, rule.risk_score
            )?;
            for t in &rule.threat {
                writeln!(
                    out,
                    "MITRE:      {} {} ({})",
                    t.tactic.id, t.tactic.name, t.framework
                )?;
                for tech in &t.technique {
                    writeln!(out, "            {} {}", tech.id, tech.name)?;
                }
            }
            writeln!(out, "\n{}\n", rule.description.trim())?;
            if let Some(q) = &rule.query {
                writeln!(out, "Query:\n{}\n", q.trim())?;
            }
            if let Some(error) = query_error {
                writeln!(out, "{error}\n")?;
            }
            if let Some(note) = &rule.note {
                writeln!(out, "{}\n", note.trim())?;
            }
            for r in &rule.references {
                writeln!(out, "reference:  {r}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The rendered errors of the rules skipped for their query, after the table (each is several
/// lines, the table one line per rule).
fn query_errors(rows: &[Row], out: &mut impl Write) -> anyhow::Result<()> {
    let mut errors = rows
        .iter()
        .filter_map(|r| Some((r, r.query_error.as_ref()?)))
        .peekable();
    if errors.peek().is_some() {
        writeln!(out, "\nquery errors:")?;
    }
    for (row, error) in errors {
        let id = row.rule.map_or("-", |r| r.rule_id.as_str());
        writeln!(out, "\n{id}  {}\n{error}", row.file)?;
    }
    Ok(())
}

/// Says on stderr which enrichment this process has, so a degraded rule's reason is visible.
fn enrichment_summary(enrichment: &Enrichment) {
    let ua = match trailwatch::ecs::user_agent_source() {
        Some((path, 0)) => format!("user_agent.* from {path}"),
        Some((path, skipped)) => {
            format!("user_agent.* from {path} ({skipped} regexes unsupported, skipped)")
        }
        None => "user_agent.* UNAVAILABLE (built without uap-core's regexes.yaml)".into(),
    };
    let db = |has: bool, absent: &'static str| if has { "loaded" } else { absent };
    eprintln!(
        "enrichment: {ua}; source.as.* {}; source.geo.* {}",
        db(enrichment.has_asn(), "absent (no GEOIP_ASN_DB)"),
        db(enrichment.has_city(), "absent (no GEOIP_CITY_DB)"),
    );
}

/// Lists the exceptions (text format) and warns about expired ones (always, on stderr): an expired
/// exception no longer applies, so the activity it covered alerts again.
fn report_exceptions(detector: &Detector, list: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let expired: Vec<_> = detector
        .today
        .map(|today| detector.exceptions.expired(today))
        .unwrap_or_default();
    if list && !detector.exceptions.is_empty() {
        writeln!(out, "\nexceptions:")?;
        for e in detector.exceptions.iter() {
            let status = if expired.iter().any(|x| std::ptr::eq(*x, e)) {
                "EXPIRED"
            } else {
                "active"
            };
            let until = e
                .expires
                .map(|d| d.to_string())
                .unwrap_or_else(|| "no expiry".into());
            writeln!(
                out,
                "{:<36}  {status:<7}  {until:<10}  {}  [{}]",
                e.rule_id, e.reason, e.query
            )?;
        }
    }
    for e in expired {
        eprintln!(
            "trailwatch: exception for rule {} expired on {} and no longer applies: {} [{}]",
            e.rule_id,
            e.expires.map(|d| d.to_string()).unwrap_or_default(),
            e.reason,
            e.query
        );
    }
    Ok(())
}
