//! One small test per rule of a questioning session, driven through
//! `decide` + `apply` as the hub does: phases, roles and who may act for whom,
//! question moderation (text limits, reject, merge, edit, queue, second),
//! the floor (requests, grants, follow-ups, answers), check-in, the
//! satisfaction evaluation (ballots, idempotent retries, results frozen at
//! close) and what each perspective may see.

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
    for to in [
        Phase::CheckIn,
        Phase::Questioning,
        Phase::Evaluation,
        Phase::Closed,
    ] {
        assert_eq!(
            ok(&mut s, &mod_(), Command::AdvancePhase { to }),
            Reply::Done
        );
        assert_eq!(s.phase(), to);
    }
    assert_eq!(s.seq(), 4);
}

#[test]
fn skipping_a_phase_is_a_typed_transition_error() {
    let mut s = session();
    let e = err(
        &mut s,
        &mod_(),
        Command::AdvancePhase {
            to: Phase::Questioning,
        },
    );
    assert_eq!(
        e,
        CommandError::InvalidState(InvalidState::Transition {
            from: Phase::Preparing,
            to: Phase::Questioning
        })
    );
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed });
    assert_eq!(
        e,
        CommandError::InvalidState(InvalidState::Transition {
            from: Phase::Preparing,
            to: Phase::Closed
        })
    );
}

#[test]
fn going_backwards_is_a_typed_transition_error() {
    let mut s = session();
    advance_to(&mut s, Phase::Questioning);
    let e = err(
        &mut s,
        &mod_(),
        Command::AdvancePhase { to: Phase::CheckIn },
    );
    assert_eq!(
        e,
        CommandError::InvalidState(InvalidState::Transition {
            from: Phase::Questioning,
            to: Phase::CheckIn
        })
    );
    advance_to(&mut s, Phase::Closed);
    let e = err(
        &mut s,
        &mod_(),
        Command::AdvancePhase {
            to: Phase::Preparing,
        },
    );
    assert_eq!(
        e,
        CommandError::InvalidState(InvalidState::Transition {
            from: Phase::Closed,
            to: Phase::Preparing
        })
    );
}

#[test]
fn advancing_to_the_current_phase_is_already_done() {
    let mut s = session();
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::AdvancePhase {
                to: Phase::Preparing
            }
        ),
        AlreadyDone::Phase.into()
    );
    advance_to(&mut s, Phase::Closed);
    assert_eq!(
        err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed }),
        AlreadyDone::Phase.into()
    );
}

#[test]
fn cannot_advance_while_something_is_on_the_floor() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道什么时候修？");
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: None,
        },
    );
    let e = err(
        &mut s,
        &mod_(),
        Command::AdvancePhase {
            to: Phase::Evaluation,
        },
    );
    assert_eq!(e, InvalidState::FloorOccupied.into());
    ok(&mut s, &mod_(), answer_cmd(None));
    ok(&mut s, &mod_(), Command::EndFloor);
    ok(
        &mut s,
        &mod_(),
        Command::AdvancePhase {
            to: Phase::Evaluation,
        },
    );
}

#[test]
fn cannot_close_the_session_while_an_evaluation_is_open() {
    let mut s = evaluating();
    let e = err(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed });
    assert_eq!(e, InvalidState::EvaluationOpen.into());
    ok(
        &mut s,
        &mod_(),
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
    );
    ok(&mut s, &mod_(), Command::AdvancePhase { to: Phase::Closed });
}

// ---- roles ----------------------------------------------------------------

/// One command of every kind. The exhaustive match makes this fail to compile
/// when a command is added, so the read-only test keeps covering all of them.
fn one_of_each_command() -> Vec<Command> {
    let all = vec![
        Command::AdvancePhase { to: Phase::Closed },
        Command::ImportDelegates {
            delegates: vec![delegate("n01", DelegateLevel::County, BAIYU)],
        },
        Command::CheckIn {
            delegate: did("d01"),
        },
        submit_cmd("问题"),
        Command::ApproveQuestion {
            question: QuestionId(1),
        },
        Command::RejectQuestion {
            question: QuestionId(1),
            reason: "重复".into(),
        },
        Command::MergeQuestion {
            question: QuestionId(1),
            into: QuestionId(2),
        },
        Command::EditQuestion {
            question: QuestionId(1),
            text: "改".into(),
        },
        Command::QueueQuestion {
            question: QuestionId(1),
        },
        Command::ReorderQueue { order: vec![] },
        Command::SecondQuestion {
            question: QuestionId(1),
        },
        Command::RequestFloor {
            question: QuestionId(1),
        },
        Command::GrantFloor {
            venue: vid(MAIN),
            question: QuestionId(1),
            answer_seconds: None,
        },
        Command::StartCountdown { seconds: 60 },
        Command::AddFollowUp {
            on_behalf_of: None,
            text: "再问".into(),
        },
        answer_cmd(None),
        Command::EndFloor,
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0])],
        },
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
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
        });
    }
    assert_eq!(kinds.len(), 20, "one command of each kind");
    all
}

#[test]
fn screen_and_auditor_are_read_only_for_every_command() {
    // A state in which most of these commands would be accepted from the moderator.
    let mut s = evaluating();
    for viewer in [Viewer::Screen, Viewer::Auditor] {
        for cmd in one_of_each_command() {
            assert_eq!(
                err(&mut s, &viewer, cmd.clone()),
                Forbidden::ReadOnly.into(),
                "{viewer:?} {cmd:?}"
            );
        }
    }
    // Also in the preparing phase, before anything exists.
    let mut s = session();
    for viewer in [Viewer::Screen, Viewer::Auditor] {
        for cmd in one_of_each_command() {
            assert_eq!(
                err(&mut s, &viewer, cmd.clone()),
                Forbidden::ReadOnly.into(),
                "{viewer:?} {cmd:?}"
            );
        }
    }
}

#[test]
fn moderator_only_commands_refuse_delegates_and_operators() {
    let mut s = questioning();
    let q1 = approved(&mut s, "d04", "一");
    let q2 = approved(&mut s, "d07", "二");
    ok(&mut s, &mod_(), Command::QueueQuestion { question: q1 });
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(XINHUA),
            question: q2,
            answer_seconds: None,
        },
    );
    let moderator_only = vec![
        Command::AdvancePhase {
            to: Phase::Evaluation,
        },
        Command::ImportDelegates {
            delegates: vec![delegate("n01", DelegateLevel::County, BAIYU)],
        },
        Command::ApproveQuestion { question: q1 },
        Command::RejectQuestion {
            question: q1,
            reason: "重复".into(),
        },
        Command::MergeQuestion {
            question: q1,
            into: q2,
        },
        Command::EditQuestion {
            question: q1,
            text: "改".into(),
        },
        Command::QueueQuestion { question: q1 },
        Command::ReorderQueue { order: vec![q1] },
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q1,
            answer_seconds: None,
        },
        Command::StartCountdown { seconds: 60 },
        answer_cmd(None),
        Command::EndFloor,
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0])],
        },
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
    ];
    for actor in [
        delegate_viewer("d04"),
        delegate_viewer("d07"),
        operator(BAIYU),
        operator(MAIN),
        operator(XINHUA),
    ] {
        for cmd in &moderator_only {
            assert_eq!(
                err(&mut s, &actor, cmd.clone()),
                Forbidden::ModeratorOnly.into(),
                "{actor:?} {cmd:?}"
            );
        }
    }
}

