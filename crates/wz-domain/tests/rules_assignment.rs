//! The assignment list's rules (issue 8): every transition and its refusals,
//! who may do what, deadlines with a fixed date, extensions, returns,
//! follow-up ratings; then a property test over random command sequences:
//! a refused command changes nothing, every decided event applies, the board
//! always equals a recount of the items, and replaying the accepted events
//! rebuilds an equal list.

use proptest::prelude::*;
use wz_domain::assignment::*;
use wz_domain::*;

const NOW: Millis = Millis(1_790_000_000_000);

fn date(s: &str) -> CalendarDate {
    CalendarDate::parse(s).unwrap()
}

fn today() -> CalendarDate {
    date("2026-07-01")
}

fn unit(u: &str) -> UnitId {
    UnitId::new(u)
}

fn d(id: &str) -> DelegateId {
    DelegateId::new(id)
}

fn minzheng() -> Actor {
    Actor::Unit(unit("minzheng"))
}

/// d1 (main venue) and d2 (baiyu) asked question 1 of 民政局.
fn spec() -> DraftSpec {
    DraftSpec {
        sources: vec![Source::Commitment { question: QuestionId(1), follow_up: None, index: 0 }],
        askers: vec![(d("d1"), VenueId::new("main")), (d("d2"), VenueId::new("baiyu"))],
        lead: unit("minzheng"),
        requirement: "年内完成敬老院改造".into(),
        deadline: None,
    }
}

/// An empty list for a session with the three units the tests use.
fn list() -> Assignments {
    Assignments::new(Rules::default(), UNITS.map(unit))
}

/// Runs a command; on success applies its events and returns them.
fn run(a: &mut Assignments, by: &Actor, cmd: AssignmentCommand) -> Result<Vec<AssignmentEvent>, CommandError> {
    run_on(a, by, cmd, today())
}

fn run_on(a: &mut Assignments, by: &Actor, cmd: AssignmentCommand, on: CalendarDate) -> Result<Vec<AssignmentEvent>, CommandError> {
    let before = a.clone();
    match a.decide(by, &cmd, NOW, on) {
        Ok(events) => {
            for e in &events {
                a.apply(e).unwrap_or_else(|err| panic!("{cmd:?} decided {e:?}, which does not apply: {err}"));
            }
            Ok(events)
        }
        Err(e) => {
            assert_eq!(*a, before, "a refused command changes nothing");
            Err(e)
        }
    }
}

fn ok(a: &mut Assignments, by: &Actor, cmd: AssignmentCommand) {
    run(a, by, cmd.clone()).unwrap_or_else(|e| panic!("{cmd:?} by {by:?} refused: {e}"));
}

/// One issued item (1) due 2026-07-10, co-handled by 财政局.
fn issued() -> Assignments {
    let mut a = list();
    ok(&mut a, &Actor::Office, AssignmentCommand::Draft(spec()));
    ok(&mut a, &Actor::Office, edit(ItemId(1), Some(date("2026-07-10"))));
    ok(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(1) });
    a
}

fn edit(item: ItemId, deadline: Option<CalendarDate>) -> AssignmentCommand {
    AssignmentCommand::EditDraft {
        item,
        edit: DraftEdit {
            lead: unit("minzheng"),
            co_units: vec![unit("caizheng")],
            requirement: "年内完成敬老院改造，按月报告进度".into(),
            deadline,
            priority: Priority::Supervised,
        },
    }
}

fn status(a: &Assignments, id: u32) -> ItemStatus {
    a.item(ItemId(id)).unwrap().status
}

#[test]
fn an_item_goes_through_its_whole_lifecycle_and_keeps_who_when_and_why() {
    let mut a = issued();
    let it = a.item(ItemId(1)).unwrap();
    assert_eq!((it.status, it.number, it.priority), (ItemStatus::Issued, Some(1), Priority::Supervised));
    ok(&mut a, &minzheng(), AssignmentCommand::StartHandling { item: ItemId(1) });
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "已制定改造方案".into() });
    ok(&mut a, &Actor::Office, AssignmentCommand::Return { item: ItemId(1), reason: "方案缺少资金来源".into() });
    assert_eq!(status(&a, 1), ItemStatus::InHandling);
    ok(&mut a, &minzheng(), AssignmentCommand::Rectify { item: ItemId(1), text: "改造完成，附验收照片".into() });
    ok(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(1) });
    let it = a.item(ItemId(1)).unwrap();
    let steps: Vec<(ItemStatus, ItemStatus)> = it.history.iter().map(|t| (t.from, t.to)).collect();
    use ItemStatus::*;
    assert_eq!(
        steps,
        [
            (Draft, Issued),
            (Issued, InHandling),
            (InHandling, Answered),
            (Answered, InHandling),
            (InHandling, Rectified),
            (Rectified, Closed)
        ]
    );
    assert_eq!(it.history[3].reason.as_deref(), Some("方案缺少资金来源"));
    assert_eq!(it.history[3].by, Actor::Office);
    assert_eq!(it.history[1].by, minzheng());
    assert_eq!(it.reply.as_deref(), Some("已制定改造方案"));
    assert_eq!(it.rectification.as_deref(), Some("改造完成，附验收照片"));
}

