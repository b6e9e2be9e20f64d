//! Rules of a questioning session, part 2 of 3: question moderation (text
//! limits, reject, merge, edit, queue, second) and the floor (requests,
//! grants, follow-ups, answers). Driven through `decide` + `apply`.

mod common;

use common::*;
use wz_domain::*;

fn mod_() -> Viewer {
    moderator()
}

// ---- questions ------------------------------------------------------------

#[test]
fn question_text_is_limited_in_characters_not_bytes() {
    let mut s = session();
    let ok_text = "问".repeat(500); // 1500 bytes, 500 characters
    assert_eq!(ok_text.len(), 1500);
    assert_eq!(ok(&mut s, &delegate_viewer("d01"), submit_cmd(&ok_text)), Reply::Question(QuestionId(1)));
    assert_eq!(s.question(QuestionId(1)).unwrap().text, ok_text);

    let too_long = "问".repeat(501);
    assert_eq!(err(&mut s, &delegate_viewer("d01"), submit_cmd(&too_long)), Invalid::TooLong { field: "text", max: 500 }.into());
}

#[test]
fn question_text_must_not_be_empty_and_is_trimmed() {
    let mut s = session();
    for empty in ["", "   ", "\n\t　"] {
        assert_eq!(err(&mut s, &delegate_viewer("d01"), submit_cmd(empty)), Invalid::Empty { field: "text" }.into());
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
    let bad_topic = Command::SubmitQuestion { on_behalf_of: None, topic: tid("nope"), unit: uid(UNITS[0]), text: "问".into() };
    assert_eq!(err(&mut s, &delegate_viewer("d01"), bad_topic), NotFound::Topic(tid("nope")).into());
    let bad_unit = Command::SubmitQuestion { on_behalf_of: None, topic: tid(TOPICS[0]), unit: uid("nope"), text: "问".into() };
    assert_eq!(err(&mut s, &delegate_viewer("d01"), bad_unit), NotFound::Unit(uid("nope")).into());
}

#[test]
fn a_delegate_may_ask_a_limited_number_of_questions() {
    let mut s = Fixture::default().limits(|l| l.questions_per_delegate = 2).session();
    submit(&mut s, "d01", "一");
    submit(&mut s, "d01", "二");
    let e = err(&mut s, &delegate_viewer("d01"), submit_cmd("三"));
    assert_eq!(e, Invalid::TooMany { what: "questions from one delegate", max: 2 }.into());
    submit(&mut s, "d02", "别人还可以问");
}

#[test]
fn questions_cannot_be_submitted_once_evaluation_starts() {
    let mut s = questioning();
    advance_to(&mut s, Phase::Evaluation);
    assert_eq!(err(&mut s, &delegate_viewer("d01"), submit_cmd("晚了")), InvalidState::Phase(Phase::Evaluation).into());
}

#[test]
fn rejecting_needs_a_reason() {
    let mut s = session();
    let q = submit(&mut s, "d04", "与会议主题无关的问题");
    for reason in ["", "  "] {
        let e = err(&mut s, &mod_(), Command::RejectQuestion { question: q, reason: reason.into() });
        assert_eq!(e, Invalid::Empty { field: "reason" }.into());
    }
    ok(&mut s, &mod_(), Command::RejectQuestion { question: q, reason: "与主题无关".into() });
    let rq = s.question(q).unwrap();
    assert_eq!(rq.status, QuestionStatus::Rejected);
    assert_eq!(rq.reject_reason.as_deref(), Some("与主题无关"));
    assert!(!rq.public, "a rejected question never becomes public");
    // Decided once: neither approved nor rejected again.
    assert_eq!(err(&mut s, &mod_(), Command::ApproveQuestion { question: q }), InvalidState::NotPending(q).into());
    let e = err(&mut s, &mod_(), Command::RejectQuestion { question: q, reason: "再拒".into() });
    assert_eq!(e, InvalidState::NotPending(q).into());
}

#[test]
fn approving_makes_a_question_public() {
    let mut s = session();
    let q = approved(&mut s, "d04", "问");
    let aq = s.question(q).unwrap();
    assert_eq!(aq.status, QuestionStatus::Approved);
    assert!(aq.public);
    assert_eq!(err(&mut s, &mod_(), Command::ApproveQuestion { question: QuestionId(9) }), NotFound::Question(QuestionId(9)).into());
}

#[test]
fn merge_keeps_askers_and_venues_of_both_and_leaves_the_queue() {
    let mut s = questioning();
    let from = approved(&mut s, "d04", "白鱼镇村道"); // baiyu
    let into = approved(&mut s, "d07", "新华街道村道"); // xinhua
    ok(&mut s, &mod_(), Command::QueueQuestion { question: from });
    ok(&mut s, &mod_(), Command::QueueQuestion { question: into });
    ok(&mut s, &operator(BAIYU), Command::RequestFloor { question: from });
    assert_eq!(s.queue(), &[from, into]);

    ok(&mut s, &mod_(), Command::MergeQuestion { question: from, into });

    let merged = s.question(from).unwrap();
    assert_eq!(merged.status, QuestionStatus::Merged);
    assert_eq!(merged.merged_into, Some(into));
    let target = s.question(into).unwrap();
    assert_eq!(target.askers, vec![did("d07"), did("d04")]);
    assert_eq!(target.venues, vec![vid(XINHUA), vid(BAIYU)]);
    assert_eq!(target.merged_from, vec![from]);
    assert_eq!(s.queue(), &[into], "the merged question leaves the queue");
    assert!(s.floor_requests().is_empty(), "and its floor requests go with it");

    // The original asker counts as an asker of the merged question…
    assert_eq!(err(&mut s, &delegate_viewer("d04"), Command::SecondQuestion { question: into }), Invalid::OwnQuestion.into());
    // …and their venue may request and be given the floor for it.
    ok(&mut s, &operator(BAIYU), Command::RequestFloor { question: into });
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: into, answer_seconds: None });
}

