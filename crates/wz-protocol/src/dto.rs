//! Data shapes on the wire, shared by messages, snapshots and stored records.
//!
//! Timestamps are Unix milliseconds (`number` in TypeScript; safe up to 2^53).
//! Enums are lower snake case strings. Optional fields are omitted when absent.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use wz_domain as d;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident <=> $dom:path { $($v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),* }
        impl From<$dom> for $name {
            fn from(x: $dom) -> Self { match x { $(<$dom>::$v => $name::$v),* } }
        }
        impl From<$name> for $dom {
            fn from(x: $name) -> Self { match x { $($name::$v => <$dom>::$v),* } }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// preparing → check_in → questioning → evaluation → closed (the live
    /// session is over; the follow-up runs) → archived (read-only)
    Phase <=> d::Phase { Preparing, CheckIn, Questioning, Evaluation, Closed, Archived }
);
wire_enum!(VenueKind <=> d::VenueKind { Main, Sub });
wire_enum!(
    /// province / city / county / township delegates, and street deliberation delegates (议政代表)
    Level <=> d::DelegateLevel { Province, City, County, Township, StreetDeliberation }
);
wire_enum!(
    /// 满意 / 基本满意 / 不满意
    Rating <=> d::Rating { Satisfied, BasicallySatisfied, Dissatisfied }
);
wire_enum!(QuestionStatus <=> d::QuestionStatus { Pending, Approved, Rejected, Merged, Queued, OnFloor, Answered });
wire_enum!(EvaluationStatus <=> d::EvaluationStatus { Open, Closed });

/// Who may check a delegate in (the session definition's `check_in`):
/// `operator` (the venue's station or the moderator; the default),
/// `confirmed` (the delegate asks, the station confirms), `self`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckInPolicy {
    #[default]
    Operator,
    Confirmed,
    #[serde(rename = "self")]
    SelfService,
}

impl From<d::CheckInPolicy> for CheckInPolicy {
    fn from(x: d::CheckInPolicy) -> Self {
        match x {
            d::CheckInPolicy::Operator => Self::Operator,
            d::CheckInPolicy::Confirmed => Self::Confirmed,
            d::CheckInPolicy::SelfService => Self::SelfService,
        }
    }
}

impl From<CheckInPolicy> for d::CheckInPolicy {
    fn from(x: CheckInPolicy) -> Self {
        match x {
            CheckInPolicy::Operator => Self::Operator,
            CheckInPolicy::Confirmed => Self::Confirmed,
            CheckInPolicy::SelfService => Self::SelfService,
        }
    }
}

/// A delegate's pending request to be checked in (policy `confirmed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct CheckInRequestDto {
    pub delegate: String,
    pub venue: String,
    #[ts(type = "number")]
    pub at: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Moderator,
    VenueOperator,
    Delegate,
    Screen,
    Auditor,
    /// The congress office (人大办): the assignment list.
    Office,
    /// A respondent unit (承办单位).
    Unit,
}

impl Role {
    /// The role as on the wire (`venue_operator`), for metrics.
    pub fn name(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::VenueOperator => "venue_operator",
            Role::Delegate => "delegate",
            Role::Screen => "screen",
            Role::Auditor => "auditor",
            Role::Office => "office",
            Role::Unit => "unit",
        }
    }
}

