//! Several server nodes on one Redis (issue 12): three `serve` processes
//! with `--node-id`, clients spread over them.
//!
//! * A whole session with the moderator, stations and delegates on
//!   different nodes: every node's screen receives the identical event
//!   sequence, and every node shows the identical state.
//! * kill -9 of the owner while 320 delegates vote: another node takes the
//!   lease, every acknowledged ballot is counted once, tallies agree on
//!   every node with an independent count.
//! * SIGSTOP of the owner past its lease, then SIGCONT: its write is
//!   fenced, it steps down, and the command its client retried lands once.
//! * A rolling restart (SIGTERM, start again) of all three nodes during a
//!   session: screens that resume on another node see no gap and no
//!   duplicate.
//! * Redis killed: every node refuses commands (`unavailable`) and tells
//!   its screens; once Redis is back, the retried commands land once.
//! * A session created and a card reissued through one node work at once
//!   through the others, and the old card nowhere.
//!
//! Clients behave like the web client: a command refused with
//! `unavailable` is sent again with the same id, and a client whose node
//! went away reconnects to another one and resumes from its position.

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;
use wz_e2e::{Client, Incoming, Server};
use wz_store::testing::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";
const UNITS: [&str; 2] = ["vice_county_head", "minzheng"];

fn rating(n: usize, u: usize) -> &'static str {
    ["satisfied", "basically_satisfied", "dissatisfied"][(n * 7 + u * 3) % 3]
}

/// Three nodes on one Redis: `a` starts first (seeds the demo and takes
/// the session's lease), then `b` and `c`.
struct Nodes {
    redis: RedisServer,
    _dir: tempfile::TempDir,
    url: String,
    dir: std::path::PathBuf,
    nodes: Vec<Option<Server>>,
    tokens: std::collections::HashMap<String, String>,
}

const NAMES: [&str; 3] = ["a", "b", "c"];
const ADMIN: &str = "nodes-test-admin-token-0123456789";

async fn start_node(dir: &std::path::Path, url: &str, name: &str, first: bool) -> Server {
    let mut args = vec![
        "--redis-url",
        url,
        "--node-id",
        name,
        "--rate-per-second",
        "100000",
        "--rate-burst",
        "100000",
        "--max-connections-per-credential",
        "64",
        "--header-timeout-seconds",
        "120",
        "--admin-token",
        ADMIN,
    ];
    if !first {
        args.push("--no-demo");
    }
    Server::start(BIN, dir, &args).await.unwrap()
}

impl Nodes {
    async fn start() -> Nodes {
        let redis = RedisServer::start_temp(&[]);
        let dir = tempfile::tempdir().unwrap();
        let url = redis.url();
        let a = start_node(dir.path(), &url, "a", true).await;
        let tokens = a.tokens.clone();
        let b = start_node(dir.path(), &url, "b", false).await;
        let c = start_node(dir.path(), &url, "c", false).await;
        Nodes { redis, dir: dir.path().to_owned(), _dir: dir, url, nodes: vec![Some(a), Some(b), Some(c)], tokens }
    }

    fn addr(&self, i: usize) -> String {
        self.nodes[i].as_ref().expect("node running").addr.clone()
    }

    fn addrs(&self) -> Vec<String> {
        self.nodes.iter().flatten().map(|s| s.addr.clone()).collect()
    }

    fn token(&self, key: &str) -> String {
        self.tokens[key].clone()
    }

    async fn connect(&self, i: usize, key: &str) -> Client {
        let mut c = Client::connect(&self.addr(i), &self.token(key), None).await.unwrap();
        assert_eq!(c.next().await["type"], "snapshot");
        c
    }

    async fn restart(&mut self, i: usize) {
        self.nodes[i] = Some(start_node(&self.dir, &self.url, NAMES[i], false).await);
    }