#[test]
fn issuing_numbers_items_in_order_and_needs_a_deadline_not_in_the_past() {
    let mut a = list();
    for _ in 0..3 {
        ok(&mut a, &Actor::Office, AssignmentCommand::Draft(spec()));
    }
    let e = run(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(2) }).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "deadline" }));
    let e = run(&mut a, &Actor::Office, edit(ItemId(2), Some(date("2026-06-30")))).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::PastDeadline));
    ok(&mut a, &Actor::Office, edit(ItemId(3), Some(date("2026-07-01"))));
    ok(&mut a, &Actor::Office, edit(ItemId(2), Some(date("2026-08-01"))));
    ok(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(3) });
    ok(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(2) });
    assert_eq!(a.item(ItemId(3)).unwrap().number, Some(1));
    assert_eq!(a.item(ItemId(2)).unwrap().number, Some(2));
    // A deadline that passed while the item was a draft stops its issue.
    let e = run_on(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(1) }, today()).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "deadline" }));
    ok(&mut a, &Actor::Office, edit(ItemId(1), Some(date("2026-07-02"))));
    let e = run_on(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(1) }, date("2026-07-03")).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::PastDeadline));
    // Issued items are no drafts any more.
    let e = run(&mut a, &Actor::Office, edit(ItemId(3), Some(date("2026-09-01")))).unwrap_err();
    assert!(matches!(e, CommandError::InvalidState(InvalidState::ItemStatus { status: ItemStatus::Issued, .. })), "{e}");
}

#[test]
fn who_may_do_what() {
    let mut a = issued();
    let weijian = Actor::Unit(unit("weijian"));
    let caizheng = Actor::Unit(unit("caizheng"));
    let forbidden = |a: &mut Assignments, by: &Actor, cmd: AssignmentCommand| match run(a, by, cmd.clone()) {
        Err(CommandError::Forbidden(f)) => f,
        other => panic!("{cmd:?} by {by:?}: {other:?}"),
    };
    // Only the office drafts, issues, returns, closes and decides extensions.
    for by in [minzheng(), Actor::Delegate(d("d1")), Actor::Operator(VenueId::new("main"))] {
        assert_eq!(forbidden(&mut a, &by, AssignmentCommand::Draft(spec())), Forbidden::OfficeOnly);
        assert_eq!(forbidden(&mut a, &by, AssignmentCommand::Close { item: ItemId(1) }), Forbidden::OfficeOnly);
    }
    assert_eq!(forbidden(&mut a, &Actor::Reader, AssignmentCommand::Draft(spec())), Forbidden::ReadOnly);
    // Another unit's item.
    assert_eq!(forbidden(&mut a, &weijian, AssignmentCommand::StartHandling { item: ItemId(1) }), Forbidden::OtherUnit);
    assert_eq!(forbidden(&mut a, &weijian, AssignmentCommand::AddNote { item: ItemId(1), text: "x".into() }), Forbidden::OtherUnit);
    // A co-handling unit adds notes but does not answer for the item.
    ok(&mut a, &caizheng, AssignmentCommand::AddNote { item: ItemId(1), text: "资金已落实".into() });
    assert_eq!(forbidden(&mut a, &caizheng, AssignmentCommand::Reply { item: ItemId(1), text: "x".into() }), Forbidden::NotLeadUnit);
    assert_eq!(
        forbidden(
            &mut a,
            &caizheng,
            AssignmentCommand::RequestExtension { item: ItemId(1), until: date("2026-08-01"), reason: "x".into() }
        ),
        Forbidden::NotLeadUnit
    );
    // The office does not handle items, delegates do not either.
    assert_eq!(forbidden(&mut a, &Actor::Office, AssignmentCommand::Reply { item: ItemId(1), text: "x".into() }), Forbidden::Role);
    assert_eq!(forbidden(&mut a, &Actor::Delegate(d("d1")), AssignmentCommand::StartHandling { item: ItemId(1) }), Forbidden::Role);
    // A unit does not see drafts at all.
    ok(&mut a, &Actor::Office, AssignmentCommand::Draft(spec()));
    let e = run(&mut a, &minzheng(), AssignmentCommand::StartHandling { item: ItemId(2) }).unwrap_err();
    assert_eq!(e, CommandError::NotFound(NotFound::Item(ItemId(2))));
}

