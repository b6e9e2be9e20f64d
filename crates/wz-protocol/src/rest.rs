//! The REST answers (docs/protocol.md section 12) as typed DTOs: the server
//! builds these, never JSON by hand, and never re-reads the hub's output.

use crate::codes::ErrorCode;
use crate::dto::{EvaluationDto, FloorDto, LiveEvaluationDto, QuestionDto, VenueDto, VenueStatsDto};
use crate::server::SnapshotDto;
use serde::{Deserialize, Serialize};

/// Every REST error: `{"code", "message"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestErrorDto {
    pub code: ErrorCode,
    pub message: String,
}

/// `GET /readyz`: whether this server should get traffic, and why not.
/// 200 when `ready`, 503 otherwise, with the same body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyDto {
    /// The store answers and its settings keep acknowledged ballots (or the
    /// server runs with `--allow-unsafe-redis`).
    pub ready: bool,
    /// `memory`, `embedded` or `redis`.
    pub store: String,
    /// The store answered a probe just now.
    pub store_reachable: bool,
    /// Settings that put acknowledged ballots at risk, in words an operator
    /// can act on (evaluations are paused while there are any).
    pub store_problems: Vec<String>,
    /// Sessions served.
    pub sessions: usize,
    /// Sessions not served because their stored record does not hold.
    pub refused: Vec<String>,
    /// This node's id, with several nodes on one Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The sessions this node owns (holds the lease of), with several nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owns: Vec<String>,
}

/// A line of `GET /api/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLineDto {
    pub id: String,
    pub title: String,
}

/// A credential handed out once: at creation, import or reissue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredentialDto {
    pub principal: String,
    pub token: String,
    /// The short join code to type (`K7M2Q-8XRT4`), another form of the token.
    pub code: String,
    pub link: String,
}

/// `GET /api/whoami`: whose credential (token or join code) the request
/// presents, and the page it belongs on. 401 when it names nobody, 429 after
/// too many wrong join codes from the address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoamiDto {
    pub session: String,
    pub principal: String,
    pub role: crate::dto::Role,
    /// `delegate.html`, `moderator.html`, …
    pub page: String,
}

/// `POST /api/sessions` (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDto {
    pub session: String,
    pub credentials: Vec<IssuedCredentialDto>,
}

/// `POST /api/sessions/{id}/delegates` (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedDto {
    pub seq: u64,
    pub credentials: Vec<IssuedCredentialDto>,
}

/// `POST /api/sessions/{id}/credentials/reissue`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissuedDto {
    pub credentials: Vec<IssuedCredentialDto>,
}

/// `GET /api/sessions/{id}/venues`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenuesDto {
    pub venues: Vec<VenueDto>,
    pub stats: Vec<VenueStatsDto>,
}

/// `GET /api/sessions/{id}/questions`. `floor` is `null` when it is empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionsDto {
    pub questions: Vec<QuestionDto>,
    pub queue: Vec<u32>,
    pub floor: Option<FloorDto>,
}

/// `GET /api/sessions/{id}/results`. `live` is `null` before any evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationsDto {
    pub evaluations: Vec<EvaluationDto>,
    pub live: Option<LiveEvaluationDto>,
}

impl VenuesDto {
    pub fn of(s: SnapshotDto) -> Self {
        Self { venues: s.session.venues, stats: s.stats.venues }
    }
}

impl QuestionsDto {
    pub fn of(s: SnapshotDto) -> Self {
        Self { questions: s.questions, queue: s.queue, floor: s.floor }
    }
}

impl EvaluationsDto {
    pub fn of(s: SnapshotDto) -> Self {
        Self { evaluations: s.evaluations, live: s.stats.evaluation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_docs_protocol_md_section_12_promises() {
        let q = QuestionsDto { questions: vec![], queue: vec![2, 1], floor: None };
        assert_eq!(serde_json::to_string(&q).unwrap(), r#"{"questions":[],"queue":[2,1],"floor":null}"#);
        let e = EvaluationsDto { evaluations: vec![], live: None };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"evaluations":[],"live":null}"#);
        let err = RestErrorDto { code: ErrorCode::NotFound, message: "no session x".into() };
        assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"code":"not_found","message":"no session x"}"#);
        let c = CreatedDto {
            session: "s".into(),
            credentials: vec![IssuedCredentialDto {
                principal: "moderator".into(),
                token: "t".into(),
                code: "K7M2Q-8XRT4".into(),
                link: "l".into(),
            }],
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"session":"s","credentials":[{"principal":"moderator","token":"t","code":"K7M2Q-8XRT4","link":"l"}]}"#
        );
        let w = WhoamiDto {
            session: "s".into(),
            principal: "delegate:d017".into(),
            role: crate::dto::Role::Delegate,
            page: "delegate.html".into(),
        };
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"session":"s","principal":"delegate:d017","role":"delegate","page":"delegate.html"}"#
        );
    }
}
