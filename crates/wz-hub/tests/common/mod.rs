//! Shared fixtures for the wz-hub integration tests: a small county session
//! (main venue + 2 sub-venues, delegates spread over them, 2 units, 2 topics),
//! a [`FlakyStore`] that can fail, hold, stall or panic in appends and report
//! unsafe persistence settings, and helpers that read a
//! connection the way a client would. Every wait is on the next message,
//! bounded by [`WAIT`] as a failure guard: nothing here sleeps.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use wz_domain::{Delegate, DelegateId, DelegateLevel, Limits, SessionDef, Topic, TopicId, Unit, UnitId, Venue, VenueId, VenueKind, Viewer};
use wz_hub::{ConnReceiver, Connection, Credential, Hub, HubConfig, Outbound, PrincipalKey};
use wz_protocol::client::{ClientMessage, Parsed};
use wz_protocol::server::AckDto;
use wz_protocol::{Epoch, Position};
use wz_store::{DynStore, MemoryStore, Store, StoreError, StoredSession};

/// Failure guard for every wait: a test that needs it has already failed.
pub const WAIT: Duration = Duration::from_secs(5);

pub const MAIN: &str = "main";
pub const BAIYU: &str = "baiyu";
pub const XINHUA: &str = "xinhua";
const VENUES: [&str; 3] = [MAIN, BAIYU, XINHUA];

/// Delegate id of the `i`-th delegate (0-based): `d01`, `d02`, …
pub fn did(i: usize) -> String {
    format!("d{:02}", i + 1)
}

/// Home venue of the `i`-th delegate: main, baiyu, xinhua, main, …
pub fn venue_of(i: usize) -> &'static str {
    VENUES[i % VENUES.len()]
}

/// A valid session definition with `delegates` delegates spread round-robin
/// over the three venues (d01 main, d02 baiyu, d03 xinhua, d04 main, …).
pub fn def(id: &str, delegates: usize) -> SessionDef {
    let venue = |id: &str, name: &str, kind| Venue { id: VenueId::new(id), name: name.into(), kind };
    SessionDef {
        id: id.into(),
        title: "县人大常委会2026年春季代表问政".into(),
        theme: "交通与教育".into(),
        venues: vec![
            venue(MAIN, "主会场", VenueKind::Main),
            venue(BAIYU, "白鱼镇联络站", VenueKind::Sub),
            venue(XINHUA, "新华街道联络站", VenueKind::Sub),
        ],
        delegates: (0..delegates)
            .map(|i| Delegate {
                id: DelegateId::new(did(i)),
                name: format!("代表{}", i + 1),
                level: DelegateLevel::ALL[i % DelegateLevel::ALL.len()],
                venue: VenueId::new(venue_of(i)),
            })
            .collect(),
        units: vec![Unit { id: UnitId::new("u1"), name: "县交通运输局".into() }, Unit { id: UnitId::new("u2"), name: "县教育局".into() }],
        topics: vec![Topic { id: TopicId::new("t1"), name: "道路".into() }, Topic { id: TopicId::new("t2"), name: "学校".into() }],
        limits: Limits::default(),
        time_zone: Default::default(),
        // The hub's tests have delegates check themselves in.
        check_in: wz_domain::CheckInPolicy::SelfService,
    }
}

/// Defaults, but stats only once an hour: tests that want `stats` set it.
pub fn quiet_config() -> HubConfig {
    HubConfig { stats_interval: Duration::from_secs(3600), ..HubConfig::default() }
}

pub fn delegate(i: usize) -> PrincipalKey {
    PrincipalKey::Delegate(DelegateId::new(did(i)))
}

pub fn operator(venue: &str) -> PrincipalKey {
    PrincipalKey::Operator(VenueId::new(venue))
}

// ---------------------------------------------------------------------------
// FlakyStore

