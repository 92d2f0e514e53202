//! The embedded [`StateStore`] for the CLI and tests: one `redb` database file (pure Rust, ACID,
//! maintained), persisted across runs; or a temporary in-memory database.
//!
//! Each call is one redb transaction, so compare-and-set is atomic across threads of one
//! process (redb allows one writer at a time; the file is locked against other processes).
use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

use super::{Counters, Entry, StateError, StateStore, StoreStats};

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("trailwatch_state");

pub struct RedbStore {
    db: Database,
    path: String,
    counters: Counters,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish()
    }
}

fn encode(e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + e.data.len());
    out.extend_from_slice(&e.version.to_le_bytes());
    out.extend_from_slice(&e.last_seen_ms.to_le_bytes());
    out.extend_from_slice(&e.expires_ms.to_le_bytes());
    out.extend_from_slice(e.data.as_bytes());
    out
}

fn decode(key: &str, b: &[u8]) -> Result<Entry, StateError> {
    let corrupt = || StateError::Corrupt {
        key: key.to_owned(),
        message: "truncated entry".into(),
    };
    let word = |i: usize| -> Result<[u8; 8], StateError> {
        b.get(i * 8..i * 8 + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(corrupt)
    };
    Ok(Entry {
        version: u64::from_le_bytes(word(0)?),
        last_seen_ms: i64::from_le_bytes(word(1)?),
        expires_ms: i64::from_le_bytes(word(2)?),
        data: String::from_utf8(b.get(24..).ok_or_else(corrupt)?.to_vec()).map_err(|_| {
            StateError::Corrupt {
                key: key.to_owned(),
                message: "not UTF-8".into(),
            }
        })?,
    })
}

impl RedbStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<RedbStore, StateError> {
        let shown = path.display().to_string();
        let db = Database::create(path).map_err(|e| StateError::Embedded {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Self::init(db, shown)
    }

    /// A database that lives as long as this value (runs without `--state`).
    pub fn temporary() -> Result<RedbStore, StateError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| StateError::Embedded {
                path: "(memory)".into(),
                message: e.to_string(),
            })?;
        Self::init(db, "(memory)".into())
    }

    fn init(db: Database, path: String) -> Result<RedbStore, StateError> {
        let store = RedbStore {
            db,
            path,
            counters: Counters::default(),
        };
        // Create the table once so that readers never meet a missing table.
        store.write(|_| Ok(()))?;
        Ok(store)
    }

    fn err(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Embedded {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Runs `f` in one write transaction and commits.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut redb::Table<'_, &'static str, &'static [u8]>) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        let out = {
            let mut table = tx.open_table(TABLE).map_err(|e| self.err(e))?;
            f(&mut table)?
        };
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }
}

impl StateStore for RedbStore {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, StateError> {
        self.counters.read(keys.len());
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(TABLE).map_err(|e| self.err(e))?;
        keys.iter()
            .map(|k| match table.get(k.as_str()).map_err(|e| self.err(e))? {
                Some(v) => decode(k, v.value()).map(Some),
                None => Ok(None),
            })
            .collect()
    }

    fn put_if(&self, key: &str, expected: Option<u64>, entry: &Entry) -> Result<bool, StateError> {
        self.counters.write();
        self.write(|table| {
            let current = match table.get(key).map_err(|e| self.err(e))? {
                Some(v) => Some(decode(key, v.value())?.version),
                None => None,
            };
            if current != expected {
                return Ok(false);
            }
            table
                .insert(key, encode(entry).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(true)
        })
    }

    fn refresh(&self, key: &str, last_seen_ms: i64, expires_ms: i64) -> Result<(), StateError> {
        self.counters.write();
        self.write(|table| {
            let current = match table.get(key).map_err(|e| self.err(e))? {
                Some(v) => decode(key, v.value())?,
                None => return Ok(()),
            };
            if current.last_seen_ms < last_seen_ms {
                let updated = Entry {
                    version: current.version + 1,
                    last_seen_ms,
                    expires_ms: current.expires_ms.max(expires_ms),
                    data: current.data,
                };
                table
                    .insert(key, encode(&updated).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    fn stats(&self) -> StoreStats {
        self.counters.get()
    }
}