#[test]
fn seconding_is_for_delegates_and_floor_requests_for_operators() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "一");
    for actor in [mod_(), operator(BAIYU)] {
        assert_eq!(
            err(&mut s, &actor, Command::SecondQuestion { question: q }),
            Forbidden::Role.into()
        );
    }
    for actor in [mod_(), delegate_viewer("d04")] {
        assert_eq!(
            err(&mut s, &actor, Command::RequestFloor { question: q }),
            Forbidden::Role.into()
        );
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
    let other = Command::SubmitQuestion {
        on_behalf_of: Some(did("d05")),
        topic: tid(TOPICS[0]),
        unit: uid(UNITS[0]),
        text: "代别人提问".into(),
    };
    assert_eq!(
        err(&mut s, &delegate_viewer("d04"), other),
        Forbidden::OtherDelegate.into()
    );
    // Naming oneself is fine.
    let me = Command::SubmitQuestion {
        on_behalf_of: Some(did("d04")),
        topic: tid(TOPICS[0]),
        unit: uid(UNITS[0]),
        text: "自己提问".into(),
    };
    ok(&mut s, &delegate_viewer("d04"), me);

    advance_to(&mut s, Phase::CheckIn);
    let e = err(
        &mut s,
        &delegate_viewer("d04"),
        Command::CheckIn {
            delegate: did("d05"),
        },
    );
    assert_eq!(e, Forbidden::OtherDelegate.into());
    check_in_all(&mut s);

    advance_to(&mut s, Phase::Questioning);
    let q = approved(&mut s, "d07", "二");
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(XINHUA),
            question: q,
            answer_seconds: None,
        },
    );
    let e = err(
        &mut s,
        &delegate_viewer("d04"),
        Command::AddFollowUp {
            on_behalf_of: Some(did("d07")),
            text: "追问".into(),
        },
    );
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
    assert_eq!(
        err(&mut s, &operator(BAIYU), for_d07("代提")),
        Forbidden::OtherVenue.into()
    );
    assert_eq!(
        err(&mut s, &operator(MAIN), for_d07("代提")),
        Forbidden::OtherVenue.into()
    );
    let r = ok(&mut s, &operator(XINHUA), for_d07("代提"));
    let q = s.question(QuestionId(1)).unwrap();
    assert_eq!(r, Reply::Question(QuestionId(1)));
    assert!(q.by_operator);
    assert_eq!(q.askers, vec![did("d07")]);

    advance_to(&mut s, Phase::CheckIn);
    let e = err(
        &mut s,
        &operator(BAIYU),
        Command::CheckIn {
            delegate: did("d07"),
        },
    );
    assert_eq!(e, Forbidden::OtherVenue.into());
    check_in_all(&mut s);

    advance_to(&mut s, Phase::Questioning);
    ok(
        &mut s,
        &mod_(),
        Command::ApproveQuestion {
            question: QuestionId(1),
        },
    );
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(XINHUA),
            question: QuestionId(1),
            answer_seconds: None,
        },
    );
    let e = err(
        &mut s,
        &operator(BAIYU),
        Command::AddFollowUp {
            on_behalf_of: Some(did("d07")),
            text: "追问".into(),
        },
    );
    assert_eq!(e, Forbidden::OtherVenue.into());
}

#[test]
fn an_operator_must_name_the_delegate_they_speak_for() {
    let mut s = session();
    let cmd = Command::SubmitQuestion {
        on_behalf_of: None,
        topic: tid(TOPICS[0]),
        unit: uid(UNITS[0]),
        text: "无名".into(),
    };
    assert_eq!(
        err(&mut s, &operator(BAIYU), cmd.clone()),
        Invalid::Empty {
            field: "on_behalf_of"
        }
        .into()
    );
    assert_eq!(
        err(&mut s, &mod_(), cmd),
        Invalid::Empty {
            field: "on_behalf_of"
        }
        .into()
    );
}

#[test]
fn a_delegate_not_on_the_roster_cannot_ask_follow_up_or_second() {
    // E.g. a delegate still to be imported, or a stale login.
    let mut s = session();
    let stranger = delegate_viewer("n01");
    assert_eq!(
        err(&mut s, &stranger, submit_cmd("问")),
        NotFound::Delegate(did("n01")).into()
    );
    let q = approved(&mut s, "d04", "问");
    assert_eq!(
        err(&mut s, &stranger, Command::SecondQuestion { question: q }),
        NotFound::Delegate(did("n01")).into()
    );
    advance_to(&mut s, Phase::Questioning);
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: None,
        },
    );
    let e = err(
        &mut s,
        &stranger,
        Command::AddFollowUp {
            on_behalf_of: None,
            text: "追问".into(),
        },
    );
    assert_eq!(e, NotFound::Delegate(did("n01")).into());
    assert_eq!(
        err(
            &mut s,
            &stranger,
            ballot("b1", 1, UNITS[0], Rating::Satisfied)
        ),
        NotFound::Evaluation(EvaluationId(1)).into()
    );
}

// ---- questions ------------------------------------------------------------

#[test]
fn question_text_is_limited_in_characters_not_bytes() {
    let mut s = session();
    let ok_text = "问".repeat(500); // 1500 bytes, 500 characters
    assert_eq!(ok_text.len(), 1500);
    assert_eq!(
        ok(&mut s, &delegate_viewer("d01"), submit_cmd(&ok_text)),
        Reply::Question(QuestionId(1))
    );
    assert_eq!(s.question(QuestionId(1)).unwrap().text, ok_text);

    let too_long = "问".repeat(501);
    assert_eq!(
        err(&mut s, &delegate_viewer("d01"), submit_cmd(&too_long)),
        Invalid::TooLong {
            field: "text",
            max: 500
        }
        .into()
    );
}

#[test]
fn question_text_must_not_be_empty_and_is_trimmed() {
    let mut s = session();
    for empty in ["", "   ", "\n\t　"] {
        assert_eq!(
            err(&mut s, &delegate_viewer("d01"), submit_cmd(empty)),
            Invalid::Empty { field: "text" }.into()
        );
    }
    let q = submit(&mut s, "d01", "  村道何时修？ \n");
    assert_eq!(s.question(q).unwrap().text, "村道何时修？");
}

#[test]
fn questions_are_numbered_in_submission_order() {
    let mut s = session();
    for (i, d) in ["d01", "d05", "d09", "d01"].iter().enumerate() {
        assert_eq!(submit(&mut s, d, "问"), QuestionId(i as u32 + 1));
    }
    let q2 = s.question(QuestionId(2)).unwrap();
    assert_eq!(q2.askers, vec![did("d05")]);
    assert_eq!(q2.venues, vec![vid(BAIYU)]);
    assert_eq!(q2.status, QuestionStatus::Pending);
    assert!(!q2.public);
}

#[test]
fn question_must_name_a_known_topic_and_unit() {
    let mut s = session();
    let bad_topic = Command::SubmitQuestion {
        on_behalf_of: None,
        topic: tid("nope"),
        unit: uid(UNITS[0]),
        text: "问".into(),
    };
    assert_eq!(
        err(&mut s, &delegate_viewer("d01"), bad_topic),
        NotFound::Topic(tid("nope")).into()
    );
    let bad_unit = Command::SubmitQuestion {
        on_behalf_of: None,
        topic: tid(TOPICS[0]),
        unit: uid("nope"),
        text: "问".into(),
    };
    assert_eq!(
        err(&mut s, &delegate_viewer("d01"), bad_unit),
        NotFound::Unit(uid("nope")).into()
    );
}

