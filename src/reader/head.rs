//! The readable head of a record that cannot be parsed: the fields the rules commonly read,
//! taken from the raw bytes without validating the rest, so a record damaged after its head
//! (by accident or by an attacker) is still evaluated rather than dropped.
use serde_json::{Map, Value};

/// Top-level string fields kept in a head record.
const TOP_FIELDS: &[&str] = &[
    "eventSource",
    "eventName",
    "eventID",
    "eventTime",
    "errorCode",
    "errorMessage",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "recipientAccountId",
];

/// String fields of `userIdentity` kept in a head record.
const IDENTITY_FIELDS: &[&str] = &["type", "arn", "accountId", "userName", "principalId"];

/// A CloudTrail record made of the fields of `raw` that can be read: the top-level
/// [`TOP_FIELDS`] and `userIdentity`'s [`IDENTITY_FIELDS`] that are JSON strings. The walk
/// reads key by key and skips values by counting brackets outside strings (as the splitter
/// found the record's end), so damage inside a value loses only that value; it stops at the
/// first damage to the top-level object itself, keeping what it read before. A key given
/// twice keeps its last value, as the JSON parser does.
pub(super) fn head_record(raw: &[u8]) -> Value {
    let mut record = Map::new();
    walk_object(raw, 0, &mut |key, start, end| {
        if TOP_FIELDS.contains(&key.as_str()) {
            if let Some(s) = decode_string(&raw[start..end]) {
                record.insert(key, Value::String(s));
            }
        } else if key == "userIdentity" && raw[start] == b'{' {
            let mut identity = Map::new();
            walk_object(&raw[..end], start, &mut |key, start, end| {
                if IDENTITY_FIELDS.contains(&key.as_str()) {
                    if let Some(s) = decode_string(&raw[start..end]) {
                        identity.insert(key, Value::String(s));
                    }
                }
            });
            record.insert(key, Value::Object(identity));
        }
    });
    Value::Object(record)
}

/// Calls `field(key, value_start, value_end)` for each member of the object starting at
/// `raw[at]` (after skipping whitespace), until its end or the first damage.
fn walk_object(raw: &[u8], at: usize, field: &mut dyn FnMut(String, usize, usize)) {
    let mut i = skip_ws(raw, at);
    if raw.get(i) != Some(&b'{') {
        return;
    }
    i += 1;
    let mut first = true;
    loop {
        i = skip_ws(raw, i);
        if !first {
            if raw.get(i) != Some(&b',') {
                return; // the end of the object, or damage
            }
            i = skip_ws(raw, i + 1);
        }
        first = false;
        if raw.get(i) != Some(&b'"') {
            return;
        }
        let Some(key_end) = string_end(raw, i) else {
            return;
        };
        let Some(key) = decode_string(&raw[i..key_end]) else {
            return;
        };
        i = skip_ws(raw, key_end);
        if raw.get(i) != Some(&b':') {
            return;
        }
        i = skip_ws(raw, i + 1);
        let Some(end) = value_end(raw, i) else {
            return;
        };
        field(key, i, end);
        i = end;
    }
}

/// The JSON string `token` (quotes included) decoded; None when it is not one. Invalid UTF-8
/// becomes U+FFFD, as when the record is parsed.
fn decode_string(token: &[u8]) -> Option<String> {
    if token.first() != Some(&b'"') {
        return None;
    }
    serde_json::from_str(&String::from_utf8_lossy(token)).ok()
}

fn skip_ws(raw: &[u8], mut i: usize) -> usize {
    while matches!(raw.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The index after the closing quote of the string starting at `raw[start]`.
fn string_end(raw: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let p = memchr::memchr2(b'"', b'\\', raw.get(i..)?)?;
        if raw[i + p] == b'\\' {
            i += p + 2;
        } else {
            return Some(i + p + 1);
        }
    }
}

/// The index after the value starting at `raw[start]`: a string, a container (brackets
/// counted outside strings, whatever their kind) or a scalar (up to a delimiter).
fn value_end(raw: &[u8], start: usize) -> Option<usize> {
    match *raw.get(start)? {
        b'"' => string_end(raw, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < raw.len() {
                match raw[i] {
                    b'"' => {
                        i = string_end(raw, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let len = raw[start..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(raw.len() - start);
            (len > 0).then_some(start + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_readable_head_of_a_damaged_record() {
        let raw = br#"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:x",
            "sessionContext":{"a":[1,{"b":2}]},"userName":"al\u00e9"},"eventSource":"rds.amazonaws.com",
            "eventName":"CreateDBCluster","requestParameters":{"a": tru, "b": [}],
            "eventID":"e-1","readOnly":false,"awsRegion":"us-east-1" "recipientAccountId":"1"}"#;
        assert_eq!(
            head_record(raw),
            json!({
                "userIdentity": {"type": "IAMUser", "arn": "arn:x", "userName": "alé"},
                "eventSource": "rds.amazonaws.com",
                "eventName": "CreateDBCluster",
                "eventID": "e-1",
                "awsRegion": "us-east-1"
            })
        );
    }

    #[test]
    fn keeps_only_strings_and_the_last_of_duplicates() {
        let raw = br#"{"eventName":1,"errorCode":"A","errorCode":"B","eventTime":null}"#;
        assert_eq!(head_record(raw), json!({"errorCode": "B"}));
    }

    #[test]
    fn nothing_readable_is_an_empty_record() {
        for raw in [
            &b""[..],
            b"[1]",
            b"{\"eventName",
            b"{,}",
            b"{\"a\":{\"b\":\"c",
        ] {
            assert_eq!(head_record(raw), json!({}), "{raw:?}");
        }
    }
}
