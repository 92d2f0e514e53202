//! Where objects come from: the [`ObjectSource`] trait, local files, and S3.
use std::io::Read;

use crate::trigger::ObjectRef;

#[cfg(feature = "aws")]
mod s3;
#[cfg(feature = "aws")]
pub use s3::S3Source;

/// Why an object could not be fetched.
#[derive(Debug, thiserror::Error)]
#[error("cannot fetch {object}: {reason}")]
pub struct SourceError {
    pub object: String,
    pub reason: String,
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
            None => Err(SourceError {
                object: object.to_string(),
                reason: "no such object".into(),
            }),
        }
    }
}
