//! Redis as the store, under faults: the hub killed while 320 delegates vote,
//! Redis killed (AOF always) while they vote, a 30 s Redis outage, a Redis
//! frozen (SIGSTOP) under a write while other clients ping and connect,
//! closes racing ballots, and the persistence-settings guard, at start and
//! when Redis is made unsafe at run time. Every test runs its own
//! redis-server on a unix socket in a temp dir.
//!
//! Voters behave like the delegate client: every ballot is sent with a fixed
//! command id and ballot id and resent with the same ids until acknowledged.
//! When a voter cannot make progress it awaits a signal from the test (the
//! server or Redis is back), never a timer.

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Notify, watch};
use wz_e2e::{Client, Server};
use wz_store::testing::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const UNITS: [&str; 2] = ["vice_county_head", "minzheng"];

fn rating(n: usize, u: usize) -> &'static str {
    ["satisfied", "basically_satisfied", "dissatisfied"][(n * 7 + u * 3) % 3]
}

async fn start_server(data: &std::path::Path, redis: &RedisServer, extra: &[&str]) -> Server {
    let url = redis.url();
    // The tests push a whole county's traffic through a few credentials
    // (the moderator checks in 320 delegates): lift the per-credential limit.
    // One test races 50 moderator connections: lift the connection cap too.
    let mut args = vec![
        "--redis-url",
        url.as_str(),
        "--rate-per-second",
        "100000",
        "--rate-burst",
        "100000",
        "--max-connections-per-credential",
        "64",
    ];
    args.extend_from_slice(extra);
    Server::start(BIN, data, &args).await.unwrap()
}

/// Moderator connected, all 320 delegates checked in, an evaluation of two units open.
async fn evaluation_open(server: &Server) -> (Client, Vec<String>) {
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    let delegates = wz_e2e::check_in_all_and_open_evaluation(&mut m, &UNITS).await;
    (m, delegates)
}

/// Where voters find the server: bumped by the test when it (or Redis) is back.
type Beacon = watch::Receiver<(u64, String)>;

/// One delegate voting on both units until both ballots are acknowledged.
/// Returns the receipts, and which of them were acknowledged before `progress`
/// reached the test's fault.
async fn voter(d: String, n: usize, token: String, mut beacon: Beacon, acked: Arc<AtomicUsize>, progress: Arc<Notify>) -> Vec<Value> {
    let mut receipts = Vec::new();
    let mut client: Option<Client> = None;
    let mut since = 0;
    let mut refusals = 0;
    for (u, unit) in UNITS.iter().enumerate() {
        let cmd = json!({"type": "cast_ballot", "ballot_id": format!("b-{d}-{u}"), "evaluation": 1, "unit": unit, "rating": rating(n, u)});
        let id = format!("vote-{d}-{u}");
        loop {
            if client.is_none() {
                let (_, addr) = beacon.borrow_and_update().clone();
                match Client::connect(&addr, &token, Some(since)).await {
                    Ok(c) => client = Some(c),
                    Err(_) => {
                        beacon.changed().await.expect("the test outlives its voters");
                        continue;
                    }
                }
            }
            let c = client.as_mut().unwrap();
            c.send(&id, cmd.clone()).await;
            match c.try_reply(&id).await {
                Some(Ok(ack)) => {
                    since = since.max(c.seq);
                    receipts.push(ack["result"]["receipt"].clone());
                    acked.fetch_add(1, Ordering::SeqCst);
                    progress.notify_one();
                    break;
                }
                Some(Err(e)) => {
                    assert_eq!(e["code"], "unavailable", "{d}: only unavailable may refuse an honest ballot: {e}");
                    assert_eq!(e["retryable"], true);
                    since = since.max(c.seq);
                    // Right after the store is back the server may still be
                    // reconnecting: retry a few times at once (each attempt
                    // takes the server's own time), then wait for the test.
                    refusals += 1;
                    if refusals > 20 {
                        refusals = 0;
                        beacon.changed().await.expect("the test outlives its voters");
                    }
                }
                None => {
                    // Connection lost (server killed): wait until it is back.
                    since = since.max(client.take().unwrap().seq);
                    beacon.changed().await.expect("the test outlives its voters");
                }
            }
        }
    }
    receipts
}

