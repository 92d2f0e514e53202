//! Caret rendering of both languages' errors: the query line under which `^` marks the span,
//! counted in characters (not bytes), on the right line of a multi-line query.
#![allow(clippy::unwrap_used)]
use super::{eql, kql, ErrorKind, Language, QueryError};

fn kql_render(query: &str) -> String {
    kql::parse(query).unwrap_err().render(query)
}

fn eql_error(query: &str) -> QueryError {
    eql::parse(query).unwrap_err()
}

/// The column (in characters) of the first `^` on the caret line following `line` in `rendered`.
fn caret_column(rendered: &str, line: &str) -> usize {
    let mut lines = rendered.lines();
    lines.find(|l| l.ends_with(line)).unwrap();
    let carets = lines.next().unwrap();
    let gutter = carets.find(" | ").unwrap() + 3;
    carets[gutter..].chars().take_while(|c| *c == ' ').count()
}

#[test]
fn kql_carets_sit_under_the_span() {
    assert_eq!(
        kql_render("f:a and and g:b"),
        "expected a field or a value, found keyword `and`\n1 | f:a and and g:b\n  |         ^^^"
    );
}

#[test]
fn kql_unclosed_brackets_also_point_at_the_opener() {
    assert_eq!(
        kql_render("a:x and\n  f:(b or\n  c"),
        "expected `)` to close `(` (or `or`/`and`), found the end of the query\n\
         3 |   c\n  |    ^\n\
         2 |   f:(b or\n  |     ^ opened here"
    );
}

#[test]
fn kql_columns_count_characters_not_bytes() {
    assert_eq!(
        kql_render("é:ü OR x"),
        "keywords are lowercase: use `or`\n1 | é:ü OR x\n  |     ^^"
    );
}

#[test]
fn kql_errors_say_their_language() {
    let err = kql::parse("a:(b").unwrap_err();
    assert_eq!(
        (err.language, err.kind),
        (Language::Kuery, ErrorKind::Syntax)
    );
}

#[test]
fn eql_carets_sit_under_the_span_with_the_help_after() {
    let query = r#"any where event.action = "StopLogging""#;
    let err = eql_error(query);
    assert_eq!((err.language, err.kind), (Language::Eql, ErrorKind::Syntax));
    assert_eq!(
        err.render(query),
        "`=` is not a comparison, use `==`\n\
         1 | any where event.action = \"StopLogging\"\n  |                        ^\n\
         help: `==` compares exactly; `:` compares case-insensitively"
    );
}

#[test]
fn eql_multi_line_queries_show_the_line_of_the_error() {
    // As Elastic's rule files write them: the condition spread over indented lines.
    let query = "any where event.dataset == \"aws.cloudtrail\"\n    and event.action == \n    and event.outcome == \"success\"";
    let rendered = eql_error(query).render(query);
    assert!(
        rendered.starts_with("expected a field, function, constant or `(`, found keyword `and`\n"),
        "{rendered}"
    );
    let line3 = "    and event.outcome == \"success\"";
    assert!(rendered.contains(&format!("\n3 | {line3}\n")), "{rendered}");
    assert_eq!(caret_column(&rendered, line3), 4, "{rendered}");
}

#[test]
fn eql_unclosed_parenthesis_points_at_both_ends() {
    let query = "any where (event.action == \"A\" or\n  event.action == \"B\"";
    assert_eq!(
        eql_error(query).render(query),
        "expected `)` to close `(`, found end of query\n\
         2 |   event.action == \"B\"\n  |                      ^\n\
         1 | any where (event.action == \"A\" or\n  |           ^ opened here"
    );
}

#[test]
fn eql_columns_count_characters_not_bytes() {
    // `é` and `ü` are two bytes each; the caret must still sit under the `=`.
    let query = "any where user.name == \"éü\" and x = 1";
    let err = eql_error(query);
    assert_eq!(&query[err.span.clone()], "=");
    let rendered = err.render(query);
    assert_eq!(
        caret_column(&rendered, query),
        query[..err.span.start].chars().count()
    );
    assert_eq!(caret_column(&rendered, query), 34);
}

#[test]
fn eql_unsupported_constructs_render_a_caret_too() {
    let query = "sequence by user.name\n  [any where true]\n  [any where true]";
    let err = eql_error(query);
    assert!(err.is_unsupported());
    let rendered = err.render(query);
    assert!(
        rendered.contains("1 | sequence by user.name\n  | ^^^^^^^^\n"),
        "{rendered}"
    );
    assert!(rendered
        .ends_with("help: a rule of this kind is listed as skipped; `any where ...` queries run"));
}

#[test]
fn one_entry_point_for_both_languages() {
    assert!(super::parse(Language::Kuery, "event.action:A", "event.category").is_ok());
    assert!(super::parse(Language::Eql, "info where true", "event.type").is_ok());
    let err = super::parse(Language::Eql, "event.action:A", "event.category").unwrap_err();
    assert_eq!(err.language, Language::Eql);
}

#[test]
fn the_end_of_a_query_ending_with_a_newline_is_after_its_last_text() {
    // Rule files write queries as `'''` blocks: the text ends with a newline.
    let query = "event.provider:rds.amazonaws.com and\n  event.action:(CreateDBCluster or\n";
    assert_eq!(
        kql_render(query),
        "expected a value, found the end of the query\n\
         2 |   event.action:(CreateDBCluster or\n  |                                   ^"
    );
    let query = "any where (a == 1\n\n";
    let rendered = eql_error(query).render(query);
    assert!(
        rendered.starts_with("expected `)` to close `(`, found end of query\n1 | any where (a == 1\n  |                  ^\n"),
        "{rendered}"
    );
}