/// A [`MemoryStore`] whose appends can be made to fail (`Unavailable`) or be
/// held until released, and which counts append calls.
#[derive(Default)]
pub struct FlakyStore {
    inner: MemoryStore,
    failing: AtomicBool,
    /// The next append is written but reported as a conflict: a write whose
    /// confirmation was lost.
    lose_confirmation: AtomicBool,
    appends: AtomicUsize,
    /// While `Some`, every append takes one permit first (`release` adds them).
    gate: Mutex<Option<Arc<Semaphore>>>,
    /// Appends currently waiting at the gate.
    waiting: watch::Sender<usize>,
    /// While set, pings never answer (with `hold`: a frozen store, as a
    /// Redis under SIGSTOP).
    stalled: AtomicBool,
    /// The next append panics (a bug in a store or below it).
    panic_next: AtomicBool,
    /// What `persistence_problems` reports.
    problems: Mutex<Vec<String>>,
}

impl FlakyStore {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// From now on, appends fail with `Unavailable` (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// The next append lands but reports `Conflict`.
    pub fn lose_next_confirmation(&self) {
        self.lose_confirmation.store(true, Ordering::SeqCst);
    }

    /// Append calls so far (failed and held ones included).
    pub fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }

    /// From now on, appends wait at the gate until released.
    pub fn hold(&self) {
        *self.gate.lock().unwrap() = Some(Arc::new(Semaphore::new(0)));
    }

    /// Lets `n` held (or future) appends through.
    pub fn release(&self, n: usize) {
        if let Some(g) = self.gate.lock().unwrap().as_ref() {
            g.add_permits(n);
        }
    }

    /// Opens the gate for good: every held and future append goes through.
    pub fn open(&self) {
        if let Some(g) = self.gate.lock().unwrap().take() {
            g.close();
        }
    }

    /// Freezes the store: appends wait at the gate and pings never answer,
    /// so the hub's probe times out.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
        self.hold();
    }

    /// Lets a frozen store run again: pings answer, held appends go through.
    pub fn unstall(&self) {
        self.stalled.store(false, Ordering::SeqCst);
        self.open();
    }

    /// The next append panics instead of writing.
    pub fn panic_next_append(&self) {
        self.panic_next.store(true, Ordering::SeqCst);
    }

    /// From now on the store reports these persistence problems.
    pub fn set_problems(&self, problems: &[&str]) {
        *self.problems.lock().unwrap() = problems.iter().map(|p| (*p).to_owned()).collect();
    }

    /// Waits until `n` appends are held at the gate.
    pub async fn until_held(&self, n: usize) {
        let mut rx = self.waiting.subscribe();
        tokio::time::timeout(WAIT, rx.wait_for(|w| *w >= n)).await.unwrap_or_else(|_| panic!("no {n} appends held")).expect("store alive");
    }
}

#[async_trait::async_trait]
impl Store for FlakyStore {
    fn kind(&self) -> &'static str {
        "flaky"
    }

    async fn create_session(&self, session: &str, meta: bytes::Bytes) -> Result<(), StoreError> {
        self.inner.create_session(session, meta).await
    }

    async fn append(&self, session: &str, first_seq: u64, events: Vec<wz_store::Record>) -> Result<(), StoreError> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        if self.panic_next.swap(false, Ordering::SeqCst) {
            panic!("test: the store panicked inside append");
        }
        let gate = self.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            self.waiting.send_modify(|w| *w += 1);
            // A closed gate (`open`) lets everything through.
            if let Ok(permit) = gate.acquire().await {
                permit.forget();
            }
            self.waiting.send_modify(|w| *w -= 1);
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("test: store switched off".into()));
        }
        self.inner.append(session, first_seq, events).await?;
        if self.lose_confirmation.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Conflict { session: session.to_owned(), expected: first_seq, got: first_seq });
        }
        Ok(())
    }

    async fn reset_derived(
        &self,
        session: &str,
        claims: std::collections::BTreeMap<String, String>,
        counters: std::collections::BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        self.inner.reset_derived(session, claims, counters).await
    }

    async fn load(&self, session: &str) -> Result<Option<StoredSession>, StoreError> {
        self.inner.load(session).await
    }

    async fn sessions(&self) -> Result<Vec<String>, StoreError> {
        self.inner.sessions().await
    }

    async fn put_credentials(&self, session: &str, creds: Vec<(String, String)>) -> Result<(), StoreError> {
        self.inner.put_credentials(session, creds).await
    }

    async fn credentials(&self, session: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.credentials(session).await
    }

    async fn put_attachment(&self, session: &str, id: &str, data: bytes::Bytes) -> Result<(), StoreError> {
        self.inner.put_attachment(session, id, data).await
    }

    async fn attachment(&self, session: &str, id: &str) -> Result<Option<bytes::Bytes>, StoreError> {
        self.inner.attachment(session, id).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.stalled.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    async fn persistence_problems(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.problems.lock().unwrap().clone())
    }
}

