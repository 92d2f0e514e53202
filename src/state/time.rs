//! Event times as milliseconds since the epoch, and back (no date crate).
use crate::ecs::derived::{civil_from_days, days_from_civil};
use crate::engine::{Document, Value};

/// `2026-01-02T03:04:05Z` or `...05.678Z` (CloudTrail's `eventTime`, the ECS `@timestamp`) →
/// milliseconds since the epoch. Other forms: `None`.
pub fn parse_time_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = text.get(19..)?;
    let millis = match rest.strip_prefix('.') {
        Some(frac) => {
            let digits = frac.strip_suffix('Z')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            // Milliseconds: the first three digits, right-padded.
            let mut ms = 0i64;
            for i in 0..3 {
                ms = ms * 10 + digits.as_bytes().get(i).map_or(0, |c| i64::from(c - b'0'));
            }
            ms
        }
        None if rest == "Z" => 0,
        None => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s) * 1_000 + millis)
}

/// Milliseconds since the epoch → `2026-01-02T03:04:05.678Z` (Elasticsearch's date format).
pub fn format_ms(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1_000), ms.rem_euclid(1_000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// The event's `@timestamp` (CloudTrail `eventTime`) in milliseconds.
pub fn event_time_ms(event: &dyn Document) -> Option<i64> {
    let mut out = None;
    event.any_value("@timestamp", &mut |v| {
        if let Value::Str(s) = v {
            out = parse_time_ms(s);
        }
        out.is_some()
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        for text in [
            "2026-01-02T03:04:05.678Z",
            "1999-12-31T23:59:59.000Z",
            "2024-02-29T00:00:00.001Z",
        ] {
            let ms = parse_time_ms(text);
            assert_eq!(ms.map(format_ms).as_deref(), Some(text));
        }
        assert_eq!(parse_time_ms("1970-01-01T00:00:01Z"), Some(1_000));
        assert_eq!(parse_time_ms("1970-01-01T00:00:00.5Z"), Some(500));
        for bad in [
            "2026-01-02 03:04:05Z",
            "2026-13-02T03:04:05Z",
            "2026-01-02T03:04:05",
            "x",
        ] {
            assert_eq!(parse_time_ms(bad), None, "{bad}");
        }
    }
}
