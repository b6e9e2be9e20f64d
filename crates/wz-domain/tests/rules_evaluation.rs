//! Rules of a questioning session, part 3 of 3: check-in, the satisfaction
//! evaluation (ballots, idempotent retries, results frozen at close), replay,
//! and what each perspective may see. Driven through `decide` + `apply`.

mod common;

use common::*;
use wz_domain::*;

fn mod_() -> Viewer {
    moderator()
}

// ---- check-in -------------------------------------------------------------

#[test]
fn check_in_by_self_own_venue_operator_or_moderator() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    ok(&mut s, &delegate_viewer("d04"), Command::CheckIn { delegate: did("d04") });
    ok(&mut s, &operator(BAIYU), Command::CheckIn { delegate: did("d05") });
    ok(&mut s, &mod_(), Command::CheckIn { delegate: did("d07") });
    assert!(!s.checked_in()[&did("d04")].by_operator);
    assert!(s.checked_in()[&did("d05")].by_operator);
    assert!(s.checked_in()[&did("d07")].by_operator);
    assert!(s.is_checked_in(&did("d04")) && !s.is_checked_in(&did("d06")));
    assert_eq!(s.presence(&vid(BAIYU)), (2, 3));
    assert_eq!(s.presence(&vid(XINHUA)), (1, 3));
    assert_eq!(s.presence(&vid(MAIN)), (0, 3));
    // All venues at once says the same (what stats and turnout read).
    let all = s.presence_by_venue();
    for v in [BAIYU, XINHUA, MAIN] {
        assert_eq!(all[&vid(v)], s.presence(&vid(v)), "{v}");
    }
}

#[test]
fn checking_in_twice_is_already_done() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in(&mut s, "d04");
    for actor in [delegate_viewer("d04"), operator(BAIYU), mod_()] {
        assert_eq!(err(&mut s, &actor, Command::CheckIn { delegate: did("d04") }), AlreadyDone::CheckedIn(did("d04")).into());
    }
}

#[test]
fn check_in_is_closed_while_preparing() {
    let mut s = session();
    for actor in [delegate_viewer("d04"), operator(BAIYU), mod_()] {
        let e = err(&mut s, &actor, Command::CheckIn { delegate: did("d04") });
        assert_eq!(e, InvalidState::Phase(Phase::Preparing).into());
    }
    advance_to(&mut s, Phase::Closed);
    assert_eq!(err(&mut s, &mod_(), Command::CheckIn { delegate: did("d04") }), InvalidState::Phase(Phase::Closed).into());
}

#[test]
fn late_check_in_is_allowed_during_questioning_and_evaluation() {
    let mut s = session();
    advance_to(&mut s, Phase::Questioning);
    check_in(&mut s, "d01");
    advance_to(&mut s, Phase::Evaluation);
    check_in(&mut s, "d02");
    assert_eq!(err(&mut s, &mod_(), Command::CheckIn { delegate: did("zz") }), NotFound::Delegate(did("zz")).into());
}

#[test]
fn delegates_are_imported_only_while_preparing() {
    let mut s = session();
    let new = delegate("n01", DelegateLevel::Township, DONGCHENG);
    ok(&mut s, &mod_(), Command::ImportDelegates { delegates: vec![new.clone()] });
    assert_eq!(s.delegate(&did("n01")), Some(&new));
    assert_eq!(s.presence(&vid(DONGCHENG)), (0, 4));
    let e = err(&mut s, &mod_(), Command::ImportDelegates { delegates: vec![new.clone()] });
    assert_eq!(e, Invalid::Definition(DefinitionError::Duplicate { kind: "delegate", id: "n01".into() }).into());
    let lost = delegate("n02", DelegateLevel::Township, "atlantis");
    let e = err(&mut s, &mod_(), Command::ImportDelegates { delegates: vec![lost] });
    assert_eq!(e, Invalid::Definition(DefinitionError::UnknownVenue { delegate: "n02".into(), venue: "atlantis".into() }).into());
    advance_to(&mut s, Phase::CheckIn);
    let late = delegate("n03", DelegateLevel::Township, DONGCHENG);
    assert_eq!(err(&mut s, &mod_(), Command::ImportDelegates { delegates: vec![late] }), InvalidState::Phase(Phase::CheckIn).into());
}

// ---- evaluation -----------------------------------------------------------

#[test]
fn evaluation_opens_only_in_the_evaluation_phase() {
    let mut s = questioning();
    let e = err(&mut s, &mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[0])] });
    assert_eq!(e, InvalidState::Phase(Phase::Questioning).into());
}

