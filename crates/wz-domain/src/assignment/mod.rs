//! The assignment list (交办清单): what the session hands to the respondent
//! units afterwards, how each unit handles its items, and how the original
//! askers rate the outcome (跟踪测评).
//!
//! An aggregate of its own ([`Assignments`]) with its own commands, events,
//! `decide` (`decide.rs`) and `apply` (here), so the follow-up rules live in
//! one module and the live session's rules stay as they are. The dashboard
//! figures (`dashboard.rs`) are derived from the items and a date passed in:
//! like everything in this crate, it has no clock.
//!
//! The lifecycle: 草拟 (draft) → 已交办 (issued) → 办理中 (in handling) →
//! 已答复 (answered, the unit's written reply) → 已整改 (rectified) → 已办结
//! (closed by the office). The office may return an answered or rectified
//! item to handling (退回, with a reason); a unit may ask for a later deadline
//! (申请延期), which the office grants or refuses. Every transition keeps who,
//! when and why ([`Transition`]).
//!
//! Architecture Invariant: as for the session, `decide` never mutates, and
//! `apply` checks everything that can refuse an event before it changes
//! anything, so a refused event leaves the state as it was.
//!
//! Status: the rules and their tests. Wiring them into the session's command
//! log, the protocol and the pages is the rest of issue 8.

mod dashboard;
mod decide;
mod drafting;
mod evidence;
mod rules;

pub use dashboard::{Counts, Dashboard};
pub use evidence::{Evidence, FileKind, sniff};
pub use rules::Rules;

use crate::ids::{CalendarDate, DelegateId, FollowUpId, Millis, QuestionId, UnitId, VenueId};
use crate::tally::Rating;
use std::collections::BTreeMap;
use std::fmt;

/// An item's number in the list, from 1, in the order items were drafted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(pub u32);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// 草拟 / 已交办 / 办理中 / 已答复 / 已整改 / 已办结.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemStatus {
    Draft,
    Issued,
    InHandling,
    Answered,
    Rectified,
    Closed,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 6] = [Self::Draft, Self::Issued, Self::InHandling, Self::Answered, Self::Rectified, Self::Closed];

    /// Answered, rectified or closed: what the article's "80 % and more" counts.
    pub fn resolved(self) -> bool {
        matches!(self, Self::Answered | Self::Rectified | Self::Closed)
    }

    /// Issued and not yet answered: the deadline still binds the unit.
    pub fn pending(self) -> bool {
        matches!(self, Self::Issued | Self::InHandling)
    }
}

/// 一般 / 重点督办.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    #[default]
    Normal,
    Supervised,
}

/// Where an item comes from in the live session.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A commitment (承诺事项) made on the floor: its place in the answer to
    /// the question, or to one of its follow-ups.
    Commitment { question: QuestionId, follow_up: Option<FollowUpId>, index: u16 },
    /// A question answered on the floor without a commitment: the answer is
    /// to be confirmed in writing.
    Answer { question: QuestionId },
    /// An approved question that never reached the floor: it needs a
    /// written reply (书面答复).
    Unasked { question: QuestionId },
    /// A follow-up the floor left open.
    FollowUp { question: QuestionId, follow_up: FollowUpId },
}

/// A draft as the office (or the automatic drafting at close) proposes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftSpec {
    pub sources: Vec<Source>,
    /// The delegates who asked, with their venues: they rate the outcome.
    pub askers: Vec<(DelegateId, VenueId)>,
    pub lead: UnitId,
    pub requirement: String,
    /// A commitment's own date; the office sets or changes it before issuing.
    pub deadline: Option<CalendarDate>,
}

/// What the office sets on a draft before issuing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftEdit {
    pub lead: UnitId,
    pub co_units: Vec<UnitId>,
    pub requirement: String,
    pub deadline: Option<CalendarDate>,
    pub priority: Priority,
}

/// A status change: where to, who, and what came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub to: ItemStatus,
    pub by: Actor,
    /// The reply (to answered) or the rectification (to rectified).
    pub text: Option<String>,
    /// A return's reason.
    pub reason: Option<String>,
    /// The number given at issue.
    pub number: Option<u32>,
}

/// A file as the hub hands it to `decide`: already stored (under `id`) and
/// recognised by its content (`kind`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    pub id: String,
    pub name: String,
    pub kind: FileKind,
    pub bytes: u64,
}

