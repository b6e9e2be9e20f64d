//! Printable join cards (入会卡): one card per participant with the join
//! link as a QR code and the join code to type, rendered from a credential
//! sheet into a self-contained HTML page (SVG codes inline, no script, no
//! network), for the browser's print dialog.
//!
//! The sheet holds live tokens, so the page does too: print it, then delete
//! both.

use crate::api::{ApiPath, ApiQuery};
use crate::app::AppState;
use crate::sheet;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::fmt::Write;
use wz_hub::PrincipalKey;
use wz_protocol::rest::{CardsQuery, RestErrorDto, SessionPath};

// The one HTML escaping of the project (it also escapes `'`).
use wz_report::html::esc as escape;

fn role(key: &PrincipalKey) -> &'static str {
    match key {
        PrincipalKey::Moderator => "主持人 Moderator",
        PrincipalKey::Auditor => "审计 Auditor",
        PrincipalKey::Screen => "大屏 Public screen",
        PrincipalKey::Operator(_) => "分会场联络员 Venue operator",
        PrincipalKey::Delegate(_) => "代表 Delegate",
        PrincipalKey::Office => "人大办 Congress office",
        PrincipalKey::Unit(_) => "承办单位 Respondent unit",
    }
}

/// The cards page for sheet rows (principal, name, token, link, venue, venue
/// name, code), with links rebuilt for `base`. The card prints the short join
/// code to type; the QR code carries the whole token.
pub fn page(title: &str, rows: &[[String; 7]], base: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>入会卡 {}</title><style>\
         body{{font-family:\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",sans-serif;margin:0}}\
         .cards{{display:grid;grid-template-columns:repeat(2,1fr);gap:6mm;padding:8mm}}\
         .card{{border:1px dashed #999;padding:5mm;break-inside:avoid;display:grid;grid-template-columns:38mm 1fr;gap:4mm;align-items:center}}\
         .card svg{{width:38mm;height:38mm}} h2{{font-size:14pt;margin:0 0 2mm}} p{{margin:1mm 0;font-size:9pt}}\
         .code{{font:bold 16pt/1.2 ui-monospace,\"DejaVu Sans Mono\",monospace;letter-spacing:1pt}} @page{{size:A4;margin:8mm}}\
         </style><h1 style=\"font-size:12pt;padding:0 8mm\">{} · 入会卡 join cards</h1><div class=\"cards\">",
        escape(title),
        escape(title)
    )?;
    for r in rows {
        let Some(key) = PrincipalKey::parse(&r[0]) else { continue };
        let link = sheet::link(base, &key, &r[2]);
        let code = QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M)?;
        let svg = code.render::<svg::Color>().quiet_zone(true).min_dimensions(160, 160).build();
        write!(
            out,
            "<div class=\"card\">{svg}<div><h2>{}</h2><p>{}</p><p>扫码入会，或在浏览器打开 {} 并输入入会码（不区分大小写）：</p><p class=\"code\">{}</p></div></div>",
            escape(&r[1]),
            role(&key),
            escape(base.split_once("://").map_or(base, |(_, host)| host)),
            escape(&r[6]),
        )?;
    }
    out.push_str("</div></html>\n");
    Ok(out)
}

/// `GET /api/sessions/{id}/cards[?venue=V]`: the cards page from the
/// session's sheet, for the moderator to print from the console (all, or
/// one venue's operator and delegates). Never cached; 404 when the sheet is
/// gone (deleted after printing, as it should be).
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/cards",
    operation_id = "cards",
    tag = "credentials",
    params(SessionPath, CardsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The join cards (入会卡): an HTML page without script (`Cache-Control: no-store`)", content_type = "text/html", body = String),
        (status = 400, description = "A query that is not `venue=<venue>` (`bad_message`)", body = RestErrorDto),
        (status = 401, description = "No credential of this session (`forbidden`)", body = RestErrorDto),
        (status = 403, description = "Not the moderator (`forbidden`)", body = RestErrorDto),
        (status = 404, description = "No such session, or its credential sheet is gone (`not_found`)", body = RestErrorDto),
        (status = 500, description = "The page could not be rendered (`unavailable`)", body = RestErrorDto),
        (status = 503, description = "The sheet cannot be read (`unavailable`)", body = RestErrorDto),
    )
)]
pub async fn for_console(
    State(st): State<AppState>,
    ApiPath(SessionPath { id }): ApiPath<SessionPath>,
    ApiQuery(q): ApiQuery<CardsQuery>,
    headers: HeaderMap,
) -> Result<Response, crate::api::ApiError> {
    crate::api::moderator(&st, &id, &headers)?;
    let path = sheet::path(&st.data_dir, &id);
    let rows = match sheet::read(&path) {
        Ok(rows) => rows,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(crate::api::ApiError(
                StatusCode::NOT_FOUND,
                wz_protocol::ErrorCode::NotFound,
                "凭证表已删除，请重新签发凭证 the credential sheet is gone; reissue the credentials to print new cards".into(),
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the credential sheet failed");
            return Err(crate::api::ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                wz_protocol::ErrorCode::Unavailable,
                "the credential sheet could not be read".into(),
            ));
        }
    };
    let rows: Vec<[String; 7]> = rows.into_iter().filter(|r| q.venue.as_deref().is_none_or(|v| r[4] == v)).collect();
    let html = page(&id, &rows, &st.base_url())
        .map_err(|e| crate::api::ApiError(StatusCode::INTERNAL_SERVER_ERROR, wz_protocol::ErrorCode::Unavailable, format!("cards: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_per_participant_with_its_code_and_escaped_names() {
        let rows = vec![
            ["delegate:d001", "张三<b>", "tok-1", "", "baiyu", "白羽街道", "K7M2Q-8XRT4"].map(str::to_owned),
            ["screen", "大屏", "tok-2", "", "", "", "AAAAA-BBBBB"].map(str::to_owned),
        ];
        let html = page("问政", &rows, "http://10.0.0.2:8080").unwrap();
        assert_eq!(html.matches("class=\"card\"").count(), 2);
        assert!(html.contains("张三&lt;b&gt;"));
        assert!(html.contains(">K7M2Q-8XRT4</p>"), "the card prints the code to type");
        assert!(!html.contains(">tok-1<"), "not the long token");
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(!html.contains("<script"));
    }
}
