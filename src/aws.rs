//! AWS wiring shared by the Lambda binary and `trailwatch invoke`: SDK configuration (standard
//! retry mode, timeouts; honours `AWS_ENDPOINT_URL`), clients, and the handler built from them.
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;

use crate::detector::{Detector, DetectorError};
use crate::handler::Handler;
use crate::rules::RuleSet;
use crate::sink::SnsSink;
use crate::source::S3Source;
use crate::Config;

/// The SDK configuration every client is built from.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

/// Why the handler could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("ALERT_TOPIC_ARN is not set: the SNS topic to publish alerts to is required")]
    MissingTopic,
    #[error(transparent)]
    Detector(#[from] DetectorError),
}

/// The production handler: S3 source, SNS sink, the compiled-in rules.
pub async fn handler(
    config: Config,
    rules: RuleSet,
) -> Result<Handler<S3Source, SnsSink>, SetupError> {
    let topic = config.topic_arn.clone().ok_or(SetupError::MissingTopic)?;
    let detector = Arc::new(Detector::from_config(rules, &config)?);
    let sdk = sdk_config().await;
    Ok(Handler {
        source: S3Source::new(aws_sdk_s3::Client::new(&sdk)),
        sink: SnsSink::new(aws_sdk_sns::Client::new(&sdk), topic),
        detector,
        config,
    })
}

/// Compiles the embedded rules and logs the count and how long it took.
pub fn load_rules() -> RuleSet {
    let rules = RuleSet::embedded();
    tracing::info!(
        rules = rules.rules.len(),
        skipped = rules.skipped.len(),
        compile_us = rules.compile_time.as_micros() as u64,
        "rule set compiled"
    );
    rules
}
