//! Breakdown of the rule set's compile time for docs/performance.md: the embedded set (first call
//! in the process = cold start, then warm), and over the same files read from disk: TOML →
//! `RuleFile`, KQL/EQL → IR, dispatch index, `RuleSet::from_sources`.
//! `rule_compile [EXTRA_DIR]` (reads `rules/` and EXTRA_DIR from disk).
//!
//! Each figure is wall time and, in brackets, this thread's on-CPU time from
//! `/proc/thread-self/schedstat` (Linux, tick resolution on some kernels): on a core shared with
//! other jobs, wall time mostly measures the wait for the core.
//!
//! `rule_compile --cold` only builds the embedded set once and `rule_compile --none` does nothing:
//! `perf stat -e task-clock -r 50` on both gives the CPU cost of a cold `RuleSet::embedded()`.
//! `rule_compile --read DIR` only reads the files, `rule_compile --toml DIR` also compiles them
//! with `RuleSet::from_sources` once (what `embedded()` did before `build.rs` parsed them).
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trailwatch::rules::{RuleFile, RuleOrigin, RuleSet};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// This thread's time on the CPU so far (0 where schedstat is unavailable).
fn cpu() -> Duration {
    let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Runs `f`, returning its result, wall time and on-CPU time.
fn timed<T>(f: impl FnOnce() -> T) -> (T, String) {
    let (wall, on_cpu) = (Instant::now(), cpu());
    let out = f();
    let (wall, on_cpu) = (wall.elapsed(), cpu().saturating_sub(on_cpu));
    (out, format!("{wall:.2?} [cpu {on_cpu:.2?}]"))
}

fn main() -> std::io::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("--none") => return Ok(()),
        Some("--cold") => {
            let set = RuleSet::embedded();
            println!("{} µs", set.compile_time().as_micros());
            return Ok(());
        }
        _ => {}
    }
    let mut args = std::env::args().skip(1).collect::<Vec<_>>();
    let mode = match args.first().map(String::as_str) {
        Some(m @ ("--read" | "--toml")) => Some(m.to_owned()),
        _ => None,
    };
    if mode.is_some() {
        args.remove(0);
    }
    let mut paths = Vec::new();
    collect(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")),
        &mut paths,
    )?;
    if let Some(extra) = args.first() {
        collect(Path::new(extra), &mut paths)?;
    }
    let texts: Vec<String> = paths
        .iter()
        .map(std::fs::read_to_string)
        .collect::<Result<_, _>>()?;
    let sources = || {
        texts
            .iter()
            .zip(&paths)
            .map(|(s, p)| (RuleOrigin::Extra, p.display().to_string(), s.as_str()))
    };
    match mode.as_deref() {
        Some("--read") => return Ok(()),
        Some(_) => {
            let set = RuleSet::from_sources(sources());
            println!("{} µs", set.compile_time().as_micros());
            return Ok(());
        }
        None => {}
    }
    let (embedded, t) = timed(RuleSet::embedded);
    println!(
        "embedded(), first call: {t} ({} active, {} skipped)",
        embedded.rules().len(),
        embedded.skipped().len()
    );
    for _ in 0..3 {
        println!("embedded(), again: {}", timed(RuleSet::embedded).1);
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("from disk: {} files, {bytes} bytes", texts.len());
    for round in 0..3 {
        let (files, toml_t) = timed(|| {
            texts
                .iter()
                .filter_map(|s| toml::from_str::<RuleFile>(s).ok())
                .collect::<Vec<_>>()
        });
        // Every query that parses, skipped rule types included (compiling parses fewer).
        let (exprs, query_t) = timed(|| {
            files
                .iter()
                .filter_map(|f| {
                    let q = f.rule.query.as_deref()?;
                    match f.rule.language.as_deref().unwrap_or("kuery") {
                        "kuery" => trailwatch::query::kql::parse(q).ok(),
                        "eql" => trailwatch::query::eql::parse_with_category_field(
                            q,
                            f.rule
                                .extra
                                .get("event_category_override")
                                .and_then(|v| v.as_str())
                                .unwrap_or(trailwatch::query::eql::DEFAULT_EVENT_CATEGORY_FIELD),
                        )
                        .ok(),
                        _ => None,
                    }
                })
                .collect::<Vec<_>>()
        });
        let (_, dispatch_t) = timed(|| trailwatch::engine::Dispatch::new(exprs.iter()));
        let (_, whole_t) = timed(|| RuleSet::from_sources(sources()));
        println!(
            "round {round}: TOML → RuleFile {toml_t}; KQL+EQL ({} queries) {query_t}; dispatch {dispatch_t}; from_sources {whole_t}",
            exprs.len()
        );
    }
    Ok(())
}
