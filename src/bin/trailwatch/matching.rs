//! `trailwatch match`: grep for JSON documents.
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use trailwatch::engine::{matches, JsonDocument};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Language {
    Kuery,
    Eql,
}

pub fn run(query: &str, language: Language, file: &Path) -> anyhow::Result<ExitCode> {
    let expr = match language {
        Language::Kuery => trailwatch::kql::parse(query)
            .map_err(|e| anyhow::anyhow!("invalid KQL query:\n{}", e.render(query)))?,
        Language::Eql => {
            trailwatch::eql::parse(query).map_err(|e| anyhow::anyhow!("invalid EQL query: {e}"))?
        }
    };
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any = false;
    let mut errors = 0usize;
    for (n, line) in BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(doc) => {
                if matches(&expr, &JsonDocument(&doc)) {
                    any = true;
                    writeln!(out, "{line}")?;
                }
            }
            Err(e) => {
                errors += 1;
                eprintln!("trailwatch: {}:{}: not JSON: {e}", file.display(), n + 1);
            }
        }
    }
    Ok(match (errors, any) {
        (0, true) => ExitCode::SUCCESS,
        (0, false) => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}
