//! The record format of events and definitions kept in a store.
//!
//! Every record carries a format version `v`; a reader refuses versions it
//! does not know instead of guessing. Changing a record's shape means a new
//! version and a reader for the old one: logs are an official record and
//! must stay readable.
//!
//! The session header (its definition) is at format 2: format 1 plus the
//! session's [`Epoch`]. A format-1 header, written before epochs existed,
//! is still read; its epoch is [`Epoch::legacy`] of the header's bytes.

use crate::definition::SessionDefinition;
use crate::dto::{CommitmentDto, DelegateDto, Phase, Rating};
use crate::epoch::Epoch;
use serde::{Deserialize, Serialize};
use wz_domain as d;

mod announce;
mod assignment;
pub mod chain;

pub use chain::{ChainError, ChainHead};

/// 2 since the hash chain: format 1 plus `prev` (see [`chain`]); format 1
/// is still read.
pub const EVENT_FORMAT: u32 = 2;
/// 2 since epochs (format 1 had no `epoch`; still read).
pub const DEFINITION_FORMAT: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error("record is not valid: {0}")]
    Malformed(String),
    #[error("record format version {0} is not supported (this build reads {1})")]
    Version(u32, u32),
}

#[derive(Serialize, Deserialize)]
struct Versioned<T> {
    v: u32,
    #[serde(flatten)]
    body: T,
}

/// Who caused an event and with which command id: part of the record, so the
/// log says who did what, and a retried command is recognised after a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    /// Principal key, e.g. `moderator`, `operator:baiyu`, `delegate:d017`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The client's command id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// The SHA-256 (hex) of the record before this one, or of the session's
    /// header for the first: the hash chain ([`chain`]). Present from
    /// format 2 on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WithMeta<T> {
    #[serde(flatten)]
    meta: RecordMeta,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    PhaseChanged {
        to: Phase,
        at: u64,
    },
    DelegatesImported {
        delegates: Vec<DelegateDto>,
        at: u64,
    },
    CheckedIn {
        delegate: String,
        by_operator: bool,
        at: u64,
    },
    CheckInUndone {
        delegate: String,
        reason: String,
        at: u64,
    },
    CheckInRequested {
        delegate: String,
        at: u64,
    },
    CheckInDeclined {
        delegate: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        at: u64,
    },
    QuestionSubmitted {
        question: u32,
        asker: String,
        topic: String,
        unit: String,
        text: String,
        by_operator: bool,
        at: u64,
    },
    QuestionApproved {
        question: u32,
        at: u64,
    },
    QuestionRejected {
        question: u32,
        reason: String,
        at: u64,
    },
    QuestionMerged {
        question: u32,
        into: u32,
        at: u64,
    },
    QuestionEdited {
        question: u32,
        text: String,
        at: u64,
    },
    QuestionQueued {
        question: u32,
        at: u64,
    },
    QueueReordered {
        order: Vec<u32>,
        at: u64,
    },
    QuestionSeconded {
        question: u32,
        delegate: String,
        at: u64,
    },
    FloorRequested {
        question: u32,
        venue: String,
        at: u64,
    },
    FloorGranted {
        question: u32,
        venue: String,
        answer_seconds: u32,
        at: u64,
    },
    CountdownStarted {
        seconds: u32,
        at: u64,
    },
    CountdownPaused {
        remaining: u32,
        at: u64,
    },
    CountdownResumed {
        at: u64,
    },
    CountdownExtended {
        seconds: u32,
        at: u64,
    },
    FollowUpAdded {
        follow_up: u32,
        asker: String,
        text: String,
        by_operator: bool,
        at: u64,
    },
    AnswerRecorded {
        follow_up: Option<u32>,
        unit: String,
        official: String,
        summary: String,
        commitments: Vec<CommitmentDto>,
        at: u64,
    },
    FloorEnded {
        at: u64,
    },
    EvaluationOpened {
        evaluation: u32,
        units: Vec<String>,
        at: u64,
    },
    BallotCast {
        evaluation: u32,
        unit: String,
        delegate: String,
        ballot_id: String,
        rating: Rating,
        at: u64,
    },
    EvaluationClosed {
        evaluation: u32,
        at: u64,
    },
}

