//! Announcements (会场通知, issue 10): the moderator announces to everyone or
//! to chosen venues, clears one; an addressed venue's operator acknowledges
//! it once; everything else is refused with a typed error and changes nothing.

mod common;

use common::*;
use wz_domain::announce::{AnnouncementCommand as A, AnnouncementId, MAX_ANNOUNCEMENT_CHARS, MAX_ANNOUNCEMENTS};
use wz_domain::{
    AlreadyDone, Change, Command, CommandError, Forbidden, Invalid, InvalidState, NotFound, Perspective, Phase, Reply, Viewer,
};

fn make(text: &str, venues: &[&str]) -> Command {
    Command::Announcement(A::Make { text: text.into(), venues: venues.iter().map(|v| vid(v)).collect() })
}
fn clear(id: u32) -> Command {
    Command::Announcement(A::Clear { announcement: AnnouncementId(id) })
}
fn seen(id: u32) -> Command {
    Command::Announcement(A::Seen { announcement: AnnouncementId(id) })
}

#[test]
fn the_moderator_announces_to_everyone_or_to_chosen_venues_in_any_live_phase() {
    let mut s = session();
    assert_eq!(ok(&mut s, &moderator(), make("  请各分会场十分钟后入座  ", &[])), Reply::Announcement(AnnouncementId(1)));
    advance_to(&mut s, Phase::Questioning);
    assert_eq!(ok(&mut s, &moderator(), make("白羽街道请调整麦克风", &[BAIYU])), Reply::Announcement(AnnouncementId(2)));
    let all: Vec<_> = s.announcements().iter().collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].text, "请各分会场十分钟后入座", "stored trimmed");
    assert!(all[0].to_everyone() && all[0].addresses(&vid(XINHUA)));
    assert!(all[1].addresses(&vid(BAIYU)) && !all[1].addresses(&vid(XINHUA)));
    // Closing the session does not stop the moderator from thanking everyone.
    advance_to(&mut s, Phase::Closed);
    ok(&mut s, &moderator(), make("感谢各位代表参加", &[]));
}

#[test]
fn only_the_moderator_announces_and_bad_input_is_refused() {
    let mut s = questioning();
    for who in [operator(BAIYU), delegate_viewer("d01"), Viewer::Office] {
        assert!(matches!(err(&mut s, &who, make("休会", &[])), CommandError::Forbidden(_)), "{who:?}");
    }
    assert!(matches!(err(&mut s, &Viewer::Screen, make("休会", &[])), CommandError::Forbidden(Forbidden::ReadOnly)));
    assert!(matches!(err(&mut s, &moderator(), make("   ", &[])), CommandError::Invalid(Invalid::Empty { .. })));
    let long = "通".repeat(MAX_ANNOUNCEMENT_CHARS + 1);
    assert!(matches!(err(&mut s, &moderator(), make(&long, &[])), CommandError::Invalid(Invalid::TooLong { .. })));
    assert!(matches!(err(&mut s, &moderator(), make("x", &["nowhere"])), CommandError::NotFound(NotFound::Venue(_))));
    assert!(matches!(err(&mut s, &moderator(), make("x", &[BAIYU, BAIYU])), CommandError::Invalid(Invalid::DuplicateVenue)));
    ok(&mut s, &moderator(), make(&"通".repeat(MAX_ANNOUNCEMENT_CHARS), &[]));
}

#[test]
fn a_session_holds_at_most_the_documented_number_of_announcements() {
    let mut s = questioning();
    for i in 0..MAX_ANNOUNCEMENTS {
        ok(&mut s, &moderator(), make(&format!("通知 {i}"), &[]));
    }
    assert!(matches!(err(&mut s, &moderator(), make("再来一条", &[])), CommandError::Invalid(Invalid::TooMany { .. })));
}

#[test]
fn an_addressed_venue_acknowledges_once_and_a_cleared_one_is_off() {
    let mut s = questioning();
    ok(&mut s, &moderator(), make("请准备测评", &[]));
    ok(&mut s, &moderator(), make("白羽街道请调整麦克风", &[BAIYU]));
    ok(&mut s, &operator(BAIYU), seen(1));
    ok(&mut s, &operator(BAIYU), seen(2));
    ok(&mut s, &operator(XINHUA), seen(1));
    assert!(matches!(err(&mut s, &operator(XINHUA), seen(2)), CommandError::Forbidden(Forbidden::OtherVenue)), "not addressed");
    assert!(matches!(err(&mut s, &operator(BAIYU), seen(1)), CommandError::AlreadyDone(AlreadyDone::Seen(_))));
    assert!(matches!(err(&mut s, &delegate_viewer("d01"), seen(1)), CommandError::Forbidden(_)));
    assert!(matches!(err(&mut s, &moderator(), seen(1)), CommandError::Forbidden(_)));
    assert!(matches!(err(&mut s, &operator(BAIYU), seen(9)), CommandError::NotFound(NotFound::Announcement(_))));
    let a = s.announcements().get(AnnouncementId(1)).unwrap();
    assert_eq!(a.seen.keys().map(|v| v.0.as_str()).collect::<Vec<_>>(), [BAIYU, XINHUA]);

    ok(&mut s, &moderator(), clear(1));
    assert!(s.announcements().get(AnnouncementId(1)).unwrap().cleared_at.is_some());
    assert!(matches!(err(&mut s, &moderator(), clear(1)), CommandError::AlreadyDone(AlreadyDone::Cleared(_))));
    assert!(matches!(err(&mut s, &operator(DONGCHENG), seen(1)), CommandError::InvalidState(InvalidState::AnnouncementCleared(_))));
    assert!(matches!(err(&mut s, &operator(BAIYU), clear(2)), CommandError::Forbidden(Forbidden::ModeratorOnly)));
}

#[test]
fn an_announcement_concerns_the_venues_it_addresses() {
    let mut s = questioning();
    let out = exec_events(&mut s, &moderator(), make("白羽街道请调整麦克风", &[BAIYU]), 1_700_000_100_000).unwrap();
    let changes = s.clone().apply(&out.events[0]).err();
    assert!(changes.is_some(), "an event applies once");
    let mut fresh = questioning();
    let changes = fresh.apply(&out.events[0]).unwrap();
    assert!(matches!(&changes[..], [Change::Announcement(_)]));
    assert_eq!(Perspective::of(&operator(BAIYU), &changes), Perspective::Venue(vid(BAIYU)));
    assert_eq!(Perspective::of(&operator(XINHUA), &changes), Perspective::Public);
}

#[test]
fn the_archived_session_takes_no_announcement() {
    let mut s = questioning();
    advance_to(&mut s, Phase::Closed);
    // Archiving needs every issued item closed: nothing was issued here.
    ok(&mut s, &Viewer::Office, Command::AdvancePhase { to: Phase::Archived });
    assert!(matches!(err(&mut s, &moderator(), make("x", &[])), CommandError::InvalidState(InvalidState::Phase(Phase::Archived))));
}
