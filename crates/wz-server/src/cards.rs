//! Printable join cards (入会卡): one card per participant with the join
//! link as a QR code and the join code to type, rendered from a credential
//! sheet into a self-contained HTML page (SVG codes inline, no script, no
//! network), for the browser's print dialog.
//!
//! The sheet holds live tokens, so the page does too: print it, then delete
//! both.

use crate::sheet;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::fmt::Write;
use wz_hub::PrincipalKey;

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

/// The cards page for sheet rows (principal, name, token, link, venue, venue name), with links
/// rebuilt for `base`.
pub fn page(title: &str, rows: &[[String; 6]], base: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>入会卡 {}</title><style>\
         body{{font-family:\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",sans-serif;margin:0}}\
         .cards{{display:grid;grid-template-columns:repeat(2,1fr);gap:6mm;padding:8mm}}\
         .card{{border:1px dashed #999;padding:5mm;break-inside:avoid;display:grid;grid-template-columns:38mm 1fr;gap:4mm;align-items:center}}\
         .card svg{{width:38mm;height:38mm}} h2{{font-size:14pt;margin:0 0 2mm}} p{{margin:1mm 0;font-size:9pt}}\
         code{{font-size:8pt;word-break:break-all}} @page{{size:A4;margin:8mm}}\
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
            "<div class=\"card\">{svg}<div><h2>{}</h2><p>{}</p><p>扫码入会，或打开 {}/{} 并输入入会码：</p><p><code>{}</code></p></div></div>",
            escape(&r[1]),
            role(&key),
            escape(base),
            escape(link.rsplit('/').next().unwrap_or("").split('#').next().unwrap_or("")),
            escape(&r[2]),
        )?;
    }
    out.push_str("</div></html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_per_participant_with_its_code_and_escaped_names() {
        let rows = vec![
            ["delegate:d001".to_owned(), "张三<b>".to_owned(), "tok-1".to_owned(), String::new(), "baiyu".to_owned(), "白羽街道".to_owned()],
            ["screen".to_owned(), "大屏".to_owned(), "tok-2".to_owned(), String::new(), String::new(), String::new()],
        ];
        let html = page("问政", &rows, "http://10.0.0.2:8080").unwrap();
        assert_eq!(html.matches("class=\"card\"").count(), 2);
        assert!(html.contains("张三&lt;b&gt;"));
        assert!(html.contains("<code>tok-1</code>"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(!html.contains("<script"));
    }
}