#[test]
fn illegal_transitions_are_refused_with_the_current_status() {
    let mut a = issued();
    let bad = |a: &mut Assignments, by: &Actor, cmd: AssignmentCommand, status: ItemStatus| {
        let e = run(a, by, cmd.clone()).unwrap_err();
        assert_eq!(e, CommandError::InvalidState(InvalidState::ItemStatus { item: ItemId(1), status }), "{cmd:?}");
    };
    bad(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(1) }, ItemStatus::Issued);
    bad(&mut a, &Actor::Office, AssignmentCommand::Return { item: ItemId(1), reason: "x".into() }, ItemStatus::Issued);
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "书面答复".into() });
    bad(&mut a, &minzheng(), AssignmentCommand::StartHandling { item: ItemId(1) }, ItemStatus::Answered);
    bad(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "再答复".into() }, ItemStatus::Answered);
    // A return needs a reason.
    let e = run(&mut a, &Actor::Office, AssignmentCommand::Return { item: ItemId(1), reason: " \u{200B} ".into() }).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "reason" }));
    ok(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(1) });
    bad(&mut a, &minzheng(), AssignmentCommand::AddNote { item: ItemId(1), text: "x".into() }, ItemStatus::Closed);
    bad(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(1) }, ItemStatus::Closed);
    // Unknown items.
    let e = run(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(9) }).unwrap_err();
    assert_eq!(e, CommandError::NotFound(NotFound::Item(ItemId(9))));
}

#[test]
fn overdue_and_due_soon_follow_the_date_across_the_deadline() {
    let a = issued(); // due 2026-07-10, due soon = within 7 days
    let it = a.item(ItemId(1)).unwrap();
    let at = |s: &str| (it.overdue(date(s)), it.due_soon(date(s), 7));
    assert_eq!(at("2026-07-01"), (false, false), "9 days ahead");
    assert_eq!(at("2026-07-03"), (false, true), "7 days ahead");
    assert_eq!(at("2026-07-10"), (false, true), "the deadline itself");
    assert_eq!(at("2026-07-11"), (true, false), "a day late");
    let board = a.dashboard(date("2026-07-11"));
    assert_eq!((board.overall.overdue, board.by_unit[&unit("minzheng")].overdue), (1, 1));
    // An answered item is no longer overdue, even after the deadline.
    let mut a = a;
    run_on(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "答复".into() }, date("2026-07-11")).unwrap();
    assert!(!a.item(ItemId(1)).unwrap().overdue(date("2026-07-20")));
}

#[test]
fn an_extension_is_granted_or_refused_by_the_office() {
    let mut a = issued();
    let ask = |until: &str| AssignmentCommand::RequestExtension { item: ItemId(1), until: date(until), reason: "需协调资金".into() };
    let e = run(&mut a, &minzheng(), ask("2026-07-10")).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::ExtensionNotLater), "not later than the deadline");
    ok(&mut a, &minzheng(), ask("2026-08-31"));
    let e = run(&mut a, &minzheng(), ask("2026-09-30")).unwrap_err();
    assert_eq!(e, CommandError::AlreadyDone(AlreadyDone::ExtensionRequested(ItemId(1))));
    // Refusing says why.
    let e = run(&mut a, &Actor::Office, AssignmentCommand::DecideExtension { item: ItemId(1), grant: false, answer: None }).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "answer" }));
    ok(&mut a, &Actor::Office, AssignmentCommand::DecideExtension { item: ItemId(1), grant: false, answer: Some("期限不变".into()) });
    assert_eq!(a.item(ItemId(1)).unwrap().deadline, Some(date("2026-07-10")));
    ok(&mut a, &minzheng(), ask("2026-07-31"));
    ok(&mut a, &Actor::Office, AssignmentCommand::DecideExtension { item: ItemId(1), grant: true, answer: None });
    let it = a.item(ItemId(1)).unwrap();
    assert_eq!(it.deadline, Some(date("2026-07-31")));
    assert_eq!(it.extensions.iter().map(|x| x.granted).collect::<Vec<_>>(), [Some(false), Some(true)]);
    assert!(!it.overdue(date("2026-07-20")), "the new deadline counts");
    let e = run(&mut a, &Actor::Office, AssignmentCommand::DecideExtension { item: ItemId(1), grant: true, answer: None }).unwrap_err();
    assert_eq!(e, CommandError::InvalidState(InvalidState::NoExtensionRequest(ItemId(1))));
}

