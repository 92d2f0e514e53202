//! The Lambda handler, over the [`ObjectSource`] and [`Publisher`] traits (testable without AWS).
//!
//! Every object in the payload is processed even when another fails. A failed object — not
//! fetched, not read to its end, or its alerts not all published — fails the invocation (direct
//! S3, SNS, EventBridge: Lambda retries the event) or is reported in `batchItemFailures` (SQS:
//! only those messages are redriven). Alerts found before a failure are still published; ids are
//! deterministic, so a retry republishes the same alerts with the same ids.
//!
//! Alerts stream from the scan to SNS ten at a time ([`Batcher`]) through the per-object policy
//! ([`FloodControl`]): memory does not grow with the number of matches.
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::accounts::AccountDirectory;
use crate::config::Config;
use crate::detect::{process_object, Detector, FloodControl, ObjectReport, Policy};
use crate::sink::{Batcher, Publisher};
use crate::source::{is_digest_key, ObjectSource};
use crate::trigger::{self, ObjectRef};

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Trigger(#[from] trigger::TriggerError),
    /// Some objects failed; the others were processed.
    #[error("{} of {total} objects failed: {}", failures.len(), failures.join("; "))]
    ObjectsFailed { total: usize, failures: Vec<String> },
}

/// The handler and what it holds across invocations.
pub struct Handler<S, P> {
    source: S,
    publisher: Arc<P>,
    detector: Arc<Detector>,
    config: Config,
    /// Refreshes the detector's account names (`ACCOUNT_NAMES=organizations`).
    accounts: Option<Arc<AccountDirectory>>,
}

/// The result of one object.
#[derive(Debug)]
pub struct ObjectOutcome {
    pub object: ObjectRef,
    pub report: Option<ObjectReport>,
    /// Alerts published (individual alerts and flood summaries).
    pub published: usize,
    /// Set when the object must be retried.
    pub failure: Option<String>,
}

impl ObjectOutcome {
    fn new(object: &ObjectRef) -> Self {
        ObjectOutcome {
            object: object.clone(),
            report: None,
            published: 0,
            failure: None,
        }
    }
}

