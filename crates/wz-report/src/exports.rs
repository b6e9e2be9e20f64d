//! The four exports as typed tables: questions (问题清单), answers and
//! commitments (答复与承诺), evaluation results (测评结果) and the
//! assignment list (交办清单). Headers are Chinese with the English after.
//!
//! Questions and answers are the public perspective (no asker is named),
//! results as revealed (small-cell rule), items as the office sees them
//! (drafts included) but only their public fields and rating counts (small-
//! cell rule): never an asker, a rater, a choice or a rehandling flag.

use crate::Input;
use crate::format::{Names, level, status};
use crate::table::{Cell, Table};
use wz_domain::{Perspective, Session};
use wz_protocol::assignment::{ItemDto, Priority, SourceKind, item};
use wz_protocol::dto::{AnswerDto, CountsDto, QuestionDto, QuestionStatus};

fn public_questions(s: &Session) -> Vec<QuestionDto> {
    s.questions().filter_map(|q| wz_protocol::render::question(q, &Perspective::Public)).collect()
}

fn question_status(q: QuestionStatus) -> &'static str {
    match q {
        QuestionStatus::Pending => "待审核",
        QuestionStatus::Approved => "已通过",
        QuestionStatus::Rejected => "未采纳",
        QuestionStatus::Merged => "已合并",
        QuestionStatus::Queued => "排队中",
        QuestionStatus::OnFloor => "答复中",
        QuestionStatus::Answered => "已答复",
    }
}

pub(crate) fn questions(input: &Input<'_>) -> Table {
    let names = Names::new(input.session.def());
    let mut t = Table::new(
        "问题清单",
        &[
            "问题编号 question",
            "状态 status",
            "会场 venues",
            "议题 topic",
            "应询单位 unit",
            "问题内容 text",
            "附议 seconds",
            "追问 follow-ups",
            "合并至 merged into",
        ],
    );
    for q in public_questions(input.session) {
        t.rows.push(vec![
            Cell::int(q.id),
            Cell::text(question_status(q.status)),
            Cell::text(names.venues(&q.venues)),
            Cell::text(names.topic(&q.topic)),
            Cell::text(names.unit(&q.unit)),
            Cell::text(q.text.clone()),
            Cell::int(q.seconds),
            Cell::int(q.follow_ups.len() as u32),
            q.merged_into.map_or(Cell::Empty, Cell::int),
        ]);
    }
    t
}

fn answer_rows(t: &mut Table, names: &Names<'_>, q: &QuestionDto, follow_up: Option<u32>, text: &str, a: &AnswerDto) {
    let base = [
        Cell::int(q.id),
        follow_up.map_or(Cell::Empty, Cell::int),
        Cell::text(names.venues(&q.venues)),
        Cell::text(names.topic(&q.topic)),
        Cell::text(names.unit(&q.unit)),
        Cell::text(text),
        Cell::text(names.unit(&a.unit)),
        Cell::text(a.official.clone()),
        Cell::text(a.summary.clone()),
    ];
    if a.commitments.is_empty() {
        let mut row = base.to_vec();
        row.extend([Cell::Empty, Cell::Empty, Cell::Empty]);
        t.rows.push(row);
    }
    for c in &a.commitments {
        let mut row = base.to_vec();
        row.extend([Cell::text(c.what.clone()), Cell::text(names.unit(&c.unit)), Cell::text(c.due.clone())]);
        t.rows.push(row);
    }
}

pub(crate) fn answers(input: &Input<'_>) -> Table {
    let names = Names::new(input.session.def());
    let mut t = Table::new(
        "答复与承诺",
        &[
            "问题编号 question",
            "追问编号 follow-up",
            "会场 venues",
            "议题 topic",
            "应询单位 unit",
            "提问内容 text",
            "答复单位 answered by",
            "答复人 official",
            "答复摘要 summary",
            "承诺事项 commitment",
            "责任单位 responsible unit",
            "承诺期限 due",
        ],
    );
    for q in public_questions(input.session) {
        if let Some(a) = &q.answer {
            answer_rows(&mut t, &names, &q, None, &q.text, a);
        }
        for f in &q.follow_ups {
            if let Some(a) = &f.answer {
                answer_rows(&mut t, &names, &q, Some(f.id), &f.text, a);
            }
        }
    }
    t
}