/// Who acts on the assignment list. Mapped from the connection's viewer by
/// the caller; never from a message body.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Actor {
    /// The congress office: drafts, issues, supervises and closes.
    Office,
    /// A respondent unit: handles its own items.
    Unit(UnitId),
    /// A delegate: rates the items they asked.
    Delegate(DelegateId),
    /// A venue operator: rates on behalf of an asker of their venue.
    Operator(VenueId),
    /// Anyone else (screen, auditor, the public): reads only.
    Reader,
}

/// One step of an item's lifecycle, kept for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: ItemStatus,
    pub to: ItemStatus,
    pub at: Millis,
    pub by: Actor,
    /// Why (a return's reason), where there is one.
    pub reason: Option<String>,
}

/// A dated progress note from a unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub unit: UnitId,
    pub text: String,
    pub at: Millis,
}

/// A unit's request for a later deadline, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub until: CalendarDate,
    pub reason: String,
    pub requested_at: Millis,
    /// `None` while the office has not decided.
    pub granted: Option<bool>,
    pub decided_at: Option<Millis>,
    pub answer: Option<String>,
}

/// One asker's follow-up rating: final once accepted, secret (only counts
/// are ever shown; who chose what is for the caster alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUpRating {
    pub rating: Rating,
    pub comment: Option<String>,
    /// Recorded by the asker's venue operator on their behalf.
    pub by_operator: bool,
    /// With 不满意 only: the asker asks the office, openly, to have the item
    /// handled again (申请重办). The rating stays secret; the request is a
    /// choice to tell the office "someone is dissatisfied".
    pub rehandle: bool,
    pub at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: ItemId,
    pub status: ItemStatus,
    /// Given when the item is issued: the number on the assignment letter.
    pub number: Option<u32>,
    pub sources: Vec<Source>,
    pub askers: Vec<(DelegateId, VenueId)>,
    pub lead: UnitId,
    /// 协办: units that help; they see the item and may add notes.
    pub co_units: Vec<UnitId>,
    pub requirement: String,
    pub deadline: Option<CalendarDate>,
    pub priority: Priority,
    /// The unit's written reply (已答复).
    pub reply: Option<String>,
    /// What was rectified, with the evidence described (已整改).
    pub rectification: Option<String>,
    pub notes: Vec<Note>,
    pub evidence: Vec<Evidence>,
    pub extensions: Vec<Extension>,
    pub history: Vec<Transition>,
    pub ratings: BTreeMap<DelegateId, FollowUpRating>,
    /// Merged into another draft: kept for the record, out of every count.
    pub merged_into: Option<ItemId>,
}

impl Item {
    /// May `unit` see this item (lead or co-handling)?
    pub fn concerns(&self, unit: &UnitId) -> bool {
        &self.lead == unit || self.co_units.contains(unit)
    }

    /// Past its deadline and not yet answered.
    pub fn overdue(&self, today: CalendarDate) -> bool {
        self.merged_into.is_none() && self.status.pending() && self.deadline.is_some_and(|d| d < today)
    }

    /// Not overdue, still pending, and due within `days` days of `today`.
    pub fn due_soon(&self, today: CalendarDate, days: u32) -> bool {
        self.merged_into.is_none()
            && self.status.pending()
            && self.deadline.is_some_and(|d| d >= today && d.days_since(today) <= i64::from(days))
    }

    /// The extension request the office has not decided yet.
    pub fn pending_extension(&self) -> Option<&Extension> {
        self.extensions.last().filter(|e| e.granted.is_none())
    }

    /// May `who` see this item at all? The office sees everything, drafts
    /// included; everyone else every issued item, as the public does (the
    /// progress page shows them all). What of an item each may see (notes,
    /// files, who asked; never who rated what) is the protocol's rendering,
    /// richer for the item's units and askers.
    pub fn visible_to(&self, who: &Actor) -> bool {
        matches!(who, Actor::Office) || (self.status != ItemStatus::Draft && self.merged_into.is_none())
    }

    /// An asker, dissatisfied, asked for the item to be handled again
    /// (申请重办): the office sees it flagged and may return it (重办). A
    /// 不满意 without that request stays as secret as any other rating.
    pub fn flagged(&self) -> bool {
        self.ratings.values().any(|r| r.rehandle)
    }
}

