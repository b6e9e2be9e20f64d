//! Rules of a questioning session, part 1 of 3: phases, and roles (who may
//! act, and for whom). Driven through `decide` + `apply` as the hub does.

mod common;

use common::*;
use wz_domain::*;

fn mod_() -> Viewer {
    moderator()
}

// ---- phases ---------------------------------------------------------------

#[test]
fn phases_advance_one_step_at_a_time_until_closed() {
    let mut s = session();
    assert_eq!(s.phase(), Phase::Preparing);
    for to in [Phase::CheckIn, Phase::Questioning, Phase::Evaluation, Phase::Closed] {
        assert_eq!(ok(&mut s, &mod_(), Command::AdvancePhase { to }), Reply::Done);
        assert_eq!(s.phase(), to);
    }
    assert_eq!(s.seq(), 4);
}

#[test]
fn skipping_a_phase_is_a_typed_transition_error() {
    let mut s = session();
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Questioning });
    assert_eq!(e, CommandError::InvalidState(InvalidState::Transition { from: Phase::Preparing, to: Phase::Questioning }));
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed });
    assert_eq!(e, CommandError::InvalidState(InvalidState::Transition { from: Phase::Preparing, to: Phase::Closed }));
}

#[test]
fn going_backwards_is_a_typed_transition_error() {
    let mut s = session();
    advance_to(&mut s, Phase::Questioning);
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::CheckIn });
    assert_eq!(e, CommandError::InvalidState(InvalidState::Transition { from: Phase::Questioning, to: Phase::CheckIn }));
    advance_to(&mut s, Phase::Closed);
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Preparing });
    assert_eq!(e, CommandError::InvalidState(InvalidState::Transition { from: Phase::Closed, to: Phase::Preparing }));
}

#[test]
fn advancing_to_the_current_phase_is_already_done() {
    let mut s = session();
    assert_eq!(err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Preparing }), AlreadyDone::Phase.into());
    advance_to(&mut s, Phase::Closed);
    assert_eq!(err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed }), AlreadyDone::Phase.into());
}

#[test]
fn cannot_advance_while_something_is_on_the_floor() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道什么时候修？");
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Evaluation });
    assert_eq!(e, InvalidState::FloorOccupied.into());
    ok(&mut s, &mod_(), answer_cmd(None));
    ok(&mut s, &mod_(), Command::EndFloor);
    ok(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Evaluation });
}

#[test]
fn cannot_close_the_session_while_an_evaluation_is_open() {
    let mut s = evaluating();
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed });
    assert_eq!(e, InvalidState::EvaluationOpen.into());
    ok(&mut s, &mod_(), Command::CloseEvaluation { evaluation: EvaluationId(1) });
    ok(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed });
}

// ---- roles ----------------------------------------------------------------