fn commitment_dto(c: &d::Commitment) -> CommitmentDto {
    CommitmentDto { what: c.what.clone(), unit: c.unit.0.clone(), due: c.due.to_string() }
}

/// Encodes one event as a stored record, without metadata.
pub fn encode_event(e: &d::Event) -> Vec<u8> {
    encode_record(e, &RecordMeta::default())
}

/// Decodes one stored event record, dropping its metadata.
pub fn decode_event(bytes: &[u8]) -> Result<d::Event, StoredError> {
    decode_record(bytes).map(|(e, _)| e)
}

/// Encodes one event as the next link of the chain whose head is `prev`.
pub fn encode_chained(e: &d::Event, meta: &RecordMeta, prev: &ChainHead) -> Vec<u8> {
    encode_record(e, &RecordMeta { prev: Some(prev.hex()), ..meta.clone() })
}

/// Encodes one event with who caused it: at format 2 when `meta.prev` is
/// set (a link of the chain), at format 1 otherwise (as before the chain).
pub fn encode_record(e: &d::Event, meta: &RecordMeta) -> Vec<u8> {
    use d::Event as E;
    let v = if meta.prev.is_some() { EVENT_FORMAT } else { 1 };
    if let E::Assignment(x) = e {
        let body = WithMeta { meta: meta.clone(), body: assignment::encode(x) };
        return serde_json::to_vec(&Versioned { v, body }).expect("records always serialise");
    }
    if let E::Announcement(x) = e {
        let body = WithMeta { meta: meta.clone(), body: announce::encode(x) };
        return serde_json::to_vec(&Versioned { v, body }).expect("records always serialise");
    }
    let s = |x: &str| x.to_owned();
    let body = match e {
        E::PhaseChanged { to, at } => Record::PhaseChanged { to: (*to).into(), at: at.0 },
        E::DelegatesImported { delegates, at } => {
            Record::DelegatesImported { delegates: delegates.iter().map(crate::definition::delegate_dto).collect(), at: at.0 }
        }
        E::CheckInUndone { delegate, reason, at } => Record::CheckInUndone { delegate: s(&delegate.0), reason: reason.clone(), at: at.0 },
        E::CheckInRequested { delegate, at } => Record::CheckInRequested { delegate: s(&delegate.0), at: at.0 },
        E::CheckInDeclined { delegate, reason, at } => {
            Record::CheckInDeclined { delegate: s(&delegate.0), reason: reason.clone(), at: at.0 }
        }
        E::CheckedIn { delegate, by_operator, at } => Record::CheckedIn { delegate: s(&delegate.0), by_operator: *by_operator, at: at.0 },
        E::QuestionSubmitted { question, asker, topic, unit, text, by_operator, at } => Record::QuestionSubmitted {
            question: question.0,
            asker: s(&asker.0),
            topic: s(&topic.0),
            unit: s(&unit.0),
            text: text.clone(),
            by_operator: *by_operator,
            at: at.0,
        },
        E::QuestionApproved { question, at } => Record::QuestionApproved { question: question.0, at: at.0 },
        E::QuestionRejected { question, reason, at } => Record::QuestionRejected { question: question.0, reason: reason.clone(), at: at.0 },
        E::QuestionMerged { question, into, at } => Record::QuestionMerged { question: question.0, into: into.0, at: at.0 },
        E::QuestionEdited { question, text, at } => Record::QuestionEdited { question: question.0, text: text.clone(), at: at.0 },
        E::QuestionQueued { question, at } => Record::QuestionQueued { question: question.0, at: at.0 },
        E::QueueReordered { order, at } => Record::QueueReordered { order: order.iter().map(|q| q.0).collect(), at: at.0 },
        E::QuestionSeconded { question, delegate, at } => {
            Record::QuestionSeconded { question: question.0, delegate: s(&delegate.0), at: at.0 }
        }
        E::FloorRequested { question, venue, at } => Record::FloorRequested { question: question.0, venue: s(&venue.0), at: at.0 },
        E::FloorGranted { question, venue, answer_seconds, at } => {
            Record::FloorGranted { question: question.0, venue: s(&venue.0), answer_seconds: *answer_seconds, at: at.0 }
        }
        E::CountdownStarted { seconds, at } => Record::CountdownStarted { seconds: *seconds, at: at.0 },
        E::CountdownPaused { remaining, at } => Record::CountdownPaused { remaining: *remaining, at: at.0 },
        E::CountdownResumed { at } => Record::CountdownResumed { at: at.0 },
        E::CountdownExtended { seconds, at } => Record::CountdownExtended { seconds: *seconds, at: at.0 },
        E::FollowUpAdded { follow_up, asker, text, by_operator, at } => {
            Record::FollowUpAdded { follow_up: follow_up.0, asker: s(&asker.0), text: text.clone(), by_operator: *by_operator, at: at.0 }
        }
        E::AnswerRecorded { follow_up, unit, official, summary, commitments, at } => Record::AnswerRecorded {
            follow_up: follow_up.map(|f| f.0),
            unit: s(&unit.0),
            official: official.clone(),
            summary: summary.clone(),
            commitments: commitments.iter().map(commitment_dto).collect(),
            at: at.0,
        },
        E::FloorEnded { at } => Record::FloorEnded { at: at.0 },
        E::EvaluationOpened { evaluation, units, at } => {
            Record::EvaluationOpened { evaluation: evaluation.0, units: units.iter().map(|u| u.0.clone()).collect(), at: at.0 }
        }
        E::BallotCast { evaluation, unit, delegate, ballot_id, rating, at } => Record::BallotCast {
            evaluation: evaluation.0,
            unit: s(&unit.0),
            delegate: s(&delegate.0),
            ballot_id: s(&ballot_id.0),
            rating: (*rating).into(),
            at: at.0,
        },
        E::EvaluationClosed { evaluation, at } => Record::EvaluationClosed { evaluation: evaluation.0, at: at.0 },
        E::Assignment(_) | E::Announcement(_) => unreachable!("encoded above"),
    };
    let body = WithMeta { meta: meta.clone(), body };
    serde_json::to_vec(&Versioned { v, body }).expect("records always serialise")
}

