//! Announcements (会场通知, issue 10): what the moderator tells the venues
//! ("休会五分钟", "请各分会场准备测评", "白羽街道请调整麦克风").
//!
//! An announcement goes to every venue and screen, or to chosen venues. The
//! newest one addressed to a venue is shown there until it is replaced or
//! cleared. Each addressed venue's operator page acknowledges it once it is
//! on screen, so the moderator sees which venues have seen it.
//!
//! Announcements are instructions read out in the hall, not secrets: every
//! viewer receives every announcement, and pages show the ones addressed to
//! them (screens only those to everyone). Which venues have seen one is for
//! staff and the venues themselves.
//!
//! Like the rest of the domain: [`Announcements::decide`] judges a command
//! without changing anything; [`Announcements::apply`] checks an event before
//! it changes anything.

use crate::error::{AlreadyDone, CommandError, Forbidden, Invalid, InvalidState, NotFound};
use crate::ids::{Millis, VenueId};
use crate::text::{self, Lines};
use crate::visibility::Viewer;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many announcements per session (the log is an official
/// record; a stuck button must not fill it).
pub const MAX_ANNOUNCEMENTS: usize = 200;
/// Characters of an announcement's text: a line or two on a phone.
pub const MAX_ANNOUNCEMENT_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnnouncementId(pub u32);

impl std::fmt::Display for AnnouncementId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    pub id: AnnouncementId,
    pub text: String,
    /// The venues addressed; empty: every venue and every screen.
    pub venues: Vec<VenueId>,
    pub at: Millis,
    pub cleared_at: Option<Millis>,
    /// Addressed venues whose operator page has shown it, and when.
    pub seen: BTreeMap<VenueId, Millis>,
}

impl Announcement {
    /// Is `venue` among those addressed?
    pub fn addresses(&self, venue: &VenueId) -> bool {
        self.to_everyone() || self.venues.contains(venue)
    }

