//! Anchored wildcard matching without allocation.
//!
//! Elasticsearch's `wildcard` query is a full match of the whole term; `*` matches any run of
//! characters including newlines (Lucene `WildcardQuery` builds an automaton, not a line regex),
//! `?` exactly one character.
use super::{Wildcard, WildcardToken};
use memchr::memmem;

impl Wildcard {
    /// Whether the whole of `hay` matches the pattern.
    pub fn is_match(&self, hay: &str) -> bool {
        let simple =
            !self.case_insensitive && !self.tokens.iter().any(|t| matches!(t, WildcardToken::One));
        if simple {
            match_stars(&self.tokens, hay.as_bytes())
        } else {
            match_general(&self.tokens, hay, self.case_insensitive)
        }
    }
}

/// Case-sensitive patterns of text and `*` only: anchor the first and last pieces, then find the
/// middle ones left to right (leftmost placement is always safe when only `*` separates them).
fn match_stars(tokens: &[WildcardToken], hay: &[u8]) -> bool {
    let pieces = || {
        tokens.iter().filter_map(|t| match t {
            WildcardToken::Text(s) => Some(s.as_bytes()),
            _ => None,
        })
    };
    let has_any = tokens.iter().any(|t| matches!(t, WildcardToken::Any));
    if !has_any {
        // Pure text: plain equality of the concatenation.
        let mut rest = hay;
        for piece in pieces() {
            match rest.strip_prefix(piece) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        return rest.is_empty();
    }
    let count = pieces().count();
    let anchored_start = !matches!(tokens.first(), Some(WildcardToken::Any));
    let anchored_end = !matches!(tokens.last(), Some(WildcardToken::Any));
    let mut lo = 0;
    let mut hi = hay.len();
    for (i, piece) in pieces().enumerate() {
        if i == 0 && anchored_start {
            if !hay.starts_with(piece) {
                return false;
            }
            lo = piece.len();
        } else if i + 1 == count && anchored_end {
            if hi - lo < piece.len() || !hay.ends_with(piece) {
                return false;
            }
            hi -= piece.len();
        }
    }
    for (i, piece) in pieces().enumerate() {
        if (i == 0 && anchored_start) || (i + 1 == count && anchored_end) {
            continue;
        }
        match memmem::find(&hay[lo..hi], piece) {
            Some(at) => lo += at + piece.len(),
            None => return false,
        }
    }
    true
}

fn fold(c: char, case_insensitive: bool) -> char {
    if !case_insensitive {
        c
    } else if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// One unit of a pattern: a character, `?` or `*`.
#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Char(char),
    One,
    Any,
}

/// Iterates the pattern unit by unit from a (token, byte offset) cursor, without allocating.
#[derive(Clone, Copy)]
struct Cursor<'p> {
    tokens: &'p [WildcardToken],
    token: usize,
    offset: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<Unit> {
        let mut token = self.token;
        let mut offset = self.offset;
        loop {
            match self.tokens.get(token)? {
                WildcardToken::Any => return Some(Unit::Any),
                WildcardToken::One => return Some(Unit::One),
                WildcardToken::Text(s) => match s[offset..].chars().next() {
                    Some(c) => return Some(Unit::Char(c)),
                    None => {
                        token += 1;
                        offset = 0;
                    }
                },
            }
        }
    }

    fn advance(&mut self) {
        loop {
            match self.tokens.get(self.token) {
                None => return,
                Some(WildcardToken::Text(s)) => match s[self.offset..].chars().next() {
                    Some(c) => {
                        self.offset += c.len_utf8();
                        return;
                    }
                    None => {
                        self.token += 1;
                        self.offset = 0;
                    }
                },
                Some(_) => {
                    self.token += 1;
                    self.offset = 0;
                    return;
                }
            }
        }
    }
}

/// The classic iterative glob algorithm (backtrack to the last `*` only), which is exact for `*`
/// and `?`, over characters.
fn match_general(tokens: &[WildcardToken], hay: &str, case_insensitive: bool) -> bool {
    let mut pat = Cursor {
        tokens,
        token: 0,
        offset: 0,
    };
    let mut pos = 0;
    let mut star: Option<(Cursor<'_>, usize)> = None;
    loop {
        let hay_char = hay[pos..].chars().next();
        match (pat.peek(), hay_char) {
            (Some(Unit::Any), _) => {
                pat.advance();
                star = Some((pat, pos));
                continue;
            }
            (None, None) => return true,
            (Some(Unit::One), Some(c)) => {
                pat.advance();
                pos += c.len_utf8();
                continue;
            }
            (Some(Unit::Char(p)), Some(c)) if p == fold(c, case_insensitive) => {
                pat.advance();
                pos += c.len_utf8();
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `*` swallow one more character.
        match star {
            Some((star_pat, star_pos)) => match hay[star_pos..].chars().next() {
                Some(c) => {
                    let next = star_pos + c.len_utf8();
                    star = Some((star_pat, next));
                    pat = star_pat;
                    pos = next;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// Builds a pattern from `*`/`?` syntax (no escapes) for the tests.
    fn pat(p: &str, question: bool, ci: bool) -> Wildcard {
        let mut tokens = Vec::new();
        let mut text = String::new();
        for c in p.chars() {
            let special = match c {
                '*' => Some(WildcardToken::Any),
                '?' if question => Some(WildcardToken::One),
                _ => None,
            };
            match special {
                Some(t) => {
                    if !text.is_empty() {
                        tokens.push(WildcardToken::Text(std::mem::take(&mut text)));
                    }
                    tokens.push(t);
                }
                None => text.push(if ci { c.to_ascii_lowercase() } else { c }),
            }
        }
        if !text.is_empty() {
            tokens.push(WildcardToken::Text(text));
        }
        Wildcard {
            tokens,
            case_insensitive: ci,
        }
    }

    #[test]
    fn star_patterns_match_anchored() {
        for (p, hay, want) in [
            ("Create*", "CreateDBCluster", true),
            ("Create*", "xCreate", false),
            ("*Cluster", "CreateDBCluster", true),
            ("*Cluster", "ClusterX", false),
            ("*DB*", "CreateDBCluster", true),
            ("*DB*", "db", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYbc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("*", "", true),
            ("a*", "a\nb", true),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("*a*a*", "aa", true),
            ("*a*a*", "a", false),
        ] {
            assert_eq!(pat(p, false, false).is_match(hay), want, "{p} vs {hay}");
        }
    }

    #[test]
    fn question_marks_and_case_folding() {
        for (p, ci, hay, want) in [
            ("a?c", false, "abc", true),
            ("a?c", false, "ac", false),
            ("*a?c*", false, "xxabcxx", true),
            ("Create*", true, "CREATEdb", true),
            ("*s3 browser*", true, "x S3 Browser y", true),
            ("é*", true, "Éa", true),
            ("a*?", false, "a", false),
            ("a*?", false, "ab", true),
        ] {
            assert_eq!(pat(p, true, ci).is_match(hay), want, "{p} vs {hay}");
        }
    }
}
