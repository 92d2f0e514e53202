//! The Lambda function: wiring only (tracing, configuration, SDK clients built once, run).
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use trailwatch::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT=JSON (set by LoggingConfig).
    lambda_runtime::tracing::init_default_subscriber();
    // A configuration error is one clear log line (JSON in Lambda) before the init fails.
    let handler = match setup().await {
        Ok(handler) => handler,
        Err(e) => {
            tracing::error!(error = %e, "trailwatch cannot start: configuration error");
            return Err(e);
        }
    };
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_instant(event.context.deadline);
        handler
            .handle_until(&event.payload, Some(deadline))
            .await
            .map_err(Error::from)
    }))
    .await
}

async fn setup() -> Result<
    trailwatch::handler::Handler<trailwatch::source::S3Source, trailwatch::sink::SnsPublisher>,
    Error,
> {
    let config = Config::from_env()?;
    let rules = trailwatch::aws::load_rules(&config)?;
    Ok(trailwatch::aws::handler(config, rules).await?)
}

/// The context's deadline (milliseconds since the epoch) as an `Instant`.
fn deadline_instant(deadline_ms: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now))
}
