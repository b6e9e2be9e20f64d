//! What each assignment command would do: one small function per command.
//! Nothing here mutates; `today` is the session's date, passed in.

use super::{
    Actor, AssignmentCommand, AssignmentEvent, Assignments, DraftEdit, DraftSpec, Evidence, Item, ItemId, ItemStatus, Move, NewFile,
    allowed,
};
use crate::error::{AlreadyDone, CommandError, Forbidden, Invalid, InvalidState, NotFound};
use crate::ids::{CalendarDate, DelegateId, Millis};
use crate::tally::Rating;
use crate::text::{self, Lines};

type Decided = Result<Vec<AssignmentEvent>, CommandError>;

impl Assignments {
    /// The events `cmd` by `by` would produce, or why it is refused.
    pub fn decide(&self, by: &Actor, cmd: &AssignmentCommand, now: Millis, today: CalendarDate) -> Decided {
        use AssignmentCommand as C;
        match cmd {
            C::Draft(spec) => self.draft(by, spec, now),
            C::EditDraft { item, edit } => self.edit_draft(by, *item, edit, now, today),
            C::MergeDrafts { into, from } => self.merge(by, *into, *from, now),
            C::Issue { item } => self.issue(by, *item, now, today),
            C::StartHandling { item } => self.by_lead(by, *item, ItemStatus::InHandling, None, now),
            C::Reply { item, text } => self.by_lead(by, *item, ItemStatus::Answered, Some(("reply", text)), now),
            C::Rectify { item, text } => self.by_lead(by, *item, ItemStatus::Rectified, Some(("rectification", text)), now),
            C::AddNote { item, text } => self.note(by, *item, text, now),
            C::AddEvidence { item, file } => self.add_evidence(by, *item, file, now),
            C::PublishEvidence { item, id, public } => self.publish_evidence(by, *item, id, *public, now),
            C::Return { item, reason } => self.return_item(by, *item, reason, now),
            C::RequestExtension { item, until, reason } => self.request_extension(by, *item, *until, reason, now, today),
            C::DecideExtension { item, grant, answer } => self.decide_extension(by, *item, *grant, answer.as_deref(), now),
            C::Close { item } => self.close(by, *item, now),
            C::Rate { item, on_behalf_of, rating, comment, rehandle } => {
                self.rate(by, *item, on_behalf_of.as_ref(), (*rating, *rehandle), comment.as_deref(), now)
            }
        }
    }

    fn get(&self, id: ItemId) -> Result<&Item, CommandError> {
        match self.items.get(&id) {
            Some(i) if i.merged_into.is_none() => Ok(i),
            _ => Err(NotFound::Item(id).into()),
        }
    }

    fn text(&self, field: &'static str, s: &str) -> Result<String, CommandError> {
        text::clean(s, Lines::Multi, self.rules.text_chars).map_err(|e| Invalid::text(field, e).into())
    }

    /// Units must be the session's.
    fn known_unit(&self, u: &crate::ids::UnitId) -> Result<(), CommandError> {
        if self.units.contains(u) { Ok(()) } else { Err(NotFound::Unit(u.clone()).into()) }
    }

    fn draft(&self, by: &Actor, spec: &DraftSpec, now: Millis) -> Decided {
        office(by)?;
        self.known_unit(&spec.lead)?;
        if self.items.len() >= self.rules.items {
            return Err(Invalid::TooMany { what: "assignment items", max: self.rules.items }.into());
        }
        let requirement = self.text("requirement", &spec.requirement)?;
        let spec = DraftSpec { requirement, ..spec.clone() };
        Ok(vec![AssignmentEvent::Drafted { item: self.next_id(), spec, at: now }])
    }

