//! What a session leaves behind on paper and in spreadsheets (issue 9): the
//! bulletin 人大工作信息, one assignment letter 交办函 per unit, the
//! evaluation results report 测评结果报告 (print HTML: A4, CSS page numbers,
//! the PDF is the browser's print of it), and the exports (questions,
//! answers, results, the assignment list) as one typed [`Table`] each,
//! written as CSV and as `.xlsx` from the same cells.
//!
//! Everything here is rendered from what a perspective may see, through
//! `wz_protocol`'s render functions (`render::question`, `render::evaluation`,
//! `assignment::item`, `assignment::board`): the small-cell rule and who
//! sees what are the protocol's, never re-implemented here. Documents read
//! the public perspective (no asker is named; results as revealed); the
//! exports read the office's for the assignment list (drafts included) but
//! never write an asker, a rater or a flag. No document carries a token, a
//! join link, a ballot or who rated what.
//!
//! Input is a confirmed [`Session`], its chain head and the hub's clock
//! (`wz_hub::SessionState`, taken apart by the caller so this crate does not
//! depend on the hub).

mod bulletin;
mod chart;
mod exports;
mod format;
pub mod html;
mod letter;
mod results;
mod table;

pub use table::{Cell, Table};

use wz_domain::{Millis, Session, UnitId};

/// What every document and export is rendered from.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub session: &'a Session,
    /// The record's chain head (64 hex digits).
    pub head: &'a str,
    /// The clock: documents are dated by it, in the session's time zone.
    pub now: Millis,
}

/// A printable document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document {
    /// 人大工作信息.
    Bulletin,
    /// 测评结果报告.
    ResultsReport,
    /// 交办函 to one unit.
    Letter(UnitId),
}

impl Document {
    /// Every document of a session: the bulletin, the report, a letter per unit.
    pub fn all(s: &Session) -> Vec<Document> {
        let mut v = vec![Document::Bulletin, Document::ResultsReport];
        v.extend(s.def().units.iter().map(|u| Document::Letter(u.id.clone())));
        v
    }

    /// The file name without extension, in Chinese: `人大工作信息`,
    /// `测评结果报告`, `交办函-县民政局` (a slash or a leading dot in a
    /// unit's name cannot make it a path).
    pub fn file_stem(&self, s: &Session) -> String {
        match self {
            Document::Bulletin => "人大工作信息".into(),
            Document::ResultsReport => "测评结果报告".into(),
            Document::Letter(u) => {
                let name = format::Names::new(s.def()).unit(u.as_str()).replace(['/', '\\'], "／");
                format!("交办函-{name}")
            }
        }
    }

    /// The print HTML; `None` for a letter to a unit the session does not have.
    /// `how_to_reply` is the letter's line on how the unit replies (the
    /// caller knows the page's address; never a token or a join link).
    pub fn render(&self, input: &Input<'_>, how_to_reply: Option<&str>) -> Option<String> {
        Some(match self {
            Document::Bulletin => bulletin::render(input),
            Document::ResultsReport => results::render(input),
            Document::Letter(u) => letter::render(input, u, how_to_reply)?,
        })
    }
}

/// A spreadsheet export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// 问题清单: every question the public sees.
    Questions,
    /// 答复与承诺: one row per answer and commitment.
    Answers,
    /// 测评结果: per evaluation, unit, venue and level (small-cell rule).
    Results,
    /// 交办清单: items, status, deadlines, follow-up rating counts.
    Assignments,
}

impl Export {
    pub const ALL: [Export; 4] = [Export::Questions, Export::Answers, Export::Results, Export::Assignments];

    /// The name in URLs and on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Export::Questions => "questions",
            Export::Answers => "answers",
            Export::Results => "results",
            Export::Assignments => "assignments",
        }
    }

    pub fn from_slug(s: &str) -> Option<Export> {
        Export::ALL.into_iter().find(|e| e.slug() == s)
    }

    /// The Chinese name: the sheet's name and the file's.
    pub fn title(self) -> &'static str {
        match self {
            Export::Questions => "问题清单",
            Export::Answers => "答复与承诺",
            Export::Results => "测评结果",
            Export::Assignments => "交办清单",
        }
    }

    /// The table both the CSV and the xlsx are written from.
    pub fn table(self, input: &Input<'_>) -> Table {
        match self {
            Export::Questions => exports::questions(input),
            Export::Answers => exports::answers(input),
            Export::Results => exports::results(input),
            Export::Assignments => exports::assignments(input),
        }
    }
}

#[cfg(test)]
mod tests;
