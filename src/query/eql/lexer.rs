//! EQL tokens, each carrying the byte span it was read from.
//!
//! Follows the lexer rules of Elasticsearch's `EqlBase.g4`
//! (x-pack/plugin/eql/src/main/antlr/EqlBase.g4): lowercase reserved words, `IDENTIFIER` =
//! `(LETTER | '_' | '@') (LETTER | DIGIT | '_')*`, backtick-quoted identifiers with ``` `` ``` for a
//! literal backtick, `"..."` strings with the escapes `\t \b \f \n \r \" \' \\ \u{hex}` and no raw
//! newline, `"""..."""` raw strings, `//` and nested `/* */` comments.
use std::ops::Range;

use super::QueryError;

/// Byte range in the query text.
pub type Span = Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A plain identifier (field name part, event category, function name, pipe name).
    Ident(String),
    /// An identifier immediately followed by `~` (`stringContains~`): a case-insensitive function.
    TildeIdent(String),
    /// A backtick-quoted identifier.
    QuotedIdent(String),
    /// A reserved word (`and`, `where`, `in~`, `like~`, ...), as written.
    Keyword(&'static str),
    Str(String),
    Int(i64),
    Float(f64),
    /// Punctuation and operators: `==`, `!=`, `<`, `<=`, `>`, `>=`, `:`, `(`, `)`, `[`, `]`, `,`,
    /// `.`, `|`, `+`, `-`, `*`, `/`, `%`, `?`, `=`.
    Punct(&'static str),
    Eof,
}

/// How an error message names the token it found.
impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Ident(name) => write!(f, "`{name}`"),
            Tok::TildeIdent(name) => write!(f, "`{name}~`"),
            Tok::QuotedIdent(name) => write!(f, "`` `{name}` ``"),
            Tok::Keyword(word) => write!(f, "keyword `{word}`"),
            Tok::Str(text) => write!(f, "string {text:?}"),
            Tok::Int(n) => write!(f, "number {n}"),
            Tok::Float(n) => write!(f, "number {n}"),
            Tok::Punct(p) => write!(f, "`{p}`"),
            Tok::Eof => f.write_str("end of query"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

const KEYWORDS: &[&str] = &[
    "and", "any", "by", "false", "in", "join", "like", "maxspan", "not", "null", "of", "or",
    "regex", "sample", "sequence", "true", "until", "where", "with",
];

/// Keywords that have a case-insensitive `~` form (`IN_INSENSITIVE`, `LIKE_INSENSITIVE`,
/// `REGEX_INSENSITIVE` in the grammar).
const TILDE_KEYWORDS: &[(&str, &str)] = &[("in", "in~"), ("like", "like~"), ("regex", "regex~")];

const PUNCT: &[&str] = &[
    "==", "!=", "<=", ">=", "<", ">", ":", "(", ")", "[", "]", ",", ".", "|", "+", "-", "*", "/",
    "%", "?", "=",
];

fn syntax(message: impl Into<String>, span: Span) -> QueryError {
    QueryError::eql_syntax(message, span)
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, QueryError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b' ' || c == b'\t' || c == b'\r' || c == b'\n' {
            i += 1;
        } else if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(src.len(), |n| i + n + 1);
        } else if src[i..].starts_with("/*") {
            i = skip_block_comment(src, i)?;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'@' {
            let start = i;
            // The first character (a letter, `_` or `@`) is part of the word; without this a
            // lone `@` made an empty word and the lexer never advanced.
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            let tilde = bytes.get(i) == Some(&b'~');
            let tok = if let Some((_, ci)) = TILDE_KEYWORDS.iter().find(|(k, _)| *k == word) {
                if tilde {
                    i += 1;
                    Tok::Keyword(ci)
                } else {
                    Tok::Keyword(keyword(word))
                }
            } else if let Some(k) = KEYWORDS.iter().find(|k| **k == word) {
                Tok::Keyword(k)
            } else if tilde {
                i += 1;
                Tok::TildeIdent(word.to_owned())
            } else {
                Tok::Ident(word.to_owned())
            };
            out.push(Token {
                tok,
                span: start..i,
            });
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) && !after_name(&out))
        {
            let (tok, end) = number(src, i)?;
            out.push(Token { tok, span: i..end });
            i = end;
        } else if c == b'`' {
            let (name, end) = quoted_ident(src, i)?;
            out.push(Token {
                tok: Tok::QuotedIdent(name),
                span: i..end,
            });
            i = end;
        } else if c == b'"' {
            let (s, end) = string(src, i)?;
            out.push(Token {
                tok: Tok::Str(s),
                span: i..end,
            });
            i = end;
        } else if c == b'\'' {
            // Elasticsearch: "Use double quotes ["] to define string literals, not single quotes [']"
            return Err(syntax(
                "use double quotes [\"] to define string literals, not single quotes [']",
                i..i + 1,
            ));
        } else if c == b'?' && matches!(bytes.get(i + 1), Some(b'"') | Some(b'\'')) {
            // The old `?"..."` raw strings are rejected by Elasticsearch's AbstractBuilder.unquoteString.
            return Err(syntax(
                "use triple double quotes [\"\"\"] to define unescaped string literals, not [?\"]",
                i..i + 2,
            ));
        } else if let Some(p) = PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            out.push(Token {
                tok: Tok::Punct(p),
                span: i..i + p.len(),
            });
            i += p.len();
        } else {
            let len = src[i..].chars().next().map_or(1, char::len_utf8);
            return Err(syntax(
                format!("unexpected character {:?}", &src[i..i + len]),
                i..i + len,
            ));
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        span: src.len()..src.len(),
    });
    Ok(out)
}