/// What the assignment list does; the caller passes the [`Actor`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignmentCommand {
    Draft(DraftSpec),
    /// Only drafts can be edited.
    EditDraft {
        item: ItemId,
        edit: DraftEdit,
    },
    /// Folds draft `from` into draft `into` (sources and askers together).
    MergeDrafts {
        into: ItemId,
        from: ItemId,
    },
    /// 交办: numbered and visible to its units from now on.
    Issue {
        item: ItemId,
    },
    StartHandling {
        item: ItemId,
    },
    Reply {
        item: ItemId,
        text: String,
    },
    Rectify {
        item: ItemId,
        text: String,
    },
    AddNote {
        item: ItemId,
        text: String,
    },
    /// 退回: back to handling, with the reason.
    Return {
        item: ItemId,
        reason: String,
    },
    /// A file the hub has stored and recognised.
    AddEvidence {
        item: ItemId,
        file: NewFile,
    },
    /// The office shows (or hides) a file on the public progress page.
    PublishEvidence {
        item: ItemId,
        id: String,
        public: bool,
    },
    RequestExtension {
        item: ItemId,
        until: CalendarDate,
        reason: String,
    },
    DecideExtension {
        item: ItemId,
        grant: bool,
        answer: Option<String>,
    },
    /// 办结.
    Close {
        item: ItemId,
    },
    /// 跟踪测评: an asker's rating, or their venue operator's on their behalf.
    /// `rehandle` (申请重办) only with 不满意.
    Rate {
        item: ItemId,
        on_behalf_of: Option<DelegateId>,
        rating: Rating,
        comment: Option<String>,
        rehandle: bool,
    },
}

/// What happened to the assignment list; `apply` makes it so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignmentEvent {
    Drafted { item: ItemId, spec: DraftSpec, at: Millis },
    DraftEdited { item: ItemId, edit: DraftEdit, at: Millis },
    DraftsMerged { into: ItemId, from: ItemId, at: Millis },
    Moved { item: ItemId, change: Move, at: Millis },
    NoteAdded { item: ItemId, unit: UnitId, text: String, at: Millis },
    EvidenceAdded { item: ItemId, evidence: Evidence },
    EvidencePublished { item: ItemId, id: String, public: bool, at: Millis },
    ExtensionRequested { item: ItemId, until: CalendarDate, reason: String, at: Millis },
    ExtensionDecided { item: ItemId, granted: bool, answer: Option<String>, at: Millis },
    Rated { item: ItemId, delegate: DelegateId, rating: Rating, comment: Option<String>, by_operator: bool, rehandle: bool, at: Millis },
}

impl AssignmentEvent {
    /// The item the event is about (`into` for a merge).
    pub fn item(&self) -> ItemId {
        match self {
            AssignmentEvent::Drafted { item, .. }
            | AssignmentEvent::DraftEdited { item, .. }
            | AssignmentEvent::Moved { item, .. }
            | AssignmentEvent::NoteAdded { item, .. }
            | AssignmentEvent::EvidenceAdded { item, .. }
            | AssignmentEvent::EvidencePublished { item, .. }
            | AssignmentEvent::ExtensionRequested { item, .. }
            | AssignmentEvent::ExtensionDecided { item, .. }
            | AssignmentEvent::Rated { item, .. } => *item,
            AssignmentEvent::DraftsMerged { into, .. } => *into,
        }
    }

    /// When it happened.
    pub fn at(&self) -> Millis {
        match self {
            AssignmentEvent::Drafted { at, .. }
            | AssignmentEvent::DraftEdited { at, .. }
            | AssignmentEvent::DraftsMerged { at, .. }
            | AssignmentEvent::Moved { at, .. }
            | AssignmentEvent::NoteAdded { at, .. }
            | AssignmentEvent::EvidencePublished { at, .. }
            | AssignmentEvent::ExtensionRequested { at, .. }
            | AssignmentEvent::ExtensionDecided { at, .. }
            | AssignmentEvent::Rated { at, .. } => *at,
            AssignmentEvent::EvidenceAdded { evidence, .. } => evidence.at,
        }
    }
}

/// The whole assignment list of one session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignments {
    pub(crate) items: BTreeMap<ItemId, Item>,
    /// The session's units: an item's lead and co-handling units are among them.
    pub(crate) units: std::collections::BTreeSet<UnitId>,
    /// The last number given at issue.
    pub(crate) last_number: u32,
    pub(crate) rules: Rules,
}

