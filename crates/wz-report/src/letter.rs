//! The assignment letter 交办函 to one unit: numbered, dated, listing the
//! issued items it leads (requirement, the question it comes from, deadline,
//! supervision) and those it co-handles, and how to reply.
//!
//! The number is stable: 〔year of the session〕第N号 with N the unit's
//! position in the session definition (县民政局 is 第2号 in every print of
//! the demo), so a reprint never renumbers a letter already sent. Items are
//! `assignment::item` for the public perspective (issued items only; no
//! asker, no rating). The "how to reply" line comes from the caller, who
//! knows the unit page's address; a letter never carries a token or a join
//! link.

use crate::Input;
use crate::format::{Names, date_cn, session_day};
use crate::html::{esc, esc_lines, num, page, table};
use std::fmt::Write as _;
use wz_domain::{Perspective, Session, UnitId};
use wz_protocol::assignment::{ItemDto, Priority, item};

/// The letter's number: 〔2026〕第3号.
pub(crate) fn number(s: &Session, unit: &UnitId, now: wz_domain::Millis) -> Option<String> {
    let n = s.def().units.iter().position(|u| &u.id == unit)? + 1;
    Some(format!("〔{}〕第{n}号", session_day(s, now).year))
}

/// The text of the questions an item comes from (as the public saw them).
fn sources(s: &Session, it: &ItemDto) -> String {
    let texts: Vec<String> = it
        .sources
        .iter()
        .filter_map(|src| s.question(wz_domain::QuestionId(src.question)))
        .filter_map(|q| wz_protocol::render::question(q, &Perspective::Public))
        .map(|q| esc_lines(&q.text))
        .collect();
    texts.join("<br>")
}

fn item_number(it: &ItemDto) -> String {
    it.number.map_or_else(|| format!("（{}）", it.id), |n| n.to_string())
}

/// Issued items, by number: those `unit` leads, and those it co-handles.
fn items(s: &Session, unit: &UnitId) -> (Vec<ItemDto>, Vec<ItemDto>) {
    let all: Vec<ItemDto> = s.assignments().items().filter_map(|i| item(i, &Perspective::Public)).collect();
    let (mut lead, mut co): (Vec<ItemDto>, Vec<ItemDto>) =
        all.into_iter().filter(|i| i.merged_into.is_none()).partition(|i| i.lead == unit.as_str());
    co.retain(|i| i.co_units.iter().any(|u| u == unit.as_str()));
    lead.sort_by_key(|i| (i.number, i.id));
    co.sort_by_key(|i| (i.number, i.id));
    (lead, co)
}

/// The items the unit leads.
fn lead_table(out: &mut String, s: &Session, names: &Names<'_>, lead: &[ItemDto]) {
    let lead_rows: Vec<Vec<String>> = lead
        .iter()
        .map(|i| {
            vec![
                num(item_number(i)),
                esc_lines(&i.requirement),
                sources(s, i),
                format!("<span class=\"nw\">{}</span>", esc(i.deadline.as_deref().unwrap_or("—"))),
                if i.priority == Priority::Supervised {
                    "<span class=\"nw\">重点督办</span>".into()
                } else {
                    "<span class=\"nw\">一般</span>".into()
                },
                esc(&names.units(&i.co_units)),
            ]
        })
        .collect();
    out.push_str("<h2>主办事项 <span class=\"en\">Items you lead</span></h2>");
    if lead_rows.is_empty() {
        out.push_str("<p>无。</p>");
    } else {
        out.push_str(&table(&["编号", "交办要求 Requirement", "来源问题 Question", "办理期限", "督办", "协办单位"], &lead_rows));
    }
}

/// The items the unit helps with.
fn co_table(out: &mut String, names: &Names<'_>, co: &[ItemDto]) {
    if !co.is_empty() {
        let rows: Vec<Vec<String>> = co
            .iter()
            .map(|i| {
                vec![num(item_number(i)), esc(names.unit(&i.lead)), esc_lines(&i.requirement), esc(i.deadline.as_deref().unwrap_or("—"))]
            })
            .collect();
        out.push_str("<h2>协办事项 <span class=\"en\">Items you help with</span></h2>");
        out.push_str(&table(&["交办编号", "主办单位", "交办要求", "办理期限"], &rows));
    }
}

pub(crate) fn render(input: &Input<'_>, unit: &UnitId, how_to_reply: Option<&str>) -> Option<String> {
    let s = input.session;
    let def = s.def();
    let names = Names::new(def);
    let unit_name = def.units.iter().find(|u| &u.id == unit)?.name.clone();
    let no = number(s, unit, input.now)?;
    let (lead, co) = items(s, unit);
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>交办函</h1><p class=\"meta\">县人大常委会办公室　{}　<span class=\"en\">Assignment letter</span></p>\
         <p><strong>{}：</strong></p>\
         <p>{}举行的{}中，代表们提出的问题和作出的承诺，经县人大常委会办公室梳理，\
         现将以下 {} 项交由你单位主办{}，请认真研究办理，按期办结并书面答复。</p>",
        esc(&no),
        esc(&unit_name),
        date_cn(session_day(s, input.now)),
        esc(&def.title),
        lead.len(),
        if co.is_empty() { String::new() } else { format!("、{} 项协办", co.len()) }
    );
    lead_table(&mut out, s, &names, &lead);
    co_table(&mut out, &names, &co);
    out.push_str("<h2>答复方式 <span class=\"en\">How to reply</span></h2>");
    let _ = write!(
        out,
        "<p>{}</p><p>办理中可申请延期，须在期限前说明理由；逾期未答复的事项将在《人大工作信息》中通报。</p>",
        esc(how_to_reply.unwrap_or("请使用本单位的办理页面（unit.html）逐项答复、报送整改情况和佐证材料。"))
    );
    let _ = write!(out, "<p class=\"sign\">县人大常委会办公室<br>{}</p>", date_cn(s.today(input.now)));
    Some(page(&format!("交办函 {no} {unit_name}"), &out))
}
