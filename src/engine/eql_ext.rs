//! IR pieces only EQL needs: Lucene regular expressions (EQL `regex` / `regex~`) and the
//! field-against-field `stringContains` that Elasticsearch runs as a script.
//!
//! # Regular expressions
//! Elasticsearch translates EQL `f regex "p"` into a `regexp` query (QueryTranslator →
//! ExpressionTranslators.Likes → `RegexQuery`, default flags = `RegexpFlag.ALL`,
//! `case_insensitive` for `regex~`). That is Lucene's `RegExp` syntax, not PCRE: the pattern is
//! anchored at both ends; `.` any character; `[...]`, `[^...]` with ranges; `* + ? {n} {n,} {n,m}`
//! (which may be stacked: `.*?` is `(.*)?`, not a lazy star); `|`; `(...)`, `()` the empty string;
//! `"..."` a literal string; `\c` the literal `c`; `@` any string; `#` the empty language. `^` and
//! `$` are ordinary characters. Case-insensitivity (Lucene 9 `ASCII_CASE_INSENSITIVE`) folds only
//! ASCII letters written as single characters or in `"..."`, never ranges.
//! The operators we do not implement — `~` (complement), `&` (intersection), `<n-m>` (numeric
//! interval), `<name>`, and the `\d \s \w` shorthands — are reported as unsupported instead of
//! being read some other way.
use super::{Document, Value, IGNORE_ABOVE};

/// Why a Lucene regular expression was not compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexpError {
    #[error("invalid regular expression at character {offset}: {message}")]
    Syntax { message: String, offset: usize },
    #[error("regular expression uses {0}, which is not implemented")]
    Unsupported(String),
}

/// A compiled Lucene regular expression (Elasticsearch `regexp` query semantics).
#[derive(Debug, Clone, PartialEq)]
pub struct Regexp {
    /// The pattern as written.
    pub pattern: String,
    pub case_insensitive: bool,
    prog: Vec<Inst>,
}

#[derive(Debug, Clone, PartialEq)]
enum Inst {
    /// One character in (or, when negated, outside) the inclusive ranges.
    Set {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Any,
    Split(usize, usize),
    Jmp(usize),
    Match,
    Fail,
}

#[derive(Debug, Clone)]
enum Re {
    Empty,
    Nothing,
    AnyChar,
    AnyString,
    Set {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Concat(Vec<Re>),
    Alt(Box<Re>, Box<Re>),
    Repeat(Box<Re>, u32, Option<u32>),
}

/// Larger programs (from big `{n,m}` counts) are refused rather than risk slow matching.
const MAX_PROGRAM: usize = 50_000;

impl Regexp {
    pub fn new(pattern: &str, case_insensitive: bool) -> Result<Self, RegexpError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut p = ReParser {
            s: &chars,
            i: 0,
            ci: case_insensitive,
        };
        let re = if chars.is_empty() {
            Re::Empty
        } else {
            let re = p.union()?;
            if p.i < chars.len() {
                return Err(p.err("unexpected character"));
            }
            re
        };
        let mut prog = Vec::new();
        emit(&re, &mut prog)?;
        prog.push(Inst::Match);
        Ok(Self {
            pattern: pattern.to_owned(),
            case_insensitive,
            prog,
        })
    }

