//! Testing one value against one [`Matcher`].
//!
//! Typing follows the reference KQL evaluator (detection-rules `kql/evaluator.py`,
//! `_walk_value`), which produced the conformance vectors (elastic-semantics.md §2):
//! - a string literal matches a string value by equality, an integer (or boolean, which Python
//!   treats as the integer 0/1) value through `int(literal)`, a float value by its string form;
//! - a number literal matches a number by value and a string by `str(literal)`;
//! - `true`/`false` match booleans (and the numbers 1/0), never the string "true";
//! - `null` matches nothing.
use super::number::{
    parse_py_float, parse_py_int, write_json_number, write_py_float, Num, StackStr,
};
use super::{Cidr, Literal, Matcher, RangeOp, Value};
use std::cmp::Ordering;
use std::fmt::Write;
use std::net::IpAddr;

/// Keyword values longer than this many characters are stored but not indexed, so no query
/// matches them (`ignore_above: 8191` on the AWS integration's keyword fields, §4).
pub const IGNORE_ABOVE: usize = 8191;

/// Whether Elasticsearch left `s` out of the index (`ignore_above`, counted in UTF-16 units as
/// Java's `String.length()`).
fn ignored(s: &str) -> bool {
    s.len() > IGNORE_ABOVE && s.encode_utf16().count() > IGNORE_ABOVE
}

/// Whether `value` satisfies `matcher`.
pub(crate) fn matches_value(matcher: &Matcher, value: Value<'_>) -> bool {
    if let Value::Str(s) = value {
        if ignored(s) {
            return false;
        }
    }
    match matcher {
        Matcher::Exists => !matches!(value, Value::Null),
        Matcher::Equals(lit) => equals(lit, value),
        Matcher::EqualsIgnoreCase(needle) => match value {
            Value::Str(s) => eq_ignore_case(s, needle),
            _ => false,
        },
        Matcher::Wildcard(w) => match value {
            Value::Str(s) => w.is_match(s),
            // A number or boolean in a keyword field is indexed by its string form.
            Value::Number(n) => {
                let mut buf = StackStr::<400>::new();
                write_json_number(&mut buf, n).is_ok() && w.is_match(buf.as_str())
            }
            Value::Bool(b) => w.is_match(if b { "true" } else { "false" }),
            Value::Null | Value::Object => false,
        },
        Matcher::Range { op, bound } => {
            compare(bound, value).is_some_and(|ord| range_holds(*op, ord))
        }
        Matcher::Cidr(cidr) => match value {
            Value::Str(s) => s.parse::<IpAddr>().is_ok_and(|ip| cidr.contains(ip)),
            _ => false,
        },
        Matcher::Regex(re) => super::eql_ext::regexp_matches(re, value),
    }
}

fn range_holds(op: RangeOp, ord: Ordering) -> bool {
    match op {
        RangeOp::Lt => ord == Ordering::Less,
        RangeOp::Le => ord != Ordering::Greater,
        RangeOp::Gt => ord == Ordering::Greater,
        RangeOp::Ge => ord != Ordering::Less,
    }
}