#[test]
fn a_delegate_may_ask_a_limited_number_of_questions() {
    let mut s = Fixture::default()
        .limits(|l| l.questions_per_delegate = 2)
        .session();
    submit(&mut s, "d01", "一");
    submit(&mut s, "d01", "二");
    let e = err(&mut s, &delegate_viewer("d01"), submit_cmd("三"));
    assert_eq!(
        e,
        Invalid::TooMany {
            what: "questions from one delegate",
            max: 2
        }
        .into()
    );
    submit(&mut s, "d02", "别人还可以问");
}

#[test]
fn questions_cannot_be_submitted_once_evaluation_starts() {
    let mut s = questioning();
    advance_to(&mut s, Phase::Evaluation);
    assert_eq!(
        err(&mut s, &delegate_viewer("d01"), submit_cmd("晚了")),
        InvalidState::Phase(Phase::Evaluation).into()
    );
}

#[test]
fn rejecting_needs_a_reason() {
    let mut s = session();
    let q = submit(&mut s, "d04", "与会议主题无关的问题");
    for reason in ["", "  "] {
        let e = err(
            &mut s,
            &mod_(),
            Command::RejectQuestion {
                question: q,
                reason: reason.into(),
            },
        );
        assert_eq!(e, Invalid::Empty { field: "reason" }.into());
    }
    ok(
        &mut s,
        &mod_(),
        Command::RejectQuestion {
            question: q,
            reason: "与主题无关".into(),
        },
    );
    let rq = s.question(q).unwrap();
    assert_eq!(rq.status, QuestionStatus::Rejected);
    assert_eq!(rq.reject_reason.as_deref(), Some("与主题无关"));
    assert!(!rq.public, "a rejected question never becomes public");
    // Decided once: neither approved nor rejected again.
    assert_eq!(
        err(&mut s, &mod_(), Command::ApproveQuestion { question: q }),
        InvalidState::NotPending(q).into()
    );
    let e = err(
        &mut s,
        &mod_(),
        Command::RejectQuestion {
            question: q,
            reason: "再拒".into(),
        },
    );
    assert_eq!(e, InvalidState::NotPending(q).into());
}

#[test]
fn approving_makes_a_question_public() {
    let mut s = session();
    let q = approved(&mut s, "d04", "问");
    let aq = s.question(q).unwrap();
    assert_eq!(aq.status, QuestionStatus::Approved);
    assert!(aq.public);
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::ApproveQuestion {
                question: QuestionId(9)
            }
        ),
        NotFound::Question(QuestionId(9)).into()
    );
}

#[test]
fn merge_keeps_askers_and_venues_of_both_and_leaves_the_queue() {
    let mut s = questioning();
    let from = approved(&mut s, "d04", "白鱼镇村道"); // baiyu
    let into = approved(&mut s, "d07", "新华街道村道"); // xinhua
    ok(&mut s, &mod_(), Command::QueueQuestion { question: from });
    ok(&mut s, &mod_(), Command::QueueQuestion { question: into });
    ok(
        &mut s,
        &operator(BAIYU),
        Command::RequestFloor { question: from },
    );
    assert_eq!(s.queue(), &[from, into]);

    ok(
        &mut s,
        &mod_(),
        Command::MergeQuestion {
            question: from,
            into,
        },
    );

    let merged = s.question(from).unwrap();
    assert_eq!(merged.status, QuestionStatus::Merged);
    assert_eq!(merged.merged_into, Some(into));
    let target = s.question(into).unwrap();
    assert_eq!(target.askers, vec![did("d07"), did("d04")]);
    assert_eq!(target.venues, vec![vid(XINHUA), vid(BAIYU)]);
    assert_eq!(target.merged_from, vec![from]);
    assert_eq!(s.queue(), &[into], "the merged question leaves the queue");
    assert!(
        s.floor_requests().is_empty(),
        "and its floor requests go with it"
    );

    // The original asker counts as an asker of the merged question…
    assert_eq!(
        err(
            &mut s,
            &delegate_viewer("d04"),
            Command::SecondQuestion { question: into }
        ),
        Invalid::OwnQuestion.into()
    );
    // …and their venue may request and be given the floor for it.
    ok(
        &mut s,
        &operator(BAIYU),
        Command::RequestFloor { question: into },
    );
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: into,
            answer_seconds: None,
        },
    );
}

#[test]
fn merge_refuses_itself_and_closed_questions() {
    let mut s = session();
    let a = submit(&mut s, "d01", "一");
    let b = submit(&mut s, "d02", "二");
    let c = submit(&mut s, "d03", "三");
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::MergeQuestion {
                question: a,
                into: a
            }
        ),
        Invalid::MergeIntoSelf.into()
    );
    ok(
        &mut s,
        &mod_(),
        Command::MergeQuestion {
            question: a,
            into: b,
        },
    );
    // Already merged: cannot be merged again, nor merged into.
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::MergeQuestion {
                question: a,
                into: c
            }
        ),
        InvalidState::Closed(a).into()
    );
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::MergeQuestion {
                question: c,
                into: a
            }
        ),
        InvalidState::Closed(a).into()
    );
    ok(
        &mut s,
        &mod_(),
        Command::RejectQuestion {
            question: c,
            reason: "重复".into(),
        },
    );
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::MergeQuestion {
                question: b,
                into: c
            }
        ),
        InvalidState::Closed(c).into()
    );
    let e = err(
        &mut s,
        &mod_(),
        Command::MergeQuestion {
            question: b,
            into: QuestionId(99),
        },
    );
    assert_eq!(e, NotFound::Question(QuestionId(99)).into());
}

#[test]
fn edit_keeps_the_original_text() {
    let mut s = session();
    let q = submit(&mut s, "d04", "  原话：村里的路坑坑洼洼 ");
    ok(
        &mut s,
        &mod_(),
        Command::EditQuestion {
            question: q,
            text: "村道维修计划？".into(),
        },
    );
    ok(
        &mut s,
        &mod_(),
        Command::EditQuestion {
            question: q,
            text: "村道何时维修？".into(),
        },
    );
    let eq = s.question(q).unwrap();
    assert_eq!(eq.text, "村道何时维修？");
    assert_eq!(
        eq.original_text.as_deref(),
        Some("原话：村里的路坑坑洼洼"),
        "the first wording is kept, not the intermediate one"
    );
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::EditQuestion {
                question: q,
                text: " ".into()
            }
        ),
        Invalid::Empty { field: "text" }.into()
    );
    let e = err(
        &mut s,
        &mod_(),
        Command::EditQuestion {
            question: q,
            text: "长".repeat(501),
        },
    );
    assert_eq!(
        e,
        Invalid::TooLong {
            field: "text",
            max: 500
        }
        .into()
    );
}

