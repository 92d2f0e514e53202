//! The alert document as JSON: flat dotted keys in the alert's stable order, like an Elastic
//! Security alert (`{"kibana.alert.rule.name": ..., "event.action": ...}`).
use crate::alert::model::Alert;

/// Compact JSON (what SNS `default`, SQS and Lambda subscribers receive).
pub fn json(alert: &Alert) -> String {
    alert.to_json()
}

/// Indented JSON (for people and golden files).
pub fn json_pretty(alert: &Alert) -> String {
    serde_json::to_string_pretty(alert).unwrap_or_default()
}