// ---------------------------------------------------------------------------
// Messages

/// A client message from JSON, through the real parser.
pub fn msg(v: Value) -> ClientMessage {
    wz_protocol::client::parse(&v.to_string()).unwrap_or_else(|e| panic!("bad test message {v}: {e:?}"))
}

/// A domain command from client JSON (for commands issued outside a socket).
pub fn command(v: Value) -> wz_domain::Command {
    match msg(v.clone()).command.into_domain() {
        Ok(Parsed::Command(c)) => c,
        Ok(Parsed::Ping) => panic!("ping is not a command"),
        Err(e) => panic!("{v} is not a command: {e:?}"),
    }
}

/// The next thing the connection yields (frame or close).
pub async fn next_out(rx: &mut ConnReceiver) -> Outbound {
    tokio::time::timeout(WAIT, rx.next()).await.expect("timed out waiting for a message").expect("connection ended")
}

/// The next frame, parsed; panics on a close.
pub async fn next_json(rx: &mut ConnReceiver) -> Value {
    match next_out(rx).await {
        Outbound::Frame(b) => serde_json::from_slice(&b).expect("server sends JSON"),
        Outbound::Close(c) => panic!("connection closed with {c:?}"),
    }
}

/// Skips messages until one satisfies `pred`, and returns it.
pub async fn until(rx: &mut ConnReceiver, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let v = next_json(rx).await;
        if pred(&v) {
            return v;
        }
    }
}

pub fn is_type(v: &Value, ty: &str) -> bool {
    v["type"] == ty
}

/// The next message that is not `stats`.
pub async fn next_msg(rx: &mut ConnReceiver) -> Value {
    until(rx, |v| !is_type(v, "stats")).await
}

/// The events (and anything else but stats) before the `ack`/`error` of
/// command `id`, and that answer.
pub async fn answer(rx: &mut ConnReceiver, id: &str) -> (Vec<Value>, Value) {
    let mut before = Vec::new();
    loop {
        let v = next_msg(rx).await;
        if (is_type(&v, "ack") || is_type(&v, "error")) && v["id"] == id {
            return (before, v);
        }
        before.push(v);
    }
}

/// Sends a command on a connection.
pub async fn send(conn: &Connection, v: Value) {
    conn.sender.command(msg(v)).await.expect("session alive");
}

/// Sends a command and returns what arrived before its answer, and the answer.
pub async fn call(conn: &mut Connection, v: Value) -> (Vec<Value>, Value) {
    let id = v["id"].as_str().expect("command has an id").to_owned();
    send(conn, v).await;
    answer(&mut conn.receiver, &id).await
}

static BARRIER: AtomicU64 = AtomicU64::new(0);

/// Everything (but stats) queued for this connection by the work the session
/// finished so far: sends a ping and collects what arrives before its ack.
/// Valid once the commands of interest were answered (their batch is done).
pub async fn barrier(conn: &mut Connection) -> Vec<Value> {
    let id = format!("barrier-{}", BARRIER.fetch_add(1, Ordering::Relaxed));
    let (before, ack) = call(conn, json!({"type": "ping", "id": id})).await;
    assert!(is_type(&ack, "ack"), "ping answered with {ack}");
    before
}