impl From<&d::Viewer> for Role {
    fn from(v: &d::Viewer) -> Self {
        match v {
            d::Viewer::Moderator => Role::Moderator,
            d::Viewer::VenueOperator(_) => Role::VenueOperator,
            d::Viewer::Delegate(_) => Role::Delegate,
            d::Viewer::Screen => Role::Screen,
            d::Viewer::Auditor => Role::Auditor,
            d::Viewer::Office => Role::Office,
            d::Viewer::Unit(_) => Role::Unit,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueDto {
    pub id: String,
    pub name: String,
    pub kind: VenueKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateDto {
    pub id: String,
    pub name: String,
    pub level: Level,
    pub venue: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedDto {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsDto {
    pub question_chars: u32,
    pub reason_chars: u32,
    pub answer_chars: u32,
    pub short_chars: u32,
    pub questions_per_delegate: u32,
    pub follow_ups_per_item: u32,
    pub commitments_per_answer: u32,
    pub answer_seconds: u32,
    pub max_answer_seconds: u32,
    /// Days before a deadline an assignment item counts as "due soon";
    /// optional in a definition (7).
    #[serde(default = "default_due_soon_days")]
    pub due_soon_days: u32,
}

fn default_due_soon_days() -> u32 {
    d::Limits::default().due_soon_days
}

impl From<&d::Limits> for LimitsDto {
    fn from(l: &d::Limits) -> Self {
        Self {
            question_chars: l.question_chars as u32,
            reason_chars: l.reason_chars as u32,
            answer_chars: l.answer_chars as u32,
            short_chars: l.short_chars as u32,
            questions_per_delegate: l.questions_per_delegate as u32,
            follow_ups_per_item: l.follow_ups_per_item as u32,
            commitments_per_answer: l.commitments_per_answer as u32,
            answer_seconds: l.answer_seconds,
            max_answer_seconds: l.max_answer_seconds,
            due_soon_days: l.due_soon_days,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentDto {
    pub what: String,
    pub unit: String,
    /// `YYYY-MM-DD`
    pub due: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct AnswerDto {
    pub unit: String,
    pub official: String,
    pub summary: String,
    pub commitments: Vec<CommitmentDto>,
    #[ts(type = "number")]
    pub at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct FollowUpDto {
    pub id: u32,
    pub venue: String,
    /// Delegate id of the asker; only for perspectives that may see askers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub asker: Option<String>,
    pub text: String,
    pub by_operator: bool,
    #[ts(type = "number")]
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub answer: Option<AnswerDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct QuestionDto {
    pub id: u32,
    pub status: QuestionStatus,
    pub topic: String,
    pub unit: String,
    pub text: String,
    /// The wording as submitted, when the moderator edited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub original_text: Option<String>,
    pub venues: Vec<String>,
    /// Delegate ids of the askers; omitted for perspectives that may not see them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub askers: Option<Vec<String>>,
    pub by_operator: bool,
    #[ts(type = "number")]
    pub submitted_at: u64,
    /// How many delegates seconded (附议) it: a signal for the moderator.
    pub seconds: u32,
    /// Only in a delegate's own view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seconded_by_me: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reject_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub merged_into: Option<u32>,
    pub merged_from: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub answer: Option<AnswerDto>,
    pub follow_ups: Vec<FollowUpDto>,
    /// Only in a public screen's WebSocket snapshot, for a settled question
    /// (answered, rejected, merged) not on the floor: its texts (`text`,
    /// the answers' `summary`, the follow-ups' `text`) are left empty, as
    /// the screen shows none of them. `GET /api/sessions/{id}/questions`
    /// has them whole.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub abridged: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct FloorRequestDto {
    pub question: u32,
    pub venue: String,
    #[ts(type = "number")]
    pub at: u64,
}

/// What is on the floor. Remaining time = countdown_started_at + countdown_seconds·1000 − now
/// (clients correct `now` with the `server_time` of their snapshot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct FloorDto {
    pub question: u32,
    pub venue: String,
    #[ts(type = "number")]
    pub granted_at: u64,
    #[ts(type = "number")]
    pub countdown_started_at: u64,
    pub countdown_seconds: u32,
    /// While paused: the whole seconds that were left (show them, still).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub paused_remaining: Option<u32>,
    /// Who speaks: the question's askers from `venue`, by name and level, for
    /// every viewer (the hall and the livestream hear them announced). Never
    /// an id; omitted when none (a question asked on a venue's behalf).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<SpeakerDto>>", optional)]
    pub speakers: Vec<SpeakerDto>,
}

/// A speaker on the floor as announced: name and level, no delegate id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct SpeakerDto {
    pub name: String,
    pub level: Level,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct CountsDto {
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub dissatisfied: u32,
    pub total: u32,
    /// (满意 + 基本满意) / valid ballots in basis points (6667 = 66.67 %); absent with no ballots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub satisfaction_rate_bp: Option<u32>,
    /// A breakdown cell with fewer than 3 ballots: only `total` is given, so
    /// one or two voters' choices cannot be read off, by any role.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub suppressed: bool,
}

impl From<&d::RatingCounts> for CountsDto {
    fn from(c: &d::RatingCounts) -> Self {
        Self {
            satisfied: c.satisfied,
            basically_satisfied: c.basically_satisfied,
            dissatisfied: c.dissatisfied,
            total: c.total(),
            satisfaction_rate_bp: c.satisfaction_rate_bp(),
            suppressed: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct VenueCountsDto {
    pub venue: String,
    pub counts: CountsDto,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct LevelCountsDto {
    pub level: Level,
    pub counts: CountsDto,
    /// Eligible (checked-in) delegates of this level; in final results only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub eligible: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct UnitCountsDto {
    pub unit: String,
    pub counts: CountsDto,
    pub by_venue: Vec<VenueCountsDto>,
    pub by_level: Vec<LevelCountsDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct VenueTurnoutDto {
    pub venue: String,
    pub voted: u32,
    pub eligible: u32,
}

/// 参评率: delegates who cast at least one ballot / checked-in delegates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct TurnoutDto {
    pub voted: u32,
    pub eligible: u32,
    pub by_venue: Vec<VenueTurnoutDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ResultsDto {
    pub turnout: TurnoutDto,
    pub units: Vec<UnitCountsDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct EvaluationDto {
    pub id: u32,
    pub units: Vec<String>,
    pub status: EvaluationStatus,
    #[ts(type = "number")]
    pub opened_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub closed_at: Option<u64>,
    /// Revealed to everyone at close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub results: Option<ResultsDto>,
}

/// Proof that a ballot was counted. `code` is the first 16 hex digits of
/// SHA-256 over `wz-receipt-v1|session|evaluation|unit|delegate|ballot_id|rating|seq`,
/// so an auditor holding the record can recompute it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ReceiptDto {
    pub evaluation: u32,
    pub unit: String,
    pub ballot_id: String,
    pub rating: Rating,
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub at: u64,
    pub code: String,
}

/// An individual ballot: only its caster ever receives one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct BallotDto {
    pub delegate: String,
    pub venue: String,
    pub receipt: ReceiptDto,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct VenueStatsDto {
    pub venue: String,
    /// Checked-in delegates.
    pub present: u32,
    pub roster: u32,
    /// Open connections of this venue (operators and delegates); moderator and auditor only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub connections: Option<u32>,
    /// Last message (command or ping) from any client of this venue, Unix ms;
    /// moderator and auditor only, absent before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub last_seen: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct LiveEvaluationDto {
    pub evaluation: u32,
    pub turnout: TurnoutDto,
    /// Ballots accepted per unit (numbers only, never choices).
    pub ballots_by_unit: Vec<UnitBallotsDto>,
    /// A venue operator's own venue, while the evaluation is open: the
    /// checked-in delegates who have not cast a ballot yet (ids; names come
    /// from the operator's roster), so the station can prompt them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub not_voted: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct UnitBallotsDto {
    pub unit: String,
    pub ballots: u32,
}

/// An announcement (会场通知). Everyone receives every announcement; a page
/// shows those addressed to it (a screen only those to everyone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct AnnouncementDto {
    pub id: u32,
    pub text: String,
    /// The venues addressed; empty: every venue and every screen.
    pub venues: Vec<String>,
    #[ts(type = "number")]
    pub at: u64,
    /// When it was taken off the screens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub cleared_at: Option<u64>,
    /// Which addressed venues' operator pages have shown it: staff see all,
    /// an operator their own venue; absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seen: Option<Vec<AnnouncementSeenDto>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct AnnouncementSeenDto {
    pub venue: String,
    #[ts(type = "number")]
    pub at: u64,
}

pub fn ms(m: d::Millis) -> u64 {
    m.0
}

wire_enum!(
    /// Names the domain event an `event` message reports.
    EventKind <=> d::EventKind {
        PhaseChanged, DelegatesImported, CheckedIn, CheckInUndone, CheckInRequested, CheckInDeclined, QuestionSubmitted, QuestionApproved, QuestionRejected,
        QuestionMerged, QuestionEdited, QuestionQueued, QueueReordered, QuestionSeconded, FloorRequested,
        FloorGranted, CountdownStarted, CountdownPaused, CountdownResumed, CountdownExtended, FollowUpAdded, AnswerRecorded, FloorEnded, EvaluationOpened,
        BallotCast, EvaluationClosed, ItemDrafted, ItemDraftEdited, ItemDraftsMerged, ItemMoved, ItemNoteAdded,
        ItemEvidenceAdded, ItemEvidencePublished, ItemExtensionRequested, ItemExtensionDecided, ItemRated,
        AnnouncementMade, AnnouncementCleared, AnnouncementSeen,
    }
);
