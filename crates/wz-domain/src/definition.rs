//! The session definition: venues, delegates, units, topics and limits.
//!
//! A definition is validated once ([`SessionDef::validate`]) and is immutable
//! afterwards except for delegates imported while the session is preparing.
//! Its texts (title, theme, names) follow the rules of [`crate::text`] for a
//! single line; [`SessionDef::normalize`] stores them cleaned.

use crate::ids::{DelegateId, TopicId, UnitId, VenueId};
use crate::text::{self, Lines, TextError, TextProblem};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VenueKind {
    /// 主会场: the moderator's venue. Exactly one per session.
    Main,
    /// 分会场: a township or street liaison station.
    Sub,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Venue {
    pub id: VenueId,
    pub name: String,
    pub kind: VenueKind,
}

/// The level of a delegate (人大代表 of four levels, plus 议政代表).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DelegateLevel {
    Province,
    City,
    County,
    Township,
    StreetDeliberation,
}

impl DelegateLevel {
    pub const ALL: [DelegateLevel; 5] =
        [DelegateLevel::Province, DelegateLevel::City, DelegateLevel::County, DelegateLevel::Township, DelegateLevel::StreetDeliberation];
    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegate {
    pub id: DelegateId,
    pub name: String,
    pub level: DelegateLevel,
    /// Home venue: where the delegate checks in, votes and asks from.
    pub venue: VenueId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub id: TopicId,
    pub name: String,
}

/// Content limits, part of the definition so replay applies the same rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum characters (Unicode scalar values) of a question or follow-up.
    pub question_chars: usize,
    /// Maximum characters of a rejection reason.
    pub reason_chars: usize,
    /// Maximum characters of an answer summary.
    pub answer_chars: usize,
    /// Maximum characters of short fields: names, officials, commitment text.
    pub short_chars: usize,
    /// Maximum questions one delegate may have asked (any status).
    pub questions_per_delegate: usize,
    /// Maximum follow-ups on one floor item.
    pub follow_ups_per_item: usize,
    /// Maximum commitments in one answer.
    pub commitments_per_answer: usize,
    /// Default answer countdown when the floor is granted.
    pub answer_seconds: u32,
    /// Longest countdown the moderator may set.
    pub max_answer_seconds: u32,
    /// After the session: an assignment item is "due soon" this many days
    /// before its deadline (0: only on the day itself).
    pub due_soon_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            question_chars: 500,
            reason_chars: 200,
            answer_chars: 4000,
            short_chars: 100,
            questions_per_delegate: 10,
            follow_ups_per_item: 20,
            commitments_per_answer: 20,
            answer_seconds: 300,
            max_answer_seconds: 3600,
            due_soon_days: 7,
        }
    }
}

/// The session's time zone: deadlines are dates there, and "today" is the
/// date there. A fixed offset (China keeps no daylight saving time); the name
/// is what people read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZone {
    pub name: String,
    /// Minutes east of UTC (Asia/Shanghai: +480).
    pub utc_offset_minutes: i32,
}

impl Default for TimeZone {
    fn default() -> Self {
        Self { name: "Asia/Shanghai".into(), utc_offset_minutes: 480 }
    }
}

impl TimeZone {
    /// The zones a definition may name: the ones a county congress in China
    /// uses, and UTC; or a fixed offset written `+08:00`.
    pub fn named(name: &str) -> Option<Self> {
        let offset = match name {
            "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin" | "Asia/Hong_Kong" | "Asia/Macau" | "Asia/Taipei" | "PRC" => 480,
            "Asia/Urumqi" | "Asia/Kashgar" => 360,
            "UTC" | "Etc/UTC" => 0,
            _ => {
                let (sign, rest) = match name.as_bytes().first()? {
                    b'+' => (1, &name[1..]),
                    b'-' => (-1, &name[1..]),
                    _ => return None,
                };
                let (h, m) = rest.split_once(':')?;
                if h.len() != 2 || m.len() != 2 {
                    return None;
                }
                let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
                if h > 14 || m > 59 {
                    return None;
                }
                sign * (h * 60 + m)
            }
        };
        Some(Self { name: name.to_owned(), utc_offset_minutes: offset })
    }
}

