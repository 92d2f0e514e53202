//! `trailwatch match`: grep for JSON documents, or for CloudTrail records seen as the rules see
//! them (`--cloudtrail`).
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;
use trailwatch::ecs::{CloudTrailView, Enrichment, ViewOptions};
use trailwatch::engine::{matches, Expr, JsonDocument};
use trailwatch::query::{self, indexed};
use trailwatch::reader::{self, ReadError, Records};
use trailwatch::Config;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Language {
    Kuery,
    Eql,
}

#[derive(Args)]
pub struct MatchArgs {
    #[arg(long)]
    query: String,
    #[arg(long, value_enum, default_value = "kuery")]
    language: Language,
    /// Evaluate the query on CloudTrail records through the ECS view the rules use, and print
    /// the matching records: FILE is a CloudTrail object (`{"Records": [...]}`) or NDJSON of
    /// records, gzip or not.
    #[arg(long)]
    cloudtrail: bool,
    /// The field an EQL `<category> where` tests; Elastic's AWS rules set
    /// `event_category_override = "event.type"` for `info where`.
    #[arg(long, value_name = "FIELD", default_value = query::eql::DEFAULT_EVENT_CATEGORY_FIELD)]
    event_category_field: String,
    /// NDJSON documents (ECS, nested or with dotted keys), gzip or not (detected by content).
    file: PathBuf,
}

pub fn run(args: &MatchArgs) -> anyhow::Result<ExitCode> {
    let language = match args.language {
        Language::Kuery => query::Language::Kuery,
        Language::Eql => query::Language::Eql,
    };
    let expr = query::parse(language, &args.query, &args.event_category_field).map_err(|e| {
        anyhow::anyhow!(
            "invalid {} query:\n{}",
            e.language.name(),
            e.render(&args.query)
        )
    })?;
    let file = &args.file;
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut out = Matches {
        out: std::io::stdout().lock(),
        file,
        any: false,
        errors: 0,
    };
    if args.cloudtrail {
        let enrichment = Config::from_env()?.open_enrichment()?;
        cloudtrail(&expr, &enrichment, reader::decoder(input), &mut out)?;
    } else {
        documents(&expr, BufReader::new(reader::decoder(input)), &mut out)?;
    }
    out.out.flush()?;
    Ok(match (out.errors, out.any) {
        (0, true) => ExitCode::SUCCESS,
        (0, false) => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}

/// Where matches go, and what was seen.
struct Matches<'a, W> {
    out: W,
    file: &'a Path,
    any: bool,
    errors: usize,
}

impl<W: Write> Matches<'_, W> {
    fn hit(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.any = true;
        self.out.write_all(line)?;
        self.out.write_all(b"\n")
    }

    /// Reports a line that could not be evaluated (the run then exits 2).
    fn error(&mut self, line: usize, what: impl std::fmt::Display) {
        self.errors += 1;
        eprintln!("trailwatch: {}:{line}: {what}", self.file.display());
    }

    /// Reports a record of a CloudTrail object that could not be read (the run then exits 2).
    fn record_error(&mut self, what: &ReadError) {
        self.errors += 1;
        eprintln!("trailwatch: {}: {what}", self.file.display());
    }
}

/// NDJSON documents, each read as Elasticsearch would index it (dotted keys are object paths).
fn documents<W: Write>(
    expr: &Expr,
    input: impl BufRead,
    out: &mut Matches<'_, W>,
) -> anyhow::Result<()> {
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", out.file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let doc = match serde_json::from_str::<Value>(&line) {
            Ok(doc) => doc,
            Err(e) => {
                out.error(n + 1, format_args!("not JSON: {e}"));
                continue;
            }
        };
        match indexed::expand_dotted_keys(doc) {
            Ok(doc) => {
                if matches(expr, &JsonDocument(&doc)) {
                    out.hit(line.as_bytes())?;
                }
            }
            Err(e) => out.error(n + 1, e),
        }
    }
    Ok(())
}

/// CloudTrail records, through the ECS view: a CloudTrail object (its `Records`, streamed) when
/// the input's first key is `Records`, otherwise one raw record (or one-line object) per line.
fn cloudtrail<W: Write>(
    expr: &Expr,
    enrichment: &Enrichment,
    input: impl Read,
    out: &mut Matches<'_, W>,
) -> anyhow::Result<()> {
    let (object, input) = starts_with_records_key(input)
        .with_context(|| format!("cannot read {}", out.file.display()))?;
    let matching = |record: &Value| {
        let view = CloudTrailView::with_enrichment(record, ViewOptions::default(), enrichment);
        matches(expr, &view)
    };
    if !object {
        for (n, line) in BufReader::new(input).lines().enumerate() {
            let line = line.with_context(|| format!("cannot read {}", out.file.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&line) {
                // A CloudTrail object whose `Records` key is not first (written by hand or by a
                // tool that sorts keys): its records, not the object, are the events.
                Ok(Value::Object(object)) if object.get("Records").is_some_and(Value::is_array) => {
                    let records = object.get("Records").and_then(Value::as_array);
                    for record in records.into_iter().flatten() {
                        if matching(record) {
                            out.hit(serde_json::to_string(record)?.as_bytes())?;
                        }
                    }
                }
                Ok(record) if record.is_object() => {
                    if matching(&record) {
                        out.hit(line.as_bytes())?;
                    }
                }
                Ok(_) => out.error(n + 1, "not a CloudTrail record (a JSON object)"),
                Err(e) => out.error(n + 1, format_args!("not JSON: {e}")),
            }
        }
        return Ok(());
    }
    let mut records = Records::new(input);
    while let Some(next) = records.next_record() {
        let record = match next {
            Ok(record) => record,
            Err(e @ ReadError::BadRecord { .. }) => {
                out.record_error(&e);
                continue;
            }
            Err(e) => {
                out.record_error(&e);
                break;
            }
        };
        let parsed = match record.parse() {
            Ok(parsed) => parsed,
            Err(e) => {
                out.record_error(&e);
                continue;
            }
        };
        if matching(&parsed) {
            // The record as it is in the object, on one line (re-serialised when it spans several).
            if record.bytes.contains(&b'\n') {
                out.hit(serde_json::to_string(&parsed)?.as_bytes())?;
            } else {
                out.hit(record.bytes)?;
            }
        }
    }
    Ok(())
}

/// Reads just enough of `input` to tell whether it is a JSON object whose first key is
/// `"Records"` (as CloudTrail writes its objects), and gives the input back whole.
fn starts_with_records_key(mut input: impl Read) -> std::io::Result<(bool, impl Read)> {
    const KEY: &[u8] = b"\"Records\"";
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let mut state = 0; // 0: before `{`, 1: after it, before the first key
    let object = loop {
        if input.read(&mut byte)? == 0 {
            break false;
        }
        head.push(byte[0]);
        let b = byte[0];
        if b.is_ascii_whitespace() {
            continue;
        }
        match (state, b) {
            (0, b'{') => state = 1,
            (1, b'"') => {
                let mut key = [0u8; KEY.len() - 1];
                let n = read_up_to(&mut input, &mut key)?;
                head.extend_from_slice(&key[..n]);
                break n == key.len() && key == KEY[1..];
            }
            _ => break false,
        }
    };
    Ok((object, std::io::Cursor::new(head).chain(input)))
}

fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
