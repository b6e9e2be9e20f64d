//! Undoing a check-in made by mistake (issue 10): the moderator or the
//! delegate's venue operator, with a reason, before the evaluation; the
//! delegate is no longer present (nor eligible), and may check in again.

mod common;

use common::*;
use wz_domain::{Command, CommandError, Forbidden, Invalid, InvalidState, NotFound, Phase};

fn undo(d: &str, reason: &str) -> Command {
    Command::UndoCheckIn { delegate: did(d), reason: reason.into() }
}

#[test]
fn the_venue_operator_takes_a_check_in_back_with_a_reason() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in(&mut s, "d04");
    assert_eq!(s.presence(&vid(BAIYU)).0, 1);
    ok(&mut s, &operator(BAIYU), undo("d04", "点错了人"));
    assert!(!s.checked_in().contains_key(&did("d04")));
    assert_eq!(s.presence(&vid(BAIYU)).0, 0);
    // And the delegate may check in again.
    check_in(&mut s, "d04");
    assert!(s.checked_in().contains_key(&did("d04")));
}

#[test]
fn bad_undos_are_refused_and_change_nothing() {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in(&mut s, "d04");
    assert!(matches!(err(&mut s, &operator(XINHUA), undo("d04", "x")), CommandError::Forbidden(Forbidden::OtherVenue)));
    assert!(matches!(err(&mut s, &delegate_viewer("d04"), undo("d04", "x")), CommandError::Forbidden(_)));
    assert!(matches!(err(&mut s, &moderator(), undo("d05", "x")), CommandError::InvalidState(InvalidState::NotCheckedIn(_))));
    assert!(matches!(err(&mut s, &moderator(), undo("nobody", "x")), CommandError::NotFound(NotFound::Delegate(_))));
    assert!(matches!(err(&mut s, &moderator(), undo("d04", "  ")), CommandError::Invalid(Invalid::Empty { .. })));
    // From the evaluation on, who checked in is who is eligible.
    advance_to(&mut s, Phase::Evaluation);
    assert!(matches!(err(&mut s, &moderator(), undo("d04", "误签")), CommandError::InvalidState(InvalidState::Phase(Phase::Evaluation))));
}
