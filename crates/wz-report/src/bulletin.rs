//! The bulletin 人大工作信息: what the county leadership and the units read
//! after the session. Venues and participation; every question asked on the
//! floor with its venues, topic, the unit's reply, commitments and
//! follow-ups; the questions owed a written reply; the evaluation results
//! with a chart; the assignment list's status per unit; the chain head.
//!
//! Questions are `render::question` for the public perspective (no asker is
//! named), results as revealed at close, the board as the public sees it.

use crate::format::{Names, date_cn, rate, session_day};
use crate::html::{chain_head, esc, esc_lines, num, page, table};
use crate::results::{level_table, revealed, unit_table, venue_table};
use crate::{Input, chart};
use std::fmt::Write as _;
use wz_domain::{Perspective, Session, VenueKind};
use wz_protocol::assignment::{BoardCountsDto, board};
use wz_protocol::dto::{AnswerDto, QuestionDto, QuestionStatus};

/// The questions the public sees that were put on the floor, in the order
/// they were answered (one still on the floor last).
pub(crate) fn asked(s: &Session) -> Vec<QuestionDto> {
    let mut qs: Vec<QuestionDto> = s
        .questions()
        .filter_map(|q| wz_protocol::render::question(q, &Perspective::Public))
        .filter(|q| matches!(q.status, QuestionStatus::Answered | QuestionStatus::OnFloor))
        .collect();
    qs.sort_by_key(|q| (q.answer.as_ref().map_or(u64::MAX, |a| a.at), q.id));
    qs
}

fn participation(out: &mut String, s: &Session, names: &Names<'_>) {
    let mut rows = Vec::new();
    let (mut present_all, mut roster_all) = (0, 0);
    for v in &s.def().venues {
        let (present, roster) = s.presence(&v.id);
        present_all += present;
        roster_all += roster;
        let kind = if v.kind == VenueKind::Main { "主会场" } else { "分会场" };
        rows.push(vec![esc(names.venue(v.id.as_str())), kind.into(), num(roster), num(present)]);
    }
    rows.push(vec!["合计 Total".into(), String::new(), num(roster_all), num(present_all)]);
    let _ = write!(
        out,
        "<h2>一、会场与参会情况 <span class=\"en\">Venues and participation</span></h2>\
         <p>本次问政设主会场 1 个、分会场 {} 个，应到代表 {roster_all} 名，签到 {present_all} 名。</p>",
        s.def().venues.len().saturating_sub(1)
    );
    out.push_str(&table(&["会场 Venue", "类别", "代表名册 Roster", "签到 Checked in"], &rows));
}

fn answer(out: &mut String, names: &Names<'_>, a: &AnswerDto, label: &str) {
    let _ = write!(
        out,
        "<p><span class=\"label\">{label}</span>（{}，{}）：{}</p>",
        esc(names.unit(&a.unit)),
        esc(&a.official),
        esc_lines(&a.summary)
    );
    if !a.commitments.is_empty() {
        out.push_str("<p><span class=\"label\">承诺事项：</span></p><ol>");
        for c in &a.commitments {
            let _ = write!(out, "<li>{}（责任单位：{}；期限：{}）</li>", esc(&c.what), esc(names.unit(&c.unit)), esc(&c.due));
        }
        out.push_str("</ol>");
    }
}

fn question(out: &mut String, names: &Names<'_>, n: usize, q: &QuestionDto) {
    let _ = write!(
        out,
        "<div class=\"q\" data-question=\"{}\"><p class=\"head\">问题{n}　{}｜{}｜应询单位：{}</p><p><span class=\"label\">提问：</span>{}</p>",
        q.id,
        esc(&names.venues(&q.venues)),
        esc(names.topic(&q.topic)),
        esc(names.unit(&q.unit)),
        esc_lines(&q.text)
    );
    match &q.answer {
        Some(a) => answer(out, names, a, "答复"),
        None => out.push_str("<p class=\"note\">（答复尚未记录）</p>"),
    }
    for f in &q.follow_ups {
        let _ = write!(out, "<p><span class=\"label\">追问</span>（{}）：{}</p>", esc(names.venue(&f.venue)), esc_lines(&f.text));
        if let Some(a) = &f.answer {
            answer(out, names, a, "追问答复");
        }
    }
    out.push_str("</div>\n");
}

