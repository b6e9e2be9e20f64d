//! The check-in policy of the session definition (issue 10): who may check
//! a delegate in, and the request a delegate makes under `Confirmed`.

mod common;

use common::*;
use wz_domain::{AlreadyDone, CheckInPolicy, Command, CommandError, Forbidden, InvalidState, NotFound, Phase, Session};

fn with(policy: CheckInPolicy) -> Session {
    let mut s = Fixture::default().check_in(policy).session();
    advance_to(&mut s, Phase::CheckIn);
    s
}

fn self_check_in(d: &str) -> Command {
    Command::CheckIn { delegate: did(d) }
}

fn decline(d: &str, reason: Option<&str>) -> Command {
    Command::DeclineCheckIn { delegate: did(d), reason: reason.map(str::to_owned) }
}

#[test]
fn a_definition_says_operator_unless_it_says_otherwise() {
    assert_eq!(CheckInPolicy::default(), CheckInPolicy::Operator);
}

#[test]
fn under_operator_only_the_station_or_the_moderator_checks_in() {
    let mut s = with(CheckInPolicy::Operator);
    let before = s.clone();
    let e = err(&mut s, &delegate_viewer("d04"), self_check_in("d04"));
    assert_eq!(e, CommandError::Forbidden(Forbidden::CheckInPolicy(CheckInPolicy::Operator)));
    assert!(e.to_string().contains("check-in desk"), "{e}");
    // Nor may the delegate ask: there is nothing to confirm.
    let e = err(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    assert_eq!(e, CommandError::Forbidden(Forbidden::CheckInPolicy(CheckInPolicy::Operator)));
    assert_eq!(s, before, "refused commands change nothing");
    ok(&mut s, &operator(BAIYU), self_check_in("d04"));
    ok(&mut s, &moderator(), self_check_in("d05"));
    assert!(s.is_checked_in(&did("d04")) && s.is_checked_in(&did("d05")));
    assert!(s.checked_in()[&did("d04")].by_operator);
}

#[test]
fn under_self_service_the_delegate_checks_in_and_has_nothing_to_request() {
    let mut s = with(CheckInPolicy::SelfService);
    ok(&mut s, &delegate_viewer("d04"), self_check_in("d04"));
    assert!(!s.checked_in()[&did("d04")].by_operator);
    let e = err(&mut s, &delegate_viewer("d05"), Command::RequestCheckIn);
    assert_eq!(e, CommandError::Forbidden(Forbidden::CheckInPolicy(CheckInPolicy::SelfService)));
}

#[test]
fn under_confirmed_the_delegate_asks_and_the_station_confirms() {
    let mut s = with(CheckInPolicy::Confirmed);
    // Checking oneself in is refused, with the way to do it.
    let e = err(&mut s, &delegate_viewer("d04"), self_check_in("d04"));
    assert_eq!(e, CommandError::Forbidden(Forbidden::CheckInPolicy(CheckInPolicy::Confirmed)));
    assert!(e.to_string().contains("request_check_in"), "{e}");
    let out = exec_events(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn, 10).unwrap();
    assert_eq!(out.events.len(), 1);
    assert_eq!(s.check_in_requests().get(&did("d04")), Some(&wz_domain::Millis(10)));
    assert!(!s.is_checked_in(&did("d04")), "a request is not a check-in");
    // Asking again while pending is acknowledged and changes nothing.
    let before = s.clone();
    let again = exec_events(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn, 20).unwrap();
    assert!(again.events.is_empty());
    assert_eq!(s, before);
    // Another venue's operator may not confirm it; the delegate's may.
    assert!(matches!(err(&mut s, &operator(XINHUA), self_check_in("d04")), CommandError::Forbidden(Forbidden::OtherVenue)));
    ok(&mut s, &operator(BAIYU), self_check_in("d04"));
    assert!(s.is_checked_in(&did("d04")));
    assert!(s.check_in_requests().is_empty(), "the check-in settles the request");
    // Once checked in there is nothing left to ask for.
    let e = err(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    assert_eq!(e, CommandError::AlreadyDone(AlreadyDone::CheckedIn(did("d04"))));
}

#[test]
fn the_station_declines_with_or_without_a_reason_and_the_delegate_may_ask_again() {
    let mut s = with(CheckInPolicy::Confirmed);
    ok(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    ok(&mut s, &delegate_viewer("d05"), Command::RequestCheckIn);
    let out = exec_events(&mut s, &operator(BAIYU), decline("d04", Some(" 本人未到场 ")), 30).unwrap();
    assert_eq!(
        out.events,
        vec![wz_domain::Event::CheckInDeclined { delegate: did("d04"), reason: Some("本人未到场".into()), at: wz_domain::Millis(30) }]
    );
    // A blank reason is no reason.
    let out = exec_events(&mut s, &moderator(), decline("d05", Some("  ")), 31).unwrap();
    assert!(matches!(&out.events[0], wz_domain::Event::CheckInDeclined { reason: None, .. }));
    assert!(s.check_in_requests().is_empty());
    assert!(!s.is_checked_in(&did("d04")));
    ok(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    assert!(s.check_in_requests().contains_key(&did("d04")));
}

#[test]
fn bad_declines_are_refused_and_change_nothing() {
    let mut s = with(CheckInPolicy::Confirmed);
    ok(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    let before = s.clone();
    assert!(matches!(err(&mut s, &operator(XINHUA), decline("d04", None)), CommandError::Forbidden(Forbidden::OtherVenue)));
    assert!(matches!(err(&mut s, &delegate_viewer("d04"), decline("d04", None)), CommandError::Forbidden(Forbidden::Role)));
    assert!(matches!(err(&mut s, &delegate_viewer("d05"), decline("d04", None)), CommandError::Forbidden(Forbidden::Role)));
    assert_eq!(err(&mut s, &operator(BAIYU), decline("d05", None)), CommandError::InvalidState(InvalidState::NoCheckInRequest(did("d05"))));
    assert!(matches!(err(&mut s, &moderator(), decline("nobody", None)), CommandError::NotFound(NotFound::Delegate(_))));
    let long = "长".repeat(201);
    assert!(matches!(err(&mut s, &moderator(), decline("d04", Some(&long))), CommandError::Invalid(_)));
    assert_eq!(s, before);
}

#[test]
fn requests_follow_the_check_in_phases() {
    let mut s = Fixture::default().check_in(CheckInPolicy::Confirmed).session();
    assert_eq!(
        err(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn),
        CommandError::InvalidState(InvalidState::Phase(Phase::Preparing))
    );
    // Late arrivals ask during questioning and the evaluation too.
    advance_to(&mut s, Phase::Questioning);
    ok(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    advance_to(&mut s, Phase::Evaluation);
    ok(&mut s, &delegate_viewer("d05"), Command::RequestCheckIn);
    ok(&mut s, &operator(BAIYU), self_check_in("d05"));
    // At the close, check-in is over and an unanswered request lapses.
    advance_to(&mut s, Phase::Closed);
    assert!(s.check_in_requests().is_empty());
    assert_eq!(
        err(&mut s, &delegate_viewer("d06"), Command::RequestCheckIn),
        CommandError::InvalidState(InvalidState::Phase(Phase::Closed))
    );
}

#[test]
fn only_a_delegate_asks_and_staff_never_need_to() {
    let mut s = with(CheckInPolicy::Confirmed);
    for who in [moderator(), operator(BAIYU)] {
        assert!(matches!(err(&mut s, &who, Command::RequestCheckIn), CommandError::Forbidden(Forbidden::Role)));
    }
}

#[test]
fn an_undone_check_in_may_be_asked_for_again() {
    let mut s = with(CheckInPolicy::Confirmed);
    ok(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    ok(&mut s, &operator(BAIYU), self_check_in("d04"));
    ok(&mut s, &operator(BAIYU), Command::UndoCheckIn { delegate: did("d04"), reason: "点错了人".into() });
    assert!(s.check_in_requests().is_empty(), "the undo makes no request");
    ok(&mut s, &delegate_viewer("d04"), Command::RequestCheckIn);
    assert!(s.check_in_requests().contains_key(&did("d04")));
}
