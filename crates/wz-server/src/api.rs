//! The REST API: session setup and reads.
//!
//! Reads answer from the viewer's perspective: with `Authorization: Bearer
//! <token>` as that participant, without one as the public screen. Writes
//! need the session's moderator credential (or the admin token to create a
//! session). Errors are JSON `{"code": …, "message": …}` with the protocol's
//! stable codes.

use crate::app::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wz_domain::Viewer;
use wz_hub::{Credential, Hub, HubError, Principal, PrincipalKey};
use wz_protocol::ErrorCode;
use wz_protocol::definition::{SessionDefinition, delegates_into_domain, parse_delegates_csv};
use wz_protocol::record::{PublicRecord, ReceiptCheckDto};
use wz_protocol::rest::{
    CreatedDto, EvaluationsDto, ImportedDto, IssuedCredentialDto, QuestionsDto, ReceiptPath, ReissueDto, ReissuedDto, RestErrorDto,
    SessionLineDto, SessionPath, VenuesDto, WhoamiDto,
};
use wz_protocol::server::{ServerMessage, SnapshotDto};

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

pub struct ApiError(pub StatusCode, pub ErrorCode, pub String);

/// axum's `Path`, whose rejection (a segment that is not the type, not
/// UTF-8) is the API's JSON 400 `bad_message`, not axum's plain text.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// axum's `Query`, with the API's JSON 400 `bad_message` as its rejection.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// axum's `Json`, with the API's JSON errors as its rejection: 415
/// `bad_message` without `Content-Type: application/json`, 400
/// `bad_message` for a body that is not the JSON the endpoint takes.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, e.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, e.body_text())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match e {
            J::MissingJsonContentType(_) => ApiError(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::BadMessage, e.body_text()),
            _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::Invalid, e.body_text()),
            _ => ApiError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, e.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(RestErrorDto { code: self.1, message: self.2 })).into_response()
    }
}

/// What a read from a viewer's perspective may answer besides its 200
/// (`GET /api/sessions/{id}` and its venues, questions and results), for the
/// OpenAPI document: described once, never built (the handlers answer
/// [`ApiError`]).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum ViewerReadErrors {
    #[response(status = 401, description = "A credential that is not one of this session's (`forbidden`)")]
    Unauthorized(RestErrorDto),
    #[response(status = 404, description = "No such session (`not_found`)")]
    NotFound(RestErrorDto),
    #[response(status = 503, description = "The session cannot be read now (`unavailable`)")]
    Unavailable(RestErrorDto),
}

/// Any `/api/…` path no endpoint serves: 404 `not_found`, in JSON.
pub async fn no_such_endpoint(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("no endpoint {method} {}; see docs/protocol.md, section 12", uri.path()))
}

/// A known path with a method it does not take: 405 `bad_message`, in
/// JSON (axum adds the `Allow` header).
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::BadMessage, format!("{} does not take {method}; see the Allow header", uri.path()))
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::NoSession(_) | HubError::NoPrincipal(_) => ApiError(StatusCode::NOT_FOUND, ErrorCode::NotFound, e.to_string()),
            HubError::Exists(_) => ApiError(StatusCode::CONFLICT, ErrorCode::AlreadyDone, e.to_string()),
            HubError::Definition(_) => ApiError(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, e.to_string()),
            HubError::Store(_) | HubError::Closed | HubError::Corrupt { .. } | HubError::Refused { .. } => {
                ApiError(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, e.to_string())
            }
        }
    }
}

fn forbidden(msg: &str) -> ApiError {
    ApiError(StatusCode::FORBIDDEN, ErrorCode::Forbidden, msg.to_owned())
}

/// The viewer a request reads as: its credential's, or the public screen's.
fn viewer_for(st: &AppState, session: &str, headers: &HeaderMap) -> Result<Viewer, ApiError> {
    match bearer(headers) {
        None => Ok(Viewer::Screen),
        Some(t) => match st.hub.authenticate(&t) {
            Some(p) if p.session == session => Ok(p.viewer()),
            _ => Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "unknown credential for this session".into())),
        },
    }
}

pub(crate) fn moderator(st: &AppState, session: &str, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let p = bearer(headers).and_then(|t| st.hub.authenticate(&t)).filter(|p| p.session == session);
    match p {
        Some(p) if p.key == PrincipalKey::Moderator => Ok(p),
        Some(_) => Err(forbidden("only the moderator may do this")),
        None => Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "the moderator's credential is required".into())),
    }
}