#[test]
fn merge_refuses_itself_and_closed_questions() {
    let mut s = session();
    let a = submit(&mut s, "d01", "一");
    let b = submit(&mut s, "d02", "二");
    let c = submit(&mut s, "d03", "三");
    assert_eq!(err(&mut s, &mod_(), Command::MergeQuestion { question: a, into: a }), Invalid::MergeIntoSelf.into());
    ok(&mut s, &mod_(), Command::MergeQuestion { question: a, into: b });
    // Already merged: cannot be merged again, nor merged into.
    assert_eq!(err(&mut s, &mod_(), Command::MergeQuestion { question: a, into: c }), InvalidState::Closed(a).into());
    assert_eq!(err(&mut s, &mod_(), Command::MergeQuestion { question: c, into: a }), InvalidState::Closed(a).into());
    ok(&mut s, &mod_(), Command::RejectQuestion { question: c, reason: "重复".into() });
    assert_eq!(err(&mut s, &mod_(), Command::MergeQuestion { question: b, into: c }), InvalidState::Closed(c).into());
    let e = err(&mut s, &mod_(), Command::MergeQuestion { question: b, into: QuestionId(99) });
    assert_eq!(e, NotFound::Question(QuestionId(99)).into());
}

#[test]
fn edit_keeps_the_original_text() {
    let mut s = session();
    let q = submit(&mut s, "d04", "  原话：村里的路坑坑洼洼 ");
    ok(&mut s, &mod_(), Command::EditQuestion { question: q, text: "村道维修计划？".into() });
    ok(&mut s, &mod_(), Command::EditQuestion { question: q, text: "村道何时维修？".into() });
    let eq = s.question(q).unwrap();
    assert_eq!(eq.text, "村道何时维修？");
    assert_eq!(eq.original_text.as_deref(), Some("原话：村里的路坑坑洼洼"), "the first wording is kept, not the intermediate one");
    assert_eq!(err(&mut s, &mod_(), Command::EditQuestion { question: q, text: " ".into() }), Invalid::Empty { field: "text" }.into());
    let e = err(&mut s, &mod_(), Command::EditQuestion { question: q, text: "长".repeat(501) });
    assert_eq!(e, Invalid::TooLong { field: "text", max: 500 }.into());
}