/// One command of every kind. The exhaustive match makes this fail to compile
/// when a command is added, so the read-only test keeps covering all of them.
fn one_of_each_command() -> Vec<Command> {
    let all = vec![
        Command::AdvancePhase { to: Phase::Closed },
        Command::ImportDelegates { delegates: vec![delegate("n01", DelegateLevel::County, BAIYU)] },
        Command::CheckIn { delegate: did("d01") },
        submit_cmd("问题"),
        Command::ApproveQuestion { question: QuestionId(1) },
        Command::RejectQuestion { question: QuestionId(1), reason: "重复".into() },
        Command::MergeQuestion { question: QuestionId(1), into: QuestionId(2) },
        Command::EditQuestion { question: QuestionId(1), text: "改".into() },
        Command::QueueQuestion { question: QuestionId(1) },
        Command::ReorderQueue { order: vec![] },
        Command::SecondQuestion { question: QuestionId(1) },
        Command::RequestFloor { question: QuestionId(1) },
        Command::GrantFloor { venue: vid(MAIN), question: QuestionId(1), answer_seconds: None },
        Command::StartCountdown { seconds: 60 },
        Command::AddFollowUp { on_behalf_of: None, text: "再问".into() },
        answer_cmd(None),
        Command::EndFloor,
        Command::OpenEvaluation { units: vec![uid(UNITS[0])] },
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
        Command::CloseEvaluation { evaluation: EvaluationId(1) },
        Command::DraftAssignments,
        Command::Assignment(wz_domain::assignment::AssignmentCommand::Issue { item: wz_domain::assignment::ItemId(1) }),
        Command::PauseCountdown,
        Command::UndoCheckIn { delegate: did("d01"), reason: "误签".into() },
        Command::RequestCheckIn,
        Command::DeclineCheckIn { delegate: did("d01"), reason: None },
        Command::ResumeCountdown,
        Command::ExtendCountdown { seconds: 60 },
        Command::Announcement(wz_domain::announce::AnnouncementCommand::Make { text: "休会五分钟".into(), venues: vec![] }),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for c in &all {
        kinds.insert(match c {
            Command::AdvancePhase { .. } => 0,
            Command::ImportDelegates { .. } => 1,
            Command::CheckIn { .. } => 2,
            Command::SubmitQuestion { .. } => 3,
            Command::ApproveQuestion { .. } => 4,
            Command::RejectQuestion { .. } => 5,
            Command::MergeQuestion { .. } => 6,
            Command::EditQuestion { .. } => 7,
            Command::QueueQuestion { .. } => 8,
            Command::ReorderQueue { .. } => 9,
            Command::SecondQuestion { .. } => 10,
            Command::RequestFloor { .. } => 11,
            Command::GrantFloor { .. } => 12,
            Command::StartCountdown { .. } => 13,
            Command::AddFollowUp { .. } => 14,
            Command::RecordAnswer { .. } => 15,
            Command::EndFloor => 16,
            Command::OpenEvaluation { .. } => 17,
            Command::CastBallot { .. } => 18,
            Command::CloseEvaluation { .. } => 19,
            Command::DraftAssignments => 20,
            Command::Assignment(_) => 21,
            Command::Announcement(_) => 22,
            Command::PauseCountdown => 23,
            Command::ResumeCountdown => 24,
            Command::ExtendCountdown { .. } => 25,
            Command::UndoCheckIn { .. } => 26,
            Command::RequestCheckIn => 27,
            Command::DeclineCheckIn { .. } => 28,
        });
    }
    assert_eq!(kinds.len(), 29, "one command of each kind");
    all
}

#[test]
fn screen_and_auditor_are_read_only_for_every_command() {
    // A state in which most of these commands would be accepted from the moderator.
    let mut s = evaluating();
    for viewer in [Viewer::Screen, Viewer::Auditor] {
        for cmd in one_of_each_command() {
            assert_eq!(err(&mut s, &viewer, cmd.clone()), Forbidden::ReadOnly.into(), "{viewer:?} {cmd:?}");
        }
    }
    // Also in the preparing phase, before anything exists.
    let mut s = session();
    for viewer in [Viewer::Screen, Viewer::Auditor] {
        for cmd in one_of_each_command() {
            assert_eq!(err(&mut s, &viewer, cmd.clone()), Forbidden::ReadOnly.into(), "{viewer:?} {cmd:?}");
        }
    }
}

#[test]
fn moderator_only_commands_refuse_delegates_and_operators() {
    let mut s = questioning();
    let q1 = approved(&mut s, "d04", "一");
    let q2 = approved(&mut s, "d07", "二");
    ok(&mut s, &mod_(), Command::QueueQuestion { question: q1 });
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(XINHUA), question: q2, answer_seconds: None });
    let moderator_only = vec![
        Command::AdvancePhase { to: Phase::Evaluation },
        Command::ImportDelegates { delegates: vec![delegate("n01", DelegateLevel::County, BAIYU)] },
        Command::ApproveQuestion { question: q1 },
        Command::RejectQuestion { question: q1, reason: "重复".into() },
        Command::MergeQuestion { question: q1, into: q2 },
        Command::EditQuestion { question: q1, text: "改".into() },
        Command::QueueQuestion { question: q1 },
        Command::ReorderQueue { order: vec![q1] },
        Command::GrantFloor { venue: vid(BAIYU), question: q1, answer_seconds: None },
        Command::StartCountdown { seconds: 60 },
        answer_cmd(None),
        Command::EndFloor,
        Command::OpenEvaluation { units: vec![uid(UNITS[0])] },
        Command::CloseEvaluation { evaluation: EvaluationId(1) },
    ];
    for actor in [delegate_viewer("d04"), delegate_viewer("d07"), operator(BAIYU), operator(MAIN), operator(XINHUA)] {
        for cmd in &moderator_only {
            assert_eq!(err(&mut s, &actor, cmd.clone()), Forbidden::ModeratorOnly.into(), "{actor:?} {cmd:?}");
        }
    }
}

#[test]
fn seconding_is_for_delegates_and_floor_requests_for_operators() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "一");
    for actor in [mod_(), operator(BAIYU)] {
        assert_eq!(err(&mut s, &actor, Command::SecondQuestion { question: q }), Forbidden::Role.into());
    }
    for actor in [mod_(), delegate_viewer("d04")] {
        assert_eq!(err(&mut s, &actor, Command::RequestFloor { question: q }), Forbidden::Role.into());
    }
}

