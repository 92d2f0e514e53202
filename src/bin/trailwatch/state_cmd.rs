//! `trailwatch state learn`: fills the stateful rules' state from history without alerting
//! ([`trailwatch::detect::learn_object`]), into the CLI's redb file or the Lambda's DynamoDB
//! table, so a fresh deployment does not flood its first days with first-seen alerts.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::ProgressBar;
use trailwatch::detect::{learn_object, LearnWindow};
use trailwatch::rules::stateful::StatefulKind;
use trailwatch::state::{format_ms, parse_time_ms, StateStore};
use trailwatch::{Config, Detector, RuleSet};

use crate::output::Output;
use crate::progress::Progress;
use crate::scan_cmd::{self, Item};
use crate::Format;

#[derive(clap::Subcommand)]
pub enum StateCommand {
    /// Learn the state from past CloudTrail objects (no alert is raised or published): terms
    /// become seen, threshold groups count.
    Learn(LearnArgs),
}

#[derive(clap::Args)]
pub struct LearnArgs {
    /// Learn the records whose eventTime is within this span before --until (s, m, h, d;
    /// default: the longest history window of the active new_terms rules).
    #[arg(long, value_name = "SPAN")]
    since: Option<String>,
    /// The end of the span, e.g. 2026-01-12T00:00:00Z (default: now). Later records are not
    /// learned.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Also compile the Elastic rule files (*.toml, recursive) of this directory, as `scan
    /// --rules` and the Lambda's EXTRA_RULES_DIR do.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Learn into this state database file (what `scan --state PATH` reads).
    #[arg(long, value_name = "PATH", conflicts_with = "state_table")]
    state: Option<PathBuf>,
    /// Learn into this DynamoDB table (what the deployed function reads: its STATE_TABLE;
    /// default: $STATE_TABLE). Honours AWS_ENDPOINT_URL.
    #[arg(long, value_name = "NAME")]
    state_table: Option<String>,
    /// Files, directories (recursive: *.json, *.json.gz) or s3://bucket/prefix; objects are
    /// learned one at a time in key order.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

pub fn run(command: StateCommand, bar: ProgressBar) -> anyhow::Result<ExitCode> {
    match command {
        StateCommand::Learn(args) => learn(args, bar),
    }
}

/// The longest `history_window_start` of the active new_terms rules.
fn longest_history(rules: &RuleSet) -> Option<i64> {
    rules
        .rules()
        .iter()
        .filter_map(|r| match r.stateful.as_ref()?.kind.as_ref()? {
            StatefulKind::NewTerms { history_ms, .. } => Some(*history_ms),
            StatefulKind::Threshold { .. } => None,
        })
        .max()
}

fn window(args: &LearnArgs, rules: &RuleSet) -> anyhow::Result<LearnWindow> {
    /// When no active new_terms rule says (Elastic's usual history window).
    const DEFAULT_SPAN_MS: i64 = 10 * 86_400_000;
    let span = match &args.since {
        Some(text) => trailwatch::rules::stateful::parse_duration(text).ok_or_else(|| {
            anyhow::anyhow!("--since {text:?}: a span such as 10d, 36h, 90m (units s, m, h, d)")
        })?,
        None => longest_history(rules).unwrap_or(DEFAULT_SPAN_MS),
    };
    let until = match &args.until {
        Some(text) => parse_time_ms(text).ok_or_else(|| {
            anyhow::anyhow!("--until {text:?}: a UTC time such as 2026-01-12T00:00:00Z")
        })?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    };
    Ok(LearnWindow::before(until, span))
}

fn learn(args: LearnArgs, bar: ProgressBar) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let rules = match &args.rules {
        Some(dir) => RuleSet::embedded_with_dir(dir)?,
        None => RuleSet::embedded(),
    };
    let stateful = rules
        .rules()
        .iter()
        .filter(|r| r.stateful.as_ref().is_some_and(|s| s.kind.is_some()))
        .count();
    if stateful == 0 {
        anyhow::bail!("no active new_terms or threshold rule: nothing to learn");
    }
    let window = window(&args, &rules)?;
    let table = args.state_table.clone().or(config.state_table.clone());
    let needs_s3 = args.paths.iter().any(|p| p.starts_with("s3://"));
    let aws = connect(needs_s3 || (args.state.is_none() && table.is_some()))?;
    let (store, described) = open_store(&args, table, aws.as_ref())?;
    let detector = Detector::from_config(rules, &config)?.with_state(store);

