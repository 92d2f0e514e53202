//! The one error type of both query languages, and its rendering with carets under the
//! offending text.
use std::fmt::Write;
use std::ops::Range;

/// Which query language an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Kuery,
    Eql,
}

impl Language {
    /// The name users know the language by (`KQL`, `EQL`).
    pub fn name(self) -> &'static str {
        match self {
            Language::Kuery => "KQL",
            Language::Eql => "EQL",
        }
    }
}

/// Whether the query is wrong, or right but beyond what is evaluated per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not valid in the language (or an invalid literal: CIDR, regex, arity).
    Syntax,
    /// Valid, but not stateless (e.g. an EQL `sequence`) or a construct Elasticsearch evaluates
    /// as a script; a rule with such a query is listed as skipped with this reason.
    Unsupported,
}

/// A KQL or EQL query that was not compiled, pointing at the offending span of the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub language: Language,
    pub kind: ErrorKind,
    pub message: String,
    /// Byte range in the query text.
    pub span: Range<usize>,
    /// For an unclosed `(`, `{` or `"`: where it was opened.
    pub opened_at: Option<Range<usize>>,
    /// A hint on how to write what was meant, shown after the excerpt.
    pub help: Option<String>,
}

impl QueryError {
    pub(crate) fn new(
        language: Language,
        kind: ErrorKind,
        message: impl Into<String>,
        span: Range<usize>,
    ) -> Self {
        QueryError {
            language,
            kind,
            message: message.into(),
            span,
            opened_at: None,
            help: None,
        }
    }

    /// A KQL syntax error (KQL has no valid-but-unsupported constructs).
    pub(crate) fn kql(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(Language::Kuery, ErrorKind::Syntax, message, span)
    }

    pub(crate) fn eql_syntax(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(Language::Eql, ErrorKind::Syntax, message, span)
    }

    pub(crate) fn eql_unsupported(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(Language::Eql, ErrorKind::Unsupported, message, span)
    }

    pub(crate) fn opened_at(mut self, span: Range<usize>) -> Self {
        self.opened_at = Some(span);
        self
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for a valid query this engine does not evaluate (see [`ErrorKind::Unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        self.kind == ErrorKind::Unsupported
    }

    /// The message, then the query line holding the error with carets under the span (and the
    /// line of the unclosed bracket, if any, with a caret under it), then the help if any:
    ///
    /// ```text
    /// expected `)` to close `(`, found end of query
    /// 1 | event.action:(a or b
    ///   |                     ^
    /// 1 | event.action:(a or b
    ///   |              ^ opened here
    /// ```
    ///
    /// `query` must be the text that was parsed: spans are byte offsets into it.
    pub fn render(&self, query: &str) -> String {
        let mut out = self.message.clone();
        excerpt(&mut out, query, &self.span, "");
        if let Some(open) = &self.opened_at {
            excerpt(&mut out, query, open, " opened here");
        }
        if let Some(help) = &self.help {
            let _ = write!(out, "\nhelp: {help}");
        }
        out
    }
}

/// Appends the line holding `span.start`, with carets under the part of `span` on that line.
fn excerpt(out: &mut String, query: &str, span: &Range<usize>, label: &str) {
    // "found the end of the query" in a query ending with a newline (as rule files write them)
    // points just after the last text, not at an empty last line.
    let content_end = query.trim_end().len();
    let span = if span.start >= content_end && span.end <= query.len() {
        &(content_end..content_end)
    } else {
        span
    };
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
