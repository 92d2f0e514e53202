//! KQL tokens: slices of the query text, each with its byte span.
use super::QueryError;
use crate::engine::RangeOp;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Colon,
    Range(RangeOp),
    /// A double-quoted string; the token text includes the quotes.
    Quoted,
    /// A run of unquoted characters (escapes kept as written; `or`/`and`/`not` are words too, the
    /// parser tells keywords from values).
    Word,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub span: Range<usize>,
}

/// Characters that end an unquoted word (Kibana's grammar, `SpecialCharacter` plus whitespace;
/// `*` is not among them: it is a wildcard inside a word).
fn ends_word(c: char) -> bool {
    matches!(c, '(' | ')' | ':' | '<' | '>' | '"' | '{' | '}') || c.is_whitespace()
}

/// Characters an unquoted word may escape with a backslash: `\t \r \n`, the special characters
/// and `*` (then a literal star).
fn escapable(c: char) -> bool {
    matches!(
        c,
        't' | 'r' | 'n' | '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}'
    )
}

/// The keywords a backslash makes literal (`\and` is the word "and").
const ESCAPED_KEYWORDS: [&str; 6] = ["and", "or", "not", "AND", "OR", "NOT"];

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = match c {
            '(' => Some(Kind::LParen),
            ')' => Some(Kind::RParen),
            '{' => Some(Kind::LBrace),
            '}' => Some(Kind::RBrace),
            ':' => Some(Kind::Colon),
            _ => None,
        };
        if let Some(kind) = single {
            chars.next();
            tokens.push(Token {
                kind,
                text: &src[start..start + 1],
                span: start..start + 1,
            });
            continue;
        }
        if c == '<' || c == '>' {
            chars.next();
            let or_equal = chars.next_if(|&(_, c)| c == '=').is_some();
            let op = match (c, or_equal) {
                ('<', false) => RangeOp::Lt,
                ('<', true) => RangeOp::Le,
                ('>', false) => RangeOp::Gt,
                _ => RangeOp::Ge,
            };
            let end = start + 1 + usize::from(or_equal);
            tokens.push(Token {
                kind: Kind::Range(op),
                text: &src[start..end],
                span: start..end,
            });
            continue;
        }
        if c == '"' {
            chars.next();
            let end = quoted_end(src, start, &mut chars)?;
            tokens.push(Token {
                kind: Kind::Quoted,
                text: &src[start..end],
                span: start..end,
            });
            continue;
        }
        let end = word_end(src, &mut chars)?;
        tokens.push(Token {
            kind: Kind::Word,
            text: &src[start..end],
            span: start..end,
        });
    }
    Ok(tokens)
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// Consumes a quoted string after its opening quote; returns the end of the closing quote.
/// A backslash escapes the next character (`\"` does not close the string).
fn quoted_end(src: &str, start: usize, chars: &mut Chars<'_>) -> Result<usize, QueryError> {
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok(i + 1),
            '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    Err(QueryError::kql("unterminated quoted string", start..src.len()).opened_at(start..start + 1))
}

/// Consumes an unquoted word; returns its end. Rejects a backslash that escapes nothing.
fn word_end(src: &str, chars: &mut Chars<'_>) -> Result<usize, QueryError> {
    while let Some(&(i, c)) = chars.peek() {
        if c == '\\' {
            let rest = &src[i + 1..];
            if rest.chars().next().is_some_and(escapable) {
                chars.next();
                chars.next();
                continue;
            }
            if let Some(kw) = ESCAPED_KEYWORDS.iter().find(|kw| rest.starts_with(**kw)) {
                chars.next();
                for _ in 0..kw.len() {
                    chars.next();
                }
                continue;
            }
            let bad_end = i + 1 + rest.chars().next().map_or(0, char::len_utf8);
            return Err(QueryError::kql(
                "invalid escape: only \\t \\r \\n \\\\ \\( \\) \\: \\< \\> \\\" \\* \\{ \\} \\and \\or \\not",
                i..bad_end,
            ));
        }
        if ends_word(c) {
            return Ok(i);
        }
        chars.next();
    }
    Ok(src.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        tokenize(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn splits_into_source_slices() {
        use Kind::*;
        assert_eq!(
            kinds("a.b:(x or \"y z\") and c>=5 and d:{e:f*}"),
            vec![
                (Word, "a.b"),
                (Colon, ":"),
                (LParen, "("),
                (Word, "x"),
                (Word, "or"),
                (Quoted, "\"y z\""),
                (RParen, ")"),
                (Word, "and"),
                (Word, "c"),
                (Range(RangeOp::Ge), ">="),
                (Word, "5"),
                (Word, "and"),
                (Word, "d"),
                (Colon, ":"),
                (LBrace, "{"),
                (Word, "e"),
                (Colon, ":"),
                (Word, "f*"),
                (RBrace, "}"),
            ]
        );
    }

    #[test]
    fn escapes_stay_inside_words_and_strings() {
        use Kind::*;
        assert_eq!(kinds(r"a\:b\*c\and"), vec![(Word, r"a\:b\*c\and")]);
        assert_eq!(kinds(r#""a \" b""#), vec![(Quoted, r#""a \" b""#)]);
        assert_eq!(
            kinds("x<y"),
            vec![(Word, "x"), (Range(RangeOp::Lt), "<"), (Word, "y")]
        );
    }

    #[test]
    fn lexical_errors_carry_spans() {
        let err = tokenize("a:\"abc").unwrap_err();
        assert_eq!(err.span, 2..6);
        assert_eq!(err.opened_at, Some(2..3));
        let err = tokenize(r"a:b\qc").unwrap_err();
        assert_eq!(err.span, 3..5);
        let err = tokenize("a:b\\").unwrap_err();
        assert_eq!(err.span, 3..4);
    }
}