#[test]
fn one_evaluation_is_open_at_a_time() {
    let mut s = evaluating();
    let e = err(&mut s, &mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[0])] });
    assert_eq!(e, InvalidState::EvaluationOpen.into());
    ok(&mut s, &mod_(), Command::CloseEvaluation { evaluation: EvaluationId(1) });
    let r = ok(&mut s, &mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[0])] });
    assert_eq!(r, Reply::Evaluation(EvaluationId(2)));
    assert_eq!(s.open_evaluation().map(|e| e.id), Some(EvaluationId(2)));
}

#[test]
fn evaluation_units_must_be_known_distinct_and_present() {
    let mut s = questioning();
    advance_to(&mut s, Phase::Evaluation);
    let open = |units: &[&str]| Command::OpenEvaluation { units: units.iter().map(|u| uid(u)).collect() };
    assert_eq!(err(&mut s, &mod_(), open(&[UNITS[0], "ghost"])), NotFound::Unit(uid("ghost")).into());
    assert_eq!(err(&mut s, &mod_(), open(&[UNITS[0], UNITS[1], UNITS[0]])), Invalid::DuplicateUnit.into());
    assert_eq!(err(&mut s, &mod_(), open(&[])), Invalid::Empty { field: "units" }.into());
    ok(&mut s, &mod_(), open(&[UNITS[1], UNITS[0]]));
    assert_eq!(s.evaluation(EvaluationId(1)).unwrap().units, vec![uid(UNITS[1]), uid(UNITS[0])]);
}