    pub fn to_everyone(&self) -> bool {
        self.venues.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnnouncementCommand {
    /// The moderator announces; `venues` empty: to everyone.
    Make { text: String, venues: Vec<VenueId> },
    /// The moderator takes it off every screen.
    Clear { announcement: AnnouncementId },
    /// An addressed venue's operator page has shown it.
    Seen { announcement: AnnouncementId },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnnouncementEvent {
    Made { announcement: AnnouncementId, text: String, venues: Vec<VenueId>, at: Millis },
    Cleared { announcement: AnnouncementId, at: Millis },
    Seen { announcement: AnnouncementId, venue: VenueId, at: Millis },
}

impl AnnouncementEvent {
    pub fn announcement(&self) -> AnnouncementId {
        match self {
            AnnouncementEvent::Made { announcement, .. }
            | AnnouncementEvent::Cleared { announcement, .. }
            | AnnouncementEvent::Seen { announcement, .. } => *announcement,
        }
    }

    pub fn at(&self) -> Millis {
        match self {
            AnnouncementEvent::Made { at, .. } | AnnouncementEvent::Cleared { at, .. } | AnnouncementEvent::Seen { at, .. } => *at,
        }
    }
}

/// Every announcement of a session, by id (ids count from 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Announcements {
    items: BTreeMap<AnnouncementId, Announcement>,
}

impl Announcements {
    pub fn get(&self, id: AnnouncementId) -> Option<&Announcement> {
        self.items.get(&id)
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Announcement> {
        self.items.values()
    }

    /// Judges a command; `venues` are the session's venues.
    pub fn decide(
        &self,
        actor: &Viewer,
        cmd: &AnnouncementCommand,
        venues: &BTreeSet<VenueId>,
        at: Millis,
    ) -> Result<Vec<AnnouncementEvent>, CommandError> {
        match cmd {
            AnnouncementCommand::Make { text, venues: to } => self.make(actor, text, to, venues, at),
            AnnouncementCommand::Clear { announcement } => self.clear(actor, *announcement, at),
            AnnouncementCommand::Seen { announcement } => self.seen(actor, *announcement, at),
        }
    }

    fn make(
        &self,
        actor: &Viewer,
        t: &str,
        to: &[VenueId],
        venues: &BTreeSet<VenueId>,
        at: Millis,
    ) -> Result<Vec<AnnouncementEvent>, CommandError> {
        if *actor != Viewer::Moderator {
            return Err(Forbidden::ModeratorOnly.into());
        }
        let text = text::clean(t, Lines::Multi, MAX_ANNOUNCEMENT_CHARS).map_err(|e| Invalid::text("text", e))?;
        let mut unique = BTreeSet::new();
        for v in to {
            if !venues.contains(v) {
                return Err(NotFound::Venue(v.clone()).into());
            }
            if !unique.insert(v) {
                return Err(Invalid::DuplicateVenue.into());
            }
        }
        if self.items.len() >= MAX_ANNOUNCEMENTS {
            return Err(Invalid::TooMany { what: "announcements", max: MAX_ANNOUNCEMENTS }.into());
        }
        let announcement = AnnouncementId(self.items.len() as u32 + 1);
        Ok(vec![AnnouncementEvent::Made { announcement, text, venues: to.to_vec(), at }])
    }

    fn clear(&self, actor: &Viewer, id: AnnouncementId, at: Millis) -> Result<Vec<AnnouncementEvent>, CommandError> {
        if *actor != Viewer::Moderator {
            return Err(Forbidden::ModeratorOnly.into());
        }
        let a = self.items.get(&id).ok_or(NotFound::Announcement(id))?;
        if a.cleared_at.is_some() {
            return Err(AlreadyDone::Cleared(id).into());
        }
        Ok(vec![AnnouncementEvent::Cleared { announcement: id, at }])
    }

    fn seen(&self, actor: &Viewer, id: AnnouncementId, at: Millis) -> Result<Vec<AnnouncementEvent>, CommandError> {
        let Viewer::VenueOperator(venue) = actor else { return Err(Forbidden::Role.into()) };
        let a = self.items.get(&id).ok_or(NotFound::Announcement(id))?;
        if !a.addresses(venue) {
            return Err(Forbidden::OtherVenue.into());
        }
        if a.seen.contains_key(venue) {
            return Err(AlreadyDone::Seen(id).into());
        }
        if a.cleared_at.is_some() {
            return Err(InvalidState::AnnouncementCleared(id).into());
        }
        Ok(vec![AnnouncementEvent::Seen { announcement: id, venue: venue.clone(), at }])
    }

    /// Applies a stored event, checking it first; returns the announcement's new state.
    pub fn apply(&mut self, e: &AnnouncementEvent) -> Result<&Announcement, &'static str> {
        match e {
            AnnouncementEvent::Made { announcement, text, venues, at } => {
                if announcement.0 as usize != self.items.len() + 1 {
                    return Err("announcement ids count from 1 without gaps");
                }
                let a = Announcement {
                    id: *announcement,
                    text: text.clone(),
                    venues: venues.clone(),
                    at: *at,
                    cleared_at: None,
                    seen: BTreeMap::new(),
                };
                self.items.insert(*announcement, a);
            }
            AnnouncementEvent::Cleared { announcement, at } => {
                let a = self.items.get_mut(announcement).ok_or("no such announcement")?;
                if a.cleared_at.is_some() {
                    return Err("the announcement is already cleared");
                }
                a.cleared_at = Some(*at);
            }
            AnnouncementEvent::Seen { announcement, venue, at } => {
                let a = self.items.get_mut(announcement).ok_or("no such announcement")?;
                if !a.addresses(venue) || a.seen.contains_key(venue) {
                    return Err("the venue is not addressed or has already seen it");
                }
                a.seen.insert(venue.clone(), *at);
            }
        }
        Ok(&self.items[&e.announcement()])
    }
}
