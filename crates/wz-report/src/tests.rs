//! Tests over whole documents and exports of a small session driven through
//! the domain's own commands: the small-cell rule in every table, no
//! delegate's name or id (asker, rater, voter) anywhere, escaping of what
//! people typed, the figures and the dates.

use crate::{Document, Export, Input};
use wz_domain::assignment::{AssignmentCommand, DraftEdit, ItemId, Priority};
use wz_domain::*;

/// 2026-03-05 10:00 in Asia/Shanghai.
const T0: u64 = 1_772_676_000_000;
const HEAD: &str = "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34";

fn def() -> SessionDef {
    let venue = |id: &str, name: &str, kind| Venue { id: VenueId::new(id), name: name.into(), kind };
    // Main: 4 delegates, baiyu: 2 (a cell under 3), xinhua: 3.
    let roster = [
        ("p01", "欧阳明远", DelegateLevel::County, "main"),
        ("p02", "司马秋菊", DelegateLevel::County, "main"),
        ("p03", "诸葛长青", DelegateLevel::City, "main"),
        ("p04", "上官海涛", DelegateLevel::Province, "main"),
        ("p05", "慕容雪梅", DelegateLevel::Township, "baiyu"),
        ("p06", "东方卫东", DelegateLevel::Township, "baiyu"),
        ("p07", "皇甫立新", DelegateLevel::StreetDeliberation, "xinhua"),
        ("p08", "令狐保国", DelegateLevel::StreetDeliberation, "xinhua"),
        ("p09", "宇文慧敏", DelegateLevel::StreetDeliberation, "xinhua"),
    ];
    let def = SessionDef {
        id: "t-2026".into(),
        title: "“养老服务”代表问政 <b>测试</b>".into(),
        theme: "积极应对人口老龄化".into(),
        venues: vec![
            venue("main", "县代表联络站", VenueKind::Main),
            venue("baiyu", "白羽街道联络站", VenueKind::Sub),
            venue("xinhua", "新华街道联络站", VenueKind::Sub),
        ],
        delegates: roster
            .iter()
            .map(|(id, name, level, venue)| Delegate {
                id: DelegateId::new(*id),
                name: (*name).into(),
                level: *level,
                venue: VenueId::new(*venue),
            })
            .collect(),
        units: vec![
            Unit { id: UnitId::new("minzheng"), name: "县民政局".into() },
            Unit { id: UnitId::new("weijian"), name: "县卫健委".into() },
        ],
        topics: vec![Topic { id: TopicId::new("policy"), name: "养老政策".into() }],
        limits: Limits::default(),
        time_zone: TimeZone::default(),
        // The delegates check themselves in below.
        check_in: wz_domain::CheckInPolicy::SelfService,
    };
    def.validate().unwrap();
    def
}

fn exec(s: &mut Session, who: &Viewer, cmd: Command) -> Reply {
    let now = Millis(T0 + s.seq() * 1000);
    let out = s.decide(who, &cmd, now).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    for e in &out.events {
        s.apply(e).unwrap();
    }
    out.reply
}

fn d(id: &str) -> Viewer {
    Viewer::Delegate(DelegateId::new(id))
}

fn live_part(s: &mut Session, m: &Viewer) {
    exec(s, m, Command::AdvancePhase { to: Phase::CheckIn });
    for i in 1..=9 {
        exec(s, &d(&format!("p0{i}")), Command::CheckIn { delegate: DelegateId::new(format!("p0{i}")) });
    }
    exec(s, m, Command::AdvancePhase { to: Phase::Questioning });
    let ask = |s: &mut Session, who: &str, unit: &str, text: &str| {
        let cmd = Command::SubmitQuestion { on_behalf_of: None, topic: TopicId::new("policy"), unit: UnitId::new(unit), text: text.into() };
        let Reply::Question(q) = exec(s, &d(who), cmd) else { panic!() };
        exec(s, &Viewer::Moderator, Command::ApproveQuestion { question: q });
        q
    };
    let q1 = ask(s, "p05", "minzheng", "农村助餐点<script>alert(1)</script>何时全覆盖？");
    ask(s, "p07", "weijian", "医养结合签约何时落地？");
    exec(s, m, Command::GrantFloor { venue: VenueId::new("baiyu"), question: q1, answer_seconds: None });
    exec(s, &d("p06"), Command::AddFollowUp { on_behalf_of: None, text: "资金从哪里来？".into() });
    let commitment = CommitmentDraft {
        what: "年底前建成42个助餐点".into(),
        unit: UnitId::new("minzheng"),
        due: CalendarDate::parse("2026-12-31").unwrap(),
    };
    let answer = Command::RecordAnswer {
        follow_up: None,
        unit: UnitId::new("minzheng"),
        official: "县民政局局长".into(),
        summary: "今年覆盖率达到八成。".into(),
        commitments: vec![commitment],
    };
    exec(s, m, answer);
    let fu = s.question(q1).unwrap().follow_ups[0].id;
    let follow = Command::RecordAnswer {
        follow_up: Some(fu),
        unit: UnitId::new("minzheng"),
        official: "县民政局副局长".into(),
        summary: "县财政统筹。".into(),
        commitments: vec![],
    };
    exec(s, m, follow);
    exec(s, m, Command::EndFloor);
}

