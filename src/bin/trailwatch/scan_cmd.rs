//! `trailwatch scan`: the Lambda's path ([`trailwatch::process_object`]) on local files and S3
//! prefixes, alerts printed as they are found and, with `--publish`, published as the Lambda
//! publishes them.
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::ProgressBar;
use trailwatch::detect::{FloodControl, Policy};
use trailwatch::sink::AlertSink;
use trailwatch::{process_object, Config, Detector, ObjectReport, RuleSet};

use crate::output::Output;
use crate::progress::{Counted, Progress};
use crate::Format;

#[derive(clap::Args)]
pub struct ScanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also publish the alerts to this SNS topic, exactly as the Lambda would (building blocks
    /// left out, MAX_ALERTS_PER_RULE flood control per object).
    #[arg(long, value_name = "TOPIC_ARN")]
    publish: Option<String>,
    /// Print at most N alerts per object and rule, the rest counted in one summary alert: the
    /// Lambda's flood control (its default is 20).
    #[arg(long, value_name = "N")]
    max_per_rule: Option<usize>,
    /// Also compile the Elastic rule files (*.toml, recursive) of this directory, beside the
    /// compiled-in rules.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Keep the stateful rules' state (new terms, threshold counts, suppression) in this
    /// database file across runs (default: in memory, for this run only).
    #[arg(long, value_name = "PATH")]
    state: Option<PathBuf>,
    /// Never draw the progress bar (it is drawn on stderr only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Files, directories (recursive: *.json, *.json.gz) or s3://bucket/prefix.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// One object to scan.
pub(crate) enum Item {
    File(PathBuf),
    #[cfg(feature = "aws")]
    S3(trailwatch::trigger::ObjectRef),
}

/// AWS clients and the runtime their calls run on (only when S3 or SNS is used).
#[cfg(feature = "aws")]
pub(crate) struct Aws {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) sdk: aws_config::SdkConfig,
    source: trailwatch::source::S3Source,
    publisher: Option<std::sync::Arc<trailwatch::sink::SnsPublisher>>,
}

#[cfg(not(feature = "aws"))]
pub(crate) struct Aws;

/// `bar` is the run's hidden progress bar, shared with the log writer; the scan shows it on a
/// terminal.
pub fn run(args: ScanArgs, bar: ProgressBar) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let rules = match &args.rules {
        Some(dir) => RuleSet::embedded_with_dir(dir)?,
        None => RuleSet::embedded(),
    };
    let store: Box<dyn trailwatch::state::StateStore> = match &args.state {
        Some(path) => Box::new(trailwatch::state::RedbStore::open(path)?),
        // This run's state only: kept in memory (a temporary database would cost its set-up
        // on every scan, stateful rules matching or not).
        None => Box::new(trailwatch::state::MemoryStore::new()),
    };
    let detector = Detector::from_config(rules, &config)?.with_state(store);
    list_account_names(&config, &detector)?;
    // Stateful rules see objects in input (key) order, so results do not depend on the number
    // of cores: one object at a time then, decompressing on a second core.
    let in_order =
        detector.rules.rules().iter().any(|r| r.is_stateful()) || !detector.suppressions.is_empty();
    let stdout = std::io::stdout();
    let stdout_is_tty = stdout.is_terminal();
    let progress = Progress::new(bar, std::io::stderr().is_terminal(), args.no_progress);
    let output = Output::new(
        std::io::BufWriter::new(stdout),
        args.format,
        progress,
        stdout_is_tty,
    );
    let aws = connect(&args)?;
    let mut items = Vec::new();
    let mut bytes = 0;
    for path in &args.paths {
        if let Some(url) = path.strip_prefix("s3://") {
            list_s3(url, aws.as_ref(), &output, &mut items, &mut bytes)?;
        } else {
            let before = items.len();
            collect_files(Path::new(path), true, &mut items, &mut bytes, &output);
            if items.len() == before && Path::new(path).is_dir() {
                eprintln!(
                    "trailwatch: {path}: no CloudTrail objects (*.json, *.json.gz) in this directory"
                );
            }
        }
    }
    output.progress(|p| p.add(items.len(), bytes));
    let printing = Policy {
        max_per_rule: args.max_per_rule,
        building_blocks: true,
    };
    let publishing = Policy::publishing(&config);
    let published = AtomicUsize::new(0);
    let bar = output.progress(|p| p.bar().clone());
    scan_parallel(&items, in_order, |index, item, pipelined| {
        let name = item_name(item);
        let printer = FloodControl::new(printing, output.printer(index));
        let mut sink: Box<dyn AlertSink + '_> =
            match publisher_sink(aws.as_ref(), publishing, &published) {
                Some(publish) => Box::new(trailwatch::sink::Tee(printer, publish)),
                None => Box::new(printer),
            };
        let report = match open(item, aws.as_ref()) {
            Ok(body) => {
                let counted = Counted::new(body, &bar);
                process_object(&name, counted, &detector, &mut sink, pipelined)
            }
            Err(e) => {
                // Hand the output's turn on even though nothing was read.
                let _ = sink.end_object();
                ObjectReport::unreadable(&name, e)
            }
        };
        output.report(&report);
    });
    let (totals, progress) = output.finish()?;
    progress.finish();
    let t = &totals;
    eprintln!(
        "trailwatch: {} objects ({} failed), {} records ({} skipped), {} alerts, {:.1} MB of JSON",
        t.objects,
        t.failed,
        t.records,
        t.bad_records,
        t.alerts,
        t.bytes as f64 / 1e6
    );
    if let Some(topic) = &args.publish {
        eprintln!(
            "trailwatch: published {} alerts to {topic}",
            published.load(Ordering::Relaxed)
        );
    }
    Ok(if t.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn item_name(item: &Item) -> String {
    match item {
        Item::File(path) => path.display().to_string(),
        #[cfg(feature = "aws")]
        Item::S3(object) => object.to_string(),
    }
}

/// Collects files and their sizes: explicit files whatever their name; in directories, `*.json`
/// and `*.json.gz`, in name order. Unreadable paths are reported as failed objects.
pub(crate) fn collect_files<W: std::io::Write + Send>(
    path: &Path,
    explicit: bool,
    out: &mut Vec<Item>,
    bytes: &mut u64,
    output: &Output<W>,
) {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    output.failed_path(format_args!("{}: {e}", path.display()));
                    return;
                }
            };
            entries.sort();
            for e in entries {
                collect_files(&e, false, out, bytes, output);
            }
        }
        Ok(m) => {
            let name = path.to_string_lossy();
            if explicit || name.ends_with(".json") || name.ends_with(".json.gz") {
                if let Some(kind) = lambda_payload_kind(path, m.len()) {
                    output.failed_path(format_args!(
                        "{}: a Lambda payload ({kind}), not a CloudTrail log file: run `trailwatch invoke --event {}` to handle it as the function would",
                        path.display(),
                        path.display()
                    ));
                    return;
                }
                *bytes += m.len();
                out.push(Item::File(path.to_path_buf()));
            }
        }
        Err(e) => output.failed_path(format_args!("{}: {e}", path.display())),
    }
}

