//! CloudTrail objects → records, streaming.
//!
//! Gzip is detected by its magic bytes (multi-member streams are read whole); plain JSON is
//! accepted. The `Records` array is split element by element on the raw bytes without
//! materialising the object, so memory is bounded by the largest record, not the object.
//! A bad element inside `Records` is reported and the next one is read; damage to the stream
//! (truncation, corrupt gzip) ends the iteration with an error after the records read so far.
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

mod deep;
mod fields;
mod head;
mod input;
mod parse;
mod structural;

pub use fields::{scan_head, Field, Head};
use input::Input;
pub use parse::{parse_record, RawRecord, RecordRef};
use structural::{Outcome, Scanned, Span};

/// Records larger than this are skipped (reported), so one huge record cannot exhaust memory.
pub const MAX_RECORD_BYTES: usize = 32 << 20;

/// Why an object, or one element of its `Records`, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading or decompressing failed (e.g. a corrupt or truncated gzip stream).
    #[error("read failed at byte {offset} of the decompressed stream: {source}")]
    Io { offset: u64, source: io::Error },
    /// The object is empty (zero bytes, or a gzip of nothing).
    #[error("empty object")]
    Empty,
    /// The bytes are not the JSON object CloudTrail writes.
    #[error("not CloudTrail JSON at byte {offset}: {reason}")]
    NotCloudTrail { offset: u64, reason: String },
    /// A CloudTrail digest object (`CloudTrail-Digest/`): not events. Callers skip it quietly.
    #[error("CloudTrail digest object (no events)")]
    Digest,
    /// The stream ended inside a value.
    #[error("truncated: the stream ends inside a value at byte {offset}")]
    Truncated { offset: u64 },
    /// One element of `Records` is unusable; the others are still read.
    #[error("record {index}: {reason}")]
    BadRecord { index: usize, reason: String },
}

impl ReadError {
    /// True when the error ends the object (as opposed to one bad record beside good ones).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ReadError::BadRecord { .. })
    }
}

/// Opens an object's bytes: gzip (by magic) or plain JSON.
pub fn open<'a, R: Read + 'a>(input: R) -> Records<Box<dyn Read + 'a>> {
    Records::new(decoder(input))
}

/// The decompressed JSON of an object: gzip (by magic, every member) or the bytes as they are.
/// Unbuffered on the decompressed side: [`Records`] decompresses straight into its own buffer.
pub fn decoder<'a, R: Read + 'a>(input: R) -> Box<dyn Read + 'a> {
    let mut input = BufReader::with_capacity(64 << 10, input);
    let gzip = match input.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(_) => false, // the error resurfaces on the first read below
    };
    if gzip {
        Box::new(MultiGzDecoder::new(input))
    } else {
        Box::new(input)
    }
}

/// Where the current element's bytes are.
enum Slot {
    /// In the input buffer, at `start` (the splitter's walk found its end).
    Buffered { start: usize, scanned: Scanned },
    /// Copied into `Records::scratch` by the byte-at-a-time splitter.
    Copied,
}

/// What the block walk made of the next record.
enum Walked {
    Found(Scanned),
    /// Larger than [`MAX_RECORD_BYTES`], or cut short by the end of the stream.
    Skip,
    /// Leave it to the byte-at-a-time splitter.
    Fallback,
}

/// A scratch buffer grown past this by one huge record is released rather than kept.
const KEEP_SCRATCH: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Inside the top-level object, before a key (or its closing brace).
    Keys {
        first: bool,
    },
    /// Inside `Records`, before an element (or the closing bracket).
    Array {
        first: bool,
    },
    Done,
}

/// Iterator over the records of one object.
///
/// Each record is found by [`structural::scan_record`] (64 bytes at a time) in the reader's own
/// buffer, which keeps a partial record while more is read, and lent out without a copy; the
/// byte-at-a-time splitter below handles everything else (the top-level keys, elements that
/// are not objects, records over [`MAX_RECORD_BYTES`], damaged streams).
pub struct Records<R> {
    input: Input<R>,
    state: State,
    /// The current record when the byte-at-a-time splitter copied it.
    scratch: Vec<u8>,
    offset: u64,
    next_index: usize,
    saw_records: bool,
    saw_digest_key: bool,
    objects: usize,
    key: Vec<u8>,
}

