//! The REST requests and answers (docs/protocol.md section 12) as typed
//! DTOs: the server builds these, never JSON by hand, and never re-reads the
//! hub's output. They are in the generated TypeScript and, with the
//! WebSocket messages some endpoints answer with, in the OpenAPI document
//! (`GET /api/openapi.json`, [`crate::openapi`]).

use crate::codes::ErrorCode;
use crate::dto::{EvaluationDto, FloorDto, LiveEvaluationDto, QuestionDto, VenueDto, VenueStatsDto};
use crate::server::SnapshotDto;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every REST error: `{"code", "message"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct RestErrorDto {
    pub code: ErrorCode,
    pub message: String,
}

/// `GET /readyz`: whether this server should get traffic, and why not.
/// 200 when `ready`, 503 otherwise, with the same body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ReadyDto {
    /// The store answers and its settings keep acknowledged ballots (or the
    /// server runs with `--allow-unsafe-redis`).
    pub ready: bool,
    /// `memory`, `embedded` or `redis`.
    pub store: String,
    /// The store took a write probe just now (reachable and taking writes).
    pub store_reachable: bool,
    /// Settings that put acknowledged ballots at risk, and a failed write
    /// probe, in words an operator can act on (evaluations are paused while
    /// there are any).
    pub store_problems: Vec<String>,
    /// Sessions served.
    pub sessions: usize,
    /// Sessions not served because their stored record does not hold.
    pub refused: Vec<String>,
    /// This node's id, with several nodes on one Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// The sessions this node owns (holds the lease of), with several nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub owns: Vec<String>,
}

/// A line of `GET /api/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct SessionLineDto {
    pub id: String,
    pub title: String,
}

/// A credential handed out once: at creation, import or reissue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct WhoamiDto {
    pub session: String,
    pub principal: String,
    pub role: crate::dto::Role,
    /// `delegate.html`, `moderator.html`, …
    pub page: String,
}

/// `POST /api/sessions` (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct CreatedDto {
    pub session: String,
    pub credentials: Vec<IssuedCredentialDto>,
}

/// `POST /api/sessions/{id}/delegates` (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ImportedDto {
    pub seq: u64,
    pub credentials: Vec<IssuedCredentialDto>,
}

/// `POST /api/sessions/{id}/credentials/reissue`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ReissuedDto {
    pub credentials: Vec<IssuedCredentialDto>,
}

/// `GET /api/sessions/{id}/venues`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct VenuesDto {
    pub venues: Vec<VenueDto>,
    pub stats: Vec<VenueStatsDto>,
}

/// `GET /api/sessions/{id}/questions`. `floor` is `null` when it is empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct QuestionsDto {
    pub questions: Vec<QuestionDto>,
    pub queue: Vec<u32>,
    pub floor: Option<FloorDto>,
}

/// `GET /api/sessions/{id}/results`. `live` is `null` before any evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct EvaluationsDto {
    pub evaluations: Vec<EvaluationDto>,
    pub live: Option<LiveEvaluationDto>,
}

/// `POST /api/sessions/{id}/credentials/reissue`: whose credentials to
/// replace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct ReissueDto {
    /// Principal keys such as `delegate:d017` or `operator:baiyu`.
    #[schema(example = json!(["delegate:d017", "operator:baiyu"]))]
    pub principals: Vec<String>,
}

/// `?name=` of `POST /api/sessions/{id}/items/{item}/files`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name as the unit knows it (shown, never trusted for the type).
    pub name: String,
}

/// `?venue=` of `GET /api/sessions/{id}/cards`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardsQuery {
    /// Only this venue's operator and delegates (all cards without it).
    pub venue: Option<String>,
}

/// The codes of a document's or spreadsheet's own failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentCode {
    /// 503: no browser to print the PDF with (the print HTML still works).
    PdfUnavailable,
    /// 500: the PDF render failed or took too long.
    PdfFailed,
    /// 500: the xlsx could not be written.
    ExportFailed,
}

/// A document route's error code: one of the protocol's, or one of the
/// documents' own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(untagged)]
pub enum DocumentErrorCode {
    Protocol(ErrorCode),
    Document(DocumentCode),
}

impl From<DocumentCode> for DocumentErrorCode {
    fn from(c: DocumentCode) -> Self {
        DocumentErrorCode::Document(c)
    }
}

impl From<ErrorCode> for DocumentErrorCode {
    fn from(c: ErrorCode) -> Self {
        DocumentErrorCode::Protocol(c)
    }
}

/// Every error of the documents' and spreadsheets' routes: `{"code", "message"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
pub struct DocumentErrorDto {
    pub code: DocumentErrorCode,
    pub message: String,
}

/// `{id}`: a session.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionPath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
}

/// `{id}/export/{file}`: a spreadsheet.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExportPath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
    /// `{questions|answers|results|assignments}.{csv|xlsx}`
    #[param(example = "results.csv")]
    pub file: String,
}

/// `{id}/documents/{file}`: the bulletin or the results report.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DocumentPath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
    /// `{bulletin|results-report}.{html|pdf}`
    #[param(example = "bulletin.html")]
    pub file: String,
}

/// `{id}/documents/letters/{file}`: a unit's letter.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LetterPath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
    /// `{unit}.{html|pdf}`
    #[param(example = "minzheng.html")]
    pub file: String,
}

/// `{id}/items/{item}`: an assignment item.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ItemPath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
    /// The item's id.
    #[param(example = 1)]
    pub item: u32,
}

/// `{id}/files/{file}`: an evidence file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FilePath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
    /// The file's SHA-256 (64 lowercase hex digits).
    #[param(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub file: String,
}

/// `{id}/receipts/{code}`: a receipt code.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReceiptPath {
    /// The session's id.
    #[param(example = "xixia-2026")]
    pub id: String,
    /// 16 lowercase hex digits, as on the receipt (anything else is 400 `invalid`).
    #[param(example = "0123456789abcdef", pattern = "^[0-9a-f]{16}$")]
    pub code: String,
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
