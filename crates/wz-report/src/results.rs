//! The evaluation results report 测评结果报告 for the county committee, and
//! the results tables the bulletin shares with it: eligible roster at close
//! (counts per venue and level; never who voted), turnout per venue, the
//! satisfaction rate per unit, per venue and per level.
//!
//! Results are `wz_protocol::render::evaluation`, the same for every role:
//! what was revealed to everyone at close, with the protocol's small-cell
//! rule (a venue or level cell with fewer than 3 ballots carries only its
//! total, and is printed without a rate).

use crate::Input;
use crate::format::{Names, date_cn, level, rate, session_day, share_bp};
use crate::html::{chain_head, esc, num, page, table};
use std::fmt::Write as _;
use wz_domain::Session;
use wz_protocol::dto::{CountsDto, EvaluationDto, ResultsDto};

/// The closed evaluations with their revealed results (the same for every role).
pub(crate) fn revealed(s: &Session) -> Vec<(EvaluationDto, ResultsDto)> {
    s.evaluations()
        .map(|e| wz_protocol::render::evaluation(s.def(), e))
        .filter_map(|mut e| {
            let r = e.results.take()?;
            Some((e, r))
        })
        .collect()
}

/// A breakdown cell: `85.00%（20）`, or only the ballots when suppressed.
fn cell(c: &CountsDto) -> String {
    if c.suppressed || c.total == 0 {
        format!("—（{}）", c.total)
    } else {
        format!("{}（{}）", rate(c.satisfaction_rate_bp), c.total)
    }
}

const CELL_NOTE: &str = "<p class=\"note\">单元格为满意率（票数）；不足3票的单元格只列票数，不公布分项，以免推知个人选择。\
 Each cell: satisfaction rate (ballots); cells with fewer than 3 ballots show the count only.</p>\n";

/// Per unit: 满意, 基本满意, 不满意, ballots, rate.
pub(crate) fn unit_table(names: &Names<'_>, r: &ResultsDto) -> String {
    let rows: Vec<Vec<String>> = r
        .units
        .iter()
        .map(|u| {
            let c = &u.counts;
            vec![
                esc(names.unit(&u.unit)),
                num(c.satisfied),
                num(c.basically_satisfied),
                num(c.dissatisfied),
                num(c.total),
                num(rate(c.satisfaction_rate_bp)),
            ]
        })
        .collect();
    table(&["应询单位 Unit", "满意", "基本满意", "不满意", "票数 Ballots", "满意率 Rate"], &rows)
}

