//! Where alerts go, one at a time as they are found: the [`AlertSink`] trait and its
//! implementations — a [`Batcher`] that publishes through a [`Publisher`] (SNS: PublishBatch of at
//! most ten), a [`Collector`] for tests, and [`Tee`] to feed two sinks.
//!
//! Nothing here holds more than one batch: memory does not grow with the number of alerts.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::alert::Alert;

#[cfg(feature = "aws")]
mod sns;
#[cfg(feature = "aws")]
pub use sns::SnsPublisher;

/// How many alerts a [`Batcher`] hands its [`Publisher`] at once (SNS PublishBatch takes ten).
pub const BATCH: usize = 10;

/// Why alerts could not be delivered. Never only logged: it fails the object so AWS retries.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Some alerts of a publish were not accepted (after retries).
    #[error("{failed} of {total} alerts not published: {reason}")]
    Publish {
        failed: usize,
        total: usize,
        reason: String,
    },
    /// Writing the alerts out failed (e.g. stdout closed).
    #[error("cannot write alerts: {0}")]
    Write(#[from] std::io::Error),
}

/// Receives alerts one at a time, as they are found.
pub trait AlertSink {
    /// Takes one alert. An error stops the object's scan.
    fn send(&mut self, alert: Alert) -> Result<(), SinkError>;

    /// The object's last alert has been sent: flush what is buffered. A sink may defer a
    /// delivery failure to here (so the scan goes on); the object then fails.
    fn end_object(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<S: AlertSink + ?Sized> AlertSink for &mut S {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        (**self).send(alert)
    }
    fn end_object(&mut self) -> Result<(), SinkError> {
        (**self).end_object()
    }
}

impl<S: AlertSink + ?Sized> AlertSink for Box<S> {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        (**self).send(alert)
    }
    fn end_object(&mut self) -> Result<(), SinkError> {
        (**self).end_object()
    }
}

/// Keeps every alert in memory: for tests and examples, never for production paths.
#[derive(Debug, Default)]
pub struct Collector {
    pub alerts: Vec<Alert>,
}

impl AlertSink for Collector {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        self.alerts.push(alert);
        Ok(())
    }
}

/// Counts alerts and drops them (e.g. `state learn`, benchmarks).
#[derive(Debug, Default)]
pub struct Discard {
    pub alerts: usize,
}

impl AlertSink for Discard {
    fn send(&mut self, _: Alert) -> Result<(), SinkError> {
        self.alerts += 1;
        Ok(())
    }
}

/// Sends every alert to both sinks. Both see every alert and every end of object, whatever the
/// other returned; the first error is returned.
pub struct Tee<A, B>(pub A, pub B);

impl<A: AlertSink, B: AlertSink> AlertSink for Tee<A, B> {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        let first = self.0.send(alert.clone());
        let second = self.1.send(alert);
        first.and(second)
    }
    fn end_object(&mut self) -> Result<(), SinkError> {
        let first = self.0.end_object();
        let second = self.1.end_object();
        first.and(second)
    }
}