#[test]
fn askers_rate_once_after_the_reply_and_only_counts_reach_the_board() {
    let mut a = issued();
    let rate = |on_behalf_of: Option<&str>, rating| AssignmentCommand::Rate {
        item: ItemId(1),
        on_behalf_of: on_behalf_of.map(d),
        rating,
        comment: None,
        rehandle: rating == Rating::Dissatisfied,
    };
    let d1 = Actor::Delegate(d("d1"));
    let e = run(&mut a, &d1, rate(None, Rating::Satisfied)).unwrap_err();
    assert!(
        matches!(e, CommandError::InvalidState(InvalidState::ItemStatus { status: ItemStatus::Issued, .. })),
        "not before the reply: {e}"
    );
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "书面答复".into() });
    ok(&mut a, &d1, rate(None, Rating::Satisfied));
    let e = run(&mut a, &d1, rate(None, Rating::Dissatisfied)).unwrap_err();
    assert_eq!(e, CommandError::AlreadyDone(AlreadyDone::Rated(ItemId(1))), "a rating is final");
    // Not an asker; another delegate's rating; an operator of another venue.
    let e = run(&mut a, &Actor::Delegate(d("d9")), rate(None, Rating::Satisfied)).unwrap_err();
    assert_eq!(e, CommandError::Forbidden(Forbidden::AskersOnly));
    let e = run(&mut a, &d1, rate(Some("d2"), Rating::Satisfied)).unwrap_err();
    assert_eq!(e, CommandError::Forbidden(Forbidden::OtherDelegate));
    let e = run(&mut a, &Actor::Operator(VenueId::new("main")), rate(Some("d2"), Rating::Satisfied)).unwrap_err();
    assert_eq!(e, CommandError::Forbidden(Forbidden::OtherVenue));
    assert_eq!(run(&mut a, &minzheng(), rate(Some("d2"), Rating::Satisfied)).unwrap_err(), CommandError::Forbidden(Forbidden::AskersOnly));
    // d2's operator rates for them, flagged as such; 不满意 with a request to
    // handle it again (申请重办) flags the item.
    ok(&mut a, &Actor::Operator(VenueId::new("baiyu")), rate(Some("d2"), Rating::Dissatisfied));
    let it = a.item(ItemId(1)).unwrap();
    assert!(it.ratings[&d("d2")].by_operator && !it.ratings[&d("d1")].by_operator);
    assert!(it.flagged());
    let board = a.dashboard(today());
    assert_eq!((board.overall.ratings.satisfied, board.overall.ratings.dissatisfied, board.overall.flagged), (1, 1, 1));
}

#[test]
fn drafts_merge_and_the_merged_one_leaves_every_count() {
    let mut a = list();
    ok(&mut a, &Actor::Office, AssignmentCommand::Draft(spec()));
    let other = DraftSpec {
        sources: vec![Source::Unasked { question: QuestionId(7) }],
        askers: vec![(d("d3"), VenueId::new("xinhua")), (d("d1"), VenueId::new("main"))],
        ..spec()
    };
    ok(&mut a, &Actor::Office, AssignmentCommand::Draft(other));
    assert_eq!(
        run(&mut a, &Actor::Office, AssignmentCommand::MergeDrafts { into: ItemId(1), from: ItemId(1) }).unwrap_err(),
        CommandError::Invalid(Invalid::MergeItemIntoSelf)
    );
    ok(&mut a, &Actor::Office, AssignmentCommand::MergeDrafts { into: ItemId(1), from: ItemId(2) });
    let it = a.item(ItemId(1)).unwrap();
    assert_eq!(it.sources.len(), 2);
    assert_eq!(it.askers.len(), 3, "d1 once");
    assert_eq!(a.dashboard(today()).drafts, 1);
    assert_eq!(
        run(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(2) }).unwrap_err(),
        CommandError::NotFound(NotFound::Item(ItemId(2)))
    );
}

