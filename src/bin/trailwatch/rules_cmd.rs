//! `trailwatch rules list|show`.
use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use trailwatch::ecs::Enrichment;
use trailwatch::rules::{degraded_status, Rule, RuleSet};
use trailwatch::{Config, Detector};

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Every rule file compiled in: rule_id, name, type, language, severity, status.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// One rule in full: metadata, query, triage guide, references, MITRE mapping.
    Show { rule_id: String },
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
        })
        .chain(set.skipped().iter().map(|s| Row {
            rule: s.rule.as_ref(),
            file: &s.file,
            status: format!("skipped: {}", s.reason),
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
    let detector = Detector::from_config(RuleSet::embedded(), &config)?;
    let set = &detector.rules;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        RulesCommand::List { format } => {
            for row in rows(set, &enrichment) {
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
        RulesCommand::Show { rule_id } => {
            let found = rows(set, &enrichment)
                .into_iter()
                .find(|r| r.rule.is_some_and(|r| r.rule_id == rule_id));
            let Some(Row {
                rule: Some(rule),
                file,
                status,
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