    /// The state node `i` shows the auditor once it has applied event
    /// `seq`, without what is not session state (clocks, who is connected
    /// to which node).
    async fn state(&self, i: usize, seq: u64) -> Value {
        let mut screen = self.connect(i, "screen").await;
        until_seq(&mut screen, seq).await;
        let server = self.nodes[i].as_ref().unwrap();
        let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}"), Some(&self.token("auditor")), None).await;
        assert_eq!(status, 200, "{body}");
        let mut v: Value = serde_json::from_str(&body).unwrap();
        v.as_object_mut().unwrap().remove("server_time");
        v.as_object_mut().unwrap().remove("stats");
        v
    }
}

/// The nodes' states are equal (a difference names the keys, not the whole state).
fn same_states(states: &[Value]) {
    for (i, s) in states.iter().enumerate().skip(1) {
        if *s != states[0] {
            let keys: Vec<&String> = s.as_object().unwrap().iter().filter(|(k, v)| states[0][k.as_str()] != **v).map(|(k, _)| k).collect();
            panic!("state {i} differs from state 0 in {keys:?} (seq {} and {})", s["seq"], states[0]["seq"]);
        }
    }
}

/// Sends `cmd` with one id until it is answered with anything but
/// `unavailable` (the web client's outbox does the same).
async fn settle(c: &mut Client, cmd: Value) -> Result<Value, Value> {
    let id = c.fresh_id();
    settle_with(c, &id, cmd).await
}

/// [`settle`] with the id given: a retry of a command sent before.
async fn settle_with(c: &mut Client, id: &str, cmd: Value) -> Result<Value, Value> {
    loop {
        c.send(id, cmd.clone()).await;
        match c.reply(id).await {
            Err(e) if e["code"] == "unavailable" => continue,
            other => return other,
        }
    }
}

async fn ok(c: &mut Client, cmd: Value) -> Value {
    let what = cmd.to_string();
    settle(c, cmd).await.unwrap_or_else(|e| panic!("{what} failed: {e}"))
}

/// The events a client received, in order (without the clock they were sent at).
fn events(c: &Client) -> Vec<Value> {
    c.log.iter().filter(|v| v["type"] == "event").cloned().collect()
}

/// Reads until the event with sequence number `seq` has arrived.
async fn until_seq(c: &mut Client, seq: u64) {
    if c.seq >= seq {
        return;
    }
    c.until(|v| v["type"] == "event" && v["seq"].as_u64() >= Some(seq)).await;
}

