//! SNS: PublishBatch with `MessageStructure=json` (per-protocol messages: email text, Chatbot
//! JSON for Slack, alert JSON for SQS/Lambda) and message attributes for filter policies.
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;

use super::{Publisher, SinkError};
use crate::alert::{sns_message, Alert, SnsMessage};

/// SNS accepts at most 10 entries per PublishBatch…
const MAX_BATCH_ENTRIES: usize = 10;
/// …and 256 KiB for the whole request's messages and attributes.
const MAX_BATCH_BYTES: usize = 262_144;
/// Attempts for entries SNS reports failed (throttling, internal errors).
const ATTEMPTS: usize = 3;

/// Publishes alerts to one SNS topic.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        SnsPublisher {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

fn size_of(m: &SnsMessage) -> usize {
    m.subject.len()
        + m.message.len()
        + m.attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + "String".len())
            .sum::<usize>()
}

fn entry(id: usize, m: &SnsMessage) -> Result<PublishBatchRequestEntry, String> {
    let mut attrs = std::collections::HashMap::new();
    for (k, v) in &m.attributes {
        let value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .map_err(|e| e.to_string())?;
        attrs.insert(k.clone(), value);
    }
    PublishBatchRequestEntry::builder()
        .id(format!("a{id}"))
        .subject(&m.subject)
        .message(&m.message)
        .message_structure("json")
        .set_message_attributes(Some(attrs))
        .build()
        .map_err(|e| e.to_string())
}

impl Publisher for SnsPublisher {
    async fn publish(&self, alerts: &[Alert]) -> Result<(), SinkError> {
        let messages: Vec<SnsMessage> = alerts.iter().map(sns_message).collect();
        // Group by count and size.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut bytes = 0;
        for (i, m) in messages.iter().enumerate() {
            let size = size_of(m);
            match groups.last_mut() {
                Some(g) if g.len() < MAX_BATCH_ENTRIES && bytes + size <= MAX_BATCH_BYTES => {
                    g.push(i);
                    bytes += size;
                }
                _ => {
                    groups.push(vec![i]);
                    bytes = size;
                }
            }
        }
        let mut failed = 0;
        let mut last_reason = String::new();
        for group in groups {
            let mut pending = group;
            for attempt in 1..=ATTEMPTS {
                let entries: Result<Vec<_>, _> =
                    pending.iter().map(|&i| entry(i, &messages[i])).collect();
                let entries = entries.map_err(|reason| SinkError::Publish {
                    failed: alerts.len(),
                    total: alerts.len(),
                    reason,
                })?;
                match self
                    .client
                    .publish_batch()
                    .topic_arn(&self.topic_arn)
                    .set_publish_batch_request_entries(Some(entries))
                    .send()
                    .await
                {
                    Ok(out) => {
                        let retry: Vec<usize> = out
                            .failed()
                            .iter()
                            .filter_map(|f| {
                                last_reason =
                                    format!("{}: {}", f.code(), f.message().unwrap_or(""));
                                f.id().strip_prefix('a')?.parse().ok()
                            })
                            .collect();
                        pending = retry;
                    }
                    Err(e) => {
                        last_reason = aws_sdk_sns::error::DisplayErrorContext(&e).to_string();
                        tracing::warn!(topic = %self.topic_arn, attempt, error = %last_reason, "PublishBatch failed");
                    }
                }
                if pending.is_empty() {
                    break;
                }
            }
            failed += pending.len();
        }
        if failed > 0 {
            return Err(SinkError::Publish {
                failed,
                total: alerts.len(),
                reason: last_reason,
            });
        }
        Ok(())
    }
}
