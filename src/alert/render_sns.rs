//! One SNS publish readable by every subscriber: `MessageStructure=json` with a message per
//! protocol, message attributes for filter policies, and the 256 KiB limit kept.
use serde_json::{json, Map, Value as Json};

use super::model::{key, Alert};
use super::text::{single_line, truncate_chars};
use super::{render_chatbot, render_json, render_text};

/// SNS's publish limit: 256 KiB for the message and its attributes together
/// (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>).
pub const SNS_MAX_BYTES: usize = 262_144;
/// Attribute values are cut to this many characters (they are for filter policies, not reading).
const MAX_ATTRIBUTE_CHARS: usize = 256;
/// The SNS data type of every attribute; counted in the size.
pub const ATTRIBUTE_TYPE: &str = "String";

/// What to publish: `Subject`, `Message` (with `MessageStructure=json`) and string attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    pub subject: String,
    /// JSON object: `default` = the alert JSON (SNS gives `default` to every protocol without its
    /// own key, so SQS and Lambda subscribers get the alert JSON without a second copy),
    /// `email` = the text body, `https` = the Chatbot custom notification.
    pub message: String,
    /// `severity`, `rule_id`, `rule_name`, `account_id`, `region`, `action` (empty ones left out,
    /// as SNS rejects empty attribute values).
    pub attributes: Vec<(String, String)>,
}

impl SnsMessage {
    /// Bytes counted against the SNS limit: subject, message, and for each attribute its name,
    /// data type and value.
    pub fn size(&self) -> usize {
        self.subject.len()
            + self.message.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + ATTRIBUTE_TYPE.len() + v.len())
                .sum::<usize>()
    }
}

/// The SNS publish for an alert, within [`SNS_MAX_BYTES`]. When too large, the triage guide is
/// shortened in every rendering with a visible note; if that is not enough, long event values
/// (request parameters, user agent, ...) are shortened as well. Never fails.
pub fn sns_message(alert: &Alert) -> SnsMessage {
    let full = build(alert);
    if full.size() <= SNS_MAX_BYTES {
        return full;
    }
    let notice = format!(
        "[guide shortened to fit the SNS size limit — see rule {}]",
        alert.rule_id()
    );
    let note: Vec<char> = alert.note().unwrap_or_default().chars().collect();
    let with_note = |keep: usize| {
        let mut a = alert.clone();
        a.set(key::NOTE, shortened_note(&note, keep, &notice));
        a
    };
    if let Some(keep) =
        largest_fitting(note.len(), |k| build(&with_note(k)).size() <= SNS_MAX_BYTES)
    {
        return build(&with_note(keep));
    }
    // Even without the guide it is too large: the event itself is huge.
    let base = with_note(0);
    let longest = base
        .fields()
        .iter()
        .map(|(_, v)| longest_string(v))
        .max()
        .unwrap_or(0);
    let fits = |limit: usize| build(&shrink_event(&base, limit)).size() <= SNS_MAX_BYTES;
    let limit = largest_fitting(longest, fits).unwrap_or(0);
    let out = build(&shrink_event(&base, limit));
    if out.size() > SNS_MAX_BYTES {
        tracing::warn!(
            alert = alert.uuid(),
            size = out.size(),
            "alert exceeds the SNS size limit after shortening"
        );
    }
    out
}