#[tokio::test]
async fn a_session_over_three_nodes_is_the_same_on_every_node() {
    let nodes = Nodes::start().await;
    let mut screens = Vec::new();
    for i in 0..3 {
        screens.push(nodes.connect(i, "screen").await);
    }
    // The moderator is on a node that does not own the session: every
    // command of theirs is forwarded.
    let mut moderator = nodes.connect(1, "moderator").await;
    let snap = &moderator.log[0];
    let delegates: Vec<(String, String)> = snap["delegates"]
        .as_array()
        .unwrap()
        .iter()
        .take(60)
        .map(|d| (d["id"].as_str().unwrap().to_owned(), d["venue"].as_str().unwrap().to_owned()))
        .collect();
    let mut clients = Vec::new();
    for (n, (d, _)) in delegates.iter().enumerate() {
        clients.push(nodes.connect(n % 3, &format!("delegate:{d}")).await);
    }

    ok(&mut moderator, json!({"type": "advance_phase", "to": "check_in"})).await;
    for c in clients.iter_mut() {
        // A delegate's own check-in (the demo's policy here is `self`),
        // through whichever node the phone reached.
        let d = c.log[0]["you"]["delegate"].as_str().unwrap().to_owned();
        ok(c, json!({"type": "check_in", "delegate": d})).await;
    }
    // A question from a delegate on node c, moderated from node b.
    let (asker, venue) = delegates[2].clone();
    let ack =
        ok(&mut clients[2], json!({"type": "submit_question", "topic": "policy", "unit": UNITS[0], "text": "养老服务设施什么时候建成？"}))
            .await;
    let q = ack["result"]["question"].as_u64().unwrap();
    ok(&mut moderator, json!({"type": "approve_question", "question": q})).await;
    ok(&mut moderator, json!({"type": "queue_question", "question": q})).await;
    ok(&mut moderator, json!({"type": "advance_phase", "to": "questioning"})).await;
    let mut station = nodes.connect(2, &format!("operator:{venue}")).await;
    // The moderator's venue board (node b) counts a station on node c, of
    // a venue none of whose people is on node b.
    let far = moderator.log[0]["session"]["venues"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
    assert!(delegates.iter().all(|(_, v)| *v != far));
    let connections = |m: &Value| {
        m["venues"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["venue"] == far.as_str()))
            .and_then(|v| v["connections"].as_u64())
            .unwrap_or(0)
    };
    let _far_station = nodes.connect(2, &format!("operator:{far}")).await;
    moderator.until(|m| m["type"] == "stats" && connections(m) == 1).await;
    ok(&mut station, json!({"type": "request_floor", "question": q})).await;
    ok(&mut moderator, json!({"type": "grant_floor", "venue": venue, "question": q, "answer_seconds": 120})).await;
    ok(
        &mut moderator,
        json!({"type": "record_answer", "unit": UNITS[0], "official": "副县长", "summary": "年内建成。", "commitments": []}),
    )
    .await;
    ok(&mut moderator, json!({"type": "end_floor"})).await;
    ok(&mut moderator, json!({"type": "advance_phase", "to": "evaluation"})).await;
    let ack = ok(&mut moderator, json!({"type": "open_evaluation", "units": UNITS})).await;
    let evaluation = ack["result"]["evaluation"].as_u64().unwrap();

    // Everyone votes at once, each through their own node.
    let mut expected: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    let receipts = join_all(clients.iter_mut().enumerate().map(|(n, c)| async move {
        let mut out = Vec::new();
        for (u, unit) in UNITS.iter().enumerate() {
            let d = c.log[0]["you"]["delegate"].as_str().unwrap().to_owned();
            let ack = ok(c, json!({"type": "cast_ballot", "ballot_id": format!("b-{d}-{u}"), "evaluation": evaluation, "unit": unit, "rating": rating(n, u)})).await;
            out.push(ack["result"]["receipt"]["code"].as_str().unwrap_or_else(|| panic!("a receipt: {ack}")).to_owned());
        }
        out
    }))
    .await;
    assert_eq!(receipts.iter().flatten().collect::<std::collections::BTreeSet<_>>().len(), 2 * delegates.len(), "one receipt per ballot");
    for n in 0..delegates.len() {
        for (u, unit) in UNITS.iter().enumerate() {
            let slot = ["satisfied", "basically_satisfied", "dissatisfied"].iter().position(|r| *r == rating(n, u)).unwrap();
            expected.entry(unit).or_default()[slot] += 1;
        }
    }
    let last = ok(&mut moderator, json!({"type": "close_evaluation", "evaluation": evaluation})).await["seq"].as_u64().unwrap();

    // Every node's screen got the same events, in the same order.
    for s in screens.iter_mut() {
        until_seq(s, last).await;
    }
    let seen: Vec<Vec<Value>> = screens.iter().map(events).collect();
    assert!(!seen[0].is_empty());
    // In order, each once (a screen's seqs skip the events it may not see).
    let seqs: Vec<u64> = seen[0].iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs.last() == Some(&last), "{seqs:?}");
    assert_eq!(seen[0], seen[1], "node a's and node b's screens differ");
    assert_eq!(seen[0], seen[2], "node a's and node c's screens differ");
    // The asker's question is on every screen without who asked it.
    assert!(!serde_json::to_string(&seen[0]).unwrap().contains(&asker));

    // Every node shows the same state, and the results of an independent count.
    let states = join_all((0..3).map(|i| nodes.state(i, last))).await;
    same_states(&states);
    let result = &states[0]["evaluations"][0]["results"]["units"];
    for unit in UNITS {
        let r = &result.as_array().unwrap().iter().find(|r| r["unit"] == unit).unwrap_or_else(|| panic!("no result for {unit}: {result}"))
            ["counts"];
        let got = [r["satisfied"].as_u64().unwrap(), r["basically_satisfied"].as_u64().unwrap(), r["dissatisfied"].as_u64().unwrap()];
        assert_eq!(got, expected[unit], "{unit}");
    }
}