#[test]
fn the_rate_is_answered_rectified_or_closed_over_issued() {
    let mut a = list();
    for i in 1..=5 {
        ok(&mut a, &Actor::Office, AssignmentCommand::Draft(spec()));
        ok(&mut a, &Actor::Office, edit(ItemId(i), Some(date("2026-07-10"))));
        ok(&mut a, &Actor::Office, AssignmentCommand::Issue { item: ItemId(i) });
    }
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "a".into() });
    ok(&mut a, &minzheng(), AssignmentCommand::Rectify { item: ItemId(2), text: "b".into() });
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(3), text: "c".into() });
    ok(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(3) });
    ok(&mut a, &minzheng(), AssignmentCommand::StartHandling { item: ItemId(4) });
    let b = a.dashboard(today()).overall;
    assert_eq!((b.issued, b.waiting, b.in_handling, b.answered, b.rectified, b.closed), (5, 1, 1, 1, 1, 1));
    assert_eq!(b.resolved_rate_bp(), Some(6000));
    assert_eq!(list().dashboard(today()).overall.resolved_rate_bp(), None);
}

fn file(id: &str, bytes: u64) -> AssignmentCommand {
    AssignmentCommand::AddEvidence {
        item: ItemId(1),
        file: NewFile { id: id.into(), name: "验收照片.jpg".into(), kind: FileKind::Jpeg, bytes },
    }
}

#[test]
fn evidence_is_bounded_per_file_and_per_item_and_published_by_the_office() {
    let mut a = issued();
    let r = Rules::default();
    ok(&mut a, &minzheng(), file("f1", 1000));
    ok(&mut a, &Actor::Unit(unit("caizheng")), file("f2", 2000));
    assert_eq!(run(&mut a, &minzheng(), file("f1", 1000)).unwrap_err(), CommandError::AlreadyDone(AlreadyDone::Evidence(ItemId(1))));
    assert_eq!(run(&mut a, &Actor::Unit(unit("weijian")), file("f3", 1)).unwrap_err(), CommandError::Forbidden(Forbidden::OtherUnit));
    assert_eq!(
        run(&mut a, &minzheng(), file("big", r.evidence_bytes + 1)).unwrap_err(),
        CommandError::Invalid(Invalid::TooLarge { what: "a file", max_bytes: r.evidence_bytes })
    );
    // Up to the per-item total, not past it.
    let per_file = r.evidence_bytes;
    let fit = (r.evidence_bytes_per_item - 3000) / per_file;
    for i in 0..fit {
        ok(&mut a, &minzheng(), file(&format!("full{i}"), per_file));
    }
    let e = run(&mut a, &minzheng(), file("over", per_file)).unwrap_err();
    assert_eq!(
        e,
        CommandError::Invalid(Invalid::TooLarge { what: "the files of one item together", max_bytes: r.evidence_bytes_per_item })
    );
    // Names are single-line text like any other.
    let bad = AssignmentCommand::AddEvidence {
        item: ItemId(1),
        file: NewFile { id: "x".into(), name: "a\nb".into(), kind: FileKind::Pdf, bytes: 1 },
    };
    assert!(matches!(run(&mut a, &minzheng(), bad).unwrap_err(), CommandError::Invalid(Invalid::Text { field: "name", .. })));
    // Only the office makes a file public; nothing is public before that.
    assert!(a.item(ItemId(1)).unwrap().evidence.iter().all(|e| !e.public));
    let publish = AssignmentCommand::PublishEvidence { item: ItemId(1), id: "f1".into(), public: true };
    assert_eq!(run(&mut a, &minzheng(), publish.clone()).unwrap_err(), CommandError::Forbidden(Forbidden::OfficeOnly));
    ok(&mut a, &Actor::Office, publish);
    let unknown = AssignmentCommand::PublishEvidence { item: ItemId(1), id: "nope".into(), public: true };
    assert_eq!(run(&mut a, &Actor::Office, unknown).unwrap_err(), CommandError::NotFound(NotFound::Evidence("nope".into())));
    let it = a.item(ItemId(1)).unwrap();
    assert_eq!(it.evidence.iter().filter(|e| e.public).map(|e| e.id.as_str()).collect::<Vec<_>>(), ["f1"]);
    assert_eq!(it.evidence[1].unit, unit("caizheng"));
}

