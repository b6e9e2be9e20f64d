//! Who sees what.
//!
//! A [`Viewer`] is the authenticated identity of a connection. For each
//! applied event the hub reduces every viewer to a [`Perspective`]: all
//! viewers with the same perspective receive byte-identical messages, so each
//! broadcast is encoded once per perspective, not once per connection.
//!
//! Architecture Invariant: nobody but the caster ever sees a ballot's
//! choice; the public perspective never carries a delegate's identity.

use crate::assignment::{Actor, Item};
use crate::event::Change;
use crate::ids::{DelegateId, UnitId, VenueId};
use crate::session::Question;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Viewer {
    Moderator,
    Auditor,
    Screen,
    VenueOperator(VenueId),
    Delegate(DelegateId),
    /// The congress office (人大办): runs the assignment list after the session.
    Office,
    /// A respondent unit: handles its own assignment items.
    Unit(UnitId),
}

impl Viewer {
    /// Who this viewer is on the assignment list.
    pub fn actor(&self) -> Actor {
        match self {
            Viewer::Office => Actor::Office,
            Viewer::Unit(u) => Actor::Unit(u.clone()),
            Viewer::Delegate(d) => Actor::Delegate(d.clone()),
            Viewer::VenueOperator(v) => Actor::Operator(v.clone()),
            Viewer::Moderator | Viewer::Auditor | Viewer::Screen => Actor::Reader,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Perspective {
    /// Everything except individual ballots.
    Moderator,
    /// Everything, read-only.
    Auditor,
    /// What a screen sees; also what an operator or delegate sees of changes
    /// that do not concern them.
    Public,
    /// An operator's view of changes concerning their venue.
    Venue(VenueId),
    /// A delegate's view of changes concerning themself.
    Delegate(DelegateId),
    /// The congress office: every assignment item, drafts included; askers
    /// and roster like the moderator, but no live counts.
    Office,
    /// A unit's view of changes to its own assignment items.
    Unit(UnitId),
}

impl Perspective {
    /// The perspective from which `viewer` sees `changes`.
    pub fn of(viewer: &Viewer, changes: &[Change]) -> Perspective {
        match viewer {
            Viewer::Moderator => Perspective::Moderator,
            Viewer::Auditor => Perspective::Auditor,
            Viewer::Screen => Perspective::Public,
            Viewer::VenueOperator(v) if changes.iter().any(|c| concerns_venue(c, v)) => Perspective::Venue(v.clone()),
            Viewer::Delegate(d) if changes.iter().any(|c| concerns_delegate(c, d)) => Perspective::Delegate(d.clone()),
            Viewer::Office => Perspective::Office,
            Viewer::Unit(u) if changes.iter().any(|c| concerns_unit(c, u)) => Perspective::Unit(u.clone()),
            _ => Perspective::Public,
        }
    }

    /// The perspective for a full snapshot (everything concerns its owner).
    pub fn for_snapshot(viewer: &Viewer) -> Perspective {
        match viewer {
            Viewer::Moderator => Perspective::Moderator,
            Viewer::Auditor => Perspective::Auditor,
            Viewer::Screen => Perspective::Public,
            Viewer::VenueOperator(v) => Perspective::Venue(v.clone()),
            Viewer::Delegate(d) => Perspective::Delegate(d.clone()),
            Viewer::Office => Perspective::Office,
            Viewer::Unit(u) => Perspective::Unit(u.clone()),
        }
    }

    /// Who this perspective is on the assignment list (the auditor reads
    /// everything, like the office).
    pub fn actor(&self) -> Actor {
        match self {
            Perspective::Office | Perspective::Auditor => Actor::Office,
            Perspective::Unit(u) => Actor::Unit(u.clone()),
            Perspective::Delegate(d) => Actor::Delegate(d.clone()),
            Perspective::Venue(v) => Actor::Operator(v.clone()),
            Perspective::Moderator | Perspective::Public => Actor::Reader,
        }
    }

    /// May this perspective see the item at all?
    pub fn sees_item(&self, item: &Item) -> bool {
        item.visible_to(&self.actor())
    }

    /// May this perspective see an item's internal working: notes, extension
    /// requests, every evidence file? The office, the auditor and the item's
    /// units.
    pub fn sees_item_work(&self, item: &Item) -> bool {
        match self {
            Perspective::Office | Perspective::Auditor => true,
            Perspective::Unit(u) => item.concerns(u),
            _ => false,
        }
    }

    /// May this perspective see an item's evidence that is not public? Its
    /// units, the office, the auditor and the askers (they judge the
    /// rectification before they rate it).
    pub fn sees_private_evidence(&self, item: &Item) -> bool {
        match self {
            Perspective::Delegate(d) => item.askers.iter().any(|(a, _)| a == d),
            Perspective::Venue(v) => item.askers.iter().any(|(_, venue)| venue == v),
            _ => self.sees_item_work(item),
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Perspective::Moderator | Perspective::Auditor)
    }

    /// May this perspective see the question at all?
    pub fn sees_question(&self, q: &Question) -> bool {
        // The office works on what was approved (public); the review queue
        // is the moderator's.
        q.public || (*self != Perspective::Office && self.sees_askers(q))
    }

    /// May this perspective see who asked (and who seconded)?
    pub fn sees_askers(&self, q: &Question) -> bool {
        match self {
            Perspective::Moderator | Perspective::Auditor | Perspective::Office => true,
            Perspective::Venue(v) => q.venues.contains(v),
            // Asking a follow-up does not make one privy to who asked the question.
            Perspective::Delegate(d) => q.askers.contains(d),
            Perspective::Public | Perspective::Unit(_) => false,
        }
    }

    /// May this perspective see who asked this follow-up?
    pub fn sees_follow_up_asker(&self, f: &crate::session::FollowUp) -> bool {
        match self {
            Perspective::Moderator | Perspective::Auditor | Perspective::Office => true,
            Perspective::Venue(v) => *v == f.venue,
            Perspective::Delegate(d) => *d == f.asker,
            Perspective::Public | Perspective::Unit(_) => false,
        }
    }

    /// May this perspective see that a given delegate checked in?
    pub fn sees_check_in(&self, delegate: &DelegateId, venue: &VenueId) -> bool {
        match self {
            Perspective::Moderator | Perspective::Auditor => true,
            Perspective::Venue(v) => v == venue,
            Perspective::Delegate(d) => d == delegate,
            Perspective::Public | Perspective::Office | Perspective::Unit(_) => false,
        }
    }

    /// May this perspective see an individual ballot? Its caster only: the
    /// evaluation is a secret ballot (无记名). The auditor checks counts
    /// from the record, never by reading named ballots.
    pub fn sees_ballot(&self, delegate: &DelegateId) -> bool {
        matches!(self, Perspective::Delegate(d) if d == delegate)
    }

    /// May this perspective see roster entries of this venue?
    pub fn sees_roster(&self, venue: &VenueId) -> bool {
        match self {
            Perspective::Moderator | Perspective::Auditor | Perspective::Office => true,
            Perspective::Venue(v) => v == venue,
            _ => false,
        }
    }
}

fn concerns_venue(c: &Change, v: &VenueId) -> bool {
    match c {
        Change::Roster(ds) => ds.iter().any(|d| &d.venue == v),
        Change::CheckIn { venue, .. }
        | Change::CheckInUndone { venue, .. }
        | Change::CheckInRequested { venue, .. }
        | Change::CheckInDeclined { venue, .. } => venue == v,
        Change::Question(q) => q.venues.contains(v) || q.follow_ups.iter().any(|f| &f.venue == v),
        Change::Item(i) => i.askers.iter().any(|(_, venue)| venue == v),
        Change::Announcement(a) => a.addresses(v),
        _ => false,
    }
}

fn concerns_unit(c: &Change, u: &UnitId) -> bool {
    matches!(c, Change::Item(i) if i.concerns(u))
}

fn concerns_delegate(c: &Change, d: &DelegateId) -> bool {
    let mut hit = false;
    for_each_delegate_concerned(c, |x| hit |= x == d);
    hit
}

/// Calls `f` with every delegate `c` concerns: the delegates whose
/// perspective on a change differs from the public's. It is the one
/// definition ([`Perspective::of`] asks it too), so a broadcast may skip
/// every other delegate when the public sees nothing of an event (a
/// ballot) without disagreeing with who sees what (issue 11).
pub fn for_each_delegate_concerned<'a>(c: &'a Change, mut f: impl FnMut(&'a DelegateId)) {
    match c {
        Change::CheckIn { delegate, .. }
        | Change::CheckInUndone { delegate, .. }
        | Change::CheckInRequested { delegate, .. }
        | Change::CheckInDeclined { delegate, .. } => f(delegate),
        Change::Question(q) => {
            q.askers.iter().for_each(&mut f);
            q.seconders.iter().for_each(&mut f);
            q.follow_ups.iter().for_each(|x| f(&x.asker));
        }
        Change::Ballot(b) => f(&b.delegate),
        Change::Item(i) => i.askers.iter().for_each(|(a, _)| f(a)),
        _ => {}
    }
}
