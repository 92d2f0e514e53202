//! One object's path: bytes → reader → records → [`Detector::detect_record`] → sink, with a
//! report of what was read, skipped and failed. The one path of the Lambda handler and
//! `trailwatch scan` (local files and S3 alike).
//!
//! A record is parsed only when some rule is a candidate for it (see [`crate::engine::dispatch`]);
//! alerts go to the sink as they are found. Memory is one decompression buffer plus the record
//! being evaluated, whatever the object's size and number of matches.
use std::io::{self, BufRead, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Instant;

use super::{DetectError, Detector, Verdict};
use crate::alert::Alert;
use crate::reader::{self, ReadError, Records};
use crate::sink::{AlertSink, Collector, SinkError};
use crate::state::StateError;

/// At most this many bad-record messages are kept per object (all are counted).
const KEEP_BAD_RECORD_MESSAGES: usize = 10;

/// Decompressed bytes per chunk handed from the decompression thread to the evaluating one.
const CHUNK: usize = 256 << 10;
/// Chunks in flight between the two threads (bounds the memory of the pipeline to ~1 MB).
const CHUNKS_IN_FLIGHT: usize = 4;

/// What scanning one object produced.
#[derive(Debug)]
pub struct ObjectReport {
    /// The object's name (path or `s3://bucket/key`).
    pub object: String,
    /// Records evaluated (including those no rule could match, which are not parsed).
    pub records: usize,
    /// Records no rule could match, decided on their raw bytes (not parsed; a malformed record
    /// among them is therefore not reported as a bad record).
    pub prefiltered: usize,
    /// Elements of `Records` that could not be read or parsed (counted, logged; those with a
    /// readable head are still evaluated on it, see `partial_records`, the others skipped).
    pub bad_records: usize,
    /// Bad records that could not be parsed but were evaluated on their readable head (see
    /// [`crate::reader::RecordRef::head_record`]); also counted in `bad_records`.
    pub partial_records: usize,
    /// The first few bad-record messages.
    pub bad_record_messages: Vec<String>,
    /// Alerts found (handed to the sink, before its policy).
    pub alerts: usize,
    /// Matches dropped by an exception.
    pub excepted: usize,
    /// Set when the object could not be read to its end (alerts found before the damage were
    /// sent).
    pub error: Option<ReadError>,
    /// Set when the sink failed (a publish, or writing the output): the object must be retried.
    pub sink_error: Option<SinkError>,
    /// Set when the state store failed: the object must be retried.
    pub state_error: Option<StateError>,
    /// A CloudTrail digest object: no events, not an error.
    pub digest: bool,
    /// Decompressed JSON bytes read.
    pub bytes: u64,
    pub millis: u128,
}

impl ObjectReport {
    /// An empty report for `object`, before anything is read.
    pub fn new(object: &str) -> ObjectReport {
        ObjectReport {
            object: object.to_owned(),
            records: 0,
            prefiltered: 0,
            bad_records: 0,
            partial_records: 0,
            bad_record_messages: Vec::new(),
            alerts: 0,
            excepted: 0,
            error: None,
            sink_error: None,
            state_error: None,
            digest: false,
            bytes: 0,
            millis: 0,
        }
    }

    /// The report of an object that could not be opened or listed at all.
    pub fn unreadable(object: &str, source: std::io::Error) -> ObjectReport {
        ObjectReport {
            error: Some(ReadError::Io { offset: 0, source }),
            ..ObjectReport::new(object)
        }
    }

    /// True when the object must be retried / reported failed.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.sink_error.is_some() || self.state_error.is_some()
    }

    /// Why the object failed, in one line (`None` when it did not).
    pub fn failure(&self) -> Option<String> {
        let reasons: Vec<String> = [
            self.error.as_ref().map(ToString::to_string),
            self.sink_error.as_ref().map(ToString::to_string),
            self.state_error.as_ref().map(ToString::to_string),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!reasons.is_empty()).then(|| format!("{}: {}", self.object, reasons.join("; ")))
    }
}

/// An object scanned with every alert kept in memory ([`scan_collect`]): for tests and
/// examples only — production paths stream ([`process_object`]).
#[derive(Debug)]
pub struct Collected {
    pub report: ObjectReport,
    pub alerts: Vec<Alert>,
}

impl std::ops::Deref for Collected {
    type Target = ObjectReport;
    fn deref(&self) -> &ObjectReport {
        &self.report
    }
}

/// Scans one object on the calling thread, collecting its alerts (tests and examples).
pub fn scan_collect(object: &str, input: impl Read + Send, detector: &Detector) -> Collected {
    collect(object, input, detector, false)
}

/// [`scan_collect`] with decompression on a second thread.
pub fn scan_collect_pipelined(
    object: &str,
    input: impl Read + Send,
    detector: &Detector,
) -> Collected {
    collect(object, input, detector, true)
}

fn collect(
    object: &str,
    input: impl Read + Send,
    detector: &Detector,
    pipelined: bool,
) -> Collected {
    let mut sink = Collector::default();
    let report = process_object(object, input, detector, &mut sink, pipelined);
    Collected {
        report,
        alerts: sink.alerts,
    }
}

