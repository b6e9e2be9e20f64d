//! Resume positions, malformed resume parameters and the per-credential
//! connection cap, against the real server binary (embedded store, demo
//! session, port 0).
//!
//! A position is (epoch, seq). The headline case is issue 7's: after the
//! data directory was wiped and the demo re-seeded, a client resuming with
//! its old `since` used to receive only the events after it, silently
//! skipping the new session's first ones. Now the old epoch gets a snapshot.
//!
//! What a client gets is read up to the answer of a ping (the server answers
//! in order). Conflated `stats` may also arrive at any time on a live
//! server, so apart from the first message they are left out of the lists.

use serde_json::{Value, json};
use wz_e2e::{Client, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");

/// (type, seq) of each message but stats, plus the first message's (type, seq).
fn shape(msgs: &[Value]) -> ((String, u64), Vec<(String, u64)>) {
    let ts = |m: &Value| (m["type"].as_str().unwrap_or("").to_owned(), m["seq"].as_u64().unwrap_or(u64::MAX));
    let first = msgs.first().map(ts).expect("the connect sent something");
    (first, msgs.iter().filter(|m| m["type"] != "stats").map(ts).collect())
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(t, s)| ((*t).to_owned(), *s)).collect()
}

/// Moves the demo to check-in and checks in `n` delegates from d001: 1 + n events.
async fn check_in_many(m: &mut Client, n: usize) {
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    for i in 1..=n {
        m.ok(json!({"type": "check_in", "delegate": format!("d{i:03}")})).await;
    }
}

async fn resume(server: &Server, key: &str, epoch: &str, since: u64) -> Vec<Value> {
    let mut c = Client::resume(&server.addr, &server.token(key), epoch, since).await.unwrap();
    let got = c.until_ping().await;
    c.abort();
    got
}