fn evaluation(s: &mut Session, m: &Viewer) {
    exec(s, m, Command::AdvancePhase { to: Phase::Evaluation });
    let Reply::Evaluation(ev) = exec(s, m, Command::OpenEvaluation { units: vec![UnitId::new("minzheng"), UnitId::new("weijian")] }) else {
        panic!()
    };
    // Main: S, S, B, D; baiyu (2 ballots): S, D; xinhua: B, B, S.
    let ratings = [
        ("p01", Rating::Satisfied),
        ("p02", Rating::Satisfied),
        ("p03", Rating::BasicallySatisfied),
        ("p04", Rating::Dissatisfied),
        ("p05", Rating::Satisfied),
        ("p06", Rating::Dissatisfied),
        ("p07", Rating::BasicallySatisfied),
        ("p08", Rating::BasicallySatisfied),
        ("p09", Rating::Satisfied),
    ];
    for (who, r) in ratings {
        for unit in ["minzheng", "weijian"] {
            let cmd = Command::CastBallot {
                ballot_id: BallotId::new(format!("{who}-{unit}")),
                evaluation: ev,
                unit: UnitId::new(unit),
                rating: r,
            };
            exec(s, &d(who), cmd);
        }
    }
    exec(s, m, Command::CloseEvaluation { evaluation: ev });
    exec(s, m, Command::AdvancePhase { to: Phase::Closed });
}

fn follow_up(s: &mut Session) {
    let office = Viewer::Office;
    let ids: Vec<ItemId> = s.assignments().items().map(|i| i.id).collect();
    for id in ids {
        let it = s.assignments().item(id).unwrap().clone();
        let edit = DraftEdit {
            lead: it.lead.clone(),
            co_units: if it.lead.as_str() == "minzheng" { vec![UnitId::new("weijian")] } else { vec![] },
            requirement: format!("{}（书面答复）", it.requirement),
            deadline: Some(CalendarDate::parse("2026-06-30").unwrap()),
            priority: Priority::Supervised,
        };
        exec(s, &office, Command::Assignment(AssignmentCommand::EditDraft { item: id, edit }));
        exec(s, &office, Command::Assignment(AssignmentCommand::Issue { item: id }));
    }
    let first = s.assignments().items().next().unwrap().clone();
    let unit = Viewer::Unit(first.lead.clone());
    exec(s, &unit, Command::Assignment(AssignmentCommand::Reply { item: first.id, text: "已建成30个助餐点。".into() }));
    for (who, _) in first.askers.clone() {
        let rate =
            AssignmentCommand::Rate { item: first.id, on_behalf_of: None, rating: Rating::Dissatisfied, comment: None, rehandle: false };
        exec(s, &Viewer::Delegate(who), Command::Assignment(rate));
    }
}

fn session() -> Session {
    let mut s = Session::new(def());
    let m = Viewer::Moderator;
    live_part(&mut s, &m);
    evaluation(&mut s, &m);
    follow_up(&mut s);
    s
}

fn everything(s: &Session) -> Vec<(String, String)> {
    let input = Input { session: s, head: HEAD, now: Millis(T0 + 86_400_000 * 3) };
    let mut out: Vec<(String, String)> =
        Document::all(s).iter().map(|doc| (format!("{doc:?}"), doc.render(&input, Some("请登录办理页面答复")).unwrap())).collect();
    for e in Export::ALL {
        let csv = e.table(&input).to_csv();
        out.push((e.slug().into(), String::from_utf8(csv).unwrap()));
    }
    out
}

#[test]
fn no_document_or_export_names_a_delegate() {
    let s = session();
    for (name, text) in everything(&s) {
        for dl in s.delegates() {
            assert!(!text.contains(&dl.name), "{name} names {}", dl.name);
            assert!(!text.contains(dl.id.as_str()), "{name} carries the id {}", dl.id);
        }
        assert!(!text.contains("token") && !text.contains("#token="), "{name}");
    }
}

#[test]
fn what_people_typed_is_escaped_everywhere() {
    let s = session();
    for (name, text) in everything(&s).into_iter().filter(|(n, _)| !n.chars().all(|c| c.is_ascii_lowercase())) {
        assert!(!text.contains("<script>"), "{name}");
        assert!(!text.contains("<b>测试</b>"), "{name}: the title is escaped");
    }
    let bulletin = &everything(&s)[0].1;
    assert!(bulletin.contains("农村助餐点&lt;script&gt;alert(1)&lt;/script&gt;何时全覆盖？"));
}

