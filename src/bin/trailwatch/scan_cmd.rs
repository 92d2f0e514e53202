//! `trailwatch scan`: the Lambda's engine on local files and S3 prefixes.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use trailwatch::alert::Alert;
use trailwatch::{scan_object, scan_object_pipelined, Config, Detector, ObjectReport, RuleSet};

use crate::Format;

#[derive(clap::Args)]
pub struct ScanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also publish the alerts to this SNS topic (as the Lambda would).
    #[arg(long, value_name = "TOPIC_ARN")]
    publish: Option<String>,
    /// Print at most N alerts per object and rule (the rest are counted in a summary).
    #[arg(long, value_name = "N")]
    max_per_rule: Option<usize>,
    /// Files, directories (recursive: *.json, *.json.gz) or s3://bucket/prefix.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// Totals over all objects.
#[derive(Default)]
struct Totals {
    objects: usize,
    failed: usize,
    records: usize,
    bad_records: usize,
    alerts: usize,
    bytes: u64,
}

struct Output<W: Write> {
    out: W,
    format: Format,
    first_json: bool,
    totals: Totals,
    to_publish: Vec<Alert>,
    max_per_rule: Option<usize>,
}

impl<W: Write> Output<W> {
    fn report(&mut self, report: ObjectReport) -> std::io::Result<()> {
        let t = &mut self.totals;
        t.objects += 1;
        t.records += report.records;
        t.bad_records += report.bad_records;
        t.bytes += report.bytes;
        t.alerts += report.alerts.len();
        for msg in &report.bad_record_messages {
            eprintln!("trailwatch: {}: skipped {msg}", report.object);
        }
        if let Some(e) = &report.error {
            t.failed += 1;
            eprintln!("trailwatch: {}: {e}", report.object);
        }
        let shown = match self.max_per_rule {
            Some(n) => trailwatch::alert::flood_control(report.alerts.clone(), n),
            None => report.alerts.clone(),
        };
        for alert in &shown {
            match self.format {
                Format::Text => writeln!(
                    self.out,
                    "Subject: {}\n\n{}\n{}",
                    trailwatch::alert::subject(alert),
                    trailwatch::alert::body(alert).trim_end(),
                    "=".repeat(78)
                )?,
                Format::Ndjson => writeln!(self.out, "{}", trailwatch::alert::json(alert))?,
                Format::Json => {
                    let sep = if self.first_json { "[\n" } else { ",\n" };
                    self.first_json = false;
                    write!(self.out, "{sep}{}", trailwatch::alert::json(alert))?;
                }
            }
        }
        self.to_publish.extend(report.alerts);
        Ok(())
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let detector = Detector::from_config(RuleSet::embedded(), &config)?;
    let rules = &detector;
    let stdout = std::io::stdout();
    let mut output = Output {
        out: std::io::BufWriter::new(stdout.lock()),
        format: args.format,
        first_json: true,
        totals: Totals::default(),
        to_publish: Vec::new(),
        max_per_rule: args.max_per_rule,
    };
    let (s3, local): (Vec<&String>, Vec<&String>) =
        args.paths.iter().partition(|p| p.starts_with("s3://"));
    let mut files = Vec::new();
    for p in local {
        collect_files(Path::new(p), true, &mut files, &mut output.totals)?;
    }
    scan_files(&files, rules, &mut output)?;
    if !s3.is_empty() {
        scan_s3(&s3, rules, &mut output)?;
    }
    if args.format == Format::Json {
        let close = if output.first_json { "[]\n" } else { "\n]\n" };
        write!(output.out, "{close}")?;
    }
    output.out.flush()?;
    let t = &output.totals;
    eprintln!(
        "trailwatch: {} objects ({} failed), {} records ({} skipped), {} alerts, {:.1} MB of JSON",
        t.objects,
        t.failed,
        t.records,
        t.bad_records,
        t.alerts,
        t.bytes as f64 / 1e6
    );
    let mut failed = t.failed > 0;
    if let Some(topic) = &args.publish {
        failed |= !publish(topic, &output.to_publish, &config)?;
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Collects files: explicit files whatever their name; in directories, `*.json` and `*.json.gz`.
fn collect_files(
    path: &Path,
    explicit: bool,
    out: &mut Vec<PathBuf>,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    eprintln!("trailwatch: {}: {e}", path.display());
                    totals.objects += 1;
                    totals.failed += 1;
                    return Ok(());
                }
            };
            entries.sort();
            for e in entries {
                collect_files(&e, false, out, totals)?;
            }
        }
        Ok(_) => {
            let name = path.to_string_lossy();
            if explicit || name.ends_with(".json") || name.ends_with(".json.gz") {
                out.push(path.to_path_buf());
            }
        }
        Err(e) => {
            eprintln!("trailwatch: {}: {e}", path.display());
            totals.objects += 1;
            totals.failed += 1;
        }
    }
    Ok(())
}

