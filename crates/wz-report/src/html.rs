//! The print HTML every document shares: escaping (every string a person
//! typed goes through [`esc`]), the page shell with its print CSS (A4,
//! margins, page numbers in the `@page` margin box, CJK fonts, strict line
//! breaking so no line starts with closing punctuation), and small builders
//! for tables. No script: a document is static text, SVG and CSS.

use std::fmt::Write as _;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // The number marker of [`table`] cells: never from a person's text.
            NUM => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text with its line breaks kept (answers and replies have paragraphs).
pub fn esc_lines(s: &str) -> String {
    esc(s).replace('\n', "<br>")
}

const CSS: &str = r#"
@page { size: A4; margin: 22mm 20mm 20mm 22mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; color: #555; } }
:root { font-synthesis-weight: none; font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", sans-serif; }
html { line-break: strict; word-break: normal; overflow-wrap: anywhere; }
body { margin: 0 auto; max-width: 170mm; font-size: 10.5pt; line-height: 1.65; color: #111; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; letter-spacing: 0.1em; }
h1.masthead { color: #b00; font-size: 26pt; border-bottom: 2px solid #b00; padding-bottom: 3mm; }
h2 { font-size: 13.5pt; margin: 7mm 0 2mm; border-left: 4px solid #b00; padding-left: 2mm; break-after: avoid; }
h3 { font-size: 11.5pt; margin: 5mm 0 1.5mm; break-after: avoid; }
p { margin: 1.5mm 0; text-align: justify; }
.meta { text-align: center; color: #333; margin-bottom: 5mm; }
.en { color: #666; font-size: 0.85em; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; font-size: 9pt; break-inside: auto; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5pt solid #777; padding: 1mm 1.5mm; vertical-align: top; }
th { background: #eee; font-weight: bold; text-align: center; }
.nw { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.q { border: 0.5pt solid #bbb; padding: 2mm 3mm; margin: 3mm 0; break-inside: avoid-page; }
.q .head { font-weight: bold; }
.label { color: #444; font-weight: bold; }
.note { color: #555; font-size: 9pt; }
.head-hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
.chart { width: 100%; height: auto; margin: 2mm 0 4mm; }
.sign { text-align: right; margin-top: 10mm; }
@media screen { body { padding: 10mm; background: #fff; } }
"#;

/// A whole document: `title` in `<title>` and the body as given (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
}

/// A table: `head` are plain labels (escaped here); each row's cells are
/// HTML already (escape text with [`esc`]); a cell made by [`num`] is a
/// number, right-aligned.
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            match c.strip_prefix(NUM) {
                Some(n) => {
                    let _ = write!(out, "<td class=\"n\">{n}</td>");
                }
                None => {
                    let _ = write!(out, "<td>{c}</td>");
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A number cell for [`table`].
pub fn num(n: impl std::fmt::Display) -> String {
    format!("{NUM}{}", esc(&n.to_string()))
}

/// Marks a [`table`] cell as a number ([`esc`] never lets it through).
const NUM: char = '\u{1}';

/// The record's chain head, as every document prints it.
pub fn chain_head(head: &str) -> String {
    format!(
        "<h2>记录链头 <span class=\"en\">Chain head of the record</span></h2>\
         <p class=\"head-hash\" data-chain-head>{}</p>\
         <p class=\"note\">本文件依据的问政记录为哈希链，其最后一条记录的 SHA-256 如上；\
         可用 <code>wenzheng verify --expect-head</code> 核对。\
         The SHA-256 of the last record of the session's hash-chained record; check it with <code>wenzheng verify --expect-head</code>.</p>\n",
        esc(head)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup_and_quotes() {
        assert_eq!(esc("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(esc("a & b \"c\""), "a &amp; b &quot;c&quot;");
        assert_eq!(esc("养老服务，何时落实？"), "养老服务，何时落实？");
        assert_eq!(esc("&amp;"), "&amp;amp;", "escaping twice shows the text, never decodes it");
        assert_eq!(esc_lines("一\n<b>二</b>"), "一<br>&lt;b&gt;二&lt;/b&gt;");
    }

    #[test]
    fn a_page_escapes_its_title_and_prints_page_numbers() {
        let p = page("<i>标题</i>", "<p>x</p>");
        assert!(p.contains("<title>&lt;i&gt;标题&lt;/i&gt;</title>"));
        assert!(p.contains("counter(page) \" / \" counter(pages)"));
        assert!(p.contains("size: A4"));
        assert!(p.contains("line-break: strict"));
        assert!(!p.contains("<script"));
    }

    #[test]
    fn tables_escape_headers_and_align_numbers() {
        let t = table(&["<h>"], &[vec![num(3)], vec![esc("<x>")], vec![esc("\u{1}#")]]);
        assert!(t.contains("<th>&lt;h&gt;</th>"));
        assert!(t.contains("<td class=\"n\">3</td>"));
        assert!(t.contains("<td>&lt;x&gt;</td>"));
        assert!(t.contains("<td>\u{FFFD}#</td>"), "text cannot pass itself off as a number");
    }
}