impl<R: Read> Records<R> {
    pub fn new(input: R) -> Self {
        Records {
            input: Input::new(input),
            state: State::Start,
            scratch: Vec::new(),
            offset: 0,
            next_index: 0,
            saw_records: false,
            saw_digest_key: false,
            objects: 0,
            key: Vec::new(),
        }
    }

    /// Bytes of decompressed JSON consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    fn io(&self, source: io::Error) -> ReadError {
        ReadError::Io {
            offset: self.offset,
            source,
        }
    }

    fn not_cloudtrail(&self, reason: impl Into<String>) -> ReadError {
        ReadError::NotCloudTrail {
            offset: self.offset,
            reason: reason.into(),
        }
    }

    /// Skips whitespace; returns the next byte without consuming it (None at end of stream).
    fn peek_non_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            };
            if chunk.is_empty() {
                return Ok(None);
            }
            let ws = chunk
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
                .count();
            if ws < chunk.len() {
                let b = chunk[ws];
                self.input.consume(ws);
                self.offset += ws as u64;
                return Ok(Some(b));
            }
            let n = chunk.len();
            self.input.consume(n);
            self.offset += n as u64;
        }
    }

    /// Consumes and returns the next non-whitespace byte.
    fn expect_next(&mut self) -> Result<u8, ReadError> {
        match self.peek_non_ws()? {
            Some(b) => {
                self.input.consume(1);
                self.offset += 1;
                Ok(b)
            }
            None => Err(ReadError::Truncated {
                offset: self.offset,
            }),
        }
    }

    /// Scans one JSON value starting at the next non-whitespace byte; appends its bytes to `out`
    /// when given (up to [`MAX_RECORD_BYTES`]). Returns the first byte and whether it was cut.
    fn scan_value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(u8, bool), ReadError> {
        let first = match self.peek_non_ws()? {
            Some(b) => b,
            None => {
                return Err(ReadError::Truncated {
                    offset: self.offset,
                })
            }
        };
        let mut depth = 0usize;
        let mut in_str = false;
        let mut escaped = false;
        let mut started = false;
        let mut oversize = false;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            };
            if chunk.is_empty() {
                if scalar && started {
                    return Ok((first, oversize));
                }
                return Err(ReadError::Truncated {
                    offset: self.offset,
                });
            }
            let mut i = 0;
            let mut end = None;
            while i < chunk.len() {
                if escaped {
                    escaped = false;
                    i += 1;
                    continue;
                }
                if in_str {
                    match string_stop(&chunk[i..]) {
                        None => i = chunk.len(),
                        Some(p) => {
                            i += p;
                            if chunk[i] == b'\\' {
                                escaped = true;
                            } else {
                                in_str = false;
                                if depth == 0 {
                                    end = Some(i + 1); // a bare string value
                                    break;
                                }
                            }
                            i += 1;
                        }
                    }
                    continue;
                }
                let b = chunk[i];
                if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        end = Some(i);
                        break;
                    }
                    started = true;
                    i += 1;
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            let n = end.unwrap_or(chunk.len());
            if let Some(buf) = out.as_deref_mut() {
                if buf.len() + n > MAX_RECORD_BYTES {
                    oversize = true;
                    buf.clear();
                    out = None;
                } else {
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
            self.input.consume(n);
            self.offset += n as u64;
            if end.is_some() {
                return Ok((first, oversize));
            }
        }
    }

    /// Reads a key string (already past the opening quote is NOT assumed: expects `"`).
    fn read_key(&mut self) -> Result<(), ReadError> {
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        let result = self.scan_value(Some(&mut key));
        self.key = key;
        match result? {
            (b'"', _) => Ok(()),
            _ => Err(self.not_cloudtrail("expected an object key")),
        }
    }

    /// The next record, borrowed until the next call: no copy when it lies in the input buffer.
    pub fn next_record(&mut self) -> Option<Result<RecordRef<'_>, ReadError>> {
        // Give back the memory of an unusually large record (it has been evaluated by now).
        if self.scratch.capacity() > KEEP_SCRATCH {
            self.scratch = Vec::new();
        }
        let (index, slot) = match self.step() {
            Ok(Some(found)) => found,
            Ok(None) => return None,
            Err(e) => {
                if e.is_fatal() {
                    self.state = State::Done;
                }
                return Some(Err(e));
            }
        };
        Some(Ok(match slot {
            Slot::Copied => RecordRef {
                index,
                bytes: &self.scratch,
                head: None,
            },
            Slot::Buffered { start, scanned } => {
                let bytes = self.input.get(start, scanned.len);
                let head = (!scanned.backslash).then(|| Head {
                    provider: field(bytes, scanned.provider),
                    action: field(bytes, scanned.action),
                });
                RecordRef { index, bytes, head }
            }
        }))
    }

    /// The next record into `bytes` (cleared first, its allocation reused); returns its index
    /// in `Records`. Same items as the iterator, without a fresh buffer per record.
    pub fn next_into(&mut self, bytes: &mut Vec<u8>) -> Option<Result<usize, ReadError>> {
        self.next_record().map(|item| {
            item.map(|record| {
                bytes.clear();
                bytes.extend_from_slice(record.bytes);
                record.index
            })
        })
    }

    /// Finds the end of the record starting at the next byte (`{`) with the block walk,
    /// reading more as needed (up to one byte more than [`MAX_RECORD_BYTES`]).
    fn walk_record(&mut self) -> Result<Walked, ReadError> {
        let limit = MAX_RECORD_BYTES + 1;
        let mut ended = false;
        loop {
            match structural::scan_record(self.input.buffered()) {
                Outcome::Found(scanned) if scanned.len > MAX_RECORD_BYTES => {
                    return Ok(Walked::Skip)
                }
                Outcome::Found(scanned) => return Ok(Walked::Found(scanned)),
                Outcome::Irregular => return Ok(Walked::Fallback),
                Outcome::NeedMore => {
                    let have = self.input.buffered().len();
                    // Too large, or truncated inside the record (the skipping splitter then
                    // reports the truncation).
                    if have >= limit || ended {
                        return Ok(Walked::Skip);
                    }
                    // Read until the buffered bytes double (or the stream ends) before walking
                    // again, so a huge record is walked O(1) times per byte.
                    let want = (have * 2).min(limit);
                    while !ended && self.input.buffered().len() < want {
                        match self.input.fill_more(limit) {
                            Ok(0) => ended = true,
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(self.io(e)),
                        }
                    }
                }
            }
        }
    }

    fn step(&mut self) -> Result<Option<(usize, Slot)>, ReadError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => match self.peek_non_ws()? {
                    None if self.objects == 0 => return Err(ReadError::Empty),
                    None => {
                        self.state = State::Done;
                        return Ok(None);
                    }
                    Some(b'{') => {
                        self.expect_next()?;
                        self.objects += 1;
                        self.state = State::Keys { first: true };
                    }
                    Some(b) => {
                        return Err(self.not_cloudtrail(format!(
                            "expected a JSON object, found {:?}",
                            char::from(b)
                        )))
                    }
                },
                State::Keys { first } => {
                    let Some(b) = self.peek_non_ws()? else {
                        return Err(ReadError::Truncated {
                            offset: self.offset,
                        });
                    };
                    match b {
                        b'}' => {
                            self.expect_next()?;
                            if !self.saw_records {
                                return Err(if self.saw_digest_key {
                                    ReadError::Digest
                                } else {
                                    self.not_cloudtrail("no \"Records\" array")
                                });
                            }
                            self.saw_records = false;
                            self.state = State::Start;
                            continue;
                        }
                        b',' if !first => {
                            self.expect_next()?;
                        }
                        b'"' if first => {}
                        other => {
                            return Err(self.not_cloudtrail(format!(
                                "unexpected {:?} in the top-level object",
                                char::from(other)
                            )))
                        }
                    }
                    self.read_key()?;
                    if self.expect_next()? != b':' {
                        return Err(self.not_cloudtrail("expected ':' after a key"));
                    }
                    match self.key.as_slice() {
                        b"\"Records\"" => match self.peek_non_ws()? {
                            Some(b'[') => {
                                self.expect_next()?;
                                self.saw_records = true;
                                self.state = State::Array { first: true };
                            }
                            Some(_) => {
                                let at = self.offset;
                                let mut v = Vec::new();
                                self.scan_value(Some(&mut v))?;
                                self.offset = at; // report where the value starts
                                return Err(self.not_cloudtrail(format!(
                                    "\"Records\" is {}, not a list",
                                    String::from_utf8_lossy(&v[..v.len().min(40)])
                                )));
                            }
                            None => {
                                return Err(ReadError::Truncated {
                                    offset: self.offset,
                                })
                            }
                        },
                        k => {
                            if k.starts_with(b"\"digest") {
                                self.saw_digest_key = true;
                            }
                            self.scan_value(None)?;
                            self.state = State::Keys { first: false };
                        }
                    }
                }
                State::Array { first } => {
                    match self.peek_non_ws()? {
                        Some(b']') => {
                            self.expect_next()?;
                            self.state = State::Keys { first: false };
                            continue;
                        }
                        Some(b',') if !first => {
                            self.expect_next()?;
                        }
                        Some(_) if first => {}
                        Some(b) => {
                            return Err(self.not_cloudtrail(format!(
                                "expected ',' between records, found {:?}",
                                char::from(b)
                            )))
                        }
                        None => {
                            return Err(ReadError::Truncated {
                                offset: self.offset,
                            })
                        }
                    }
                    self.state = State::Array { first: false };
                    let index = self.next_index;
                    self.next_index += 1;
                    if self.peek_non_ws()? == Some(b'{') {
                        match self.walk_record()? {
                            Walked::Found(scanned) => {
                                let start = self.input.consume_at(scanned.len);
                                self.offset += scanned.len as u64;
                                return Ok(Some((index, Slot::Buffered { start, scanned })));
                            }
                            Walked::Skip => {
                                // Streams past it without holding it (or reports truncation).
                                self.scan_value(None)?;
                                return Err(oversize(index));
                            }
                            Walked::Fallback => {}
                        }
                    }
                    let mut bytes = std::mem::take(&mut self.scratch);
                    bytes.clear();
                    let scanned = self.scan_value(Some(&mut bytes));
                    self.scratch = bytes;
                    let (first_byte, too_large) = scanned?;
                    let bytes = &self.scratch;
                    if too_large {
                        return Err(oversize(index));
                    }
                    if first_byte != b'{' {
                        return Err(ReadError::BadRecord {
                            index,
                            reason: format!(
                                "not an object: {}",
                                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
                            ),
                        });
                    }
                    return Ok(Some((index, Slot::Copied)));
                }
            }
        }
    }
}