fn keyword(word: &str) -> &'static str {
    KEYWORDS.iter().find(|k| **k == word).copied().unwrap_or("")
}

/// A `.` right after a name is a path separator, never the start of a number like `.5`.
fn after_name(out: &[Token]) -> bool {
    matches!(
        out.last().map(|t| &t.tok),
        Some(Tok::Ident(_) | Tok::QuotedIdent(_) | Tok::Punct("]"))
    )
}

fn skip_block_comment(src: &str, start: usize) -> Result<usize, QueryError> {
    // BRACKETED_COMMENT is recursive in the grammar: comments nest.
    let mut depth = 0usize;
    let mut i = start;
    while i < src.len() {
        if src[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if src[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(i);
            }
        } else {
            i += src[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    Err(syntax("unclosed comment", start..start + 2))
}

fn number(src: &str, start: usize) -> Result<(Tok, usize), QueryError> {
    let bytes = src.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    let mut float = false;
    if bytes.get(i) == Some(&b'.')
        && !bytes
            .get(i + 1)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        float = true;
        i += 1;
        digits(&mut i);
    }
    if matches!(bytes.get(i), Some(b'e') | Some(b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+') | Some(b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            float = true;
            i = j;
            digits(&mut i);
        }
    }
    let text = &src[start..i];
    if !float {
        if let Ok(n) = text.parse::<i64>() {
            return Ok((Tok::Int(n), i));
        }
        // Elasticsearch's ExpressionBuilder.visitIntegerLiteral: "if it's too large, then quietly
        // try to parse as a float instead".
    }
    text.parse::<f64>()
        .map(|f| (Tok::Float(f), i))
        .map_err(|_| syntax(format!("invalid number {text:?}"), start..i))
}

fn quoted_ident(src: &str, start: usize) -> Result<(String, usize), QueryError> {
    let mut name = String::new();
    let mut i = start + 1;
    while i < src.len() {
        if src[i..].starts_with("``") {
            name.push('`');
            i += 2;
        } else if src[i..].starts_with('`') {
            return Ok((name, i + 1));
        } else {
            let ch = src[i..].chars().next().unwrap_or('`');
            name.push(ch);
            i += ch.len_utf8();
        }
    }
    Err(syntax(
        "unclosed backtick-quoted identifier",
        start..start + 1,
    ))
}

fn string(src: &str, start: usize) -> Result<(String, usize), QueryError> {
    if src[start..].starts_with("\"\"\"") {
        return raw_string(src, start);
    }
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, ch)) = chars.next() {
        let at = start + 1 + off;
        match ch {
            '"' => return Ok((out, at + 1)),
            '\r' | '\n' => break,
            '\\' => {
                let Some((_, esc)) = chars.next() else { break };
                match esc {
                    't' => out.push('\t'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    '\\' => out.push('\\'),
                    'u' => {
                        let rest = &src[at + 2..];
                        let close = rest.find('}').filter(|_| rest.starts_with('{'));
                        let Some(close) = close else {
                            return Err(syntax("expected \\u{hex} escape", at..at + 2));
                        };
                        let hex = &rest[1..close];
                        let span = at..at + 2 + close + 1;
                        if !(2..=8).contains(&hex.len()) {
                            return Err(syntax(
                                format!("unicode sequence should use [2-8] hex digits, [{hex}] has [{}]", hex.len()),
                                span,
                            ));
                        }
                        let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        let Some(ch) = ch else {
                            return Err(syntax(
                                format!("invalid unicode character code [{hex}]"),
                                span,
                            ));
                        };
                        out.push(ch);
                        // Skip `{hex}`.
                        for _ in 0..close + 1 {
                            chars.next();
                        }
                    }
                    other => {
                        // The grammar only admits `\` followed by [btnfr"'\\] or u{...}.
                        return Err(syntax(
                            format!("invalid escape sequence \\{other}"),
                            at..at + 1 + other.len_utf8(),
                        ));
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(syntax("unterminated string", start..start + 1))
}

/// `"""..."""`: no escapes, no newline; like the grammar's `'"""' (~[\r\n])*? '"""' '"'? '"'?`,
/// up to two further quotes right after the closing `"""` belong to the token (and so to the value,
/// as `unquoteString` strips exactly three quotes from each end).
fn raw_string(src: &str, start: usize) -> Result<(String, usize), QueryError> {
    let body = &src[start + 3..];
    let line_end = body.find(['\r', '\n']).unwrap_or(body.len());
    let Some(close) = body[..line_end].find("\"\"\"") else {
        return Err(syntax("unterminated \"\"\" string", start..start + 3));
    };
    let mut end = close + 3;
    let mut extra = 0;
    while extra < 2 && body[end..].starts_with('"') {
        end += 1;
        extra += 1;
    }
    Ok((body[..end - 3].to_owned(), start + 3 + end))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::query::ErrorKind;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn reads_names_operators_and_strings_with_spans() {
        let t = tokenize("a.b == \"x\"").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("a".into()));
        assert_eq!(t[1].tok, Tok::Punct("."));
        assert_eq!(t[3].tok, Tok::Punct("=="));
        assert_eq!(t[3].span, 4..6);
        assert_eq!(t[4].tok, Tok::Str("x".into()));
        assert_eq!(t[4].span, 7..10);
    }

    #[test]
    fn unescapes_double_backslash_once() {
        // `"Principal=\\*"` in the query text is the value `Principal=\*`.
        assert_eq!(
            toks(r#""Principal=\\*""#)[0],
            Tok::Str(r"Principal=\*".into())
        );
        assert_eq!(toks(r#""a\"b\tc\u{41}""#)[0], Tok::Str("a\"b\tcA".into()));
    }

    #[test]
    fn rejects_unknown_escape_and_single_quotes_and_question_strings() {
        assert!(
            matches!(tokenize(r#""a\*""#), Err(QueryError { kind: ErrorKind::Syntax, span, .. }) if span == (2..4))
        );
        assert!(matches!(
            tokenize("'a'"),
            Err(QueryError {
                kind: ErrorKind::Syntax,
                ..
            })
        ));
        assert!(matches!(
            tokenize(r#"?"a""#),
            Err(QueryError {
                kind: ErrorKind::Syntax,
                ..
            })
        ));
    }

    #[test]
    fn raw_strings_keep_backslashes_and_trailing_quotes() {
        assert_eq!(toks(r#""""a\b""""#)[0], Tok::Str(r"a\b".into()));
        assert_eq!(toks(r#""""ab""""""#)[0], Tok::Str("ab\"\"".into()));
        assert_eq!(toks(r#""""ab"""""#)[0], Tok::Str("ab\"".into()));
        assert_eq!(toks(r#""""ab""""#)[0], Tok::Str("ab".into()));
    }

    #[test]
    fn tilde_forms_and_numbers_and_comments() {
        assert_eq!(
            toks("stringContains~ in~ like~ regex~ 12 1.5 /* x /* y */ */ // z\n"),
            vec![
                Tok::TildeIdent("stringContains".into()),
                Tok::Keyword("in~"),
                Tok::Keyword("like~"),
                Tok::Keyword("regex~"),
                Tok::Int(12),
                Tok::Float(1.5),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn backtick_identifiers() {
        assert_eq!(toks("`a``b c`")[0], Tok::QuotedIdent("a`b c".into()));
    }
}
