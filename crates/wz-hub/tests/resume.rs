//! The resume matrix: what a (re)connecting client receives for every kind
//! of position it can present. A position is (epoch, seq); the epoch names
//! the session's incarnation, so a seq from another history never resumes.
//!
//! Every case asserts the exact sequence of messages (type and seq) the
//! client gets up to a ping barrier: the session answers in order, so what
//! the connect queued arrives before the ping's ack. Stats are only sent on
//! connect (the periodic ones are an hour apart here), so they are part of
//! the exact list. Nothing sleeps.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use wz_domain::Viewer;
use wz_hub::{Connection, Hub, PrincipalKey};
use wz_protocol::{Epoch, Position};
use wz_store::{DynStore, MemoryStore};

/// Everything the connection received before the ack of a fresh ping, as
/// (type, seq), and the messages themselves.
async fn received(conn: &mut Connection) -> (Vec<(String, u64)>, Vec<Value>) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = format!("matrix-{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    send(conn, json!({"type": "ping", "id": id})).await;
    let mut out = Vec::new();
    loop {
        let v = next_json(&mut conn.receiver).await;
        if is_type(&v, "ack") && v["id"] == id {
            let kinds = out.iter().map(|m: &Value| (m["type"].as_str().unwrap().to_owned(), seq(m))).collect();
            return (kinds, out);
        }
        out.push(v);
    }
}

fn kinds(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(t, s)| ((*t).to_owned(), *s)).collect()
}

/// A session at seq 4: check-in phase (1), d01, d02, d03 checked in (2..=4).
async fn at_seq_4(h: &Harness) {
    h.advance("check_in").await;
    for i in 0..3 {
        h.check_in(i).await;
    }
}

fn other_epoch(e: Epoch) -> Epoch {
    let mut bits = u64::from_str_radix(&e.to_string(), 16).unwrap();
    bits ^= 1;
    Epoch::new(bits)
}

#[tokio::test]
async fn every_snapshot_names_the_epoch_and_it_is_the_same_for_every_viewer() {
    let h = Harness::memory(quiet_config(), 6).await;
    let (_m, snap) = h.join(&PrincipalKey::Moderator).await;
    let epoch = snap["epoch"].as_str().unwrap().to_owned();
    assert!(Epoch::parse(&epoch).is_some(), "16 lowercase hex digits: {epoch}");
    for key in [PrincipalKey::Screen, PrincipalKey::Auditor, operator(BAIYU), delegate(1)] {
        let (_c, s) = h.join(&key).await;
        assert_eq!(s["epoch"], epoch.as_str(), "{key}");
    }
    // Another session (or the same one created again) gets another epoch.
    let other = Harness::memory(quiet_config(), 6).await;
    assert_ne!(other.epoch().await.to_string(), epoch);
}

#[tokio::test]
async fn empty_history_resume_from_zero_gets_only_stats() {
    let h = Harness::memory(quiet_config(), 6).await;
    let epoch = h.epoch().await;
    let mut c = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 0 })).await;
    assert_eq!(received(&mut c).await.0, kinds(&[("stats", 0)]));
    // No position at all: the snapshot of the empty session.
    let mut fresh = h.connect_from(&PrincipalKey::Moderator, None).await;
    assert_eq!(received(&mut fresh).await.0, kinds(&[("snapshot", 0)]));
}

#[tokio::test]
async fn from_a_position_gets_exactly_the_missed_events_then_stats() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    let epoch = h.epoch().await;
    let mut c = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 1 })).await;
    let (got, msgs) = received(&mut c).await;
    assert_eq!(got, kinds(&[("event", 2), ("event", 3), ("event", 4), ("stats", 4)]));
    assert!(msgs[..3].iter().all(|m| m["kind"] == "checked_in"));
    // From zero: the whole history, which the window still holds.
    let mut all = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 0 })).await;
    let (got, _) = received(&mut all).await;
    assert_eq!(got, kinds(&[("event", 1), ("event", 2), ("event", 3), ("event", 4), ("stats", 4)]));
}

#[tokio::test]
async fn from_the_latest_gets_only_stats_and_then_live_events() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    let epoch = h.epoch().await;
    let mut c = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 4 })).await;
    assert_eq!(received(&mut c).await.0, kinds(&[("stats", 4)]));
    h.check_in(3).await;
    assert_eq!(received(&mut c).await.0, kinds(&[("event", 5)]));
}

#[tokio::test]
async fn ahead_of_the_server_gets_a_snapshot() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    let epoch = h.epoch().await;
    for seq in [5, 1_000, u64::MAX] {
        let mut c = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq })).await;
        assert_eq!(received(&mut c).await.0, kinds(&[("snapshot", 4)]), "since={seq}");
    }
}