fn counts_cells(c: &CountsDto) -> [Cell; 5] {
    if c.suppressed {
        return [Cell::Empty, Cell::Empty, Cell::Empty, Cell::int(c.total), Cell::Rate(None)];
    }
    [
        Cell::int(c.satisfied),
        Cell::int(c.basically_satisfied),
        Cell::int(c.dissatisfied),
        Cell::int(c.total),
        Cell::Rate(c.satisfaction_rate_bp),
    ]
}

const SUPPRESSED: &str = "少于3票，不公布分项 fewer than 3 ballots";

pub(crate) fn results(input: &Input<'_>) -> Table {
    let names = Names::new(input.session.def());
    let mut t = Table::new(
        "测评结果",
        &[
            "测评轮次 evaluation",
            "应询单位 unit",
            "范围 scope",
            "名称 name",
            "满意 satisfied",
            "基本满意 basically satisfied",
            "不满意 dissatisfied",
            "票数 ballots",
            "满意率 satisfaction rate",
            "应参评 eligible",
            "说明 note",
        ],
    );
    for (ev, r) in crate::results::revealed(input.session) {
        for u in &r.units {
            let mut row = |scope: &str, name: String, c: &CountsDto, eligible: Cell| {
                let mut cells = vec![Cell::int(ev.id), Cell::text(names.unit(&u.unit)), Cell::text(scope), Cell::text(name)];
                cells.extend(counts_cells(c));
                cells.push(eligible);
                cells.push(if c.suppressed { Cell::text(SUPPRESSED) } else { Cell::Empty });
                t.rows.push(cells);
            };
            row("合计 total", String::new(), &u.counts, Cell::int(r.turnout.eligible));
            for v in &u.by_venue {
                let eligible = r.turnout.by_venue.iter().find(|x| x.venue == v.venue).map_or(Cell::Empty, |x| Cell::int(x.eligible));
                row("会场 venue", names.venue(&v.venue).to_owned(), &v.counts, eligible);
            }
            for l in &u.by_level {
                row("代表层级 level", level(l.level).to_owned(), &l.counts, l.eligible.map_or(Cell::Empty, Cell::int));
            }
        }
    }
    t
}

fn source_label(it: &ItemDto) -> String {
    let one = |k: SourceKind, q: u32, f: Option<u32>| {
        let kind = match k {
            SourceKind::Commitment => "承诺",
            SourceKind::Answer => "答复待书面确认",
            SourceKind::Unasked => "书面答复",
            SourceKind::FollowUp => "追问",
        };
        match f {
            Some(f) => format!("问题{q}·追问{f}（{kind}）"),
            None => format!("问题{q}（{kind}）"),
        }
    };
    it.sources.iter().map(|x| one(x.kind, x.question, x.follow_up)).collect::<Vec<_>>().join("；")
}

pub(crate) fn assignments(input: &Input<'_>) -> Table {
    let s = input.session;
    let names = Names::new(s.def());
    let today = s.today(input.now);
    let mut t = Table::new(
        "交办清单",
        &[
            "序号 item",
            "交办编号 number",
            "状态 status",
            "督办 priority",
            "主办单位 lead",
            "协办单位 co-units",
            "交办要求 requirement",
            "办理期限 deadline",
            "逾期 overdue",
            "来源 sources",
            "单位答复 reply",
            "整改情况 rectification",
            "跟踪测评·满意",
            "跟踪测评·基本满意",
            "跟踪测评·不满意",
            "跟踪测评·评价数 ratings",
            "跟踪测评·满意率",
        ],
    );
    for domain in s.assignments().items().filter(|i| i.merged_into.is_none()) {
        let Some(it) = item(domain, &Perspective::Office) else {
            continue;
        };
        let mut row = vec![
            Cell::int(it.id),
            it.number.map_or(Cell::Empty, Cell::int),
            Cell::text(status(it.status)),
            Cell::text(if it.priority == Priority::Supervised { "重点督办" } else { "一般" }),
            Cell::text(names.unit(&it.lead)),
            Cell::text(names.units(&it.co_units)),
            Cell::text(it.requirement.clone()),
            it.deadline.clone().map_or(Cell::Empty, Cell::Text),
            if domain.overdue(today) { Cell::text("逾期") } else { Cell::Empty },
            Cell::text(source_label(&it)),
            it.reply.clone().map_or(Cell::Empty, Cell::Text),
            it.rectification.clone().map_or(Cell::Empty, Cell::Text),
        ];
        row.extend(counts_cells(&it.ratings.counts));
        t.rows.push(row);
    }
    t
}
