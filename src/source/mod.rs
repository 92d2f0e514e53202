//! Where objects come from: the [`ObjectSource`] trait, local files, and S3.
use std::io::Read;

use crate::trigger::ObjectRef;

#[cfg(feature = "aws")]
mod s3;
#[cfg(feature = "aws")]
pub use s3::S3Source;

/// Why an object could not be fetched (or a prefix listed).
#[derive(Debug, thiserror::Error)]
#[error("cannot fetch {object}: {reason}")]
pub struct SourceError {
    /// `s3://bucket/key`, a path, or the prefix listed.
    pub object: String,
    /// One line for people and logs (for SDK errors: service, code, message, request id).
    pub reason: String,
    /// The underlying error (the SDK's, with its raw response), for callers that inspect it.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SourceError {
    /// An error with no underlying cause.
    pub fn new(object: impl Into<String>, reason: impl Into<String>) -> SourceError {
        SourceError {
            object: object.into(),
            reason: reason.into(),
            source: None,
        }
    }
}

/// CloudTrail digest files live under `CloudTrail-Digest/` (`..._CloudTrail-Digest_...json.gz`):
/// hourly signatures, not events.
pub fn is_digest_key(key: &str) -> bool {
    key.contains("/CloudTrail-Digest/") || key.contains("_CloudTrail-Digest_")
}

/// A readable object body (streamed; not held in memory whole).
pub type Body = Box<dyn Read + Send>;

/// Something that can open objects named by [`ObjectRef`].
pub trait ObjectSource: Send + Sync {
    fn open(
        &self,
        object: &ObjectRef,
    ) -> impl std::future::Future<Output = Result<Body, SourceError>> + Send;
}

/// In-memory objects, keyed by (bucket, key): for tests and examples.
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    pub objects: std::collections::HashMap<(String, String), Vec<u8>>,
}

impl ObjectSource for MemorySource {
    async fn open(&self, object: &ObjectRef) -> Result<Body, SourceError> {
        match self
            .objects
            .get(&(object.bucket.clone(), object.key.clone()))
        {
            Some(bytes) => Ok(Box::new(std::io::Cursor::new(bytes.clone()))),
            None => Err(SourceError::new(object.to_string(), "no such object")),
        }
    }
}