/// Compares characters after lowercasing the value; `needle` is already lowercase.
fn eq_ignore_case(value: &str, needle: &str) -> bool {
    if value.is_ascii() && needle.is_ascii() {
        return value.eq_ignore_ascii_case(needle);
    }
    let mut folded = value.chars().flat_map(char::to_lowercase);
    let mut expected = needle.chars();
    loop {
        match (folded.next(), expected.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// A value seen as a number, booleans as Python's 0/1.
fn value_num(value: Value<'_>) -> Option<Num> {
    match value {
        Value::Number(n) => Num::from_json(n),
        Value::Bool(b) => Some(Num::Int(i128::from(b))),
        _ => None,
    }
}

fn literal_num(lit: &Literal) -> Option<Num> {
    match lit {
        Literal::Int(i) => Some(Num::Int(i128::from(*i))),
        Literal::Float(f) => Some(Num::Float(*f)),
        Literal::Bool(b) => Some(Num::Int(i128::from(*b))),
        Literal::Str(_) | Literal::Null => None,
    }
}

/// Python's `str()` of a non-string literal, into a stack buffer.
fn write_literal(buf: &mut StackStr<400>, lit: &Literal) -> bool {
    match lit {
        Literal::Int(i) => write!(buf, "{i}").is_ok(),
        Literal::Float(f) => write_py_float(buf, *f).is_ok(),
        Literal::Bool(b) => buf.write_str(if *b { "True" } else { "False" }).is_ok(),
        Literal::Str(s) => buf.write_str(s).is_ok(),
        Literal::Null => false,
    }
}

/// A string literal converted to the type of a numeric value (`int(s)` for ints and booleans;
/// for floats the string form of the value is compared instead, see [`equals`]).
fn str_as_num(s: &str, value: Num) -> Option<Num> {
    match value {
        Num::Int(_) => parse_py_int(s).map(Num::Int),
        Num::Float(_) => parse_py_float(s).map(Num::Float),
    }
}

fn equals(lit: &Literal, value: Value<'_>) -> bool {
    match (lit, value) {
        (Literal::Null, _) | (_, Value::Null | Value::Object) => false,
        (Literal::Str(s), Value::Str(v)) => s == v,
        (Literal::Str(s), Value::Number(n)) => match Num::from_json(n) {
            Some(num @ Num::Int(_)) => str_as_num(s, num) == Some(num),
            Some(Num::Float(_)) | None => {
                let mut buf = StackStr::<400>::new();
                write_json_number(&mut buf, n).is_ok() && buf.as_str() == s
            }
        },
        (Literal::Str(s), Value::Bool(b)) => parse_py_int(s) == Some(i128::from(b)),
        (_, Value::Str(v)) => {
            let mut buf = StackStr::<400>::new();
            write_literal(&mut buf, lit) && buf.as_str() == v
        }
        (_, value) => match (literal_num(lit), value_num(value)) {
            (Some(a), Some(b)) => a.compare(b) == Some(Ordering::Equal),
            _ => false,
        },
    }
}

/// How `value` orders against the bound, with the reference's conversions: a string value
/// against a number bound compares strings (`str(bound)`), a numeric value against a string
/// bound converts the bound to a number.
fn compare(bound: &Literal, value: Value<'_>) -> Option<Ordering> {
    match (bound, value) {
        (Literal::Null, _) | (_, Value::Null | Value::Object) => None,
        (_, Value::Str(v)) => {
            let mut buf = StackStr::<400>::new();
            write_literal(&mut buf, bound).then(|| v.cmp(buf.as_str()))
        }
        (Literal::Str(s), value) => {
            let num = value_num(value)?;
            num.compare(str_as_num(s, num)?)
        }
        (_, value) => value_num(value)?.compare(literal_num(bound)?),
    }
}

impl Cidr {
    /// Whether `ip` is inside this network (an IPv4 address is never inside an IPv6 network and
    /// the other way round, as in Python's `ipaddress`).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix_len,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix_len)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix_len: u8) -> bool {
    match prefix_len {
        0 => true,
        n if n >= 128 => a == b,
        n => (a ^ b) >> (128 - u32::from(n)) == 0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use serde_json::Number;

    fn num(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn typed_equality_follows_the_reference() {
        let n216025 = num("216025");
        let n5 = num("5");
        let f15 = num("1.5");
        let s = |x: &str| Literal::Str(x.to_string());
        let cases: Vec<(Literal, Value<'_>, bool)> = vec![
            (Literal::Int(216025), Value::Str("216025"), true),
            (Literal::Int(216025), Value::Number(&n216025), true),
            (Literal::Int(216025), Value::Str("216025.0"), false),
            (s("216025"), Value::Number(&n216025), true),
            (s("0216025"), Value::Number(&n216025), true),
            (s("x"), Value::Number(&n5), false),
            (s("1.5"), Value::Number(&f15), true),
            (Literal::Float(1.5), Value::Number(&f15), true),
            (Literal::Float(5.0), Value::Number(&n5), true),
            (Literal::Float(5.0), Value::Str("5.0"), true),
            (Literal::Float(5.0), Value::Str("5"), false),
            (Literal::Bool(true), Value::Bool(true), true),
            (Literal::Bool(true), Value::Str("true"), false),
            (Literal::Bool(false), Value::Bool(true), false),
            (s("true"), Value::Bool(true), false),
            (Literal::Null, Value::Null, false),
            (s("a"), Value::Object, false),
            (s("a"), Value::Str("A"), false),
        ];
        for (lit, value, want) in cases {
            assert_eq!(equals(&lit, value), want, "{lit:?} vs {value:?}");
        }
    }

    #[test]
    fn ranges_compare_like_the_reference() {
        let n400 = num("400");
        let m = |op, bound| Matcher::Range { op, bound };
        assert!(matches_value(
            &m(RangeOp::Ge, Literal::Int(400)),
            Value::Number(&n400)
        ));
        assert!(!matches_value(
            &m(RangeOp::Gt, Literal::Int(400)),
            Value::Number(&n400)
        ));
        // A string value compares as a string with str(bound): "5" > "400".
        assert!(matches_value(
            &m(RangeOp::Gt, Literal::Int(400)),
            Value::Str("5")
        ));
        assert!(matches_value(
            &m(RangeOp::Ge, Literal::Int(400)),
            Value::Str("400.0")
        ));
        assert!(matches_value(
            &m(RangeOp::Lt, Literal::Str("500".into())),
            Value::Number(&n400)
        ));
        assert!(!matches_value(
            &m(RangeOp::Lt, Literal::Str("x".into())),
            Value::Number(&n400)
        ));
        assert!(!matches_value(
            &m(RangeOp::Lt, Literal::Null),
            Value::Number(&n400)
        ));
    }

    #[test]
    fn exists_and_ignore_above() {
        assert!(matches_value(&Matcher::Exists, Value::Str("")));
        assert!(!matches_value(&Matcher::Exists, Value::Null));
        let long = "a".repeat(IGNORE_ABOVE + 1);
        let fits = "a".repeat(IGNORE_ABOVE);
        assert!(!matches_value(
            &Matcher::Equals(Literal::Str(long.clone())),
            Value::Str(&long)
        ));
        assert!(matches_value(
            &Matcher::Equals(Literal::Str(fits.clone())),
            Value::Str(&fits)
        ));
    }

    #[test]
    fn cidr_and_ignore_case() {
        let cidr = Cidr {
            addr: "10.0.0.0".parse().unwrap(),
            prefix_len: 8,
        };
        assert!(matches_value(&Matcher::Cidr(cidr), Value::Str("10.1.2.3")));
        assert!(!matches_value(&Matcher::Cidr(cidr), Value::Str("11.0.0.0")));
        assert!(!matches_value(
            &Matcher::Cidr(cidr),
            Value::Str("::ffff:10.0.0.1")
        ));
        let v6 = Cidr {
            addr: "2001:db8::".parse().unwrap(),
            prefix_len: 32,
        };
        assert!(matches_value(&Matcher::Cidr(v6), Value::Str("2001:db8::1")));
        assert!(matches_value(
            &Matcher::EqualsIgnoreCase("abc".into()),
            Value::Str("AbC")
        ));
        assert!(matches_value(
            &Matcher::EqualsIgnoreCase("é".into()),
            Value::Str("É")
        ));
        assert!(!matches_value(
            &Matcher::EqualsIgnoreCase("ab".into()),
            Value::Str("abc")
        ));
    }
}
