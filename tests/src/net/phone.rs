//! A client that behaves like the web client on a bad link.
//!
//! [`Phone`] keeps one [`Client`] at a time. It notices a dead link by
//! silence (an application `ping` after a quiet spell, then a deadline),
//! reconnects with capped exponential backoff and equal jitter
//! (`web/src/lib/backoff.ts`), resumes from the last position it saw, and
//! resends every unanswered command with the same id once the new
//! connection is in sync, as the web client's outbox does. [`Tracker`]
//! checks what arrives: event seqs strictly increasing across all
//! connections (a duplicate or a reordering is recorded), and which seqs
//! were received, so a test can compare them with what the server holds.

use crate::{Client, Incoming};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Opens a connection that resumes from `track`'s position, or a first
/// connection when it has none. The one place that spells the resume
/// parameters (`?since=N` today).
pub async fn resume(addr: &str, token: &str, track: &Tracker) -> anyhow::Result<Client> {
    match &track.epoch {
        Some(epoch) => Client::resume(addr, token, epoch, track.pos).await,
        None => Client::connect(addr, token, None).await,
    }
}

/// Where a client is in the session's sequence, and whether what it
/// received adds up.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    /// Highest seq seen in a snapshot, event, ack or stats: the resume point.
    pub pos: u64,
    /// Seq of the last snapshot: events after it are in `events`.
    pub base: u64,
    /// Seqs of the events received since the last snapshot.
    pub events: BTreeSet<u64>,
    /// Snapshots received (the first connection's, and any resume fallback).
    pub snapshots: u32,
    /// The epoch of the last snapshot: a position is (epoch, pos).
    pub epoch: Option<String>,
    /// Events that arrived at or below the position: duplicates or out of order.
    pub violations: Vec<String>,
}

impl Tracker {
    pub fn apply(&mut self, v: &Value) {
        let seq = v["seq"].as_u64().unwrap_or(0);
        match v["type"].as_str() {
            Some("snapshot") => {
                if seq < self.pos {
                    self.violations.push(format!("snapshot at {seq} behind position {}", self.pos));
                }
                self.pos = seq;
                self.base = seq;
                self.events.clear();
                self.snapshots += 1;
                self.epoch = v["epoch"].as_str().map(str::to_owned);
            }
            Some("event") => {
                if seq <= self.pos {
                    self.violations.push(format!("event {seq} at position {}", self.pos));
                } else {
                    self.pos = seq;
                }
                self.events.insert(seq);
            }
            Some("ack" | "stats") => self.pos = self.pos.max(seq),
            _ => {}
        }
    }
}

/// How a phone decides that its link is dead, and how it comes back.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// Send a `ping` after this long without receiving or sending anything.
    pub ping_after: Duration,
    /// Give up on a connection after this long without receiving anything.
    pub dead_after: Duration,
    /// Give up on a connection attempt after this long, and on a connection
    /// that is not in sync yet after this long without a message.
    pub connect_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Cut the connection at a random moment in this range after each connect.
    pub churn: Option<(Duration, Duration)>,
    /// Chance (0–1) of also cutting it right after sending a command, before
    /// its answer can arrive: the answer is lost, the resend must not count twice.
    pub cut_after_send: f64,
}

impl Default for Tuning {
    /// The web client's rules with its timers scaled down to a test's length:
    /// backoff 0.5 s doubling to at most 4 s.
    fn default() -> Tuning {
        Tuning {
            ping_after: Duration::from_secs(3),
            dead_after: Duration::from_secs(8),
            connect_timeout: Duration::from_secs(6),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(4),
            churn: None,
            cut_after_send: 0.0,
        }
    }
}

/// What happened to a phone's connections.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub connects: u32,
    pub failed_connects: u32,
    /// Connections given up as silent.
    pub dead: u32,
    /// Connections the server closed (code, if it sent one).
    pub closed: Vec<Option<u16>>,
    /// Connections cut on purpose ([`Tuning::churn`] or [`Phone::cut`]).
    pub cut: u32,
    /// Commands sent again on a later connection.
    pub resent: u32,
    /// Bytes of JSON received, and how many of them were `stats`.
    pub rx_bytes: u64,
    pub rx_stats_bytes: u64,
}

