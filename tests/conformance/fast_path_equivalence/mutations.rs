//! Raw records made to test the fast path: escapes, renamed keys, other types, rule texts.
use std::collections::BTreeSet;

use serde_json::{json, Value};
use trailwatch::ecs::schema::is_verbatim;
use trailwatch::engine::{required_equalities, required_texts};
use trailwatch::rules::RuleSet;

/// A small deterministic PRNG (xorshift64*).
pub(super) struct Rng(pub(super) u64);
impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `s` with its `i`-th character written as a `\uXXXX` escape (surrogate pairs beyond the BMP).
pub(super) fn escape_one(s: &str, i: usize) -> String {
    let mut out = String::from("\"");
    for (k, c) in s.chars().enumerate() {
        if k == i {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push_str(serde_json::to_string(&c.to_string()).unwrap()[1..].trim_end_matches('"'));
        }
    }
    out.push('"');
    out
}

/// Replaces the first `"key":"value"` text of the compact `raw` (top-level keys come first in
/// the records' serialisation only by luck, so the mutation is checked, not assumed).
pub(super) fn replace_raw(raw: &str, from: &str, to: &str) -> Option<String> {
    raw.contains(from).then(|| raw.replacen(from, to, 1))
}

pub(super) fn push(out: &mut Vec<Vec<u8>>, v: &Value) {
    out.push(serde_json::to_vec(v).unwrap());
}

pub(super) fn mutations(
    records: &[Vec<u8>],
    literals: &[(String, String)],
    rng: &mut Rng,
) -> Vec<Vec<u8>> {
    let parsed: Vec<Value> = records
        .iter()
        .filter_map(|r| serde_json::from_slice(r).ok())
        .filter(Value::is_object)
        .collect();
    let mut out = Vec::new();
    for (n, rec) in parsed.iter().enumerate() {
        let other = &parsed[rng.below(parsed.len())];
        // Swapped eventName / eventSource across records.
        for key in ["eventName", "eventSource"] {
            let mut m = rec.clone();
            m[key] = other.get(key).cloned().unwrap_or(Value::Null);
            push(&mut out, &m);
        }
        // Every (provider, action) a rule requires, on some record (so rules fire and their
        // look-alikes are tried), every 7th record.
        if n % 7 == 0 && !literals.is_empty() {
            let (p, a) = &literals[rng.below(literals.len())];
            let mut m = rec.clone();
            if !p.is_empty() {
                m["eventSource"] = json!(p);
            }
            if !a.is_empty() {
                m["eventName"] = json!(a);
            }
            push(&mut out, &m);
            // The same with errorCode toggled.
            match m.as_object_mut().unwrap().remove("errorCode") {
                Some(_) => push(&mut out, &m),
                None => {
                    m["errorCode"] = json!("AccessDenied");
                    push(&mut out, &m);
                }
            }
            // Raw-text mutations of that record.
            let compact = String::from_utf8(serde_json::to_vec(&m).unwrap()).unwrap();
            for key in ["eventName", "eventSource"] {
                let Some(v) = m.get(key).and_then(Value::as_str) else {
                    continue;
                };
                let plain = format!("\"{key}\":{}", serde_json::to_string(v).unwrap());
                let i = rng.below(v.chars().count().max(1));
                let variants = [
                    format!("\"{key}\":{}", escape_one(v, i)),
                    format!(
                        "\"{}\":{}",
                        escape_one(key, 2).trim_matches('"'),
                        serde_json::to_string(v).unwrap()
                    ),
                    format!("\"{key}\":[{}]", serde_json::to_string(v).unwrap()),
                    format!("\"{key}\":null"),
                    format!("\"{key}\":12"),
                    format!(
                        "\"{key}\":\"x\",\"{key}\":{}",
                        serde_json::to_string(v).unwrap()
                    ),
                    format!(
                        "\"{key}\":{},\"{key}\":\"x\"",
                        serde_json::to_string(v).unwrap()
                    ),
                    format!("\"{key}\" : {} ", serde_json::to_string(v).unwrap()),
                ];
                for to in variants {
                    if let Some(s) = replace_raw(&compact, &plain, &to) {
                        out.push(s.into_bytes());
                    }
                }
            }
            out.push(serde_json::to_vec_pretty(&m).unwrap());
            let mut nested = m.clone();
            nested.as_object_mut().unwrap().remove("eventName");
            nested["requestParameters"] = json!({"eventName": a, "eventSource": p});
            push(&mut out, &nested);
        }
        // errorCode added or removed on the original.
        let mut m = rec.clone();
        if m.as_object_mut().unwrap().remove("errorCode").is_none() {
            m["errorCode"] = json!("ThrottlingException");
        }
        push(&mut out, &m);
    }
    out
}