fn oversize(index: usize) -> ReadError {
    ReadError::BadRecord {
        index,
        reason: format!("record larger than {MAX_RECORD_BYTES} bytes"),
    }
}

fn field(record: &[u8], span: Span) -> Field<'_> {
    match span {
        Span::Missing => Field::Missing,
        // Always within the record (the walk ends a record outside strings only); `get`
        // keeps a mistake from being a panic on input data.
        Span::Str(start, end) => record.get(start..end).map_or(Field::Unknown, Field::Str),
        Span::Unknown => Field::Unknown,
    }
}

/// The first `"` or `\\` in `bytes`. Most CloudTrail strings are short: a plain loop over the
/// first bytes beats a `memchr2` call per string; long strings still get `memchr2`.
#[inline]
fn string_stop(bytes: &[u8]) -> Option<usize> {
    let head = bytes.len().min(24);
    match bytes[..head].iter().position(|&b| b == b'"' || b == b'\\') {
        Some(p) => Some(p),
        None if head < bytes.len() => {
            memchr::memchr2(b'"', b'\\', &bytes[head..]).map(|p| p + head)
        }
        None => None,
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<RawRecord, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut bytes = Vec::new();
        self.next_into(&mut bytes)
            .map(|r| r.map(|index| RawRecord { index, bytes }))
    }
}

#[cfg(test)]
mod tests;