/// `GET /api/whoami`: who the presented credential (a token or a join code)
/// is, so a page that was given a typed code can say at once whether it is
/// right and send the person to their page.
#[utoipa::path(
    get,
    path = "/api/whoami",
    tag = "credentials",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Whose credential it is and the page it belongs on (`Cache-Control: no-store`)", body = WhoamiDto),
        (status = 401, description = "No credential, or one that names nobody (`forbidden`)", body = RestErrorDto),
        (status = 429, description = "Too many wrong join codes from this address (`limit`, with `Retry-After`)", body = RestErrorDto),
    )
)]
pub async fn whoami(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let p = bearer(&headers).and_then(|t| st.hub.authenticate(&t)).ok_or_else(|| {
        ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "入会码或凭证不正确 unknown join code or credential".into())
    })?;
    let dto = WhoamiDto {
        session: p.session.clone(),
        principal: p.key.to_string(),
        role: (&p.viewer()).into(),
        page: crate::sheet::page(&p.key).to_owned(),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(dto)).into_response())
}

/// `GET /api/sessions`: every session's id and title.
#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "sessions",
    responses((status = 200, description = "Every session served", body = Vec<SessionLineDto>))
)]
pub async fn list_sessions(State(st): State<AppState>) -> impl IntoResponse {
    Json(st.hub.sessions().into_iter().map(|s| SessionLineDto { id: s.id, title: s.title }).collect::<Vec<_>>())
}

fn issued(st: &AppState, creds: &[Credential]) -> Vec<IssuedCredentialDto> {
    let base = st.base_url();
    creds
        .iter()
        .map(|c| IssuedCredentialDto {
            principal: c.key.to_string(),
            token: c.token.clone(),
            code: c.code().to_string(),
            link: crate::sheet::link(&base, &c.key, &c.token),
        })
        .collect()
}

/// `POST /api/sessions`: body is a session definition (JSON, or TOML with
/// `Content-Type: application/toml`). Needs `Authorization: Bearer <admin token>`.
#[utoipa::path(
    post,
    path = "/api/sessions",
    tag = "sessions",
    security(("admin" = [])),
    request_body(
        description = "A session definition (docs/protocol.md section 13): JSON, or TOML with `Content-Type: application/toml`",
        content((wz_protocol::definition::SessionDefinition = "application/json"), (String = "application/toml")),
    ),
    responses(
        (status = 201, description = "Created; the credentials are returned only this once", body = CreatedDto),
        (status = 400, description = "Not a session definition (`bad_message`)", body = RestErrorDto),
        (status = 401, description = "No credential (`forbidden`)", body = RestErrorDto),
        (status = 403, description = "Not the admin token, or creation over HTTP is disabled (`forbidden`)", body = RestErrorDto),
        (status = 409, description = "A session with this id exists (`already_done`)", body = RestErrorDto),
        (status = 422, description = "A definition that does not hold (`invalid`)", body = RestErrorDto),
        (status = 503, description = "The store could not confirm it (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn create_session(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let Some(admin) = &st.admin_token else {
        return Err(forbidden("session creation over HTTP is disabled (start the server with --admin-token)"));
    };
    match bearer(&headers) {
        None => return Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "the admin token is required".into())),
        Some(t) if t != **admin => return Err(forbidden("the admin token is required")),
        Some(_) => {}
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, "body is not UTF-8".into()))?;
    let is_toml = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("toml"));
    let parsed = if is_toml { SessionDefinition::from_toml(text) } else { SessionDefinition::from_json(text) };
    let def = parsed
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, e.to_string()))?
        .into_domain()
        .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, e.to_string()))?;
    let id = def.id.clone();
    let creds = st.hub.create_session(def).await?;
    Ok((StatusCode::CREATED, Json(CreatedDto { session: id, credentials: issued(&st, &creds) })).into_response())
}

async fn snapshot_dto(st: &AppState, id: &str, headers: &HeaderMap) -> Result<SnapshotDto, ApiError> {
    let viewer = viewer_for(st, id, headers)?;
    Ok(*st.hub.snapshot_dto(id, viewer).await?)
}

