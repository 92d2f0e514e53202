//! Parsing a record nested deeper than serde_json's recursion limit, without recursion.
//!
//! serde_json refuses more than [`MAX_DEPTH`] nested containers ("recursion limit exceeded"), and
//! an attacker controls nested request fields: such a record must still reach the rules, as it
//! does in Elasticsearch. This parser keeps its own stack on the heap (one bit per level beyond
//! the built tree, so memory stays bounded by the record, itself capped by
//! [`super::MAX_RECORD_BYTES`]). The tree it builds is no deeper than what serde_json builds:
//! a container that would open level `MAX_DEPTH + 1` is kept as its raw JSON text (a string),
//! so every later walk of the tree (ECS view, Java map string, redaction, renderers, `Drop`,
//! `Clone`), all recursive, sees no more depth than on a record serde_json accepts.
//! Scalars (strings with their escapes, numbers) are decoded by serde_json itself, so their
//! values are exactly serde_json's.
use serde_json::{Map, Value};

/// Container levels in the built tree: serde_json's limit (it accepts 127 nested levels and
/// fails on the 128th).
pub(super) const MAX_DEPTH: usize = 127;

/// True when serde_json gave up on `e` only because of its recursion limit.
pub(super) fn is_recursion_limit(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

/// A stack of container kinds, one bit per level (true: object).
#[derive(Default)]
struct Kinds {
    words: Vec<u64>,
    len: usize,
}

impl Kinds {
    fn push(&mut self, object: bool) {
        let (word, bit) = (self.len / 64, self.len % 64);
        if word == self.words.len() {
            self.words.push(0);
        }
        if object {
            self.words[word] |= 1 << bit;
        } else {
            self.words[word] &= !(1 << bit);
        }
        self.len += 1;
    }

    /// The kind on top (None when empty).
    fn top(&self) -> Option<bool> {
        let i = self.len.checked_sub(1)?;
        Some(self.words[i / 64] & (1 << (i % 64)) != 0)
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
        if self.words.len() > self.len / 64 + 1 {
            self.words.truncate(self.len / 64 + 1);
        }
    }
}

/// A container of the built tree being filled.
enum Frame {
    Array(Vec<Value>),
    /// The map and the key whose value comes next.
    Object(Map<String, Value>, Option<String>),
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    kinds: Kinds,
    frames: Vec<Frame>,
    /// Where the outermost container kept as raw text starts (levels beyond [`MAX_DEPTH`]).
    raw_start: Option<usize>,
}

/// Parses `bytes` (one JSON value) without recursion; see the module documentation.
pub(super) fn parse(bytes: &[u8]) -> Result<Value, String> {
    let mut p = Parser {
        b: bytes,
        i: 0,
        kinds: Kinds::default(),
        frames: Vec::new(),
        raw_start: None,
    };
    let result = p.run();
    // The frames left by an error hold at most MAX_DEPTH levels: dropping them is safe.
    result.map_err(|reason| format!("{reason} at byte {}", p.i))
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Result<u8, String> {
        self.skip_ws();
        self.b
            .get(self.i)
            .copied()
            .ok_or_else(|| "EOF while parsing a value".to_string())
    }

    /// True while the parser is inside a container kept as raw text.
    fn in_raw(&self) -> bool {
        self.raw_start.is_some()
    }

    fn run(&mut self) -> Result<Value, String> {
        loop {
            // A value starts here.
            let value = match self.peek()? {
                open @ (b'{' | b'[') => {
                    let object = open == b'{';
                    if !self.in_raw() && self.frames.len() == MAX_DEPTH {
                        self.raw_start = Some(self.i);
                    }
                    self.kinds.push(object);
                    if !self.in_raw() {
                        self.frames.push(if object {
                            Frame::Object(Map::new(), None)
                        } else {
                            Frame::Array(Vec::new())
                        });
                    }
                    self.i += 1;
                    let close = if object { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.close()?
                    } else {
                        if object {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    let s = self.string()?;
                    (!self.in_raw()).then_some(Value::String(s))
                }
                _ => {
                    let v = self.scalar()?;
                    (!self.in_raw()).then_some(v)
                }
            };
            let mut value = value;
            // After a value: attach it, then a separator or the end of its container(s).
            loop {
                if let Some(v) = value.take() {
                    match self.frames.last_mut() {
                        None => {
                            self.skip_ws();
                            if self.i != self.b.len() {
                                return Err("trailing characters".into());
                            }
                            return Ok(v);
                        }
                        Some(Frame::Array(items)) => items.push(v),
                        Some(Frame::Object(map, key)) => {
                            if let Some(k) = key.take() {
                                map.insert(k, v);
                            }
                        }
                    }
                }
                let Some(object) = self.kinds.top() else {
                    return Err("a value outside any container".into());
                };
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if object {
                            self.key()?;
                        }
                        break;
                    }
                    b'}' if object => value = self.close()?,
                    b']' if !object => value = self.close()?,
                    _ => return Err("expected `,` or the end of the container".into()),
                }
            }
        }
    }

    /// Consumes the closing bracket of the innermost container; returns its value when it is
    /// part of the built tree (a container kept as raw text is returned as that text).
    fn close(&mut self) -> Result<Option<Value>, String> {
        self.i += 1;
        self.kinds.pop();
        match self.raw_start {
            Some(start) if self.kinds.len == self.frames.len() => {
                self.raw_start = None;
                let raw = std::str::from_utf8(&self.b[start..self.i])
                    .map_err(|_| "invalid UTF-8".to_string())?;
                Ok(Some(Value::String(raw.to_owned())))
            }
            Some(_) => Ok(None),
            None => match self.frames.pop() {
                Some(Frame::Array(items)) => Ok(Some(Value::Array(items))),
                Some(Frame::Object(map, _)) => Ok(Some(Value::Object(map))),
                None => Err("unbalanced container".into()),
            },
        }
    }

    /// An object key and its colon; remembered for the next value in the built tree.
    fn key(&mut self) -> Result<(), String> {
        if self.peek()? != b'"' {
            return Err("expected an object key".into());
        }
        let k = self.string()?;
        if self.peek()? != b':' {
            return Err("expected `:`".into());
        }
        self.i += 1;
        if !self.in_raw() {
            if let Some(Frame::Object(_, key)) = self.frames.last_mut() {
                *key = Some(k);
            }
        }
        Ok(())
    }

    /// The string starting at the current `"`, decoded by serde_json.
    fn string(&mut self) -> Result<String, String> {
        let start = self.i;
        let mut i = start + 1;
        loop {
            match memchr::memchr2(b'"', b'\\', self.b.get(i..).unwrap_or_default()) {
                None => return Err("EOF while parsing a string".into()),
                Some(p) if self.b[i + p] == b'\\' => i += p + 2,
                Some(p) => {
                    i += p + 1;
                    break;
                }
            }
        }
        let token = self.b.get(start..i).ok_or("EOF while parsing a string")?;
        self.i = i;
        serde_json::from_slice(token).map_err(|e| e.to_string())
    }

    /// A number, `true`, `false` or `null`, decoded by serde_json.
    fn scalar(&mut self) -> Result<Value, String> {
        let start = self.i;
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.i += 1;
        }
        let v: Value = serde_json::from_slice(&self.b[start..self.i]).map_err(|e| e.to_string())?;
        if v.is_array() || v.is_object() || v.is_string() {
            return Err("expected a value".into());
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(v: &Value) -> usize {
        let mut d = 0;
        let mut cur = v;
        loop {
            match cur {
                Value::Array(a) if !a.is_empty() => cur = &a[0],
                Value::Object(m) if !m.is_empty() => cur = m.values().next().unwrap_or(cur),
                Value::Array(_) | Value::Object(_) => return d + 1,
                _ => return d,
            }
            d += 1;
        }
    }

    #[test]
    fn agrees_with_serde_json_on_shallow_values() {
        for text in [
            r#"{"a":[1,-2.5e3,"x\u00e9\n",true,false,null,{}],"b":{"c":[]},"a":0}"#,
            r#"  [ 1 , { "k" : "v" } ]  "#,
            r#""\ud83d\ude00""#,
            "18446744073709551615",
        ] {
            let want: Value = serde_json::from_str(text).unwrap();
            let got = parse(text.as_bytes()).unwrap();
            assert_eq!(got.to_string(), want.to_string(), "{text}");
        }
    }

    #[test]
    fn agrees_with_serde_json_on_the_demo_records_and_fixtures() {
        // Every JSON file the project ships (demo trail objects, Lambda events, rule fixtures).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("events"), root.join("tests/fixtures")];
        let mut checked = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let bytes = std::fs::read(&path).unwrap();
                    let want: Value = serde_json::from_slice(&bytes).unwrap();
                    // As text: map equality ignores key order, which the Java map string needs.
                    let got = parse(&bytes).unwrap().to_string();
                    assert_eq!(got, want.to_string(), "{}", path.display());
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "{checked} files");
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for text in [
            "{",
            "[1,]",
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            "[1] x",
            r#"{"a":1,}"#,
            "[}",
            r#"{1:2}"#,
            r#"["a]"#,
            "",
            "[01]",
        ] {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
            assert!(parse(text.as_bytes()).is_err(), "{text}");
        }
    }

    #[test]
    fn levels_beyond_the_limit_are_kept_as_raw_text() {
        let n = 1_000;
        let text = format!(r#"{{"k":{}7{}}}"#, "[".repeat(n), "]".repeat(n));
        let v = parse(text.as_bytes()).unwrap();
        assert_eq!(depth(&v), MAX_DEPTH);
        let mut leaf = &v["k"];
        while let Value::Array(a) = leaf {
            leaf = &a[0];
        }
        let raw = leaf.as_str().unwrap();
        let kept = n + 1 - MAX_DEPTH;
        assert_eq!(raw, format!("{}7{}", "[".repeat(kept), "]".repeat(kept)));
    }

    #[test]
    fn a_deep_damaged_value_is_an_error_not_an_overflow() {
        let n = 1_000_000;
        let text = format!("[{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(text.as_bytes()).unwrap_err().starts_with("EOF"));
        let text = format!("{}{}", "[".repeat(n), "}".repeat(n));
        assert!(parse(text.as_bytes()).is_err());
    }
}
