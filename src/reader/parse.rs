//! One record ([`RecordRef`], [`RawRecord`]) and parsing it into a JSON tree, tolerating the
//! damage that must not hide it from the rules (invalid UTF-8, unpaired surrogate escapes,
//! nesting past serde_json's recursion limit); its readable head when it cannot be parsed.
use super::fields::{self, Head};
use super::{deep, head, ReadError};

/// One element of `Records`, borrowed from the reader (see [`super::Records::next_record`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// Position in `Records` (0-based).
    pub index: usize,
    /// The element's raw JSON.
    pub bytes: &'a [u8],
    /// The dispatch fields, when the splitter could read them on the way.
    pub(super) head: Option<Head<'a>>,
}

impl<'a> RecordRef<'a> {
    /// The record's top-level `eventSource` / `eventName` as the prefilter needs them (read by
    /// the splitter when it could, otherwise by [`fields::scan_head`]).
    pub fn head(&self) -> Head<'a> {
        self.head.unwrap_or_else(|| fields::scan_head(self.bytes))
    }

    /// True when the splitter saw no backslash in the record (it reads the head only then);
    /// false when that is not known.
    pub fn escape_free(&self) -> bool {
        self.head.is_some()
    }

    /// Parses the record; a parse failure is a [`ReadError::BadRecord`].
    pub fn parse(&self) -> Result<serde_json::Value, ReadError> {
        parse_record(self.index, self.bytes)
    }

    /// A CloudTrail record made of the fields of this one that can be read when it cannot be
    /// parsed as a whole (damage after its head): eventSource, eventName, eventID, eventTime,
    /// errorCode, errorMessage, awsRegion, sourceIPAddress, userAgent, recipientAccountId and
    /// userIdentity's type, arn, accountId, userName and principalId, where they are strings.
    /// Evaluating it keeps a damaged record visible to the rules that read only these.
    pub fn head_record(&self) -> serde_json::Value {
        head::head_record(self.bytes)
    }
}

/// One element of `Records`, as raw JSON bytes.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// Position in `Records` (0-based).
    pub index: usize,
    pub bytes: Vec<u8>,
}

impl RawRecord {
    /// Parses the record; a parse failure is a [`ReadError::BadRecord`].
    pub fn parse(&self) -> Result<serde_json::Value, ReadError> {
        parse_record(self.index, &self.bytes)
    }

    /// The fields of the record that can be read even when it cannot be parsed (see
    /// [`super::RecordRef::head_record`]).
    pub fn head_record(&self) -> serde_json::Value {
        head::head_record(&self.bytes)
    }
}

/// Parses the record at `index` of `Records`; a parse failure is a [`ReadError::BadRecord`].
pub fn parse_record(index: usize, bytes: &[u8]) -> Result<serde_json::Value, ReadError> {
    parse_json(bytes)
        .or_else(|e| {
            // Invalid UTF-8 (a damaged or forged object) must not hide the record from the
            // rules: the bad bytes become U+FFFD, as CloudTrail's own console shows them.
            // Structural bytes are ASCII, so the replacement cannot change the JSON's shape.
            // Likewise an unpaired surrogate escape (`\ud800`), valid JSON that Rust strings
            // cannot hold.
            let text = String::from_utf8_lossy(bytes);
            match replace_lone_surrogates(&text) {
                Some(fixed) => parse_json(fixed.as_bytes()),
                None if matches!(text, std::borrow::Cow::Owned(_)) => parse_json(text.as_bytes()),
                None => Err(e),
            }
        })
        .map_err(|e| ReadError::BadRecord {
            index,
            reason: format!("invalid JSON: {e}"),
        })
}

/// serde_json's parse; past its recursion limit (an attacker nesting a request field to hide
/// the record), the heap-stacked parser of [`deep`].
fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(e) if deep::is_recursion_limit(&e) => deep::parse(bytes),
        Err(e) => Err(e.to_string()),
    }
}

/// `text` with every unpaired UTF-16 surrogate escape (`\uD800`–`\uDFFF`) replaced by
/// `\uFFFD`; None when there is none.
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let escape = |i: usize| -> Option<u16> {
        let hex = b.get(i + 2..i + 6)?;
        (b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u'))
            .then(|| u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
            .flatten()
    };
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        match escape(i) {
            Some(0xd800..=0xdbff) if matches!(escape(i + 6), Some(0xdc00..=0xdfff)) => i += 12,
            Some(0xd800..=0xdfff) => {
                let o = out.get_or_insert_with(String::new);
                o.push_str(&text[copied..i]);
                o.push_str("\\ufffd");
                i += 6;
                copied = i;
            }
            _ => i += 2, // any other escape, including `\\`
        }
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
}
