//! Identifiers and small value types.
//!
//! Venue, delegate, unit and topic ids come from the session definition (they
//! are human-chosen, e.g. `baiyu` or `d001`); question, follow-up and
//! evaluation ids are assigned by the session itself in event order, so replay
//! assigns the same ids again.

use std::fmt;

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub String);
        impl $name {
            pub fn new(s: impl Into<String>) -> Self { Self(s.into()) }
            pub fn as_str(&self) -> &str { &self.0 }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
    };
}

macro_rules! number_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) }
        }
    };
}

string_id!(
    /// A venue: `main` or a sub-venue such as `baiyu`.
    VenueId
);
string_id!(
    /// A delegate, unique within the session.
    DelegateId
);
string_id!(
    /// A respondent unit (应询单位).
    UnitId
);
string_id!(
    /// A topic (议题).
    TopicId
);
string_id!(
    /// A client-chosen ballot id; retrying with the same id is idempotent.
    BallotId
);
number_id!(
    /// Question number, assigned 1, 2, 3… in submission order.
    QuestionId
);
number_id!(
    /// Follow-up number, assigned in order across the session.
    FollowUpId
);
number_id!(
    /// Evaluation number, assigned in opening order.
    EvaluationId
);

/// Milliseconds since the Unix epoch. The domain never reads a clock: the
/// caller passes "now" into every decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

/// A calendar day, used for commitment deadlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl CalendarDate {
    /// A validated date (Gregorian, years 2000–2999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if leap => 29,
            _ => 28,
        };
        (day <= days).then_some(Self { year, month, day })
    }

    /// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
    pub fn days_from_epoch(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01, if it is in 2000–2999.
    pub fn from_days(days: i64) -> Option<Self> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self::new(u16::try_from(year).ok()?, month as u8, day as u8)
    }

    /// The date at instant `at` in a zone `utc_offset_minutes` east of UTC
    /// (Asia/Shanghai: +480; China has no daylight saving time).
    pub fn at(at: Millis, utc_offset_minutes: i32) -> Option<Self> {
        let local_ms = at.0 as i64 + i64::from(utc_offset_minutes) * 60_000;
        Self::from_days(local_ms.div_euclid(86_400_000))
    }

    /// Whole days from `earlier` to `self` (negative if `self` is earlier).
    pub fn days_since(self, earlier: CalendarDate) -> i64 {
        self.days_from_epoch() - earlier.days_from_epoch()
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('-');
        let (y, m, d) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        Self::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_convert_both_ways_and_follow_the_zone() {
        let d = CalendarDate::parse("2026-03-01").unwrap();
        assert_eq!(CalendarDate::from_days(d.days_from_epoch()), Some(d));
        assert_eq!(d.days_since(CalendarDate::parse("2026-02-28").unwrap()), 1, "2026 is not a leap year");
        assert_eq!(CalendarDate::parse("2028-03-01").unwrap().days_since(CalendarDate::parse("2028-02-28").unwrap()), 2);
        assert_eq!(CalendarDate::parse("2000-01-01").unwrap().days_from_epoch(), 10_957);
        for days in (10_957..10_957 + 365 * 40).step_by(13) {
            let d = CalendarDate::from_days(days).unwrap();
            assert_eq!(d.days_from_epoch(), days);
        }
        // 2026-12-05T16:30:00Z is already the 6th in Shanghai (UTC+8).
        let at = Millis(1_796_488_200_000);
        assert_eq!(CalendarDate::at(at, 0).unwrap().to_string(), "2026-12-05");
        assert_eq!(CalendarDate::at(at, 480).unwrap().to_string(), "2026-12-06");
    }

    #[test]
    fn dates_validate_and_round_trip() {
        assert_eq!(CalendarDate::parse("2026-02-29"), None);
        assert_eq!(CalendarDate::parse("2028-02-29").unwrap().to_string(), "2028-02-29");
        assert_eq!(CalendarDate::parse("2026-13-01"), None);
        assert_eq!(CalendarDate::parse("2026-1-01"), None);
        assert_eq!(CalendarDate::parse("2026-06-30").unwrap().to_string(), "2026-06-30");
    }
}