/// Who may check a delegate in (issue 10). Whatever the policy, the
/// moderator and the delegate's venue operator may check a delegate in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CheckInPolicy {
    /// Only the venue's operator (or the moderator) checks a delegate in:
    /// a liaison station's staff check people in at the door. The default.
    #[default]
    Operator,
    /// The delegate asks on the phone (`RequestCheckIn`); the venue's
    /// operator confirms (an ordinary check-in) or declines the request.
    Confirmed,
    /// The delegate checks themself in.
    SelfService,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDef {
    pub id: String,
    pub title: String,
    pub theme: String,
    pub venues: Vec<Venue>,
    pub delegates: Vec<Delegate>,
    pub units: Vec<Unit>,
    pub topics: Vec<Topic>,
    pub limits: Limits,
    pub time_zone: TimeZone,
    /// Who may check a delegate in.
    pub check_in: CheckInPolicy,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("session id must be 1-64 characters of a-z, 0-9, '-' or '_'")]
    BadSessionId,
    #[error("due_soon_days must be at most 90")]
    DueSoonDays,
    #[error("time zone {0:?} is not known: use Asia/Shanghai, UTC or an offset such as +08:00")]
    BadTimeZone(String),
    #[error("title must not be empty")]
    EmptyTitle,
    #[error("there must be exactly one main venue, found {0}")]
    MainVenueCount(usize),
    #[error("duplicate {kind} id {id}")]
    Duplicate { kind: &'static str, id: String },
    #[error("{kind} id {id:?} is not a valid id (1-64 of a-z, A-Z, 0-9, '-', '_')")]
    BadId { kind: &'static str, id: String },
    #[error("{kind} {id} has an empty name")]
    EmptyName { kind: &'static str, id: String },
    /// `what` names the text: "title", "theme", "venue main name"...
    #[error("{what} {problem}")]
    Text { what: String, problem: TextProblem },
    #[error("delegate {delegate} names unknown venue {venue}")]
    UnknownVenue { delegate: String, venue: String },
    #[error("at least one unit and one topic are required")]
    NothingToAsk,
    #[error("limit {0} must be at least 1")]
    ZeroLimit(&'static str),
    #[error("answer_seconds must not exceed max_answer_seconds")]
    AnswerSeconds,
}

/// Ids travel in URLs, CSV files and Redis keys: keep them boring.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl SessionDef {
    pub fn validate(&self) -> Result<(), DefinitionError> {
        if !valid_id(&self.id) || self.id.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(DefinitionError::BadSessionId);
        }
        title(&self.title)?;
        theme(&self.theme)?;
        let mains = self.venues.iter().filter(|v| v.kind == VenueKind::Main).count();
        if mains != 1 {
            return Err(DefinitionError::MainVenueCount(mains));
        }
        check_ids("venue", self.venues.iter().map(|v| (v.id.as_str(), v.name.as_str())))?;
        check_ids("unit", self.units.iter().map(|v| (v.id.as_str(), v.name.as_str())))?;
        check_ids("topic", self.topics.iter().map(|v| (v.id.as_str(), v.name.as_str())))?;
        self.validate_delegates(&self.delegates, &BTreeSet::new())?;
        if self.units.is_empty() || self.topics.is_empty() {
            return Err(DefinitionError::NothingToAsk);
        }
        self.limits.validate()
    }
}

/// Longest "due soon" warning: a quarter of a year.
pub const MAX_DUE_SOON_DAYS: u32 = 90;

impl Limits {
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let l = self;
        for (name, v) in [
            ("question_chars", l.question_chars),
            ("reason_chars", l.reason_chars),
            ("answer_chars", l.answer_chars),
            ("short_chars", l.short_chars),
            ("questions_per_delegate", l.questions_per_delegate),
            ("follow_ups_per_item", l.follow_ups_per_item),
            ("commitments_per_answer", l.commitments_per_answer),
            ("answer_seconds", l.answer_seconds as usize),
            ("max_answer_seconds", l.max_answer_seconds as usize),
        ] {
            if v == 0 {
                return Err(DefinitionError::ZeroLimit(name));
            }
        }
        if l.answer_seconds > l.max_answer_seconds {
            return Err(DefinitionError::AnswerSeconds);
        }
        if l.due_soon_days > MAX_DUE_SOON_DAYS {
            return Err(DefinitionError::DueSoonDays);
        }
        Ok(())
    }
}

