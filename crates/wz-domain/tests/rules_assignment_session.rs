//! The assignment list inside the session (issue 8): the close drafts it,
//! the follow-up runs in the closed phase with the office's and the units'
//! credentials, the office archives the session once every issued item is
//! closed, and the log replays to the same list.

mod common;

use common::*;
use wz_domain::assignment::*;
use wz_domain::*;

fn office() -> Viewer {
    Viewer::Office
}
fn unit(u: &str) -> Viewer {
    Viewer::Unit(uid(u))
}
fn a(cmd: AssignmentCommand) -> Command {
    Command::Assignment(cmd)
}
fn date(s: &str) -> CalendarDate {
    CalendarDate::parse(s).unwrap()
}

/// A closed session: q1 answered with a commitment to transport (d04,
/// baiyu), q2 approved and never asked (d07, xinhua). Returns the log too.
fn closed() -> (Session, Vec<Event>) {
    let mut s = questioning();
    let mut log: Vec<Event> = Vec::new();
    let q1 = approved(&mut s, "d04", "村道什么时候修？");
    ok(&mut s, &moderator(), Command::GrantFloor { venue: vid(BAIYU), question: q1, answer_seconds: None });
    let commitments = vec![CommitmentDraft { what: "六月底前修通村道".into(), unit: uid("transport"), due: date("2027-06-30") }];
    ok(
        &mut s,
        &moderator(),
        Command::RecordAnswer {
            follow_up: None,
            unit: uid("transport"),
            official: "张局长".into(),
            summary: "年内完成。".into(),
            commitments,
        },
    );
    ok(&mut s, &moderator(), Command::EndFloor);
    approved(&mut s, "d07", "学校食堂谁来管？");
    advance_to(&mut s, Phase::Evaluation);
    let out = exec_events(&mut s, &moderator(), Command::AdvancePhase { to: Phase::Closed }, 1_700_000_900_000).unwrap();
    log.extend(out.events);
    (s, log)
}

fn issue_all(s: &mut Session) {
    let ids: Vec<ItemId> = s.assignments().items().map(|i| i.id).collect();
    for id in ids {
        let it = s.assignments().item(id).unwrap().clone();
        let edit = DraftEdit {
            lead: it.lead,
            co_units: vec![],
            requirement: it.requirement,
            deadline: Some(date("2027-06-30")),
            priority: Priority::Normal,
        };
        ok(s, &office(), a(AssignmentCommand::EditDraft { item: id, edit }));
        ok(s, &office(), a(AssignmentCommand::Issue { item: id }));
    }
}

#[test]
fn closing_the_session_drafts_the_list_including_the_unasked_question() {
    let (s, log) = closed();
    assert_eq!(s.phase(), Phase::Closed);
    assert!(matches!(log[0], Event::PhaseChanged { to: Phase::Closed, .. }));
    let items: Vec<&Item> = s.assignments().items().collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(|i| i.status == ItemStatus::Draft));
    assert!(matches!(items[0].sources[0], Source::Commitment { .. }));
    assert!(matches!(items[1].sources[0], Source::Unasked { .. }));
    assert_eq!(items[1].askers, [(did("d07"), vid(XINHUA))]);
}

#[test]
fn drafting_on_demand_before_the_close_adds_only_what_is_new() {
    let mut s = questioning();
    approved(&mut s, "d07", "学校食堂谁来管？");
    assert_eq!(ok(&mut s, &office(), Command::DraftAssignments), Reply::Drafted { first: ItemId(1), count: 1 });
    assert_eq!(ok(&mut s, &office(), Command::DraftAssignments), Reply::Done, "nothing new");
    assert_eq!(err(&mut s, &moderator(), Command::DraftAssignments), Forbidden::OfficeOnly.into());
    advance_to(&mut s, Phase::Closed);
    assert_eq!(s.assignments().items().count(), 1, "the close drafts nothing twice");
}

#[test]
fn the_office_and_the_units_cannot_run_the_live_session() {
    let mut s = questioning();
    for viewer in [office(), unit("transport")] {
        for cmd in [
            Command::AdvancePhase { to: Phase::Evaluation },
            submit_cmd("问题"),
            Command::EndFloor,
            Command::CheckIn { delegate: did("d01") },
        ] {
            let e = err(&mut s, &viewer, cmd.clone());
            assert!(matches!(e, CommandError::Forbidden(_)), "{viewer:?} {cmd:?}: {e:?}");
        }
    }
}

