//! The Lambda handler, over the [`ObjectSource`] and [`AlertSink`] traits (testable without AWS).
//!
//! Every object in the payload is processed even when another fails. A failed object — not
//! fetched, not read to its end, or its alerts not all published — fails the invocation (direct
//! S3, SNS, EventBridge: Lambda retries the event) or is reported in `batchItemFailures` (SQS:
//! only those messages are redriven). Alerts found before a failure are still published; ids are
//! deterministic, so a retry republishes the same alerts with the same ids.
use std::sync::Arc;

use serde_json::{json, Value};

use crate::config::Config;
use crate::detector::{publishable, Detector};
use crate::scan::{scan_object_with, ObjectReport};
use crate::sink::AlertSink;
use crate::source::ObjectSource;
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
pub struct Handler<S, K> {
    pub source: S,
    pub sink: K,
    pub detector: Arc<Detector>,
    pub config: Config,
}

/// The result of one object.
#[derive(Debug)]
pub struct ObjectOutcome {
    pub object: ObjectRef,
    pub report: Option<ObjectReport>,
    pub published: usize,
    /// Set when the object must be retried.
    pub failure: Option<String>,
}

impl<S: ObjectSource, K: AlertSink> Handler<S, K> {
    /// Handles one Lambda payload; returns the response document.
    pub async fn handle(&self, payload: &Value) -> Result<Value, HandlerError> {
        let batch = trigger::parse(payload)?;
        let mut outcomes = Vec::with_capacity(batch.objects.len());
        for object in &batch.objects {
            outcomes.push(self.process(object).await);
        }
        let failures: Vec<&ObjectOutcome> =
            outcomes.iter().filter(|o| o.failure.is_some()).collect();
        if batch.from_sqs {
            let mut ids: Vec<String> = batch
                .bad_messages
                .iter()
                .map(|(id, _)| id.clone())
                .collect();
            for (id, reason) in &batch.bad_messages {
                tracing::error!(message_id = %id, error = %reason, "unusable SQS message");
            }
            for f in &failures {
                if let Some(id) = &f.object.message_id {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
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

    /// Fetches, scans and publishes one object.
    pub async fn process(&self, object: &ObjectRef) -> ObjectOutcome {
        let mut outcome = ObjectOutcome {
            object: object.clone(),
            report: None,
            published: 0,
            failure: None,
        };
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
        let name = object.to_string();
        // Decompression and evaluation are CPU work on a blocking read: off the async runtime.
        // With a second vCPU (Lambda gives two from 1,769 MB), decompression runs on its own
        // thread beside the evaluation.
        let pipelined = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
        let report = match tokio::task::spawn_blocking(move || {
            scan_object_with(&name, body, &detector, pipelined)
        })
        .await
        {
            Ok(report) => report,
            Err(e) => {
                outcome.failure = Some(format!("{object}: scan task failed: {e}"));
                return outcome;
            }
        };
        if let Some(e) = &report.error {
            outcome.failure = Some(format!("{object}: {e}"));
        }
        let alerts = publishable(&report.alerts, &self.config);
        if !alerts.is_empty() {
            match self.sink.publish(&alerts).await {
                Ok(()) => outcome.published = alerts.len(),
                Err(e) => {
                    let msg = format!("{object}: {e}");
                    outcome.failure = Some(match outcome.failure.take() {
                        Some(prev) => format!("{prev}; {msg}"),
                        None => msg,
                    });
                }
            }
        }
        tracing::info!(
            bucket = %object.bucket,
            key = %object.key,
            records = report.records,
            alerts = report.alerts.len(),
            published = outcome.published,
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

/// CloudTrail digest files live under `CloudTrail-Digest/` (`..._CloudTrail-Digest_...json.gz`).
pub fn is_digest_key(key: &str) -> bool {
    key.contains("/CloudTrail-Digest/") || key.contains("_CloudTrail-Digest_")
}
