//! Numbers as the KQL reference evaluator sees them.
//!
//! The reference (detection-rules `kql/evaluator.py`, `_walk_value`) compares a string with a
//! number by converting one side: a number literal is compared with a string value through
//! Python's `str()` of the literal, and a string literal with an integer value through Python's
//! `int()` of the literal. These helpers reproduce both conversions without heap allocation.
use std::cmp::Ordering;
use std::fmt::Write;

/// A number with Python's exact int/float comparison semantics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    pub(crate) fn from_json(n: &serde_json::Number) -> Option<Num> {
        if let Some(i) = n.as_i64() {
            Some(Num::Int(i128::from(i)))
        } else if let Some(u) = n.as_u64() {
            Some(Num::Int(i128::from(u)))
        } else {
            n.as_f64().map(Num::Float)
        }
    }

    /// Python's ordering between ints and floats: exact, never through a lossy conversion.
    pub(crate) fn compare(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
            (Num::Int(a), Num::Float(b)) => int_float_cmp(a, b),
            (Num::Float(a), Num::Int(b)) => int_float_cmp(b, a).map(Ordering::reverse),
        }
    }
}

fn int_float_cmp(a: i128, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    // |b| below 2^100 fits an i128 after truncation; beyond, the sign alone decides.
    if b.abs() >= 1.0e30 {
        return Some(if b > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let whole = b.trunc();
    // Truncation is exact and in range here.
    #[allow(clippy::cast_possible_truncation)]
    let whole_int = whole as i128;
    Some(a.cmp(&whole_int).then(if b > whole {
        Ordering::Less
    } else if b < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    }))
}

/// Python's `int(text)`: surrounding whitespace, an optional sign, decimal digits with single
/// underscores between them.
pub(crate) fn parse_py_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    let mut value: i128 = 0;
    let mut prev_underscore = false;
    for b in digits.bytes() {
        if b == b'_' {
            if prev_underscore {
                return None;
            }
            prev_underscore = true;
            continue;
        }
        prev_underscore = false;
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    Some(if neg { -value } else { value })
}

/// Python's `float(text)` for the forms KQL values can take (`1.5`, `1e3`, `.5`, `inf`, `nan`,
/// underscores between digits).
pub(crate) fn parse_py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.contains('_') {
        let bytes = t.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'_' {
                let before = i.checked_sub(1).and_then(|j| bytes.get(j));
                let after = bytes.get(i + 1);
                if !(before.is_some_and(u8::is_ascii_digit)
                    && after.is_some_and(u8::is_ascii_digit))
                {
                    return None;
                }
            }
        }
        let mut buf = StackStr::<64>::new();
        for c in t.chars().filter(|c| *c != '_') {
            buf.write_char(c).ok()?;
        }
        return buf.as_str().parse().ok();
    }
    t.parse().ok()
}

/// A fixed-capacity string on the stack, for number formatting without allocation.
pub(crate) struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    pub(crate) fn new() -> Self {
        StackStr {
            buf: [0; N],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so the bytes are valid UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > N {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes Python's `repr(float)` (the shortest round-tripping digits; fixed notation when the
/// decimal exponent is in -4..16, else `1e+16` style).
pub(crate) fn write_py_float(out: &mut impl Write, f: f64) -> std::fmt::Result {
    if f.is_nan() {
        return out.write_str("nan");
    }
    if f.is_infinite() {
        return out.write_str(if f > 0.0 { "inf" } else { "-inf" });
    }
    let mut sci = StackStr::<64>::new();
    write!(sci, "{f:e}")?;
    let (mantissa, exp) = sci.as_str().split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let mut fixed = StackStr::<400>::new();
        write!(fixed, "{f}")?;
        out.write_str(fixed.as_str())?;
        if !fixed.as_str().contains('.') {
            out.write_str(".0")?;
        }
        Ok(())
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        write!(out, "{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// Python's `str()` of a number from a document (int or float).
pub(crate) fn write_json_number(out: &mut impl Write, n: &serde_json::Number) -> std::fmt::Result {
    match Num::from_json(n) {
        Some(Num::Int(i)) => write!(out, "{i}"),
        Some(Num::Float(f)) => write_py_float(out, f),
        None => write!(out, "{n}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn py_float(f: f64) -> String {
        let mut s = String::new();
        write_py_float(&mut s, f).unwrap();
        s
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (f, want) in [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.25e-7, "1.25e-07"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
            (0.1, "0.1"),
        ] {
            assert_eq!(py_float(f), want, "{f}");
        }
    }

    #[test]
    fn ints_parse_like_python_int() {
        assert_eq!(parse_py_int("216025"), Some(216025));
        assert_eq!(parse_py_int("+5"), Some(5));
        assert_eq!(parse_py_int("-05"), Some(-5));
        assert_eq!(parse_py_int("1_000"), Some(1000));
        assert_eq!(parse_py_int("1__0"), None);
        assert_eq!(parse_py_int("_1"), None);
        assert_eq!(parse_py_int("1.0"), None);
        assert_eq!(parse_py_int(""), None);
        assert_eq!(parse_py_int("true"), None);
    }

    #[test]
    fn floats_parse_like_python_float() {
        assert_eq!(parse_py_float("1e3"), Some(1000.0));
        assert_eq!(parse_py_float(".5"), Some(0.5));
        assert_eq!(parse_py_float("1_0.5"), Some(10.5));
        assert_eq!(parse_py_float("1_.5"), None);
        assert!(parse_py_float("inf").is_some_and(f64::is_infinite));
        assert_eq!(parse_py_float("abc"), None);
    }

    #[test]
    fn int_float_comparison_is_exact() {
        assert_eq!(Num::Int(5).compare(Num::Float(5.0)), Some(Ordering::Equal));
        assert_eq!(Num::Int(5).compare(Num::Float(5.5)), Some(Ordering::Less));
        assert_eq!(
            Num::Int(-5).compare(Num::Float(-5.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            Num::Int((1 << 53) + 1).compare(Num::Float(9007199254740992.0)),
            Some(Ordering::Greater)
        );
        assert_eq!(Num::Float(f64::NAN).compare(Num::Int(1)), None);
        assert_eq!(
            Num::Float(1e40).compare(Num::Int(1)),
            Some(Ordering::Greater)
        );
    }
}
