//! The follow-up's HTTP endpoints (issue 8): evidence files up and down, and
//! the public progress page's data.
//!
//! * `POST /api/sessions/{id}/items/{item}/files?name=<file name>`: the
//!   body is the file (JPEG, PNG, WebP or PDF, recognised by content; at
//!   most [`MAX_EVIDENCE_BYTES`]); needs the unit's credential. Answers
//!   201 with the `ack` (its `result` is the item), or the error.
//! * `GET /api/sessions/{id}/files/{sha256}`: the file, for whoever may see
//!   it (the credential's perspective; without one, only files the office
//!   made public), always as a download (`Content-Disposition: attachment`,
//!   `nosniff`), so a file can never run as a page of this site.
//! * `GET /api/sessions/{id}/progress`: the public progress page's data,
//!   rendered by the session's actor once per change.

use crate::api::{ApiError, ApiPath, ApiQuery, bearer, status_for};
use crate::app::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wz_hub::{MAX_EVIDENCE_BYTES, Principal};
use wz_protocol::ErrorCode;
use wz_protocol::assignment::ProgressDto;
use wz_protocol::openapi::Binary;
use wz_protocol::rest::{FilePath, ItemPath, RestErrorDto, SessionPath, UploadQuery};
use wz_protocol::server::ServerMessage;

fn unauthorized() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "a credential of this session is required".into())
}

fn principal(st: &AppState, session: &str, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    match bearer(headers) {
        None => Ok(None),
        Some(t) => match st.hub.authenticate(&t) {
            Some(p) if p.session == session => Ok(Some(p)),
            _ => Err(unauthorized()),
        },
    }
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `POST /api/sessions/{id}/items/{item}/files?name=…`
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/items/{item}/files",
    tag = "follow-up",
    params(ItemPath, UploadQuery),
    security(("bearer" = [])),
    request_body(
        description = "The file itself: JPEG, PNG, WebP or PDF, recognised by its bytes (any `Content-Type`), at most 10 MiB",
        content((Binary = "application/octet-stream")),
    ),
    responses(
        (status = 201, description = "Stored and recorded: the `ack` message (`result.item`)", body = ServerMessage),
        (status = 400, description = "No `name`, or a path that is not a session and an item number (`bad_message`)", body = RestErrorDto),
        (status = 401, description = "No credential of this session (`forbidden`)", body = RestErrorDto),
        (status = 403, description = "Not one of the item's units (`forbidden`)", body = RestErrorDto),
        (status = 404, description = "No such session or item (`not_found`)", body = RestErrorDto),
        (status = 409, description = "Not in the item's state, or the same file again (`invalid_state`, `already_done`)", body = RestErrorDto),
        (status = 413, description = "Larger than 10 MiB (`invalid`)", body = RestErrorDto),
        (status = 422, description = "Not a JPEG, PNG, WebP or PDF, or over a quota (`invalid`)", body = RestErrorDto),
        (status = 429, description = "A limit (`limit`)", body = RestErrorDto),
        (status = 503, description = "The store could not confirm it (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn upload(
    State(st): State<AppState>,
    ApiPath(ItemPath { id, item }): ApiPath<ItemPath>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let p = principal(&st, &id, &headers)?.ok_or_else(unauthorized)?;
    // Over the limit (announced or counted): the same JSON error as every
    // other refusal, not the body limit's plain text.
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::Invalid, format!("file larger than {MAX_EVIDENCE_BYTES} bytes"))
        }
        status => ApiError(status, ErrorCode::BadMessage, e.body_text()),
    })?;
    match st.hub.attach(&p, item, &q.name, body).await? {
        Ok(ack) => Ok(json(StatusCode::CREATED, ServerMessage::Ack(ack).encode())),
        Err(e) => Err(ApiError(status_for(e.code), e.code, e.message)),
    }
}

/// `GET /api/sessions/{id}/files/{file}`
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/files/{file}",
    tag = "follow-up",
    params(FilePath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The file, as an attachment (`nosniff`, `Cache-Control: private, no-cache`)", content(
            (Binary = "image/jpeg"), (Binary = "image/png"), (Binary = "image/webp"), (Binary = "application/pdf")
        )),
        (status = 401, description = "A credential that is not one of this session's (`forbidden`)", body = RestErrorDto),
        (status = 404, description = "No such session, or no such file that this credential may see (`not_found`)", body = RestErrorDto),
        (status = 503, description = "The session or the file cannot be read now (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn download(
    State(st): State<AppState>,
    ApiPath(FilePath { id, file }): ApiPath<FilePath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let viewer = principal(&st, &id, &headers)?.map(|p| p.viewer());
    let Some((info, bytes)) = st.hub.file(&id, viewer, &file).await? else {
        return Err(ApiError(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("no file {file} that this credential may see")));
    };
    let ext = match info.kind {
        wz_domain::assignment::FileKind::Jpeg => "jpg",
        wz_domain::assignment::FileKind::Png => "png",
        wz_domain::assignment::FileKind::Webp => "webp",
        wz_domain::assignment::FileKind::Pdf => "pdf",
    };
    let disposition = format!("attachment; filename=\"evidence.{ext}\"; filename*={}", crate::reports::filename_star(&info.name));
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(info.kind.media_type()));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("percent-encoded ASCII"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Files are immutable (named by their hash), but who may read one can
    // change (the office publishes and unpublishes): private, revalidated.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(res)
}

/// `GET /api/sessions/{id}/progress`
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/progress",
    tag = "follow-up",
    params(SessionPath),
    responses(
        (status = 200, description = "The public progress page's data", body = ProgressDto),
        (status = 404, description = "No such session (`not_found`)", body = RestErrorDto),
        (status = 503, description = "The session cannot be read now (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn progress(State(st): State<AppState>, ApiPath(SessionPath { id }): ApiPath<SessionPath>) -> Result<Response, ApiError> {
    let text = st.hub.progress(&id).await?;
    Ok(json(StatusCode::OK, text.to_string()))
}

/// The request body limit of an upload: the largest file, and some slack
/// for nothing else (the body is the file alone).
pub const UPLOAD_BODY_LIMIT: usize = MAX_EVIDENCE_BYTES as usize;

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_percent_encoded_for_the_header() {
        assert_eq!(crate::reports::filename_star("整改 照片.jpg"), "UTF-8''%E6%95%B4%E6%94%B9%20%E7%85%A7%E7%89%87.jpg");
        assert_eq!(crate::reports::filename_star("a\"b\r\n.pdf"), "UTF-8''a%22b%0D%0A.pdf");
    }
}