#[test]
fn the_count_of_files_per_item_is_bounded() {
    let mut a = issued();
    let max = Rules::default().evidence_per_item;
    for i in 0..max {
        ok(&mut a, &minzheng(), file(&format!("f{i}"), 10));
    }
    assert_eq!(
        run(&mut a, &minzheng(), file("one-more", 10)).unwrap_err(),
        CommandError::Invalid(Invalid::TooMany { what: "files on one item", max })
    );
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "答复".into() });
    ok(&mut a, &Actor::Office, AssignmentCommand::Close { item: ItemId(1) });
    let e = run(&mut a, &minzheng(), file("late", 10)).unwrap_err();
    assert!(matches!(e, CommandError::InvalidState(InvalidState::ItemStatus { status: ItemStatus::Closed, .. })));
}

#[test]
fn units_must_be_the_sessions() {
    let mut a = list();
    let e = run(&mut a, &Actor::Office, AssignmentCommand::Draft(DraftSpec { lead: unit("nope"), ..spec() })).unwrap_err();
    assert_eq!(e, CommandError::NotFound(NotFound::Unit(unit("nope"))));
    ok(&mut a, &Actor::Office, AssignmentCommand::Draft(spec()));
    let mut bad = edit(ItemId(1), None);
    if let AssignmentCommand::EditDraft { edit, .. } = &mut bad {
        edit.co_units.push(unit("nope"));
    }
    assert_eq!(run(&mut a, &Actor::Office, bad).unwrap_err(), CommandError::NotFound(NotFound::Unit(unit("nope"))));
}

#[test]
fn who_sees_which_items() {
    let mut a = issued(); // item 1: asked by d1 (main) and d2 (baiyu), 民政局 leads, 财政局 co-handles
    ok(&mut a, &Actor::Office, AssignmentCommand::Draft(DraftSpec { lead: unit("weijian"), ..spec() }));
    let ids = |who: Actor| a.visible_to(&who).map(|i| i.id.0).collect::<Vec<_>>();
    assert_eq!(ids(Actor::Office), [1, 2], "the office sees drafts");
    // Everyone else sees every issued item, as the public page does (what
    // of it is the protocol's rendering): the same in snapshots and events.
    for who in [
        Actor::Reader,
        minzheng(),
        Actor::Unit(unit("caizheng")),
        Actor::Delegate(d("d2")),
        Actor::Delegate(d("d9")),
        Actor::Operator(VenueId::new("xinhua")),
    ] {
        assert_eq!(ids(who.clone()), [1], "{who:?}");
    }
    assert_eq!(ids(Actor::Unit(unit("weijian"))), [1], "its own draft is not issued yet");
}

// ---- property test ----------------------------------------------------------

const UNITS: [&str; 3] = ["minzheng", "caizheng", "weijian"];
/// Leads are drawn from the first two, so the unit that acts is often the right one.
const LEADS: usize = 2;
const DELEGATES: [(&str, &str); 4] = [("d1", "main"), ("d2", "baiyu"), ("d3", "baiyu"), ("d4", "xinhua")];
const RATINGS: [Rating; 3] = [Rating::Satisfied, Rating::BasicallySatisfied, Rating::Dissatisfied];

/// Who would send `cmd`, most of the time; anyone at all otherwise.
fn arb_step() -> impl Strategy<Value = (Actor, AssignmentCommand)> {
    (arb_command(), arb_actor(), 0..LEADS, 0..DELEGATES.len(), 0..4u8).prop_map(|(cmd, anyone, u, i, dice)| {
        use AssignmentCommand as C;
        if dice == 0 {
            return (anyone, cmd);
        }
        let natural = match &cmd {
            C::StartHandling { .. }
            | C::Reply { .. }
            | C::Rectify { .. }
            | C::AddNote { .. }
            | C::AddEvidence { .. }
            | C::RequestExtension { .. } => Actor::Unit(unit(UNITS[u])),
            C::Rate { on_behalf_of: Some(_), .. } => Actor::Operator(VenueId::new(DELEGATES[i].1)),
            C::Rate { on_behalf_of: None, .. } => Actor::Delegate(d(DELEGATES[i].0)),
            _ => Actor::Office,
        };
        (natural, cmd)
    })
}

