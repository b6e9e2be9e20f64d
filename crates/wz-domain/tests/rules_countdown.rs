//! The answer countdown under the moderator's hand (issue 10): pause it,
//! resume it from the seconds that were left, give a minute more; every
//! other attempt is refused with a typed error and changes nothing.

mod common;

use common::*;
use wz_domain::{AlreadyDone, Command, CommandError, Forbidden, Invalid, InvalidState, Millis, Session, Viewer};

/// A session with question 1 on the floor, its countdown 120 s from `t0`.
fn on_floor() -> (Session, u64) {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "路灯什么时候修？");
    ok(&mut s, &moderator(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: Some(120) });
    let t0 = s.floor().unwrap().countdown_started_at.0;
    (s, t0)
}

fn at(s: &mut Session, actor: &Viewer, cmd: Command, now: u64) -> Result<(), CommandError> {
    exec(s, actor, cmd, now).map(|_| ())
}

#[test]
fn pause_keeps_the_seconds_left_and_resume_runs_from_them() {
    let (mut s, t0) = on_floor();
    // 30.2 s in: 89.8 s left, shown as 90.
    at(&mut s, &moderator(), Command::PauseCountdown, t0 + 30_200).unwrap();
    assert_eq!(s.floor().unwrap().paused_remaining, Some(90));
    // Five minutes of pause do not count.
    at(&mut s, &moderator(), Command::ResumeCountdown, t0 + 330_000).unwrap();
    let f = s.floor().unwrap();
    assert_eq!((f.paused_remaining, f.countdown_seconds, f.countdown_started_at), (None, 90, Millis(t0 + 330_000)));
}

#[test]
fn a_minute_more_while_running_or_paused() {
    let (mut s, t0) = on_floor();
    at(&mut s, &moderator(), Command::ExtendCountdown { seconds: 60 }, t0 + 1_000).unwrap();
    assert_eq!(s.floor().unwrap().countdown_seconds, 180);
    // 61 s into its 180: 119 left, then a minute more.
    at(&mut s, &moderator(), Command::PauseCountdown, t0 + 61_000).unwrap();
    at(&mut s, &moderator(), Command::ExtendCountdown { seconds: 60 }, t0 + 62_000).unwrap();
    assert_eq!(s.floor().unwrap().paused_remaining, Some(179));
    // Restarting clears the pause.
    at(&mut s, &moderator(), Command::StartCountdown { seconds: 120 }, t0 + 63_000).unwrap();
    assert_eq!(s.floor().unwrap().paused_remaining, None);
}

#[test]
fn bad_countdown_commands_are_refused_and_change_nothing() {
    let mut empty = questioning();
    assert!(matches!(err(&mut empty, &moderator(), Command::PauseCountdown), CommandError::InvalidState(InvalidState::FloorEmpty)));
    let (mut s, _) = on_floor();
    assert!(matches!(err(&mut s, &operator(BAIYU), Command::PauseCountdown), CommandError::Forbidden(Forbidden::ModeratorOnly)));
    assert!(matches!(err(&mut s, &moderator(), Command::ResumeCountdown), CommandError::InvalidState(InvalidState::CountdownRunning)));
    assert!(matches!(err(&mut s, &moderator(), Command::ExtendCountdown { seconds: 0 }), CommandError::Invalid(Invalid::Countdown { .. })));
    let max = s.def().limits.max_answer_seconds;
    ok(&mut s, &moderator(), Command::ExtendCountdown { seconds: max });
    assert!(
        matches!(err(&mut s, &moderator(), Command::ExtendCountdown { seconds: max }), CommandError::Invalid(Invalid::Countdown { .. })),
        "beyond twice the longest answer"
    );
    ok(&mut s, &moderator(), Command::PauseCountdown);
    assert!(matches!(err(&mut s, &moderator(), Command::PauseCountdown), CommandError::AlreadyDone(AlreadyDone::Paused)));
}

/// Who speaks (issue 10): the floor names the askers of its question from
/// its venue, by name and level, as announced at the grant.
#[test]
fn the_floor_names_the_askers_from_its_venue() {
    use wz_domain::{DelegateLevel, Speaker};
    let mut s = questioning();
    let into = approved(&mut s, "d04", "路灯什么时候修？");
    let from = approved(&mut s, "d07", "新华路的路灯也坏了。");
    let from_baiyu = approved(&mut s, "d05", "白羽街道的路灯呢？");
    ok(&mut s, &moderator(), Command::MergeQuestion { question: from, into });
    ok(&mut s, &moderator(), Command::MergeQuestion { question: from_baiyu, into });
    ok(&mut s, &moderator(), Command::GrantFloor { venue: vid(BAIYU), question: into, answer_seconds: None });
    // d07 asked too, but from 新华 (XINHUA): not announced on baiyu's floor.
    assert_eq!(
        s.floor().unwrap().speakers,
        [
            Speaker { name: "代表d04".into(), level: DelegateLevel::Township },
            Speaker { name: "代表d05".into(), level: DelegateLevel::StreetDeliberation },
        ]
    );
}