/// The record's `prev`, after checking its version: required at format 2,
/// absent at format 1.
pub(crate) fn record_prev(bytes: &[u8]) -> Result<Option<String>, StoredError> {
    #[derive(Deserialize)]
    struct V {
        v: u32,
        #[serde(default)]
        prev: Option<String>,
    }
    let v: V = serde_json::from_slice(bytes).map_err(|e| StoredError::Malformed(e.to_string()))?;
    match (v.v, v.prev) {
        (1, None) => Ok(None),
        (1, Some(_)) => Err(StoredError::Malformed("a format-1 record has no prev".into())),
        (EVENT_FORMAT, Some(p)) if ChainHead::parse(&p).is_some() => Ok(Some(p)),
        (EVENT_FORMAT, _) => Err(StoredError::Malformed("a format-2 record needs prev, 64 hex digits".into())),
        (other, _) => Err(StoredError::Version(other, EVENT_FORMAT)),
    }
}

/// Decodes one stored event record and its metadata.
pub fn decode_record(bytes: &[u8]) -> Result<(d::Event, RecordMeta), StoredError> {
    use d::Event as E;
    record_prev(bytes)?;
    #[derive(Deserialize)]
    struct Tag {
        #[serde(rename = "type")]
        t: String,
    }
    let tag: Tag = serde_json::from_slice(bytes).map_err(|e| StoredError::Malformed(e.to_string()))?;
    if tag.t.starts_with("item_") {
        let r: Versioned<WithMeta<assignment::ItemRecord>> =
            serde_json::from_slice(bytes).map_err(|e| StoredError::Malformed(e.to_string()))?;
        return Ok((E::Assignment(assignment::decode(r.body.body)?), r.body.meta));
    }
    if tag.t.starts_with(announce::PREFIX) {
        let r: Versioned<WithMeta<announce::AnnouncementRecord>> =
            serde_json::from_slice(bytes).map_err(|e| StoredError::Malformed(e.to_string()))?;
        return Ok((E::Announcement(announce::decode(r.body.body)?), r.body.meta));
    }
    let r: Versioned<WithMeta<Record>> = serde_json::from_slice(bytes).map_err(|e| StoredError::Malformed(e.to_string()))?;
    let meta = r.body.meta;
    let m = d::Millis;
    let q = d::QuestionId;
    let event = match r.body.body {
        Record::PhaseChanged { to, at } => E::PhaseChanged { to: to.into(), at: m(at) },
        Record::DelegatesImported { delegates, at } => {
            E::DelegatesImported { delegates: delegates.into_iter().map(crate::definition::delegate_from_dto).collect(), at: m(at) }
        }
        Record::CheckInUndone { delegate, reason, at } => E::CheckInUndone { delegate: d::DelegateId(delegate), reason, at: m(at) },
        Record::CheckInRequested { delegate, at } => E::CheckInRequested { delegate: d::DelegateId(delegate), at: m(at) },
        Record::CheckInDeclined { delegate, reason, at } => E::CheckInDeclined { delegate: d::DelegateId(delegate), reason, at: m(at) },
        Record::CheckedIn { delegate, by_operator, at } => E::CheckedIn { delegate: d::DelegateId(delegate), by_operator, at: m(at) },
        Record::QuestionSubmitted { question, asker, topic, unit, text, by_operator, at } => E::QuestionSubmitted {
            question: q(question),
            asker: d::DelegateId(asker),
            topic: d::TopicId(topic),
            unit: d::UnitId(unit),
            text,
            by_operator,
            at: m(at),
        },
        Record::QuestionApproved { question, at } => E::QuestionApproved { question: q(question), at: m(at) },
        Record::QuestionRejected { question, reason, at } => E::QuestionRejected { question: q(question), reason, at: m(at) },
        Record::QuestionMerged { question, into, at } => E::QuestionMerged { question: q(question), into: q(into), at: m(at) },
        Record::QuestionEdited { question, text, at } => E::QuestionEdited { question: q(question), text, at: m(at) },
        Record::QuestionQueued { question, at } => E::QuestionQueued { question: q(question), at: m(at) },
        Record::QueueReordered { order, at } => E::QueueReordered { order: order.into_iter().map(q).collect(), at: m(at) },
        Record::QuestionSeconded { question, delegate, at } => {
            E::QuestionSeconded { question: q(question), delegate: d::DelegateId(delegate), at: m(at) }
        }
        Record::FloorRequested { question, venue, at } => E::FloorRequested { question: q(question), venue: d::VenueId(venue), at: m(at) },
        Record::FloorGranted { question, venue, answer_seconds, at } => {
            E::FloorGranted { question: q(question), venue: d::VenueId(venue), answer_seconds, at: m(at) }
        }
        Record::CountdownStarted { seconds, at } => E::CountdownStarted { seconds, at: m(at) },
        Record::CountdownPaused { remaining, at } => E::CountdownPaused { remaining, at: m(at) },
        Record::CountdownResumed { at } => E::CountdownResumed { at: m(at) },
        Record::CountdownExtended { seconds, at } => E::CountdownExtended { seconds, at: m(at) },
        Record::FollowUpAdded { follow_up, asker, text, by_operator, at } => {
            E::FollowUpAdded { follow_up: d::FollowUpId(follow_up), asker: d::DelegateId(asker), text, by_operator, at: m(at) }
        }
        Record::AnswerRecorded { follow_up, unit, official, summary, commitments, at } => E::AnswerRecorded {
            follow_up: follow_up.map(d::FollowUpId),
            unit: d::UnitId(unit),
            official,
            summary,
            commitments: commitments
                .into_iter()
                .map(|c| {
                    let due = d::CalendarDate::parse(&c.due).ok_or_else(|| StoredError::Malformed(format!("bad date {:?}", c.due)))?;
                    Ok(d::Commitment { what: c.what, unit: d::UnitId(c.unit), due })
                })
                .collect::<Result<_, StoredError>>()?,
            at: m(at),
        },
        Record::FloorEnded { at } => E::FloorEnded { at: m(at) },
        Record::EvaluationOpened { evaluation, units, at } => {
            E::EvaluationOpened { evaluation: d::EvaluationId(evaluation), units: units.into_iter().map(d::UnitId).collect(), at: m(at) }
        }
        Record::BallotCast { evaluation, unit, delegate, ballot_id, rating, at } => E::BallotCast {
            evaluation: d::EvaluationId(evaluation),
            unit: d::UnitId(unit),
            delegate: d::DelegateId(delegate),
            ballot_id: d::BallotId(ballot_id),
            rating: rating.into(),
            at: m(at),
        },
        Record::EvaluationClosed { evaluation, at } => E::EvaluationClosed { evaluation: d::EvaluationId(evaluation), at: m(at) },
    };
    Ok((event, meta))
}

