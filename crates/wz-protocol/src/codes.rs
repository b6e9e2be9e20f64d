//! Stable error codes and WebSocket close codes.
//!
//! Codes are part of the public contract: clients branch on them, so a code's
//! meaning never changes once released. `docs/protocol.md` lists them all.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use wz_domain::CommandError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not valid JSON, not a known message type, or fields of the wrong shape.
    BadMessage,
    /// The authenticated role may not do this.
    Forbidden,
    /// A referenced entity does not exist.
    NotFound,
    /// Not possible in the current state (phase, floor, evaluation status).
    InvalidState,
    /// Already done; repeating it changes nothing.
    AlreadyDone,
    /// Content outside the documented limits (length, count, range).
    Invalid,
    /// Rate or size limit exceeded; retry later.
    Limit,
    /// The store could not confirm the write; nothing was acknowledged; retry with the same id.
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::AlreadyDone => "already_done",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Limit => "limit",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// Whether retrying the same command later may succeed.
    pub fn retryable(self) -> bool {
        matches!(self, ErrorCode::Limit | ErrorCode::Unavailable)
    }
}

impl From<&CommandError> for ErrorCode {
    fn from(e: &CommandError) -> Self {
        match e {
            CommandError::Forbidden(_) => ErrorCode::Forbidden,
            CommandError::NotFound(_) => ErrorCode::NotFound,
            CommandError::InvalidState(_) => ErrorCode::InvalidState,
            CommandError::AlreadyDone(_) => ErrorCode::AlreadyDone,
            CommandError::Invalid(_) => ErrorCode::Invalid,
        }
    }
}

/// WebSocket close codes the server uses (4000–4999 are application codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseCode {
    /// 1008: the credential is missing, unknown or was revoked.
    Unauthorized,
    /// 1009: a message exceeded the maximum size.
    TooBig,
    /// 1001: the server is shutting down; reconnect.
    GoingAway,
    /// 4008: the client did not read its messages fast enough; reconnect and resume.
    SlowConsumer,
    /// 4029: the client kept sending past its rate limit.
    RateLimited,
    /// 4010: the credential was reissued; this connection's token is no longer valid.
    Revoked,
    /// 1012 (RFC 6455 "service restart"): the session's actor was restarted
    /// after a failure; reconnect and resume.
    Restarting,
    /// 4400: the `/ws` query was malformed (e.g. `since=abc`); an `error`
    /// (`bad_message`, naming the parameter) precedes the close. Fix the client.
    BadRequest,
    /// 4409: a newer connection with the same credential took this one's place
    /// (more than the per-credential cap were open). Do not reconnect on your own.
    Replaced,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Unauthorized => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::GoingAway => 1001,
            CloseCode::SlowConsumer => 4008,
            CloseCode::RateLimited => 4029,
            CloseCode::Revoked => 4010,
            CloseCode::Restarting => 1012,
            CloseCode::BadRequest => 4400,
            CloseCode::Replaced => 4409,
        }
    }
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::Unauthorized => "unauthorized",
            CloseCode::TooBig => "message_too_big",
            CloseCode::GoingAway => "going_away",
            CloseCode::SlowConsumer => "slow_consumer",
            CloseCode::RateLimited => "rate_limited",
            CloseCode::Revoked => "revoked",
            CloseCode::Restarting => "restarting",
            CloseCode::BadRequest => "bad_request",
            CloseCode::Replaced => "replaced",
        }
    }
}
