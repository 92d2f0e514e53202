//! The trailwatch CLI: the Lambda's engine on local files and S3 prefixes, rule listing, KQL/EQL
//! matching on NDJSON or CloudTrail, and in-process invocation of the Lambda handler.
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod matching;
mod output;
mod progress;
mod rules_cmd;
mod scan_cmd;
mod state_cmd;

#[derive(Parser)]
#[command(
    name = "trailwatch",
    version,
    about = "Elastic detection rules on CloudTrail, offline or in Lambda"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// The email text of each alert.
    Text,
    /// One JSON array of alert documents.
    Json,
    /// One alert document per line.
    Ndjson,
}

#[derive(Subcommand)]
enum Command {
    /// Scan CloudTrail files (.json, .json.gz; directories recursively) or s3://bucket/prefix.
    Scan(scan_cmd::ScanArgs),
    /// Print the lines of an NDJSON file whose document matches a KQL or EQL query (like grep),
    /// or with --cloudtrail the CloudTrail records that match it as the rules see them.
    Match(matching::MatchArgs),
    /// List or show the compiled-in rules.
    Rules {
        #[command(subcommand)]
        command: rules_cmd::RulesCommand,
    },
    /// The stateful rules' state: learn it from history before going live.
    State {
        #[command(subcommand)]
        command: state_cmd::StateCommand,
    },
    /// Run the Lambda handler in-process on a Lambda payload, with real AWS clients
    /// (honouring AWS_ENDPOINT_URL and the function's environment variables).
    #[cfg(feature = "aws")]
    Invoke {
        #[arg(long)]
        event: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    // Hidden until `scan` shows it on a terminal; log lines clear it while they are written.
    let bar = indicatif::ProgressBar::hidden();
    let log_bar = bar.clone();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRAILWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(move || progress::LogWriter(log_bar.clone()))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan_cmd::run(args, bar.clone()),
        Command::Match(args) => matching::run(&args),
        Command::Rules { command } => rules_cmd::run(command),
        Command::State { command } => state_cmd::run(command, bar.clone()),
        #[cfg(feature = "aws")]
        Command::Invoke { event } => invoke(&event),
    };
    // A scan that stopped early (e.g. stdout closed) leaves the bar drawn: clear it for the error.
    bar.finish_and_clear();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trailwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "aws")]
fn invoke(event: &std::path::Path) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let text = std::fs::read_to_string(event)
        .with_context(|| format!("cannot read {}", event.display()))?;
    let payload: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", event.display()))?;
    let config = trailwatch::Config::from_env()?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let rules = trailwatch::aws::load_rules(&config)?;
        let handler = trailwatch::aws::handler(config, rules).await?;
        match handler.handle(&payload).await {
            Ok(response) => {
                println!("{}", serde_json::to_string_pretty(&response)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("trailwatch: invocation failed: {e}");
                Ok(ExitCode::from(2))
            }
        }
    })
}
