//! Lambda payload → the S3 objects to scan.
//!
//! One handler accepts every way a deployment feeds it: S3 event notifications, SQS messages
//! carrying S3 notifications (each object remembers its message id, for `batchItemFailures`),
//! SNS-wrapped S3 notifications (S3 → SNS fan-out), and EventBridge "Object Created" events.
//! `s3:TestEvent` messages are ignored.
use serde::Deserialize;
use serde_json::Value;

/// One object to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The decoded key (S3 notifications URL-encode keys, `+` for space).
    pub key: String,
    pub size: Option<u64>,
    /// The SQS message that carried this object, if any.
    pub message_id: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What a payload asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub objects: Vec<ObjectRef>,
    /// True when the payload came from SQS (the response reports `batchItemFailures`).
    pub from_sqs: bool,
    /// SQS messages that could not be understood (reported failed so they are redriven).
    pub bad_messages: Vec<(String, String)>,
    /// Notifications ignored on purpose (test events, non-create events).
    pub ignored: usize,
}

/// A payload, or a message of an SQS batch, that is none of the supported shapes.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// No `Records` list and no EventBridge `detail-type`: described by its top-level keys.
    #[error("unsupported Lambda payload: {0}")]
    Unsupported(String),
    /// A record from a service other than S3, SQS or SNS.
    #[error("unsupported Lambda payload: record with eventSource {0:?}")]
    EventSource(String),
    #[error("unsupported Lambda payload: message body is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("unsupported Lambda payload: not an S3 event notification: {0}")]
    NotS3Notification(#[source] serde_json::Error),
    #[error("unsupported Lambda payload: bad S3 record: {0}")]
    BadS3Record(#[source] serde_json::Error),
    #[error("unsupported Lambda payload: EventBridge Object Created without bucket/key")]
    EventBridgeWithoutObject,
}

#[derive(Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
    #[serde(rename = "Event", default)]
    event: Option<String>,
}

#[derive(Deserialize)]
struct S3Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: NameOnly,
    object: S3Object,
}

#[derive(Deserialize)]
struct NameOnly {
    name: String,
}

#[derive(Deserialize)]
struct S3Object {
    key: String,
    #[serde(default)]
    size: Option<u64>,
}