#[test]
fn a_ballot_needs_a_checked_in_delegate_and_an_open_evaluation_of_that_unit() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in(&mut s, "d01");
    advance_to(&mut s, Phase::Evaluation);

    // No evaluation yet.
    let e = err(&mut s, &delegate_viewer("d01"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(e, NotFound::Evaluation(EvaluationId(1)).into());

    ok(&mut s, &mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[0]), uid(UNITS[1])] });
    let e = err(&mut s, &delegate_viewer("d02"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(e, InvalidState::NotCheckedIn(did("d02")).into());
    let e = err(&mut s, &delegate_viewer("d01"), ballot("b1", 1, UNITS[2], Rating::Satisfied));
    assert_eq!(e, InvalidState::UnitNotInEvaluation { evaluation: EvaluationId(1), unit: uid(UNITS[2]) }.into());
    let e = err(&mut s, &delegate_viewer("d01"), ballot(" ", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(e, Invalid::Empty { field: "ballot_id" }.into());

    let r = ok(&mut s, &delegate_viewer("d01"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(r, Reply::Ballot { evaluation: EvaluationId(1), unit: uid(UNITS[0]), delegate: did("d01") });
    let b = &s.evaluation(EvaluationId(1)).unwrap().ballots[&(did("d01"), uid(UNITS[0]))];
    assert_eq!((b.rating, &b.venue, b.seq), (Rating::Satisfied, &vid(MAIN), s.seq()));

    // Checking in late makes a delegate eligible.
    check_in(&mut s, "d02");
    ok(&mut s, &delegate_viewer("d02"), ballot("b1", 1, UNITS[0], Rating::Dissatisfied));
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
    assert_eq!(again.reply, Reply::Ballot { evaluation: EvaluationId(1), unit: uid(UNITS[0]), delegate: did("d04") });
    assert_eq!(again.reply, first.reply);
    assert_eq!((s.seq(), &s), (seq, &before));
    // Ids are taken exactly as sent (the receipt echoes them): a padded id is
    // another id, and another ballot for the same unit is refused.
    let padded = ballot(" b-42 ", 1, UNITS[0], Rating::BasicallySatisfied);
    assert!(matches!(exec_events(&mut s, &delegate_viewer("d04"), padded, 3), Err(CommandError::AlreadyDone(AlreadyDone::Voted { .. }))));

    // Still answered after the close, so a client that lost the ack can finish.
    ok(&mut s, &mod_(), Command::CloseEvaluation { evaluation: EvaluationId(1) });
    let late = exec_events(&mut s, &delegate_viewer("d04"), cast, 4).unwrap();
    assert!(late.events.is_empty());
    assert_eq!(late.reply, first.reply);
}

#[test]
fn reusing_a_ballot_id_for_another_rating_or_unit_is_refused() {
    let mut s = evaluating();
    ok(&mut s, &delegate_viewer("d04"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
    let e = err(&mut s, &delegate_viewer("d04"), ballot("b1", 1, UNITS[0], Rating::Dissatisfied));
    assert_eq!(e, AlreadyDone::BallotIdReused("b1".into()).into());
    let e = err(&mut s, &delegate_viewer("d04"), ballot("b1", 1, UNITS[1], Rating::Satisfied));
    assert_eq!(e, AlreadyDone::BallotIdReused("b1".into()).into());
    // Another delegate's ids are their own business.
    ok(&mut s, &delegate_viewer("d05"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
}

#[test]
fn an_accepted_ballot_is_final() {
    let mut s = evaluating();
    ok(&mut s, &delegate_viewer("d04"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
    for rating in Rating::ALL {
        let e = err(&mut s, &delegate_viewer("d04"), ballot("b2", 1, UNITS[0], rating));
        assert_eq!(e, AlreadyDone::Voted { evaluation: EvaluationId(1), unit: uid(UNITS[0]) }.into());
    }
    // Other units are separate ballots.
    ok(&mut s, &delegate_viewer("d04"), ballot("b2", 1, UNITS[1], Rating::Dissatisfied));
    assert_eq!(s.evaluation(EvaluationId(1)).unwrap().ballots.len(), 2);
}

#[test]
fn no_ballot_after_the_close_and_no_second_close() {
    let mut s = evaluating();
    ok(&mut s, &mod_(), Command::CloseEvaluation { evaluation: EvaluationId(1) });
    let e = err(&mut s, &delegate_viewer("d04"), ballot("b1", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(e, InvalidState::EvaluationClosed(EvaluationId(1)).into());
    // Closing again is idempotent: no event, the same reply (the final results).
    let before = s.clone();
    let again = s.decide(&mod_(), &Command::CloseEvaluation { evaluation: EvaluationId(1) }, Millis(99)).unwrap();
    assert!(again.events.is_empty());
    assert_eq!(again.reply, Reply::Closed(EvaluationId(1)));
    assert_eq!(s, before);
    let e = err(&mut s, &mod_(), Command::CloseEvaluation { evaluation: EvaluationId(2) });
    assert_eq!(e, NotFound::Evaluation(EvaluationId(2)).into());
}

#[test]
fn results_at_close_count_by_venue_and_level_and_freeze_turnout() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    // 10 of 12 present: d06 and d12 are absent.
    for d in ["d01", "d02", "d03", "d04", "d05", "d07", "d08", "d09", "d10", "d11"] {
        check_in(&mut s, d);
    }
    advance_to(&mut s, Phase::Evaluation);
    ok(&mut s, &mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[0]), uid(UNITS[1])] });

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
        ok(&mut s, &delegate_viewer(d), ballot(&format!("{d}-t"), 1, UNITS[0], r));
    }
    // education: one voter who did not rate transport.
    ok(&mut s, &delegate_viewer("d03"), ballot("x", 1, UNITS[1], Dissatisfied));

    // Live turnout before the close.
    let ev = s.evaluation(EvaluationId(1)).unwrap().clone();
    assert_eq!((s.turnout(&ev).voted, s.turnout(&ev).eligible), (8, 10));

    ok(&mut s, &mod_(), Command::CloseEvaluation { evaluation: EvaluationId(1) });
    let ev = s.evaluation(EvaluationId(1)).unwrap().clone();
    assert_eq!(ev.status, EvaluationStatus::Closed);
    let results = ev.results.clone().expect("results are frozen at close");

    let t = &results.tally.by_unit[&uid(UNITS[0])];
    assert_eq!(t.total, RatingCounts { satisfied: 4, basically_satisfied: 2, dissatisfied: 1 });
    // 满意率 = (4 + 2) / 7 = 85.71%
    assert_eq!(t.total.satisfaction_rate_bp(), Some(8571));
    assert_eq!(t.by_venue[&vid(MAIN)], RatingCounts { satisfied: 2, basically_satisfied: 0, dissatisfied: 0 });
    assert_eq!(t.by_venue[&vid(BAIYU)], RatingCounts { satisfied: 0, basically_satisfied: 1, dissatisfied: 1 });
    assert_eq!(t.by_venue[&vid(XINHUA)], RatingCounts { satisfied: 1, basically_satisfied: 1, dissatisfied: 0 });
    assert_eq!(t.by_venue[&vid(DONGCHENG)], RatingCounts { satisfied: 1, basically_satisfied: 0, dissatisfied: 0 });
    let level = |l: DelegateLevel| t.by_level[l.index()];
    assert_eq!(level(DelegateLevel::Province), RatingCounts { satisfied: 2, basically_satisfied: 0, dissatisfied: 0 });
    assert_eq!(level(DelegateLevel::City), RatingCounts { satisfied: 2, basically_satisfied: 0, dissatisfied: 0 });
    assert_eq!(level(DelegateLevel::County), RatingCounts::default());
    assert_eq!(level(DelegateLevel::Township), RatingCounts { satisfied: 0, basically_satisfied: 2, dissatisfied: 0 });
    assert_eq!(level(DelegateLevel::StreetDeliberation), RatingCounts { satisfied: 0, basically_satisfied: 0, dissatisfied: 1 });

    let e = &results.tally.by_unit[&uid(UNITS[1])];
    assert_eq!(e.total, RatingCounts { satisfied: 0, basically_satisfied: 0, dissatisfied: 1 });
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
    ok(&mut s, &mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[2])] });
    let ev2 = s.evaluation(EvaluationId(2)).unwrap().clone();
    assert_eq!((s.turnout(&ev2).voted, s.turnout(&ev2).eligible), (0, 11));
}

#[test]
fn a_session_replays_to_the_same_state() {
    let mut log = Vec::new();
    let mut live = session();
    let script: Vec<(Viewer, Command)> = vec![
        (mod_(), Command::ImportDelegates { delegates: vec![delegate("n01", DelegateLevel::Township, BAIYU)] }),
        (delegate_viewer("d04"), submit_cmd("村道")),
        (mod_(), Command::AdvancePhase { to: Phase::CheckIn }),
        (delegate_viewer("n01"), Command::CheckIn { delegate: did("n01") }),
        (operator(BAIYU), Command::CheckIn { delegate: did("d04") }),
        (mod_(), Command::ApproveQuestion { question: QuestionId(1) }),
        (mod_(), Command::AdvancePhase { to: Phase::Questioning }),
        (mod_(), Command::GrantFloor { venue: vid(BAIYU), question: QuestionId(1), answer_seconds: None }),
        (mod_(), answer_cmd(None)),
        (delegate_viewer("n01"), Command::AddFollowUp { on_behalf_of: None, text: "追问".into() }),
        (mod_(), answer_cmd(Some(FollowUpId(1)))),
        (mod_(), Command::EndFloor),
        (mod_(), Command::AdvancePhase { to: Phase::Evaluation }),
        (mod_(), Command::OpenEvaluation { units: vec![uid(UNITS[0])] }),
        (delegate_viewer("n01"), ballot("x", 1, UNITS[0], Rating::Satisfied)),
        (delegate_viewer("d04"), ballot("y", 1, UNITS[0], Rating::Dissatisfied)),
        (mod_(), Command::CloseEvaluation { evaluation: EvaluationId(1) }),
        (mod_(), Command::AdvancePhase { to: Phase::Closed }),
    ];
    for (i, (actor, cmd)) in script.into_iter().enumerate() {
        let out = exec_events(&mut live, &actor, cmd.clone(), i as u64 * 1000).unwrap_or_else(|e| panic!("{cmd:?} refused: {e}"));
        log.extend(out.events);
    }
    let replayed = Session::replay(def(), &log).expect("log replays");
    assert_eq!(replayed, live);
    assert_eq!(replayed.seq(), log.len() as u64);
    assert_eq!(replayed.phase(), Phase::Closed);
    let r = replayed.evaluation(EvaluationId(1)).unwrap().results.clone().unwrap();
    assert_eq!(r.tally.by_unit[&uid(UNITS[0])].total.satisfaction_rate_bp(), Some(5000));
}

// ---- visibility -----------------------------------------------------------

#[test]
fn the_screen_always_sees_the_public_perspective() {
    let mut s = evaluating();
    let out = s.decide(&delegate_viewer("d04"), &ballot("b1", 1, UNITS[0], Rating::Satisfied), Millis(1)).unwrap();
    let changes = s.apply(&out.events[0]).unwrap();
    // The same changes, seen by different viewers.
    assert_eq!(Perspective::of(&Viewer::Screen, &changes), Perspective::Public);
    assert_eq!(Perspective::of(&Viewer::Screen, &[]), Perspective::Public);
    assert_eq!(Perspective::for_snapshot(&Viewer::Screen), Perspective::Public);
    assert_eq!(Perspective::of(&delegate_viewer("d04"), &changes), Perspective::Delegate(did("d04")));
    assert_eq!(Perspective::of(&delegate_viewer("d05"), &changes), Perspective::Public);
    assert_eq!(Perspective::of(&operator(BAIYU), &changes), Perspective::Public, "an operator does not see its delegates' ballots");
    assert_eq!(Perspective::of(&Viewer::Moderator, &changes), Perspective::Moderator);
    assert_eq!(Perspective::of(&Viewer::Auditor, &changes), Perspective::Auditor);
}

#[test]
fn the_public_sees_neither_pending_questions_nor_askers() {
    let mut s = questioning();
    let q = submit(&mut s, "d04", "待审的问题");
    let public = Perspective::Public;
    assert!(!public.sees_question(s.question(q).unwrap()));
    assert!(Perspective::Venue(vid(BAIYU)).sees_question(s.question(q).unwrap()), "the asker's venue sees it");
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
fn a_ballot_is_seen_only_by_its_caster() {
    let caster = did("d04");
    assert!(Perspective::Delegate(caster.clone()).sees_ballot(&caster));
    for p in [
        Perspective::Auditor,
        Perspective::Moderator,
        Perspective::Office,
        Perspective::Public,
        Perspective::Venue(vid(BAIYU)),
        Perspective::Delegate(did("d05")),
    ] {
        assert!(!p.sees_ballot(&caster), "{p:?} sees another's ballot");
    }
}