/// These tests open many short connections on one credential: a cap that
/// does not get in the way (the cap has its own test below).
const ROOMY: [&str; 2] = ["--max-connections-per-credential", "100"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_matrix_and_the_wiped_and_reseeded_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(BIN, dir.path(), &ROOMY).await.unwrap();
    let mut m = server.connect("moderator", None).await;
    let snap = m.next().await;
    assert_eq!((snap["type"].as_str(), snap["seq"].as_u64()), (Some("snapshot"), Some(0)));
    let epoch = snap["epoch"].as_str().unwrap().to_owned();
    assert_eq!(epoch.len(), 16);

    // Empty history: resuming from 0 gets only stats.
    let got = resume(&server, "moderator", &epoch, 0).await;
    assert_eq!(shape(&got), (("stats".into(), 0), vec![]));

    check_in_many(&mut m, 4).await; // seq 1..=5
    // From a position: exactly the missed events, then stats.
    let got = resume(&server, "moderator", &epoch, 2).await;
    assert_eq!(shape(&got).1, pairs(&[("event", 3), ("event", 4), ("event", 5)]));
    assert_eq!((got[3]["type"].as_str(), got[3]["seq"].as_u64()), (Some("stats"), Some(5)), "stats right after the catch-up");
    // From the latest: only stats.
    assert_eq!(shape(&resume(&server, "moderator", &epoch, 5).await), (("stats".into(), 5), vec![]));
    // Ahead of the server: a snapshot.
    assert_eq!(shape(&resume(&server, "moderator", &epoch, 99).await).1, pairs(&[("snapshot", 5)]));
    // A wrong epoch: a snapshot, although the window holds seq 2.
    let rest = &epoch[1..];
    let wrong = if epoch.starts_with('0') { format!("1{rest}") } else { format!("0{rest}") };
    let got = resume(&server, "moderator", &wrong, 2).await;
    assert_eq!(shape(&got).1, pairs(&[("snapshot", 5)]));
    assert_eq!(got[0]["epoch"], epoch.as_str());
    // A missing epoch: `since` alone is a first connection.
    let mut c = server.connect_query("moderator", "&since=2").await;
    assert_eq!(shape(&c.until_ping().await).1, pairs(&[("snapshot", 5)]));

    // A client that received nothing before it dropped: it has no position
    // and its retry gets a snapshot. One that dropped before its catch-up
    // arrived repeats the same position and gets the same events.
    Client::connect(&server.addr, &server.token("delegate:d002"), None).await.unwrap().abort();
    let mut retry = server.connect("delegate:d002", None).await;
    assert_eq!(shape(&retry.until_ping().await).1, pairs(&[("snapshot", 5)]));
    Client::resume(&server.addr, &server.token("moderator"), &epoch, 3).await.unwrap().abort();
    let got = resume(&server, "moderator", &epoch, 3).await;
    assert_eq!(shape(&got).1, pairs(&[("event", 4), ("event", 5)]));

    // History lost: kill -9 and restart on the same data. The epoch comes
    // from the store, so it is unchanged; the events are no longer in memory.
    server.kill().await;
    drop(server);
    let mut server = Server::start(BIN, dir.path(), &ROOMY).await.unwrap();
    let got = resume(&server, "moderator", &epoch, 2).await;
    assert_eq!(shape(&got).1, pairs(&[("snapshot", 5)]));
    assert_eq!(got[0]["epoch"], epoch.as_str(), "the same incarnation after a restart");
    assert_eq!(shape(&resume(&server, "moderator", &epoch, 5).await), (("stats".into(), 5), vec![]));

    // Wiped and re-seeded: a new session under the same id, new credentials.
    let old_seq = 5;
    server.kill().await;
    drop(server);
    std::fs::remove_dir_all(dir.path()).unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    let server = Server::start(BIN, dir.path(), &ROOMY).await.unwrap();
    let mut m = server.connect("moderator", None).await;
    let snap = m.next().await;
    let new_epoch = snap["epoch"].as_str().unwrap().to_owned();
    assert_ne!(new_epoch, epoch, "a re-created session is a new incarnation");
    // The new session's first 22 events: the phase and 21 check-ins.
    check_in_many(&mut m, 21).await; // seq 1..=22
    // The old position (epoch, 5) with a new credential: a snapshot that
    // holds all 22 events, not events 6..=22.
    let got = resume(&server, "delegate:d001", &epoch, old_seq).await;
    assert_eq!(shape(&got).1, pairs(&[("snapshot", 22)]));
    assert_eq!(got[0]["epoch"], new_epoch.as_str());
    assert_eq!(got[0]["checked_in"], json!(["d001"]), "the delegate's own check-in (event 2) is in it");
    let staff = resume(&server, "moderator", &epoch, old_seq).await;
    assert_eq!(staff[0]["checked_in"].as_array().unwrap().len(), 21, "every check-in, the first ones too");
    // The new position resumes as usual.
    let got = resume(&server, "moderator", &new_epoch, 20).await;
    assert_eq!(shape(&got).1, pairs(&[("event", 21), ("event", 22)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_resume_parameters_get_a_typed_error_and_close_4400() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &ROOMY).await.unwrap();
    let mut m = server.connect("moderator", None).await;
    let epoch = m.next().await["epoch"].as_str().unwrap().to_owned();
    let cases: Vec<(String, &str)> = vec![
        (format!("&epoch={epoch}&since=-1"), "since"),
        (format!("&epoch={epoch}&since=abc"), "since"),
        (format!("&epoch={epoch}&since=1.5"), "since"),
        (format!("&epoch={epoch}&since=18446744073709551616"), "since"),
        (format!("&epoch={epoch}&since="), "since"),
        ("&since=-1".to_owned(), "since"),
        ("&epoch=xyz&since=1".to_owned(), "epoch"),
        (format!("&epoch={}&since=1", epoch.to_uppercase()), "epoch"),
        (format!("&epoch={epoch}&since=1&since=2"), "since"),
        (format!("&epoch={epoch}&epoch={epoch}&since=1"), "epoch"),
    ];
    for (query, parameter) in cases {
        let mut c = server.connect_query("delegate:d001", &query).await;
        let e = c.next().await;
        assert_eq!(e["type"], "error", "{query}: {e}");
        assert_eq!(e["code"], "bad_message", "{query}");
        assert!(e.get("id").is_none(), "{query}");
        let text = e["message"].as_str().unwrap();
        assert!(text.contains(&format!("`{parameter}`")), "{query}: the message names {parameter}: {text}");
        assert_eq!(c.closed().await, Some((4400, "bad_request".to_owned())), "{query}");
    }
    // The credential is checked first: a bad token with a bad `since` is 1008.
    let mut c = Client::connect_query(&server.addr, "token=nope&since=abc").await.unwrap();
    assert_eq!(c.closed().await.map(|(code, _)| code), Some(1008));
    // The largest valid `since` is accepted (ahead of the server: a snapshot).
    let mut c = server.connect_query("delegate:d001", &format!("&epoch={epoch}&since=18446744073709551615")).await;
    assert_eq!(c.next().await["type"], "snapshot");
    // Everyone else kept being served.
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_connection_of_one_delegate_replaces_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let mut mine = Vec::new();
    for _ in 0..4 {
        let mut c = server.connect("delegate:d001", None).await;
        assert_eq!(c.next().await["type"], "snapshot");
        mine.push(c);
    }
    let mut other = server.connect("delegate:d002", None).await;
    other.next().await;
    let mut newest = server.connect("delegate:d001", None).await;
    assert_eq!(newest.next().await["type"], "snapshot", "the newest is admitted");
    assert_eq!(mine[0].closed().await, Some((4409, "replaced".to_owned())), "the oldest is closed");
    for c in mine[1..].iter_mut().chain([&mut newest, &mut other]) {
        c.ok(json!({"type": "ping"})).await;
    }
    // They act as before: the newest checks in and the others see it.
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    newest.ok(json!({"type": "check_in", "delegate": "d001"})).await;
    for c in mine[1..].iter_mut() {
        c.change("check_in", |ch| ch["delegate"] == "d001").await;
    }

    // The cap is configurable: with 1, each connection replaces the last.
    let dir2 = tempfile::tempdir().unwrap();
    let server2 = Server::start(BIN, dir2.path(), &["--max-connections-per-credential", "1"]).await.unwrap();
    let mut a = server2.connect("operator:main", None).await;
    a.next().await;
    let mut b = server2.connect("operator:main", None).await;
    b.next().await;
    assert_eq!(a.closed().await.map(|(code, _)| code), Some(4409));
    b.ok(json!({"type": "ping"})).await;
    // Screens are shared: their own, larger cap.
    let mut screens = Vec::new();
    for _ in 0..3 {
        let mut s = server2.connect("screen", None).await;
        s.next().await;
        screens.push(s);
    }
    for s in &mut screens {
        s.ok(json!({"type": "ping"})).await;
    }
}
