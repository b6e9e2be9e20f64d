//! Stored records of the assignment list's events (issue 8).
//!
//! Their `type` names all start with `item_`, so a reader tells them from
//! the live session's records before decoding. They came with the same
//! event format (1): new record types, no existing shape changed.

use super::StoredError;
use crate::assignment::{FileKind, ItemStatus, Priority, SourceDto, actor_from_label, actor_label};
use crate::dto::Rating;
use serde::{Deserialize, Serialize};
use wz_domain as d;
use wz_domain::assignment as a;

// The prefix is part of the names on disk: it tells these records apart.
#[allow(clippy::enum_variant_names)]
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ItemRecord {
    ItemDrafted {
        item: u32,
        sources: Vec<SourceDto>,
        /// `[delegate, venue]` pairs.
        askers: Vec<(String, String)>,
        lead: String,
        requirement: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<String>,
        at: u64,
    },
    ItemDraftEdited {
        item: u32,
        lead: String,
        co_units: Vec<String>,
        requirement: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<String>,
        priority: Priority,
        at: u64,
    },
    ItemDraftsMerged {
        into: u32,
        from: u32,
        at: u64,
    },
    ItemMoved {
        item: u32,
        to: ItemStatus,
        /// `office` or `unit:<id>` (not `by`: that is the record's
        /// metadata, the credential that sent the command).
        actor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<u32>,
        at: u64,
    },
    ItemNoteAdded {
        item: u32,
        unit: String,
        text: String,
        at: u64,
    },
    ItemEvidenceAdded {
        item: u32,
        file: String,
        name: String,
        kind: FileKind,
        bytes: u64,
        unit: String,
        public: bool,
        at: u64,
    },
    ItemEvidencePublished {
        item: u32,
        file: String,
        public: bool,
        at: u64,
    },
    ItemExtensionRequested {
        item: u32,
        until: String,
        reason: String,
        at: u64,
    },
    ItemExtensionDecided {
        item: u32,
        granted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer: Option<String>,
        at: u64,
    },
    ItemRated {
        item: u32,
        delegate: String,
        rating: Rating,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        by_operator: bool,
        rehandle: bool,
        at: u64,
    },
}

pub(super) fn encode(e: &a::AssignmentEvent) -> ItemRecord {
    use a::AssignmentEvent as E;
    match e {
        E::Drafted { item, spec, at } => ItemRecord::ItemDrafted {
            item: item.0,
            sources: spec.sources.iter().map(SourceDto::from).collect(),
            askers: spec.askers.iter().map(|(d, v)| (d.0.clone(), v.0.clone())).collect(),
            lead: spec.lead.0.clone(),
            requirement: spec.requirement.clone(),
            deadline: spec.deadline.map(|x| x.to_string()),
            at: at.0,
        },
        E::DraftEdited { item, edit, at } => ItemRecord::ItemDraftEdited {
            item: item.0,
            lead: edit.lead.0.clone(),
            co_units: edit.co_units.iter().map(|u| u.0.clone()).collect(),
            requirement: edit.requirement.clone(),
            deadline: edit.deadline.map(|x| x.to_string()),
            priority: edit.priority.into(),
            at: at.0,
        },
        E::DraftsMerged { into, from, at } => ItemRecord::ItemDraftsMerged { into: into.0, from: from.0, at: at.0 },
        E::Moved { item, change, at } => ItemRecord::ItemMoved {
            item: item.0,
            to: change.to.into(),
            actor: actor_label(&change.by),
            text: change.text.clone(),
            reason: change.reason.clone(),
            number: change.number,
            at: at.0,
        },
        E::NoteAdded { item, unit, text, at } => {
            ItemRecord::ItemNoteAdded { item: item.0, unit: unit.0.clone(), text: text.clone(), at: at.0 }
        }
        E::EvidenceAdded { item, evidence: x } => ItemRecord::ItemEvidenceAdded {
            item: item.0,
            file: x.id.clone(),
            name: x.name.clone(),
            kind: x.kind.into(),
            bytes: x.bytes,
            unit: x.unit.0.clone(),
            public: x.public,
            at: x.at.0,
        },
        E::EvidencePublished { item, id, public, at } => {
            ItemRecord::ItemEvidencePublished { item: item.0, file: id.clone(), public: *public, at: at.0 }
        }
        E::ExtensionRequested { item, until, reason, at } => {
            ItemRecord::ItemExtensionRequested { item: item.0, until: until.to_string(), reason: reason.clone(), at: at.0 }
        }
        E::ExtensionDecided { item, granted, answer, at } => {
            ItemRecord::ItemExtensionDecided { item: item.0, granted: *granted, answer: answer.clone(), at: at.0 }
        }
        E::Rated { item, delegate, rating, comment, by_operator, rehandle, at } => ItemRecord::ItemRated {
            item: item.0,
            delegate: delegate.0.clone(),
            rating: (*rating).into(),
            comment: comment.clone(),
            by_operator: *by_operator,
            rehandle: *rehandle,
            at: at.0,
        },
    }
}