/// The role × command table of the follow-up: every command from every
/// role that may not send it is refused with `forbidden` and changes nothing.
#[test]
fn role_by_command_table_of_the_follow_up() {
    let (mut s, _) = closed();
    issue_all(&mut s);
    // Item 1: transport's (d04 asked); item 2: written reply owed by the
    // question's unit (d07 asked).
    let lead2 = s.assignments().item(ItemId(2)).unwrap().lead.clone();
    ok(&mut s, &unit("transport"), a(AssignmentCommand::Reply { item: ItemId(1), text: "已修通。".into() }));
    let other_unit = if lead2.0 == "education" { "health" } else { "education" };
    let one = ItemId(1);
    let until = date("2027-09-30");
    let office_cmds = [
        a(AssignmentCommand::Issue { item: one }),
        a(AssignmentCommand::Return { item: one, reason: "不完整".into() }),
        a(AssignmentCommand::Close { item: one }),
        a(AssignmentCommand::DecideExtension { item: one, grant: true, answer: None }),
        a(AssignmentCommand::PublishEvidence { item: one, id: "x".into(), public: true }),
        Command::DraftAssignments,
    ];
    let unit_cmds = [
        a(AssignmentCommand::StartHandling { item: one }),
        a(AssignmentCommand::Reply { item: one, text: "答复".into() }),
        a(AssignmentCommand::Rectify { item: one, text: "整改".into() }),
        a(AssignmentCommand::AddNote { item: one, text: "进展".into() }),
        a(AssignmentCommand::RequestExtension { item: one, until, reason: "雨季".into() }),
    ];
    let rate = a(AssignmentCommand::Rate { item: one, on_behalf_of: None, rating: Rating::Satisfied, comment: None, rehandle: false });
    let readers = [Viewer::Screen, Viewer::Auditor];
    for cmd in office_cmds.iter().chain(&unit_cmds).chain([&rate]) {
        for v in readers.iter().chain([&moderator()]) {
            assert!(matches!(err(&mut s, v, cmd.clone()), CommandError::Forbidden(_)), "{v:?} {cmd:?}");
        }
    }
    for cmd in &office_cmds {
        for v in [unit("transport"), delegate_viewer("d04"), operator(BAIYU)] {
            assert!(matches!(err(&mut s, &v, cmd.clone()), CommandError::Forbidden(_)), "{v:?} {cmd:?}");
        }
    }
    for cmd in &unit_cmds {
        // Another unit on transport's item, the office, a delegate.
        for v in [unit(other_unit), office(), delegate_viewer("d04")] {
            assert!(matches!(err(&mut s, &v, cmd.clone()), CommandError::Forbidden(_)), "{v:?} {cmd:?}");
        }
    }
    // A delegate who did not ask, an operator of another venue, a unit.
    assert_eq!(err(&mut s, &delegate_viewer("d07"), rate.clone()), Forbidden::AskersOnly.into());
    let for_d04 =
        a(AssignmentCommand::Rate { item: one, on_behalf_of: Some(did("d04")), rating: Rating::Satisfied, comment: None, rehandle: false });
    assert_eq!(err(&mut s, &operator(XINHUA), for_d04.clone()), Forbidden::OtherVenue.into());
    assert!(matches!(err(&mut s, &unit("transport"), rate.clone()), CommandError::Forbidden(_)));
    // And the ones who may, may.
    assert_eq!(ok(&mut s, &operator(BAIYU), for_d04), Reply::Rated { item: one, delegate: did("d04") });
    assert_eq!(err(&mut s, &delegate_viewer("d04"), rate), AlreadyDone::Rated(one).into());
}

#[test]
fn the_office_archives_once_every_issued_item_is_closed_and_then_nothing_changes() {
    let (mut s, _) = closed();
    issue_all(&mut s);
    let archive = Command::AdvancePhase { to: Phase::Archived };
    assert_eq!(err(&mut s, &moderator(), archive.clone()), Forbidden::OfficeOnly.into());
    assert!(matches!(err(&mut s, &office(), archive.clone()), CommandError::InvalidState(InvalidState::ItemStatus { .. })));
    let items: Vec<(ItemId, UnitId)> = s.assignments().items().map(|i| (i.id, i.lead.clone())).collect();
    for (id, lead) in items {
        ok(&mut s, &Viewer::Unit(lead), a(AssignmentCommand::Reply { item: id, text: "书面答复。".into() }));
        ok(&mut s, &office(), a(AssignmentCommand::Close { item: id }));
    }
    ok(&mut s, &office(), archive);
    assert_eq!(s.phase(), Phase::Archived);
    let e = err(
        &mut s,
        &delegate_viewer("d04"),
        a(AssignmentCommand::Rate { item: ItemId(1), on_behalf_of: None, rating: Rating::Satisfied, comment: None, rehandle: false }),
    );
    assert_eq!(e, InvalidState::Phase(Phase::Archived).into());
    assert_eq!(err(&mut s, &office(), Command::DraftAssignments), InvalidState::Phase(Phase::Archived).into());
}

