//! Calendar dates (UTC) for exception expiry, without a date crate.
use std::time::{SystemTime, UNIX_EPOCH};

/// A proleptic Gregorian calendar date. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// A date that is not `YYYY-MM-DD` or does not exist (`2025-02-30`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {0:?}: expected an existing date as YYYY-MM-DD")]
pub struct DateError(pub String);

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Parses `YYYY-MM-DD` (exactly four, two and two digits).
    pub fn parse(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_string());
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(err());
        }
        let year: i32 = s[0..4].parse().map_err(|_| err())?;
        let month: u8 = s[5..7].parse().map_err(|_| err())?;
        let day: u8 = s[8..10].parse().map_err(|_| err())?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(err());
        }
        Ok(Date { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (negative: before). Howard Hinnant's
    /// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11]
        let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
        let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year as i32,
            month: month as u8,
            day: day as u8,
        }
    }

    /// The UTC date of a point in time (what the caller passes as "today").
    pub fn from_system_time(t: SystemTime) -> Date {
        let days = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() / 86_400) as i64,
            Err(e) => -(e.duration().as_secs().div_ceil(86_400) as i64),
        };
        Date::from_days_since_epoch(days)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            Date::parse("2024-02-29"),
            Ok(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "2024-01-00",
            "20240101",
            "2024-01-01 ",
            "+024-01-01",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_from_days_known_points() {
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days_since_epoch(-1).to_string(), "1969-12-31");
        assert_eq!(
            Date::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            Date::from_days_since_epoch(20_398).to_string(),
            "2025-11-06"
        );
    }

    #[test]
    fn civil_from_days_agrees_with_day_by_day_counting() {
        let mut d = Date {
            year: 1970,
            month: 1,
            day: 1,
        };
        for n in 0..40_000 {
            assert_eq!(Date::from_days_since_epoch(n), d, "day {n}");
            d = if d.day < days_in_month(d.year, d.month) {
                Date {
                    day: d.day + 1,
                    ..d
                }
            } else if d.month < 12 {
                Date {
                    month: d.month + 1,
                    day: 1,
                    ..d
                }
            } else {
                Date {
                    year: d.year + 1,
                    month: 1,
                    day: 1,
                }
            };
        }
    }

    #[test]
    fn from_system_time_uses_utc_days() {
        let t = UNIX_EPOCH + Duration::from_secs(86_400 * 20_398 + 86_399);
        assert_eq!(Date::from_system_time(t).to_string(), "2025-11-06");
    }
}
