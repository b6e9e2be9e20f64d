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
    fn dates_validate_and_round_trip() {
        assert_eq!(CalendarDate::parse("2026-02-29"), None);
        assert_eq!(CalendarDate::parse("2028-02-29").unwrap().to_string(), "2028-02-29");
        assert_eq!(CalendarDate::parse("2026-13-01"), None);
        assert_eq!(CalendarDate::parse("2026-1-01"), None);
        assert_eq!(CalendarDate::parse("2026-06-30").unwrap().to_string(), "2026-06-30");
    }
}
