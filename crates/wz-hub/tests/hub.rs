//! Integration tests of the hub as a client sees it: snapshots, acks and
//! events, the write-before-acknowledge rule (with a store that fails or
//! holds writes), group commit, resume, slow consumers, identity from the
//! credential, revocation, shutdown and a restart on the embedded store.
//!
//! No test sleeps: each waits for the next message, bounded by a timeout
//! that only fires when the test has already failed. "Nothing else arrived"
//! is shown with a ping barrier: the session answers messages in order, so
//! anything queued by earlier work arrives before the ping's ack.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wz_domain::Viewer;
use wz_hub::{Hub, HubConfig, HubError, Outbound, PrincipalKey};
use wz_protocol::CloseCode;

fn events(msgs: &[Value]) -> Vec<&Value> {
    msgs.iter().filter(|v| is_type(v, "event")).collect()
}

#[tokio::test]
async fn first_message_is_a_snapshot_for_the_connecting_role() {
    let h = Harness::memory(quiet_config(), 6).await;
    let cases: [(PrincipalKey, &str, usize); 5] = [
        (PrincipalKey::Moderator, "moderator", 6),
        (PrincipalKey::Auditor, "auditor", 6),
        (PrincipalKey::Screen, "screen", 0),
        (operator(BAIYU), "venue_operator", 2),
        (delegate(0), "delegate", 1),
    ];
    for (key, role, roster) in cases {
        let (_conn, snap) = h.join(&key).await;
        assert_eq!(snap["seq"], 0, "{key}: a new session is at seq 0");
        assert_eq!(snap["you"]["role"], role, "{key}");
        assert_eq!(snap["session"]["phase"], "preparing");
        assert_eq!(snap["delegates"].as_array().unwrap().len(), roster, "{key} roster entries");
    }
    let (_c, snap) = h.join(&delegate(0)).await;
    assert_eq!(snap["you"]["delegate"], "d01");
    assert_eq!(snap["you"]["venue"], MAIN);
    let (_c, snap) = h.join(&operator(BAIYU)).await;
    assert_eq!(snap["you"]["venue"], BAIYU);
    assert!(snap["delegates"].as_array().unwrap().iter().all(|d| d["venue"] == BAIYU));
}

#[tokio::test]
async fn a_command_is_acked_once_and_its_event_reaches_everyone() {
    let h = Harness::memory(quiet_config(), 6).await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    let (mut op, _) = h.join(&operator(BAIYU)).await;
    let (mut screen, _) = h.join(&PrincipalKey::Screen).await;
    let (mut other_op, _) = h.join(&operator(XINHUA)).await;
    h.advance("check_in").await;
    for c in [&mut moderator, &mut op, &mut screen, &mut other_op] {
        let ev = next_msg(&mut c.receiver).await;
        assert_eq!((ev["type"].as_str(), ev["seq"].as_u64(), ev["kind"].as_str()), (Some("event"), Some(1), Some("phase_changed")));
    }

    // d02 belongs to baiyu.
    let (before, ack) = call(&mut moderator, json!({"type": "check_in", "id": "c-1", "delegate": "d02"})).await;
    assert!(is_type(&ack, "ack"), "{ack}");
    assert_eq!(ack["id"], "c-1");
    assert_eq!(before.len(), 1, "the issuer sees the event before the ack: {before:?}");
    let own = &before[0];
    assert_eq!(own["kind"], "checked_in");
    assert_eq!(seq(own), seq(&ack), "ack seq = event seq");
    assert_eq!(seq(&ack), 2);
    assert!(barrier(&mut moderator).await.is_empty(), "exactly one ack, nothing else");

    let ev = next_msg(&mut op.receiver).await;
    assert_eq!((ev["type"].as_str(), seq(&ev)), (Some("event"), 2));
    let check_in = ev["changes"].as_array().unwrap().iter().find(|c| c["entity"] == "check_in").expect("own venue sees who");
    assert_eq!(check_in["delegate"], "d02");

    // Screens and other venues learn the presence count, never the identity.
    for c in [&mut screen, &mut other_op] {
        let ev = next_msg(&mut c.receiver).await;
        assert_eq!((ev["type"].as_str(), seq(&ev)), (Some("event"), 2));
        let changes = ev["changes"].as_array().unwrap();
        assert!(changes.iter().all(|c| c["entity"] == "presence"), "{ev}");
        assert!(!ev.to_string().contains("d02"));
        assert_eq!(changes[0]["venue"], BAIYU);
        assert_eq!(changes[0]["present"], 1);
    }
    for c in [&mut op, &mut screen, &mut other_op] {
        assert!(barrier(c).await.is_empty());
    }
}