/// `GET /api/sessions/{id}`: the full snapshot this viewer may see.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}",
    tag = "sessions",
    params(SessionPath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The `snapshot` message for the viewer (docs/protocol.md section 5)", body = ServerMessage),
        ViewerReadErrors,
    )
)]
pub async fn snapshot(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
) -> Result<Json<ServerMessage>, ApiError> {
    Ok(Json(ServerMessage::Snapshot(Box::new(snapshot_dto(&st, &id, &headers).await?))))
}

/// `GET /api/sessions/{id}/venues`: venues with presence (and connections for staff).
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/venues",
    tag = "sessions",
    params(SessionPath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Venues with presence (and connections for staff)", body = VenuesDto),
        ViewerReadErrors,
    )
)]
pub async fn venues(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
) -> Result<Json<VenuesDto>, ApiError> {
    Ok(Json(VenuesDto::of(snapshot_dto(&st, &id, &headers).await?)))
}

/// `GET /api/sessions/{id}/questions`: the questions this viewer may see, and the queue.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/questions",
    tag = "sessions",
    params(SessionPath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The questions this viewer may see, the queue and the floor", body = QuestionsDto),
        ViewerReadErrors,
    )
)]
pub async fn questions(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
) -> Result<Json<QuestionsDto>, ApiError> {
    Ok(Json(QuestionsDto::of(snapshot_dto(&st, &id, &headers).await?)))
}

/// `GET /api/sessions/{id}/results`: evaluations; results appear once closed.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/results",
    tag = "sessions",
    params(SessionPath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Evaluations (results once closed) and the live one's turnout", body = EvaluationsDto),
        ViewerReadErrors,
    )
)]
pub async fn results(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
) -> Result<Json<EvaluationsDto>, ApiError> {
    Ok(Json(EvaluationsDto::of(snapshot_dto(&st, &id, &headers).await?)))
}

/// `POST /api/sessions/{id}/delegates`: CSV body (id,name,level,venue), while preparing.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/delegates",
    tag = "sessions",
    params(SessionPath),
    security(("bearer" = [])),
    request_body(
        description = "Delegates CSV with the header `id,name,level,venue` (docs/protocol.md section 13)",
        content((String = "text/csv", example = "id,name,level,venue\nd999,新代表,county,baiyu\n")),
    ),
    responses(
        (status = 201, description = "Imported; the new delegates' credentials, returned only this once", body = ImportedDto),
        (status = 400, description = "Not a delegates CSV (`bad_message`)", body = RestErrorDto),
        (status = 401, description = "No credential of this session (`forbidden`)", body = RestErrorDto),
        (status = 403, description = "Not the moderator (`forbidden`)", body = RestErrorDto),
        (status = 404, description = "No such session, or a venue it does not have (`not_found`)", body = RestErrorDto),
        (status = 409, description = "Not while the session is past `preparing`, or already imported (`invalid_state`, `already_done`)", body = RestErrorDto),
        (status = 422, description = "Outside the limits (`invalid`)", body = RestErrorDto),
        (status = 429, description = "A limit (`limit`)", body = RestErrorDto),
        (status = 503, description = "The store could not confirm it (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn import_delegates(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    moderator(&st, &id, &headers)?;
    let rows = parse_delegates_csv(&body).map_err(|e| ApiError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, e.to_string()))?;
    let (result, creds) = st.hub.import_delegates(&id, delegates_into_domain(rows)).await?;
    match result {
        Ok(ack) => {
            // Delegates imported later are on the sheet too (`links`, `cards`).
            update_sheet(&st, &id, &creds).await;
            Ok((StatusCode::CREATED, Json(ImportedDto { seq: ack.seq, credentials: issued(&st, &creds) })).into_response())
        }
        Err(e) => Err(ApiError(status_for(e.code), e.code, e.message)),
    }
}

/// `POST /api/sessions/{id}/credentials/reissue`: new join links for lost
/// cards; the old credentials stop working and their connections close (4010).
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/credentials/reissue",
    tag = "credentials",
    params(SessionPath),
    security(("bearer" = [])),
    request_body = ReissueDto,
    responses(
        (status = 200, description = "The new credentials, returned only this once", body = ReissuedDto),
        (status = 400, description = "Not the JSON body this takes (`bad_message`)", body = RestErrorDto),
        (status = 401, description = "No credential of this session (`forbidden`)", body = RestErrorDto),
        (status = 403, description = "Not the moderator (`forbidden`)", body = RestErrorDto),
        (status = 404, description = "No such session, or no such participant (`not_found`)", body = RestErrorDto),
        (status = 415, description = "Without `Content-Type: application/json` (`bad_message`)", body = RestErrorDto),
        (status = 503, description = "The store could not confirm it (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn reissue(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ReissueDto>,
) -> Result<Response, ApiError> {
    moderator(&st, &id, &headers)?;
    let known = st.hub.principals(&id);
    let mut keys = Vec::new();
    for p in &body.principals {
        let k = PrincipalKey::parse(p)
            .filter(|k| known.contains(k))
            .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("no participant {p}")))?;
        keys.push(k);
    }
    let creds = st.hub.reissue(&id, &keys).await?;
    update_sheet(&st, &id, &creds).await;
    Ok(Json(ReissuedDto { credentials: issued(&st, &creds) }).into_response())
}