struct Entry {
    id: String,
    cmd: Value,
    first_sent: Option<Instant>,
    /// Connection number it was last sent on.
    sent_on: u64,
    retry_at: Option<Instant>,
}

/// A command's outcome: every answer that arrived for its id (a resent
/// command can be answered on each connection) and the time from the first
/// send to the first answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub cmd: Value,
    pub first: Result<Value, Value>,
    pub all: Vec<Value>,
    pub latency: Duration,
}

pub struct Phone {
    pub label: String,
    addr: String,
    token: String,
    tuning: Tuning,
    conn: Option<Client>,
    conn_no: u64,
    synced: bool,
    attempt: u32,
    last_rx: Instant,
    last_tx: Instant,
    cut_at: Option<Instant>,
    /// End of a [`Phone::pause`].
    wake_at: Option<Instant>,
    next_id: u64,
    outbox: Vec<Entry>,
    pub answers: HashMap<String, Answer>,
    pub track: Tracker,
    pub counters: Counters,
    /// The session phase as last seen.
    pub phase: String,
    /// Evaluations by id, as last seen.
    pub evaluations: BTreeMap<u64, Value>,
    /// Questions by id, as last seen.
    pub questions: BTreeMap<u64, Value>,
    /// The last [`TRAIL`] things that happened, oldest first: connects,
    /// drops and each message's type and seq, with the connection number.
    /// Printed when a check fails, to show how a position was reached.
    pub trail: VecDeque<String>,
    rng: StdRng,
}

/// How many lines [`Phone::trail`] keeps.
pub const TRAIL: usize = 3000;

/// Longest a phone waits for any one condition before the test fails.
pub const PHONE_GUARD: Duration = Duration::from_secs(240);