    /// Whether the whole of `s` matches (Lucene regexps are anchored).
    pub fn is_match(&self, s: &str) -> bool {
        let n = self.prog.len();
        let mut current = Vec::with_capacity(n);
        let mut next = Vec::with_capacity(n);
        let mut seen = vec![usize::MAX; n];
        self.add(&mut current, &mut seen, 0, 0);
        for (step, c) in s.chars().enumerate() {
            if current.is_empty() {
                return false;
            }
            next.clear();
            for &pc in &current {
                let hit = match &self.prog[pc] {
                    Inst::Set { ranges, negated } => {
                        ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
                    }
                    Inst::Any => true,
                    _ => false,
                };
                if hit {
                    self.add(&mut next, &mut seen, pc + 1, step + 1);
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        current.iter().any(|&pc| self.prog[pc] == Inst::Match)
    }

    /// Adds `pc` and everything reachable from it without reading a character.
    fn add(&self, list: &mut Vec<usize>, seen: &mut [usize], pc: usize, step: usize) {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == step {
                continue;
            }
            seen[pc] = step;
            match self.prog[pc] {
                Inst::Jmp(t) => stack.push(t),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Inst::Fail => {}
                _ => list.push(pc),
            }
        }
    }
}

fn emit(re: &Re, prog: &mut Vec<Inst>) -> Result<(), RegexpError> {
    if prog.len() > MAX_PROGRAM {
        return Err(RegexpError::Unsupported(
            "repetition counts too large to compile".into(),
        ));
    }
    match re {
        Re::Empty => {}
        Re::Nothing => prog.push(Inst::Fail),
        Re::AnyChar => prog.push(Inst::Any),
        Re::Set { ranges, negated } => prog.push(Inst::Set {
            ranges: ranges.clone(),
            negated: *negated,
        }),
        Re::AnyString => star(&Re::AnyChar, prog)?,
        Re::Concat(parts) => {
            for p in parts {
                emit(p, prog)?;
            }
        }
        Re::Alt(a, b) => {
            let split = prog.len();
            prog.push(Inst::Fail);
            emit(a, prog)?;
            let jmp = prog.len();
            prog.push(Inst::Fail);
            let b_start = prog.len();
            emit(b, prog)?;
            prog[split] = Inst::Split(split + 1, b_start);
            prog[jmp] = Inst::Jmp(prog.len());
        }
        Re::Repeat(inner, min, max) => {
            for _ in 0..*min {
                emit(inner, prog)?;
            }
            match max {
                None => star(inner, prog)?,
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(prog.len());
                        prog.push(Inst::Fail);
                        emit(inner, prog)?;
                    }
                    let end = prog.len();
                    for s in splits {
                        prog[s] = Inst::Split(s + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

fn star(inner: &Re, prog: &mut Vec<Inst>) -> Result<(), RegexpError> {
    let split = prog.len();
    prog.push(Inst::Fail);
    emit(inner, prog)?;
    prog.push(Inst::Jmp(split));
    prog[split] = Inst::Split(split + 1, prog.len());
    Ok(())
}

struct ReParser<'a> {
    s: &'a [char],
    i: usize,
    ci: bool,
}

impl ReParser<'_> {
    fn err(&self, message: &str) -> RegexpError {
        RegexpError::Syntax {
            message: message.into(),
            offset: self.i,
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn next(&mut self) -> Result<char, RegexpError> {
        let c = self
            .peek()
            .ok_or_else(|| self.err("unexpected end of pattern"))?;
        self.i += 1;
        Ok(c)
    }

    fn union(&mut self) -> Result<Re, RegexpError> {
        let left = self.concat()?;
        if self.eat('|') {
            let right = self.union()?;
            return Ok(Re::Alt(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn concat(&mut self) -> Result<Re, RegexpError> {
        let mut parts = vec![self.repeat()?];
        while let Some(c) = self.peek() {
            match c {
                ')' | '|' => break,
                '&' => return Err(RegexpError::Unsupported("`&` (intersection)".into())),
                _ => parts.push(self.repeat()?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Re::Concat(parts)
        })
    }

    fn repeat(&mut self) -> Result<Re, RegexpError> {
        let mut e = self.class_or_simple()?;
        loop {
            let (min, max) = match self.peek() {
                Some('?') => (0, Some(1)),
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('{') => {
                    self.i += 1;
                    let min = self.count()?;
                    let max = if self.eat(',') {
                        if self.peek() == Some('}') {
                            None
                        } else {
                            Some(self.count()?)
                        }
                    } else {
                        Some(min)
                    };
                    if self.peek() != Some('}') {
                        return Err(self.err("expected '}'"));
                    }
                    (min, max)
                }
                _ => return Ok(e),
            };
            self.i += 1;
            e = if max.is_some_and(|m| m < min) {
                // Lucene's Operations.repeat(a, min, max) gives the empty language.
                Re::Nothing
            } else {
                Re::Repeat(Box::new(e), min, max)
            };
        }
    }

    fn count(&mut self) -> Result<u32, RegexpError> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits: String = self.s[start..self.i].iter().collect();
        digits.parse().map_err(|_| self.err("integer expected"))
    }

    fn class_or_simple(&mut self) -> Result<Re, RegexpError> {
        if self.peek() == Some('~') {
            return Err(RegexpError::Unsupported("`~` (complement)".into()));
        }
        if !self.eat('[') {
            return self.simple();
        }
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        loop {
            let lo = self.char_exp()?;
            if self.eat('-') {
                let hi = self.char_exp()?;
                if hi < lo {
                    return Err(self.err("invalid character range"));
                }
                ranges.push((lo, hi));
            } else {
                ranges.extend(self.fold(lo));
            }
            match self.peek() {
                Some(']') => break,
                None => return Err(self.err("expected ']'")),
                Some(_) => {}
            }
        }
        self.i += 1;
        Ok(Re::Set { ranges, negated })
    }

    fn simple(&mut self) -> Result<Re, RegexpError> {
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of pattern"));
        };
        match c {
            '.' => {
                self.i += 1;
                Ok(Re::AnyChar)
            }
            '#' => {
                self.i += 1;
                Ok(Re::Nothing)
            }
            '@' => {
                self.i += 1;
                Ok(Re::AnyString)
            }
            '<' => Err(RegexpError::Unsupported(
                "`<...>` (numeric interval or named automaton)".into(),
            )),
            '"' => {
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(|c| c != '"') {
                    self.i += 1;
                }
                if !self.eat('"') {
                    return Err(self.err("expected '\"'"));
                }
                let parts = self.s[start..self.i - 1]
                    .iter()
                    .map(|&c| Re::Set {
                        ranges: self.fold(c),
                        negated: false,
                    })
                    .collect();
                Ok(Re::Concat(parts))
            }
            '(' => {
                self.i += 1;
                if self.eat(')') {
                    return Ok(Re::Empty);
                }
                let e = self.union()?;
                if !self.eat(')') {
                    return Err(self.err("expected ')'"));
                }
                Ok(e)
            }
            _ => {
                let c = self.char_exp()?;
                Ok(Re::Set {
                    ranges: self.fold(c),
                    negated: false,
                })
            }
        }
    }

    fn char_exp(&mut self) -> Result<char, RegexpError> {
        if self.eat('\\') {
            let c = self.next()?;
            if "dDsSwW".contains(c) {
                return Err(RegexpError::Unsupported(format!(
                    "the `\\{c}` character class"
                )));
            }
            return Ok(c);
        }
        self.next()
    }

    /// The character and, when case-insensitive, its other ASCII case.
    fn fold(&self, c: char) -> Vec<(char, char)> {
        let mut v = vec![(c, c)];
        if self.ci && c.is_ascii_alphabetic() {
            let other = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            v.push((other, other));
        }
        v
    }
}

/// The string a keyword field indexes for a value (strings, numbers, booleans).
/// Strings over `ignore_above` are not indexed and have no doc values, so neither a query nor a
/// script sees them (elastic-semantics.md §4).
fn keyword_text<'v>(v: &Value<'v>) -> Option<std::borrow::Cow<'v, str>> {
    match *v {
        Value::Str(s) if s.len() > IGNORE_ABOVE && s.encode_utf16().count() > IGNORE_ABOVE => None,
        Value::Str(s) => Some(s.into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if b { "true" } else { "false" }.into()),
        Value::Null | Value::Object => None,
    }
}

/// [`super::Matcher::Regex`] on one value.
pub(super) fn regexp_matches(re: &Regexp, value: Value<'_>) -> bool {
    keyword_text(&value).is_some_and(|s| re.is_match(&s))
}

/// [`super::Expr::FieldContainsField`]: some value of `path` contains some value of
/// `needle_path` as a plain substring (no wildcards).
///
/// Elasticsearch cannot turn `stringContains(field, other_field)` into a query; it runs the
/// Painless script `multiValueDocValues(doc, f, X0 -> multiValueDocValues(doc, g, X1 ->
/// stringContains(X0, X1, ci)))` (eql QueryTranslator.Scalars → MultiValueAwareScriptQuery,
/// ql Scripts.multiValueDocValuesRewrite, InternalEqlScriptUtils.multiValueDocValues), and
/// StringContainsFunctionProcessor compares with Java `String.contains` after
/// `toLowerCase(Locale.ROOT)` when case-insensitive. When either field is missing the script gets
/// `null`, and Elasticsearch either yields no boolean or fails the script; we report no match (so
/// `not stringContains(f, g)` holds). The one rule that uses this form (S3 bucket policy for an
/// external account) also requires `stringContains(request_parameters, "Effect=Allow")`, and a
/// script filter only runs on documents the cheaper clauses matched, while CloudTrail always has
/// `recipientAccountId`; so the case does not arise there.
pub(super) fn field_contains_field(
    doc: &dyn Document,
    path: &str,
    needle_path: &str,
    case_insensitive: bool,
) -> bool {
    doc.any_value(path, &mut |hay| {
        let Some(hay) = keyword_text(&hay) else {
            return false;
        };
        doc.any_value(needle_path, &mut |needle| {
            keyword_text(&needle).is_some_and(|needle| {
                if case_insensitive {
                    hay.to_lowercase().contains(&needle.to_lowercase())
                } else {
                    hay.contains(needle.as_ref())
                }
            })
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn m(p: &str, ci: bool, s: &str) -> bool {
        Regexp::new(p, ci).unwrap().is_match(s)
    }

    #[test]
    fn anchored_full_match() {
        assert!(m("ab", false, "ab"));
        assert!(!m("ab", false, "abc"));
        assert!(!m("b", false, "ab"));
        assert!(m("", false, ""));
        assert!(!m("", false, "a"));
    }

    #[test]
    fn operators() {
        assert!(m("a.c", false, "a\nc"));
        assert!(m("a(b|cd)*e", false, "abcdbe"));
        assert!(m("a{2,3}", false, "aaa"));
        assert!(!m("a{2,3}", false, "aaaa"));
        assert!(m("a{2,}", false, "aaaaa"));
        assert!(m("[^/]+/x", false, "bucket/x"));
        assert!(!m("[^/]+/x", false, "a/b/x"));
        assert!(m("[a-c]+", false, "abcab"));
        assert!(m("\"a.b\"", false, "a.b"));
        assert!(!m("\"a.b\"", false, "axb"));
        assert!(m("a\\.b", false, "a.b"));
        assert!(m("@x", false, "anything x"));
        assert!(!m("a#", false, "a"));
        assert!(m("a()b", false, "ab"));
        assert!(m("^a$", false, "^a$"), "^ and $ are literals in Lucene");
    }

    #[test]
    fn stacked_quantifier_is_not_lazy() {
        assert!(m(".*?(x)", false, "aax"));
    }

    #[test]
    fn ascii_case_insensitive_single_chars_only() {
        assert!(m("abc", true, "ABC"));
        assert!(m("[a]", true, "A"));
        assert!(!m("[a-c]", true, "B"), "ranges are not folded by Lucene 9");
        assert!(!m("abc", false, "ABC"));
        assert!(!m("é", true, "É"), "only ASCII is folded");
    }

    #[test]
    fn ransom_note_rule_pattern() {
        let p = "arn:aws:s3:::[^/]+/.*?(how|decrypt|restor|help|instruct|read|get|recov|save|encrypt|delet|info|ransom).*";
        assert!(m(p, true, "arn:aws:s3:::bucket/HOW_TO_DECRYPT.txt"));
        assert!(!m(p, true, "arn:aws:s3:::bucket/photo.jpg"));
        assert!(!m(p, true, "arn:aws:s3:::readme-bucket"));
    }

    #[test]
    fn unsupported_and_invalid() {
        for p in ["a&b", "~a", "<1-5>", "\\d"] {
            assert!(
                matches!(Regexp::new(p, false), Err(RegexpError::Unsupported(_))),
                "{p}"
            );
        }
        assert!(
            !m("a{3,1}", false, "aa"),
            "max below min is the empty language"
        );
        assert!(m("|a", false, "|a"), "a leading | is a literal character");
        assert!(m("*", false, "*"), "so is a leading *");
        for p in ["(a", "[a", "a|", "a{,2}", "\"a"] {
            assert!(
                matches!(Regexp::new(p, false), Err(RegexpError::Syntax { .. })),
                "{p}"
            );
        }
    }
}