#[test]
fn queue_then_reorder_with_a_permutation() {
    let mut s = session();
    let p = submit(&mut s, "d01", "待审");
    assert_eq!(err(&mut s, &mod_(), Command::QueueQuestion { question: p }), InvalidState::NotApproved(p).into());
    let a = approved(&mut s, "d02", "一");
    let b = approved(&mut s, "d03", "二");
    let c = approved(&mut s, "d04", "三");
    for q in [a, b, c] {
        ok(&mut s, &mod_(), Command::QueueQuestion { question: q });
        assert_eq!(s.question(q).unwrap().status, QuestionStatus::Queued);
    }
    assert_eq!(s.queue(), &[a, b, c]);
    assert_eq!(err(&mut s, &mod_(), Command::QueueQuestion { question: a }), InvalidState::NotApproved(a).into());

    ok(&mut s, &mod_(), Command::ReorderQueue { order: vec![c, a, b] });
    assert_eq!(s.queue(), &[c, a, b]);

    for bad in [vec![a, b], vec![a, b, b], vec![a, b, c, p], vec![a, b, QuestionId(42)], vec![]] {
        assert_eq!(err(&mut s, &mod_(), Command::ReorderQueue { order: bad }), InvalidState::QueueMismatch.into());
    }
    assert_eq!(s.queue(), &[c, a, b]);
}

#[test]
fn a_question_is_seconded_once_per_delegate() {
    let mut s = session();
    let pending = submit(&mut s, "d04", "待审");
    assert_eq!(
        err(&mut s, &delegate_viewer("d07"), Command::SecondQuestion { question: pending }),
        InvalidState::NotApproved(pending).into()
    );
    let q = approved(&mut s, "d04", "村道");
    assert_eq!(err(&mut s, &delegate_viewer("d04"), Command::SecondQuestion { question: q }), Invalid::OwnQuestion.into());
    ok(&mut s, &delegate_viewer("d07"), Command::SecondQuestion { question: q });
    assert_eq!(err(&mut s, &delegate_viewer("d07"), Command::SecondQuestion { question: q }), AlreadyDone::Seconded(q).into());
    ok(&mut s, &delegate_viewer("d10"), Command::SecondQuestion { question: q });
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
    assert_eq!(err(&mut s, &operator(BAIYU), Command::RequestFloor { question: q }), InvalidState::Phase(Phase::CheckIn).into());
    advance_to(&mut s, Phase::Questioning);

    assert_eq!(err(&mut s, &operator(XINHUA), Command::RequestFloor { question: q }), Forbidden::OtherVenue.into());
    assert_eq!(err(&mut s, &operator(MAIN), Command::RequestFloor { question: q }), Forbidden::OtherVenue.into());
    assert_eq!(err(&mut s, &operator(BAIYU), Command::RequestFloor { question: pending }), InvalidState::NotApproved(pending).into());
    ok(&mut s, &operator(BAIYU), Command::RequestFloor { question: q });
    assert_eq!(s.floor_requests().len(), 1);
    assert_eq!(s.floor_requests()[0].venue, vid(BAIYU));
    assert_eq!(err(&mut s, &operator(BAIYU), Command::RequestFloor { question: q }), AlreadyDone::FloorRequested(q).into());
}