impl<S: ObjectSource, P: Publisher + 'static> Handler<S, P> {
    pub fn new(source: S, publisher: P, detector: Arc<Detector>, config: Config) -> Self {
        Handler {
            source,
            publisher: Arc::new(publisher),
            detector,
            config,
            accounts: None,
        }
    }

    /// Names alerts' accounts from `directory` (whose names must be the detector's
    /// `account_names`), refreshed before each invocation's objects when due.
    pub fn with_account_directory(mut self, directory: Arc<AccountDirectory>) -> Self {
        self.accounts = Some(directory);
        self
    }

    /// The configuration the handler runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one Lambda payload without a deadline; returns the response document.
    pub async fn handle(&self, payload: &Value) -> Result<Value, HandlerError> {
        self.handle_until(payload, None).await
    }

    /// Handles one Lambda payload. With a `deadline` (the Lambda context's), no new object is
    /// started when less than the configured margin remains: under SQS the objects not started
    /// are reported in `batchItemFailures` (so a timeout never loses the partial-failure
    /// report); otherwise the invocation fails and Lambda retries the event.
    pub async fn handle_until(
        &self,
        payload: &Value,
        deadline: Option<Instant>,
    ) -> Result<Value, HandlerError> {
        let batch = trigger::parse(payload)?;
        if let Some(directory) = &self.accounts {
            // Never fails: a listing error is logged and the alerts go out with ids only.
            directory.refresh_if_due().await;
        }
        let margin = Duration::from_secs(self.config.deadline_margin_seconds);
        let mut outcomes = Vec::with_capacity(batch.objects.len());
        for object in &batch.objects {
            let late =
                deadline.is_some_and(|d| d.saturating_duration_since(Instant::now()) < margin);
            if late {
                tracing::warn!(bucket = %object.bucket, key = %object.key, "not started: the invocation's deadline is near");
                let mut outcome = ObjectOutcome::new(object);
                outcome.failure = Some(format!(
                    "{object}: not started, the invocation's deadline is near"
                ));
                outcomes.push(outcome);
                continue;
            }
            outcomes.push(self.process(object).await);
        }
        let failures: Vec<&ObjectOutcome> =
            outcomes.iter().filter(|o| o.failure.is_some()).collect();
        if batch.from_sqs {
            let mut ids: Vec<String> = Vec::new();
            for (id, reason) in &batch.bad_messages {
                tracing::error!(message_id = %id, error = %reason, "unusable SQS message");
                ids.push(id.clone());
            }
            for id in failures.iter().filter_map(|f| f.object.message_id.as_ref()) {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
            let items: Vec<Value> = ids
                .iter()
                .map(|id| json!({ "itemIdentifier": id }))
                .collect();
            return Ok(json!({ "batchItemFailures": items }));
        }
        if !failures.is_empty() {
            return Err(HandlerError::ObjectsFailed {
                total: outcomes.len(),
                failures: failures.iter().filter_map(|f| f.failure.clone()).collect(),
            });
        }
        Ok(json!({
            "objects": outcomes.len(),
            "ignored": batch.ignored,
            "records": outcomes.iter().filter_map(|o| o.report.as_ref()).map(|r| r.records).sum::<usize>(),
            "alerts_published": outcomes.iter().map(|o| o.published).sum::<usize>(),
        }))
    }

    /// Fetches one object, scans it and publishes its alerts as they are found.
    pub async fn process(&self, object: &ObjectRef) -> ObjectOutcome {
        let mut outcome = ObjectOutcome::new(object);
        if is_digest_key(&object.key) {
            tracing::info!(bucket = %object.bucket, key = %object.key, "skipping CloudTrail digest object");
            return outcome;
        }
        let body = match self.source.open(object).await {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(bucket = %object.bucket, key = %object.key, error = %e, "object not fetched");
                outcome.failure = Some(e.to_string());
                return outcome;
            }
        };
        let detector = Arc::clone(&self.detector);
        let publisher = Arc::clone(&self.publisher);
        let policy = Policy::publishing(&self.config);
        let runtime = tokio::runtime::Handle::current();
        let name = object.to_string();
        // Decompression and evaluation are CPU work on a blocking read: off the async runtime,
        // which the publishes go back to. With a second vCPU (Lambda gives two from 1,769 MB),
        // decompression runs on its own thread beside the evaluation.
        let pipelined = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
        let scanned = tokio::task::spawn_blocking(move || {
            let mut sink = FloodControl::new(policy, Batcher::new(runtime, publisher));
            let report = process_object(&name, body, &detector, &mut sink, pipelined);
            let counts = sink.counts;
            (report, counts, sink.into_inner().published)
        })
        .await;
        let (report, counts, published) = match scanned {
            Ok(scanned) => scanned,
            Err(e) => {
                outcome.failure = Some(format!("{object}: scan task failed: {e}"));
                return outcome;
            }
        };
        outcome.published = published;
        outcome.failure = report.failure();
        tracing::info!(
            bucket = %object.bucket,
            key = %object.key,
            records = report.records,
            alerts = report.alerts,
            published,
            suppressed = counts.suppressed,
            summaries = counts.summaries,
            skipped = report.bad_records,
            digest = report.digest,
            bytes = report.bytes,
            ms = report.millis as u64,
            error = outcome.failure.as_deref().unwrap_or(""),
            "object scanned"
        );
        outcome.report = Some(report);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::MemoryPublisher;
    use crate::source::MemorySource;

    const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events");

    /// The handler over the SQS sample payload's two objects, held in memory.
    fn handler() -> (Handler<MemorySource, MemoryPublisher>, Value) {
        let payload: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{EVENTS}/sqs.json")).unwrap())
                .unwrap();
        let batch = trigger::parse(&payload).unwrap();
        let mut source = MemorySource::default();
        for o in &batch.objects {
            let body = std::fs::read(format!("{EVENTS}/cloudtrail/{}", o.key)).unwrap();
            source
                .objects
                .insert((o.bucket.clone(), o.key.clone()), body);
        }
        let detector = Arc::new(Detector::new(crate::RuleSet::embedded()));
        let handler = Handler::new(
            source,
            MemoryPublisher::default(),
            detector,
            Config::default(),
        );
        (handler, payload)
    }

    fn failed_ids(response: &Value) -> Vec<String> {
        response["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn objects_not_started_before_the_deadline_are_reported_failed() {
        let (handler, payload) = handler();
        // Less than the margin remains: nothing is started, every message is redriven.
        let deadline = Instant::now() + Duration::from_secs(1);
        let response = handler
            .handle_until(&payload, Some(deadline))
            .await
            .unwrap();
        assert_eq!(failed_ids(&response).len(), 2, "{response}");
        assert!(handler.publisher.published().is_empty());
    }

    #[tokio::test]
    async fn with_time_left_every_object_is_processed() {
        let (handler, payload) = handler();
        let deadline = Instant::now() + Duration::from_secs(600);
        let response = handler
            .handle_until(&payload, Some(deadline))
            .await
            .unwrap();
        assert!(failed_ids(&response).is_empty(), "{response}");
        assert!(!handler.publisher.published().is_empty());
    }
}