/// The session header, format 2: the definition and the session's epoch.
#[derive(Serialize, Deserialize)]
struct Header {
    epoch: String,
    /// The session's seal (64 hex digits), since the public record: the key
    /// of its receipt codes. Internal: never exported, never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seal: Option<String>,
    #[serde(flatten)]
    definition: SessionDefinition,
}

/// Encodes a session definition and its epoch as the session's header record
/// (no seal: tests and sessions of old).
pub fn encode_definition(def: &d::SessionDef, epoch: Epoch) -> Vec<u8> {
    encode_header(def, epoch, None)
}

/// Encodes a session's header record: definition, epoch and seal.
pub fn encode_header(def: &d::SessionDef, epoch: Epoch, seal: Option<&d::Seal>) -> Vec<u8> {
    let body = Header { epoch: epoch.to_string(), seal: seal.map(|s| hex::encode(s.0)), definition: SessionDefinition::from_domain(def) };
    serde_json::to_vec(&Versioned { v: DEFINITION_FORMAT, body }).expect("records always serialise")
}

/// Decodes a session header: its definition and its epoch (derived from the
/// bytes for a format-1 header, which has none).
pub fn decode_definition(bytes: &[u8]) -> Result<(d::SessionDef, Epoch), StoredError> {
    decode_header(bytes).map(|(def, epoch, _)| (def, epoch))
}

