//! AWS wiring shared by the Lambda binary and `trailwatch invoke`: SDK configuration (standard
//! retry mode, timeouts; honours `AWS_ENDPOINT_URL`), clients, and the handler built from them.
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;

use crate::accounts::{AccountDirectory, OrganizationsLister};
use crate::detect::{Detector, DetectorError};
use crate::handler::Handler;
use crate::rules::RuleSet;
use crate::sink::SnsPublisher;
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

/// An SDK error in one line: service, error code, message and request id for an error AWS
/// returned; the kind of failure and its causes otherwise (never the raw HTTP response).
pub fn error_line<E, R>(service: &str, error: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match error {
        SdkError::ServiceError(e) => {
            let err = e.err();
            let mut line = format!("{service}: {}", err.code().unwrap_or("error"));
            if let Some(message) = err.message() {
                line.push_str(&format!(": {message}"));
            }
            if let Some(id) = err.meta().extra("aws_request_id") {
                line.push_str(&format!(" (request id {id})"));
            }
            line
        }
        other => {
            let kind = match other {
                SdkError::ConstructionFailure(_) => "request not built",
                SdkError::TimeoutError(_) => "timed out",
                SdkError::DispatchFailure(_) => "cannot reach the endpoint",
                SdkError::ResponseError(_) => "unreadable response",
                _ => "failed",
            };
            // The causes, joined on one line.
            let mut causes = Vec::new();
            let mut source = std::error::Error::source(other);
            while let Some(e) = source {
                causes.push(e.to_string().replace('\n', " "));
                source = e.source();
            }
            format!("{service}: {kind}: {}", causes.join(": "))
        }
    }
}

/// Why the handler could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("ALERT_TOPIC_ARN is not set: the SNS topic to publish alerts to is required")]
    MissingTopic,
    #[error("ALERT_TOPIC_ARN={0:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")]
    BadTopic(String),
    #[error(transparent)]
    Detector(#[from] DetectorError),
    #[error("EXTRA_RULES_DIR: {0}")]
    Rules(String),
}

/// The production handler: S3 source, SNS sink, the compiled-in rules.
pub async fn handler(
    config: Config,
    rules: RuleSet,
) -> Result<Handler<S3Source, SnsPublisher>, SetupError> {
    let topic = config.topic_arn.clone().ok_or(SetupError::MissingTopic)?;
    if !is_topic_arn(&topic) {
        return Err(SetupError::BadTopic(topic));
    }
    let sdk = sdk_config().await;
    let mut detector = Detector::from_config(rules, &config)?;
    match &config.state_table {
        Some(table) => {
            let store = crate::state::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                table.clone(),
                tokio::runtime::Handle::current(),
            );
            detector = detector.with_state(Box::new(store));
        }
        None if detector.rules.rules().iter().any(|r| r.is_stateful()) => tracing::warn!(
            "STATE_TABLE is not set: the stateful rules keep their state in this container only"
        ),
        None => {}
    }
    let directory = config.account_names_from_organizations.then(|| {
        let lister = OrganizationsLister::new(aws_sdk_organizations::Client::new(&sdk));
        Arc::new(AccountDirectory::new(
            Box::new(lister),
            detector.account_names.clone(),
        ))
    });
    let detector = Arc::new(detector);
    let handler = Handler::new(
        S3Source::new(aws_sdk_s3::Client::new(&sdk)),
        SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), topic),
        detector,
        config,
    );
    Ok(match directory {
        Some(d) => handler.with_account_directory(d),
        None => handler,
    })
}

/// `arn:PARTITION:sns:REGION:ACCOUNT:NAME` with every part present.
pub fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(parts.as_slice(), ["arn", partition, "sns", region, account, name]
        if partition.starts_with("aws") && !region.is_empty()
            && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty())
}

/// Compiles the embedded rules, plus the rule files of `EXTRA_RULES_DIR` (cold start), and logs
/// the count and how long it took.
pub fn load_rules(config: &Config) -> Result<RuleSet, SetupError> {
    let rules = match &config.extra_rules_dir {
        Some(dir) => RuleSet::embedded_with_dir(std::path::Path::new(dir))
            .map_err(|e| SetupError::Rules(e.to_string()))?,
        None => RuleSet::embedded(),
    };
    tracing::info!(
        rules = rules.rules().len(),
        skipped = rules.skipped().len(),
        compile_us = rules.compile_time().as_micros() as u64,
        "rule set compiled"
    );
    Ok(rules)
}
