//! Event times as milliseconds since the epoch, and back (no date crate).
use crate::engine::{Document, Value};

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

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