/// The texts the text-constrained rules require (rules with no provider or action), plus two
/// of the Elastic catalogue's so the mutations run without it too.
pub(super) fn rule_texts(set: &RuleSet) -> Vec<String> {
    let mut texts: BTreeSet<String> = ["distrib#kali", "BedrockAPIKey-"].map(String::from).into();
    for r in set.rules() {
        if required_equalities(&r.expr, "event.provider").is_none()
            && required_equalities(&r.expr, "event.action").is_none()
        {
            texts.extend(required_texts(&r.expr, &is_verbatim).unwrap_or_default());
        }
    }
    texts.into_iter().collect()
}

/// `s` as a JSON string with every character written as `\uXXXX`.
pub(super) fn escape_all(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

/// Records carrying a required text where the view reads it (user agent, user names, in a list,
/// with the identity the Bedrock rule wants) or elsewhere (another top-level field, a nested
/// request parameter), written plainly, `\uXXXX`-escaped as a whole or in one character (which
/// splits the text across an escape), or next to an unrelated escape.
pub(super) fn text_mutations(records: &[Vec<u8>], texts: &[String], rng: &mut Rng) -> Vec<Vec<u8>> {
    const MARK: &str = "@@text@@";
    let parsed: Vec<Value> = records
        .iter()
        .filter_map(|r| serde_json::from_slice(r).ok())
        .filter(Value::is_object)
        .collect();
    let mut out = Vec::new();
    for (n, rec) in parsed.iter().enumerate() {
        if n % 3 != 0 {
            continue;
        }
        let text = &texts[rng.below(texts.len())];
        let value = match rng.below(3) {
            0 => text.clone(),
            1 => format!("{text}{}", rng.below(1000)),
            _ => format!("Mozilla/5.0 (X11; Linux) {text} ua/{}", rng.below(100)),
        };
        let mut m = rec.clone();
        let obj = m.as_object_mut().unwrap();
        if rng.below(2) == 0 {
            // event.outcome success, as the user agent rule wants.
            obj.remove("errorCode");
            obj.remove("errorMessage");
        }
        let mark = json!(MARK);
        match rng.below(7) {
            0 | 1 => {
                obj.insert("userAgent".into(), mark);
            }
            2 => {
                obj.insert("userAgent".into(), json!([MARK]));
            }
            3 => {
                obj.insert(
                    "userIdentity".into(),
                    json!({"type": "IAMUser", "userName": MARK, "accountId": "123456789012"}),
                );
            }
            4 => {
                obj.insert(
                    "userIdentity".into(),
                    json!({"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"userName": MARK}}}),
                );
            }
            5 => {
                obj.insert("sourceIPAddress".into(), mark);
            }
            _ => {
                obj.insert(
                    "requestParameters".into(),
                    json!({"filter": {"name": MARK}}),
                );
            }
        }
        let compact = String::from_utf8(serde_json::to_vec(&m).unwrap()).unwrap();
        let quoted = format!("\"{MARK}\"");
        let plain = serde_json::to_string(&value).unwrap();
        let start = value[..value.find(text.as_str()).unwrap_or(0)]
            .chars()
            .count();
        let inside = start + rng.below(text.chars().count().max(1));
        let variants = [
            plain.clone(),
            escape_all(&value),
            escape_one(&value, inside),
            escape_one(&value, 0),
        ];
        for v in variants {
            out.push(compact.replacen(&quoted, &v, 1).into_bytes());
        }
        // Plain text, with an escape somewhere else in the record.
        let elsewhere = compact.replacen(&quoted, &plain, 1);
        out.push(
            elsewhere
                .replacen("\"eventVersion\"", "\"event\\u0056ersion\"", 1)
                .into_bytes(),
        );
        // The text in another case: no rule may fire, none need be a candidate.
        let upper = serde_json::to_string(&value.to_uppercase()).unwrap();
        out.push(compact.replacen(&quoted, &upper, 1).into_bytes());
    }
    out
}
