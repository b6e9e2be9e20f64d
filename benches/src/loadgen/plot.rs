//! Line charts as SVG for the report (`docs/benchmarks.md` shows them):
//! a few series of points on a logarithmic x axis (publish rates) and a
//! linear y axis from zero. Plain SVG text, no plotting library: the charts
//! are simple and the file must diff well in the repository.

use std::fmt::Write as _;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 48.0;
/// Colour and dash per series, in order (ours solid, nchan dashed when the
/// caller alternates them).
const STYLES: [(&str, &str); 6] =
    [("#c0392b", ""), ("#2c3e50", "6 4"), ("#e67e22", ""), ("#2980b9", "6 4"), ("#27ae60", ""), ("#8e44ad", "6 4")];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A round step for about five ticks up to `max`.
fn step(max: f64) -> f64 {
    let raw = (max / 5.0).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

fn label(v: f64) -> String {
    if v >= 1000.0 && (v / 1000.0).fract() == 0.0 {
        format!("{}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// The chart; `None` when no series has a point with x > 0.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> Option<String> {
    let xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).filter(|x| *x > 0.0).collect();
    let (x0, x1) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(0.0, f64::max));
    if xs.is_empty() {
        return None;
    }
    let (lx0, lx1) = (x0.log10(), if x1 > x0 { x1.log10() } else { x0.log10() + 1.0 });
    let y_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max);
    let dy = step(y_max);
    let y_top = (y_max / dy).ceil().max(1.0) * dy;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let px = |x: f64| LEFT + (x.log10() - lx0) / (lx1 - lx0) * pw;
    let py = |y: f64| TOP + ph - y / y_top * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="20" font-size="14" font-weight="bold">{}</text>"#, LEFT, esc(title));
    // Grid and y ticks.
    let mut y = 0.0;
    while y <= y_top + dy / 2.0 {
        let _ = writeln!(s, r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/>"##, LEFT + pw, py(y), py(y));
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, LEFT - 6.0, py(y) + 4.0, label(y));
        y += dy;
    }
    // X ticks at every x that has a point.
    let mut ticks: Vec<f64> = xs.clone();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for x in ticks {
        let _ =
            writeln!(s, r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#999"/>"##, px(x), px(x), TOP + ph, TOP + ph + 4.0);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, px(x), TOP + ph + 18.0, label(x));
    }
    let _ = writeln!(s, r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##, LEFT + pw, TOP + ph, TOP + ph);
    let _ = writeln!(s, r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}" stroke="#333"/>"##, TOP + ph);
    let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, LEFT + pw / 2.0, H - 10.0, esc(x_label));
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        esc(y_label)
    );
    for (i, ser) in series.iter().enumerate() {
        let (colour, dash) = STYLES[i % STYLES.len()];
        let mut pts: Vec<(f64, f64)> = ser.points.iter().copied().filter(|p| p.0 > 0.0).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = pts.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            path.join(" ")
        );
        for (x, y) in &pts {
            let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#, px(*x), py(*y));
        }
        let ly = TOP + 10.0 + i as f64 * 18.0;
        let lx = LEFT + pw + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" x2="{:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            lx + 24.0
        );
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, lx + 30.0, ly + 4.0, esc(&ser.name));
    }
    s.push_str("</svg>\n");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(step(100.0), 20.0);
        assert_eq!(step(9.0), 2.0);
        assert_eq!(step(230.0), 50.0);
    }

    #[test]
    fn a_chart_has_every_series_and_tick() {
        let series = [
            Series { name: "wenzheng 10000".into(), points: vec![(1.0, 100.0), (5.0, 120.0), (100.0, 180.0)] },
            Series { name: "nchan <10000>".into(), points: vec![(1.0, 90.0), (5.0, 100.0)] },
        ];
        let svg = line_chart("p99", "rate", "ms", &series).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("nchan &lt;10000&gt;"), "names are escaped");
        for tick in [">1<", ">5<", ">100<"] {
            assert!(svg.contains(tick), "x tick {tick}");
        }
    }

    #[test]
    fn no_points_no_chart() {
        assert!(line_chart("t", "x", "y", &[Series { name: "a".into(), points: vec![] }]).is_none());
    }
}