fn questions(out: &mut String, s: &Session, names: &Names<'_>) {
    let qs = asked(s);
    let _ = write!(
        out,
        "<h2>二、问政实录 <span class=\"en\">Questions on the floor</span></h2><p>现场提问 {} 个，答复与承诺如下。</p>",
        qs.len()
    );
    for (i, q) in qs.iter().enumerate() {
        question(out, names, i + 1, q);
    }
    let written: Vec<QuestionDto> = s
        .questions()
        .filter_map(|q| wz_protocol::render::question(q, &Perspective::Public))
        .filter(|q| matches!(q.status, QuestionStatus::Approved | QuestionStatus::Queued))
        .collect();
    if !written.is_empty() {
        out.push_str("<h3>会后书面答复的问题 <span class=\"en\">Questions owed a written reply</span></h3>");
        let rows: Vec<Vec<String>> =
            written.iter().map(|q| vec![esc(&names.venues(&q.venues)), esc(names.unit(&q.unit)), esc_lines(&q.text)]).collect();
        out.push_str(&table(&["会场", "应询单位", "问题"], &rows));
    }
}

fn results(out: &mut String, s: &Session, names: &Names<'_>) {
    out.push_str("<h2>三、满意度测评结果 <span class=\"en\">Satisfaction evaluation</span></h2>");
    let evs = revealed(s);
    if evs.is_empty() {
        out.push_str("<p>尚无已揭晓的测评结果。</p>");
    }
    for (ev, r) in &evs {
        let t = &r.turnout;
        let _ = write!(
            out,
            "<h3>第{}轮测评</h3><p>应参评代表 {} 名，实际参评 {} 名，参评率 {}。</p>",
            ev.id,
            t.eligible,
            t.voted,
            rate(crate::format::share_bp(t.voted, t.eligible))
        );
        out.push_str(&unit_table(names, r));
        let bars: Vec<(String, _)> = r.units.iter().map(|u| (names.unit(&u.unit).to_owned(), u.counts)).collect();
        out.push_str(&chart::satisfaction(&bars));
        out.push_str("<h3>分会场 <span class=\"en\">Per venue</span></h3>");
        out.push_str(&venue_table(names, r));
        out.push_str("<h3>分层级 <span class=\"en\">Per delegate level</span></h3>");
        out.push_str(&level_table(names, r));
    }
}

fn board_row(name: String, c: &BoardCountsDto) -> Vec<String> {
    vec![
        esc(&name),
        num(c.issued),
        num(c.waiting + c.in_handling),
        num(c.answered + c.rectified),
        num(c.closed),
        num(c.overdue),
        num(rate(c.resolved_rate_bp)),
    ]
}

fn assignments(out: &mut String, input: &Input<'_>, names: &Names<'_>) {
    let s = input.session;
    let today = s.today(input.now);
    let b = board(s.def(), &s.assignments().dashboard(today), today, &Perspective::Public);
    let _ = write!(
        out,
        "<h2>四、交办事项办理情况 <span class=\"en\">Assignment list</span></h2><p>截至{}，共交办 {} 件，答复整改率 {}。</p>",
        date_cn(today),
        b.overall.issued,
        rate(b.overall.resolved_rate_bp)
    );
    let mut rows: Vec<Vec<String>> = b.units.iter().map(|u| board_row(names.unit(&u.unit).to_owned(), &u.counts)).collect();
    rows.push(board_row("合计 Total".into(), &b.overall));
    out.push_str(&table(
        &["承办单位 Unit", "交办 Issued", "办理中 In handling", "已答复 Replied", "已办结 Closed", "逾期 Overdue", "答复整改率 Resolved"],
        &rows,
    ));
    out.push_str("<p class=\"note\">办理中含已交办未启动；已答复含已整改。答复整改率 =（已答复 + 已整改 + 已办结）÷ 交办件数。</p>");
}

pub(crate) fn render(input: &Input<'_>) -> String {
    let s = input.session;
    let def = s.def();
    let names = Names::new(def);
    let mut out = String::from("<h1 class=\"masthead\">人大工作信息</h1>");
    let _ = write!(
        out,
        "<p class=\"meta\">县人大常委会办公室　{}　<span class=\"en\">Congress work bulletin</span></p><h1>{}</h1>\
         <p class=\"meta\">主题：{}　问政日期：{}</p>",
        date_cn(s.today(input.now)),
        esc(&def.title),
        esc(&def.theme),
        date_cn(session_day(s, input.now))
    );
    participation(&mut out, s, &names);
    questions(&mut out, s, &names);
    results(&mut out, s, &names);
    assignments(&mut out, input, &names);
    out.push_str(&chain_head(input.head));
    page(&format!("人大工作信息 {}", def.title), &out)
}