/// Why an assignment event does not apply (a bug in `decide`, or a log that
/// does not belong to this state).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("assignment event does not apply: {0}")]
pub struct AssignmentApplyError(pub &'static str);

type Applied = Result<(), AssignmentApplyError>;

fn fail(why: &'static str) -> Applied {
    Err(AssignmentApplyError(why))
}

impl Assignments {
    /// An empty list for a session with these units.
    pub fn new(rules: Rules, units: impl IntoIterator<Item = UnitId>) -> Self {
        Self { rules, units: units.into_iter().collect(), ..Self::default() }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn item(&self, id: ItemId) -> Option<&Item> {
        self.items.get(&id)
    }

    /// Every item, merged drafts included, by id.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values()
    }

    /// The items `who` may see, by id (see [`Item::visible_to`]).
    pub fn visible_to<'a>(&'a self, who: &'a Actor) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.values().filter(move |i| i.visible_to(who))
    }

    fn next_id(&self) -> ItemId {
        ItemId(self.items.keys().next_back().map_or(1, |id| id.0 + 1))
    }

    /// Applies one event: checks everything first, then changes the state.
    pub fn apply(&mut self, e: &AssignmentEvent) -> Applied {
        match e {
            AssignmentEvent::Drafted { item, spec, .. } => self.drafted(*item, spec),
            AssignmentEvent::DraftEdited { item, edit, .. } => {
                let Some(it) = self.items.get_mut(item) else { return fail("no such item") };
                if it.status != ItemStatus::Draft || it.merged_into.is_some() {
                    return fail("only a draft can be edited");
                }
                // Checked: nothing below fails.
                it.lead = edit.lead.clone();
                it.co_units = edit.co_units.clone();
                it.requirement = edit.requirement.clone();
                it.deadline = edit.deadline;
                it.priority = edit.priority;
                Ok(())
            }
            AssignmentEvent::DraftsMerged { into, from, .. } => self.merged(*into, *from),
            AssignmentEvent::Moved { item, change, at } => self.moved(*item, change, *at),
            AssignmentEvent::NoteAdded { item, unit, text, at } => {
                let Some(it) = self.items.get_mut(item) else { return fail("no such item") };
                if !it.concerns(unit) || it.notes.len() >= self.rules.notes_per_item {
                    return fail("note not allowed");
                }
                // Checked: nothing below fails.
                it.notes.push(Note { unit: unit.clone(), text: text.clone(), at: *at });
                Ok(())
            }
            AssignmentEvent::EvidenceAdded { item, evidence } => {
                let Some(it) = self.items.get_mut(item) else { return fail("no such item") };
                let total: u64 = it.evidence.iter().map(|e| e.bytes).sum();
                if !it.concerns(&evidence.unit)
                    || it.evidence.iter().any(|e| e.id == evidence.id)
                    || it.evidence.len() >= self.rules.evidence_per_item
                    || total + evidence.bytes > self.rules.evidence_bytes_per_item
                {
                    return fail("evidence not allowed");
                }
                // Checked: nothing below fails.
                it.evidence.push(evidence.clone());
                Ok(())
            }
            AssignmentEvent::EvidencePublished { item, id, public, .. } => {
                let Some(e) = self.items.get_mut(item).and_then(|it| it.evidence.iter_mut().find(|e| &e.id == id)) else {
                    return fail("no such evidence");
                };
                // Checked: nothing below fails.
                e.public = *public;
                Ok(())
            }
            AssignmentEvent::ExtensionRequested { item, until, reason, at } => {
                let Some(it) = self.items.get_mut(item) else { return fail("no such item") };
                if it.pending_extension().is_some() || it.extensions.len() >= self.rules.extensions_per_item {
                    return fail("extension not allowed");
                }
                // Checked: nothing below fails.
                it.extensions.push(Extension {
                    until: *until,
                    reason: reason.clone(),
                    requested_at: *at,
                    granted: None,
                    decided_at: None,
                    answer: None,
                });
                Ok(())
            }
            AssignmentEvent::ExtensionDecided { item, granted, answer, at } => {
                let Some(it) = self.items.get_mut(item) else { return fail("no such item") };
                let Some(until) = it.pending_extension().map(|x| x.until) else { return fail("no pending extension") };
                // Checked: nothing below fails.
                let x = it.extensions.last_mut().expect("a pending extension");
                x.granted = Some(*granted);
                x.decided_at = Some(*at);
                x.answer = answer.clone();
                if *granted {
                    it.deadline = Some(until);
                }
                Ok(())
            }
            AssignmentEvent::Rated { item, delegate, rating, comment, by_operator, rehandle, at } => {
                let Some(it) = self.items.get_mut(item) else { return fail("no such item") };
                if it.ratings.contains_key(delegate)
                    || !it.askers.iter().any(|(d, _)| d == delegate)
                    || (*rehandle && *rating != Rating::Dissatisfied)
                {
                    return fail("rating not allowed");
                }
                // Checked: nothing below fails.
                it.ratings.insert(
                    delegate.clone(),
                    FollowUpRating { rating: *rating, comment: comment.clone(), by_operator: *by_operator, rehandle: *rehandle, at: *at },
                );
                Ok(())
            }
        }
    }

    fn drafted(&mut self, id: ItemId, spec: &DraftSpec) -> Applied {
        if self.items.contains_key(&id) || id != self.next_id() || self.items.len() >= self.rules.items {
            return fail("a draft takes the next free id");
        }
        // Checked: nothing below fails.
        let item = Item {
            id,
            status: ItemStatus::Draft,
            number: None,
            sources: spec.sources.clone(),
            askers: spec.askers.clone(),
            lead: spec.lead.clone(),
            co_units: Vec::new(),
            requirement: spec.requirement.clone(),
            deadline: spec.deadline,
            priority: Priority::Normal,
            reply: None,
            rectification: None,
            notes: Vec::new(),
            evidence: Vec::new(),
            extensions: Vec::new(),
            history: Vec::new(),
            ratings: BTreeMap::new(),
            merged_into: None,
        };
        self.items.insert(id, item);
        Ok(())
    }

    fn merged(&mut self, into: ItemId, from: ItemId) -> Applied {
        let is_draft = |s: &Self, id| s.items.get(&id).is_some_and(|i: &Item| i.status == ItemStatus::Draft && i.merged_into.is_none());
        if into == from || !is_draft(self, into) || !is_draft(self, from) {
            return fail("only two different drafts merge");
        }
        // Checked: nothing below fails.
        let src = self.items.get_mut(&from).expect("checked");
        src.merged_into = Some(into);
        let (sources, askers) = (src.sources.clone(), src.askers.clone());
        let dst = self.items.get_mut(&into).expect("checked");
        for s in sources {
            if !dst.sources.contains(&s) {
                dst.sources.push(s);
            }
        }
        for a in askers {
            if !dst.askers.contains(&a) {
                dst.askers.push(a);
            }
        }
        Ok(())
    }

    fn moved(&mut self, id: ItemId, m: &Move, at: Millis) -> Applied {
        let (to, number) = (m.to, m.number);
        let Some(it) = self.items.get(&id) else { return fail("no such item") };
        if it.merged_into.is_some() || !allowed(it.status, to) {
            return fail("not a transition of the lifecycle");
        }
        let issuing = to == ItemStatus::Issued && it.status == ItemStatus::Draft;
        if issuing != number.is_some() || number.is_some_and(|n| n != self.last_number + 1) || (issuing && it.deadline.is_none()) {
            return fail("issuing gives the next number to an item with a deadline");
        }
        // Checked: nothing below fails.
        if let Some(n) = number {
            self.last_number = n;
        }
        let it = self.items.get_mut(&id).expect("checked");
        it.history.push(Transition { from: it.status, to, at, by: m.by.clone(), reason: m.reason.clone() });
        it.status = to;
        if number.is_some() {
            it.number = number;
        }
        match to {
            ItemStatus::Answered => it.reply = m.text.clone(),
            ItemStatus::Rectified => it.rectification = m.text.clone(),
            _ => {}
        }
        Ok(())
    }
}

/// The lifecycle's edges. Returning is `Answered | Rectified → InHandling`.
pub fn allowed(from: ItemStatus, to: ItemStatus) -> bool {
    use ItemStatus::*;
    matches!(
        (from, to),
        (Draft, Issued)
            | (Issued, InHandling)
            | (Issued | InHandling, Answered)
            | (Issued | InHandling | Answered, Rectified)
            | (Answered | Rectified, InHandling)
            | (Answered | Rectified, Closed)
    )
}