/// The kind of Lambda payload a small plain-JSON file holds (`events/*.json`), if it is one.
fn lambda_payload_kind(path: &Path, size: u64) -> Option<&'static str> {
    const SMALL: u64 = 1 << 20;
    if size > SMALL {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(SMALL)
        .read_to_string(&mut text)
        .ok()?;
    let payload: serde_json::Value = serde_json::from_str(&text).ok()?;
    let batch = trailwatch::trigger::parse(&payload).ok()?;
    if batch.objects.is_empty() && batch.ignored == 0 && batch.bad_messages.is_empty() {
        return None;
    }
    Some(if batch.from_sqs {
        "SQS"
    } else if payload.get("detail-type").is_some() {
        "EventBridge"
    } else if text.contains("\"aws:sns\"") {
        "SNS"
    } else {
        "S3 event notification"
    })
}

/// Scans `items` one per core (a worker takes the next as soon as it is done with one).
/// `scan_one` gets the item's index and `pipelined` = true when there is a single object and a
/// spare core: it then decompresses on a second core while the first evaluates.
fn scan_parallel<T: Sync>(items: &[T], in_order: bool, scan_one: impl Fn(usize, &T, bool) + Sync) {
    // Respects the CPU affinity mask (`taskset -c 0` gives one core).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = if in_order {
        1
    } else {
        cores.min(items.len().max(1))
    };
    let pipelined = (items.len() == 1 || in_order) && cores >= 2;
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                scan_one(i, item, pipelined);
            });
        }
    });
}

/// `ACCOUNT_NAMES=organizations`: the accounts are listed once for the run, as the function
/// does per container (a failure is one warning line; alerts then carry the id alone).
#[cfg(feature = "aws")]
fn list_account_names(config: &Config, detector: &Detector) -> anyhow::Result<()> {
    use trailwatch::accounts::{AccountDirectory, OrganizationsLister};
    if !config.account_names_from_organizations {
        return Ok(());
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        let sdk = trailwatch::aws::sdk_config().await;
        let lister = OrganizationsLister::new(aws_sdk_organizations::Client::new(&sdk));
        AccountDirectory::new(Box::new(lister), detector.account_names.clone())
            .refresh_if_due()
            .await;
    });
    Ok(())
}

#[cfg(not(feature = "aws"))]
fn list_account_names(config: &Config, _: &Detector) -> anyhow::Result<()> {
    if config.account_names_from_organizations {
        anyhow::bail!("ACCOUNT_NAMES=organizations: this build has no AWS support (built without the `aws` feature)");
    }
    Ok(())
}

#[cfg(feature = "aws")]
fn connect(args: &ScanArgs) -> anyhow::Result<Option<Aws>> {
    let needs_s3 = args.paths.iter().any(|p| p.starts_with("s3://"));
    if !needs_s3 && args.publish.is_none() {
        return Ok(None);
    }
    connect_aws(args.publish.as_ref()).map(Some)
}