/// Keeps the printed sheet current when there is one (the demo's, or one a
/// CLI start wrote): new and reissued credentials are appended with their
/// names and venues, so `links` and `cards` know them.
async fn update_sheet(st: &AppState, id: &str, creds: &[Credential]) {
    if creds.is_empty() || !crate::sheet::path(&st.data_dir, id).exists() {
        return;
    }
    let session = match st.hub.state(id).await {
        Ok(state) => state.session,
        Err(e) => return tracing::warn!(error = %e, "could not read the session to update the credential sheet"),
    };
    if let Err(e) = crate::sheet::append(&st.data_dir, id, &|k| crate::sheet::who(&session, k), creds, &st.base_url()) {
        tracing::warn!(error = %e, "could not update the credential sheet");
    }
}

pub(crate) fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadMessage => StatusCode::BAD_REQUEST,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidState | ErrorCode::AlreadyDone => StatusCode::CONFLICT,
        ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Limit => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `GET /api/sessions/{id}/record`: the public record (issue 9), for the
/// moderator, the auditor and the office. Built from the store, checked
/// before it is served; an open evaluation's choices are not in it.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/record",
    tag = "records",
    params(SessionPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The public record (docs/record.md), as an attachment", body = PublicRecord),
        (status = 401, description = "No credential, or one that is not one of this session's (`forbidden`)", body = RestErrorDto),
        (status = 403, description = "Not the moderator, the auditor or the office (`forbidden`)", body = RestErrorDto),
        (status = 404, description = "No such session (`not_found`)", body = RestErrorDto),
        (status = 503, description = "The record does not hold, or cannot be read now (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn public_record(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if bearer(&headers).is_none() {
        return Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "a credential of this session is required".into()));
    }
    match viewer_for(&st, &id, &headers)? {
        Viewer::Moderator | Viewer::Auditor | Viewer::Office => {}
        _ => return Err(forbidden("the record is for the moderator, the auditor and the congress office")),
    }
    // Checked before it is served: a record that does not hold is `Corrupt`, 503.
    let record = Hub::public_record(st.hub.store(), &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}-record.json\"")),
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        record.encode(),
    )
        .into_response())
}

/// `GET /api/sessions/{id}/receipts/{code}`: the receipt check, without a
/// credential (`verify.html`). It answers whether a ballot or follow-up
/// rating with this code is recorded and counted, never its choice. All
/// checks of a session share one rate limit (the per-credential quota), so
/// a flood costs one session's bucket, not the server.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/receipts/{code}",
    tag = "records",
    params(ReceiptPath),
    responses(
        (status = 200, description = "Whether a ballot or rating with this code is recorded and counted (`Cache-Control: no-store`)", body = ReceiptCheckDto),
        (status = 400, description = "Not a receipt code: 16 lowercase hex digits (`invalid`)", body = RestErrorDto),
        (status = 404, description = "No such session (`not_found`)", body = RestErrorDto),
        (status = 429, description = "Too many checks of this session (`limit`)", body = RestErrorDto),
        (status = 503, description = "The session cannot be read now (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn receipt_check(
    State(st): State<AppState>,
    ApiPath(ReceiptPath { id, code }): ApiPath<ReceiptPath>,
) -> Result<Response, ApiError> {
    if st.limiter.check_key(&format!("receipts/{id}")).is_err() {
        return Err(ApiError(StatusCode::TOO_MANY_REQUESTS, ErrorCode::Limit, "too many receipt checks; try again in a moment".into()));
    }
    let found = st
        .hub
        .receipt(&id, &code)
        .await?
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "a receipt code is 16 characters, 0-9 and a-f".into()))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(found)).into_response())
}