/// Resends a command with the same id until it is acknowledged, as a client's
/// outbox does once the store is back (bounded: the server may still be
/// reconnecting to Redis for a moment; each attempt takes its own time).
async fn until_acked(c: &mut Client, id: &str, cmd: &Value) -> Value {
    for _ in 0..50 {
        c.send(id, cmd.clone()).await;
        match c.reply(id).await {
            Ok(ack) => return ack,
            Err(e) => assert_eq!(e["code"], "unavailable", "{e}"),
        }
    }
    panic!("{id} was never acknowledged after the store came back");
}

async fn wait_for(acked: &AtomicUsize, progress: &Notify, n: usize) {
    while acked.load(Ordering::SeqCst) < n {
        progress.notified().await;
    }
}

/// Closes evaluation 1 (the count is checked once the votes are in, as a
/// real audit does), then reads the auditor's view (questions, results) and
/// the public record: who took part on which unit, and every choice under
/// its receipt code. Nobody, the auditor included, reads a named ballot.
async fn audit(server: &Server) -> (Value, Value) {
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    if let Err(e) = m.call(json!({"type": "close_evaluation", "evaluation": 1})).await {
        assert_eq!(e["code"], "already_done", "{e}");
    }
    let (status, body) = server.http("GET", "/api/sessions/xixia-2026", Some(&server.token("auditor")), None).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["ballots"].as_array().unwrap().is_empty(), "the auditor holds no named ballot");
    let (status, body) = server.http("GET", "/api/sessions/xixia-2026/record", Some(&server.token("auditor")), None).await;
    assert_eq!(status, 200, "{body}");
    (v, serde_json::from_str(&body).unwrap())
}