/// Parses a Lambda payload.
pub fn parse(payload: &Value) -> Result<Batch, TriggerError> {
    let mut batch = Batch::default();
    if payload.get("detail-type").is_some() {
        eventbridge(payload, &mut batch)?;
        return Ok(batch);
    }
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| TriggerError::Unsupported(describe(payload)))?;
    for record in records {
        let source = record
            .get("eventSource")
            .or_else(|| record.get("EventSource"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        match source {
            "aws:s3" => s3_record(record, None, &mut batch)?,
            "aws:sqs" => {
                batch.from_sqs = true;
                let id = record
                    .get("messageId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let body = record
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Err(e) = notification_text(body, Some(&id), &mut batch) {
                    batch.bad_messages.push((id, e.to_string()));
                }
            }
            "aws:sns" => {
                let message = record
                    .pointer("/Sns/Message")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                notification_text(message, None, &mut batch)?;
            }
            other => return Err(TriggerError::EventSource(other.to_owned())),
        }
    }
    Ok(batch)
}

/// A notification carried as text (SQS body, SNS message): an S3 notification, an SNS envelope
/// (SNS → SQS without raw delivery), or an EventBridge event (EventBridge → SQS).
fn notification_text(
    text: &str,
    message_id: Option<&str>,
    batch: &mut Batch,
) -> Result<(), TriggerError> {
    let value: Value = serde_json::from_str(text).map_err(TriggerError::NotJson)?;
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let inner = value
            .get("Message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return notification_text(inner, message_id, batch);
    }
    if value.get("detail-type").is_some() {
        let before = batch.objects.len();
        eventbridge(&value, batch)?;
        for o in &mut batch.objects[before..] {
            o.message_id = message_id.map(str::to_owned);
        }
        return Ok(());
    }
    let note: S3Notification =
        serde_json::from_value(value).map_err(TriggerError::NotS3Notification)?;
    if note.event.as_deref() == Some("s3:TestEvent") {
        batch.ignored += 1;
        return Ok(());
    }
    for r in note.records {
        push_s3(r, message_id, batch);
    }
    Ok(())
}

fn s3_record(
    record: &Value,
    message_id: Option<&str>,
    batch: &mut Batch,
) -> Result<(), TriggerError> {
    let r: S3Record = serde_json::from_value(record.clone()).map_err(TriggerError::BadS3Record)?;
    push_s3(r, message_id, batch);
    Ok(())
}

fn push_s3(r: S3Record, message_id: Option<&str>, batch: &mut Batch) {
    // Deletions, restores, replication events carry no new log object.
    if !r.event_name.starts_with("ObjectCreated:") {
        batch.ignored += 1;
        return;
    }
    batch.objects.push(ObjectRef {
        bucket: r.s3.bucket.name,
        key: decode_key(&r.s3.object.key),
        size: r.s3.object.size,
        message_id: message_id.map(str::to_owned),
    });
}

fn eventbridge(event: &Value, batch: &mut Batch) -> Result<(), TriggerError> {
    let detail_type = event
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if detail_type != "Object Created" {
        batch.ignored += 1;
        return Ok(());
    }
    let bucket = event.pointer("/detail/bucket/name").and_then(Value::as_str);
    let key = event.pointer("/detail/object/key").and_then(Value::as_str);
    let (Some(bucket), Some(key)) = (bucket, key) else {
        return Err(TriggerError::EventBridgeWithoutObject);
    };
    // EventBridge keys are URL-encoded like notification keys.
    batch.objects.push(ObjectRef {
        bucket: bucket.to_owned(),
        key: decode_key(key),
        size: event.pointer("/detail/object/size").and_then(Value::as_u64),
        message_id: None,
    });
    Ok(())
}

fn describe(payload: &Value) -> String {
    match payload {
        Value::Object(m) => format!(
            "object with keys {:?}",
            m.keys().take(8).map(String::as_str).collect::<Vec<_>>()
        ),
        other => format!("{} value", json_type(other)),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Decodes an S3 notification key: `+` is a space, `%xx` a byte (UTF-8 overall).
pub fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_note(key: &str) -> Value {
        json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "trail"}, "object": {"key": key, "size": 10}}}]})
    }

    #[test]
    fn decodes_plus_and_percent_escapes() {
        assert_eq!(decode_key("a+b%2Fc%3D%E2%82%AC"), "a b/c=\u{20ac}");
        assert_eq!(decode_key("100%"), "100%");
        assert_eq!(decode_key("%zz%4"), "%zz%4");
    }

    #[test]
    fn s3_sqs_sns_and_eventbridge_shapes() {
        let direct = parse(&s3_note("AWSLogs/x+y.json.gz")).unwrap();
        assert_eq!(direct.objects[0].key, "AWSLogs/x y.json.gz");
        assert!(!direct.from_sqs);

        let body = s3_note("k1").to_string();
        let sqs = json!({"Records": [
            {"eventSource": "aws:sqs", "messageId": "m1", "body": body},
            {"eventSource": "aws:sqs", "messageId": "m2", "body": "not json"},
            {"eventSource": "aws:sqs", "messageId": "m3",
             "body": json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string()}]});
        let b = parse(&sqs).unwrap();
        assert!(b.from_sqs);
        assert_eq!(b.objects.len(), 1);
        assert_eq!(b.objects[0].message_id.as_deref(), Some("m1"));
        assert_eq!(b.bad_messages.len(), 1);
        assert_eq!(b.bad_messages[0].0, "m2");
        assert_eq!(b.ignored, 1);

        let sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": s3_note("k2").to_string()}}]});
        assert_eq!(parse(&sns).unwrap().objects[0].key, "k2");

        let eb = json!({"detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "b"}, "object": {"key": "k%203", "size": 5}}});
        let b = parse(&eb).unwrap();
        assert_eq!(
            (b.objects[0].bucket.as_str(), b.objects[0].key.as_str()),
            ("b", "k 3")
        );
    }

    #[test]
    fn unknown_payloads_are_errors() {
        assert!(parse(&json!({"hello": 1})).is_err());
        assert!(parse(&json!([1])).is_err());
        assert!(parse(&json!({"Records": [{"eventSource": "aws:dynamodb"}]})).is_err());
    }
}
