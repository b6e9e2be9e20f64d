//! The actor while its store misbehaves: a write that stalls does not stall
//! read-only work (pings, connects, snapshots, stats), and nothing is
//! acknowledged before it confirms; a store whose persistence settings
//! become unsafe at run time pauses evaluations (`unavailable`, naming the
//! setting, shown live in `warnings`) until they are safe again; and event
//! times never go backwards when the clock does.
//!
//! No test sleeps: each waits for the next message, bounded by a timeout
//! that only fires when the test has already failed.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wz_domain::{Millis, Viewer};
use wz_hub::{HubConfig, PrincipalKey};

/// Stats and the probe fast enough to see them change within a test.
fn fast_health() -> HubConfig {
    HubConfig {
        stats_interval: Duration::from_millis(50),
        health_interval: Duration::from_millis(100),
        health_timeout: Duration::from_millis(300),
        ..HubConfig::default()
    }
}

fn events(msgs: &[Value]) -> Vec<&Value> {
    msgs.iter().filter(|v| is_type(v, "event")).collect()
}

/// Frames already queued for the connection, without waiting, minus stats.
fn queued(c: &mut wz_hub::Connection) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(b) = c.receiver.try_next() {
        let v: Value = serde_json::from_slice(&b).unwrap();
        if !is_type(&v, "stats") {
            out.push(v);
        }
    }
    out
}

fn warnings(stats: &Value) -> Vec<String> {
    stats["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn read_only_work_is_served_while_a_write_is_stalled() {
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), fast_health(), "s1", 6).await;
    h.advance("check_in").await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    let (mut op, _) = h.join(&operator(BAIYU)).await;

    store.stall();
    send(&moderator, json!({"type": "check_in", "id": "in-1", "delegate": "d01"})).await;
    store.until_held(1).await;
    // Behind its own connection's command: waits for it.
    send(&moderator, json!({"type": "ping", "id": "p-mod"})).await;

    // Another connection's ping is answered now, with the confirmed seq.
    let (seen, pong) = call(&mut op, json!({"type": "ping", "id": "p-op"})).await;
    assert!(events(&seen).is_empty(), "{seen:?}");
    assert_eq!((pong["type"].as_str(), seq(&pong)), (Some("ack"), 1));
    // A new connection gets its snapshot: the confirmed state.
    let (d2, snap) = h.join(&delegate(1)).await;
    assert_eq!(seq(&snap), 1);
    // A REST snapshot returns, without the unconfirmed check-in.
    let rest = h.snapshot(Viewer::Moderator).await;
    assert_eq!(rest["seq"], 1);
    assert_eq!(rest["checked_in"], json!([]));
    // A disconnect does not wait either (the next stats count without it).
    drop(d2);
    // Clients learn that the store is unavailable.
    until(&mut op.receiver, |v| is_type(v, "stats") && v["store_available"] == false).await;
    // Nothing was acknowledged or shown to the moderator meanwhile (p-op's
    // ack was sent after p-mod reached the session).
    assert_eq!(queued(&mut moderator), Vec::<Value>::new(), "nothing before the write confirms");

    store.unstall();
    let (seen, ack) = answer(&mut moderator.receiver, "in-1").await;
    assert_eq!((ack["type"].as_str(), seq(&ack)), (Some("ack"), 2), "{ack}");
    let evs = events(&seen);
    assert_eq!(evs.len(), 1);
    assert_eq!(seq(evs[0]), 2);
    let (seen, pong) = answer(&mut moderator.receiver, "p-mod").await;
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(seq(&pong), 2, "the ping came after the check-in: its seq");
    until(&mut op.receiver, |v| is_type(v, "stats") && v["store_available"] == true).await;
}

