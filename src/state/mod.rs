//! State for stateful detection: Elastic's `new_terms` and `threshold` rules and alert
//! suppression (docs: `elastic-semantics.md` §7).
//!
//! [`StateStore`] is a small versioned key-value interface (read many, compare-and-set one,
//! raise a last-seen time) with three implementations: DynamoDB for the Lambda
//! ([`DynamoStore`], feature `aws`), an embedded `redb` database for the CLI and tests
//! ([`RedbStore`]), and memory ([`MemoryStore`]). All the semantics live in one place,
//! [`Stateful`] (`eval.rs`), on top of compare-and-set: two invocations racing on the same key
//! cannot both win, whatever the store.
//!
//! The interface is synchronous: the detection path runs on blocking threads (the DynamoDB
//! store blocks on its runtime handle, as the CLI does for S3).
mod eval;
mod memory;
mod redb_store;
mod suppress;
mod suppress_window;
mod threshold;
mod time;

#[cfg(feature = "aws")]
mod dynamo;

use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(feature = "aws")]
pub use dynamo::{DynamoStore, ATTR_DATA, ATTR_EXPIRES, ATTR_LAST_SEEN, ATTR_VERSION, KEY};
pub use eval::{Stateful, StatefulHit};
pub use memory::MemoryStore;
pub use redb_store::RedbStore;
pub use suppress::{SuppressError, UserSuppression, UserSuppressions};
pub use time::{event_time_ms, format_ms, parse_time_ms};

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Incremented by every write: compare-and-set compares it.
    pub version: u64,
    /// The latest event time (ms) that touched the key (new terms: last seen).
    pub last_seen_ms: i64,
    /// After this time (ms) the entry no longer matters (DynamoDB TTL, in seconds there).
    pub expires_ms: i64,
    /// The kind-specific state, JSON (see `eval.rs`).
    pub data: String,
}

/// A store failed (I/O, service error). Never a semantic outcome: conflicts are `Ok(false)`.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {message}")]
    Embedded { path: String, message: String },
    #[error("DynamoDB table {table}: {message}")]
    Dynamo { table: String, message: String },
    #[error("state entry {key}: {message}")]
    Corrupt { key: String, message: String },
    #[error("state entry {key}: still conflicting after {attempts} attempts")]
    Contention { key: String, attempts: u32 },
}

/// Requests a store made (for `make bench` and cost tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Read requests (a DynamoDB BatchGetItem of up to 100 keys counts once).
    pub reads: u64,
    /// Write requests (conditional puts and updates, including failed conditions).
    pub writes: u64,
    /// Keys read.
    pub keys_read: u64,
}

/// Request counters shared by the implementations.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    keys_read: AtomicU64,
}

impl Counters {
    pub(crate) fn read(&self, keys: usize) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.keys_read.fetch_add(keys as u64, Ordering::Relaxed);
    }
    pub(crate) fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> StoreStats {
        StoreStats {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            keys_read: self.keys_read.load(Ordering::Relaxed),
        }
    }
}

/// A versioned key-value store with compare-and-set.
pub trait StateStore: Send + Sync {
    /// The entries of `keys`, in order (`None`: absent). Expired entries may still be returned;
    /// the evaluator judges them by their times.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, StateError>;

    /// Writes `entry` under `key` if the stored version is `expected` (`None`: no entry).
    /// `Ok(false)`: another writer came first; nothing was written.
    fn put_if(&self, key: &str, expected: Option<u64>, entry: &Entry) -> Result<bool, StateError>;

    /// Raises an existing entry's `last_seen_ms` (and `expires_ms`) when lower, bumping its
    /// version; no effect when absent or already later.
    fn refresh(&self, key: &str, last_seen_ms: i64, expires_ms: i64) -> Result<(), StateError>;

    /// The requests made so far.
    fn stats(&self) -> StoreStats;
}

/// A store behind a pointer is the store.
macro_rules! forward_store {
    ($($ptr:ty),*) => {$(
        impl<S: StateStore + ?Sized> StateStore for $ptr {
            fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, StateError> {
                (**self).get_many(keys)
            }
            fn put_if(
                &self,
                key: &str,
                expected: Option<u64>,
                entry: &Entry,
            ) -> Result<bool, StateError> {
                (**self).put_if(key, expected, entry)
            }
            fn refresh(
                &self,
                key: &str,
                last_seen_ms: i64,
                expires_ms: i64,
            ) -> Result<(), StateError> {
                (**self).refresh(key, last_seen_ms, expires_ms)
            }
            fn stats(&self) -> StoreStats {
                (**self).stats()
            }
        }
    )*};
}

forward_store!(Box<S>, std::sync::Arc<S>, &S);

#[cfg(test)]
use eval::key_for_tests as eval_key_for_tests;

#[cfg(test)]
mod learn_tests;
#[cfg(test)]
mod tests;