#[test]
fn queue_then_reorder_with_a_permutation() {
    let mut s = session();
    let p = submit(&mut s, "d01", "待审");
    assert_eq!(
        err(&mut s, &mod_(), Command::QueueQuestion { question: p }),
        InvalidState::NotApproved(p).into()
    );
    let a = approved(&mut s, "d02", "一");
    let b = approved(&mut s, "d03", "二");
    let c = approved(&mut s, "d04", "三");
    for q in [a, b, c] {
        ok(&mut s, &mod_(), Command::QueueQuestion { question: q });
        assert_eq!(s.question(q).unwrap().status, QuestionStatus::Queued);
    }
    assert_eq!(s.queue(), &[a, b, c]);
    assert_eq!(
        err(&mut s, &mod_(), Command::QueueQuestion { question: a }),
        InvalidState::NotApproved(a).into()
    );

    ok(
        &mut s,
        &mod_(),
        Command::ReorderQueue {
            order: vec![c, a, b],
        },
    );
    assert_eq!(s.queue(), &[c, a, b]);

    for bad in [
        vec![a, b],
        vec![a, b, b],
        vec![a, b, c, p],
        vec![a, b, QuestionId(42)],
        vec![],
    ] {
        assert_eq!(
            err(&mut s, &mod_(), Command::ReorderQueue { order: bad }),
            InvalidState::QueueMismatch.into()
        );
    }
    assert_eq!(s.queue(), &[c, a, b]);
}

#[test]
fn a_question_is_seconded_once_per_delegate() {
    let mut s = session();
    let pending = submit(&mut s, "d04", "待审");
    assert_eq!(
        err(
            &mut s,
            &delegate_viewer("d07"),
            Command::SecondQuestion { question: pending }
        ),
        InvalidState::NotApproved(pending).into()
    );
    let q = approved(&mut s, "d04", "村道");
    assert_eq!(
        err(
            &mut s,
            &delegate_viewer("d04"),
            Command::SecondQuestion { question: q }
        ),
        Invalid::OwnQuestion.into()
    );
    ok(
        &mut s,
        &delegate_viewer("d07"),
        Command::SecondQuestion { question: q },
    );
    assert_eq!(
        err(
            &mut s,
            &delegate_viewer("d07"),
            Command::SecondQuestion { question: q }
        ),
        AlreadyDone::Seconded(q).into()
    );
    ok(
        &mut s,
        &delegate_viewer("d10"),
        Command::SecondQuestion { question: q },
    );
    let seconders: Vec<_> = s.question(q).unwrap().seconders.iter().cloned().collect();
    assert_eq!(seconders, vec![did("d07"), did("d10")]);
}

// ---- the floor ------------------------------------------------------------

#[test]
fn floor_is_requested_only_for_an_approved_question_of_ones_own_venue() {
    let mut s = session();
    let pending = submit(&mut s, "d04", "待审");
    let q = approved(&mut s, "d04", "白鱼镇的问题");
    advance_to(&mut s, Phase::CheckIn);
    assert_eq!(
        err(
            &mut s,
            &operator(BAIYU),
            Command::RequestFloor { question: q }
        ),
        InvalidState::Phase(Phase::CheckIn).into()
    );
    advance_to(&mut s, Phase::Questioning);

    assert_eq!(
        err(
            &mut s,
            &operator(XINHUA),
            Command::RequestFloor { question: q }
        ),
        Forbidden::OtherVenue.into()
    );
    assert_eq!(
        err(
            &mut s,
            &operator(MAIN),
            Command::RequestFloor { question: q }
        ),
        Forbidden::OtherVenue.into()
    );
    assert_eq!(
        err(
            &mut s,
            &operator(BAIYU),
            Command::RequestFloor { question: pending }
        ),
        InvalidState::NotApproved(pending).into()
    );
    ok(
        &mut s,
        &operator(BAIYU),
        Command::RequestFloor { question: q },
    );
    assert_eq!(s.floor_requests().len(), 1);
    assert_eq!(s.floor_requests()[0].venue, vid(BAIYU));
    assert_eq!(
        err(
            &mut s,
            &operator(BAIYU),
            Command::RequestFloor { question: q }
        ),
        AlreadyDone::FloorRequested(q).into()
    );
}

#[test]
fn floor_is_granted_only_when_empty_and_to_an_asking_venue() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "白鱼镇的问题");
    let other = approved(&mut s, "d07", "新华的问题");
    ok(&mut s, &mod_(), Command::QueueQuestion { question: q });
    ok(
        &mut s,
        &operator(BAIYU),
        Command::RequestFloor { question: q },
    );

    let e = err(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(XINHUA),
            question: q,
            answer_seconds: None,
        },
    );
    assert_eq!(
        e,
        InvalidState::VenueNotAsking {
            venue: vid(XINHUA),
            question: q
        }
        .into()
    );
    let e = err(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid("nowhere"),
            question: q,
            answer_seconds: None,
        },
    );
    assert_eq!(e, NotFound::Venue(vid("nowhere")).into());
    for secs in [0, 3601] {
        let e = err(
            &mut s,
            &mod_(),
            Command::GrantFloor {
                venue: vid(BAIYU),
                question: q,
                answer_seconds: Some(secs),
            },
        );
        assert_eq!(e, Invalid::Countdown { max: 3600 }.into());
    }

    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: None,
        },
    );
    let f = s.floor().unwrap();
    assert_eq!(
        (f.question, &f.venue, f.countdown_seconds),
        (q, &vid(BAIYU), 300)
    );
    assert_eq!(s.question(q).unwrap().status, QuestionStatus::OnFloor);
    assert!(s.queue().is_empty(), "granted question leaves the queue");
    assert!(
        s.floor_requests().is_empty(),
        "and its floor requests are served"
    );

    let e = err(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(XINHUA),
            question: other,
            answer_seconds: None,
        },
    );
    assert_eq!(e, InvalidState::FloorOccupied.into());
}

#[test]
fn countdown_restarts_only_with_something_on_the_floor() {
    let mut s = questioning();
    assert_eq!(
        err(&mut s, &mod_(), Command::StartCountdown { seconds: 60 }),
        InvalidState::FloorEmpty.into()
    );
    let q = approved(&mut s, "d04", "问");
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: Some(120),
        },
    );
    assert_eq!(s.floor().unwrap().countdown_seconds, 120);
    assert_eq!(
        err(&mut s, &mod_(), Command::StartCountdown { seconds: 0 }),
        Invalid::Countdown { max: 3600 }.into()
    );
    ok(&mut s, &mod_(), Command::StartCountdown { seconds: 60 });
    let f = s.floor().unwrap();
    assert_eq!(f.countdown_seconds, 60);
    assert!(f.countdown_started_at > f.granted_at);
}