/// The record holds each acknowledged receipt once, with its choice, and
/// each delegate's participation once per unit; the results count 320.
fn assert_converged(delegates: &[String], receipts: &[Vec<Value>], auditor: &Value, record: &Value) {
    let took_part: BTreeMap<(String, String), usize> =
        record["participation"].as_array().unwrap().iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry((p["delegate"].as_str().unwrap().to_owned(), p["unit"].as_str().unwrap().to_owned())).or_default() += 1;
            m
        });
    assert_eq!(took_part.len(), 640, "every delegate's two ballots");
    assert!(took_part.values().all(|n| *n == 1), "a ballot recorded twice");
    let choices = record["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 640);
    for (d, rs) in delegates.iter().zip(receipts) {
        for (u, r) in rs.iter().enumerate() {
            assert_eq!(r["unit"], UNITS[u]);
            let listed: Vec<&Value> = choices.iter().filter(|c| c["code"] == r["code"]).collect();
            assert_eq!(listed.len(), 1, "{d}'s acknowledged receipt is held once");
            assert_eq!(listed[0]["rating"], r["rating"], "{d}'s acknowledged choice is what is stored");
        }
    }
    for u in auditor["evaluations"][0]["results"]["units"].as_array().unwrap() {
        assert_eq!(u["counts"]["total"], 320, "tally equals ballots for {}", u["unit"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_killed_while_320_vote_loses_nothing_and_counts_nothing_twice() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(redis_dir.path(), &[]);
    let mut server = start_server(data.path(), &redis, &[]).await;
    let (_m, delegates) = evaluation_open(&server).await;
    let (tx, beacon) = watch::channel((0u64, server.addr.clone()));
    let acked = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let voters: Vec<_> = delegates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            tokio::spawn(voter(d.clone(), i, server.token(&format!("delegate:{d}")), beacon.clone(), acked.clone(), progress.clone()))
        })
        .collect();
    wait_for(&acked, &progress, 200).await;
    server.kill().await;
    let before = acked.load(Ordering::SeqCst);
    assert!(before < 640, "the kill happened mid-vote ({before} acks)");
    let tokens = server.tokens.clone();
    server = start_server(data.path(), &redis, &[]).await;
    server.tokens = tokens;
    tx.send_modify(|(generation, addr)| {
        *generation += 1;
        *addr = server.addr.clone();
    });
    let receipts: Vec<Vec<Value>> = join_all(voters).await.into_iter().map(|r| r.unwrap()).collect();
    let (auditor, record) = audit(&server).await;
    assert_converged(&delegates, &receipts, &auditor, &record);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_while_delegates_vote_loses_no_acknowledged_ballot() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(redis_dir.path(), &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let (mut m, delegates) = evaluation_open(&server).await;
    let (tx, beacon) = watch::channel((0u64, server.addr.clone()));
    let acked = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let voters: Vec<_> = delegates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            tokio::spawn(voter(d.clone(), i, server.token(&format!("delegate:{d}")), beacon.clone(), acked.clone(), progress.clone()))
        })
        .collect();
    wait_for(&acked, &progress, 200).await;
    redis.kill();
    // The hub notices (its probe fails) and tells every screen.
    m.until(|v| v["type"] == "stats" && v["store_available"] == false).await;
    let (status, _) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 503, "/readyz fails while Redis is gone");
    redis.restart();
    // Same hub process: it reconnects by itself.
    m.until(|v| v["type"] == "stats" && v["store_available"] == true).await;
    assert_eq!(server.http("GET", "/readyz", None, None).await.0, 200);
    tx.send_modify(|(generation, _)| *generation += 1);
    let receipts: Vec<Vec<Value>> = join_all(voters).await.into_iter().map(|r| r.unwrap()).collect();
    let (auditor, record) = audit(&server).await;
    assert_converged(&delegates, &receipts, &auditor, &record);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_second_outage_acknowledges_nothing_and_every_retry_lands_once() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(redis_dir.path(), &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;

    // Question submission during an outage: refused, then lands once.
    let mut asker = server.connect("delegate:d001", None).await;
    asker.next().await;
    let question = json!({"type": "submit_question", "topic": "policy", "unit": "minzheng", "text": "停电时提交的问题会不会丢？"});
    redis.pause();
    m.until(|v| v["type"] == "stats" && v["store_available"] == false).await;
    asker.send("ask-1", question.clone()).await;
    assert_eq!(asker.reply("ask-1").await.expect_err("not acknowledged")["code"], "unavailable");
    redis.resume();
    m.until(|v| v["type"] == "stats" && v["store_available"] == true).await;
    assert_eq!(until_acked(&mut asker, "ask-1", &question).await["result"]["question"], 1);
    asker.send("ask-1", question.clone()).await;
    assert_eq!(asker.reply("ask-1").await.expect("answered again")["result"]["question"], 1, "the same answer");

    // Voting through a 30 s outage.
    let (_, delegates) = {
        let ids: Vec<String> = (1..=40).map(|i| format!("d{i:03}")).collect();
        for d in &ids {
            m.ok(json!({"type": "check_in", "delegate": d})).await;
        }
        m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
        m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
        m.ok(json!({"type": "open_evaluation", "units": UNITS})).await;
        ((), ids)
    };
    let mut voters = Vec::new();
    for d in &delegates {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        let cmd = json!({"type": "cast_ballot", "ballot_id": format!("b-{d}"), "evaluation": 1, "unit": UNITS[0], "rating": "satisfied"});
        voters.push((c, format!("vote-{d}"), cmd));
    }
    redis.pause();
    let started = std::time::Instant::now();
    m.until(|v| v["type"] == "stats" && v["store_available"] == false).await;
    let (status, _) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 503, "/readyz fails during the outage");
    // Everyone sends at once, as during a live vote.
    for (c, id, cmd) in voters.iter_mut() {
        c.send(id, cmd.clone()).await;
    }
    for (c, id, _) in voters.iter_mut() {
        let e = c.reply(id).await.expect_err("nothing is acknowledged during the outage");
        assert_eq!((e["code"].as_str(), e["retryable"].as_bool()), (Some("unavailable"), Some(true)));
    }
    // The outage lasts 30 s in all: scenario time, not waiting for a message.
    tokio::time::sleep(std::time::Duration::from_secs(30).saturating_sub(started.elapsed())).await;
    for (c, id, cmd) in voters.iter_mut() {
        c.send(id, cmd.clone()).await;
    }
    for (c, id, _) in voters.iter_mut() {
        assert_eq!(c.reply(id).await.expect_err("still refused")["code"], "unavailable");
    }
    redis.resume();
    m.until(|v| v["type"] == "stats" && v["store_available"] == true).await;
    assert_eq!(server.http("GET", "/readyz", None, None).await.0, 200);
    // Every client retries with the same ids, twice: each lands exactly once.
    for (c, id, cmd) in voters.iter_mut() {
        let first = until_acked(c, id, cmd).await;
        c.send(id, cmd.clone()).await;
        let second = c.reply(id).await.expect("the retry is answered");
        assert_eq!(first, second, "a repeated command id gets the same answer");
    }
    let (auditor, record) = audit(&server).await;
    assert_eq!(record["participation"].as_array().unwrap().len(), 40);
    let unit = auditor["evaluations"][0]["results"]["units"].as_array().unwrap().iter().find(|u| u["unit"] == UNITS[0]).unwrap().clone();
    assert_eq!(unit["counts"]["total"], 40);
    assert_eq!(auditor["questions"].as_array().unwrap().len(), 1, "the question landed once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ballots_racing_closes_all_see_one_final_tally() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(redis_dir.path(), &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let (_m, delegates) = evaluation_open(&server).await;
    let mut voters = Vec::new();
    for d in delegates.iter().take(300) {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        voters.push((d.clone(), c));
    }
    let mut closers = Vec::new();
    for _ in 0..50 {
        let mut c = server.connect("moderator", None).await;
        c.next().await;
        closers.push(c);
    }
    let ballots = join_all(voters.iter_mut().map(|(d, c)| async move {
        c.call(json!({"type": "cast_ballot", "ballot_id": format!("b-{d}"), "evaluation": 1, "unit": UNITS[0], "rating": "satisfied"}))
            .await
    }));
    let closes = join_all(closers.iter_mut().map(|c| c.call(json!({"type": "close_evaluation", "evaluation": 1}))));
    let (ballots, closes) = tokio::join!(ballots, closes);
    let accepted = ballots.iter().filter(|r| r.is_ok()).count();
    for r in ballots.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r["code"], "invalid_state", "a ballot after the close gets the typed error: {r}");
    }
    let first = closes[0].as_ref().expect("close acknowledged")["result"].clone();
    for c in &closes {
        assert_eq!(c.as_ref().expect("every close is acknowledged")["result"], first, "every close returns the identical final tally");
    }
    let unit = first["closed"]["results"]["units"].as_array().unwrap().iter().find(|u| u["unit"] == UNITS[0]).unwrap().clone();
    assert_eq!(unit["counts"]["total"], accepted);
    let (_, record) = audit(&server).await;
    assert_eq!(record["participation"].as_array().unwrap().len(), accepted, "the tally equals the accepted ballots");
    assert_eq!(record["choices"].as_array().unwrap().len(), accepted);
}