/// The largest `k` in `0..=max` with `fits(k)`, assuming `fits` is monotone (shorter fits
/// better); `None` when not even 0 fits.
fn largest_fitting(max: usize, fits: impl Fn(usize) -> bool) -> Option<usize> {
    if !fits(0) {
        return None;
    }
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// The first `keep` characters of the guide, cut back to a whole line when one ends in the
/// kept part (else mid-line: a one-line guide still shows its start), followed by the notice.
fn shortened_note(note: &[char], keep: usize, notice: &str) -> String {
    let mut kept: String = note.iter().take(keep).collect();
    if keep < note.len() {
        if let Some(nl) = kept.rfind('\n') {
            kept.truncate(nl);
        }
    }
    let kept = kept.trim_end();
    if kept.is_empty() {
        notice.to_string()
    } else {
        format!("{kept}\n\n{notice}")
    }
}

fn longest_string(v: &Json) -> usize {
    match v {
        Json::String(s) => s.chars().count(),
        Json::Array(items) => items
            .iter()
            .map(longest_string)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Json::Object(m) => m
            .values()
            .map(longest_string)
            .max()
            .unwrap_or(0)
            .max(m.len()),
        _ => 0,
    }
}

/// The alert with every event value cut: strings to `limit` characters, lists and objects to
/// `limit` entries (plus a marker saying how many were left out). The alert's identity (id,
/// rule, severity) and the shortened guide are kept.
fn shrink_event(alert: &Alert, limit: usize) -> Alert {
    let mut a = alert.clone();
    for (name, value) in a.fields_mut().iter_mut() {
        if matches!(
            name.as_str(),
            key::UUID | key::RULE_ID | key::SEVERITY | key::NOTE
        ) {
            continue;
        }
        shrink_value(value, limit);
    }
    a.set(
        "trailwatch.truncated",
        "event values shortened to fit the SNS size limit",
    );
    a
}

fn shrink_value(value: &mut Json, limit: usize) {
    match value {
        Json::String(s) if s.chars().count() > limit => *s = truncate_chars(s, limit.max(1)),
        Json::Array(items) => {
            let dropped = items.len().saturating_sub(limit);
            items.truncate(limit);
            items.iter_mut().for_each(|v| shrink_value(v, limit));
            if dropped > 0 {
                items.push(Json::String(format!("… {dropped} more")));
            }
        }
        Json::Object(map) => {
            let dropped = map.len().saturating_sub(limit);
            let kept: Map<String, Json> = std::mem::take(map)
                .into_iter()
                .take(limit)
                .map(|(k, mut v)| {
                    shrink_value(&mut v, limit);
                    (truncate_chars(&k, limit.max(1)), v)
                })
                .collect();
            *map = kept;
            if dropped > 0 {
                map.insert("…".into(), Json::String(format!("{dropped} more")));
            }
        }
        _ => {}
    }
}

/// The publish without any size consideration.
fn build(alert: &Alert) -> SnsMessage {
    let message = json!({
        "default": render_json::json(alert),
        "email": render_text::body(alert),
        "https": render_chatbot::chatbot(alert).to_string(),
    });
    let attributes = [
        ("severity", Some(alert.severity())),
        ("rule_id", Some(alert.rule_id())),
        ("rule_name", Some(alert.rule_name())),
        ("account_id", alert.get_str(key::ACCOUNT)),
        ("region", alert.get_str(key::REGION)),
        ("action", alert.get_str(key::ACTION)),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        let v = truncate_chars(&single_line(v?), MAX_ATTRIBUTE_CHARS);
        (!v.is_empty()).then(|| (k.to_string(), v))
    })
    .collect();
    SnsMessage {
        subject: render_text::subject(alert),
        message: message.to_string(),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_fitting_finds_the_boundary() {
        assert_eq!(largest_fitting(100, |k| k <= 37), Some(37));
        assert_eq!(largest_fitting(100, |k| k <= 1000), Some(100));
        assert_eq!(largest_fitting(100, |_| false), None);
    }

    #[test]
    fn shortened_note_cuts_at_a_line_and_says_so() {
        let note: Vec<char> = "line one\nline two".chars().collect();
        assert_eq!(shortened_note(&note, 12, "[n]"), "line one\n\n[n]");
        assert_eq!(shortened_note(&note, 3, "[n]"), "lin\n\n[n]");
        assert_eq!(shortened_note(&note, 0, "[n]"), "[n]");
    }

    #[test]
    fn shrink_value_marks_what_it_dropped() {
        let mut v = json!({"a": "abcdef", "b": [1, 2, 3], "c": 1});
        shrink_value(&mut v, 2);
        assert_eq!(
            v,
            json!({"a": "a…", "b": [1, 2, "… 1 more"], "…": "1 more"})
        );
    }
}