impl SessionDef {
    /// Stores every text of the definition cleaned (NFC, trimmed, see
    /// [`crate::text`]), or refuses the first one that breaks the rules.
    /// Call it before [`SessionDef::validate`] on a definition read from a file.
    pub fn normalize(&mut self) -> Result<(), DefinitionError> {
        self.title = title(&self.title)?;
        self.theme = theme(&self.theme)?;
        for v in &mut self.venues {
            v.name = name("venue", v.id.as_str(), &v.name)?;
        }
        for u in &mut self.units {
            u.name = name("unit", u.id.as_str(), &u.name)?;
        }
        for t in &mut self.topics {
            t.name = name("topic", t.id.as_str(), &t.name)?;
        }
        Self::normalize_delegates(&mut self.delegates)
    }

    /// Stores the delegates' names cleaned (a definition's or an import's).
    pub fn normalize_delegates(delegates: &mut [Delegate]) -> Result<(), DefinitionError> {
        for d in delegates {
            d.name = name("delegate", d.id.as_str(), &d.name)?;
        }
        Ok(())
    }

    /// Validates delegates to be added next to `existing` ids.
    pub fn validate_delegates(&self, new: &[Delegate], existing: &BTreeSet<DelegateId>) -> Result<(), DefinitionError> {
        check_ids("delegate", new.iter().map(|v| (v.id.as_str(), v.name.as_str())))?;
        for d in new {
            if existing.contains(&d.id) {
                return Err(DefinitionError::Duplicate { kind: "delegate", id: d.id.0.clone() });
            }
            if !self.venues.iter().any(|v| v.id == d.venue) {
                return Err(DefinitionError::UnknownVenue { delegate: d.id.0.clone(), venue: d.venue.0.clone() });
            }
        }
        Ok(())
    }

    pub fn main_venue(&self) -> &Venue {
        self.venues.iter().find(|v| v.kind == VenueKind::Main).expect("validated: one main venue")
    }
    pub fn venue(&self, id: &VenueId) -> Option<&Venue> {
        self.venues.iter().find(|v| &v.id == id)
    }
    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.iter().find(|v| &v.id == id)
    }
    pub fn topic(&self, id: &TopicId) -> Option<&Topic> {
        self.topics.iter().find(|v| &v.id == id)
    }
}

fn check_ids<'a>(kind: &'static str, items: impl Iterator<Item = (&'a str, &'a str)>) -> Result<(), DefinitionError> {
    let mut seen = BTreeSet::new();
    for (id, name) in items {
        if !valid_id(id) {
            return Err(DefinitionError::BadId { kind, id: id.to_owned() });
        }
        self::name(kind, id, name)?;
        if !seen.insert(id) {
            return Err(DefinitionError::Duplicate { kind, id: id.to_owned() });
        }
    }
    Ok(())
}

/// Cleans one single-line definition text; `empty` is the error for one with
/// nothing visible. There is no length limit of its own here.
fn clean(s: &str, what: impl FnOnce() -> String, empty: impl FnOnce() -> DefinitionError) -> Result<String, DefinitionError> {
    match text::clean(s, Lines::Single, usize::MAX) {
        Ok(t) => Ok(t),
        Err(TextError::Bad(problem)) => Err(DefinitionError::Text { what: what(), problem }),
        Err(TextError::Empty | TextError::TooLong { .. }) => Err(empty()),
    }
}

fn title(s: &str) -> Result<String, DefinitionError> {
    clean(s, || "title".into(), || DefinitionError::EmptyTitle)
}

/// The theme may be empty (nothing visible is stored as "").
fn theme(s: &str) -> Result<String, DefinitionError> {
    match text::clean(s, Lines::Single, usize::MAX) {
        Err(TextError::Empty) => Ok(String::new()),
        _ => clean(s, || "theme".into(), || DefinitionError::EmptyTitle),
    }
}

fn name(kind: &'static str, id: &str, s: &str) -> Result<String, DefinitionError> {
    clean(s, || format!("{kind} {id} name"), || DefinitionError::EmptyName { kind, id: id.to_owned() })
}