fn arb_actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        3 => Just(Actor::Office),
        3 => (0..UNITS.len()).prop_map(|u| Actor::Unit(unit(UNITS[u]))),
        1 => (0..DELEGATES.len()).prop_map(|i| Actor::Delegate(d(DELEGATES[i].0))),
        1 => (0..DELEGATES.len()).prop_map(|i| Actor::Operator(VenueId::new(DELEGATES[i].1))),
        1 => Just(Actor::Reader),
    ]
}

fn arb_command() -> impl Strategy<Value = AssignmentCommand> {
    let item = (1u32..=3).prop_map(ItemId);
    let day = (0i64..40).prop_map(|n| CalendarDate::from_days(today().days_from_epoch() - 5 + n).unwrap());
    let text = prop_oneof![4 => Just("说明".to_owned()), 1 => Just(" ".to_owned())];
    prop_oneof![
        2 => (0..LEADS, proptest::collection::vec(0..DELEGATES.len(), 1..3)).prop_map(|(u, askers)| {
            AssignmentCommand::Draft(DraftSpec {
                sources: vec![Source::Unasked { question: QuestionId(u as u32 + 1) }],
                askers: askers.into_iter().map(|i| (d(DELEGATES[i].0), VenueId::new(DELEGATES[i].1))).collect(),
                lead: unit(UNITS[u]),
                requirement: "按期办理".into(),
                deadline: None,
            })
        }),
        3 => (item.clone(), 0..LEADS, proptest::option::weighted(0.8, day.clone())).prop_map(|(item, u, deadline)| AssignmentCommand::EditDraft {
            item,
            edit: DraftEdit {
                lead: unit(UNITS[u]),
                co_units: vec![unit(UNITS[(u + 1) % UNITS.len()])],
                requirement: "按期办理".into(),
                deadline,
                priority: Priority::Normal,
            },
        }),
        1 => (item.clone(), item.clone()).prop_map(|(into, from)| AssignmentCommand::MergeDrafts { into, from }),
        3 => item.clone().prop_map(|item| AssignmentCommand::Issue { item }),
        2 => item.clone().prop_map(|item| AssignmentCommand::StartHandling { item }),
        4 => (item.clone(), text.clone()).prop_map(|(item, text)| AssignmentCommand::Reply { item, text }),
        3 => (item.clone(), text.clone()).prop_map(|(item, text)| AssignmentCommand::Rectify { item, text }),
        1 => (item.clone(), text.clone()).prop_map(|(item, text)| AssignmentCommand::AddNote { item, text }),
        2 => (item.clone(), text.clone()).prop_map(|(item, reason)| AssignmentCommand::Return { item, reason }),
        2 => (item.clone(), day, text.clone()).prop_map(|(item, until, reason)| AssignmentCommand::RequestExtension { item, until, reason }),
        2 => (item.clone(), any::<bool>(), proptest::option::of(text)).prop_map(|(item, grant, answer)| AssignmentCommand::DecideExtension { item, grant, answer }),
        2 => item.clone().prop_map(|item| AssignmentCommand::Close { item }),
        2 => (item.clone(), 0..3u8, 0u64..30_000_000).prop_map(|(item, n, bytes)| AssignmentCommand::AddEvidence {
            item,
            file: NewFile { id: format!("f{n}"), name: "照片.jpg".into(), kind: FileKind::Jpeg, bytes },
        }),
        1 => (item.clone(), 0..3u8, any::<bool>()).prop_map(|(item, n, public)| AssignmentCommand::PublishEvidence { item, id: format!("f{n}"), public }),
        4 => (item, proptest::option::of(0..DELEGATES.len()), 0..3usize, any::<bool>()).prop_map(|(item, who, r, rehandle)| AssignmentCommand::Rate {
            item,
            on_behalf_of: who.map(|i| d(DELEGATES[i].0)),
            rating: RATINGS[r],
            comment: None,
            rehandle: rehandle && RATINGS[r] == Rating::Dissatisfied,
        }),
    ]
}

