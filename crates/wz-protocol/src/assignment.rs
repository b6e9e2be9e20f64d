//! The assignment list on the wire (issue 8): items, the board, and how each
//! perspective sees them.
//!
//! Architecture Invariant: a follow-up rating's choice reaches nobody but its
//! rater (`mine`), the auditor included; everyone gets counts, and an item's
//! counts (and a unit's on the board) follow the small-cell rule
//! ([`crate::render::MIN_CELL`]) for every role.
//! The public and the units never get a delegate's id.

use crate::dto::{CountsDto, Rating, ms, wire_enum};
use crate::render::MIN_CELL;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use wz_domain as d;
use wz_domain::Perspective;
use wz_domain::assignment as a;

wire_enum!(
    /// 草拟 → 已交办 → 办理中 → 已答复 → 已整改 → 已办结
    ItemStatus <=> a::ItemStatus { Draft, Issued, InHandling, Answered, Rectified, Closed }
);
wire_enum!(
    /// 一般 / 重点督办
    Priority <=> a::Priority { Normal, Supervised }
);
wire_enum!(
    /// Recognised from the file's first bytes, never from its name.
    FileKind <=> a::FileKind { Jpeg, Png, Webp, Pdf }
);

// The macro cannot place `#[default]` on a variant.
#[allow(clippy::derivable_impls)]
impl Default for Priority {
    fn default() -> Self {
        Priority::Normal
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A commitment (承诺事项) made on the floor.
    Commitment,
    /// An answer given on the floor without a commitment, to confirm in writing.
    Answer,
    /// An approved question that never reached the floor (书面答复 owed).
    Unasked,
    /// A follow-up the floor left unanswered.
    FollowUp,
}

/// Where an item comes from in the live session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceDto {
    pub kind: SourceKind,
    pub question: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub follow_up: Option<u32>,
    /// A commitment's place in its answer (0-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub index: Option<u32>,
}

impl From<&a::Source> for SourceDto {
    fn from(s: &a::Source) -> Self {
        let (kind, question, follow_up, index) = match s {
            a::Source::Commitment { question, follow_up, index } => {
                (SourceKind::Commitment, question, follow_up.map(|f| f.0), Some(u32::from(*index)))
            }
            a::Source::Answer { question } => (SourceKind::Answer, question, None, None),
            a::Source::Unasked { question } => (SourceKind::Unasked, question, None, None),
            a::Source::FollowUp { question, follow_up } => (SourceKind::FollowUp, question, Some(follow_up.0), None),
        };
        Self { kind, question: question.0, follow_up, index }
    }
}

impl SourceDto {
    pub fn into_domain(self) -> Option<a::Source> {
        let question = d::QuestionId(self.question);
        Some(match self.kind {
            SourceKind::Commitment => {
                a::Source::Commitment { question, follow_up: self.follow_up.map(d::FollowUpId), index: u16::try_from(self.index?).ok()? }
            }
            SourceKind::Answer => a::Source::Answer { question },
            SourceKind::Unasked => a::Source::Unasked { question },
            SourceKind::FollowUp => a::Source::FollowUp { question, follow_up: d::FollowUpId(self.follow_up?) },
        })
    }
}

/// Who did it: `office` or `unit:<id>` (people's identities are never here).
pub fn actor_label(x: &a::Actor) -> String {
    match x {
        a::Actor::Office => "office".into(),
        a::Actor::Unit(u) => format!("unit:{u}"),
        a::Actor::Delegate(d) => format!("delegate:{d}"),
        a::Actor::Operator(v) => format!("operator:{v}"),
        a::Actor::Reader => "reader".into(),
    }
}