#[test]
fn every_follow_up_is_answered_before_the_floor_ends() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道");
    assert_eq!(
        err(
            &mut s,
            &delegate_viewer("d04"),
            Command::AddFollowUp {
                on_behalf_of: None,
                text: "追问".into()
            }
        ),
        InvalidState::FloorEmpty.into()
    );
    assert_eq!(
        err(&mut s, &mod_(), Command::EndFloor),
        InvalidState::FloorEmpty.into()
    );
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: None,
        },
    );

    assert_eq!(
        err(&mut s, &mod_(), Command::EndFloor),
        InvalidState::Unanswered.into()
    );
    ok(&mut s, &mod_(), answer_cmd(None));
    assert_eq!(
        err(&mut s, &mod_(), answer_cmd(None)),
        AlreadyDone::Answered.into()
    );

    // 一问再问: one follow-up from the delegate, one typed in by an operator.
    let r1 = ok(
        &mut s,
        &delegate_viewer("d04"),
        Command::AddFollowUp {
            on_behalf_of: None,
            text: "具体哪天？".into(),
        },
    );
    let r2 = ok(
        &mut s,
        &operator(XINHUA),
        Command::AddFollowUp {
            on_behalf_of: Some(did("d08")),
            text: "新华呢？".into(),
        },
    );
    assert_eq!(
        (r1, r2),
        (
            Reply::FollowUp(FollowUpId(1)),
            Reply::FollowUp(FollowUpId(2))
        )
    );
    let fus = &s.question(q).unwrap().follow_ups;
    assert_eq!(
        (
            fus[1].asker.clone(),
            fus[1].venue.clone(),
            fus[1].by_operator
        ),
        (did("d08"), vid(XINHUA), true)
    );

    assert_eq!(
        err(&mut s, &mod_(), Command::EndFloor),
        InvalidState::FollowUpUnanswered(FollowUpId(1)).into()
    );
    ok(&mut s, &mod_(), answer_cmd(Some(FollowUpId(1))));
    assert_eq!(
        err(&mut s, &mod_(), answer_cmd(Some(FollowUpId(1)))),
        AlreadyDone::Answered.into()
    );
    assert_eq!(
        err(&mut s, &mod_(), Command::EndFloor),
        InvalidState::FollowUpUnanswered(FollowUpId(2)).into()
    );
    assert_eq!(
        err(&mut s, &mod_(), answer_cmd(Some(FollowUpId(7)))),
        NotFound::FollowUp(FollowUpId(7)).into()
    );
    ok(&mut s, &mod_(), answer_cmd(Some(FollowUpId(2))));

    ok(&mut s, &mod_(), Command::EndFloor);
    assert!(s.floor().is_none());
    assert_eq!(s.question(q).unwrap().status, QuestionStatus::Answered);
    // An answered question is done: no new grant, no new floor request.
    let e = err(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: None,
        },
    );
    assert_eq!(e, InvalidState::NotApproved(q).into());
}

#[test]
fn follow_up_ids_continue_across_floor_items() {
    let mut s = questioning();
    for (n, (asker, venue)) in [("d04", BAIYU), ("d07", XINHUA)].into_iter().enumerate() {
        let q = approved(&mut s, asker, "问");
        ok(
            &mut s,
            &mod_(),
            Command::GrantFloor {
                venue: vid(venue),
                question: q,
                answer_seconds: None,
            },
        );
        ok(&mut s, &mod_(), answer_cmd(None));
        let r = ok(
            &mut s,
            &delegate_viewer(asker),
            Command::AddFollowUp {
                on_behalf_of: None,
                text: "追问".into(),
            },
        );
        assert_eq!(r, Reply::FollowUp(FollowUpId(n as u32 + 1)));
        ok(&mut s, &mod_(), answer_cmd(Some(FollowUpId(n as u32 + 1))));
        ok(&mut s, &mod_(), Command::EndFloor);
    }
}

#[test]
fn answers_and_commitments_name_known_units() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道");
    ok(
        &mut s,
        &mod_(),
        Command::GrantFloor {
            venue: vid(BAIYU),
            question: q,
            answer_seconds: None,
        },
    );
    let answer = |unit: &str, commitments: Vec<CommitmentDraft>| Command::RecordAnswer {
        follow_up: None,
        unit: uid(unit),
        official: "张局长".into(),
        summary: "今年完成。".into(),
        commitments,
    };
    let due = CalendarDate::new(2026, 6, 30).unwrap();
    let promise = |unit: &str, what: &str| CommitmentDraft {
        what: what.into(),
        unit: uid(unit),
        due,
    };

    assert_eq!(
        err(&mut s, &mod_(), answer("ghost", vec![])),
        NotFound::Unit(uid("ghost")).into()
    );
    let e = err(
        &mut s,
        &mod_(),
        answer(
            UNITS[0],
            vec![promise(UNITS[0], "修路"), promise("ghost", "修桥")],
        ),
    );
    assert_eq!(e, NotFound::Unit(uid("ghost")).into());
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            answer(UNITS[0], vec![promise(UNITS[0], " ")])
        ),
        Invalid::Empty {
            field: "commitment"
        }
        .into()
    );
    // Commitment text is a short field (Limits::short_chars, 100 characters).
    let e = err(
        &mut s,
        &mod_(),
        answer(UNITS[0], vec![promise(UNITS[0], &"修".repeat(101))]),
    );
    assert_eq!(
        e,
        Invalid::TooLong {
            field: "commitment",
            max: 100
        }
        .into()
    );
    let too_many = vec![promise(UNITS[0], "一项"); 21];
    assert_eq!(
        err(&mut s, &mod_(), answer(UNITS[0], too_many)),
        Invalid::TooMany {
            what: "commitments",
            max: 20
        }
        .into()
    );
    let no_official = Command::RecordAnswer {
        follow_up: None,
        unit: uid(UNITS[0]),
        official: "".into(),
        summary: "答".into(),
        commitments: vec![],
    };
    assert_eq!(
        err(&mut s, &mod_(), no_official),
        Invalid::Empty { field: "official" }.into()
    );

    let long = "修".repeat(100);
    ok(
        &mut s,
        &mod_(),
        answer(
            UNITS[0],
            vec![promise(UNITS[0], &long), promise(UNITS[2], "设卫生室")],
        ),
    );
    let a = s.question(q).unwrap().answer.clone().unwrap();
    assert_eq!(a.unit, uid(UNITS[0]));
    assert_eq!(a.commitments.len(), 2);
    assert_eq!(a.commitments[0].what, long);
    assert_eq!(a.commitments[1].unit, uid(UNITS[2]));
    assert_eq!(a.commitments[1].due.to_string(), "2026-06-30");
}

// ---- check-in -------------------------------------------------------------

#[test]
fn check_in_by_self_own_venue_operator_or_moderator() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    ok(
        &mut s,
        &delegate_viewer("d04"),
        Command::CheckIn {
            delegate: did("d04"),
        },
    );
    ok(
        &mut s,
        &operator(BAIYU),
        Command::CheckIn {
            delegate: did("d05"),
        },
    );
    ok(
        &mut s,
        &mod_(),
        Command::CheckIn {
            delegate: did("d07"),
        },
    );
    assert!(!s.checked_in()[&did("d04")].by_operator);
    assert!(s.checked_in()[&did("d05")].by_operator);
    assert!(s.checked_in()[&did("d07")].by_operator);
    assert!(s.is_checked_in(&did("d04")) && !s.is_checked_in(&did("d06")));
    assert_eq!(s.presence(&vid(BAIYU)), (2, 3));
    assert_eq!(s.presence(&vid(XINHUA)), (1, 3));
    assert_eq!(s.presence(&vid(MAIN)), (0, 3));
}

#[test]
fn checking_in_twice_is_already_done() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in(&mut s, "d04");
    for actor in [delegate_viewer("d04"), operator(BAIYU), mod_()] {
        assert_eq!(
            err(
                &mut s,
                &actor,
                Command::CheckIn {
                    delegate: did("d04")
                }
            ),
            AlreadyDone::CheckedIn(did("d04")).into()
        );
    }
}

#[test]
fn check_in_is_closed_while_preparing() {
    let mut s = session();
    for actor in [delegate_viewer("d04"), operator(BAIYU), mod_()] {
        let e = err(
            &mut s,
            &actor,
            Command::CheckIn {
                delegate: did("d04"),
            },
        );
        assert_eq!(e, InvalidState::Phase(Phase::Preparing).into());
    }
    advance_to(&mut s, Phase::Closed);
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::CheckIn {
                delegate: did("d04")
            }
        ),
        InvalidState::Phase(Phase::Closed).into()
    );
}

