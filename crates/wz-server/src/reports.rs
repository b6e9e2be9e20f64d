//! The documents and spreadsheets over HTTP (issue 9), rendered by
//! `wz-report` from the session's confirmed state (`Hub::state`), never from
//! re-parsed JSON:
//!
//! * `GET /api/sessions/{id}/documents/bulletin.{html|pdf}`: 人大工作信息
//! * `GET /api/sessions/{id}/documents/results-report.{html|pdf}`: 测评结果报告
//! * `GET /api/sessions/{id}/documents/letters/{unit}.{html|pdf}`: 交办函
//! * `GET /api/sessions/{id}/export/{questions|answers|results|assignments}.{csv|xlsx}`
//!
//! Who: the moderator, the auditor and the office fetch everything; a
//! unit's credential fetches its own letter. HTML and PDF are served
//! `inline` (the print view opens in the browser), spreadsheets as
//! attachments; each with a Chinese file name (RFC 5987 `filename*`).
//! Errors are the API's `{"code", "message"}`; a PDF without a browser to
//! print it is 503 `pdf_unavailable`, a render that failed 500 `pdf_failed`,
//! an xlsx that could not be written 500 `export_failed`.

use crate::api::{ApiError, ApiPath, bearer};
use crate::app::AppState;
use crate::pdf::{PdfError, PdfRenderer};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wz_domain::{UnitId, Viewer};
use wz_protocol::ErrorCode;
use wz_protocol::openapi::Binary;
use wz_protocol::rest::{DocumentCode, DocumentErrorDto, DocumentPath, ExportPath, LetterPath};
use wz_report::{Document, Export, Input};

/// An error of these routes: the API's, or a PDF's.
pub enum DocError {
    Api(ApiError),
    Pdf(PdfError),
    /// Writing the xlsx failed (500 `export_failed`).
    Xlsx(String),
}

impl IntoResponse for DocError {
    fn into_response(self) -> Response {
        match self {
            DocError::Api(e) => e.into_response(),
            DocError::Pdf(e) => {
                let (status, code) = match e {
                    PdfError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, DocumentCode::PdfUnavailable),
                    PdfError::Timeout | PdfError::Failed(_) => (StatusCode::INTERNAL_SERVER_ERROR, DocumentCode::PdfFailed),
                };
                tracing::warn!(error = %e, "PDF document not rendered");
                (status, Json(DocumentErrorDto { code: code.into(), message: e.to_string() })).into_response()
            }
            DocError::Xlsx(e) => {
                tracing::warn!(error = %e, "spreadsheet not written");
                let body = DocumentErrorDto { code: DocumentCode::ExportFailed.into(), message: e };
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
        }
    }
}

impl From<ApiError> for DocError {
    fn from(e: ApiError) -> Self {
        DocError::Api(e)
    }
}

impl From<wz_hub::HubError> for DocError {
    fn from(e: wz_hub::HubError) -> Self {
        DocError::Api(e.into())
    }
}

fn not_found(what: &str) -> DocError {
    DocError::Api(ApiError(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("no document {what}")))
}

/// The reader's viewer: a credential of this session is required.
fn viewer(st: &AppState, session: &str, headers: &HeaderMap) -> Result<Viewer, DocError> {
    let p = bearer(headers).and_then(|t| st.hub.authenticate(&t)).filter(|p| p.session == session);
    p.map(|p| p.viewer()).ok_or_else(|| {
        DocError::Api(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Forbidden, "a credential of this session is required".into()))
    })
}

/// May `v` read `doc` (`None`: a spreadsheet)?
pub fn may_read(v: &Viewer, doc: Option<&Document>) -> bool {
    match v {
        Viewer::Moderator | Viewer::Auditor | Viewer::Office => true,
        Viewer::Unit(u) => matches!(doc, Some(Document::Letter(x)) if x == u),
        _ => false,
    }
}

fn check(v: &Viewer, doc: Option<&Document>) -> Result<(), DocError> {
    if may_read(v, doc) {
        return Ok(());
    }
    let why = "documents are for the moderator, the auditor and the office; a unit reads its own letter";
    Err(DocError::Api(ApiError(StatusCode::FORBIDDEN, ErrorCode::Forbidden, why.into())))
}

