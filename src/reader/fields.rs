//! The dispatch fields of a raw record (`eventSource`, `eventName`), read from its bytes before
//! parsing: what [`crate::engine::Dispatch`] decides the candidate rules from.
//!
//! Soundness (the fast path must give exactly the alerts of evaluating every rule):
//! - A field is only taken as known when it is a plain JSON string without a backslash: its raw
//!   bytes are then its value. Anything else (an escape, a number, a list, null, an object) is
//!   [`Field::Unknown`] and makes every rule indexed on that field a candidate.
//! - Duplicate keys: serde_json keeps the last value, so the scan does too.
//! - A key written with an escape could spell `eventName`: the whole record is then unknown.

/// What the raw record says about one top-level field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// The key is absent: no value at the ECS path, no equality can hold.
    Missing,
    /// A JSON string without escapes; the bytes are its value.
    Str(&'a [u8]),
    /// Present but not a plain string (escapes, another type, several values): any rule may match.
    Unknown,
}

/// The dispatch fields of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    pub provider: Field<'a>,
    pub action: Field<'a>,
}

impl Head<'_> {
    /// Nothing known: every rule is a candidate.
    pub const UNKNOWN: Head<'static> = Head {
        provider: Field::Unknown,
        action: Field::Unknown,
    };
}

const WS: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\t' as usize] = true;
    t
};

fn skip_ws(raw: &[u8], mut i: usize) -> usize {
    while i < raw.len() && WS[raw[i] as usize] {
        i += 1;
    }
    i
}

/// End (one past the closing quote) of the string whose opening quote is at `i`, and whether
/// it holds a backslash. None when unterminated.
fn string_end(raw: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        let p = memchr::memchr2(b'"', b'\\', raw.get(j..)?)?;
        j += p;
        if raw[j] == b'"' {
            return Some((j + 1, escaped));
        }
        escaped = true;
        j += 2; // the backslash and the byte it escapes
    }
}

/// End of the value starting at `i` (not whitespace). None when malformed.
fn value_end(raw: &[u8], i: usize) -> Option<usize> {
    match *raw.get(i)? {
        b'"' => string_end(raw, i).map(|(e, _)| e),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < raw.len() {
                match raw[j] {
                    b'"' => {
                        j = string_end(raw, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < raw.len() && !matches!(raw[j], b',' | b'}' | b']') && !WS[raw[j] as usize] {
                j += 1;
            }
            Some(j)
        }
    }
}

/// Reads the top-level `eventSource` and `eventName` of a raw record (a JSON object) without
/// parsing it. [`Head::UNKNOWN`] when the record is not shaped as expected (the evaluator then
/// sees it whole, and a parse error is reported as before).
pub fn scan_head(raw: &[u8]) -> Head<'_> {
    scan_head_inner(raw).unwrap_or(Head::UNKNOWN)
}

fn scan_head_inner(raw: &[u8]) -> Option<Head<'_>> {
    let mut head = Head {
        provider: Field::Missing,
        action: Field::Missing,
    };
    let mut tried_early_exit = false;
    let mut i = skip_ws(raw, 0);
    if raw.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(raw, i);
        match *raw.get(i)? {
            b'}' => return Some(head),
            b',' => {
                i = skip_ws(raw, i + 1);
            }
            _ => {}
        }
        if raw.get(i) != Some(&b'"') {
            return None;
        }
        let (key_end, key_escaped) = string_end(raw, i)?;
        if key_escaped {
            return None; // the key might spell eventName: decide nothing
        }
        let key = &raw[i + 1..key_end - 1];
        i = skip_ws(raw, key_end);
        if raw.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(raw, i + 1);
        let end = value_end(raw, i)?;
        let slot = match key {
            b"eventSource" => Some(&mut head.provider),
            b"eventName" => Some(&mut head.action),
            _ => None,
        };
        if let Some(slot) = slot {
            *slot = match raw[i] {
                b'"' => match string_end(raw, i)? {
                    (_, false) => Field::Str(&raw[i + 1..end - 1]),
                    (_, true) => Field::Unknown,
                },
                _ => Field::Unknown,
            };
        }
        i = end;
        if !tried_early_exit && head.provider != Field::Missing && head.action != Field::Missing {
            tried_early_exit = true;
            if no_later_duplicate(&raw[i..]) {
                return Some(head);
            }
        }
    }
}

/// True when `rest` cannot hold another `eventSource` or `eventName` key: no backslash (so no
/// key written with escapes) and neither key's plain text. Lets the scan stop after the two keys
/// (near the start of a CloudTrail record) instead of walking the rest of the record.
fn no_later_duplicate(rest: &[u8]) -> bool {
    use memchr::memmem::Finder;
    use std::sync::OnceLock;
    static KEYS: OnceLock<[Finder<'static>; 2]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        [
            Finder::new(b"\"eventName\""),
            Finder::new(b"\"eventSource\""),
        ]
    });
    memchr::memchr(b'\\', rest).is_none() && keys.iter().all(|k| k.find(rest).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Head<'_> {
        scan_head(raw.as_bytes())
    }

    #[test]
    fn reads_top_level_strings_only() {
        let h = head(
            r#"{"requestParameters":{"eventName":"X","a":[1,{"eventSource":"y"}]},
               "eventSource" : "rds.amazonaws.com", "n": -1.5e3, "eventName":"StartExportTask"}"#,
        );
        assert_eq!(h.provider, Field::Str(b"rds.amazonaws.com"));
        assert_eq!(h.action, Field::Str(b"StartExportTask"));
        let h = head(r#"{"a":"}\"{","eventName":"B"}"#);
        assert_eq!(h.provider, Field::Missing);
        assert_eq!(h.action, Field::Str(b"B"));
    }

    #[test]
    fn escapes_other_types_duplicates_and_bad_shapes() {
        let h = head(r#"{"eventName":"Start\u0045xportTask","eventSource":["a"]}"#);
        assert_eq!(h, Head::UNKNOWN);
        let h = head(r#"{"eventName":"A","eventName":"B","eventSource":null}"#);
        assert_eq!(h.action, Field::Str(b"B"));
        assert_eq!(h.provider, Field::Unknown);
        assert_eq!(head(r#"{"event\u004eame":"A"}"#), Head::UNKNOWN);
        let h =
            head(r#"{"eventName":"A","eventSource":"s","x":{"eventName":"C"},"eventName":"B"}"#);
        assert_eq!(h.action, Field::Str(b"B"));
        let h = head(r#"{"eventName":"A","eventSource":"s","x":"\"","event\u004eame":"B"}"#);
        assert_eq!(h, Head::UNKNOWN);
        let h = head(r#"{"eventName":"A","eventSource":"s","x":"\"","eventName":"B"}"#);
        assert_eq!(h.action, Field::Str(b"B"));
        assert_eq!(head(r#"{"eventName":"A""#), Head::UNKNOWN);
        assert_eq!(head(r#"[1]"#), Head::UNKNOWN);
    }
}