#[test]
fn late_check_in_is_allowed_during_questioning_and_evaluation() {
    let mut s = session();
    advance_to(&mut s, Phase::Questioning);
    check_in(&mut s, "d01");
    advance_to(&mut s, Phase::Evaluation);
    check_in(&mut s, "d02");
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::CheckIn {
                delegate: did("zz")
            }
        ),
        NotFound::Delegate(did("zz")).into()
    );
}

#[test]
fn delegates_are_imported_only_while_preparing() {
    let mut s = session();
    let new = delegate("n01", DelegateLevel::Township, DONGCHENG);
    ok(
        &mut s,
        &mod_(),
        Command::ImportDelegates {
            delegates: vec![new.clone()],
        },
    );
    assert_eq!(s.delegate(&did("n01")), Some(&new));
    assert_eq!(s.presence(&vid(DONGCHENG)), (0, 4));
    let e = err(
        &mut s,
        &mod_(),
        Command::ImportDelegates {
            delegates: vec![new.clone()],
        },
    );
    assert_eq!(
        e,
        Invalid::Definition(DefinitionError::Duplicate {
            kind: "delegate",
            id: "n01".into()
        })
        .into()
    );
    let lost = delegate("n02", DelegateLevel::Township, "atlantis");
    let e = err(
        &mut s,
        &mod_(),
        Command::ImportDelegates {
            delegates: vec![lost],
        },
    );
    assert_eq!(
        e,
        Invalid::Definition(DefinitionError::UnknownVenue {
            delegate: "n02".into(),
            venue: "atlantis".into()
        })
        .into()
    );
    advance_to(&mut s, Phase::CheckIn);
    let late = delegate("n03", DelegateLevel::Township, DONGCHENG);
    assert_eq!(
        err(
            &mut s,
            &mod_(),
            Command::ImportDelegates {
                delegates: vec![late]
            }
        ),
        InvalidState::Phase(Phase::CheckIn).into()
    );
}

// ---- evaluation -----------------------------------------------------------

#[test]
fn evaluation_opens_only_in_the_evaluation_phase() {
    let mut s = questioning();
    let e = err(
        &mut s,
        &mod_(),
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0])],
        },
    );
    assert_eq!(e, InvalidState::Phase(Phase::Questioning).into());
}

#[test]
fn one_evaluation_is_open_at_a_time() {
    let mut s = evaluating();
    let e = err(
        &mut s,
        &mod_(),
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0])],
        },
    );
    assert_eq!(e, InvalidState::EvaluationOpen.into());
    ok(
        &mut s,
        &mod_(),
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
    );
    let r = ok(
        &mut s,
        &mod_(),
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0])],
        },
    );
    assert_eq!(r, Reply::Evaluation(EvaluationId(2)));
    assert_eq!(s.open_evaluation().map(|e| e.id), Some(EvaluationId(2)));
}

#[test]
fn evaluation_units_must_be_known_distinct_and_present() {
    let mut s = questioning();
    advance_to(&mut s, Phase::Evaluation);
    let open = |units: &[&str]| Command::OpenEvaluation {
        units: units.iter().map(|u| uid(u)).collect(),
    };
    assert_eq!(
        err(&mut s, &mod_(), open(&[UNITS[0], "ghost"])),
        NotFound::Unit(uid("ghost")).into()
    );
    assert_eq!(
        err(&mut s, &mod_(), open(&[UNITS[0], UNITS[1], UNITS[0]])),
        Invalid::DuplicateUnit.into()
    );
    assert_eq!(
        err(&mut s, &mod_(), open(&[])),
        Invalid::Empty { field: "units" }.into()
    );
    ok(&mut s, &mod_(), open(&[UNITS[1], UNITS[0]]));
    assert_eq!(
        s.evaluation(EvaluationId(1)).unwrap().units,
        vec![uid(UNITS[1]), uid(UNITS[0])]
    );
}