impl Phone {
    pub fn new(addr: &str, token: &str, label: &str, tuning: Tuning, seed: u64) -> Phone {
        let now = Instant::now();
        Phone {
            label: label.to_owned(),
            addr: addr.to_owned(),
            token: token.to_owned(),
            tuning,
            conn: None,
            conn_no: 0,
            synced: false,
            attempt: 0,
            last_rx: now,
            last_tx: now,
            cut_at: None,
            wake_at: None,
            next_id: 0,
            outbox: Vec::new(),
            answers: HashMap::new(),
            track: Tracker::default(),
            counters: Counters::default(),
            phase: String::new(),
            evaluations: BTreeMap::new(),
            questions: BTreeMap::new(),
            trail: VecDeque::new(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn note(&mut self, what: String) {
        if self.trail.len() == TRAIL {
            self.trail.pop_front();
        }
        self.trail.push_back(format!("c{} {what}", self.conn_no));
    }

    /// Is the current connection up and in sync (snapshot or resume `stats` received)?
    pub fn synced(&self) -> bool {
        self.synced
    }

    /// Queues a command (sent now if in sync, else after the next sync); returns its id.
    pub fn submit(&mut self, cmd: Value) -> String {
        self.next_id += 1;
        let id = format!("{}-{}-{}", self.label, std::process::id(), self.next_id);
        self.outbox.push(Entry { id: id.clone(), cmd, first_sent: None, sent_on: 0, retry_at: None });
        id
    }

    /// Sends a command and runs until it is answered.
    pub async fn call(&mut self, cmd: Value) -> Answer {
        let id = self.submit(cmd);
        self.run_until(&format!("answer to {id}"), |p| p.answers.contains_key(&id)).await;
        self.answers[&id].clone()
    }

    /// Runs the connection until `done` holds (checked after every message
    /// and timer); panics after [`PHONE_GUARD`].
    pub async fn run_until(&mut self, what: &str, done: impl Fn(&Phone) -> bool) {
        let guard = Instant::now() + PHONE_GUARD;
        while !done(self) {
            assert!(Instant::now() < guard, "{}: gave up waiting for {what} (position {})", self.label, self.track.pos);
            self.step().await;
        }
    }

    /// Keeps the connection going for a random time in `lo..=hi`: a person
    /// thinking before they tap.
    pub async fn pause(&mut self, lo: Duration, hi: Duration) {
        let wake = Instant::now() + self.rng.random_range(lo..=hi);
        self.wake_at = Some(wake);
        self.run_until("the end of a pause", |_| Instant::now() >= wake).await;
        self.wake_at = None;
    }

    /// Pings until the position reaches `seq` (an ack carries the last confirmed seq).
    pub async fn sync_to(&mut self, seq: u64) {
        while self.track.pos < seq {
            self.call(json!({"type": "ping"})).await;
        }
    }

    /// Cuts the connection abruptly, as a phone losing its signal.
    pub fn cut(&mut self) {
        self.counters.cut += 1;
        self.drop_conn();
    }

    /// One round: connect if needed, else handle one message or one timer.
    pub async fn step(&mut self) {
        if self.conn.is_none() {
            self.connect().await;
            return;
        }
        // What was submitted since the last round goes out now, as the web
        // client's `send` does (into a dead link too: then it is resent).
        self.flush().await;
        if self.conn.is_none() {
            return;
        }
        let now = Instant::now();
        let mut deadline = if self.synced {
            let quiet = self.last_rx.max(self.last_tx) + self.tuning.ping_after;
            quiet.min(self.last_rx + self.tuning.dead_after)
        } else {
            self.last_rx + self.tuning.connect_timeout
        };
        for t in [self.cut_at, self.wake_at].into_iter().flatten() {
            deadline = deadline.min(t);
        }
        if let Some(t) = self.outbox.iter().filter_map(|e| e.retry_at).min() {
            deadline = deadline.min(t);
        }
        let wait = deadline.saturating_duration_since(now).max(Duration::from_millis(1));
        let conn = self.conn.as_mut().expect("connected");
        match conn.next_within(wait).await {
            Some(Incoming::Json(v)) => self.on_message(v).await,
            Some(Incoming::Closed(c)) => {
                self.counters.closed.push(c.map(|(code, _)| code));
                self.drop_conn();
            }
            None => self.on_timer().await,
        }
    }

    async fn connect(&mut self) {
        if self.attempt > 0 {
            let capped = self.tuning.backoff_max.min(self.tuning.backoff_base * 2u32.saturating_pow(self.attempt.min(16) - 1));
            let delay = capped / 2 + capped.mul_f64(self.rng.random::<f64>() / 2.0);
            tokio::time::sleep(delay).await; // the backoff itself, not a wait for a message
        }
        self.attempt += 1;
        match tokio::time::timeout(self.tuning.connect_timeout, resume(&self.addr, &self.token, &self.track)).await {
            Ok(Ok(c)) => {
                let from = format!("connected from {:?}", self.track.epoch.as_ref().map(|_| self.track.pos));
                self.counters.connects += 1;
                self.conn = Some(c);
                self.conn_no += 1;
                self.synced = false;
                self.last_rx = Instant::now();
                self.last_tx = self.last_rx;
                self.cut_at = self.tuning.churn.map(|(lo, hi)| Instant::now() + self.rng.random_range(lo..=hi));
                self.note(from);
            }
            _ => self.counters.failed_connects += 1,
        }
    }

    fn drop_conn(&mut self) {
        if let Some(c) = self.conn.take() {
            self.note(format!("dropped at position {}", self.track.pos));
            c.abort();
        }
        self.synced = false;
        self.cut_at = None;
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        if self.cut_at.is_some_and(|t| now >= t) {
            self.cut();
        } else if now >= self.last_rx + if self.synced { self.tuning.dead_after } else { self.tuning.connect_timeout } {
            self.counters.dead += 1;
            self.drop_conn();
        } else if self.synced && now >= self.last_rx.max(self.last_tx) + self.tuning.ping_after {
            // Not in the outbox: a ping lost with its connection is not resent.
            self.next_id += 1;
            let id = format!("{}-{}-ping{}", self.label, std::process::id(), self.next_id);
            self.send(&id, json!({"type": "ping"})).await;
        } else {
            self.flush().await;
        }
    }

    async fn on_message(&mut self, v: Value) {
        self.last_rx = Instant::now();
        let len = v.to_string().len() as u64;
        self.counters.rx_bytes += len;
        if v["type"] == "stats" {
            self.counters.rx_stats_bytes += len;
        }
        self.note(format!("{} {} {}", v["type"].as_str().unwrap_or("?"), v["seq"], v["id"]));
        self.track.apply(&v);
        self.observe(&v);
        let kind = v["type"].as_str().unwrap_or("");
        if !self.synced && (kind == "snapshot" || (kind == "stats" && self.track.snapshots > 0)) {
            self.synced = true;
            self.attempt = 0;
        }
        if matches!(kind, "ack" | "error") {
            let id = v["id"].as_str().unwrap_or("").to_owned();
            if let Some(a) = self.answers.get_mut(&id) {
                a.all.push(v.clone());
            } else if let Some(i) = self.outbox.iter().position(|e| e.id == id) {
                if kind == "error" && v["retryable"] == true {
                    self.outbox[i].retry_at = Some(Instant::now() + Duration::from_secs(1));
                    self.outbox[i].sent_on = 0;
                } else {
                    let e = self.outbox.remove(i);
                    let latency = e.first_sent.map(|t| t.elapsed()).unwrap_or_default();
                    let first = if kind == "ack" { Ok(v.clone()) } else { Err(v.clone()) };
                    self.answers.insert(id, Answer { cmd: e.cmd, first, all: vec![v], latency });
                }
            }
        }
        self.flush().await;
    }

    /// Keeps the phase and the evaluations this phone's screen would show.
    fn observe(&mut self, v: &Value) {
        match v["type"].as_str() {
            Some("snapshot") => {
                self.phase = v["session"]["phase"].as_str().unwrap_or("").to_owned();
                let by_id =
                    |key: &str| v[key].as_array().into_iter().flatten().map(|e| (e["id"].as_u64().unwrap_or(0), e.clone())).collect();
                self.evaluations = by_id("evaluations");
                self.questions = by_id("questions");
            }
            Some("event") => {
                for c in v["changes"].as_array().into_iter().flatten() {
                    match c["entity"].as_str() {
                        Some("phase") => self.phase = c["phase"].as_str().unwrap_or("").to_owned(),
                        Some("evaluation") => {
                            self.evaluations.insert(c["evaluation"]["id"].as_u64().unwrap_or(0), c["evaluation"].clone());
                        }
                        Some("question") => {
                            self.questions.insert(c["question"]["id"].as_u64().unwrap_or(0), c["question"].clone());
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// An evaluation in `status` (e.g. `open`), if this phone sees one.
    pub fn evaluation(&self, status: &str) -> Option<&Value> {
        self.evaluations.values().find(|e| e["status"] == status)
    }

    /// Sends every queued command not yet sent on this connection (once in sync).
    async fn flush(&mut self) {
        if !self.synced {
            return;
        }
        let now = Instant::now();
        let due: Vec<(String, Value)> = self
            .outbox
            .iter_mut()
            .filter(|e| e.sent_on != self.conn_no && e.retry_at.is_none_or(|t| t <= now))
            .map(|e| {
                if e.first_sent.is_some() {
                    self.counters.resent += 1;
                }
                e.first_sent.get_or_insert(now);
                e.sent_on = self.conn_no;
                e.retry_at = None;
                (e.id.clone(), e.cmd.clone())
            })
            .collect();
        let sent_any = !due.is_empty();
        for (id, cmd) in due {
            self.send(&id, cmd).await;
        }
        if sent_any && self.conn.is_some() && self.rng.random::<f64>() < self.tuning.cut_after_send {
            self.cut();
        }
    }

    async fn send(&mut self, id: &str, cmd: Value) {
        if let Some(c) = self.conn.as_mut() {
            // A write into a link that is down can block once the socket
            // buffer is full; the deadline logic then gives up the connection.
            if tokio::time::timeout(self.tuning.dead_after, c.send(id, cmd)).await.is_err() {
                self.counters.dead += 1;
                self.drop_conn();
                return;
            }
            self.last_tx = Instant::now();
        }
    }
}

/// Percentile `p` (0–100) of `xs` (sorted here), nearest rank.
pub fn percentile(xs: &mut [Duration], p: f64) -> Duration {
    if xs.is_empty() {
        return Duration::ZERO;
    }
    xs.sort();
    let rank = ((p / 100.0) * xs.len() as f64).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}
