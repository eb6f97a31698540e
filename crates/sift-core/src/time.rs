//! Date parsing for the formats v2 clients send: `yyyy-MM-dd`, `yyyy-MM-dd HH:mm:ss`,
//! `yyyy-MM-ddTHH:mm:ss[.fff]`, with or without an offset (no offset means UTC),
//! and `dd/MM/yyyy`-free (ambiguous day/month orders are refused).

use crate::record::DateValue;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses a date-field value: a bare date stays a calendar date, anything with a time
/// becomes an instant (UTC unless an offset is given).
pub fn parse_date_value(s: &str) -> Option<DateValue> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(DateValue::Day(d));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y%m%d") {
        if s.len() == 8 {
            return Some(DateValue::Day(d));
        }
    }
    parse_instant(s).map(|t| {
        // A midnight written with a time but no offset is still just a day for
        // marketers' purposes only when it carries no zone; keep it an instant so
        // round trips are exact.
        DateValue::Instant(t)
    })
}

/// Parses an instant; a bare date is midnight UTC. Used for `…/since/{date}` paths.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Some(t) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(t, fmt) {
                return Some(t.and_utc());
            }
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

/// ISO 8601 UTC with milliseconds, as v2 prints timestamps (`2020-01-01T09:40:18.527Z`).
pub fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_client_formats() {
        assert!(matches!(parse_date_value("2020-01-05"), Some(DateValue::Day(_))));
        assert!(matches!(parse_date_value("2020-01-05T10:00:00Z"), Some(DateValue::Instant(_))));
        assert!(matches!(parse_date_value("2020-01-05 10:00:00"), Some(DateValue::Instant(_))));
        assert!(matches!(parse_date_value("2020-01-05T10:00:00+02:00"), Some(DateValue::Instant(_))));
        assert!(parse_instant("2020-01-05").is_some());
        assert!(parse_instant("2020-01-05 10:11:12").is_some());
        assert!(parse_date_value("yesterday").is_none());
        assert!(parse_date_value("2020-13-01").is_none());
    }
}
