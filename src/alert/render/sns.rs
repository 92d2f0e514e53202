//! One SNS publish readable by every subscriber: `MessageStructure=json` with a message per
//! protocol, message attributes for filter policies, and the 256 KiB limit kept.
use serde_json::{json, Map, Value as Json};

use super::{chatbot as render_chatbot, json as render_json, text as render_text};
use crate::alert::model::{key, Alert};
use crate::alert::text::{single_line, truncate_chars};

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
    /// JSON object: `default`, `sqs` and `lambda` = the alert JSON (explicit per protocol, so a
    /// subscriber never depends on SNS's fallback), `email` = the text body, `https` = the
    /// Chatbot custom notification. The size limit counts every copy.
    pub message: String,
    /// `severity`, `rule_id`, `rule_name`, `account_id`, `account_name` (when known), `region`,
    /// `action` (empty ones left out,
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
    if let Some(msg) = largest_fitting(note.len(), full, |k| build(&with_note(k))) {
        return msg;
    }
    // Even without the guide it is too large: the event itself is huge.
    let base = with_note(0);
    let longest = base
        .fields()
        .iter()
        .map(|(_, v)| longest_string(v))
        .max()
        .unwrap_or(0);
    let render = |limit| build(&shrink_event(&base, limit));
    largest_fitting(longest, render(longest), render).unwrap_or_else(|| {
        let out = build(&shrink_event(&base, 0));
        tracing::warn!(
            alert = alert.uuid(),
            size = out.size(),
            "alert exceeds the SNS size limit after shortening"
        );
        out
    })
}

/// Close enough: a shortened message this near the limit is not worth more renderings.
const SLACK_BYTES: usize = 1024;

/// The message for (nearly) the largest `k` in `0..=max` that fits in [`SNS_MAX_BYTES`],
/// assuming the size grows with `k`; `None` when not even `k = 0` fits. `top` is `render(max)`,
/// which the caller already has. Interpolation search
/// (the size is close to linear in the kept length), every other step a bisection so a
/// non-linear size still converges; stops within [`SLACK_BYTES`] of the limit. Each step is a
/// full rendering, so this takes a handful of them instead of ~20 for plain bisection.
fn largest_fitting(
    max: usize,
    top: SnsMessage,
    render: impl Fn(usize) -> SnsMessage,
) -> Option<SnsMessage> {
    if top.size() <= SNS_MAX_BYTES {
        return Some(top);
    }
    let mut best = render(0);
    if best.size() > SNS_MAX_BYTES {
        return None;
    }
    let (mut lo, mut lo_size, mut hi, mut hi_size) = (0usize, best.size(), max, top.size());
    let mut step = 0u32;
    while hi - lo > 1 && SNS_MAX_BYTES - lo_size > SLACK_BYTES {
        step += 1;
        let mid = if step % 2 == 1 && hi_size > lo_size {
            let span = (hi - lo) as u128;
            let room = (SNS_MAX_BYTES - lo_size) as u128;
            lo + (span * room / (hi_size - lo_size) as u128) as usize
        } else {
            lo + (hi - lo) / 2
        }
        .clamp(lo + 1, hi - 1);
        let msg = render(mid);
        if msg.size() <= SNS_MAX_BYTES {
            (lo, lo_size, best) = (mid, msg.size(), msg);
        } else {
            (hi, hi_size) = (mid, msg.size());
        }
    }
    Some(best)
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
    let alert_json = render_json::json(alert);
    let message = json!({
        "default": alert_json,
        "sqs": alert_json,
        "lambda": alert_json,
        "email": render_text::body(alert),
        "https": render_chatbot::chatbot(alert).to_string(),
    });
    let attributes = [
        ("severity", Some(alert.severity())),
        ("rule_id", Some(alert.rule_id())),
        ("rule_name", Some(alert.rule_name())),
        ("account_id", alert.get_str(key::ACCOUNT)),
        ("account_name", alert.get_str(key::ACCOUNT_NAME)),
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

    fn sized(n: usize) -> SnsMessage {
        SnsMessage {
            subject: String::new(),
            message: "x".repeat(n),
            attributes: Vec::new(),
        }
    }

    #[test]
    fn largest_fitting_gets_within_slack_of_the_limit() {
        // Linear, non-linear (quadratic) and step-shaped sizes.
        type Size = fn(usize) -> usize;
        let shapes: [(&str, Size); 3] = [
            ("linear", |k| 1000 + 30 * k),
            ("quadratic", |k| k * k / 1000),
            ("steps", |k| (k / 500) * 500 * 20),
        ];
        for (name, size) in shapes {
            let got = largest_fitting(20_000, sized(size(20_000)), |k| sized(size(k)));
            let got = got.map(|m| m.size());
            let got = got.unwrap_or(usize::MAX);
            assert!(got <= SNS_MAX_BYTES, "{name}: {got}");
            let best = (0..=20_000)
                .map(size)
                .filter(|s| *s <= SNS_MAX_BYTES)
                .max()
                .unwrap_or(0);
            assert!(best - got <= SLACK_BYTES, "{name}: got {got}, best {best}");
        }
        assert_eq!(
            largest_fitting(100, sized(100), sized).map(|m| m.size()),
            Some(100)
        );
        let too_big = |_| sized(SNS_MAX_BYTES + 1);
        assert_eq!(largest_fitting(100, too_big(100), too_big), None);
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