/// One delegate voting on both units through the nodes in `addrs` (starting
/// with its own), moving to the next node when its node goes away, until
/// both ballots are acknowledged. Returns the acknowledged ratings.
async fn voter(
    d: String,
    n: usize,
    token: String,
    addrs: Vec<String>,
    acked: Arc<AtomicUsize>,
    progress: Arc<Notify>,
) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    let mut at = n % addrs.len();
    let mut client: Option<Client> = None;
    let mut position: Option<(String, u64)> = None;
    for (u, unit) in UNITS.iter().enumerate() {
        let cmd = json!({"type": "cast_ballot", "ballot_id": format!("b-{d}-{u}"), "evaluation": 1, "unit": unit, "rating": rating(n, u)});
        let id = format!("vote-{d}-{u}");
        loop {
            if client.is_none() {
                let addr = &addrs[at];
                let c = match &position {
                    Some((epoch, seq)) => Client::resume(addr, &token, epoch, *seq).await,
                    None => Client::connect(addr, &token, None).await,
                };
                match c {
                    Ok(c) => client = Some(c),
                    // That node is down: the next one.
                    Err(_) => {
                        at = (at + 1) % addrs.len();
                        continue;
                    }
                }
            }
            let c = client.as_mut().unwrap();
            c.send(&id, cmd.clone()).await;
            match c.try_reply(&id).await {
                Some(Ok(_)) => {
                    out.push((u, rating(n, u)));
                    acked.fetch_add(1, Ordering::SeqCst);
                    progress.notify_one();
                    break;
                }
                Some(Err(e)) => assert_eq!(e["code"], "unavailable", "{d}: only unavailable may refuse an honest ballot: {e}"),
                None => {
                    let c = client.take().unwrap();
                    if let Some(epoch) = c.epoch.clone() {
                        position = Some((epoch, c.seq));
                    }
                    at = (at + 1) % addrs.len();
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn killing_the_owner_while_320_delegates_vote_loses_and_doubles_nothing() {
    let mut nodes = Nodes::start().await;
    let mut moderator = nodes.connect(1, "moderator").await;
    let delegates = wz_e2e::check_in_all_and_open_evaluation(&mut moderator, &UNITS).await;
    assert_eq!(delegates.len(), 320);

    // A screen on node a, the owner, which will die, and one on node c
    // that stays (ballots are secret: a screen's events skip their seqs).
    let mut screen = Viewer { key: "screen".into(), client: nodes.connect(0, "screen").await, at: 0, seen: Vec::new() };
    let mut reference = Viewer { key: "screen".into(), client: nodes.connect(2, "screen").await, at: 2, seen: Vec::new() };
    let acked = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let addrs = nodes.addrs();
    let voters: Vec<_> = delegates
        .iter()
        .enumerate()
        .map(|(n, d)| {
            tokio::spawn(voter(d.clone(), n, nodes.token(&format!("delegate:{d}")), addrs.clone(), acked.clone(), progress.clone()))
        })
        .collect();
    // Node a owns the session (it started first); kill it once a third of
    // the ballots are in.
    while acked.load(Ordering::SeqCst) < 200 {
        progress.notified().await;
    }
    let killed_at = std::time::Instant::now();
    let before = acked.load(Ordering::SeqCst);
    nodes.nodes[0].as_mut().unwrap().kill().await;
    nodes.nodes[0] = None;
    // The screen's socket dies with its node; it resumes on node b.
    screen.client.closed().await;
    screen.follow_to(&nodes, 1).await;
    // How long the ballots stopped: the longest pause between two acks.
    let mut last_ack = killed_at;
    let mut pause = std::time::Duration::ZERO;
    while acked.load(Ordering::SeqCst) < 640 {
        progress.notified().await;
        pause = pause.max(last_ack.elapsed());
        last_ack = std::time::Instant::now();
    }
    eprintln!(
        "owner killed with {before} ballots acknowledged; the longest pause between acks after it: {pause:?}; all 640 in {:?}",
        killed_at.elapsed()
    );
    let mut expected: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for v in voters {
        for (u, r) in v.await.unwrap() {
            *expected.entry(UNITS[u]).or_default().entry(r).or_default() += 1;
        }
    }
    assert_eq!(acked.load(Ordering::SeqCst), 640);
    let close = ok(&mut moderator, json!({"type": "close_evaluation", "evaluation": 1})).await;
    let last = close["seq"].as_u64().unwrap();

    // The surviving nodes agree with each other and with the voters' own count.
    let states = join_all([1, 2].map(|i| nodes.state(i, last))).await;
    same_states(&states);
    // The screen that moved saw every event once, in order: the same as
    // the one that stayed.
    until_seq(&mut screen.client, last).await;
    until_seq(&mut reference.client, last).await;
    assert_eq!(screen.events(), reference.events(), "the moved screen missed or repeated events");
    let results = states[0]["evaluations"][0]["results"]["units"].as_array().unwrap().clone();
    for unit in UNITS {
        let r = &results.iter().find(|r| r["unit"] == unit).unwrap()["counts"];
        for rating in ["satisfied", "basically_satisfied", "dissatisfied"] {
            assert_eq!(
                r[rating].as_u64().unwrap(),
                expected[unit].get(rating).copied().unwrap_or(0),
                "{unit} {rating}: lost or doubled ballots"
            );
        }
    }
    // The record holds: it is published only when its hash chain, its
    // replay and the recount of every revealed result check.
    let (status, body) =
        nodes.nodes[1].as_ref().unwrap().http("GET", &format!("/api/sessions/{SESSION}/record"), Some(&nodes.token("auditor")), None).await;
    assert_eq!(status, 200, "{body}");
}

/// The pid of node `i`, for signals.
fn signal(nodes: &Nodes, i: usize, sig: &str) {
    let pid = nodes.nodes[i].as_ref().unwrap().pid();
    let status = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill {sig}");
}

/// How many events a client saw that check delegate `d` in.
fn check_ins_of(c: &Client, d: &str) -> usize {
    events(c).iter().filter(|e| e["changes"].as_array().unwrap().iter().any(|ch| ch["entity"] == "check_in" && ch["delegate"] == d)).count()
}

#[tokio::test]
async fn an_owner_paused_past_its_lease_is_fenced_and_steps_down() {
    let nodes = Nodes::start().await;
    let mut moderator = nodes.connect(1, "moderator").await;
    let mut screen = nodes.connect(2, "screen").await;
    let delegates: Vec<String> =
        moderator.log[0]["delegates"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    ok(&mut moderator, json!({"type": "advance_phase", "to": "check_in"})).await;
    // A delegate's phone on node a, the owner.
    let d = delegates[0].clone();
    let mut phone = nodes.connect(0, &format!("delegate:{d}")).await;

    // Node a stops (a VM paused, a process stuck in swap) past its lease.
    signal(&nodes, 0, "-STOP");
    // The phone's check-in waits in a's socket meanwhile.
    let id = phone.fresh_id();
    phone.send(&id, json!({"type": "check_in", "delegate": d})).await;
    // Another node takes the session over: the moderator's command, through
    // node b, is acknowledged once it has.
    ok(&mut moderator, json!({"type": "check_in", "delegate": delegates[1]})).await;

    // Node a wakes up believing it owns the session: its write is fenced,
    // it steps down, and the phone's retry (same id) lands once, through a.
    signal(&nodes, 0, "-CONT");
    let ack = loop {
        match phone.reply(&id).await {
            Err(e) if e["code"] == "unavailable" => phone.send(&id, json!({"type": "check_in", "delegate": d})).await,
            other => break other.expect("the check-in is acknowledged"),
        }
    };
    let seq = ack["seq"].as_u64().unwrap();
    until_seq(&mut screen, seq).await;
    until_seq(&mut phone, seq).await;
    until_seq(&mut moderator, seq).await;
    assert_eq!(check_ins_of(&moderator, &d), 1, "checked in exactly once");
    // Once more with the same id: the original answer, nothing new.
    phone.send(&id, json!({"type": "check_in", "delegate": d})).await;
    assert_eq!(phone.reply(&id).await.unwrap()["seq"], ack["seq"]);
    // Node a follows again.
    let states = join_all((0..3).map(|i| nodes.state(i, seq))).await;
    same_states(&states);
    // a stepped down: its write was fenced, or its keeper found the lease
    // taken first (which of the two won the race after SIGCONT varies).
    let (_, metrics) = nodes.nodes[0].as_ref().unwrap().http("GET", "/metrics", None, None).await;
    let count = |name: &str| metrics.lines().find_map(|l| l.strip_prefix(name)).map_or(0.0, |v| v.trim().parse::<f64>().unwrap());
    assert!(count("wz_step_downs_total ") + count("wz_leases_lost_total ") >= 1.0, "{metrics}");
}

/// What a screen saw across its connections: each snapshot's seq and each event's.
#[derive(Debug, PartialEq)]
enum Seen {
    Snapshot(u64),
    Event(u64),
}

/// A screen that follows the session across node restarts, resuming from
/// its position on the next node.
struct Viewer {
    key: String,
    client: Client,
    at: usize,
    seen: Vec<Seen>,
}

impl Viewer {
    fn take(&mut self) {
        self.client.drain();
        for v in self.client.log.drain(..) {
            match v["type"].as_str() {
                Some("snapshot") => self.seen.push(Seen::Snapshot(v["seq"].as_u64().unwrap())),
                Some("event") => self.seen.push(Seen::Event(v["seq"].as_u64().unwrap())),
                _ => {}
            }
        }
    }

    async fn follow_to(&mut self, nodes: &Nodes, next: usize) {
        self.take();
        let epoch = self.client.epoch.clone().expect("a snapshot came first");
        let since = self.client.seq;
        let old =
            std::mem::replace(&mut self.client, Client::resume(&nodes.addr(next), &nodes.token(&self.key), &epoch, since).await.unwrap());
        old.abort();
        self.client.epoch = Some(epoch);
        self.client.seq = since;
        self.at = next;
        let first = self.client.next().await;
        assert_ne!(first["type"], "snapshot", "{} resumed on node {next} from {since} with events, not a snapshot", self.key);
    }

    /// The seqs of every event seen, after the first snapshot's.
    fn events(&mut self) -> Vec<u64> {
        self.take();
        assert!(matches!(self.seen.first(), Some(Seen::Snapshot(_))), "{}: {:?}", self.key, self.seen);
        assert!(self.seen[1..].iter().all(|s| matches!(s, Seen::Event(_))), "{}: a second snapshot: {:?}", self.key, self.seen);
        self.seen[1..].iter().map(|s| if let Seen::Event(n) = s { *n } else { 0 }).collect()
    }

    /// No gap and no duplicate: every event follows the one before it.
    fn check(&mut self) {
        self.take();
        let mut last = None;
        for s in &self.seen {
            match (s, last) {
                (Seen::Snapshot(n), None) => last = Some(*n),
                (Seen::Event(n), Some(l)) => {
                    assert_eq!(*n, l + 1, "{}: event {n} after {l}: {:?}", self.key, self.seen);
                    last = Some(*n);
                }
                other => panic!("{}: {other:?} in {:?}", self.key, self.seen),
            }
        }
    }
}

#[tokio::test]
async fn a_rolling_restart_of_every_node_shows_no_gap_and_no_duplicate() {
    let mut nodes = Nodes::start().await;
    let mut viewers = Vec::new();
    for i in 0..3 {
        for key in ["screen", "auditor"] {
            let client = nodes.connect(i, key).await;
            viewers.push(Viewer { key: key.to_owned(), client, at: i, seen: Vec::new() });
        }
    }
    let mut moderator_at = 1;
    let mut moderator = nodes.connect(moderator_at, "moderator").await;
    let mut n = 0;
    for i in 0..3 {
        for _ in 0..3 {
            n += 1;
            ok(&mut moderator, json!({"type": "announce", "text": format!("第{n}条通知")})).await;
        }
        // Node i is restarted: SIGTERM (it gives its leases up), then started again.
        let next = (i + 1) % 3;
        let mut old = nodes.nodes[i].take().unwrap();
        let follow = async {
            for v in viewers.iter_mut().filter(|v| v.at == i) {
                v.client.closed().await;
                v.follow_to(&nodes, next).await;
            }
            if moderator_at == i {
                moderator.closed().await;
                moderator_at = next;
                std::mem::replace(&mut moderator, nodes.connect(next, "moderator").await).abort();
            }
        };
        let (status, ()) = tokio::join!(old.terminate(), follow);
        assert!(status.success(), "node {i} stopped cleanly: {status}");
        n += 1;
        ok(&mut moderator, json!({"type": "announce", "text": format!("第{n}条通知")})).await;
        nodes.restart(i).await;
    }
    let last = ok(&mut moderator, json!({"type": "announce", "text": "最后一条"})).await["seq"].as_u64().unwrap();
    for v in viewers.iter_mut() {
        until_seq(&mut v.client, last).await;
        v.check();
    }
    let states = join_all((0..3).map(|i| nodes.state(i, last))).await;
    same_states(&states);
}

/// The first answer to a connection with `token`: its snapshot, or `None`
/// when the node refuses the credential (closed with 1008).
async fn try_join(addr: &str, token: &str) -> Option<Client> {
    let mut c = Client::connect(addr, token, None).await.ok()?;
    match c.next_within(wz_e2e::guard()).await {
        Some(Incoming::Json(v)) if v["type"] == "snapshot" => Some(c),
        Some(Incoming::Closed(Some((1008, _)))) => None,
        other => panic!("neither a snapshot nor a refusal: {other:?}"),
    }
}

/// Connects with `token` to `addr`, which must admit it at once.
async fn join(addr: &str, token: &str) -> Client {
    try_join(addr, token).await.unwrap_or_else(|| panic!("{addr} refused a credential issued on another node"))
}

#[tokio::test]
async fn sessions_and_credentials_issued_on_one_node_work_on_every_node() {
    let nodes = Nodes::start().await;
    // A session created through node b: node c serves it too, at once (it
    // catches up with the notices before refusing an unknown credential).
    let def = json!({
        "id": "second", "title": "第二场", "theme": "养老",
        "venues": [{"id": "main", "name": "主会场", "kind": "main"}],
        "units": [{"id": "minzheng", "name": "县民政局"}],
        "topics": [{"id": "policy", "name": "养老政策"}],
        "delegates": [{"id": "d001", "name": "赵安华", "level": "county", "venue": "main"}]
    })
    .to_string();
    let b = nodes.nodes[1].as_ref().unwrap();
    let (status, body) = b.http("POST", "/api/sessions", Some(ADMIN), Some(("application/json", def.as_bytes()))).await;
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let token_of = |v: &Value, key: &str| {
        v["credentials"].as_array().unwrap().iter().find(|c| c["principal"] == key).unwrap_or_else(|| panic!("{key} in {v}"))["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut moderator = join(&nodes.addr(2), &token_of(&created, "moderator")).await;
    // Delegates imported through node c (REST; a follower forwards the
    // import to the owner); the new delegate joins through node a at once.
    let csv = "id,name,level,venue\nd002,钱二,county,main\n";
    let c = nodes.nodes[2].as_ref().unwrap();
    let (status, body) =
        c.http("POST", "/api/sessions/second/delegates", Some(&token_of(&created, "moderator")), Some(("text/csv", csv.as_bytes()))).await;
    assert_eq!(status, 201, "{body}");
    let imported: Value = serde_json::from_str(&body).unwrap();
    let mut newcomer = join(&nodes.addr(0), &token_of(&imported, "delegate:d002")).await;
    assert_eq!(newcomer.log[0]["you"]["delegate"], "d002");
    until_seq(&mut newcomer, imported["seq"].as_u64().unwrap()).await;
    ok(&mut moderator, json!({"type": "advance_phase", "to": "check_in"})).await;
    ok(&mut moderator, json!({"type": "check_in", "delegate": "d001"})).await;
    let mut delegate = join(&nodes.addr(0), &token_of(&created, "delegate:d001")).await;
    // Node a shows the check-in made through node c (import 1, phase 2, check-in 3).
    until_seq(&mut delegate, 3).await;

    // A lost card reissued through node a: the old credential's connection
    // on node c closes with 4010, the old token no longer works anywhere,
    // and the new one works on every node.
    let mut lost = nodes.connect(2, "delegate:d002").await;
    let body = json!({"principals": ["delegate:d002"]}).to_string();
    let a = nodes.nodes[0].as_ref().unwrap();
    let (status, body) = a
        .http(
            "POST",
            &format!("/api/sessions/{SESSION}/credentials/reissue"),
            Some(&nodes.token("moderator")),
            Some(("application/json", body.as_bytes())),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let fresh = token_of(&serde_json::from_str(&body).unwrap(), "delegate:d002");
    assert_eq!(lost.closed().await.map(|c| c.0), Some(4010));
    for i in 0..3 {
        join(&nodes.addr(i), &fresh).await;
        assert!(try_join(&nodes.addr(i), &nodes.token("delegate:d002")).await.is_none(), "the old card still works on node {i}");
    }
}

#[tokio::test]
async fn without_redis_every_node_refuses_commands_and_retries_land_once() {
    let mut nodes = Nodes::start().await;
    let mut moderator = nodes.connect(1, "moderator").await;
    let delegates: Vec<String> =
        moderator.log[0]["delegates"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    ok(&mut moderator, json!({"type": "advance_phase", "to": "check_in"})).await;
    // The main venue's station on node a, the owner.
    let mut station = nodes.connect(0, "operator:main").await;

    nodes.redis.kill();
    // The follower's command cannot reach the owner; the owner's cannot be written.
    let (m_id, s_id) = (moderator.fresh_id(), station.fresh_id());
    let m_cmd = json!({"type": "check_in", "delegate": delegates[0]});
    let s_cmd = json!({"type": "check_in", "delegate": delegates[1]});
    moderator.send(&m_id, m_cmd.clone()).await;
    station.send(&s_id, s_cmd.clone()).await;
    assert_eq!(moderator.reply(&m_id).await.unwrap_err()["code"], "unavailable");
    assert_eq!(station.reply(&s_id).await.unwrap_err()["code"], "unavailable");
    // Both consoles are told that nothing can be recorded.
    moderator.until(|m| m["type"] == "stats" && m["store_available"] == false).await;
    station.until(|m| m["type"] == "stats" && m["store_available"] == false).await;

    nodes.redis.restart();
    // The consoles' retries (same ids) land once each, whoever owns the session now.
    let m_ack = settle_with(&mut moderator, &m_id, m_cmd).await.expect("acknowledged once Redis is back");
    let s_ack = settle_with(&mut station, &s_id, s_cmd).await.expect("acknowledged once Redis is back");
    let last = m_ack["seq"].as_u64().unwrap().max(s_ack["seq"].as_u64().unwrap());
    until_seq(&mut moderator, last).await;
    assert_eq!(check_ins_of(&moderator, &delegates[0]), 1);
    assert_eq!(check_ins_of(&moderator, &delegates[1]), 1);
    let states = join_all((0..3).map(|i| nodes.state(i, last))).await;
    same_states(&states);
    assert_eq!(states[0]["checked_in"].as_array().unwrap().len(), 2);
}
