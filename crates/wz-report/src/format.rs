//! Words and numbers as the documents print them: names looked up in the
//! definition, Chinese labels of levels and statuses, rates from basis
//! points, dates in the session's time zone. One place, so the HTML and the
//! spreadsheets say the same thing the same way.

use wz_domain::{CalendarDate, Millis, Session, SessionDef};
use wz_protocol::assignment::ItemStatus;
use wz_protocol::dto::Level;

/// Names of the definition's units, venues and topics by id (the id itself
/// when the definition does not know it).
pub struct Names<'a> {
    def: &'a SessionDef,
}

/// The name of the item with `id` in `items`, or `id` itself.
fn name_in<'b, T>(items: &'b [T], id: &'b str, id_name: impl Fn(&'b T) -> (&'b str, &'b str)) -> &'b str {
    items.iter().map(id_name).find(|(i, _)| *i == id).map_or(id, |(_, name)| name)
}

impl<'a> Names<'a> {
    pub fn new(def: &'a SessionDef) -> Self {
        Self { def }
    }
    pub fn unit<'b>(&self, id: &'b str) -> &'b str
    where
        'a: 'b,
    {
        name_in(&self.def.units, id, |u| (u.id.as_str(), u.name.as_str()))
    }
    pub fn venue<'b>(&self, id: &'b str) -> &'b str
    where
        'a: 'b,
    {
        name_in(&self.def.venues, id, |v| (v.id.as_str(), v.name.as_str()))
    }
    pub fn topic<'b>(&self, id: &'b str) -> &'b str
    where
        'a: 'b,
    {
        name_in(&self.def.topics, id, |t| (t.id.as_str(), t.name.as_str()))
    }
    /// Venue names joined with 、.
    pub fn venues(&self, ids: &[String]) -> String {
        ids.iter().map(|v| self.venue(v)).collect::<Vec<_>>().join("、")
    }
    /// Unit names joined with 、.
    pub fn units(&self, ids: &[String]) -> String {
        ids.iter().map(|v| self.unit(v)).collect::<Vec<_>>().join("、")
    }
}

pub fn level(l: Level) -> &'static str {
    match l {
        Level::Province => "省人大代表",
        Level::City => "市人大代表",
        Level::County => "县人大代表",
        Level::Township => "乡镇人大代表",
        Level::StreetDeliberation => "议政代表",
    }
}

pub fn status(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Draft => "草拟",
        ItemStatus::Issued => "已交办",
        ItemStatus::InHandling => "办理中",
        ItemStatus::Answered => "已答复",
        ItemStatus::Rectified => "已整改",
        ItemStatus::Closed => "已办结",
    }
}

/// `66.67%` from basis points; `—` when there is no figure.
pub fn rate(bp: Option<u32>) -> String {
    match bp {
        Some(bp) => format!("{}.{:02}%", bp / 100, bp % 100),
        None => "—".into(),
    }
}

/// A share as basis points, truncated (turnout: voted of eligible).
pub fn share_bp(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| (u64::from(part) * 10_000 / u64::from(whole)) as u32)
}

/// `2026年3月5日`.
pub fn date_cn(d: CalendarDate) -> String {
    format!("{}年{}月{}日", d.year, d.month, d.day)
}

/// The day the session was held: when its first evaluation opened, else
/// when its first question reached the floor, else its first check-in,
/// else the date of `now` (all in the session's time zone).
pub fn session_day(s: &Session, now: Millis) -> CalendarDate {
    let first_eval = s.evaluations().map(|e| e.opened_at).min();
    let first_answer = s.questions().filter_map(|q| q.answer.as_ref().map(|a| a.at)).min();
    let first_check_in = s.checked_in().values().map(|c| c.at).min();
    s.today(first_eval.or(first_answer).or(first_check_in).unwrap_or(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_two_decimals_from_basis_points() {
        assert_eq!(rate(Some(6667)), "66.67%");
        assert_eq!(rate(Some(10_000)), "100.00%");
        assert_eq!(rate(Some(5)), "0.05%");
        assert_eq!(rate(None), "—");
        assert_eq!(share_bp(2, 3), Some(6666));
        assert_eq!(share_bp(1, 0), None);
    }

    #[test]
    fn dates_print_in_chinese_without_leading_zeros() {
        assert_eq!(date_cn(CalendarDate::parse("2026-03-05").unwrap()), "2026年3月5日");
        assert_eq!(date_cn(CalendarDate::parse("2026-12-31").unwrap()), "2026年12月31日");
    }
}