#[test]
fn replaying_the_log_rebuilds_the_same_list() {
    let mut s = session();
    let mut log = Vec::new();
    let run = |s: &mut Session, v: &Viewer, c: Command, log: &mut Vec<Event>| {
        let now = s.seq() * 1000 + 1_700_000_000_000;
        log.extend(exec_events(s, v, c, now).unwrap().events);
    };
    for to in [Phase::CheckIn, Phase::Questioning] {
        run(&mut s, &moderator(), Command::AdvancePhase { to }, &mut log);
    }
    for d in ["d04", "d07"] {
        run(&mut s, &delegate_viewer(d), Command::CheckIn { delegate: did(d) }, &mut log);
        run(&mut s, &delegate_viewer(d), submit_cmd("村里的路"), &mut log);
    }
    for q in [1, 2] {
        run(&mut s, &moderator(), Command::ApproveQuestion { question: QuestionId(q) }, &mut log);
    }
    for to in [Phase::Evaluation, Phase::Closed] {
        run(&mut s, &moderator(), Command::AdvancePhase { to }, &mut log);
    }
    let edit = DraftEdit {
        lead: uid("health"),
        co_units: vec![uid("education")],
        requirement: "书面答复".into(),
        deadline: Some(date("2027-01-10")),
        priority: Priority::Supervised,
    };
    run(&mut s, &office(), a(AssignmentCommand::EditDraft { item: ItemId(1), edit }), &mut log);
    run(&mut s, &office(), a(AssignmentCommand::Issue { item: ItemId(1) }), &mut log);
    run(&mut s, &unit("education"), a(AssignmentCommand::AddNote { item: ItemId(1), text: "协办意见".into() }), &mut log);
    run(&mut s, &unit("health"), a(AssignmentCommand::Rectify { item: ItemId(1), text: "已整改".into() }), &mut log);
    run(
        &mut s,
        &delegate_viewer("d04"),
        a(AssignmentCommand::Rate {
            item: ItemId(1),
            on_behalf_of: None,
            rating: Rating::Dissatisfied,
            comment: Some("没修好".into()),
            rehandle: true,
        }),
        &mut log,
    );
    run(&mut s, &office(), a(AssignmentCommand::Return { item: ItemId(1), reason: "重办".into() }), &mut log);
    let replayed = Session::replay(def(), &log).unwrap();
    assert_eq!(replayed, s);
    assert_eq!(replayed.assignments().item(ItemId(1)).unwrap().status, ItemStatus::InHandling);
    assert!(replayed.assignments().item(ItemId(1)).unwrap().flagged());
}

#[test]
fn today_is_the_sessions_date_in_its_time_zone() {
    let s = session();
    // 2026-12-05 16:30 UTC is 2026-12-06 00:30 in Asia/Shanghai.
    let t = Millis(1_796_428_800_000 + 16 * 3_600_000 + 30 * 60_000);
    assert_eq!(CalendarDate::at(t, 0), Some(date("2026-12-05")));
    assert_eq!(s.today(t), date("2026-12-06"));
    assert_eq!(TimeZone::named("+05:30").unwrap().utc_offset_minutes, 330);
    assert_eq!(TimeZone::named("Asia/Urumqi").unwrap().utc_offset_minutes, 360);
    assert!(TimeZone::named("Mars/Olympus").is_none());
}

#[test]
fn due_soon_is_the_definitions_number_of_days() {
    // An item issued with a deadline 20 days after today (the tests' clock
    // is 2023-11-14): due soon with a 30-day warning, not with the default 7.
    for (days, want) in [(7, 0), (30, 1)] {
        let mut d = def();
        d.limits.due_soon_days = days;
        let mut s = Session::new(d);
        advance_to(&mut s, Phase::CheckIn);
        let now = Millis(s.seq() * 1000 + 1_700_000_000_000);
        let today = s.today(now);
        let deadline = CalendarDate::from_days(today.days_from_epoch() + 20);
        let spec = DraftSpec { sources: vec![], askers: vec![], lead: uid("health"), requirement: "书面答复".into(), deadline };
        ok(&mut s, &office(), a(AssignmentCommand::Draft(spec)));
        ok(&mut s, &office(), a(AssignmentCommand::Issue { item: ItemId(1) }));
        assert_eq!(s.assignments().dashboard(today).overall.due_soon, want, "{days}-day warning");
    }
    let mut d = def();
    d.limits.due_soon_days = 91;
    assert_eq!(d.validate(), Err(DefinitionError::DueSoonDays));
}