#[test]
fn only_delegates_cast_ballots() {
    let mut s = evaluating();
    for actor in [mod_(), operator(MAIN), operator(BAIYU)] {
        let e = err(&mut s, &actor, ballot("b1", 1, UNITS[0], Rating::Satisfied));
        assert_eq!(e, Forbidden::DelegatesOnly.into());
    }
}

#[test]
fn a_delegate_may_not_act_for_another_delegate() {
    let mut s = session();
    let other =
        Command::SubmitQuestion {
            on_behalf_of: Some(did("d05")), topic: tid(TOPICS[0]), unit: uid(UNITS[0]), text: "代别人提问".into()
        };
    assert_eq!(err(&mut s, &delegate_viewer("d04"), other), Forbidden::OtherDelegate.into());
    // Naming oneself is fine.
    let me =
        Command::SubmitQuestion { on_behalf_of: Some(did("d04")), topic: tid(TOPICS[0]), unit: uid(UNITS[0]), text: "自己提问".into() };
    ok(&mut s, &delegate_viewer("d04"), me);

    advance_to(&mut s, Phase::CheckIn);
    let e = err(&mut s, &delegate_viewer("d04"), Command::CheckIn { delegate: did("d05") });
    assert_eq!(e, Forbidden::OtherDelegate.into());
    check_in_all(&mut s);

    advance_to(&mut s, Phase::Questioning);
    let q = approved(&mut s, "d07", "二");
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(XINHUA), question: q, answer_seconds: None });
    let e = err(&mut s, &delegate_viewer("d04"), Command::AddFollowUp { on_behalf_of: Some(did("d07")), text: "追问".into() });
    assert_eq!(e, Forbidden::OtherDelegate.into());
}

#[test]
fn an_operator_may_act_only_for_delegates_of_their_venue() {
    let mut s = session();
    let for_d07 = |text: &str| Command::SubmitQuestion {
        on_behalf_of: Some(did("d07")),
        topic: tid(TOPICS[0]),
        unit: uid(UNITS[0]),
        text: text.into(),
    };
    assert_eq!(err(&mut s, &operator(BAIYU), for_d07("代提")), Forbidden::OtherVenue.into());
    assert_eq!(err(&mut s, &operator(MAIN), for_d07("代提")), Forbidden::OtherVenue.into());
    let r = ok(&mut s, &operator(XINHUA), for_d07("代提"));
    let q = s.question(QuestionId(1)).unwrap();
    assert_eq!(r, Reply::Question(QuestionId(1)));
    assert!(q.by_operator);
    assert_eq!(q.askers, vec![did("d07")]);

    advance_to(&mut s, Phase::CheckIn);
    let e = err(&mut s, &operator(BAIYU), Command::CheckIn { delegate: did("d07") });
    assert_eq!(e, Forbidden::OtherVenue.into());
    check_in_all(&mut s);

    advance_to(&mut s, Phase::Questioning);
    ok(&mut s, &mod_(), Command::ApproveQuestion { question: QuestionId(1) });
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(XINHUA), question: QuestionId(1), answer_seconds: None });
    let e = err(&mut s, &operator(BAIYU), Command::AddFollowUp { on_behalf_of: Some(did("d07")), text: "追问".into() });
    assert_eq!(e, Forbidden::OtherVenue.into());
}

#[test]
fn an_operator_must_name_the_delegate_they_speak_for() {
    let mut s = session();
    let cmd = Command::SubmitQuestion { on_behalf_of: None, topic: tid(TOPICS[0]), unit: uid(UNITS[0]), text: "无名".into() };
    assert_eq!(err(&mut s, &operator(BAIYU), cmd.clone()), Invalid::Empty { field: "on_behalf_of" }.into());
    assert_eq!(err(&mut s, &mod_(), cmd), Invalid::Empty { field: "on_behalf_of" }.into());
}

#[test]
fn a_delegate_not_on_the_roster_cannot_ask_follow_up_or_second() {
    // E.g. a delegate still to be imported, or a stale login.
    let mut s = session();
    let stranger = delegate_viewer("n01");
    assert_eq!(err(&mut s, &stranger, submit_cmd("问")), NotFound::Delegate(did("n01")).into());
    let q = approved(&mut s, "d04", "问");
    assert_eq!(err(&mut s, &stranger, Command::SecondQuestion { question: q }), NotFound::Delegate(did("n01")).into());
    advance_to(&mut s, Phase::Questioning);
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });
    let e = err(&mut s, &stranger, Command::AddFollowUp { on_behalf_of: None, text: "追问".into() });
    assert_eq!(e, NotFound::Delegate(did("n01")).into());
    assert_eq!(err(&mut s, &stranger, ballot("b1", 1, UNITS[0], Rating::Satisfied)), NotFound::Evaluation(EvaluationId(1)).into());
}
