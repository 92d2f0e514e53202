//! Java `HashMap.toString()` as Elastic's CloudTrail pipeline applies it to `requestParameters`,
//! `responseElements`, `additionalEventData` and `serviceEventDetails` (elastic-semantics.md §4,
//! "The string form"; executable model: `shared/tools/java_map_tostring.py`).
//!
//! The pipeline's `json` processor parses the record into `java.util.HashMap`s, a painless script
//! removes empty values recursively, and a second script calls `toString()`. So the string is
//! `{k=v, k2=[a, b]}` with no quoting or escaping, keys in HashMap iteration order.

use serde_json::Value;
use std::fmt::Write as _;

/// True when the pipeline's `remove-nulls` script (the first one in `default.yml`) deletes `v`:
/// null, `""`, `"-"`, `"none"`, and maps and lists that are empty once their own dropped values
/// are gone. Numbers and booleans are never dropped.
pub(crate) fn is_dropped(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => matches!(s.as_str(), "" | "-" | "none"),
        Value::Object(m) => m.values().all(is_dropped),
        Value::Array(a) => a.iter().all(is_dropped),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `v.toString()` after the empty-value removal, or `None` when the removal deletes `v` itself
/// (the pipeline then sets no field).
pub fn java_map_to_string(v: &Value) -> Option<String> {
    if is_dropped(v) {
        return None;
    }
    let mut out = String::new();
    write_java(&mut out, v);
    Some(out)
}

fn write_java(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) => {
            out.push('{');
            let keys: Vec<&str> = m
                .iter()
                .filter(|(_, v)| !is_dropped(v))
                .map(|(k, _)| k.as_str())
                .collect();
            for (i, k) in hashmap_order(&keys).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                if let Some(child) = m.get(k) {
                    write_java(out, child);
                }
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().filter(|x| !is_dropped(x)).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(out, x);
            }
            out.push(']');
        }
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Number(n) => write_number(out, n),
    }
}

/// Integers print as Java `Integer`/`Long` do (the digits); other numbers were parsed by Jackson
/// as `Double`. (An integer beyond the 64-bit range is a `BigInteger` in Java but an `f64` in
/// serde_json, so it would print in scientific form here: CloudTrail has none.)
fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&java_double_to_string(f));
    }
}

/// Java `Double.toString` (JDK 19+, which prints the shortest decimal that round-trips, as Rust
/// does): plain notation for 10⁻³ ≤ |x| < 10⁷, otherwise `d.dddE±n`; always one digit after the
/// point at least.
pub(crate) fn java_double_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let mut s = format!("{x}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        s
    } else {
        // Rust's `{:e}` gives the shortest digits as `1.688560107857e9` or `1e10`.
        let s = format!("{x:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
        let mut out = String::with_capacity(s.len() + 3);
        out.push_str(mant);
        if !mant.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
        out
    }
}

/// An upper bound of the UTF-16 length of `toString()` of `v` (byte lengths bound UTF-16
/// lengths; a number prints in at most 26 characters), so the pipeline's "shorter than 32,766"
/// test for the flattened copy can usually be decided without building the string.
pub(crate) fn java_len_upper_bound(v: &Value) -> usize {
    match v {
        Value::Object(m) => {
            2 + m
                .iter()
                .map(|(k, x)| k.len() + 3 + java_len_upper_bound(x))
                .sum::<usize>()
        }
        Value::Array(a) => 2 + a.iter().map(|x| 2 + java_len_upper_bound(x)).sum::<usize>(),
        Value::String(s) => s.len(),
        Value::Number(_) => 26,
        Value::Bool(_) | Value::Null => 5,
    }
}

/// Java `String.length()`: UTF-16 code units (what `ignore_above` and the painless length test
/// count).
pub(crate) fn java_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Java `String.hashCode` over UTF-16 code units.
fn java_string_hash(s: &str) -> u32 {
    s.encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)))
}

/// The keys in `java.util.HashMap` iteration order, given in insertion order: the table has 16
/// buckets, doubled while `len > 0.75 × buckets`; a key's bucket is
/// `(h ^ (h >>> 16)) & (buckets - 1)`; iteration goes by ascending bucket and, inside a bucket, by
/// insertion order (resizing splits buckets preserving relative order). Treeified buckets (8+
/// colliding keys in a table of 64+) are not modelled, as in the reference model.
pub(crate) fn hashmap_order<'k>(keys: &[&'k str]) -> Vec<&'k str> {
    let mut cap: usize = 16;
    while keys.len() * 4 > cap * 3 {
        cap *= 2;
    }
    let mask = (cap - 1) as u32;
    let mut keyed: Vec<(u32, usize, &'k str)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let h = java_string_hash(k);
            ((h ^ (h >> 16)) & mask, i, *k)
        })
        .collect();
    // Sort by (bucket, insertion index): stable and total.
    keyed.sort_unstable_by_key(|&(b, i, _)| (b, i));
    keyed.into_iter().map(|(_, _, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_hash_matches_known_values() {
        // "hello".hashCode() == 99162322 in Java; "" is 0.
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash(""), 0);
        // Non-BMP characters hash as two surrogate code units.
        assert_eq!(
            java_string_hash("😀"),
            0xD83Du32.wrapping_mul(31).wrapping_add(0xDE00)
        );
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double_to_string(1_688_560_107.857), "1.688560107857E9");
        assert_eq!(java_double_to_string(100.0), "100.0");
        assert_eq!(java_double_to_string(0.001), "0.001");
        assert_eq!(java_double_to_string(0.0001), "1.0E-4");
        assert_eq!(java_double_to_string(1e7), "1.0E7");
        assert_eq!(java_double_to_string(9_999_999.5), "9999999.5");
        assert_eq!(java_double_to_string(-2.5), "-2.5");
        assert_eq!(java_double_to_string(-0.0), "-0.0");
    }

    #[test]
    fn drops_empty_values_recursively() {
        let v = json!({"a": "", "b": {"c": null, "d": []}, "e": "-", "f": "none", "g": 0});
        assert_eq!(java_map_to_string(&v).as_deref(), Some("{g=0}"));
        assert_eq!(java_map_to_string(&json!({"a": {"b": ""}})), None);
        assert_eq!(java_map_to_string(&json!(null)), None);
    }

    #[test]
    fn small_map_keeps_insertion_order_within_a_bucket_order() {
        let v = json!({"roleArn": "arn:x", "roleSessionName": "s"});
        assert_eq!(
            java_map_to_string(&v).as_deref(),
            Some("{roleArn=arn:x, roleSessionName=s}")
        );
    }

    #[test]
    fn lists_and_scalars_print_without_quotes() {
        let v = json!({"items": [{"id": "i-1"}, "x", 3, true, 1.5]});
        assert_eq!(
            java_map_to_string(&v).as_deref(),
            Some("{items=[{id=i-1}, x, 3, true, 1.5]}")
        );
    }
}