async fn open_evaluation_with(redis_args: &[&str], server_args: &[&str]) -> Result<Value, Value> {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(redis_dir.path(), redis_args);
    let server = start_server(data.path(), &redis, server_args).await;
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    for to in ["check_in", "questioning", "evaluation"] {
        m.ok(json!({"type": "advance_phase", "to": to})).await;
    }
    m.call(json!({"type": "open_evaluation", "units": UNITS})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_unsafe_persistence_and_accepts_the_shipped_config() {
    for (args, setting) in [
        (&["--appendfsync", "everysec"][..], "appendfsync"),
        (&["--appendonly", "no"][..], "appendonly"),
        (&["--maxmemory-policy", "allkeys-lru"][..], "maxmemory-policy"),
    ] {
        let e = open_evaluation_with(args, &[]).await.expect_err("refused");
        // The same answer as when Redis is made unsafe at run time.
        assert_eq!((e["code"].as_str(), e["retryable"].as_bool()), (Some("unavailable"), Some(true)), "{e}");
        assert!(e["message"].as_str().unwrap().contains(setting), "names {setting}: {e}");
    }
    // The development escape hatch: allowed, with a warning for the moderator.
    let ack = open_evaluation_with(&["--appendfsync", "everysec"], &["--allow-unsafe-redis"]).await.expect("allowed");
    assert_eq!(ack["result"]["evaluation"], 1);
    // The shipped configuration passes.
    // Redis changes into `dir` while reading its file, so the copy under test
    // points `dir` at the temp dir and keeps every other line as shipped.
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/redis.conf")).unwrap();
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let conf = redis_dir.path().join("redis.conf");
    let rewritten: Vec<String> =
        shipped.lines().map(|l| if l.starts_with("dir ") { format!("dir {}", redis_dir.path().display()) } else { l.to_owned() }).collect();
    std::fs::write(&conf, rewritten.join("\n")).unwrap();
    let redis = RedisServer::start_with_config(redis_dir.path(), &conf, &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let mut m = server.connect("moderator", None).await;
    let snap = m.next().await;
    assert_eq!(snap["stats"]["warnings"], json!([]));
    for to in ["check_in", "questioning", "evaluation"] {
        m.ok(json!({"type": "advance_phase", "to": to})).await;
    }
    m.ok(json!({"type": "open_evaluation", "units": UNITS})).await;
}

fn warns(v: &Value, what: &str) -> bool {
    v["type"] == "stats" && v["warnings"].as_array().is_some_and(|w| w.iter().any(|w| w.as_str().unwrap().contains(what)))
}

fn no_warnings(v: &Value) -> bool {
    v["type"] == "stats" && v["warnings"] == json!([])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_made_unsafe_at_run_time_pauses_evaluations_until_it_is_set_back() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(redis_dir.path(), &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    for d in ["d001", "d002"] {
        m.ok(json!({"type": "check_in", "delegate": d})).await;
    }
    m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    let mut voters = Vec::new();
    for d in ["d001", "d002"] {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        voters.push(c);
    }
    let cast =
        |d: &str| json!({"type": "cast_ballot", "ballot_id": format!("b-{d}"), "evaluation": 1, "unit": UNITS[0], "rating": "satisfied"});
    let open = json!({"type": "open_evaluation", "units": UNITS});

    // appendfsync: open_evaluation refused while unsafe, then accepted;
    // /readyz says the server should get no traffic, and why.
    redis.config_set("appendfsync", "everysec");
    m.until(|v| warns(v, "appendfsync is everysec")).await;
    let (status, body) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (ready["ready"].as_bool(), ready["store"].as_str(), ready["store_reachable"].as_bool()),
        (Some(false), Some("redis"), Some(true)),
        "{ready}"
    );
    assert!(ready["store_problems"][0].as_str().unwrap().starts_with("appendfsync is everysec"), "{ready}");
    m.send("open-1", open.clone()).await;
    let e = m.reply("open-1").await.expect_err("refused while unsafe");
    assert_eq!((e["code"].as_str(), e["retryable"].as_bool()), (Some("unavailable"), Some(true)), "{e}");
    assert!(e["message"].as_str().unwrap().contains("appendfsync"), "{e}");
    redis.config_set("appendfsync", "always");
    m.until(no_warnings).await;
    let (status, body) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["store_problems"], json!([]));
    m.send("open-1", open).await;
    m.reply("open-1").await.expect("accepted once safe again");

    // appendfsync again, now for a ballot.
    redis.config_set("appendfsync", "everysec");
    m.until(|v| warns(v, "appendfsync")).await;
    voters[0].send("vote-1", cast("d001")).await;
    let e = voters[0].reply("vote-1").await.expect_err("refused while unsafe");
    assert_eq!(e["code"], "unavailable");
    assert!(e["message"].as_str().unwrap().contains("appendfsync"), "{e}");
    redis.config_set("appendfsync", "always");
    m.until(no_warnings).await;
    voters[0].send("vote-1", cast("d001")).await;
    voters[0].reply("vote-1").await.expect("the retry lands");

    // maxmemory-policy: the same.
    redis.config_set("maxmemory-policy", "allkeys-lru");
    m.until(|v| warns(v, "maxmemory-policy is allkeys-lru")).await;
    voters[1].send("vote-2", cast("d002")).await;
    let e = voters[1].reply("vote-2").await.expect_err("refused while unsafe");
    assert_eq!(e["code"], "unavailable");
    assert!(e["message"].as_str().unwrap().contains("maxmemory-policy"), "{e}");
    redis.config_set("maxmemory-policy", "noeviction");
    m.until(no_warnings).await;
    voters[1].send("vote-2", cast("d002")).await;
    voters[1].reply("vote-2").await.expect("the retry lands");
    let (_, record) = audit(&server).await;
    assert_eq!(record["participation"].as_array().unwrap().len(), 2, "each ballot recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_does_not_stall_pings_connects_or_snapshots() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(redis_dir.path(), &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let mut m = server.connect("moderator", None).await;
    let snap = m.next().await;
    let session = snap["session"]["id"].as_str().unwrap().to_owned();
    let confirmed = m.ok(json!({"type": "advance_phase", "to": "check_in"})).await["seq"].clone();
    let mut other = server.connect("delegate:d002", None).await;
    other.next().await;

    redis.pause();
    let frozen = std::time::Instant::now();
    let check_in = json!({"type": "check_in", "delegate": "d001"});
    m.send("in-1", check_in.clone()).await;
    // Another client's ping is answered without waiting for the write.
    other.send("p-1", json!({"type": "ping"})).await;
    let pong = other.reply("p-1").await.expect("ping answered");
    eprintln!("ping answered {:?} after the freeze", frozen.elapsed());
    assert_eq!(pong["seq"], confirmed, "with the confirmed seq");
    // A new connection gets its snapshot; a REST snapshot returns.
    let mut late = server.connect("delegate:d003", None).await;
    let snap = late.next().await;
    assert_eq!((snap["type"].as_str(), &snap["seq"]), (Some("snapshot"), &confirmed));
    let (status, body) = server.http("GET", &format!("/api/sessions/{session}"), None, None).await;
    assert_eq!(status, 200, "{body}");
    eprintln!("connect and REST snapshot done {:?} after the freeze", frozen.elapsed());
    other.until(|v| v["type"] == "stats" && v["store_available"] == false).await;
    eprintln!("store_available=false {:?} after the freeze", frozen.elapsed());

    redis.resume();
    other.until(|v| v["type"] == "stats" && v["store_available"] == true).await;
    // The check-in was acknowledged only once it was written (or refused
    // when the write timed out); the retry lands exactly once.
    let first = m.reply("in-1").await;
    let ack = match first {
        Ok(ack) => ack,
        Err(e) => {
            assert_eq!(e["code"], "unavailable", "{e}");
            until_acked(&mut m, "in-1", &check_in).await
        }
    };
    let mut auditor = server.connect("auditor", None).await;
    let snap = auditor.next().await;
    assert_eq!(snap["checked_in"], json!(["d001"]));
    assert_eq!(snap["seq"], ack["seq"]);
}

/// A Redis that answers but refuses writes (here NOREPLICAS, as with
/// `min-replicas-to-write` and no replica; MISCONF after a failed save and
/// READONLY on a replica look the same): /readyz takes the node out and says
/// why, and puts it back once writes are taken again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_probes_that_redis_takes_writes() {
    let redis_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(redis_dir.path(), &[]);
    let server = start_server(data.path(), &redis, &[]).await;
    let readyz = || async {
        let (status, body) = server.http("GET", "/readyz", None, None).await;
        (status, serde_json::from_str::<Value>(&body).unwrap())
    };
    assert_eq!(readyz().await.0, 200);
    redis.config_set("min-replicas-to-write", "1");
    let (status, ready) = readyz().await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["store_reachable"], false, "{ready}");
    let problems = ready["store_problems"].to_string();
    assert!(problems.contains("write probe") && problems.contains("NOREPLICAS"), "{ready}");
    redis.config_set("min-replicas-to-write", "0");
    let (status, ready) = readyz().await;
    assert_eq!((status, ready["store_problems"].clone()), (200, json!([])), "{ready}");
}
