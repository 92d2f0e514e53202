//! A [`StateStore`] in memory: unit tests, and runs that need no persistence.
use std::collections::HashMap;
use std::sync::Mutex;

use super::{Counters, Entry, StateError, StateStore, StoreStats};

#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    counters: Counters,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Number of entries (tests).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave a map half-written: use it as is.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StateStore for MemoryStore {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, StateError> {
        self.counters.read(keys.len());
        let map = self.lock();
        Ok(keys.iter().map(|k| map.get(k).cloned()).collect())
    }

    fn put_if(&self, key: &str, expected: Option<u64>, entry: &Entry) -> Result<bool, StateError> {
        self.counters.write();
        let mut map = self.lock();
        if map.get(key).map(|e| e.version) != expected {
            return Ok(false);
        }
        map.insert(key.to_owned(), entry.clone());
        Ok(true)
    }

    fn refresh(&self, key: &str, last_seen_ms: i64, expires_ms: i64) -> Result<(), StateError> {
        self.counters.write();
        if let Some(e) = self.lock().get_mut(key) {
            if e.last_seen_ms < last_seen_ms {
                e.last_seen_ms = last_seen_ms;
                e.expires_ms = e.expires_ms.max(expires_ms);
                e.version += 1;
            }
        }
        Ok(())
    }

    fn stats(&self) -> StoreStats {
        self.counters.get()
    }
}