    fn edit_draft(&self, by: &Actor, id: ItemId, edit: &DraftEdit, now: Millis, today: CalendarDate) -> Decided {
        office(by)?;
        let DraftEdit { lead, co_units, deadline, .. } = edit;
        for u in std::iter::once(lead).chain(co_units) {
            self.known_unit(u)?;
        }
        let it = self.get(id)?;
        if it.status != ItemStatus::Draft {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        if co_units.contains(lead) || co_units.iter().enumerate().any(|(i, u)| co_units[..i].contains(u)) {
            return Err(Invalid::DuplicateUnit.into());
        }
        if deadline.is_some_and(|d| d < today) {
            return Err(Invalid::PastDeadline.into());
        }
        let requirement = self.text("requirement", &edit.requirement)?;
        Ok(vec![AssignmentEvent::DraftEdited { item: id, edit: DraftEdit { requirement, ..edit.clone() }, at: now }])
    }

    fn merge(&self, by: &Actor, into: ItemId, from: ItemId, now: Millis) -> Decided {
        office(by)?;
        if into == from {
            return Err(Invalid::MergeItemIntoSelf.into());
        }
        for id in [into, from] {
            let it = self.get(id)?;
            if it.status != ItemStatus::Draft {
                return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
            }
        }
        Ok(vec![AssignmentEvent::DraftsMerged { into, from, at: now }])
    }

    fn issue(&self, by: &Actor, id: ItemId, now: Millis, today: CalendarDate) -> Decided {
        office(by)?;
        let it = self.get(id)?;
        if it.status != ItemStatus::Draft {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        match it.deadline {
            None => Err(Invalid::Empty { field: "deadline" }.into()),
            Some(d) if d < today => Err(Invalid::PastDeadline.into()),
            Some(_) => Ok(vec![moved(id, ItemStatus::Issued, by, None, None, Some(self.last_number + 1), now)]),
        }
    }

    /// A step only the lead unit takes (start, reply, rectify); `text` is
    /// (field, words) of a reply or rectification, checked last.
    fn by_lead(&self, by: &Actor, id: ItemId, to: ItemStatus, text: Option<(&'static str, &str)>, now: Millis) -> Decided {
        let it = self.visible_to_unit(by, id)?;
        if !matches!(by, Actor::Unit(u) if *u == it.lead) {
            return Err(Forbidden::NotLeadUnit.into());
        }
        // Back to handling is the office's return; a unit only starts an issued item.
        let ok = match to {
            ItemStatus::InHandling => it.status == ItemStatus::Issued,
            _ => allowed(it.status, to),
        };
        if !ok {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        let text = text.map(|(field, t)| self.text(field, t)).transpose()?;
        Ok(vec![moved(id, to, by, text, None, None, now)])
    }

    /// The item, if `by` is a unit that may see it; typed refusals otherwise.
    fn visible_to_unit(&self, by: &Actor, id: ItemId) -> Result<&Item, CommandError> {
        let Actor::Unit(unit) = by else { return Err(Forbidden::Role.into()) };
        let it = self.get(id)?;
        // A draft is the office's: units do not know it exists yet.
        if it.status == ItemStatus::Draft {
            return Err(NotFound::Item(id).into());
        }
        if !it.concerns(unit) {
            return Err(Forbidden::OtherUnit.into());
        }
        Ok(it)
    }

    fn note(&self, by: &Actor, id: ItemId, text: &str, now: Millis) -> Decided {
        let it = self.visible_to_unit(by, id)?;
        if it.status == ItemStatus::Closed {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        if it.notes.len() >= self.rules.notes_per_item {
            return Err(Invalid::TooMany { what: "notes on one item", max: self.rules.notes_per_item }.into());
        }
        let text = self.text("note", text)?;
        let Actor::Unit(unit) = by else { unreachable!("checked by visible_to_unit") };
        Ok(vec![AssignmentEvent::NoteAdded { item: id, unit: unit.clone(), text, at: now }])
    }

    fn add_evidence(&self, by: &Actor, id: ItemId, f: &NewFile, now: Millis) -> Decided {
        let NewFile { id: file, name, kind, bytes } = f;
        let (kind, bytes) = (*kind, *bytes);
        let it = self.visible_to_unit(by, id)?;
        if it.status == ItemStatus::Closed {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        if it.evidence.iter().any(|e| &e.id == file) {
            return Err(AlreadyDone::Evidence(id).into());
        }
        let r = &self.rules;
        if it.evidence.len() >= r.evidence_per_item {
            return Err(Invalid::TooMany { what: "files on one item", max: r.evidence_per_item }.into());
        }
        if bytes > r.evidence_bytes {
            return Err(Invalid::TooLarge { what: "a file", max_bytes: r.evidence_bytes }.into());
        }
        let total: u64 = it.evidence.iter().map(|e| e.bytes).sum();
        if total + bytes > r.evidence_bytes_per_item {
            return Err(Invalid::TooLarge { what: "the files of one item together", max_bytes: r.evidence_bytes_per_item }.into());
        }
        let name = text::clean(name, Lines::Single, r.name_chars).map_err(|e| Invalid::text("name", e))?;
        let Actor::Unit(unit) = by else { unreachable!("checked by visible_to_unit") };
        let evidence = Evidence { id: file.clone(), name, kind, bytes, unit: unit.clone(), at: now, public: false };
        Ok(vec![AssignmentEvent::EvidenceAdded { item: id, evidence }])
    }

    fn publish_evidence(&self, by: &Actor, id: ItemId, file: &str, public: bool, now: Millis) -> Decided {
        office(by)?;
        let it = self.get(id)?;
        if !it.evidence.iter().any(|e| e.id == file) {
            return Err(NotFound::Evidence(file.to_owned()).into());
        }
        Ok(vec![AssignmentEvent::EvidencePublished { item: id, id: file.to_owned(), public, at: now }])
    }

    fn return_item(&self, by: &Actor, id: ItemId, reason: &str, now: Millis) -> Decided {
        office(by)?;
        let it = self.get(id)?;
        if !matches!(it.status, ItemStatus::Answered | ItemStatus::Rectified) {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        let reason = self.text("reason", reason)?;
        Ok(vec![moved(id, ItemStatus::InHandling, by, None, Some(reason), None, now)])
    }

    fn request_extension(&self, by: &Actor, id: ItemId, until: CalendarDate, reason: &str, now: Millis, today: CalendarDate) -> Decided {
        let it = self.visible_to_unit(by, id)?;
        if !matches!(by, Actor::Unit(u) if *u == it.lead) {
            return Err(Forbidden::NotLeadUnit.into());
        }
        if !it.status.pending() {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        if it.pending_extension().is_some() {
            return Err(AlreadyDone::ExtensionRequested(id).into());
        }
        if it.extensions.len() >= self.rules.extensions_per_item {
            return Err(Invalid::TooMany { what: "extension requests on one item", max: self.rules.extensions_per_item }.into());
        }
        if until < today || it.deadline.is_some_and(|d| until <= d) {
            return Err(Invalid::ExtensionNotLater.into());
        }
        let reason = self.text("reason", reason)?;
        Ok(vec![AssignmentEvent::ExtensionRequested { item: id, until, reason, at: now }])
    }

    fn decide_extension(&self, by: &Actor, id: ItemId, grant: bool, answer: Option<&str>, now: Millis) -> Decided {
        office(by)?;
        let it = self.get(id)?;
        if it.pending_extension().is_none() {
            return Err(InvalidState::NoExtensionRequest(id).into());
        }
        let answer = match answer {
            Some(a) => Some(self.text("answer", a)?),
            // Refusing says why; granting may go without words.
            None if !grant => return Err(Invalid::Empty { field: "answer" }.into()),
            None => None,
        };
        Ok(vec![AssignmentEvent::ExtensionDecided { item: id, granted: grant, answer, at: now }])
    }

    fn close(&self, by: &Actor, id: ItemId, now: Millis) -> Decided {
        office(by)?;
        let it = self.get(id)?;
        if !allowed(it.status, ItemStatus::Closed) {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        Ok(vec![moved(id, ItemStatus::Closed, by, None, None, None, now)])
    }

    fn rate(
        &self,
        by: &Actor,
        id: ItemId,
        on_behalf_of: Option<&DelegateId>,
        (rating, rehandle): (Rating, bool),
        comment: Option<&str>,
        now: Millis,
    ) -> Decided {
        if rehandle && rating != Rating::Dissatisfied {
            return Err(Invalid::RehandleNeedsDissatisfied.into());
        }
        let (delegate, by_operator) = match (by, on_behalf_of) {
            (Actor::Delegate(d), None) => (d, false),
            (Actor::Delegate(d), Some(o)) if o == d => (d, false),
            (Actor::Delegate(_), Some(_)) => return Err(Forbidden::OtherDelegate.into()),
            (Actor::Operator(_), Some(d)) => (d, true),
            (Actor::Operator(_), None) => return Err(Invalid::Empty { field: "on_behalf_of" }.into()),
            _ => return Err(Forbidden::AskersOnly.into()),
        };
        let it = self.get(id)?;
        let Some((_, venue)) = it.askers.iter().find(|(d, _)| d == delegate) else {
            return Err(Forbidden::AskersOnly.into());
        };
        if matches!(by, Actor::Operator(v) if v != venue) {
            return Err(Forbidden::OtherVenue.into());
        }
        if !it.status.resolved() {
            return Err(InvalidState::ItemStatus { item: id, status: it.status }.into());
        }
        if it.ratings.contains_key(delegate) {
            return Err(AlreadyDone::Rated(id).into());
        }
        let comment = match comment {
            Some(c) => Some(text::clean(c, Lines::Multi, self.rules.comment_chars).map_err(|e| Invalid::text("comment", e))?),
            None => None,
        };
        Ok(vec![AssignmentEvent::Rated { item: id, delegate: delegate.clone(), rating, comment, by_operator, rehandle, at: now }])
    }
}

fn office(by: &Actor) -> Result<(), CommandError> {
    match by {
        Actor::Office => Ok(()),
        Actor::Reader => Err(Forbidden::ReadOnly.into()),
        _ => Err(Forbidden::OfficeOnly.into()),
    }
}

fn moved(
    item: ItemId,
    to: ItemStatus,
    by: &Actor,
    text: Option<String>,
    reason: Option<String>,
    number: Option<u32>,
    at: Millis,
) -> AssignmentEvent {
    AssignmentEvent::Moved { item, change: Move { to, by: by.clone(), text, reason, number }, at }
}