#[tokio::test]
async fn a_wrong_epoch_gets_a_snapshot_even_where_the_window_holds_the_seq() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    let wrong = other_epoch(h.epoch().await);
    for seq in [0, 1, 3, 4] {
        let mut c = h.connect_from(&delegate(0), Some(Position { epoch: wrong, seq })).await;
        let (got, msgs) = received(&mut c).await;
        assert_eq!(got, kinds(&[("snapshot", 4)]), "since={seq} in another epoch");
        assert_eq!(msgs[0]["epoch"], h.epoch().await.to_string(), "the snapshot names the right epoch");
    }
}

#[tokio::test]
async fn a_missing_epoch_gets_a_snapshot() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    // `?since=2` without `epoch`, read the way the server reads `/ws`.
    let from = wz_protocol::epoch::resume_position(Some("2"), None).unwrap();
    assert_eq!(from, None);
    let mut c = h.connect_from(&PrincipalKey::Moderator, from).await;
    assert_eq!(received(&mut c).await.0, kinds(&[("snapshot", 4)]));
}

#[tokio::test]
async fn history_lost_by_a_restart_gets_a_snapshot_but_the_epoch_survives_it() {
    let store: DynStore = Arc::new(MemoryStore::new());
    let h = Harness::start(store.clone(), quiet_config(), "s1", 6).await;
    at_seq_4(&h).await;
    let epoch = h.epoch().await;

    // The restarted hub rebuilds the session from the store: same epoch,
    // but an empty resume window.
    let hub2 = Hub::new(store, quiet_config());
    hub2.load_all().await.unwrap();
    let p = hub2.authenticate(&h.token(&PrincipalKey::Moderator)).unwrap();
    let snap: Value = serde_json::from_str(&hub2.snapshot("s1", Viewer::Moderator).await.unwrap()).unwrap();
    assert_eq!(snap["epoch"], epoch.to_string(), "the epoch comes from the store, not the process");

    let mut behind = hub2.connect(&p, Some(Position { epoch, seq: 2 })).await.unwrap();
    assert_eq!(received(&mut behind).await.0, kinds(&[("snapshot", 4)]), "events 3..=4 are no longer in memory");
    let mut current = hub2.connect(&p, Some(Position { epoch, seq: 4 })).await.unwrap();
    assert_eq!(received(&mut current).await.0, kinds(&[("stats", 4)]), "up to date across the restart");
}

#[tokio::test]
async fn history_older_than_the_window_gets_a_snapshot() {
    let config = wz_hub::HubConfig { resume_window: 2, ..quiet_config() };
    let h = Harness::memory(config, 6).await;
    at_seq_4(&h).await; // the window holds 3..=4
    let epoch = h.epoch().await;
    let mut edge = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 2 })).await;
    assert_eq!(received(&mut edge).await.0, kinds(&[("event", 3), ("event", 4), ("stats", 4)]));
    let mut old = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 1 })).await;
    assert_eq!(received(&mut old).await.0, kinds(&[("snapshot", 4)]));
}

#[tokio::test]
async fn a_client_that_received_nothing_before_it_dropped_gets_everything_on_its_retry() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    let epoch = h.epoch().await;

    // A first connection that dropped before reading anything: it has no
    // snapshot, hence no position, and its retry is a first connection.
    drop(h.connect_from(&delegate(0), None).await);
    let mut retry = h.connect_from(&delegate(0), None).await;
    assert_eq!(received(&mut retry).await.0, kinds(&[("snapshot", 4)]));
    drop(retry);

    // A resume that dropped before its catch-up arrived: the same position
    // again gets the same events, plus what happened in between.
    drop(h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 2 })).await);
    h.check_in(3).await; // 5
    let mut again = h.connect_from(&PrincipalKey::Moderator, Some(Position { epoch, seq: 2 })).await;
    assert_eq!(received(&mut again).await.0, kinds(&[("event", 3), ("event", 4), ("event", 5), ("stats", 5)]));
}

#[tokio::test]
async fn a_delegate_resuming_gets_only_the_events_it_may_see() {
    let h = Harness::memory(quiet_config(), 6).await;
    at_seq_4(&h).await;
    h.moderate(json!({"type": "advance_phase", "id": "q", "to": "questioning"})).await; // 5
    // 6: a pending question of d03: staff, the asker and its operator only.
    h.moderate(json!({"type": "submit_question", "id": "s", "on_behalf_of": "d03", "topic": "t1", "unit": "u1", "text": "修路"})).await;
    let epoch = h.epoch().await;
    // d02 (baiyu) missed every check-in (public presence, its own in full)
    // and the phase, but not the pending question of d03 (6): the stats
    // that close the catch-up still say seq 6.
    let mut c = h.connect_from(&delegate(1), Some(Position { epoch, seq: 1 })).await;
    let (got, msgs) = received(&mut c).await;
    assert_eq!(got, kinds(&[("event", 2), ("event", 3), ("event", 4), ("event", 5), ("stats", 6)]));
    assert!(msgs[..2].iter().all(|m| !m.to_string().contains("\"d01\"")), "other delegates' check-ins only as presence");
}