/// Publishes a batch of at most [`BATCH`] alerts (SNS PublishBatch; in memory for tests).
pub trait Publisher: Send + Sync {
    /// Publishes every alert or returns an error (some may have been published: retries are
    /// idempotent because alert ids are deterministic).
    fn publish(
        &self,
        alerts: &[Alert],
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;
}

impl<P: Publisher> Publisher for Arc<P> {
    fn publish(
        &self,
        alerts: &[Alert],
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send {
        (**self).publish(alerts)
    }
}

/// Keeps what is published in memory (tests), optionally failing from the `fail_from`-th
/// publish call on (fault injection).
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    pub alerts: Mutex<Vec<Alert>>,
    /// Publish calls made so far.
    pub calls: AtomicUsize,
    /// Calls from this index on fail (`None`: never).
    pub fail_from: Option<usize>,
}

impl MemoryPublisher {
    /// The alerts published so far.
    pub fn published(&self) -> Vec<Alert> {
        self.alerts.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

impl Publisher for MemoryPublisher {
    async fn publish(&self, alerts: &[Alert]) -> Result<(), SinkError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let refused = |reason: &str| SinkError::Publish {
            failed: alerts.len(),
            total: alerts.len(),
            reason: reason.into(),
        };
        if self.fail_from.is_some_and(|from| call >= from) {
            return Err(refused("injected failure"));
        }
        match self.alerts.lock() {
            Ok(mut held) => {
                held.extend_from_slice(alerts);
                Ok(())
            }
            Err(_) => Err(refused("memory publisher poisoned")),
        }
    }
}

/// An [`AlertSink`] that publishes through a [`Publisher`] ten alerts at a time, from a
/// blocking thread (the scan's), driving the async publish on `runtime`.
///
/// After a failed publish it stops publishing (the object will be retried whole; published ids
/// are deterministic) but keeps counting, and reports the failure at the end of the object.
#[cfg(feature = "aws")]
pub struct Batcher<P> {
    runtime: tokio::runtime::Handle,
    publisher: P,
    pending: Vec<Alert>,
    /// Alerts accepted by the publisher.
    pub published: usize,
    /// Alerts not published because of a failure.
    pub unpublished: usize,
    failure: Option<SinkError>,
}

#[cfg(feature = "aws")]
impl<P: Publisher> Batcher<P> {
    /// Must be used outside the runtime's worker threads (e.g. in `spawn_blocking`).
    pub fn new(runtime: tokio::runtime::Handle, publisher: P) -> Self {
        Batcher {
            runtime,
            publisher,
            pending: Vec::with_capacity(BATCH),
            published: 0,
            unpublished: 0,
            failure: None,
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.failure.is_some() {
            self.unpublished += self.pending.len();
        } else {
            match self.runtime.block_on(self.publisher.publish(&self.pending)) {
                Ok(()) => self.published += self.pending.len(),
                Err(e) => {
                    let failed = match &e {
                        SinkError::Publish { failed, .. } => *failed,
                        SinkError::Write(_) => self.pending.len(),
                    };
                    self.published += self.pending.len().saturating_sub(failed);
                    self.unpublished += failed;
                    self.failure = Some(e);
                }
            }
        }
        self.pending.clear();
    }
}

#[cfg(feature = "aws")]
impl<P: Publisher> AlertSink for Batcher<P> {
    fn send(&mut self, alert: Alert) -> Result<(), SinkError> {
        self.pending.push(alert);
        if self.pending.len() >= BATCH {
            self.flush();
        }
        Ok(())
    }

    fn end_object(&mut self) -> Result<(), SinkError> {
        self.flush();
        match self.failure.take() {
            None => Ok(()),
            Some(SinkError::Publish { reason, .. }) => Err(SinkError::Publish {
                failed: self.unpublished,
                total: self.unpublished + self.published,
                reason,
            }),
            Some(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::key;
    use serde_json::json;

    fn alert(n: usize) -> Alert {
        Alert::from_fields(vec![(key::UUID.into(), json!(format!("a{n}")))])
    }

    #[test]
    fn tee_feeds_both_and_reports_the_first_error() {
        struct Broken;
        impl AlertSink for Broken {
            fn send(&mut self, _: Alert) -> Result<(), SinkError> {
                Err(SinkError::Write(std::io::Error::other("closed")))
            }
        }
        let mut tee = Tee(Broken, Collector::default());
        assert!(tee.send(alert(1)).is_err());
        assert_eq!(tee.1.alerts.len(), 1, "the second sink still got the alert");
    }

    #[cfg(feature = "aws")]
    #[test]
    fn batcher_publishes_ten_at_a_time_and_defers_a_failure_to_the_end() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let publisher = Arc::new(MemoryPublisher {
            fail_from: Some(2),
            ..MemoryPublisher::default()
        });
        let mut batcher = Batcher::new(runtime.handle().clone(), Arc::clone(&publisher));
        for n in 0..35 {
            batcher.send(alert(n)).unwrap();
        }
        let err = batcher.end_object().unwrap_err();
        assert_eq!(publisher.published().len(), 20);
        assert_eq!(
            publisher.calls.load(Ordering::SeqCst),
            3,
            "no publish after the failure"
        );
        assert_eq!((batcher.published, batcher.unpublished), (20, 15));
        assert!(err.to_string().starts_with("15 of 35 alerts"), "{err}");
    }
}
