//! The DynamoDB [`StateStore`] (the Lambda): one table named by `STATE_TABLE`, partition key
//! `pk` (S) only — every access is by exact key — with the entry's version (`v`), last-seen
//! time (`ls`, ms), TTL attribute (`expires_at`, epoch seconds: DynamoDB deletes the item some
//! time after it) and data (`d`, JSON). Compare-and-set is a conditional PutItem on `v`; reads
//! are strongly consistent BatchGetItem requests of up to 100 keys.
//!
//! Synchronous over the SDK: the detection path runs on blocking threads, and this store
//! `block_on`s its runtime handle (never call it from an async task).
use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use tokio::runtime::Handle;

use super::{Counters, Entry, StateError, StateStore, StoreStats};

/// The partition key attribute.
pub const KEY: &str = "pk";
pub const ATTR_VERSION: &str = "v";
pub const ATTR_LAST_SEEN: &str = "ls";
/// The table's TTL attribute (template.yaml `TimeToLiveSpecification`).
pub const ATTR_EXPIRES: &str = "expires_at";
pub const ATTR_DATA: &str = "d";

/// BatchGetItem's limit.
const BATCH: usize = 100;
/// Rounds of BatchGetItem for keys DynamoDB left unprocessed (throttling).
const UNPROCESSED_ROUNDS: usize = 8;

pub struct DynamoStore {
    client: Client,
    table: String,
    handle: Handle,
    counters: Counters,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish()
    }
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, handle: Handle) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
            handle,
            counters: Counters::default(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn err(&self, e: impl std::error::Error) -> StateError {
        StateError::Dynamo {
            table: self.table.clone(),
            message: DisplayErrorContext(e).to_string(),
        }
    }

    fn corrupt(key: &str, what: &str) -> StateError {
        StateError::Corrupt {
            key: key.to_owned(),
            message: format!("attribute {what} missing or not a number"),
        }
    }

    fn decode(item: &HashMap<String, AttributeValue>) -> Result<(String, Entry), StateError> {
        let key = match item.get(KEY) {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => return Err(Self::corrupt("?", KEY)),
        };
        let num = |name: &str| -> Result<i64, StateError> {
            match item.get(name) {
                Some(AttributeValue::N(v)) => v.parse().map_err(|_| Self::corrupt(&key, name)),
                _ => Err(Self::corrupt(&key, name)),
            }
        };
        let entry = Entry {
            version: u64::try_from(num(ATTR_VERSION)?)
                .map_err(|_| Self::corrupt(&key, ATTR_VERSION))?,
            last_seen_ms: num(ATTR_LAST_SEEN)?,
            expires_ms: num(ATTR_EXPIRES)?.saturating_mul(1_000),
            data: match item.get(ATTR_DATA) {
                Some(AttributeValue::S(s)) => s.clone(),
                _ => String::new(),
            },
        };
        Ok((key, entry))
    }
}

impl StateStore for DynamoStore {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, StateError> {
        let mut found: HashMap<String, Entry> = HashMap::with_capacity(keys.len());
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(BATCH) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for k in chunk {
                request = request.keys(HashMap::from([(
                    KEY.to_owned(),
                    AttributeValue::S((*k).clone()),
                )]));
            }
            let mut pending = Some(request.build().map_err(|e| self.err(e))?);
            for _ in 0..UNPROCESSED_ROUNDS {
                let Some(req) = pending.take() else { break };
                self.counters.read(req.keys().len());
                let out = self
                    .handle
                    .block_on(
                        self.client
                            .batch_get_item()
                            .request_items(self.table.clone(), req)
                            .send(),
                    )
                    .map_err(|e| self.err(e))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let (k, e) = Self::decode(item)?;
                    found.insert(k, e);
                }
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|r| !r.keys().is_empty())
                    .cloned();
            }
            if pending.is_some() {
                return Err(StateError::Dynamo {
                    table: self.table.clone(),
                    message: "BatchGetItem left keys unprocessed (throttled)".into(),
                });
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn put_if(&self, key: &str, expected: Option<u64>, entry: &Entry) -> Result<bool, StateError> {
        self.counters.write();
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(key.to_owned()))
            .item(ATTR_VERSION, AttributeValue::N(entry.version.to_string()))
            .item(ATTR_LAST_SEEN, n(entry.last_seen_ms))
            .item(ATTR_EXPIRES, n(entry.expires_ms.div_euclid(1_000)))
            .item(ATTR_DATA, AttributeValue::S(entry.data.clone()))
            .expression_attribute_names("#k", KEY);
        req = match expected {
            None => req.condition_expression("attribute_not_exists(#k)"),
            Some(v) => req
                .condition_expression("attribute_exists(#k) AND #v = :v")
                .expression_attribute_names("#v", ATTR_VERSION)
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match self.handle.block_on(req.send()) {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.err(e)),
        }
    }

    fn refresh(&self, key: &str, last_seen_ms: i64, expires_ms: i64) -> Result<(), StateError> {
        self.counters.write();
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .update_expression("SET #ls = :ls, #e = :e, #v = #v + :one")
            .condition_expression("attribute_exists(#k) AND #ls < :ls")
            .expression_attribute_names("#k", KEY)
            .expression_attribute_names("#ls", ATTR_LAST_SEEN)
            .expression_attribute_names("#e", ATTR_EXPIRES)
            .expression_attribute_names("#v", ATTR_VERSION)
            .expression_attribute_values(":ls", n(last_seen_ms))
            .expression_attribute_values(":e", n(expires_ms.div_euclid(1_000)))
            .expression_attribute_values(":one", n(1));
        match self.handle.block_on(req.send()) {
            Ok(_) => Ok(()),
            // Absent, or already seen later: nothing to raise.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.err(e)),
        }
    }

    fn stats(&self) -> StoreStats {
        self.counters.get()
    }
}