#[tokio::test]
async fn nothing_is_acknowledged_before_the_store_confirms() {
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), quiet_config(), "s1", 6).await;
    let at = h.to_evaluation(3).await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    let (mut auditor, _) = h.join(&PrincipalKey::Auditor).await;
    let (mut d1, _) = h.join(&delegate(0)).await;
    let mod_before = h.snapshot(Viewer::Moderator).await;
    let aud_before = h.snapshot(Viewer::Auditor).await;

    store.set_failing(true);
    let cast = ballot("vote-1", "b-1", "u1", "satisfied");
    let (seen, err) = call(&mut d1, cast.clone()).await;
    assert!(seen.is_empty(), "no event before a failed write: {seen:?}");
    assert_eq!(err["type"], "error");
    assert_eq!(err["id"], "vote-1");
    assert_eq!(err["code"], "unavailable");
    assert_eq!(err["retryable"], true);
    // d04 is not checked in yet: the moderator may do it during the evaluation.
    let (seen, err) = call(&mut moderator, json!({"type": "check_in", "id": "in-d04", "delegate": "d04"})).await;
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!((err["code"].as_str(), err["retryable"].as_bool()), (Some("unavailable"), Some(true)));

    assert!(events(&barrier(&mut auditor).await).is_empty(), "nothing broadcast");
    assert!(events(&barrier(&mut moderator).await).is_empty(), "nothing broadcast");
    assert_eq!(h.snapshot(Viewer::Moderator).await, mod_before, "state unchanged");
    assert_eq!(h.snapshot(Viewer::Auditor).await, aud_before, "no ballot recorded");

    // The store is back: the same command, same ids, succeeds exactly once.
    store.set_failing(false);
    let (seen, ack) = call(&mut d1, cast.clone()).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(seq(&ack), at + 1, "the failed write used no seq");
    assert_eq!(events(&seen).len(), 1);
    let receipt = ack["result"]["receipt"].clone();
    assert_eq!(receipt["ballot_id"], "b-1");
    assert_eq!(receipt["seq"], at + 1);

    let ev = &events(&seen)[0];
    assert_eq!((ev["kind"].as_str(), seq(ev)), (Some("ballot_cast"), at + 1), "first event after the failure");
    assert_eq!(ev["changes"][0]["ballot"]["delegate"], "d01");
    // A secret ballot: the auditor receives nothing of it.
    assert!(events(&barrier(&mut auditor).await).is_empty(), "the auditor saw a ballot");

    // A further retry is idempotent: same receipt, no new event.
    let (seen, again) = call(&mut d1, cast).await;
    assert_eq!(again["type"], "ack", "{again}");
    assert!(seen.is_empty());
    assert_eq!(again["result"]["receipt"], receipt, "identical receipt");
    assert!(events(&barrier(&mut auditor).await).is_empty(), "the retry changed nothing");

    let (seen, ack) = call(&mut moderator, json!({"type": "check_in", "id": "in-d04", "delegate": "d04"})).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(seq(&ack), at + 2);
    assert_eq!(events(&seen).len(), 1);

    let (_, closed) = call(&mut moderator, json!({"type": "close_evaluation", "id": "close-1", "evaluation": 1})).await;
    assert_eq!(closed["type"], "ack", "{closed}");
    let record = h.record().await;
    assert_eq!(record["participation"].as_array().unwrap().len(), 1, "one ballot recorded");
    assert_eq!(record["choices"][0]["code"], receipt["code"], "listed under its receipt");
    let snap = h.snapshot(Viewer::Auditor).await;
    assert!(snap["ballots"].as_array().unwrap().is_empty(), "the auditor holds no named ballot");
    let u1 = &snap["evaluations"][0]["results"]["units"][0];
    assert_eq!((u1["unit"].as_str(), u1["counts"]["total"].as_u64()), (Some("u1"), Some(1)));
    assert_eq!(u1["counts"]["satisfied"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ballots_queued_behind_a_slow_write_are_committed_together() {
    const N: usize = 20;
    let store = FlakyStore::new();
    let config = HubConfig { stats_interval: Duration::from_millis(20), ..HubConfig::default() };
    let h = Harness::start(store.clone(), config, "s1", N).await;
    let at = h.to_evaluation(N).await;
    let mut voters = Vec::new();
    for i in 0..N {
        voters.push(h.join(&delegate(i)).await.0);
    }
    let (mut auditor, _) = h.join(&PrincipalKey::Auditor).await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    let appends_before = store.appends();

    store.hold();
    send(&voters[0], ballot("v-0", "b-0", "u1", "satisfied")).await;
    store.until_held(1).await;
    for (i, v) in voters.iter().enumerate().skip(1) {
        let rating = ["satisfied", "basically_satisfied", "dissatisfied"][i % 3];
        send(v, ballot(&format!("v-{i}"), &format!("b-{i}"), "u1", rating)).await;
    }
    store.open();

    let mut acked = Vec::new();
    for (i, v) in voters.iter_mut().enumerate() {
        let (seen, ack) = answer(&mut v.receiver, &format!("v-{i}")).await;
        assert_eq!(ack["type"], "ack", "voter {i}: {ack}");
        let own = events(&seen);
        assert_eq!(own.len(), 1, "voter {i} sees only their own ballot");
        assert_eq!(own[0]["changes"][0]["ballot"]["delegate"], did(i));
        assert_eq!(seq(own[0]), seq(&ack));
        assert_eq!(ack["result"]["receipt"]["seq"], ack["seq"]);
        acked.push(seq(&ack));
    }
    acked.sort_unstable();
    assert_eq!(acked, ((at + 1)..=(at + N as u64)).collect::<Vec<_>>(), "one seq per ballot");
    assert_eq!(store.appends() - appends_before, 2, "the first ballot alone, then the 19 queued behind it in one append");

    // Neither the auditor nor the moderator receives a ballot: only the
    // live numbers, without a choice.
    for staff in [&mut auditor, &mut moderator] {
        let stats = until(&mut staff.receiver, |v| {
            assert!(!is_type(v, "event"), "staff got a ballot event: {v}");
            is_type(v, "stats") && v["evaluation"]["turnout"]["voted"] == N
        })
        .await;
        assert_eq!(seq(&stats), at + N as u64);
        assert_eq!(stats["evaluation"]["ballots_by_unit"][0]["ballots"], N);
        assert!(!stats.to_string().contains("satisfied"), "a choice before the reveal: {stats}");
    }
    // The record holds every ballot once.
    assert_eq!(h.record().await["participation"].as_array().unwrap().len(), N);
}

#[tokio::test]
async fn a_ping_never_reports_an_unconfirmed_seq() {
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), quiet_config(), "s1", 6).await;
    h.advance("check_in").await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;

    store.hold();
    send(&moderator, json!({"type": "check_in", "id": "in-1", "delegate": "d01"})).await;
    store.until_held(1).await;
    // Queued behind the held write: they form the next batch together.
    send(&moderator, json!({"type": "check_in", "id": "in-2", "delegate": "d02"})).await;
    send(&moderator, json!({"type": "ping", "id": "p"})).await;
    store.release(1);

    let (_, ack) = answer(&mut moderator.receiver, "in-1").await;
    assert_eq!((ack["type"].as_str(), seq(&ack)), (Some("ack"), 2));

    // The second batch (in-2 and the ping) fails to write.
    store.until_held(1).await;
    store.set_failing(true);
    store.open();
    let (seen, err) = answer(&mut moderator.receiver, "in-2").await;
    assert!(seen.is_empty());
    assert_eq!(err["code"], "unavailable");
    // The ping is answered after the command sent before it, with the seq
    // that is confirmed, never in-2's tentative one.
    let (seen, pong) = answer(&mut moderator.receiver, "p").await;
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(pong["type"], "ack");
    assert_eq!(seq(&pong), 2);
    assert_eq!(h.snapshot(Viewer::Moderator).await["seq"], 2);
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_the_missed_events() {
    let config = HubConfig { resume_window: 3, ..quiet_config() };
    let h = Harness::memory(config, 6).await;
    let (mut m1, snap) = h.join(&PrincipalKey::Moderator).await;
    assert_eq!(snap["seq"], 0);
    h.advance("check_in").await; // 1
    h.check_in(0).await; // 2
    for expect in 1..=2 {
        assert_eq!(seq(&next_msg(&mut m1.receiver).await), expect);
    }
    drop(m1);
    h.check_in(1).await; // 3
    h.check_in(2).await; // 4

    let mut m2 = h.connect(&PrincipalKey::Moderator, Some(2)).await;
    for expect in 3..=4 {
        let ev = next_json(&mut m2.receiver).await;
        assert_eq!((ev["type"].as_str(), seq(&ev)), (Some("event"), expect), "{ev}");
        assert_eq!(ev["kind"], "checked_in");
    }
    let stats = next_json(&mut m2.receiver).await;
    assert_eq!((stats["type"].as_str(), seq(&stats)), (Some("stats"), 4), "catch-up ends with stats");
    assert!(barrier(&mut m2).await.is_empty(), "no duplicates after the catch-up");
    // Live events continue from there.
    h.check_in(3).await; // 5
    assert_eq!(seq(&next_msg(&mut m2.receiver).await), 5);

    // Up to date: only stats.
    let mut up = h.connect(&PrincipalKey::Moderator, Some(5)).await;
    let first = next_json(&mut up.receiver).await;
    assert_eq!((first["type"].as_str(), seq(&first)), (Some("stats"), 5));
    assert!(barrier(&mut up).await.is_empty());

    // From the future: a snapshot.
    let mut future = h.connect(&PrincipalKey::Moderator, Some(6)).await;
    let first = next_json(&mut future.receiver).await;
    assert_eq!((first["type"].as_str(), seq(&first)), (Some("snapshot"), 5));

    // The window holds seq 3..=5: resuming from 2 works, from 1 it does not.
    let mut edge = h.connect(&PrincipalKey::Moderator, Some(2)).await;
    assert_eq!(seq(&next_json(&mut edge.receiver).await), 3);
    let mut old = h.connect(&PrincipalKey::Moderator, Some(1)).await;
    let first = next_json(&mut old.receiver).await;
    assert_eq!((first["type"].as_str(), seq(&first)), (Some("snapshot"), 5), "older than the window");
    assert!(barrier(&mut old).await.is_empty());
}

#[tokio::test]
async fn a_resuming_delegate_gets_what_it_would_have_seen_live() {
    let h = Harness::memory(quiet_config(), 6).await;
    h.advance("check_in").await; // 1
    let (mut live, _) = h.join(&delegate(1)).await;
    h.check_in(0).await; // 2: someone else at main
    h.check_in(1).await; // 3: d02 themself
    h.moderate(json!({"type": "submit_question", "id": "q", "on_behalf_of": "d03", "topic": "t1", "unit": "u1", "text": "修路"})).await; // 4: pending question of another delegate: invisible
    let seen_live = barrier(&mut live).await;
    let mut resumed = h.connect(&delegate(1), Some(1)).await;
    let mut seen_resumed = Vec::new();
    loop {
        let v = next_json(&mut resumed.receiver).await;
        if is_type(&v, "stats") {
            break;
        }
        seen_resumed.push(v);
    }
    assert_eq!(seen_resumed, seen_live, "byte-for-byte what the live connection got");
    assert_eq!(seen_live.iter().map(seq).collect::<Vec<_>>(), [2, 3]);
    assert!(seen_live[1]["changes"].as_array().unwrap().iter().any(|c| c["entity"] == "check_in" && c["delegate"] == "d02"));
    assert!(!seen_live[0].to_string().contains("d01"));
}

#[tokio::test]
async fn a_client_that_does_not_read_is_closed_as_slow_consumer() {
    let config = HubConfig { outbound_queue: 8, ..quiet_config() };
    let h = Harness::memory(config, 6).await;
    let mut slow = h.connect(&PrincipalKey::Moderator, None).await; // never reads
    let (mut reader, _) = h.join(&PrincipalKey::Moderator).await;
    for n in 1..=12u64 {
        let i = (n as usize) % 6;
        let ack = h
            .moderate(json!({"type": "submit_question", "id": format!("q{n}"), "on_behalf_of": did(i), "topic": "t1", "unit": "u1", "text": format!("问题{n}")}))
            .await;
        assert_eq!(ack.seq, n);
        let ev = next_msg(&mut reader.receiver).await;
        assert_eq!((ev["kind"].as_str(), seq(&ev)), (Some("question_submitted"), n));
    }
    match next_out(&mut slow.receiver).await {
        Outbound::Close(code) => assert_eq!(code, CloseCode::SlowConsumer),
        Outbound::Frame(f) => panic!("expected a close, got {}", String::from_utf8_lossy(&f)),
    }
    assert!(slow.receiver.next().await.is_none(), "nothing after the close");
    assert!(barrier(&mut reader).await.is_empty());

    // Reconnecting resumes; 12 missed events do not fit a queue of 8: a snapshot.
    let mut again = h.connect(&PrincipalKey::Moderator, Some(0)).await;
    let first = next_json(&mut again.receiver).await;
    assert_eq!((first["type"].as_str(), seq(&first)), (Some("snapshot"), 12));
    assert_eq!(first["questions"].as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn identity_comes_from_the_connection() {
    let h = Harness::memory(quiet_config(), 6).await;
    h.to_evaluation(3).await;
    let (mut d1, _) = h.join(&delegate(0)).await;
    let (mut d2, _) = h.join(&delegate(1)).await;
    let (mut screen, _) = h.join(&PrincipalKey::Screen).await;
    let (mut baiyu, _) = h.join(&operator(BAIYU)).await;

    let (before_ack, ack) = call(&mut d1, ballot("v", "b-1", "u1", "dissatisfied")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    // The caster receives the event with their own ballot, before the ack
    // (the broadcast visits the delegates a ballot concerns, issue 11).
    let own_ballot = events(&before_ack)
        .iter()
        .flat_map(|e| e["changes"].as_array().cloned().unwrap_or_default())
        .any(|c| c["entity"] == "ballot" && c["ballot"]["receipt"]["rating"] == "dissatisfied");
    assert!(own_ballot, "the caster sees their ballot: {before_ack:?}");
    // The record says who took part (the connection's delegate, at its
    // venue); the caster's own snapshot holds the receipt.
    let record = h.record().await;
    let took_part = record["participation"].as_array().unwrap();
    assert_eq!(took_part.len(), 1);
    assert_eq!((took_part[0]["delegate"].as_str(), took_part[0]["venue"].as_str()), (Some("d01"), Some(MAIN)));
    let own = h.snapshot(Viewer::Delegate(wz_domain::DelegateId::new("d01"))).await;
    assert_eq!(own["ballots"][0]["receipt"], ack["result"]["receipt"]);
    assert!(h.snapshot(Viewer::Delegate(wz_domain::DelegateId::new("d02"))).await["ballots"].as_array().unwrap().is_empty());
    assert!(events(&barrier(&mut d2).await).is_empty(), "another delegate's ballot is invisible");

    let before = h.snapshot(Viewer::Auditor).await;
    let attempts = [
        (
            &mut d1,
            vec![
                json!({"type": "approve_question", "id": "x1", "question": 1}),
                json!({"type": "check_in", "id": "x2", "delegate": "d04"}),
            ],
        ),
        (
            &mut baiyu,
            vec![
                json!({"type": "check_in", "id": "x3", "delegate": "d06"}), // d06 is at xinhua
                ballot("x4", "b-op", "u1", "satisfied"),
            ],
        ),
        (
            &mut screen,
            vec![
                ballot("x5", "b-screen", "u1", "satisfied"),
                json!({"type": "advance_phase", "id": "x6", "to": "closed"}),
                json!({"type": "check_in", "id": "x7", "delegate": "d04"}),
            ],
        ),
    ];
    for (conn, cmds) in attempts {
        for cmd in cmds {
            let (seen, err) = call(conn, cmd.clone()).await;
            assert!(seen.is_empty());
            assert_eq!((err["type"].as_str(), err["code"].as_str()), (Some("error"), Some("forbidden")), "{cmd} → {err}");
            assert_eq!(err["retryable"], false);
        }
    }
    assert_eq!(h.snapshot(Viewer::Auditor).await, before, "refused commands changed nothing");

    let (seen, pong) = call(&mut screen, json!({"type": "ping", "id": "hello"})).await;
    assert!(seen.is_empty());
    assert_eq!((pong["type"].as_str(), pong["id"].as_str()), (Some("ack"), Some("hello")));
    assert_eq!(pong["seq"], before["seq"]);
}

#[tokio::test]
async fn reissuing_a_credential_revokes_the_old_one() {
    let h = Harness::memory(quiet_config(), 6).await;
    h.advance("check_in").await;
    let key = delegate(0);
    let old_token = h.token(&key);
    let (mut old, _) = h.join(&key).await;
    let (mut bystander, _) = h.join(&delegate(1)).await;

    let fresh = h.hub.reissue(&h.id, std::slice::from_ref(&key)).await.expect("reissued");
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].key, key);
    assert_ne!(fresh[0].token, old_token);
    match next_out(&mut old.receiver).await {
        Outbound::Close(code) => assert_eq!(code, CloseCode::Revoked),
        Outbound::Frame(f) => panic!("expected a close, got {}", String::from_utf8_lossy(&f)),
    }
    assert!(h.hub.authenticate(&old_token).is_none(), "old token refused");
    let p = h.hub.authenticate(&fresh[0].token).expect("new token works");
    assert_eq!((p.session.as_str(), &p.key), ("s1", &key));

    // The revoked connection can no longer act.
    send(&old, json!({"type": "check_in", "id": "late", "delegate": "d01"})).await;
    let snap = h.snapshot(Viewer::Moderator).await;
    assert!(snap["checked_in"].as_array().unwrap().is_empty(), "{snap}");

    // Others are untouched; the new credential connects and acts.
    assert!(barrier(&mut bystander).await.is_empty());
    let mut new = h.hub.connect(&p, None).await.unwrap();
    assert_eq!(next_json(&mut new.receiver).await["you"]["delegate"], "d01");
    let (_, ack) = call(&mut new, json!({"type": "check_in", "id": "in", "delegate": "d01"})).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert!(h.hub.authenticate(&h.token(&delegate(1))).is_some());
}

#[tokio::test]
async fn shutdown_closes_connections_with_going_away() {
    let h = Harness::memory(quiet_config(), 6).await;
    let (mut a, _) = h.join(&PrincipalKey::Moderator).await;
    let (mut b, _) = h.join(&delegate(0)).await;
    h.hub.shutdown().await;
    for c in [&mut a, &mut b] {
        match next_out(&mut c.receiver).await {
            Outbound::Close(code) => assert_eq!(code, CloseCode::GoingAway),
            Outbound::Frame(f) => panic!("expected a close, got {}", String::from_utf8_lossy(&f)),
        }
    }
    let p = h.hub.authenticate(&h.token(&PrincipalKey::Moderator)).unwrap();
    assert!(matches!(h.hub.connect(&p, None).await, Err(HubError::Closed)));
}

/// Builds a runtime for one phase of the restart test; dropping it ends every
/// task, so the session actors release the store.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

#[test]
fn a_restarted_hub_recovers_sessions_and_credentials() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (creds, mod_before, aud_before, receipt, last) = runtime().block_on(async {
        let store = Arc::new(wz_store::EmbeddedStore::open(dir.path()).expect("store opens"));
        let h = Harness::start(store, quiet_config(), "restart", 6).await;
        h.advance("check_in").await;
        let (mut d1, _) = h.join(&delegate(0)).await;
        let (mut op, _) = h.join(&operator(BAIYU)).await;
        assert_eq!(call(&mut d1, json!({"type": "check_in", "id": "me", "delegate": "d01"})).await.1["type"], "ack");
        assert_eq!(call(&mut op, json!({"type": "check_in", "id": "d2", "delegate": "d02"})).await.1["type"], "ack");
        h.check_in(2).await;
        let (_, q) =
            call(&mut d1, json!({"type": "submit_question", "id": "q", "topic": "t2", "unit": "u2", "text": "学校什么时候扩建？"})).await;
        assert_eq!(q["result"]["question"], 1, "{q}");
        h.moderate(json!({"type": "approve_question", "id": "ok", "question": 1})).await;
        h.advance("questioning").await;
        h.advance("evaluation").await;
        h.moderate(json!({"type": "open_evaluation", "id": "open", "units": ["u1", "u2"]})).await;
        let (_, vote) = call(&mut d1, ballot("v1", "b-1", "u2", "basically_satisfied")).await;
        assert_eq!(vote["type"], "ack", "{vote}");
        let mut d2 = h.connect(&delegate(1), None).await;
        assert_eq!(call(&mut d2, ballot("v2", "b-2", "u2", "satisfied")).await.1["type"], "ack");
        let closed = h.moderate(json!({"type": "close_evaluation", "id": "close", "evaluation": 1})).await;
        drop((d1, d2, op));
        let mod_before = h.snapshot(Viewer::Moderator).await;
        let aud_before = h.snapshot(Viewer::Auditor).await;
        assert_eq!(mod_before["seq"], closed.seq);
        assert_eq!(mod_before["evaluations"][0]["status"], "closed");
        h.hub.shutdown().await;
        (h.creds, mod_before, aud_before, vote["result"]["receipt"].clone(), closed.seq)
    });

    runtime().block_on(async {
        let store = Arc::new(wz_store::EmbeddedStore::open(dir.path()).expect("the first hub released the store"));
        let hub = Hub::new(store, quiet_config());
        assert_eq!(hub.load_all().await.expect("loads"), 1);
        let h = Harness { hub, id: "restart".into(), creds };
        assert_eq!(h.snapshot(Viewer::Moderator).await, mod_before, "moderator snapshot survives the restart");
        assert_eq!(h.snapshot(Viewer::Auditor).await, aud_before, "auditor snapshot survives the restart");
        for c in &h.creds {
            let p = h.hub.authenticate(&c.token).unwrap_or_else(|| panic!("{} no longer authenticates", c.key));
            assert_eq!(p.key, c.key);
        }
        // A client that saw everything resumes with just the stats.
        let mut m = h.connect(&PrincipalKey::Moderator, Some(last)).await;
        let first = next_json(&mut m.receiver).await;
        assert_eq!((first["type"].as_str(), seq(&first)), (Some("stats"), last));
        // The ballot retried after the restart gets the same receipt.
        let mut d1 = h.connect(&delegate(0), Some(last)).await;
        let (_, again) = call(&mut d1, ballot("v1", "b-1", "u2", "basically_satisfied")).await;
        assert_eq!(again["type"], "ack", "{again}");
        assert_eq!(again["result"]["receipt"], receipt);
    });
}

#[tokio::test]
async fn a_write_whose_confirmation_was_lost_is_read_back_and_a_retry_lands_once() {
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), quiet_config(), "s1", 6).await;
    h.to_evaluation(2).await;
    let (mut voter, _) = h.join(&delegate(0)).await;
    let cast = ballot("b1", "ballot-1", "u1", "satisfied");
    store.lose_next_confirmation();
    let (_, err) = call(&mut voter, cast.clone()).await;
    assert_eq!(err["code"], "unavailable", "not acknowledged: the store did not confirm");
    // The session read the log back, so the retry finds the ballot and
    // returns its receipt without writing it a second time.
    let appends = store.appends();
    let mut retry = cast.clone();
    retry["id"] = json!("b1-retry");
    let (_, ack) = call(&mut voter, retry).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert!(ack["result"]["receipt"]["code"].is_string());
    assert_eq!(store.appends(), appends, "the retry wrote nothing");
    assert_eq!(h.record().await["participation"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_repeated_command_id_is_answered_not_run_again_even_after_a_restart() {
    let store: wz_store::DynStore = Arc::new(wz_store::MemoryStore::new());
    let h = Harness::start(store.clone(), quiet_config(), "s1", 6).await;
    let (mut asker, _) = h.join(&delegate(0)).await;
    let submit = json!({"type": "submit_question", "id": "q-once", "topic": "t1", "unit": "u1", "text": "敬老院何时改造？"});
    let (_, first) = call(&mut asker, submit.clone()).await;
    assert_eq!(first["result"]["question"], 1);
    // The ack was "lost": the client retries with the same id.
    let (seen, again) = call(&mut asker, submit.clone()).await;
    assert_eq!(again, first, "the same answer, seq included");
    assert!(seen.iter().all(|m| m["type"] != "event"), "nothing ran again: {seen:?}");
    // Another credential may use the same id: ids are per credential.
    let (mut other, _) = h.join(&delegate(1)).await;
    let (_, theirs) = call(&mut other, submit.clone()).await;
    assert_eq!(theirs["result"]["question"], 2);

    // After a restart the answer is rebuilt from the log.
    let hub2 = wz_hub::Hub::new(store, quiet_config());
    hub2.load_all().await.unwrap();
    let p = hub2.authenticate(&h.token(&delegate(0))).unwrap();
    let mut conn = hub2.connect(&p, None).await.unwrap();
    let (_, after) = call(&mut conn, submit).await;
    assert_eq!(after["result"], first["result"]);
    assert_eq!(after["seq"], first["seq"]);
    let snap = hub2.snapshot("s1", Viewer::Moderator).await.unwrap();
    let snap: serde_json::Value = serde_json::from_str(&snap).unwrap();
    assert_eq!(snap["questions"].as_array().unwrap().len(), 2, "no duplicate question");
}

/// Issue 10: while an evaluation is open, a venue operator's stats name the
/// venue's checked-in delegates who have not voted yet; nobody else's do.
#[tokio::test]
async fn an_operator_sees_who_at_the_venue_has_not_voted_yet() {
    let config = HubConfig { stats_interval: Duration::from_millis(20), ..HubConfig::default() };
    let h = Harness::memory(config, 6).await;
    h.to_evaluation(6).await; // d02 and d05 are baiyu's
    let (mut baiyu, _) = h.join(&operator(BAIYU)).await;
    let (mut screen, _) = h.join(&PrincipalKey::Screen).await;
    let (mut d02, _) = h.join(&delegate(1)).await;
    let (_, ack) = call(&mut d02, ballot("v", "b-2", "u1", "satisfied")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let st = until(&mut baiyu.receiver, |v| is_type(v, "stats") && v["evaluation"]["turnout"]["voted"] == 1).await;
    assert_eq!(st["evaluation"]["not_voted"], json!(["d05"]), "{st}");
    let public = until(&mut screen.receiver, |v| is_type(v, "stats") && v["evaluation"]["turnout"]["voted"] == 1).await;
    assert!(public["evaluation"].get("not_voted").is_none(), "{public}");
}

/// Issue 11: stats go to an audience only when its numbers changed. A
/// delegate's phone connecting changes the moderator's health board, not
/// what a screen counts: the screen gets nothing until a ballot moves the
/// turnout, and then the new turnout.
#[tokio::test]
async fn a_screen_is_not_sent_numbers_that_did_not_change() {
    let config = HubConfig { stats_interval: Duration::from_millis(20), ..HubConfig::default() };
    let h = Harness::memory(config, 6).await;
    h.to_evaluation(6).await;
    let (mut screen, _) = h.join(&PrincipalKey::Screen).await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    // Both were connected by the time of this tick: the screen's first
    // broadcast (a new connection gets the next one whatever it holds).
    let first = until(&mut moderator.receiver, |v| is_type(v, "stats") && v["venues"].as_array().is_some()).await;
    let _ = until(&mut screen.receiver, |v| is_type(v, "stats")).await;
    let baiyu_connections =
        |v: &Value| v["venues"].as_array().unwrap().iter().find(|x| x["venue"] == BAIYU).unwrap()["connections"].clone();
    assert_eq!(baiyu_connections(&first), 0);
    // A baiyu delegate's phone: the moderator's board is sent the change…
    let (mut d02, _) = h.join(&delegate(1)).await;
    until(&mut moderator.receiver, |v| is_type(v, "stats") && baiyu_connections(v) == 1).await;
    // …the screen nothing; the next stats it gets is the ballot's turnout.
    let (_, ack) = call(&mut d02, ballot("v", "b-2", "u1", "satisfied")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let next = until(&mut screen.receiver, |v| is_type(v, "stats")).await;
    assert_eq!(next["evaluation"]["turnout"]["voted"], 1, "the screen's next stats is the new turnout, not a repeat: {next}");
}

/// Issue 10 (found reading the big screen's data): a venue whose two voters'
/// cell is hidden could be recovered by subtracting the shown venues from
/// the unit's public counts. Every breakdown's hidden cells now hold at least
/// three ballots together, for every role.
#[tokio::test]
async fn a_hidden_venue_cannot_be_recovered_by_subtraction() {
    let h = Harness::memory(HubConfig::default(), 9).await;
    h.to_evaluation(9).await; // three delegates per venue
    // Everyone votes but d08 (baiyu, i = 7): baiyu's cell holds the two
    // ballots of d02 (dissatisfied) and d05, the other venues three each.
    for i in (0..9).filter(|&i| i != 7) {
        let (mut c, _) = h.join(&delegate(i)).await;
        let rating = if i == 1 { "dissatisfied" } else { "satisfied" };
        let (_, ack) = call(&mut c, ballot(&format!("v{i}"), &format!("b{i}"), "u1", rating)).await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    h.moderate(json!({"type": "close_evaluation", "id": "close", "evaluation": 1})).await;
    for viewer in [Viewer::Screen, Viewer::Moderator, Viewer::Auditor] {
        let snap = h.snapshot(viewer.clone()).await;
        let u1 = &snap["evaluations"][0]["results"]["units"][0];
        assert_eq!(u1["counts"]["dissatisfied"], 1, "the unit's own counts are public");
        for breakdown in ["by_venue", "by_level"] {
            let cells = u1[breakdown].as_array().unwrap();
            let hidden: u64 =
                cells.iter().filter(|c| c["counts"]["suppressed"] == true).map(|c| c["counts"]["total"].as_u64().unwrap()).sum();
            assert!(
                hidden == 0 || hidden >= 3,
                "{viewer:?} {breakdown}: hidden cells hold {hidden} ballots, recoverable by subtraction: {u1}"
            );
            let shown_dissatisfied: u64 = cells.iter().filter_map(|c| c["counts"]["dissatisfied"].as_u64()).sum();
            if hidden > 0 {
                assert_eq!(shown_dissatisfied, 0, "{viewer:?} {breakdown}: the dissatisfied ballot is inside a hidden group of 3+");
            }
        }
        let baiyu = u1["by_venue"].as_array().unwrap().iter().find(|c| c["venue"] == BAIYU).unwrap();
        assert_eq!(baiyu["counts"]["suppressed"], true, "{viewer:?}: baiyu's two voters are hidden");
    }
}

/// Issue 11: screens that connect while nothing changes share one snapshot,
/// but a screen that connects after a change gets the change, however soon.
#[tokio::test]
async fn a_screen_connecting_right_after_a_change_sees_it() {
    let h = Harness::memory(HubConfig::default(), 3).await;
    let (_a, first) = h.join(&PrincipalKey::Screen).await;
    let (_b, same) = h.join(&PrincipalKey::Screen).await;
    assert_eq!(same["seq"], first["seq"]);
    assert_eq!(same["session"]["phase"], "preparing");
    let ack = h.advance("check_in").await;
    let (_c, after) = h.join(&PrincipalKey::Screen).await;
    assert_eq!(after["seq"], ack.seq, "the new screen starts at the change");
    assert_eq!(after["session"]["phase"], "check_in");
    h.check_in(0).await;
    let (_d, present) = h.join(&PrincipalKey::Screen).await;
    let main = present["stats"]["venues"].as_array().unwrap().iter().find(|v| v["venue"] == "main").unwrap().clone();
    assert_eq!(main["present"], 1, "and the presence it changed: {main}");
}

/// Issue 10: a check-in request and its decline reach staff, the delegate's
/// own venue operator and the delegate, and nobody else: not the screen,
/// not another venue's station, not another delegate of the same venue.
#[tokio::test]
async fn a_check_in_request_and_its_decline_reach_only_who_sees_check_ins() {
    let mut d = def("s1", 6);
    d.check_in = wz_domain::CheckInPolicy::Confirmed;
    let hub = Hub::new(Arc::new(wz_store::MemoryStore::new()), quiet_config());
    let creds = hub.create_session(d).await.expect("session created");
    let h = Harness { hub, id: "s1".into(), creds };
    h.advance("check_in").await;
    let (mut d02, _) = h.join(&delegate(1)).await; // baiyu
    let mut watchers = Vec::new();
    for key in [PrincipalKey::Moderator, PrincipalKey::Auditor, operator(BAIYU), operator(XINHUA), PrincipalKey::Screen, delegate(4)] {
        watchers.push((key.clone(), h.join(&key).await.0));
    }
    let (_, ack) = call(&mut d02, json!({"type": "request_check_in", "id": "ask"})).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    h.moderate(json!({"type": "decline_check_in", "id": "no", "delegate": did(1), "reason": "请到签到台"})).await;
    // The delegate hears the reason.
    let declined = until(&mut d02.receiver, |v| v.to_string().contains("check_in_declined")).await;
    assert!(declined.to_string().contains("请到签到台"), "{declined}");
    for (key, conn) in &mut watchers {
        // Everything sent before the answer to a ping: the events above included.
        let (seen, _) = call(conn, json!({"type": "ping", "id": "barrier"})).await;
        let text = seen.iter().map(Value::to_string).collect::<String>();
        let sees = matches!(key, PrincipalKey::Moderator | PrincipalKey::Auditor) || *key == operator(BAIYU);
        assert_eq!(text.contains("check_in_request"), sees, "{key}: {text}");
        assert_eq!(text.contains("check_in_declined"), sees, "{key}: {text}");
    }
}