#[test]
fn floor_is_granted_only_when_empty_and_to_an_asking_venue() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "白鱼镇的问题");
    let other = approved(&mut s, "d07", "新华的问题");
    ok(&mut s, &mod_(), Command::QueueQuestion { question: q });
    ok(&mut s, &operator(BAIYU), Command::RequestFloor { question: q });

    let e = err(&mut s, &mod_(), Command::GrantFloor { venue: vid(XINHUA), question: q, answer_seconds: None });
    assert_eq!(e, InvalidState::VenueNotAsking { venue: vid(XINHUA), question: q }.into());
    let e = err(&mut s, &mod_(), Command::GrantFloor { venue: vid("nowhere"), question: q, answer_seconds: None });
    assert_eq!(e, NotFound::Venue(vid("nowhere")).into());
    for secs in [0, 3601] {
        let e = err(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: Some(secs) });
        assert_eq!(e, Invalid::Countdown { max: 3600 }.into());
    }

    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });
    let f = s.floor().unwrap();
    assert_eq!((f.question, &f.venue, f.countdown_seconds), (q, &vid(BAIYU), 300));
    assert_eq!(s.question(q).unwrap().status, QuestionStatus::OnFloor);
    assert!(s.queue().is_empty(), "granted question leaves the queue");
    assert!(s.floor_requests().is_empty(), "and its floor requests are served");

    let e = err(&mut s, &mod_(), Command::GrantFloor { venue: vid(XINHUA), question: other, answer_seconds: None });
    assert_eq!(e, InvalidState::FloorOccupied.into());
}

#[test]
fn countdown_restarts_only_with_something_on_the_floor() {
    let mut s = questioning();
    assert_eq!(err(&mut s, &mod_(), Command::StartCountdown { seconds: 60 }), InvalidState::FloorEmpty.into());
    let q = approved(&mut s, "d04", "问");
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: Some(120) });
    assert_eq!(s.floor().unwrap().countdown_seconds, 120);
    assert_eq!(err(&mut s, &mod_(), Command::StartCountdown { seconds: 0 }), Invalid::Countdown { max: 3600 }.into());
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
        err(&mut s, &delegate_viewer("d04"), Command::AddFollowUp { on_behalf_of: None, text: "追问".into() }),
        InvalidState::FloorEmpty.into()
    );
    assert_eq!(err(&mut s, &mod_(), Command::EndFloor), InvalidState::FloorEmpty.into());
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });

    assert_eq!(err(&mut s, &mod_(), Command::EndFloor), InvalidState::Unanswered.into());
    ok(&mut s, &mod_(), answer_cmd(None));
    assert_eq!(err(&mut s, &mod_(), answer_cmd(None)), AlreadyDone::Answered.into());

    // 一问再问: one follow-up from the delegate, one typed in by an operator.
    let r1 = ok(&mut s, &delegate_viewer("d04"), Command::AddFollowUp { on_behalf_of: None, text: "具体哪天？".into() });
    let r2 = ok(&mut s, &operator(XINHUA), Command::AddFollowUp { on_behalf_of: Some(did("d08")), text: "新华呢？".into() });
    assert_eq!((r1, r2), (Reply::FollowUp(FollowUpId(1)), Reply::FollowUp(FollowUpId(2))));
    let fus = &s.question(q).unwrap().follow_ups;
    assert_eq!((fus[1].asker.clone(), fus[1].venue.clone(), fus[1].by_operator), (did("d08"), vid(XINHUA), true));

    assert_eq!(err(&mut s, &mod_(), Command::EndFloor), InvalidState::FollowUpUnanswered(FollowUpId(1)).into());
    ok(&mut s, &mod_(), answer_cmd(Some(FollowUpId(1))));
    assert_eq!(err(&mut s, &mod_(), answer_cmd(Some(FollowUpId(1)))), AlreadyDone::Answered.into());
    assert_eq!(err(&mut s, &mod_(), Command::EndFloor), InvalidState::FollowUpUnanswered(FollowUpId(2)).into());
    assert_eq!(err(&mut s, &mod_(), answer_cmd(Some(FollowUpId(7)))), NotFound::FollowUp(FollowUpId(7)).into());
    ok(&mut s, &mod_(), answer_cmd(Some(FollowUpId(2))));

    ok(&mut s, &mod_(), Command::EndFloor);
    assert!(s.floor().is_none());
    assert_eq!(s.question(q).unwrap().status, QuestionStatus::Answered);
    // An answered question is done: no new grant, no new floor request.
    let e = err(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });
    assert_eq!(e, InvalidState::NotApproved(q).into());
}