/// AWS clients (honouring `AWS_ENDPOINT_URL`), publishing to `publish` when given.
#[cfg(feature = "aws")]
pub(crate) fn connect_aws(publish: Option<&String>) -> anyhow::Result<Aws> {
    let runtime = tokio::runtime::Runtime::new()?;
    let sdk = runtime.block_on(trailwatch::aws::sdk_config());
    let source = trailwatch::source::S3Source::new(aws_sdk_s3::Client::new(&sdk));
    let publisher = publish.map(|topic| {
        std::sync::Arc::new(trailwatch::sink::SnsPublisher::new(
            aws_sdk_sns::Client::new(&sdk),
            topic,
        ))
    });
    Ok(Aws {
        runtime,
        sdk,
        source,
        publisher,
    })
}

#[cfg(not(feature = "aws"))]
fn connect(args: &ScanArgs) -> anyhow::Result<Option<Aws>> {
    if args.publish.is_some() || args.paths.iter().any(|p| p.starts_with("s3://")) {
        anyhow::bail!("this build has no AWS support (built without the `aws` feature)");
    }
    Ok(None)
}

/// Lists `s3://{url}` into `items`; a prefix that cannot be listed is one failed object.
#[cfg(feature = "aws")]
pub(crate) fn list_s3<W: std::io::Write + Send>(
    url: &str,
    aws: Option<&Aws>,
    output: &Output<W>,
    items: &mut Vec<Item>,
    bytes: &mut u64,
) -> anyhow::Result<()> {
    let aws = aws.ok_or_else(|| anyhow::anyhow!("no AWS clients"))?;
    let (bucket, prefix) = url.split_once('/').unwrap_or((url, ""));
    match aws.runtime.block_on(aws.source.list(bucket, prefix)) {
        Ok(objects) => {
            if objects.is_empty() {
                eprintln!("trailwatch: s3://{url}: no CloudTrail objects under this prefix");
            }
            *bytes += objects.iter().filter_map(|o| o.size).sum::<u64>();
            items.extend(objects.into_iter().map(Item::S3));
        }
        Err(e) => output.failed_path(format_args!("{e}")),
    }
    Ok(())
}

#[cfg(not(feature = "aws"))]
pub(crate) fn list_s3<W: std::io::Write + Send>(
    _: &str,
    _: Option<&Aws>,
    _: &Output<W>,
    _: &mut Vec<Item>,
    _: &mut u64,
) -> anyhow::Result<()> {
    anyhow::bail!("this build has no AWS support (built without the `aws` feature)")
}

/// Opens an item's bytes (S3 objects stream in through the runtime while the worker reads).
pub(crate) fn open(item: &Item, aws: Option<&Aws>) -> std::io::Result<Box<dyn Read + Send>> {
    match item {
        Item::File(path) => {
            let _ = aws;
            Ok(Box::new(std::fs::File::open(path)?))
        }
        #[cfg(feature = "aws")]
        Item::S3(object) => {
            use trailwatch::source::ObjectSource;
            let aws = aws.ok_or_else(|| std::io::Error::other("no AWS clients"))?;
            aws.runtime
                .block_on(aws.source.open(object))
                .map_err(std::io::Error::other)
        }
    }
}

/// The sink publishing one object's alerts as the Lambda does (`--publish`).
#[cfg(feature = "aws")]
fn publisher_sink<'a>(
    aws: Option<&Aws>,
    policy: Policy,
    published: &'a AtomicUsize,
) -> Option<Box<dyn AlertSink + 'a>> {
    let aws = aws?;
    let publisher = aws.publisher.as_ref()?;
    let batcher = trailwatch::sink::Batcher::new(
        aws.runtime.handle().clone(),
        std::sync::Arc::clone(publisher),
    );
    Some(Box::new(Published {
        sink: FloodControl::new(policy, batcher),
        published,
    }))
}

#[cfg(not(feature = "aws"))]
fn publisher_sink<'a>(
    _: Option<&Aws>,
    _: Policy,
    _: &'a AtomicUsize,
) -> Option<Box<dyn AlertSink + 'a>> {
    None
}

#[cfg(feature = "aws")]
type SnsBatcher = trailwatch::sink::Batcher<std::sync::Arc<trailwatch::sink::SnsPublisher>>;

/// The publishing sink of one object, adding what it published to the run's count.
#[cfg(feature = "aws")]
struct Published<'a> {
    sink: FloodControl<SnsBatcher>,
    published: &'a AtomicUsize,
}

#[cfg(feature = "aws")]
impl AlertSink for Published<'_> {
    fn send(&mut self, alert: trailwatch::alert::Alert) -> Result<(), trailwatch::sink::SinkError> {
        self.sink.send(alert)
    }
    fn end_object(&mut self) -> Result<(), trailwatch::sink::SinkError> {
        let result = self.sink.end_object();
        self.published
            .fetch_add(self.sink.inner().published, Ordering::Relaxed);
        result
    }
}
