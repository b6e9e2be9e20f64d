//! The per-credential connection cap: one credential may hold a small,
//! configured number of open connections (4 for a personal credential, 200
//! for the shared screen and auditor credentials by default). One more admits
//! the newest and closes the OLDEST with `replaced` (4409): a phone whose old
//! socket is half-dead can always get back in. Other credentials, and the
//! credential's other connections, are untouched.
//!
//! Nothing sleeps: each wait is for the next message, bounded by a guard;
//! "still works" is shown by a ping barrier and a live event.

mod common;

use common::*;
use wz_hub::{Connection, HubConfig, Outbound, PrincipalKey};
use wz_protocol::CloseCode;

async fn expect_close(c: &mut Connection, want: CloseCode) {
    loop {
        match next_out(&mut c.receiver).await {
            Outbound::Close(code) => {
                assert_eq!(code, want);
                assert!(c.receiver.next().await.is_none(), "nothing after the close");
                return;
            }
            // The snapshot (already read in these tests) or a stats.
            Outbound::Frame(_) => {}
        }
    }
}

/// The connection still works: the session answers its ping, with nothing
/// unexpected (such as a close) before the answer.
async fn still_works(c: &mut Connection) {
    assert!(barrier(c).await.is_empty(), "nothing unexpected queued");
}

#[tokio::test]
async fn the_fifth_connection_of_a_delegate_replaces_the_oldest() {
    let h = Harness::memory(quiet_config(), 6).await;
    assert_eq!(HubConfig::default().max_connections_per_credential, 4, "the documented default");
    let mut mine = Vec::new();
    for _ in 0..4 {
        mine.push(h.join(&delegate(0)).await.0);
    }
    let mut neighbours = Vec::new();
    for _ in 0..4 {
        neighbours.push(h.join(&delegate(1)).await.0);
    }
    // Four each: nobody was replaced.
    for c in mine.iter_mut().chain(neighbours.iter_mut()) {
        still_works(c).await;
    }

    let (mut newest, snap) = h.join(&delegate(0)).await;
    assert_eq!(snap["you"]["delegate"], "d01", "the newest is admitted");
    expect_close(&mut mine[0], CloseCode::Replaced).await;
    assert_eq!(CloseCode::Replaced.code(), 4409);

    // The other three of d01, the newest and the neighbours keep working.
    h.advance("check_in").await; // 1
    for c in mine[1..].iter_mut().chain(std::iter::once(&mut newest)).chain(neighbours.iter_mut()) {
        let ev = next_msg(&mut c.receiver).await;
        assert_eq!((ev["type"].as_str(), seq(&ev)), (Some("event"), 1), "{ev}");
        still_works(c).await;
    }
    // The replaced connection can no longer act.
    send(&mine[0], serde_json::json!({"type": "check_in", "id": "late", "delegate": "d01"})).await;
    let snap = h.snapshot(wz_domain::Viewer::Moderator).await;
    assert!(snap["checked_in"].as_array().unwrap().is_empty(), "{snap}");

    // Each further one replaces the then-oldest, one at a time.
    let (_sixth, _) = h.join(&delegate(0)).await;
    expect_close(&mut mine[1], CloseCode::Replaced).await;
    still_works(&mut mine[2]).await;
}

#[tokio::test]
async fn a_closed_connection_does_not_count() {
    let h = Harness::memory(quiet_config(), 6).await;
    let mut open: Vec<Connection> = Vec::new();
    for _ in 0..4 {
        open.push(h.join(&PrincipalKey::Moderator).await.0);
    }
    // The client of the second one went away.
    drop(open.remove(1));
    let (mut fourth, _) = h.join(&PrincipalKey::Moderator).await;
    for c in open.iter_mut().chain(std::iter::once(&mut fourth)) {
        still_works(c).await;
    }
}

#[tokio::test]
async fn shared_credentials_have_their_own_larger_cap() {
    assert_eq!(HubConfig::default().max_connections_per_shared_credential, 200, "the documented default");
    let config = HubConfig { max_connections_per_credential: 1, max_connections_per_shared_credential: 3, ..quiet_config() };
    let h = Harness::memory(config, 6).await;
    let mut screens = Vec::new();
    for _ in 0..3 {
        screens.push(h.join(&PrincipalKey::Screen).await.0);
    }
    let (mut auditor, _) = h.join(&PrincipalKey::Auditor).await;
    let (mut second_auditor, _) = h.join(&PrincipalKey::Auditor).await;
    for c in screens.iter_mut().chain([&mut auditor, &mut second_auditor]) {
        still_works(c).await;
    }
    let (mut fourth, _) = h.join(&PrincipalKey::Screen).await;
    expect_close(&mut screens[0], CloseCode::Replaced).await;
    for c in screens[1..].iter_mut().chain([&mut fourth, &mut auditor]) {
        still_works(c).await;
    }

    // A cap of 1 on personal credentials: each new one replaces the last.
    let (mut op, _) = h.join(&operator(BAIYU)).await;
    let (mut op2, _) = h.join(&operator(BAIYU)).await;
    expect_close(&mut op, CloseCode::Replaced).await;
    still_works(&mut op2).await;
    // A cap of 0 would lock the credential out: it is raised to 1.
    let h0 = Harness::memory(HubConfig { max_connections_per_credential: 0, ..quiet_config() }, 6).await;
    let (mut only, _) = h0.join(&delegate(2)).await;
    still_works(&mut only).await;
}