#[test]
fn follow_up_ids_continue_across_floor_items() {
    let mut s = questioning();
    for (n, (asker, venue)) in [("d04", BAIYU), ("d07", XINHUA)].into_iter().enumerate() {
        let q = approved(&mut s, asker, "问");
        ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(venue), question: q, answer_seconds: None });
        ok(&mut s, &mod_(), answer_cmd(None));
        let r = ok(&mut s, &delegate_viewer(asker), Command::AddFollowUp { on_behalf_of: None, text: "追问".into() });
        assert_eq!(r, Reply::FollowUp(FollowUpId(n as u32 + 1)));
        ok(&mut s, &mod_(), answer_cmd(Some(FollowUpId(n as u32 + 1))));
        ok(&mut s, &mod_(), Command::EndFloor);
    }
}

#[test]
fn answers_and_commitments_name_known_units() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道");
    ok(&mut s, &mod_(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });
    let answer = |unit: &str, commitments: Vec<CommitmentDraft>| Command::RecordAnswer {
        follow_up: None,
        unit: uid(unit),
        official: "张局长".into(),
        summary: "今年完成。".into(),
        commitments,
    };
    let due = CalendarDate::new(2026, 6, 30).unwrap();
    let promise = |unit: &str, what: &str| CommitmentDraft { what: what.into(), unit: uid(unit), due };

    assert_eq!(err(&mut s, &mod_(), answer("ghost", vec![])), NotFound::Unit(uid("ghost")).into());
    let e = err(&mut s, &mod_(), answer(UNITS[0], vec![promise(UNITS[0], "修路"), promise("ghost", "修桥")]));
    assert_eq!(e, NotFound::Unit(uid("ghost")).into());
    assert_eq!(err(&mut s, &mod_(), answer(UNITS[0], vec![promise(UNITS[0], " ")])), Invalid::Empty { field: "commitment" }.into());
    // Commitment text is a short field (Limits::short_chars, 100 characters).
    let e = err(&mut s, &mod_(), answer(UNITS[0], vec![promise(UNITS[0], &"修".repeat(101))]));
    assert_eq!(e, Invalid::TooLong { field: "commitment", max: 100 }.into());
    let too_many = vec![promise(UNITS[0], "一项"); 21];
    assert_eq!(err(&mut s, &mod_(), answer(UNITS[0], too_many)), Invalid::TooMany { what: "commitments", max: 20 }.into());
    let no_official =
        Command::RecordAnswer { follow_up: None, unit: uid(UNITS[0]), official: "".into(), summary: "答".into(), commitments: vec![] };
    assert_eq!(err(&mut s, &mod_(), no_official), Invalid::Empty { field: "official" }.into());

    let long = "修".repeat(100);
    ok(&mut s, &mod_(), answer(UNITS[0], vec![promise(UNITS[0], &long), promise(UNITS[2], "设卫生室")]));
    let a = s.question(q).unwrap().answer.clone().unwrap();
    assert_eq!(a.unit, uid(UNITS[0]));
    assert_eq!(a.commitments.len(), 2);
    assert_eq!(a.commitments[0].what, long);
    assert_eq!(a.commitments[1].unit, uid(UNITS[2]));
    assert_eq!(a.commitments[1].due.to_string(), "2026-06-30");
}