/// RFC 5987 `filename*` value: UTF-8, percent-encoded but for attr-chars.
pub fn filename_star(name: &str) -> String {
    let mut out = String::from("UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn respond(body: Vec<u8>, content_type: &'static str, disposition: &str, ascii_name: &str, name: &str) -> Response {
    let value = format!("{disposition}; filename=\"{ascii_name}\"; filename*={}", filename_star(name));
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&value).expect("percent-encoded ASCII"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

/// The letter's line on how to reply: the unit page's address, never a token.
pub fn how_to_reply(base: &str) -> String {
    let page = if base.is_empty() { "unit.html".to_owned() } else { format!("{base}/unit.html") };
    format!("请使用本单位的办理页面 {page} 登录链接（另行发送）逐项答复、报送整改情况和佐证材料。")
}

/// `{stem}.{html|pdf}` of a document route.
fn split_ext(file: &str) -> Option<(&str, bool)> {
    let (stem, ext) = file.rsplit_once('.')?;
    match ext {
        "html" => Some((stem, false)),
        "pdf" => Some((stem, true)),
        _ => None,
    }
}

async fn document(st: &AppState, id: &str, headers: &HeaderMap, doc: Document, ascii: &str, pdf: bool) -> Result<Response, DocError> {
    let v = viewer(st, id, headers)?;
    check(&v, Some(&doc))?;
    let state = st.hub.state(id).await?;
    let head = state.head.hex();
    let input = Input { session: &state.session, head: &head, now: state.now };
    let html = doc.render(&input, Some(&how_to_reply(&st.base_url()))).ok_or_else(|| not_found(ascii))?;
    let name = format!("{}-{}", id, doc.file_stem(&state.session));
    if !pdf {
        return Ok(respond(html.into_bytes(), "text/html; charset=utf-8", "inline", &format!("{ascii}.html"), &format!("{name}.html")));
    }
    let bytes = PdfRenderer::shared().render(&html).await.map_err(DocError::Pdf)?;
    Ok(respond(bytes, "application/pdf", "inline", &format!("{ascii}.pdf"), &format!("{name}.pdf")))
}

/// What a document may answer besides its 200, for the OpenAPI document:
/// described once, never built (the handlers answer [`DocError`]).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum DocumentErrors {
    #[response(status = 401, description = "No credential of this session (`forbidden`)")]
    Unauthorized(DocumentErrorDto),
    #[response(status = 403, description = "A credential that may not read it (`forbidden`)")]
    Forbidden(DocumentErrorDto),
    #[response(status = 404, description = "No such session or document (`not_found`)")]
    NotFound(DocumentErrorDto),
    #[response(status = 500, description = "The render failed (`pdf_failed`, `export_failed`)")]
    Failed(DocumentErrorDto),
    #[response(
        status = 503,
        description = "No browser to print the PDF with (`pdf_unavailable`), or the session cannot be read now (`unavailable`)"
    )]
    Unavailable(DocumentErrorDto),
}

/// `GET /api/sessions/{id}/documents/{bulletin|results-report}.{html|pdf}`
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/documents/{file}",
    tag = "documents",
    params(DocumentPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bulletin (人大工作信息) or the results report (测评结果报告): print HTML or its PDF, `inline`", content((String = "text/html"), (Binary = "application/pdf"))),
        DocumentErrors,
    )
)]
pub async fn session_document(
    State(st): State<AppState>,
    ApiPath(DocumentPath { id, file }): ApiPath<DocumentPath>,
    headers: HeaderMap,
) -> Result<Response, DocError> {
    let (stem, pdf) = split_ext(&file).ok_or_else(|| not_found(&file))?;
    let doc = match stem {
        "bulletin" => Document::Bulletin,
        "results-report" => Document::ResultsReport,
        _ => return Err(not_found(&file)),
    };
    document(&st, &id, &headers, doc, stem, pdf).await
}