/// The board recounted from scratch, item by item.
fn recount(a: &Assignments, on: CalendarDate) -> Dashboard {
    let mut board = Dashboard::default();
    for it in a.items().filter(|i| i.merged_into.is_none()) {
        if it.status == ItemStatus::Draft {
            board.drafts += 1;
            continue;
        }
        for c in [&mut board.overall, board.by_unit.entry(it.lead.clone()).or_default()] {
            c.issued += 1;
            *match it.status {
                ItemStatus::Issued => &mut c.waiting,
                ItemStatus::InHandling => &mut c.in_handling,
                ItemStatus::Answered => &mut c.answered,
                ItemStatus::Rectified => &mut c.rectified,
                ItemStatus::Closed => &mut c.closed,
                ItemStatus::Draft => unreachable!(),
            } += 1;
            c.overdue += u32::from(it.status.pending() && it.deadline.is_some_and(|d| d < on));
            c.due_soon += u32::from(it.status.pending() && it.deadline.is_some_and(|d| d >= on && d.days_since(on) <= 7));
            c.flagged += u32::from(it.ratings.values().any(|r| r.rehandle));
            for r in it.ratings.values() {
                c.ratings.add(r.rating);
            }
        }
    }
    board
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_board_is_always_a_recount_and_replay_rebuilds_the_list(
        steps in proptest::collection::vec((arb_step(), 0i64..20), 1..150)
    ) {
        let mut a = list();
        let mut log = Vec::new();
        for ((by, cmd), day) in steps {
            let on = CalendarDate::from_days(today().days_from_epoch() + day).unwrap();
            let before = a.clone();
            match a.decide(&by, &cmd, NOW, on) {
                Ok(events) => {
                    for e in events {
                        prop_assert!(a.apply(&e).is_ok(), "{:?} by {:?} decided {:?}, which does not apply", cmd, by, e);
                        log.push(e);
                    }
                }
                Err(_) => prop_assert_eq!(&a, &before, "a refused command changes nothing"),
            }
            prop_assert_eq!(a.dashboard(on), recount(&a, on));
            // Numbers are 1..=n in issue order, each once.
            let mut numbers: Vec<u32> = a.items().filter_map(|i| i.number).collect();
            numbers.sort_unstable();
            prop_assert_eq!(numbers, (1..).take(a.items().filter(|i| i.number.is_some()).count()).collect::<Vec<u32>>());
        }
        let mut replayed = list();
        for e in &log {
            prop_assert!(replayed.apply(e).is_ok());
        }
        prop_assert_eq!(replayed, a);
    }
}

/// The property above is not vacuous: its sequences reach every status,
/// returns, granted extensions, ratings, merges and files.
#[test]
fn the_generator_reaches_every_part_of_the_lifecycle() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(arb_step(), 150);
    let (mut statuses, mut returns, mut granted, mut ratings, mut merges, mut files) = (std::collections::BTreeSet::new(), 0, 0, 0, 0, 0);
    for _ in 0..256 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let mut a = list();
        for (by, cmd) in steps {
            if let Ok(events) = a.decide(&by, &cmd, NOW, today()) {
                for e in &events {
                    a.apply(e).unwrap();
                    match e {
                        AssignmentEvent::Moved { change, .. } => {
                            statuses.insert(change.to);
                            returns += usize::from(change.reason.is_some());
                        }
                        AssignmentEvent::ExtensionDecided { granted: true, .. } => granted += 1,
                        AssignmentEvent::Rated { .. } => ratings += 1,
                        AssignmentEvent::DraftsMerged { .. } => merges += 1,
                        AssignmentEvent::EvidenceAdded { .. } => files += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    assert_eq!(statuses.len(), 5, "reached {statuses:?}");
    assert!(
        returns > 0 && granted > 0 && ratings > 0 && merges > 0 && files > 0,
        "returns {returns}, granted {granted}, ratings {ratings}, merges {merges}, files {files}"
    );
}

#[test]
fn a_dissatisfied_rating_flags_the_item_only_when_the_asker_asks_for_rehandling() {
    let mut a = issued();
    ok(&mut a, &minzheng(), AssignmentCommand::Reply { item: ItemId(1), text: "书面答复".into() });
    let rate = |rating, rehandle| AssignmentCommand::Rate { item: ItemId(1), on_behalf_of: None, rating, comment: None, rehandle };
    let d1 = Actor::Delegate(d("d1"));
    let e = run(&mut a, &d1, rate(Rating::BasicallySatisfied, true)).unwrap_err();
    assert_eq!(e, CommandError::Invalid(Invalid::RehandleNeedsDissatisfied));
    // A quiet 不满意 stays secret: nothing on the board names the item.
    ok(&mut a, &d1, rate(Rating::Dissatisfied, false));
    assert!(!a.item(ItemId(1)).unwrap().flagged());
    assert_eq!(a.dashboard(today()).overall.flagged, 0);
    ok(&mut a, &Actor::Delegate(d("d2")), rate(Rating::Dissatisfied, true));
    assert!(a.item(ItemId(1)).unwrap().flagged());
}
