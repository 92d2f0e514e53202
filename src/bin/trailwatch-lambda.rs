//! The Lambda function: wiring only (tracing, configuration, SDK clients built once, run).
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use trailwatch::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT=JSON (set by LoggingConfig).
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let rules = trailwatch::aws::load_rules();
    let handler = trailwatch::aws::handler(config, rules).await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(&event.payload).await.map_err(Error::from)
    }))
    .await
}