/// `GET /api/sessions/{id}/documents/letters/{unit}.{html|pdf}`
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/documents/letters/{file}",
    tag = "documents",
    params(LetterPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assignment letter (交办函) to one unit: print HTML or its PDF, `inline`", content((String = "text/html"), (Binary = "application/pdf"))),
        DocumentErrors,
    )
)]
pub async fn letter(
    State(st): State<AppState>,
    ApiPath(LetterPath { id, file }): ApiPath<LetterPath>,
    headers: HeaderMap,
) -> Result<Response, DocError> {
    let (unit, pdf) = split_ext(&file).ok_or_else(|| not_found(&file))?;
    let ascii = format!("letter-{}", unit.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "_"));
    document(&st, &id, &headers, Document::Letter(UnitId::new(unit)), &ascii, pdf).await
}

/// `GET /api/sessions/{id}/export/{questions|answers|results|assignments}.{csv|xlsx}`
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/export/{file}",
    tag = "documents",
    params(ExportPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A spreadsheet as an attachment: CSV (UTF-8 with BOM) or xlsx with the same cells", content((String = "text/csv"), (Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, description = "No credential of this session (`forbidden`)", body = DocumentErrorDto),
        (status = 403, description = "A credential that may not read it (`forbidden`)", body = DocumentErrorDto),
        (status = 404, description = "No such session or document (`not_found`)", body = DocumentErrorDto),
        (status = 500, description = "The render failed (`pdf_failed`, `export_failed`)", body = DocumentErrorDto),
        (status = 503, description = "No browser to print the PDF with (never for a spreadsheet), or the session cannot be read now (`unavailable`)", body = DocumentErrorDto),
    )
)]
pub async fn export(
    State(st): State<AppState>,
    ApiPath(ExportPath { id, file }): ApiPath<ExportPath>,
    headers: HeaderMap,
) -> Result<Response, DocError> {
    let (slug, ext) = file.rsplit_once('.').ok_or_else(|| not_found(&file))?;
    let kind = Export::from_slug(slug).ok_or_else(|| not_found(&file))?;
    if ext != "csv" && ext != "xlsx" {
        return Err(not_found(&file));
    }
    let v = viewer(&st, &id, &headers)?;
    check(&v, None)?;
    let state = st.hub.state(&id).await?;
    let head = state.head.hex();
    let table = kind.table(&Input { session: &state.session, head: &head, now: state.now });
    let name = format!("{id}-{}.{ext}", kind.title());
    let ascii = format!("{id}-{slug}.{ext}");
    if ext == "csv" {
        return Ok(respond(table.to_csv(), "text/csv; charset=utf-8", "attachment", &ascii, &name));
    }
    let bytes = table.to_xlsx().map_err(|e| DocError::Xlsx(format!("xlsx: {e}")))?;
    Ok(respond(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "attachment", &ascii, &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_their_own_letter_only() {
        let own = Document::Letter(UnitId::new("minzheng"));
        let other = Document::Letter(UnitId::new("weijian"));
        let unit = Viewer::Unit(UnitId::new("minzheng"));
        assert!(may_read(&unit, Some(&own)));
        assert!(!may_read(&unit, Some(&other)));
        assert!(!may_read(&unit, Some(&Document::Bulletin)));
        assert!(!may_read(&unit, None));
        for v in [Viewer::Moderator, Viewer::Auditor, Viewer::Office] {
            assert!(may_read(&v, Some(&Document::Bulletin)) && may_read(&v, Some(&other)) && may_read(&v, None));
        }
        for v in
            [Viewer::Screen, Viewer::VenueOperator(wz_domain::VenueId::new("baiyu")), Viewer::Delegate(wz_domain::DelegateId::new("d001"))]
        {
            assert!(!may_read(&v, Some(&Document::Bulletin)) && !may_read(&v, None));
        }
    }

    #[test]
    fn the_reply_line_names_the_page_never_a_token() {
        let line = how_to_reply("http://10.0.0.5:8080");
        assert!(line.contains("http://10.0.0.5:8080/unit.html"));
        assert!(!line.contains("token") && !line.contains('#'));
    }

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(filename_star("交办函.pdf"), "UTF-8''%E4%BA%A4%E5%8A%9E%E5%87%BD.pdf");
    }
}
