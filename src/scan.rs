//! Scanning one object: reader → records → ECS view → rules → alerts, with a report of what was
//! read, skipped and failed. Shared by the CLI and the Lambda handler.
use std::io::Read;
use std::time::Instant;

use crate::alert::Alert;
use crate::detector::Detector;
use crate::ecs::CloudTrailView;
use crate::reader::{self, ReadError};

/// At most this many bad-record messages are kept per object (all are counted).
const KEEP_BAD_RECORD_MESSAGES: usize = 10;

/// What scanning one object produced.
#[derive(Debug)]
pub struct ObjectReport {
    /// The object's name (path or `s3://bucket/key`).
    pub object: String,
    /// Records evaluated.
    pub records: usize,
    /// Elements of `Records` that could not be evaluated (counted, logged, skipped).
    pub bad_records: usize,
    /// The first few bad-record messages.
    pub bad_record_messages: Vec<String>,
    pub alerts: Vec<Alert>,
    /// Matches dropped by an exception.
    pub excepted: usize,
    /// Set when the object could not be read to its end (alerts found before the damage are kept).
    pub error: Option<ReadError>,
    /// A CloudTrail digest object: no events, not an error.
    pub digest: bool,
    /// Decompressed JSON bytes read.
    pub bytes: u64,
    pub millis: u128,
}

impl ObjectReport {
    /// True when the object must be retried / reported failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Scans one object's bytes (gzip or plain JSON) with `detector`.
pub fn scan_object(object: &str, input: impl Read, detector: &Detector) -> ObjectReport {
    let start = Instant::now();
    let mut report = ObjectReport {
        object: object.to_owned(),
        records: 0,
        bad_records: 0,
        bad_record_messages: Vec::new(),
        alerts: Vec::new(),
        excepted: 0,
        error: None,
        digest: false,
        bytes: 0,
        millis: 0,
    };
    let mut records = reader::open(input);
    for item in records.by_ref() {
        let record = match item.and_then(|raw| raw.parse()) {
            Ok(record) => record,
            Err(ReadError::Digest) => {
                report.digest = true;
                break;
            }
            Err(e) if e.is_fatal() => {
                report.error = Some(e);
                break;
            }
            Err(e) => {
                tracing::warn!(object, error = %e, "skipping bad record");
                report.bad_records += 1;
                if report.bad_record_messages.len() < KEEP_BAD_RECORD_MESSAGES {
                    report.bad_record_messages.push(e.to_string());
                }
                continue;
            }
        };
        report.records += 1;
        let view = CloudTrailView::new(&record);
        report.excepted += detector.detect(&view, &record, &mut report.alerts);
    }
    report.bytes = records.bytes_read();
    report.millis = start.elapsed().as_millis();
    report
}