/// Decodes a session header with its seal (`None` for a header written
/// before seals existed).
pub fn decode_header(bytes: &[u8]) -> Result<(d::SessionDef, Epoch, Option<d::Seal>), StoredError> {
    let malformed = |e: &dyn std::fmt::Display| StoredError::Malformed(e.to_string());
    let (definition, epoch, seal) = match header_version(bytes)? {
        1 => {
            let r: Versioned<SessionDefinition> = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
            (r.body, Epoch::legacy(bytes), None)
        }
        _ => {
            let r: Versioned<Header> = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
            let epoch = Epoch::parse(&r.body.epoch).ok_or_else(|| malformed(&format!("bad epoch {:?}", r.body.epoch)))?;
            let seal = match r.body.seal {
                None => None,
                Some(text) => {
                    let mut b = [0u8; 32];
                    hex::decode_to_slice(&text, &mut b).map_err(|_| malformed(&"a seal is 64 hex digits"))?;
                    Some(d::Seal(b))
                }
            };
            (r.body.definition, epoch, seal)
        }
    };
    Ok((definition.into_domain().map_err(|e| malformed(&e))?, epoch, seal))
}

/// The header's format version, if this build reads it (1 or 2).
fn header_version(bytes: &[u8]) -> Result<u32, StoredError> {
    #[derive(Deserialize)]
    struct V {
        v: u32,
    }
    let v: V = serde_json::from_slice(bytes).map_err(|e| StoredError::Malformed(e.to_string()))?;
    match v.v {
        1 | DEFINITION_FORMAT => Ok(v.v),
        other => Err(StoredError::Version(other, DEFINITION_FORMAT)),
    }
}

/// What the store enforces and counts next to a ballot's record: one ballot
/// per (evaluation, unit, delegate), held by its ballot id, and a counter
/// per (evaluation, unit, rating). The store names them (`wz_store::keys`);
/// this says what they are, with the rating's wire name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotKeys<'a> {
    pub evaluation: u32,
    pub unit: &'a str,
    pub delegate: &'a str,
    pub ballot_id: &'a str,
    pub rating: String,
}

/// The ballot an event records, if it records one.
pub fn ballot_keys(e: &d::Event) -> Option<BallotKeys<'_>> {
    match e {
        d::Event::BallotCast { evaluation, unit, delegate, ballot_id, rating, .. } => {
            let rating = serde_json::to_value(Rating::from(*rating)).expect("enum serialises");
            Some(BallotKeys {
                evaluation: evaluation.0,
                unit: unit.as_str(),
                delegate: delegate.as_str(),
                ballot_id: ballot_id.0.as_str(),
                rating: rating.as_str().unwrap_or_default().to_owned(),
            })
        }
        _ => None,
    }
}