fn date(s: &str) -> Result<d::CalendarDate, StoredError> {
    d::CalendarDate::parse(s).ok_or_else(|| StoredError::Malformed(format!("bad date {s:?}")))
}

fn opt_date(s: Option<String>) -> Result<Option<d::CalendarDate>, StoredError> {
    s.as_deref().map(date).transpose()
}

pub(super) fn decode(r: ItemRecord) -> Result<a::AssignmentEvent, StoredError> {
    use a::AssignmentEvent as E;
    let (m, id) = (d::Millis, a::ItemId);
    let bad = |what: &str| StoredError::Malformed(what.to_owned());
    Ok(match r {
        ItemRecord::ItemDrafted { item, sources, askers, lead, requirement, deadline, at } => E::Drafted {
            item: id(item),
            spec: a::DraftSpec {
                sources: sources.into_iter().map(|s| s.into_domain().ok_or_else(|| bad("bad source"))).collect::<Result<_, _>>()?,
                askers: askers.into_iter().map(|(x, v)| (d::DelegateId(x), d::VenueId(v))).collect(),
                lead: d::UnitId(lead),
                requirement,
                deadline: opt_date(deadline)?,
            },
            at: m(at),
        },
        ItemRecord::ItemDraftEdited { item, lead, co_units, requirement, deadline, priority, at } => E::DraftEdited {
            item: id(item),
            edit: a::DraftEdit {
                lead: d::UnitId(lead),
                co_units: co_units.into_iter().map(d::UnitId).collect(),
                requirement,
                deadline: opt_date(deadline)?,
                priority: priority.into(),
            },
            at: m(at),
        },
        ItemRecord::ItemDraftsMerged { into, from, at } => E::DraftsMerged { into: id(into), from: id(from), at: m(at) },
        ItemRecord::ItemMoved { item, to, actor, text, reason, number, at } => E::Moved {
            item: id(item),
            change: a::Move { to: to.into(), by: actor_from_label(&actor).ok_or_else(|| bad("bad actor"))?, text, reason, number },
            at: m(at),
        },
        ItemRecord::ItemNoteAdded { item, unit, text, at } => E::NoteAdded { item: id(item), unit: d::UnitId(unit), text, at: m(at) },
        ItemRecord::ItemEvidenceAdded { item, file, name, kind, bytes, unit, public, at } => E::EvidenceAdded {
            item: id(item),
            evidence: a::Evidence { id: file, name, kind: kind.into(), bytes, unit: d::UnitId(unit), at: m(at), public },
        },
        ItemRecord::ItemEvidencePublished { item, file, public, at } => {
            E::EvidencePublished { item: id(item), id: file, public, at: m(at) }
        }
        ItemRecord::ItemExtensionRequested { item, until, reason, at } => {
            E::ExtensionRequested { item: id(item), until: date(&until)?, reason, at: m(at) }
        }
        ItemRecord::ItemExtensionDecided { item, granted, answer, at } => {
            E::ExtensionDecided { item: id(item), granted, answer, at: m(at) }
        }
        ItemRecord::ItemRated { item, delegate, rating, comment, by_operator, rehandle, at } => {
            E::Rated { item: id(item), delegate: d::DelegateId(delegate), rating: rating.into(), comment, by_operator, rehandle, at: m(at) }
        }
    })
}