/// Scans files on every core, reporting in input order.
fn scan_files<W: Write>(
    files: &[PathBuf],
    rules: &Detector,
    output: &mut Output<W>,
) -> anyhow::Result<()> {
    // Respects the CPU affinity mask (`taskset -c 0` gives one core).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(files.len().max(1));
    let pipelined = files.len() == 1 && cores >= 2;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, ObjectReport)>();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let name = path.display().to_string();
                let report = match std::fs::File::open(path) {
                    // One object: decompress on a second core while this one evaluates.
                    Ok(f) if pipelined => scan_object_pipelined(&name, f, rules),
                    Ok(f) => scan_object(&name, f, rules),
                    Err(e) => ObjectReport::unreadable(&name, e),
                };
                if tx.send((i, report)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = std::collections::BTreeMap::new();
        let mut expected = 0;
        for (i, report) in rx {
            pending.insert(i, report);
            while let Some(report) = pending.remove(&expected) {
                output.report(report)?;
                expected += 1;
            }
        }
        Ok(())
    })
}

#[cfg(feature = "aws")]
fn scan_s3<W: Write>(
    urls: &[&String],
    rules: &Detector,
    output: &mut Output<W>,
) -> anyhow::Result<()> {
    use trailwatch::source::{ObjectSource, S3Source};
    use trailwatch::trigger::ObjectRef;
    let runtime = tokio::runtime::Runtime::new()?;
    let sdk = runtime.block_on(trailwatch::aws::sdk_config());
    let client = aws_sdk_s3::Client::new(&sdk);
    let source = S3Source::new(client.clone());
    let rules = std::sync::Arc::new(rules.clone());
    for url in urls {
        let rest = url.trim_start_matches("s3://");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let keys = runtime.block_on(async {
            let mut keys = Vec::new();
            let mut pages = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    anyhow::anyhow!(
                        "cannot list: {}",
                        aws_sdk_s3::error::DisplayErrorContext(&e)
                    )
                })?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_owned)),
                );
            }
            anyhow::Ok(keys)
        });
        // A prefix that cannot be listed is one failed object; the other paths are still scanned.
        let keys = match keys {
            Ok(keys) => keys,
            Err(e) => {
                output.report(ObjectReport::unreadable(url, std::io::Error::other(e)))?;
                continue;
            }
        };
        for key in keys {
            if trailwatch::handler::is_digest_key(&key) {
                continue;
            }
            let object = ObjectRef {
                bucket: bucket.to_owned(),
                key,
                size: None,
                message_id: None,
            };
            let name = object.to_string();
            let report = runtime.block_on(async {
                match source.open(&object).await {
                    Ok(body) => {
                        let rules = std::sync::Arc::clone(&rules);
                        let n = name.clone();
                        tokio::task::spawn_blocking(move || scan_object(&n, body, &rules))
                            .await
                            .unwrap_or_else(|e| {
                                ObjectReport::unreadable(&name, std::io::Error::other(e))
                            })
                    }
                    Err(e) => ObjectReport::unreadable(&name, std::io::Error::other(e)),
                }
            });
            output.report(report)?;
        }
    }
    Ok(())
}

#[cfg(not(feature = "aws"))]
fn scan_s3<W: Write>(_: &[&String], _: &Detector, _: &mut Output<W>) -> anyhow::Result<()> {
    anyhow::bail!("this build has no AWS support (built without the `aws` feature)")
}

/// Publishes as the Lambda does; returns false when some alert was not published.
#[cfg(feature = "aws")]
fn publish(topic: &str, alerts: &[Alert], config: &Config) -> anyhow::Result<bool> {
    use trailwatch::sink::{AlertSink, SnsSink};
    let alerts = trailwatch::detector::publishable(alerts, config);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let sdk = trailwatch::aws::sdk_config().await;
        let sink = SnsSink::new(aws_sdk_sns::Client::new(&sdk), topic);
        match sink.publish(&alerts).await {
            Ok(()) => {
                eprintln!("trailwatch: published {} alerts to {topic}", alerts.len());
                Ok(true)
            }
            Err(e) => {
                eprintln!("trailwatch: publish to {topic} failed: {e}");
                Ok(false)
            }
        }
    })
}

#[cfg(not(feature = "aws"))]
fn publish(_: &str, _: &[Alert], _: &Config) -> anyhow::Result<bool> {
    anyhow::bail!("this build has no AWS support (built without the `aws` feature)")
}
