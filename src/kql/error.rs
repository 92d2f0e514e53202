//! KQL syntax errors and their rendering with carets under the offending text.
use std::fmt::Write;
use std::ops::Range;

/// A KQL syntax error, pointing at the offending span of the query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    /// Byte range in the query text.
    pub span: std::ops::Range<usize>,
    /// For an unclosed `(`, `{` or `"`: where it was opened.
    pub opened_at: Option<Range<usize>>,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        ParseError {
            message: message.into(),
            span,
            opened_at: None,
        }
    }

    pub(crate) fn opened_at(mut self, span: Range<usize>) -> Self {
        self.opened_at = Some(span);
        self
    }

    /// The message, then the query line holding the error with carets under the span (and the
    /// line of the unclosed bracket, if any, with a caret under it):
    ///
    /// ```text
    /// expected `)` to close `(`, found end of query
    /// 1 | event.action:(a or b
    ///   |                     ^
    /// 1 | event.action:(a or b
    ///   |              ^ opened here
    /// ```
    pub fn render(&self, query: &str) -> String {
        let mut out = self.message.clone();
        excerpt(&mut out, query, &self.span, "");
        if let Some(open) = &self.opened_at {
            excerpt(&mut out, query, open, " opened here");
        }
        out
    }
}

/// Appends the line holding `span.start`, with carets under the part of `span` on that line.
fn excerpt(out: &mut String, query: &str, span: &Range<usize>, label: &str) {
    let start = floor_char_boundary(query, span.start.min(query.len()));
    let line_start = query[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = query[start..].find('\n').map_or(query.len(), |i| start + i);
    let line_no = query[..line_start].matches('\n').count() + 1;
    let line = &query[line_start..line_end];
    let end = floor_char_boundary(query, span.end.clamp(start, line_end));
    let column = query[line_start..start].chars().count();
    let width = query[start..end].chars().count().max(1);
    let gutter = line_no.to_string();
    let pad = " ".repeat(gutter.len());
    // Tabs shown as spaces keep the carets aligned under the text.
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let _ = write!(
        out,
        "\n{gutter} | {}\n{pad} | {}{}{label}",
        shown.trim_end_matches('\r'),
        " ".repeat(column),
        "^".repeat(width)
    );
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::kql::parse;

    fn render(query: &str) -> String {
        parse(query).unwrap_err().render(query)
    }

    #[test]
    fn carets_sit_under_the_span() {
        assert_eq!(
            render("f:a and and g:b"),
            "expected a field or a value, found keyword `and`\n1 | f:a and and g:b\n  |         ^^^"
        );
    }

    #[test]
    fn unclosed_brackets_also_point_at_the_opener() {
        assert_eq!(
            render("a:x and\n  f:(b or\n  c"),
            "expected `)` to close `(` (or `or`/`and`), found the end of the query\n\
             3 |   c\n  |    ^\n\
             2 |   f:(b or\n  |     ^ opened here"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(
            render("é:ü OR x"),
            "keywords are lowercase: use `or`\n1 | é:ü OR x\n  |     ^^"
        );
    }
}