#[test]
fn a_ballot_needs_a_checked_in_delegate_and_an_open_evaluation_of_that_unit() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in(&mut s, "d01");
    advance_to(&mut s, Phase::Evaluation);

    // No evaluation yet.
    let e = err(
        &mut s,
        &delegate_viewer("d01"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
    assert_eq!(e, NotFound::Evaluation(EvaluationId(1)).into());

    ok(
        &mut s,
        &mod_(),
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0]), uid(UNITS[1])],
        },
    );
    let e = err(
        &mut s,
        &delegate_viewer("d02"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
    assert_eq!(e, InvalidState::NotCheckedIn(did("d02")).into());
    let e = err(
        &mut s,
        &delegate_viewer("d01"),
        ballot("b1", 1, UNITS[2], Rating::Satisfied),
    );
    assert_eq!(
        e,
        InvalidState::UnitNotInEvaluation {
            evaluation: EvaluationId(1),
            unit: uid(UNITS[2])
        }
        .into()
    );
    let e = err(
        &mut s,
        &delegate_viewer("d01"),
        ballot(" ", 1, UNITS[0], Rating::Satisfied),
    );
    assert_eq!(e, Invalid::Empty { field: "ballot_id" }.into());

    let r = ok(
        &mut s,
        &delegate_viewer("d01"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
    assert_eq!(
        r,
        Reply::Ballot {
            evaluation: EvaluationId(1),
            unit: uid(UNITS[0]),
            delegate: did("d01")
        }
    );
    let b = &s.evaluation(EvaluationId(1)).unwrap().ballots[&(did("d01"), uid(UNITS[0]))];
    assert_eq!(
        (b.rating, &b.venue, b.seq),
        (Rating::Satisfied, &vid(MAIN), s.seq())
    );

    // Checking in late makes a delegate eligible.
    check_in(&mut s, "d02");
    ok(
        &mut s,
        &delegate_viewer("d02"),
        ballot("b1", 1, UNITS[0], Rating::Dissatisfied),
    );
}

#[test]
fn retrying_the_same_ballot_is_idempotent() {
    let mut s = evaluating();
    let cast = ballot("b-42", 1, UNITS[0], Rating::BasicallySatisfied);
    let first = exec_events(&mut s, &delegate_viewer("d04"), cast.clone(), 1).unwrap();
    assert_eq!(first.events.len(), 1);
    let seq = s.seq();
    let before = s.clone();

    let again = exec_events(&mut s, &delegate_viewer("d04"), cast.clone(), 2).unwrap();
    assert!(again.events.is_empty(), "a retry records nothing");
    assert_eq!(
        again.reply,
        Reply::Ballot {
            evaluation: EvaluationId(1),
            unit: uid(UNITS[0]),
            delegate: did("d04")
        }
    );
    assert_eq!(again.reply, first.reply);
    assert_eq!((s.seq(), &s), (seq, &before));
    // Ids are taken exactly as sent (the receipt echoes them): a padded id is
    // another id, and another ballot for the same unit is refused.
    let padded = ballot(" b-42 ", 1, UNITS[0], Rating::BasicallySatisfied);
    assert!(matches!(
        exec_events(&mut s, &delegate_viewer("d04"), padded, 3),
        Err(CommandError::AlreadyDone(AlreadyDone::Voted { .. }))
    ));

    // Still answered after the close, so a client that lost the ack can finish.
    ok(
        &mut s,
        &mod_(),
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
    );
    let late = exec_events(&mut s, &delegate_viewer("d04"), cast, 4).unwrap();
    assert!(late.events.is_empty());
    assert_eq!(late.reply, first.reply);
}

#[test]
fn reusing_a_ballot_id_for_another_rating_or_unit_is_refused() {
    let mut s = evaluating();
    ok(
        &mut s,
        &delegate_viewer("d04"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
    let e = err(
        &mut s,
        &delegate_viewer("d04"),
        ballot("b1", 1, UNITS[0], Rating::Dissatisfied),
    );
    assert_eq!(e, AlreadyDone::BallotIdReused("b1".into()).into());
    let e = err(
        &mut s,
        &delegate_viewer("d04"),
        ballot("b1", 1, UNITS[1], Rating::Satisfied),
    );
    assert_eq!(e, AlreadyDone::BallotIdReused("b1".into()).into());
    // Another delegate's ids are their own business.
    ok(
        &mut s,
        &delegate_viewer("d05"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
}

#[test]
fn an_accepted_ballot_is_final() {
    let mut s = evaluating();
    ok(
        &mut s,
        &delegate_viewer("d04"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
    for rating in Rating::ALL {
        let e = err(
            &mut s,
            &delegate_viewer("d04"),
            ballot("b2", 1, UNITS[0], rating),
        );
        assert_eq!(
            e,
            AlreadyDone::Voted {
                evaluation: EvaluationId(1),
                unit: uid(UNITS[0])
            }
            .into()
        );
    }
    // Other units are separate ballots.
    ok(
        &mut s,
        &delegate_viewer("d04"),
        ballot("b2", 1, UNITS[1], Rating::Dissatisfied),
    );
    assert_eq!(s.evaluation(EvaluationId(1)).unwrap().ballots.len(), 2);
}

#[test]
fn no_ballot_after_the_close_and_no_second_close() {
    let mut s = evaluating();
    ok(
        &mut s,
        &mod_(),
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
    );
    let e = err(
        &mut s,
        &delegate_viewer("d04"),
        ballot("b1", 1, UNITS[0], Rating::Satisfied),
    );
    assert_eq!(e, InvalidState::EvaluationClosed(EvaluationId(1)).into());
    // Closing again is idempotent: no event, the same reply (the final results).
    let before = s.clone();
    let again = s
        .decide(&mod_(), &Command::CloseEvaluation { evaluation: EvaluationId(1) }, Millis(99))
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(again.reply, Reply::Closed(EvaluationId(1)));
    assert_eq!(s, before);
    let e = err(
        &mut s,
        &mod_(),
        Command::CloseEvaluation {
            evaluation: EvaluationId(2),
        },
    );
    assert_eq!(e, NotFound::Evaluation(EvaluationId(2)).into());
}

#[test]
fn results_at_close_count_by_venue_and_level_and_freeze_turnout() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    // 10 of 12 present: d06 and d12 are absent.
    for d in [
        "d01", "d02", "d03", "d04", "d05", "d07", "d08", "d09", "d10", "d11",
    ] {
        check_in(&mut s, d);
    }
    advance_to(&mut s, Phase::Evaluation);
    ok(
        &mut s,
        &mod_(),
        Command::OpenEvaluation {
            units: vec![uid(UNITS[0]), uid(UNITS[1])],
        },
    );

    use Rating::*;
    // transport: 4 satisfied, 2 basically, 1 dissatisfied from 7 voters.
    let votes = [
        ("d01", Satisfied),          // main, Province
        ("d02", Satisfied),          // main, City
        ("d04", BasicallySatisfied), // baiyu, Township
        ("d05", Dissatisfied),       // baiyu, StreetDeliberation
        ("d07", Satisfied),          // xinhua, Province
        ("d08", BasicallySatisfied), // xinhua, Township
        ("d10", Satisfied),          // dongcheng, City
    ];
    for (d, r) in votes {
        ok(
            &mut s,
            &delegate_viewer(d),
            ballot(&format!("{d}-t"), 1, UNITS[0], r),
        );
    }
    // education: one voter who did not rate transport.
    ok(
        &mut s,
        &delegate_viewer("d03"),
        ballot("x", 1, UNITS[1], Dissatisfied),
    );

    // Live turnout before the close.
    let ev = s.evaluation(EvaluationId(1)).unwrap().clone();
    assert_eq!((s.turnout(&ev).voted, s.turnout(&ev).eligible), (8, 10));

    ok(
        &mut s,
        &mod_(),
        Command::CloseEvaluation {
            evaluation: EvaluationId(1),
        },
    );
    let ev = s.evaluation(EvaluationId(1)).unwrap().clone();
    assert_eq!(ev.status, EvaluationStatus::Closed);
    let results = ev.results.clone().expect("results are frozen at close");

    let t = &results.tally.by_unit[&uid(UNITS[0])];
    assert_eq!(
        t.total,
        RatingCounts {
            satisfied: 4,
            basically_satisfied: 2,
            dissatisfied: 1
        }
    );
    // 满意率 = (4 + 2) / 7 = 85.71%
    assert_eq!(t.total.satisfaction_rate_bp(), Some(8571));
    assert_eq!(
        t.by_venue[&vid(MAIN)],
        RatingCounts {
            satisfied: 2,
            basically_satisfied: 0,
            dissatisfied: 0
        }
    );
    assert_eq!(
        t.by_venue[&vid(BAIYU)],
        RatingCounts {
            satisfied: 0,
            basically_satisfied: 1,
            dissatisfied: 1
        }
    );
    assert_eq!(
        t.by_venue[&vid(XINHUA)],
        RatingCounts {
            satisfied: 1,
            basically_satisfied: 1,
            dissatisfied: 0
        }
    );
    assert_eq!(
        t.by_venue[&vid(DONGCHENG)],
        RatingCounts {
            satisfied: 1,
            basically_satisfied: 0,
            dissatisfied: 0
        }
    );
    let level = |l: DelegateLevel| t.by_level[l.index()];
    assert_eq!(
        level(DelegateLevel::Province),
        RatingCounts {
            satisfied: 2,
            basically_satisfied: 0,
            dissatisfied: 0
        }
    );
    assert_eq!(
        level(DelegateLevel::City),
        RatingCounts {
            satisfied: 2,
            basically_satisfied: 0,
            dissatisfied: 0
        }
    );
    assert_eq!(level(DelegateLevel::County), RatingCounts::default());
    assert_eq!(
        level(DelegateLevel::Township),
        RatingCounts {
            satisfied: 0,
            basically_satisfied: 2,
            dissatisfied: 0
        }
    );
    assert_eq!(
        level(DelegateLevel::StreetDeliberation),
        RatingCounts {
            satisfied: 0,
            basically_satisfied: 0,
            dissatisfied: 1
        }
    );

    let e = &results.tally.by_unit[&uid(UNITS[1])];
    assert_eq!(
        e.total,
        RatingCounts {
            satisfied: 0,
            basically_satisfied: 0,
            dissatisfied: 1
        }
    );
    assert_eq!(e.total.satisfaction_rate_bp(), Some(0));

    // Turnout: 8 distinct voters of 10 present.
    assert_eq!((results.turnout.voted, results.turnout.eligible), (8, 10));
    assert_eq!(results.turnout.by_venue[&vid(MAIN)], (3, 3));
    assert_eq!(results.turnout.by_venue[&vid(BAIYU)], (2, 2));
    assert_eq!(results.turnout.by_venue[&vid(XINHUA)], (2, 3));
    assert_eq!(results.turnout.by_venue[&vid(DONGCHENG)], (1, 2));
    // Present per level: Province 2, City 2, County 2 (d03, d11), Township 2 (d04, d08), Street 2.
    assert_eq!(results.eligible_by_level, [2, 2, 2, 2, 2]);

    // A late check-in after the close changes nothing in the closed results…
    check_in(&mut s, "d12");
    let after = s.evaluation(EvaluationId(1)).unwrap().clone();
    assert_eq!(after.results.as_ref(), Some(&results));
    assert_eq!(s.turnout(&after), results.turnout);
    assert_eq!(s.turnout(&after).eligible, 10);
    // …but the next evaluation counts the newcomer.
    ok(
        &mut s,
        &mod_(),
        Command::OpenEvaluation {
            units: vec![uid(UNITS[2])],
        },
    );
    let ev2 = s.evaluation(EvaluationId(2)).unwrap().clone();
    assert_eq!((s.turnout(&ev2).voted, s.turnout(&ev2).eligible), (0, 11));
}

#[test]
fn a_session_replays_to_the_same_state() {
    let mut log = Vec::new();
    let mut live = session();
    let script: Vec<(Viewer, Command)> = vec![
        (
            mod_(),
            Command::ImportDelegates {
                delegates: vec![delegate("n01", DelegateLevel::Township, BAIYU)],
            },
        ),
        (delegate_viewer("d04"), submit_cmd("村道")),
        (mod_(), Command::AdvancePhase { to: Phase::CheckIn }),
        (
            delegate_viewer("n01"),
            Command::CheckIn {
                delegate: did("n01"),
            },
        ),
        (
            operator(BAIYU),
            Command::CheckIn {
                delegate: did("d04"),
            },
        ),
        (
            mod_(),
            Command::ApproveQuestion {
                question: QuestionId(1),
            },
        ),
        (
            mod_(),
            Command::AdvancePhase {
                to: Phase::Questioning,
            },
        ),
        (
            mod_(),
            Command::GrantFloor {
                venue: vid(BAIYU),
                question: QuestionId(1),
                answer_seconds: None,
            },
        ),
        (mod_(), answer_cmd(None)),
        (
            delegate_viewer("n01"),
            Command::AddFollowUp {
                on_behalf_of: None,
                text: "追问".into(),
            },
        ),
        (mod_(), answer_cmd(Some(FollowUpId(1)))),
        (mod_(), Command::EndFloor),
        (
            mod_(),
            Command::AdvancePhase {
                to: Phase::Evaluation,
            },
        ),
        (
            mod_(),
            Command::OpenEvaluation {
                units: vec![uid(UNITS[0])],
            },
        ),
        (
            delegate_viewer("n01"),
            ballot("x", 1, UNITS[0], Rating::Satisfied),
        ),
        (
            delegate_viewer("d04"),
            ballot("y", 1, UNITS[0], Rating::Dissatisfied),
        ),
        (
            mod_(),
            Command::CloseEvaluation {
                evaluation: EvaluationId(1),
            },
        ),
        (mod_(), Command::AdvancePhase { to: Phase::Closed }),
    ];
    for (i, (actor, cmd)) in script.into_iter().enumerate() {
        let out = exec_events(&mut live, &actor, cmd.clone(), i as u64 * 1000)
            .unwrap_or_else(|e| panic!("{cmd:?} refused: {e}"));
        log.extend(out.events);
    }
    let replayed = Session::replay(def(), &log).expect("log replays");
    assert_eq!(replayed, live);
    assert_eq!(replayed.seq(), log.len() as u64);
    assert_eq!(replayed.phase(), Phase::Closed);
    let r = replayed
        .evaluation(EvaluationId(1))
        .unwrap()
        .results
        .clone()
        .unwrap();
    assert_eq!(
        r.tally.by_unit[&uid(UNITS[0])].total.satisfaction_rate_bp(),
        Some(5000)
    );
}

// ---- visibility -----------------------------------------------------------

#[test]
fn the_screen_always_sees_the_public_perspective() {
    let mut s = evaluating();
    let out = s
        .decide(
            &delegate_viewer("d04"),
            &ballot("b1", 1, UNITS[0], Rating::Satisfied),
            Millis(1),
        )
        .unwrap();
    let changes = s.apply(&out.events[0]).unwrap();
    // The same changes, seen by different viewers.
    assert_eq!(
        Perspective::of(&Viewer::Screen, &changes),
        Perspective::Public
    );
    assert_eq!(Perspective::of(&Viewer::Screen, &[]), Perspective::Public);
    assert_eq!(
        Perspective::for_snapshot(&Viewer::Screen),
        Perspective::Public
    );
    assert_eq!(
        Perspective::of(&delegate_viewer("d04"), &changes),
        Perspective::Delegate(did("d04"))
    );
    assert_eq!(
        Perspective::of(&delegate_viewer("d05"), &changes),
        Perspective::Public
    );
    assert_eq!(
        Perspective::of(&operator(BAIYU), &changes),
        Perspective::Public,
        "an operator does not see its delegates' ballots"
    );
    assert_eq!(
        Perspective::of(&Viewer::Moderator, &changes),
        Perspective::Moderator
    );
    assert_eq!(
        Perspective::of(&Viewer::Auditor, &changes),
        Perspective::Auditor
    );
}

#[test]
fn the_public_sees_neither_pending_questions_nor_askers() {
    let mut s = questioning();
    let q = submit(&mut s, "d04", "待审的问题");
    let public = Perspective::Public;
    assert!(!public.sees_question(s.question(q).unwrap()));
    assert!(
        Perspective::Venue(vid(BAIYU)).sees_question(s.question(q).unwrap()),
        "the asker's venue sees it"
    );
    assert!(!Perspective::Venue(vid(XINHUA)).sees_question(s.question(q).unwrap()));
    assert!(Perspective::Delegate(did("d04")).sees_question(s.question(q).unwrap()));
    assert!(!Perspective::Delegate(did("d05")).sees_question(s.question(q).unwrap()));
    assert!(Perspective::Moderator.sees_question(s.question(q).unwrap()));

    ok(&mut s, &mod_(), Command::ApproveQuestion { question: q });
    let aq = s.question(q).unwrap();
    assert!(public.sees_question(aq));
    assert!(!public.sees_askers(aq), "the public never learns who asked");
    assert!(!Perspective::Delegate(did("d05")).sees_askers(aq));
    assert!(Perspective::Delegate(did("d04")).sees_askers(aq));
    assert!(Perspective::Auditor.sees_askers(aq));
    assert!(!public.sees_check_in(&did("d04"), &vid(BAIYU)));
    assert!(!public.sees_roster(&vid(BAIYU)));
}

#[test]
fn a_ballot_is_seen_only_by_its_caster_and_the_auditor() {
    let caster = did("d04");
    assert!(Perspective::Delegate(caster.clone()).sees_ballot(&caster));
    assert!(Perspective::Auditor.sees_ballot(&caster));
    assert!(
        !Perspective::Moderator.sees_ballot(&caster),
        "not even the moderator"
    );
    assert!(!Perspective::Public.sees_ballot(&caster));
    assert!(!Perspective::Venue(vid(BAIYU)).sees_ballot(&caster));
    assert!(!Perspective::Delegate(did("d05")).sees_ballot(&caster));
    // Live counts are for staff only.
    assert!(Perspective::Moderator.sees_live_counts() && Perspective::Auditor.sees_live_counts());
    assert!(
        !Perspective::Public.sees_live_counts()
            && !Perspective::Delegate(caster).sees_live_counts()
    );
}