/// Venues down, units across.
pub(crate) fn venue_table(names: &Names<'_>, r: &ResultsDto) -> String {
    let mut head = vec!["会场 Venue".to_owned()];
    head.extend(r.units.iter().map(|u| names.unit(&u.unit).to_owned()));
    let venues: Vec<&str> = r.turnout.by_venue.iter().map(|v| v.venue.as_str()).collect();
    let rows: Vec<Vec<String>> = venues
        .iter()
        .map(|v| {
            let mut row = vec![esc(names.venue(v))];
            for u in &r.units {
                let c = u.by_venue.iter().find(|x| x.venue == *v).map(|x| x.counts).unwrap_or_default();
                row.push(num(cell(&c)));
            }
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    table(&head, &rows) + CELL_NOTE
}

/// Levels down (with the eligible at close), units across.
pub(crate) fn level_table(names: &Names<'_>, r: &ResultsDto) -> String {
    let mut head = vec!["代表层级 Level".to_owned(), "应参评 Eligible".to_owned()];
    head.extend(r.units.iter().map(|u| names.unit(&u.unit).to_owned()));
    let Some(first) = r.units.first() else {
        return String::new();
    };
    let rows: Vec<Vec<String>> = first
        .by_level
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut row = vec![esc(level(l.level)), num(l.eligible.unwrap_or(0))];
            for u in &r.units {
                row.push(num(cell(&u.by_level.get(i).map(|x| x.counts).unwrap_or_default())));
            }
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    table(&head, &rows) + CELL_NOTE
}

/// Eligible, voted and turnout per venue, with the total.
fn turnout_table(names: &Names<'_>, r: &ResultsDto) -> String {
    let t = &r.turnout;
    let mut rows: Vec<Vec<String>> = t
        .by_venue
        .iter()
        .map(|v| vec![esc(names.venue(&v.venue)), num(v.eligible), num(v.voted), num(rate(share_bp(v.voted, v.eligible)))])
        .collect();
    rows.push(vec!["合计 Total".into(), num(t.eligible), num(t.voted), num(rate(share_bp(t.voted, t.eligible)))]);
    table(&["会场 Venue", "应参评（签到）Eligible", "已参评 Voted", "参评率 Turnout"], &rows)
}

/// The eligible roster at close, counted per level.
fn eligible_by_level(r: &ResultsDto) -> String {
    let Some(first) = r.units.first() else {
        return String::new();
    };
    let rows: Vec<Vec<String>> = first.by_level.iter().map(|l| vec![esc(level(l.level)), num(l.eligible.unwrap_or(0))]).collect();
    table(&["代表层级 Level", "应参评 Eligible"], &rows)
}

fn evaluation_section(out: &mut String, names: &Names<'_>, ev: &EvaluationDto, r: &ResultsDto, s: &Session) {
    let closed = ev.closed_at.map(|m| date_cn(s.today(wz_domain::Millis(m)))).unwrap_or_default();
    let units = names.units(&ev.units);
    let _ = write!(
        out,
        "<h2>第{}轮测评 <span class=\"en\">Evaluation {}</span></h2><p>测评单位：{}。结束时间：{}。</p>",
        ev.id,
        ev.id,
        esc(&units),
        esc(&closed)
    );
    let _ = write!(
        out,
        "<h3>一、应参评代表（测评结束时已签到）<span class=\"en\">Eligible roster at close</span></h3>\
         <p>应参评代表共 {} 名（只列人数，不列名单）。</p>",
        r.turnout.eligible
    );
    out.push_str(&eligible_by_level(r));
    out.push_str("<h3>二、参评情况 <span class=\"en\">Turnout per venue</span></h3>");
    out.push_str(&turnout_table(names, r));
    out.push_str("<h3>三、各单位满意度 <span class=\"en\">Satisfaction per unit</span></h3>");
    out.push_str(&unit_table(names, r));
    out.push_str("<h3>四、分会场满意率 <span class=\"en\">Per venue</span></h3>");
    out.push_str(&venue_table(names, r));
    out.push_str("<h3>五、分层级满意率 <span class=\"en\">Per delegate level</span></h3>");
    out.push_str(&level_table(names, r));
}

/// The whole report.
pub(crate) fn render(input: &Input<'_>) -> String {
    let s = input.session;
    let def = s.def();
    let names = Names::new(def);
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>{}</h1><h1>满意度测评结果报告</h1><p class=\"meta\">Evaluation results report · 问政日期 {} · 报告日期 {}</p>",
        esc(&def.title),
        date_cn(session_day(s, input.now)),
        date_cn(s.today(input.now))
    );
    let _ = write!(
        out,
        "<p>主题：{}。满意率 =（满意 + 基本满意）÷ 有效票数；参评率 = 已参评代表 ÷ 签到代表。测评为无记名投票，本报告不含任何代表的个人选择。</p>",
        esc(&def.theme)
    );
    let evs = revealed(s);
    if evs.is_empty() {
        out.push_str("<p>尚无已结束的测评。No evaluation has been closed yet.</p>");
    }
    for (ev, r) in &evs {
        evaluation_section(&mut out, &names, ev, r, s);
    }
    out.push_str(&chain_head(input.head));
    out.push_str("<p class=\"sign\">县人大常委会办公室<br>");
    out.push_str(&date_cn(s.today(input.now)));
    out.push_str("</p>");
    page(&format!("{} 测评结果报告", def.title), &out)
}