    // Objects are listed as `scan` lists them (key order); listing failures are counted there.
    let output = Output::new(
        std::io::sink(),
        Format::Ndjson,
        Progress::new(bar, false, true),
        false,
    );
    let mut items = Vec::new();
    let mut bytes = 0;
    for path in &args.paths {
        match path.strip_prefix("s3://") {
            Some(url) => scan_cmd::list_s3(url, aws.as_ref(), &output, &mut items, &mut bytes)?,
            None => scan_cmd::collect_files(Path::new(path), true, &mut items, &mut bytes, &output),
        }
    }
    let mut t = Totals::default();
    for item in &items {
        learn_item(item, aws.as_ref(), &detector, window, &mut t);
    }
    let (listed, _) = output.finish()?;
    t.objects += listed.objects;
    t.failed += listed.failed;
    let stats = detector.state.store().stats();
    println!(
        "learned {} objects ({} failed), {} records, {} matching events ({} matches of {} stateful rules) from {} to {}",
        t.objects,
        t.failed,
        t.records,
        t.matching_events,
        t.matches,
        stateful,
        format_ms(window.from_ms),
        format_ms(window.until_ms),
    );
    println!(
        "would have alerted {} times (terms first seen, thresholds reached); not learned: {} matches outside the span, {} bad records",
        t.would_alert, t.outside, t.bad_records
    );
    println!(
        "state: {described} ({} reads, {} writes)",
        stats.reads, stats.writes
    );
    Ok(if t.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Default)]
struct Totals {
    objects: usize,
    failed: usize,
    records: usize,
    matching_events: usize,
    matches: usize,
    would_alert: usize,
    outside: usize,
    bad_records: usize,
}

fn learn_item(
    item: &Item,
    aws: Option<&scan_cmd::Aws>,
    detector: &Detector,
    window: LearnWindow,
    t: &mut Totals,
) {
    let name = scan_cmd::item_name(item);
    t.objects += 1;
    let report = match scan_cmd::open(item, aws) {
        Ok(body) => learn_object(&name, body, detector, window),
        Err(e) => {
            t.failed += 1;
            eprintln!("trailwatch: {name}: {e}");
            return;
        }
    };
    t.records += report.records;
    t.matching_events += report.matching_events;
    t.matches += report.learned.matches;
    t.would_alert += report.learned.would_alert;
    t.outside += report.learned.outside;
    t.bad_records += report.bad_records;
    let failures: Vec<String> = [
        report.error.as_ref().map(ToString::to_string),
        report.state_error.as_ref().map(ToString::to_string),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !failures.is_empty() {
        t.failed += 1;
        eprintln!("trailwatch: {name}: {}", failures.join("; "));
    }
}

type OpenedStore = (Box<dyn StateStore>, String);

#[cfg(feature = "aws")]
fn connect(needed: bool) -> anyhow::Result<Option<scan_cmd::Aws>> {
    needed.then(|| scan_cmd::connect_aws(None)).transpose()
}

#[cfg(not(feature = "aws"))]
fn connect(needed: bool) -> anyhow::Result<Option<scan_cmd::Aws>> {
    if needed {
        anyhow::bail!("this build has no AWS support (built without the `aws` feature)");
    }
    Ok(None)
}

/// The store named by `--state PATH`, else the DynamoDB table (`--state-table` or
/// `STATE_TABLE`), and how to name it in the summary.
fn open_store(
    args: &LearnArgs,
    table: Option<String>,
    aws: Option<&scan_cmd::Aws>,
) -> anyhow::Result<OpenedStore> {
    if let Some(path) = &args.state {
        let store = trailwatch::state::RedbStore::open(path)?;
        return Ok((Box::new(store), format!("{}", path.display())));
    }
    let Some(table) = table else {
        anyhow::bail!(
            "where to learn into: --state PATH (the CLI's state) or --state-table NAME / STATE_TABLE (the function's DynamoDB table)"
        );
    };
    dynamo_store(table, aws)
}

#[cfg(feature = "aws")]
fn dynamo_store(table: String, aws: Option<&scan_cmd::Aws>) -> anyhow::Result<OpenedStore> {
    let aws = aws.ok_or_else(|| anyhow::anyhow!("no AWS clients"))?;
    let described = format!("DynamoDB table {table}");
    let store = trailwatch::state::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws.sdk),
        table,
        aws.runtime.handle().clone(),
    );
    Ok((Box::new(store), described))
}

#[cfg(not(feature = "aws"))]
fn dynamo_store(_: String, _: Option<&scan_cmd::Aws>) -> anyhow::Result<OpenedStore> {
    anyhow::bail!("this build has no AWS support (built without the `aws` feature)")
}
