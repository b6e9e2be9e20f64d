//! Messages from the server.
//!
//! `snapshot` is the first message on every connection (unless a resume could
//! be served from memory); `event` messages follow in sequence order; `ack` /
//! `error` answer commands; `stats` carries conflated live numbers (presence,
//! turnout, ballots per unit; never choices before the reveal) and is latest-value-wins.

use crate::assignment::{BoardDto, ItemDto, ItemReceiptDto};
use crate::codes::ErrorCode;
use crate::dto::*;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Snapshot(Box<SnapshotDto>),
    Event(EventDto),
    Ack(AckDto),
    Error(ErrorDto),
    Stats(StatsDto),
}

impl ServerMessage {
    /// Encodes for the wire. Serialising our own types cannot fail.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialise")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct YouDto {
    pub role: Role,
    /// Display name of the participant (delegate's name, venue name for an operator).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub delegate: Option<String>,
    /// A unit's id (role `unit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub unit: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct SessionInfoDto {
    pub id: String,
    pub title: String,
    pub theme: String,
    pub phase: Phase,
    pub venues: Vec<VenueDto>,
    pub units: Vec<NamedDto>,
    pub topics: Vec<NamedDto>,
    pub limits: LimitsDto,
    /// Deadlines are dates in this zone; "today" is the date there.
    pub time_zone: TimeZoneDto,
    /// Who may check a delegate in.
    pub check_in: CheckInPolicy,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct TimeZoneDto {
    /// e.g. `Asia/Shanghai`
    pub name: String,
    /// Minutes east of UTC (480 for Asia/Shanghai).
    pub utc_offset_minutes: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct SnapshotDto {
    /// The last event this snapshot includes; resume from here.
    #[ts(type = "number")]
    pub seq: u64,
    /// The session's incarnation (16 lowercase hex digits): resume with
    /// `epoch=<this>&since=<seq>`. A different epoch means a different history.
    pub epoch: String,
    #[ts(type = "number")]
    pub server_time: u64,
    pub protocol: u32,
    pub you: YouDto,
    pub session: SessionInfoDto,
    /// Roster entries this viewer may see (all for staff, own venue for operators, self for delegates).
    pub delegates: Vec<DelegateDto>,
    /// Checked-in delegate ids this viewer may see.
    pub checked_in: Vec<String>,
    /// Pending check-in requests (policy `confirmed`) this viewer may see:
    /// all for staff, own venue's for an operator, one's own for a delegate.
    pub check_in_requests: Vec<CheckInRequestDto>,
    pub questions: Vec<QuestionDto>,
    pub queue: Vec<u32>,
    pub floor_requests: Vec<FloorRequestDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub floor: Option<FloorDto>,
    pub evaluations: Vec<EvaluationDto>,
    /// The viewer's own ballots (a delegate's; nobody else receives a ballot).
    pub ballots: Vec<BallotDto>,
    /// The assignment items this viewer may see (drafts: the office only).
    pub items: Vec<ItemDto>,
    /// The assignment board's figures.
    pub board: BoardDto,
    /// The last announcements (at most 20, oldest first), cleared ones included.
    pub announcements: Vec<AnnouncementDto>,
    pub stats: StatsDto,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct EventDto {
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub at: u64,
    pub kind: EventKind,
    /// New state of every entity the event touched that this viewer may see.
    pub changes: Vec<ChangeDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum ChangeDto {
    Phase {
        phase: Phase,
    },
    Roster {
        delegates: Vec<DelegateDto>,
    },
    CheckIn {
        delegate: String,
        venue: String,
        #[ts(type = "number")]
        at: u64,
    },
    /// A check-in taken back (before the evaluation), with the reason.
    CheckInUndone {
        delegate: String,
        venue: String,
        reason: String,
    },
    /// A delegate asked to be checked in (policy `confirmed`); a `check_in`
    /// of the same delegate settles it.
    CheckInRequest {
        delegate: String,
        venue: String,
        #[ts(type = "number")]
        at: u64,
    },
    /// A check-in request declined, with the reason if one was given.
    CheckInDeclined {
        delegate: String,
        venue: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<String>,
    },
    Presence {
        venue: String,
        present: u32,
        roster: u32,
    },
    Question {
        question: Box<QuestionDto>,
    },
    Queue {
        order: Vec<u32>,
    },
    FloorRequests {
        requests: Vec<FloorRequestDto>,
    },
    Floor {
        floor: Option<FloorDto>,
    },
    Evaluation {
        evaluation: Box<EvaluationDto>,
    },
    Ballot {
        ballot: BallotDto,
    },
    /// An assignment item's new state, as this viewer may see it.
    Item {
        item: Box<ItemDto>,
    },
    /// The assignment board after the change.
    Board {
        board: Box<BoardDto>,
    },
    /// An announcement's new state.
    Announcement {
        announcement: Box<AnnouncementDto>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct AckDto {
    pub id: String,
    /// Session sequence number once the command took effect: the state
    /// described by events up to `seq` includes it.
    #[ts(type = "number")]
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub result: Option<AckResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AckResult {
    Question(u32),
    FollowUp(u32),
    Evaluation(u32),
    /// The closed evaluation with its final results, as the moderator sees them.
    Closed(Box<EvaluationDto>),
    Receipt(ReceiptDto),
    /// The assignment item created or changed.
    Item(u32),
    /// Drafts added: the first id and how many (consecutive ids).
    Drafted {
        first: u32,
        count: u32,
    },
    /// The accepted follow-up rating.
    ItemReceipt(ItemReceiptDto),
    /// The announcement made, cleared or acknowledged.
    Announcement(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ErrorDto {
    /// The command's id; absent when the message could not be read far enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub id: Option<String>,
    pub code: ErrorCode,
    pub message: String,
    /// True for `limit` and `unavailable`: retry later with the same id.
    pub retryable: bool,
}

impl ErrorDto {
    pub fn new(id: Option<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { id, code, message: message.into(), retryable: code.retryable() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct StatsDto {
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub server_time: u64,
    pub venues: Vec<VenueStatsDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub evaluation: Option<LiveEvaluationDto>,
    /// False while the store does not answer: nothing can be acknowledged and
    /// what screens show may be stale.
    pub store_available: bool,
    /// Operational warnings for the moderator and the auditor (unsafe store
    /// settings, an evaluation under review); absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub warnings: Option<Vec<String>>,
    /// The head of the session's record (the hash chain of its stored
    /// records, 64 hex digits) as of `seq`: the moderator and the auditor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub chain_head: Option<String>,
}