/// Scans one object's bytes (gzip or plain JSON) with `detector`, sending each alert to `sink`
/// as it is found and ending with [`AlertSink::end_object`]. With `pipelined` (a core is free),
/// decompression runs on a second thread feeding this one through a bounded channel; the report
/// is the same.
pub fn process_object(
    object: &str,
    input: impl Read + Send,
    detector: &Detector,
    sink: &mut dyn AlertSink,
    pipelined: bool,
) -> ObjectReport {
    let start = Instant::now();
    let mut report = if pipelined {
        let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
        let (recycle_tx, recycle_rx) = sync_channel(CHUNKS_IN_FLIGHT + 2);
        std::thread::scope(|scope| {
            scope.spawn(move || pump(input, &tx, &recycle_rx));
            let chunks = ChunkReader {
                rx,
                recycle: recycle_tx,
                chunk: Vec::new(),
                pos: 0,
            };
            scan_records(object, Records::new(chunks), detector, sink)
        })
    } else {
        scan_records(object, reader::open(input), detector, sink)
    };
    // The state's end-of-object writes come before the alerts are acknowledged.
    if let Err(e) = detector.end_object() {
        report.state_error = Some(e);
    }
    // Always called, even after a sink error: the sink may have turns to hand on.
    let ended = sink.end_object();
    if report.sink_error.is_none() {
        report.sink_error = ended.err();
    }
    if let Some(e) = &report.sink_error {
        tracing::error!(object, error = %e, "alerts not delivered");
    }
    finish(report, start)
}

fn finish(mut report: ObjectReport, start: Instant) -> ObjectReport {
    report.millis = start.elapsed().as_millis();
    report
}

/// Decompresses `input` into chunks sent to `tx` until the end, an error (sent on) or the
/// receiver hanging up.
fn pump(input: impl Read, tx: &SyncSender<io::Result<Vec<u8>>>, recycle: &Receiver<Vec<u8>>) {
    let mut decoded = reader::decoder(input);
    loop {
        let mut chunk = recycle.try_recv().unwrap_or_default();
        match fill(&mut decoded, &mut chunk) {
            Ok(n) => {
                if tx.send(Ok(chunk)).is_err() || n == 0 {
                    return;
                }
            }
            Err(e) => {
                // The bytes decoded before the damage first, as the single-threaded scan reads them.
                if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
                    return;
                }
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// Reads up to [`CHUNK`] bytes into `chunk` (resized to what was read): Ok(0) only at the end
/// of the stream. On an error, `chunk` keeps the bytes read before it.
fn fill(input: &mut dyn Read, chunk: &mut Vec<u8>) -> io::Result<usize> {
    chunk.resize(CHUNK, 0);
    let mut len = 0;
    let result = loop {
        if len == CHUNK {
            break Ok(len);
        }
        match input.read(&mut chunk[len..]) {
            Ok(0) => break Ok(len),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    chunk.truncate(len);
    result
}

/// The receiving end of [`pump`] as a byte stream.
struct ChunkReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    recycle: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = out.len().min(available.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.chunk.len() {
            let next = match self.rx.recv() {
                Ok(item) => item?,
                Err(_) => break, // the pump ended after the last chunk
            };
            if next.is_empty() {
                break;
            }
            let used = std::mem::replace(&mut self.chunk, next);
            // Full: the pump makes a fresh chunk instead.
            let _ = self.recycle.try_send(used);
            self.pos = 0;
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.chunk.len());
    }
}

fn scan_records<R: Read>(
    object: &str,
    mut records: Records<R>,
    detector: &Detector,
    sink: &mut dyn AlertSink,
) -> ObjectReport {
    let mut report = ObjectReport::new(object);
    let mut candidates = Vec::new();
    while let Some(item) = records.next_record() {
        let verdict = item
            .map_err(DetectError::Record)
            .and_then(|record| detector.detect_record(&record, &mut candidates, sink));
        match verdict {
            Ok(Verdict::Prefiltered) => {
                report.records += 1;
                report.prefiltered += 1;
            }
            Ok(Verdict::Evaluated(counts)) => {
                report.records += 1;
                report.alerts += counts.alerts;
                report.excepted += counts.excepted;
            }
            Ok(Verdict::Partial(counts, e)) => {
                tracing::warn!(object, error = %e, "bad record: evaluated on its readable head");
                report.bad_records += 1;
                report.partial_records += 1;
                report.alerts += counts.alerts;
                report.excepted += counts.excepted;
                if report.bad_record_messages.len() < KEEP_BAD_RECORD_MESSAGES {
                    report.bad_record_messages.push(e.to_string());
                }
            }
            Err(DetectError::Sink(e)) => {
                report.records += 1;
                report.sink_error = Some(e);
                break;
            }
            Err(DetectError::State(e)) => {
                report.records += 1;
                report.state_error = Some(e);
                break;
            }
            Err(DetectError::Record(ReadError::Digest)) => {
                report.digest = true;
                break;
            }
            Err(DetectError::Record(e)) if e.is_fatal() => {
                report.error = Some(e);
                break;
            }
            Err(DetectError::Record(e)) => {
                tracing::warn!(object, error = %e, "skipping bad record");
                report.bad_records += 1;
                if report.bad_record_messages.len() < KEEP_BAD_RECORD_MESSAGES {
                    report.bad_record_messages.push(e.to_string());
                }
            }
        }
    }
    report.bytes = records.bytes_read();
    report
}