/// `v` without any `server_time` field (the only thing that changes by itself).
/// Drops what differs between two reads of the same state: the clock, and
/// the store's health as last probed.
pub fn strip_time(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("server_time");
                m.remove("store_available");
                // A venue's heartbeat moves with every message its clients send.
                m.remove("last_seen");
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

pub fn seq(v: &Value) -> u64 {
    v["seq"].as_u64().unwrap_or_else(|| panic!("no seq in {v}"))
}

// ---------------------------------------------------------------------------
// A running session

pub struct Harness {
    pub hub: Hub,
    pub id: String,
    pub creds: Vec<Credential>,
}

impl Harness {
    /// A hub on `store` with one session of `delegates` delegates.
    pub async fn start(store: DynStore, config: HubConfig, id: &str, delegates: usize) -> Self {
        let hub = Hub::new(store, config);
        let creds = hub.create_session(def(id, delegates)).await.expect("session created");
        Self { hub, id: id.into(), creds }
    }

    pub async fn memory(config: HubConfig, delegates: usize) -> Self {
        Self::start(Arc::new(MemoryStore::new()), config, "s1", delegates).await
    }

    pub fn token(&self, key: &PrincipalKey) -> String {
        self.creds.iter().find(|c| &c.key == key).unwrap_or_else(|| panic!("no credential for {key}")).token.clone()
    }

    /// Opens a connection with the principal's credential; `since` resumes
    /// in the session's current epoch.
    pub async fn connect(&self, key: &PrincipalKey, since: Option<u64>) -> Connection {
        let from = match since {
            Some(seq) => Some(Position { epoch: self.epoch().await, seq }),
            None => None,
        };
        self.connect_from(key, from).await
    }

    /// Opens a connection resuming from exactly `from` (any epoch).
    pub async fn connect_from(&self, key: &PrincipalKey, from: Option<Position>) -> Connection {
        let p = self.hub.authenticate(&self.token(key)).expect("token authenticates");
        assert_eq!(&p.key, key);
        self.hub.connect(&p, from).await.expect("connected")
    }

    /// The session's epoch, as its snapshots carry it.
    pub async fn epoch(&self) -> Epoch {
        let snap = self.snapshot(Viewer::Screen).await;
        Epoch::parse(snap["epoch"].as_str().expect("snapshots carry the epoch")).expect("a well-formed epoch")
    }

    /// A fresh connection with its snapshot already read.
    pub async fn join(&self, key: &PrincipalKey) -> (Connection, Value) {
        let mut c = self.connect(key, None).await;
        let snap = next_json(&mut c.receiver).await;
        assert!(is_type(&snap, "snapshot"), "first message {snap}");
        (c, snap)
    }

    /// Runs a command as the moderator outside a socket; panics unless acked.
    pub async fn moderate(&self, v: Value) -> AckDto {
        self.hub
            .command(&self.id, Viewer::Moderator, command(v.clone()))
            .await
            .expect("session alive")
            .unwrap_or_else(|e| panic!("{v} refused: {e:?}"))
    }

    /// The snapshot `viewer` would get now, without server times.
    pub async fn snapshot(&self, viewer: Viewer) -> Value {
        let text = self.hub.snapshot(&self.id, viewer).await.expect("session alive");
        strip_time(serde_json::from_str(&text).expect("JSON"))
    }

    /// The session's public record (participation and, once an evaluation
    /// is closed, its choices under their receipt codes), as JSON.
    pub async fn record(&self) -> Value {
        let r = Hub::public_record(self.hub.store(), &self.id).await.expect("the record holds");
        serde_json::from_str(&r.encode()).expect("JSON")
    }

    pub async fn advance(&self, to: &str) -> AckDto {
        self.moderate(json!({"type": "advance_phase", "id": format!("to-{to}"), "to": to})).await
    }

    pub async fn check_in(&self, i: usize) -> AckDto {
        self.moderate(json!({"type": "check_in", "id": format!("in-{i}"), "delegate": did(i)})).await
    }

    /// Moves to the evaluation phase with delegates `0..present` checked in
    /// and evaluation 1 open on both units. Returns the session's seq.
    pub async fn to_evaluation(&self, present: usize) -> u64 {
        self.advance("check_in").await;
        for i in 0..present {
            self.check_in(i).await;
        }
        self.advance("questioning").await;
        self.advance("evaluation").await;
        let ack = self.moderate(json!({"type": "open_evaluation", "id": "open-1", "units": ["u1", "u2"]})).await;
        ack.seq
    }
}

/// A `cast_ballot` message.
pub fn ballot(id: &str, ballot_id: &str, unit: &str, rating: &str) -> Value {
    json!({"type": "cast_ballot", "id": id, "ballot_id": ballot_id, "evaluation": 1, "unit": unit, "rating": rating})
}