#[test]
fn the_small_cell_rule_holds_in_every_table() {
    let s = session();
    let input = Input { session: &s, head: HEAD, now: Millis(T0) };
    // baiyu has 2 ballots per unit: its cells show the count, never a rate or a split.
    let report = Document::ResultsReport.render(&input, None).unwrap();
    let row = report
        .split("<tr>")
        .find(|r| r.starts_with("<td>白羽街道联络站</td><td class=\"n\">—（2）"))
        .expect("baiyu's row of the venue table");
    assert!(!row.contains('%'), "{row}");
    // The main venue's 4 ballots are broken down: 3 of 4 satisfied or basically.
    assert!(report.contains("<td>县代表联络站</td><td class=\"n\">75.00%（4）</td>"), "{report}");
    // Levels: the one province delegate's cell is suppressed.
    assert!(report.contains("<td>省人大代表</td><td class=\"n\">1</td><td class=\"n\">—（1）</td>"));
    let results = Export::Results.table(&input);
    for r in &results.rows {
        let ballots = match &r[7] {
            crate::Cell::Int(n) => *n,
            other => panic!("{other:?}"),
        };
        if (1..3).contains(&ballots) {
            assert_eq!(&r[4..7], &[crate::Cell::Empty, crate::Cell::Empty, crate::Cell::Empty], "{r:?}");
            assert_eq!(r[8], crate::Cell::Rate(None));
        }
    }
    // Follow-up ratings: under 3 raters, counts only in the list.
    let list = Export::Assignments.table(&input);
    let rated = list.rows.iter().find(|r| matches!(r[15], crate::Cell::Int(1..=2))).expect("the rated item");
    assert_eq!(&rated[12..15], &[crate::Cell::Empty, crate::Cell::Empty, crate::Cell::Empty]);
    assert_eq!(rated[16], crate::Cell::Rate(None));
}

#[test]
fn figures_and_dates_are_right() {
    let s = session();
    let input = Input { session: &s, head: HEAD, now: Millis(T0 + 86_400_000 * 3) };
    let bulletin = Document::Bulletin.render(&input, None).unwrap();
    assert!(bulletin.contains("县人大常委会办公室　2026年3月8日"), "dated by `now` in the session's zone");
    assert!(bulletin.contains("问政日期：2026年3月5日"));
    assert!(bulletin.contains("应到代表 9 名，签到 9 名"));
    assert!(bulletin.contains("应参评代表 9 名，实际参评 9 名，参评率 100.00%"));
    // minzheng: S=4 (p01 p02 p05 p09), B=3, D=2 → 7/9 = 77.78%.
    assert!(bulletin.contains("<td>县民政局</td><td class=\"n\">4</td><td class=\"n\">3</td><td class=\"n\">2</td><td class=\"n\">9</td><td class=\"n\">77.78%</td>"));
    assert!(bulletin.contains("年底前建成42个助餐点（责任单位：县民政局；期限：2026-12-31）"));
    assert!(bulletin.contains("资金从哪里来？") && bulletin.contains("县财政统筹。"));
    assert!(bulletin.contains(HEAD));
    assert!(bulletin.contains("<svg class=\"chart\""));
    let letter = Document::Letter(UnitId::new("weijian")).render(&input, Some("请使用办理页面")).unwrap();
    assert!(letter.contains("〔2026〕第2号"), "the unit's place in the definition");
    assert!(letter.contains("请使用办理页面"));
    assert!(letter.contains("2026-06-30"));
    assert!(Document::Letter(UnitId::new("nobody")).render(&input, None).is_none());
    // weijian co-handles minzheng's items: they are on its letter too.
    assert!(letter.contains("协办事项") && letter.contains("年底前建成42个助餐点（书面答复）"), "{letter}");
    let minzheng = Document::Letter(UnitId::new("minzheng")).render(&input, None).unwrap();
    assert!(minzheng.contains("〔2026〕第1号") && minzheng.contains("重点督办") && !minzheng.contains("协办事项"));
    let report = Document::ResultsReport.render(&input, None).unwrap();
    assert!(report.contains(HEAD) && report.contains("应参评代表共 9 名"));
}

#[test]
fn the_xlsx_of_every_export_opens() {
    use calamine::Reader;
    let s = session();
    let input = Input { session: &s, head: HEAD, now: Millis(T0) };
    for e in Export::ALL {
        let t = e.table(&input);
        let bytes = t.to_xlsx().unwrap();
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range(e.title()).unwrap();
        assert_eq!(range.height(), t.rows.len() + 1, "{}", e.slug());
    }
}
