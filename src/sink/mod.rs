//! Where alerts go: the [`AlertSink`] trait, SNS, and an in-memory sink for tests.
use std::sync::Mutex;

use crate::alert::Alert;

#[cfg(feature = "aws")]
mod sns;
#[cfg(feature = "aws")]
pub use sns::SnsSink;

/// Why alerts could not be published. Never only logged: it fails the object so AWS retries.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} alerts not published: {reason}")]
pub struct SinkError {
    pub failed: usize,
    pub total: usize,
    pub reason: String,
}

/// Something alerts can be published to.
pub trait AlertSink: Send + Sync {
    /// Publishes every alert or returns an error (some may have been published: retries are
    /// idempotent because alert ids are deterministic).
    fn publish(
        &self,
        alerts: &[Alert],
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;
}

/// Collects alerts in memory.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub alerts: Mutex<Vec<Alert>>,
}

impl AlertSink for MemorySink {
    async fn publish(&self, alerts: &[Alert]) -> Result<(), SinkError> {
        match self.alerts.lock() {
            Ok(mut held) => {
                held.extend_from_slice(alerts);
                Ok(())
            }
            Err(_) => Err(SinkError {
                failed: alerts.len(),
                total: alerts.len(),
                reason: "memory sink poisoned".into(),
            }),
        }
    }
}
