//! IR pieces only EQL needs: Lucene regular expressions (EQL `regex` / `regex~`, see
//! `regexp`) and the field-against-field `stringContains` that Elasticsearch runs as a script.
mod regexp;

pub use regexp::{Regexp, RegexpError};

use super::{Document, Value, IGNORE_ABOVE};

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