#[tokio::test]
async fn evaluations_pause_while_the_store_is_unsafe_and_resume_when_it_is_safe() {
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), fast_health(), "s1", 6).await;
    h.advance("check_in").await;
    h.check_in(0).await;
    h.advance("questioning").await;
    h.advance("evaluation").await;
    let (mut m, snap) = h.join(&PrincipalKey::Moderator).await;
    assert_eq!(warnings(&snap["stats"]), Vec::<String>::new());
    let (mut d1, _) = h.join(&delegate(0)).await;

    // `CONFIG SET appendfsync everysec` on a running store.
    store.set_problems(&["appendfsync is everysec; evaluations need appendfsync always"]);
    let stats = until(&mut m.receiver, |v| is_type(v, "stats") && !warnings(v).is_empty()).await;
    assert!(warnings(&stats)[0].contains("appendfsync is everysec"), "{stats}");
    let open = json!({"type": "open_evaluation", "id": "open-1", "units": ["u1", "u2"]});
    let (seen, err) = call(&mut m, open.clone()).await;
    assert!(events(&seen).is_empty());
    assert_eq!((err["code"].as_str(), err["retryable"].as_bool()), (Some("unavailable"), Some(true)), "{err}");
    assert!(err["message"].as_str().unwrap().contains("appendfsync"), "{err}");

    // Set back: the warning goes, the same command id lands.
    store.set_problems(&[]);
    until(&mut m.receiver, |v| is_type(v, "stats") && warnings(v).is_empty()).await;
    let (_, ack) = call(&mut m, open).await;
    assert_eq!(ack["type"], "ack", "{ack}");

    // The same for maxmemory-policy, now with an evaluation open: ballots
    // and the close are refused too.
    store.set_problems(&["maxmemory-policy is allkeys-lru; evaluations need maxmemory-policy noeviction"]);
    until(&mut m.receiver, |v| is_type(v, "stats") && warnings(v).iter().any(|w| w.contains("maxmemory-policy"))).await;
    let cast = ballot("vote-1", "b-1", "u1", "satisfied");
    let (_, err) = call(&mut d1, cast.clone()).await;
    assert_eq!(err["code"], "unavailable", "{err}");
    assert!(err["message"].as_str().unwrap().contains("maxmemory-policy"), "{err}");
    let (_, err) = call(&mut m, json!({"type": "close_evaluation", "id": "close-1", "evaluation": 1})).await;
    assert_eq!(err["code"], "unavailable", "{err}");
    // Questions and the floor are not evaluation changes: they still work.
    let (_, ack) = call(&mut m, json!({"type": "check_in", "id": "in-d04", "delegate": "d04"})).await;
    assert_eq!(ack["type"], "ack", "{ack}");

    store.set_problems(&[]);
    until(&mut m.receiver, |v| is_type(v, "stats") && warnings(v).is_empty()).await;
    let (_, ack) = call(&mut d1, cast).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["result"]["receipt"]["ballot_id"], "b-1");
}

#[tokio::test]
async fn opening_an_evaluation_rechecks_the_store_first() {
    // The probe runs once at start and then not for an hour: only the
    // re-check right before the open can see the change.
    let config = HubConfig { health_interval: Duration::from_secs(3600), ..quiet_config() };
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), config.clone(), "s1", 6).await;
    h.advance("check_in").await;
    h.advance("questioning").await;
    h.advance("evaluation").await;
    store.set_problems(&["appendfsync is no; evaluations need appendfsync always"]);
    let r = h.hub.command(&h.id, Viewer::Moderator, command(json!({"type": "open_evaluation", "id": "o", "units": ["u1"]}))).await.unwrap();
    let e = r.expect_err("refused");
    assert_eq!(e.code, wz_protocol::ErrorCode::Unavailable);
    assert!(e.message.contains("appendfsync is no"), "{}", e.message);

    // `--allow-unsafe-redis`: allowed, with the warning on the console.
    // As the server starts it: with the problems read at start.
    let why = "appendfsync is no; evaluations need appendfsync always";
    let store = FlakyStore::new();
    store.set_problems(&[why]);
    let config = HubConfig { allow_unsafe_store: true, store_problems: vec![why.to_owned()], ..config };
    let h = Harness::start(store.clone(), config, "s2", 6).await;
    h.advance("check_in").await;
    h.advance("questioning").await;
    h.advance("evaluation").await;
    let (_, snap) = h.join(&PrincipalKey::Moderator).await;
    let w = warnings(&snap["stats"]);
    assert!(w.len() == 1 && w[0].contains("unsafe store settings") && w[0].contains("appendfsync is no"), "{w:?}");
    h.moderate(json!({"type": "open_evaluation", "id": "o", "units": ["u1"]})).await;
}

#[tokio::test]
async fn event_times_never_go_backwards_when_the_clock_does() {
    let now = Arc::new(AtomicU64::new(1_767_225_600_000));
    let clock = {
        let now = now.clone();
        Arc::new(move || Millis(now.load(Ordering::SeqCst)))
    };
    let h = Harness::memory(HubConfig { clock, ..quiet_config() }, 6).await;
    let (mut auditor, _) = h.join(&PrincipalKey::Auditor).await;
    h.advance("check_in").await;
    // The wall clock steps back ten minutes (an NTP correction).
    now.store(1_767_225_000_000, Ordering::SeqCst);
    h.check_in(0).await;
    now.store(1_767_225_600_500, Ordering::SeqCst);
    h.check_in(1).await;
    let mut at = Vec::new();
    while at.len() < 3 {
        let v = next_msg(&mut auditor.receiver).await;
        if is_type(&v, "event") {
            at.push(v["at"].as_u64().unwrap());
        }
    }
    assert_eq!(at, [1_767_225_600_000, 1_767_225_600_000, 1_767_225_600_500], "clamped to the last event's time");
    let snap = h.snapshot(Viewer::Auditor).await;
    assert_eq!(snap["seq"], 3);
}