pub fn actor_from_label(s: &str) -> Option<a::Actor> {
    Some(match s.split_once(':') {
        None if s == "office" => a::Actor::Office,
        None if s == "reader" => a::Actor::Reader,
        Some(("unit", u)) => a::Actor::Unit(d::UnitId::new(u)),
        Some(("delegate", x)) => a::Actor::Delegate(d::DelegateId::new(x)),
        Some(("operator", v)) => a::Actor::Operator(d::VenueId::new(v)),
        _ => return None,
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct AskerDto {
    pub venue: String,
    /// Only for the office, the auditor, the asker themself and their venue's operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub delegate: Option<String>,
    /// Whether this asker has rated (never what): only for the asker
    /// themself, their venue's operator (who may rate for them) and the auditor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rated: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct TransitionDto {
    pub from: ItemStatus,
    pub to: ItemStatus,
    #[ts(type = "number")]
    pub at: u64,
    /// `office` or `unit:<id>`.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct NoteDto {
    pub unit: String,
    pub text: String,
    #[ts(type = "number")]
    pub at: u64,
}

/// A file attached to an item. Download: `GET /api/sessions/{session}/files/{id}`
/// with the credential (or without one, once the office made it public).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct EvidenceDto {
    /// The content's SHA-256 (hex).
    pub id: String,
    pub name: String,
    pub kind: FileKind,
    #[ts(type = "number")]
    pub bytes: u64,
    pub unit: String,
    #[ts(type = "number")]
    pub at: u64,
    pub public: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ExtensionDto {
    /// `YYYY-MM-DD`
    pub until: String,
    pub reason: String,
    #[ts(type = "number")]
    pub requested_at: u64,
    /// Absent while the office has not decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub granted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub decided_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub answer: Option<String>,
}

/// One asker's rating as its rater sees it (nobody else receives one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ItemRatingDto {
    pub delegate: String,
    pub rating: Rating,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub comment: Option<String>,
    pub by_operator: bool,
    pub rehandle: bool,
    #[ts(type = "number")]
    pub at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ItemRatingsDto {
    /// Counts; with fewer than 3 ratings only `total` (`suppressed`), for every role.
    pub counts: CountsDto,
    /// The viewer's own rating (a delegate who asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mine: Option<ItemRatingDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ItemDto {
    pub id: u32,
    /// The number on the assignment letter (交办编号), given at issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub number: Option<u32>,
    pub status: ItemStatus,
    pub priority: Priority,
    pub lead: String,
    pub co_units: Vec<String>,
    pub requirement: String,
    /// `YYYY-MM-DD` in the session's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub deadline: Option<String>,
    pub sources: Vec<SourceDto>,
    /// The askers (who rate the outcome): their venues, and the delegate's
    /// id where this perspective may see it. Omitted for the public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub askers: Option<Vec<AskerDto>>,
    /// The unit's written reply (public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reply: Option<String>,
    /// What the unit says it rectified (public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rectification: Option<String>,
    /// Progress notes: the office, the auditor and the item's units only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub notes: Option<Vec<NoteDto>>,
    /// Files: all of them for the office, the auditor, the units and the
    /// askers; the public ones for everyone else.
    pub evidence: Vec<EvidenceDto>,
    /// Extension requests: the office, the auditor and the item's units only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub extensions: Option<Vec<ExtensionDto>>,
    pub history: Vec<TransitionDto>,
    pub ratings: ItemRatingsDto,
    /// An asker asked for it to be handled again (申请重办); always false on
    /// the public perspective.
    pub flagged: bool,
    /// A draft folded into another (the office only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub merged_into: Option<u32>,
}

fn rating_dto(delegate: &d::DelegateId, r: &a::FollowUpRating) -> ItemRatingDto {
    ItemRatingDto {
        delegate: delegate.0.clone(),
        rating: r.rating.into(),
        comment: r.comment.clone(),
        by_operator: r.by_operator,
        rehandle: r.rehandle,
        at: ms(r.at),
    }
}

/// Counts with the small-cell rule: fewer than [`MIN_CELL`] show only the total.
pub(crate) fn small_cell(c: &d::RatingCounts) -> CountsDto {
    let dto = CountsDto::from(c);
    if dto.total == 0 || dto.total >= MIN_CELL {
        return dto;
    }
    CountsDto { total: dto.total, suppressed: true, ..CountsDto::default() }
}

fn ratings(it: &a::Item, p: &Perspective) -> ItemRatingsDto {
    let mut counts = d::RatingCounts::default();
    for r in it.ratings.values() {
        counts.add(r.rating);
    }
    let mine = match p {
        Perspective::Delegate(me) => it.ratings.get(me).map(|r| rating_dto(me, r)),
        _ => None,
    };
    // The auditor too: a follow-up rating is as secret as a ballot, and the
    // record (not a named list) is how counts are checked.
    ItemRatingsDto { counts: small_cell(&counts), mine }
}

fn asker(it: &a::Item, p: &Perspective, (delegate, venue): &(d::DelegateId, d::VenueId)) -> AskerDto {
    let acts_for = match p {
        Perspective::Auditor => true,
        Perspective::Delegate(me) => me == delegate,
        Perspective::Venue(v) => v == venue,
        _ => false,
    };
    let named = acts_for || *p == Perspective::Office;
    AskerDto {
        venue: venue.0.clone(),
        delegate: named.then(|| delegate.0.clone()),
        rated: acts_for.then(|| it.ratings.contains_key(delegate)),
    }
}

fn evidence(e: &a::Evidence) -> EvidenceDto {
    EvidenceDto {
        id: e.id.clone(),
        name: e.name.clone(),
        kind: e.kind.into(),
        bytes: e.bytes,
        unit: e.unit.0.clone(),
        at: ms(e.at),
        public: e.public,
    }
}

fn extension(x: &a::Extension) -> ExtensionDto {
    ExtensionDto {
        until: x.until.to_string(),
        reason: x.reason.clone(),
        requested_at: ms(x.requested_at),
        granted: x.granted,
        decided_at: x.decided_at.map(ms),
        answer: x.answer.clone(),
    }
}

/// An item as `p` may see it, or `None` when `p` may not see it at all.
pub fn item(it: &a::Item, p: &Perspective) -> Option<ItemDto> {
    if !p.sees_item(it) {
        return None;
    }
    let work = p.sees_item_work(it);
    let private_files = p.sees_private_evidence(it);
    Some(ItemDto {
        id: it.id.0,
        number: it.number,
        status: it.status.into(),
        priority: it.priority.into(),
        lead: it.lead.0.clone(),
        co_units: it.co_units.iter().map(|u| u.0.clone()).collect(),
        requirement: it.requirement.clone(),
        deadline: it.deadline.map(|x| x.to_string()),
        sources: it.sources.iter().map(SourceDto::from).collect(),
        askers: (*p != Perspective::Public).then(|| it.askers.iter().map(|x| asker(it, p, x)).collect()),
        reply: it.reply.clone(),
        rectification: it.rectification.clone(),
        notes: work.then(|| it.notes.iter().map(|n| NoteDto { unit: n.unit.0.clone(), text: n.text.clone(), at: ms(n.at) }).collect()),
        evidence: it.evidence.iter().filter(|e| private_files || e.public).map(evidence).collect(),
        extensions: work.then(|| it.extensions.iter().map(extension).collect()),
        history: it
            .history
            .iter()
            .map(|t| TransitionDto { from: t.from.into(), to: t.to.into(), at: ms(t.at), by: actor_label(&t.by), reason: t.reason.clone() })
            .collect(),
        ratings: ratings(it, p),
        // The request to handle it again was made openly, to the office: the
        // office, the auditor, the units and the askers see it; the public
        // page does not.
        flagged: private_files && it.flagged(),
        merged_into: it.merged_into.map(|x| x.0),
    })
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct BoardCountsDto {
    /// Issued items, whatever their status since.
    pub issued: u32,
    /// Issued and not yet started.
    pub waiting: u32,
    pub in_handling: u32,
    pub answered: u32,
    pub rectified: u32,
    pub closed: u32,
    pub overdue: u32,
    pub due_soon: u32,
    /// Items an asker asked to have handled again: the office and the
    /// auditor only (with one asker, a flag says how they rated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub flagged: Option<u32>,
    /// (已答复 + 已整改 + 已办结) / issued, basis points; absent before anything is issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub resolved_rate_bp: Option<u32>,
    /// The askers' follow-up ratings of these items (small-cell rule).
    pub ratings: CountsDto,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct UnitBoardDto {
    pub unit: String,
    pub counts: BoardCountsDto,
}

/// The assignment board: public figures, derived from the items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct BoardDto {
    /// The date (`YYYY-MM-DD`, session's time zone) "overdue" and "due soon" refer to.
    pub as_of: String,
    /// Drafts not issued yet.
    pub drafts: u32,
    pub overall: BoardCountsDto,
    /// Every unit of the session, in definition order (zeros for a unit without items).
    pub units: Vec<UnitBoardDto>,
}

fn board_counts(c: &a::Counts, flags: bool) -> BoardCountsDto {
    BoardCountsDto {
        issued: c.issued,
        waiting: c.waiting,
        in_handling: c.in_handling,
        answered: c.answered,
        rectified: c.rectified,
        closed: c.closed,
        overdue: c.overdue,
        due_soon: c.due_soon,
        flagged: flags.then_some(c.flagged),
        resolved_rate_bp: c.resolved_rate_bp(),
        ratings: small_cell(&c.ratings),
    }
}

/// The board as `p` sees it: the same figures for everyone, except that only
/// the office and the auditor get the count of flagged items.
pub fn board(def: &d::SessionDef, b: &a::Dashboard, today: d::CalendarDate, p: &Perspective) -> BoardDto {
    let flags = matches!(p, Perspective::Office | Perspective::Auditor);
    BoardDto {
        as_of: today.to_string(),
        drafts: b.drafts,
        overall: board_counts(&b.overall, flags),
        units: def
            .units
            .iter()
            .map(|u| UnitBoardDto {
                unit: u.id.0.clone(),
                counts: b
                    .by_unit
                    .get(&u.id)
                    .map(|c| board_counts(c, flags))
                    .unwrap_or_else(|| BoardCountsDto { flagged: flags.then_some(0), ..BoardCountsDto::default() }),
            })
            .collect(),
    }
}

/// The receipt of a follow-up rating: what the rater chose, as accepted,
/// and its receipt code (like a ballot's: see `render::item_receipt_code`),
/// under which the public record lists the choice and `verify.html` finds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ItemReceiptDto {
    pub item: u32,
    pub rating: ItemRatingDto,
    pub code: String,
}

pub fn item_receipt(s: &d::Session, item: a::ItemId, delegate: &d::DelegateId) -> Option<ItemReceiptDto> {
    let r = s.assignments().item(item)?.ratings.get(delegate)?;
    let code = crate::render::item_receipt_code(&s.def().id, s.seal(), item.0, delegate, r);
    Some(ItemReceiptDto { item: item.0, rating: rating_dto(delegate, r), code })
}

/// The public progress page's data (`GET /api/sessions/{id}/progress`):
/// what the public perspective sees, with the public questions the items
/// come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ProgressDto {
    pub session: crate::server::SessionInfoDto,
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub server_time: u64,
    pub board: BoardDto,
    pub items: Vec<ItemDto>,
    /// The questions the items come from, as the public saw them on the floor.
    pub questions: Vec<crate::dto::QuestionDto>,
}

impl ProgressDto {
    /// Encodes for the response body. Serialising our own types cannot fail.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("progress always serialises")
    }
}

/// Builds the progress page's data from the session, for the public.
pub fn progress(s: &d::Session, now: d::Millis) -> ProgressDto {
    let p = Perspective::Public;
    let items: Vec<ItemDto> = s.assignments().items().filter_map(|i| item(i, &p)).collect();
    let wanted: std::collections::BTreeSet<u32> = items.iter().flat_map(|i| i.sources.iter().map(|x| x.question)).collect();
    let today = s.today(now);
    ProgressDto {
        session: crate::render::session_info(s),
        seq: s.seq(),
        server_time: now.0,
        board: board(s.def(), &s.assignments().dashboard(today), today, &p),
        items,
        questions: s.questions().filter(|q| wanted.contains(&q.id.0)).filter_map(|q| crate::render::question(q, &p)).collect(),
    }
}
