//! `trailwatch scan`: the Lambda's engine on local files and S3 prefixes.
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use indicatif::ProgressBar;
use trailwatch::alert::Alert;
use trailwatch::{scan_object_with, Config, Detector, ObjectReport, RuleSet};

use crate::progress::{Counted, Progress};
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
    /// Never draw the progress bar (it is drawn on stderr only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
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
    stdout_is_tty: bool,
    /// The JSON format's last alert, written when the next one (or the end) says what follows it.
    held_json: Option<String>,
    totals: Totals,
    to_publish: Vec<Alert>,
    max_per_rule: Option<usize>,
    progress: Progress,
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
            self.progress
                .eprintln(format_args!("trailwatch: {}: skipped {msg}", report.object));
        }
        if let Some(e) = &report.error {
            t.failed += 1;
            self.progress
                .eprintln(format_args!("trailwatch: {}: {e}", report.object));
        }
        self.progress.set_done(t.objects, t.failed);
        let shown = match self.max_per_rule {
            Some(n) => trailwatch::alert::flood_control(report.alerts.clone(), n),
            None => report.alerts.clone(),
        };
        let mut text = String::new();
        for alert in &shown {
            match self.format {
                Format::Text => text.push_str(&format!(
                    "Subject: {}\n\n{}\n{}\n",
                    trailwatch::alert::subject(alert),
                    trailwatch::alert::body(alert).trim_end(),
                    "=".repeat(78)
                )),
                Format::Ndjson => {
                    text.push_str(&trailwatch::alert::json(alert));
                    text.push('\n');
                }
                Format::Json => {
                    // Written one element late, with the comma that follows it, so that every
                    // write ends a line (see `write_lines`).
                    let next = trailwatch::alert::json(alert);
                    match self.held_json.replace(next) {
                        Some(prev) => text.push_str(&format!("{prev},\n")),
                        None => text.push_str("[\n"),
                    }
                }
            }
        }
        self.to_publish.extend(report.alerts);
        self.write_lines(&text)
    }

    /// Writes whole lines of results. When stdout is the terminal that shows the bar, they are
    /// written (and flushed) with the bar cleared: the bar is redrawn from the start of the line
    /// it is on, so it would overwrite a partial line and a buffered line could land inside it.
    fn write_lines(&mut self, text: &str) -> std::io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if self.stdout_is_tty {
            let out = &mut self.out;
            self.progress.bar().suspend(|| {
                out.write_all(text.as_bytes())?;
                out.flush()
            })
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    /// Closes the JSON array.
    fn finish(&mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            let close = match self.held_json.take() {
                Some(last) => format!("{last}\n]\n"),
                None => "[]\n".to_owned(),
            };
            self.out.write_all(close.as_bytes())?;
        }
        self.out.flush()
    }
}

/// `bar` is the run's hidden progress bar, shared with the log writer; the scan shows it on a
/// terminal.
pub fn run(args: ScanArgs, bar: ProgressBar) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let detector = Detector::from_config(RuleSet::embedded(), &config)?;
    let rules = &detector;
    let stdout = std::io::stdout();
    let mut output = Output {
        out: std::io::BufWriter::new(stdout.lock()),
        format: args.format,
        stdout_is_tty: stdout.is_terminal(),
        held_json: None,
        totals: Totals::default(),
        to_publish: Vec::new(),
        max_per_rule: args.max_per_rule,
        progress: Progress::new(bar, std::io::stderr().is_terminal(), args.no_progress),
    };
    let (s3, local): (Vec<&String>, Vec<&String>) =
        args.paths.iter().partition(|p| p.starts_with("s3://"));
    let mut files = Vec::new();
    for p in local {
        collect_files(Path::new(p), true, &mut files, &mut output.totals)?;
    }
    // Paths that could not be read were counted as failed objects while walking.
    let input_bytes = files.iter().map(|(_, size)| size).sum();
    output
        .progress
        .add(output.totals.objects + files.len(), input_bytes);
    scan_files(&files, rules, &mut output)?;
    if !s3.is_empty() {
        scan_s3(&s3, rules, &mut output)?;
    }
    output.progress.finish();
    output.finish()?;
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

/// Collects files and their sizes: explicit files whatever their name; in directories, `*.json`
/// and `*.json.gz`.
fn collect_files(
    path: &Path,
    explicit: bool,
    out: &mut Vec<(PathBuf, u64)>,
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
        Ok(m) => {
            let name = path.to_string_lossy();
            if explicit || name.ends_with(".json") || name.ends_with(".json.gz") {
                out.push((path.to_path_buf(), m.len()));
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
    files: &[(PathBuf, u64)],
    rules: &Detector,
    output: &mut Output<W>,
) -> anyhow::Result<()> {
    let bar = output.progress.bar().clone();
    scan_parallel(
        files,
        |(path, _), pipelined| {
            let name = path.display().to_string();
            match std::fs::File::open(path) {
                Ok(f) => scan_object_with(&name, Counted::new(f, &bar), rules, pipelined),
                Err(e) => ObjectReport::unreadable(&name, e),
            }
        },
        output,
    )
}

/// Scans `objects` one per core (a worker takes the next object as soon as it is done with one)
/// and reports them in input order. `scan_one` gets `pipelined` = true when there is a single
/// object and a spare core: it then decompresses on a second core while the first evaluates.
fn scan_parallel<T: Sync, W: Write>(
    objects: &[T],
    scan_one: impl Fn(&T, bool) -> ObjectReport + Sync,
    output: &mut Output<W>,
) -> anyhow::Result<()> {
    // Respects the CPU affinity mask (`taskset -c 0` gives one core).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(objects.len().max(1));
    let pipelined = objects.len() == 1 && cores >= 2;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, ObjectReport)>();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            let scan_one = &scan_one;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(object) = objects.get(i) else { break };
                if tx.send((i, scan_one(object, pipelined))).is_err() {
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
    let bar = output.progress.bar().clone();
    for url in urls {
        let rest = url.trim_start_matches("s3://");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let listed = runtime.block_on(async {
            let mut objects = Vec::new();
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
                objects.extend(page.contents().iter().filter_map(|o| {
                    let key = o.key()?;
                    (!trailwatch::handler::is_digest_key(key)).then(|| ObjectRef {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                        size: o.size().and_then(|n| u64::try_from(n).ok()),
                        message_id: None,
                    })
                }));
            }
            anyhow::Ok(objects)
        });
        // A prefix that cannot be listed is one failed object; the other paths are still scanned.
        let objects = match listed {
            Ok(objects) => objects,
            Err(e) => {
                output.progress.add(1, 0);
                output.report(ObjectReport::unreadable(url, std::io::Error::other(e)))?;
                continue;
            }
        };
        let bytes = objects.iter().filter_map(|o| o.size).sum();
        output.progress.add(objects.len(), bytes);
        // Worker threads (outside the runtime) fetch through it and scan: one object per core,
        // the body streamed in by a runtime task while the worker reads it.
        let handle = runtime.handle();
        scan_parallel(
            &objects,
            |object, pipelined| {
                let name = object.to_string();
                match handle.block_on(source.open(object)) {
                    Ok(body) => scan_object_with(&name, Counted::new(body, &bar), rules, pipelined),
                    Err(e) => ObjectReport::unreadable(&name, std::io::Error::other(e)),
                }
            },
            output,
        )?;
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
