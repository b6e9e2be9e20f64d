//! The bulletin's chart: one horizontal stacked bar per unit (满意, 基本满意,
//! 不满意 as shares of its ballots) with its satisfaction rate, as inline
//! SVG rendered here, so the printed page needs no script and the PDF keeps
//! it as vectors.

use crate::format::rate;
use crate::html::esc;
use std::fmt::Write as _;
use wz_protocol::dto::CountsDto;

const WIDTH: u32 = 640;
const LABEL: u32 = 190;
const BAR: u32 = 360;
const ROW: u32 = 30;
const TOP: u32 = 30;
const COLORS: [(&str, &str); 3] = [("满意", "#2e7d32"), ("基本满意", "#9ccc65"), ("不满意", "#e53935")];

/// A bar per `(name, counts)`; units without ballots get an empty bar.
pub fn satisfaction(rows: &[(String, CountsDto)]) -> String {
    let height = TOP + ROW * rows.len() as u32 + 10;
    let mut s = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-label=\"满意度测评结果 satisfaction by unit\" \
         font-family=\"WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif\" font-size=\"12\">"
    );
    let mut x = LABEL;
    for (name, color) in COLORS {
        let _ = write!(s, "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{color}\"/>");
        let _ = write!(s, "<text x=\"{}\" y=\"16\">{name}</text>", x + 16);
        x += 90;
    }
    for (i, (name, c)) in rows.iter().enumerate() {
        let y = TOP + ROW * i as u32;
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", LABEL - 8, y + 17, esc(name));
        let _ = write!(
            s,
            "<rect x=\"{LABEL}\" y=\"{}\" width=\"{BAR}\" height=\"20\" fill=\"#f2f2f2\" stroke=\"#999\" stroke-width=\"0.5\"/>",
            y + 3
        );
        let mut x = LABEL;
        if c.total > 0 {
            for (n, (_, color)) in [c.satisfied, c.basically_satisfied, c.dissatisfied].into_iter().zip(COLORS) {
                let w = (u64::from(n) * u64::from(BAR) / u64::from(c.total)) as u32;
                if w > 0 {
                    let _ = write!(s, "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"20\" fill=\"{color}\"/>", y + 3);
                }
                x += w;
            }
        }
        let _ = write!(s, "<text x=\"{}\" y=\"{}\">{}</text>", LABEL + BAR + 8, y + 17, esc(&rate(c.satisfaction_rate_bp)));
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_names_escaped() {
        let c = CountsDto {
            satisfied: 2,
            basically_satisfied: 1,
            dissatisfied: 1,
            total: 4,
            satisfaction_rate_bp: Some(7500),
            suppressed: false,
        };
        let svg = satisfaction(&[("<局>".into(), c), ("空".into(), CountsDto::default())]);
        assert!(svg.contains("&lt;局&gt;"));
        assert!(svg.contains("width=\"180\" height=\"20\" fill=\"#2e7d32\""), "{svg}");
        assert!(svg.contains("width=\"90\" height=\"20\" fill=\"#e53935\""));
        assert!(svg.contains("75.00%"));
        assert!(svg.contains(">—</text>"), "a unit without ballots has no rate");
        assert!(!svg.contains("<script"));
    }
}
