//! The Wenzheng hub: live sessions in memory, one owner task each.
//!
//! A [`Hub`] routes credentials to sessions and sessions to their actor task
//! (`dashmap` is used for routing only). Each session's actor is the single
//! writer of that session's state: it validates commands with the domain,
//! writes the resulting events to the store, and only after the store
//! confirms does it acknowledge the commands and broadcast the events.
//!
//! Architecture Invariant: nothing is acknowledged or broadcast before the
//! store has confirmed it; a failed write restores the state as it was.
//!
//! Architecture Invariant: every outbound queue is bounded; a client that
//! cannot keep up is closed with `slow_consumer` (4008) and resumes on reconnect.
//!
//! Every task the hub starts is owned: the health probe and one supervisor per
//! session live in the hub's task set (aborted with the hub), and each
//! supervisor owns its actor's handle (`supervisor.rs`); an actor outlives a
//! dropped hub only as long as its connections do.

mod actor;
mod cluster;
mod conn;
mod credentials;
mod followup;
pub use actor::FileInfo;
pub use cluster::MAX_CATCH_UPS;
pub use followup::MAX_EVIDENCE_BYTES;
mod ring;
mod supervisor;

pub use conn::{ConnReceiver, ConnSender, Connection, Outbound};
pub use credentials::{Credential, JoinCode, Principal, PrincipalKey};

use actor::{ActorMsg, SessionActor};
use dashmap::DashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wz_domain::{Millis, SessionDef, Viewer};
use wz_protocol::server::{AckDto, ErrorDto};
use wz_store::{DynStore, StoreError};

/// Tunables, with the documented defaults.
#[derive(Clone)]
pub struct HubConfig {
    /// Messages queued per connection before it counts as a slow consumer.
    pub outbound_queue: usize,
    /// Bytes queued per connection before it counts as a slow consumer (one
    /// message is always accepted into an empty queue).
    pub outbound_queue_bytes: usize,
    /// Messages queued for one session actor; senders wait when it is full.
    pub actor_queue: usize,
    /// Most commands written to the store in one group commit.
    pub max_batch: usize,
    /// How often conflated live numbers (presence, turnout, tallies) go out.
    pub stats_interval: Duration,
    /// Events kept in memory for resuming clients.
    pub resume_window: usize,
    /// Open connections per personal credential (moderator, venue operator,
    /// delegate): a phone and a reconnecting tab. The newest is admitted and
    /// the oldest closed with `replaced` (4409).
    pub max_connections_per_credential: usize,
    /// Open connections per shared credential (the screen, used by every
    /// screen of every venue, and the auditor); same rule.
    pub max_connections_per_shared_credential: usize,
    /// Wall clock in Unix milliseconds; tests inject their own.
    pub clock: Arc<dyn Fn() -> Millis + Send + Sync>,
    /// The store's persistence problems as read at start (see
    /// [`wz_store::Store::persistence_problems`]); the health probe keeps them
    /// current. While there are any, ballots and evaluation changes are
    /// refused with `unavailable` naming the setting, unless
    /// `allow_unsafe_store`.
    pub store_problems: Vec<String>,
    /// Development escape hatch (`--allow-unsafe-redis`): evaluations run on
    /// an unsafe store; the problems are only shown as a warning.
    pub allow_unsafe_store: bool,
    /// Warnings shown to the moderator and the auditor (and logged).
    pub warnings: Vec<String>,
    /// How often the store's health is probed (drives `store_available`).
    pub health_interval: Duration,
    /// How long a probe (or a group commit) may take before the store counts
    /// as unavailable for clients, and how long the persistence re-check
    /// before opening an evaluation may take.
    pub health_timeout: Duration,
    /// Restarts of one session's actor allowed within a minute; past that
    /// the session refuses connections until the server is restarted.
    pub max_restarts: u32,
    /// This node's id when several nodes share the store (issue 12,
    /// `--node-id`); `None`: the only node. Ignored on a store that cannot
    /// be shared (memory, embedded).
    pub node: Option<String>,
    /// How long a session's lease lasts unless renewed (renewed every third
    /// of it): the longest a session is without an owner after its owner
    /// node dies, before another node takes over.
    pub lease_ttl: Duration,
    /// How long a command forwarded to the owner may wait for its answer
    /// before its client gets `unavailable` (and retries with the same id).
    pub forward_timeout: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            outbound_queue: 1024,
            outbound_queue_bytes: 4 * 1024 * 1024,
            actor_queue: 4096,
            max_batch: 256,
            stats_interval: Duration::from_millis(200),
            resume_window: 10_000,
            max_connections_per_credential: 4,
            max_connections_per_shared_credential: 200,
            clock: Arc::new(system_clock),
            store_problems: Vec::new(),
            allow_unsafe_store: false,
            warnings: Vec::new(),
            health_interval: Duration::from_secs(1),
            health_timeout: Duration::from_secs(1),
            max_restarts: 5,
            node: None,
            lease_ttl: Duration::from_secs(3),
            forward_timeout: Duration::from_secs(5),
        }
    }
}

impl HubConfig {
    /// How many connections `key` may have open at once.
    pub fn connection_cap(&self, key: &PrincipalKey) -> usize {
        match key {
            PrincipalKey::Screen | PrincipalKey::Auditor => self.max_connections_per_shared_credential,
            // The office and a unit are a few staff at desks and on phones:
            // as many as an operator's desk, not a screen wall's.
            PrincipalKey::Moderator
            | PrincipalKey::Operator(_)
            | PrincipalKey::Delegate(_)
            | PrincipalKey::Office
            | PrincipalKey::Unit(_) => self.max_connections_per_credential,
        }
    }
}

pub fn system_clock() -> Millis {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Millis(d.as_millis() as u64)
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no session {0}")]
    NoSession(String),
    #[error("session {0} already exists")]
    Exists(String),
    #[error("no such participant {0}")]
    NoPrincipal(String),
    #[error("invalid session definition: {0}")]
    Definition(#[from] wz_domain::DefinitionError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("stored data of session {session} cannot be read: {detail}")]
    Corrupt { session: String, detail: String },
    /// The session's record did not hold at start: it is not served (the
    /// others are). `wenzheng verify` names the same entry.
    #[error("session {session} is not served: its record does not hold: {detail}")]
    Refused { session: String, detail: String },
    #[error("the session is shutting down")]
    Closed,
}

/// Problems found by the start-up cross-check: evaluation id → descriptions.
/// Evaluation 0 collects problems not tied to one evaluation.
pub type Review = std::collections::BTreeMap<u32, Vec<String>>;

/// The result of a command issued outside a WebSocket (REST).
pub type CommandResult = Result<AckDto, ErrorDto>;

/// What `Hub::verify` found in a session's record that holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    /// The chain head (64 hex digits).
    pub head: String,
    /// Stored claims or counters that disagree with the log.
    pub problems: Vec<String>,
}

/// What `Hub::audit` found in a stored session that holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub report: VerifyReport,
    pub record: wz_protocol::record::PublicRecord,
    pub checked: wz_protocol::record::Checked,
}

fn verify_report(loaded: &Loaded) -> VerifyReport {
    VerifyReport { events: loaded.session.seq(), head: loaded.head.hex(), problems: loaded.review.values().flatten().cloned().collect() }
}

/// A read-only copy of a session as confirmed by the store (`Hub::state`).
#[derive(Clone, Debug)]
pub struct SessionState {
    pub session: wz_domain::Session,
    /// The head of the record's hash chain: the last confirmed record's hash.
    pub head: wz_protocol::stored::ChainHead,
    /// The hub's clock when the copy was taken (documents are dated by it).
    pub now: wz_domain::Millis,
}

struct SessionHandle {
    /// The current actor's queue; replaced when the supervisor restarts it.
    tx: mpsc::Sender<ActorMsg>,
    title: String,
    /// The session's links to the other nodes (issue 12), kept across restarts.
    link: Option<actor::Link>,
}

/// What the health probe last found out about the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoreHealth {
    /// The store answered its last probe in time.
    pub available: bool,
    /// Settings that put acknowledged writes at risk (empty when safe).
    pub problems: Vec<String>,
}

struct Inner {
    store: DynStore,
    /// The store's health as last probed; sessions show it to clients.
    health: tokio::sync::watch::Sender<StoreHealth>,
    config: HubConfig,
    sessions: DashMap<String, SessionHandle>,
    /// Sessions whose stored record did not hold at start → why: refused
    /// alone, so one broken record does not take every session down.
    refused: DashMap<String, String>,
    /// SHA-256 hex of a credential → who presents it.
    credentials: DashMap<String, Principal>,
    /// The health probe and the session supervisors: aborted with the hub.
    tasks: std::sync::Mutex<tokio::task::JoinSet<()>>,
    /// Bumped whenever a supervisor restarted an actor or gave up on one.
    supervision: tokio::sync::watch::Sender<u64>,
    /// The store's shared side and this node's id, when several nodes run.
    cluster: Option<cluster::Node>,
    /// Set by `Hub::shutdown`: lease keepers take no lease any more.
    stopping: std::sync::atomic::AtomicBool,
    /// Bumped whenever this node takes or loses a session's lease.
    ownership: tokio::sync::watch::Sender<u64>,
    /// The id of the last notice this node has acted on (several nodes).
    notices_seen: tokio::sync::watch::Sender<String>,
}

/// A session rebuilt from the store.
pub(crate) struct Loaded {
    pub session: wz_domain::Session,
    /// The session's incarnation, from its stored header.
    pub epoch: wz_protocol::Epoch,
    /// (principal, command id) → (seq of its last event, its reply): lets a
    /// command retried after a restart be answered instead of run again.
    pub acked: actor::Acked,
    /// Evaluations whose stored claims or counters disagree with the log.
    pub review: Review,
    /// The claims and counters the log implies.
    pub derived: Derived,
    /// Time of the last event: the actor's clock never goes below it.
    pub last_at: Millis,
    /// The head of the record's hash chain: the next record links to it.
    pub head: wz_protocol::stored::ChainHead,
}

/// Claims (key → (ballot id, seq)) and counters a log implies.
pub(crate) type Derived = (std::collections::BTreeMap<String, (String, u64)>, std::collections::BTreeMap<String, u64>);

/// The claim (key, holder) and the counter a record carries to the store:
/// what the protocol says a ballot is, named by the store (`wz_store::keys`).
pub(crate) fn derived(e: &wz_domain::Event) -> (Option<(String, String)>, Option<String>) {
    match wz_protocol::stored::ballot_keys(e) {
        Some(b) => (
            Some((wz_store::keys::ballot_claim(b.evaluation, b.unit, b.delegate), b.ballot_id.to_owned())),
            Some(wz_store::keys::tally_counter(b.evaluation, b.unit, &b.rating)),
        ),
        None => (None, None),
    }
}

/// The claims and counters a log implies (the log is the record; these are
/// derived from it and kept by the store for atomic uniqueness and fast reads).
fn derived_from_log<'a>(events: impl IntoIterator<Item = (u64, &'a wz_domain::Event)>) -> Derived {
    let mut claims = std::collections::BTreeMap::new();
    let mut counters = std::collections::BTreeMap::new();
    for (seq, e) in events {
        let (claim, count) = derived(e);
        if let Some((k, v)) = claim {
            claims.insert(k, (v, seq));
        }
        if let Some(k) = count {
            *counters.entry(k).or_insert(0) += 1;
        }
    }
    (claims, counters)
}

/// Compares what the store holds next to the log with what the log implies;
/// each difference names the session, the key (evaluation, unit, delegate or
/// rating) and the log entry.
fn cross_check(
    id: &str,
    (want_claims, want_counters): &Derived,
    claims: &std::collections::BTreeMap<String, String>,
    counters: &std::collections::BTreeMap<String, u64>,
) -> Review {
    let mut review = Review::new();
    let mut report = |key: &str, problem: String| {
        let ev = wz_store::keys::evaluation_of(key).unwrap_or(0);
        review.entry(ev).or_default().push(format!("session {id}: {problem}"));
    };
    for (k, (v, seq)) in want_claims {
        match claims.get(k) {
            Some(held) if held == v => {}
            Some(held) => report(k, format!("{k} is held by ballot {held:?} but log entry {seq} records ballot {v:?}")),
            None => report(k, format!("{k} is missing; log entry {seq} records ballot {v:?}")),
        }
    }
    for (k, held) in claims {
        if wz_store::keys::evaluation_of(k).is_some() && !want_claims.contains_key(k) {
            report(k, format!("{k} is held by ballot {held:?} but no log entry records it"));
        }
    }
    let keys: std::collections::BTreeSet<&String> = want_counters.keys().chain(counters.keys()).collect();
    for k in keys {
        let (want, have) = (want_counters.get(k).copied().unwrap_or(0), counters.get(k).copied().unwrap_or(0));
        if want != have {
            report(k, format!("counter {k} is {have} but the log has {want} such ballots"));
        }
    }
    review
}

/// Reads a session's definition and log from the store and replays it.
pub(crate) async fn load_session(store: &DynStore, id: &str) -> Result<Loaded, HubError> {
    let stored = store.load(id).await?.ok_or_else(|| HubError::NoSession(id.to_owned()))?;
    replay(id, &stored, |_, _, _, _| {})
}

/// Checks a stored session's chain and replays its log, handing each
/// record to `each` as it is read (seq, bytes, event, meta), so a caller
/// that needs more of the records (the public record) reads them only once.
fn replay(
    id: &str,
    stored: &wz_store::StoredSession,
    mut each: impl FnMut(u64, &[u8], &wz_domain::Event, wz_protocol::stored::RecordMeta),
) -> Result<Loaded, HubError> {
    let corrupt = |detail: String| HubError::Corrupt { session: id.to_owned(), detail };
    let (def, epoch, seal) = wz_protocol::stored::decode_header(&stored.meta).map_err(|e| corrupt(e.to_string()))?;
    // A broken chain refuses the session, naming the first bad entry.
    let head = wz_protocol::stored::chain::check(&stored.meta, &stored.events)
        .map_err(|e| corrupt(format!("the record's hash chain is broken at {e}")))?;
    let mut session = wz_domain::Session::new(def);
    if let Some(seal) = seal {
        session = session.with_seal(seal);
    }
    let mut acked = actor::Acked::new();
    let mut events = Vec::with_capacity(stored.events.len());
    for (i, raw) in stored.events.iter().enumerate() {
        let (event, meta) = wz_protocol::stored::decode_record(raw).map_err(|e| corrupt(format!("event {}: {e}", i + 1)))?;
        session.apply(&event).map_err(|e| corrupt(e.to_string()))?;
        // A command's records are consecutive; its reply follows from its last
        // one, so the entry of its last record is the one that stays.
        if let (Some(by), Some(cmd)) = (&meta.by, &meta.cmd) {
            acked.insert((by.clone(), cmd.clone()), (session.seq(), wz_domain::Reply::of_events(std::slice::from_ref(&event))));
        }
        each(i as u64 + 1, raw, &event, meta);
        events.push(event);
    }
    let derived = derived_from_log((1u64..).zip(&events));
    let review = cross_check(id, &derived, &stored.claims, &stored.counters);
    let last_at = events.last().map_or(Millis(0), wz_domain::Event::at);
    Ok(Loaded { session, epoch, acked, review, derived, last_at, head })
}

impl Inner {
    /// A new actor task for a loaded session, and its queue.
    fn start_actor(&self, loaded: Loaded, link: Option<actor::Link>) -> (mpsc::Sender<ActorMsg>, tokio::task::JoinHandle<actor::Exit>) {
        let (tx, rx) = mpsc::channel(self.config.actor_queue);
        let actor = SessionActor::new(loaded.session, loaded.acked, self.store.clone(), self.config.clone(), rx)
            .with_link(link)
            .with_health(self.health.subscribe())
            .with_review(loaded.review)
            .with_last_at(loaded.last_at)
            .with_epoch(loaded.epoch)
            .with_head(loaded.head);
        (tx, tokio::spawn(actor.run()))
    }
}

/// Cheap to clone; all clones share the same sessions.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// A line of a session's listing.
#[derive(Clone, Debug)]
pub struct SessionSummary {
    pub id: String,
    pub title: String,
}

impl Hub {
    pub fn new(store: DynStore, mut config: HubConfig) -> Self {
        // Zero would stop a session (batch) or panic (tokio channels).
        config.max_batch = config.max_batch.max(1);
        config.actor_queue = config.actor_queue.max(1);
        config.outbound_queue = config.outbound_queue.max(1);
        config.resume_window = config.resume_window.max(1);
        // Zero would refuse every connection of the credential.
        config.max_connections_per_credential = config.max_connections_per_credential.max(1);
        config.max_connections_per_shared_credential = config.max_connections_per_shared_credential.max(1);
        let (health, _) = tokio::sync::watch::channel(StoreHealth { available: true, problems: config.store_problems.clone() });
        let tasks = std::sync::Mutex::new(tokio::task::JoinSet::new());
        let (supervision, _) = tokio::sync::watch::channel(0);
        let cluster = cluster::Node::of(&store, &config);
        let inner = Inner {
            store,
            health,
            config,
            sessions: DashMap::new(),
            refused: DashMap::new(),
            credentials: DashMap::new(),
            tasks,
            supervision,
            cluster,
            stopping: Default::default(),
            ownership: tokio::sync::watch::channel(0).0,
            notices_seen: tokio::sync::watch::channel(String::new()).0,
        };
        let hub = Self { inner: Arc::new(inner) };
        hub.spawn_health_probe();
        if hub.inner.cluster.is_some() {
            hub.spawn_task(cluster::notices(Arc::downgrade(&hub.inner)));
        }
        hub
    }

    /// Starts a task owned by the hub (aborted when the hub is dropped).
    fn spawn_task(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Reap finished tasks so the set does not grow with restarts.
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(task, &rt);
    }

    /// Probes the store on an interval so that clients learn when it is gone
    /// (results may be stale) and when it is back, even while nobody writes;
    /// and re-reads its persistence settings, so that a store made unsafe
    /// at run time (`CONFIG SET appendfsync everysec`) stops evaluations
    /// within one interval, and a fixed one resumes them.
    fn spawn_health_probe(&self) {
        let weak = Arc::downgrade(&self.inner);
        let every = self.inner.config.health_interval;
        let timeout = self.inner.config.health_timeout;
        self.spawn_task(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let store = inner.store.clone();
                drop(inner);
                let ok = tokio::time::timeout(timeout, store.ping()).await.is_ok_and(|r| r.is_ok());
                metrics::gauge!("wz_store_up").set(if ok { 1.0 } else { 0.0 });
                // Unknown when the store does not answer: keep what we knew.
                let problems = match ok {
                    true => tokio::time::timeout(timeout, store.persistence_problems()).await.ok().and_then(Result::ok),
                    false => None,
                };
                let Some(inner) = weak.upgrade() else { return };
                inner.health.send_if_modified(|h| {
                    let next = StoreHealth { available: ok, problems: problems.unwrap_or_else(|| h.problems.clone()) };
                    if next.problems != h.problems {
                        match next.problems.is_empty() {
                            true => tracing::info!("store persistence settings are safe again"),
                            false => tracing::warn!(problems = %next.problems.join("; "), "store persistence settings are unsafe"),
                        }
                    }
                    std::mem::replace(h, next) != *h
                });
            }
        });
    }

    /// Whether the store answered its last health probe.
    pub fn store_available(&self) -> bool {
        self.inner.health.borrow().available
    }

    /// Counts supervision events (an actor restarted, or given up on) since
    /// the hub started: lets a caller await a restart instead of polling.
    pub fn supervision(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.supervision.subscribe()
    }

    /// Whether evaluations run although the store is unsafe (`--allow-unsafe-redis`).
    pub fn allows_unsafe_store(&self) -> bool {
        self.inner.config.allow_unsafe_store
    }

    /// The store's persistence problems as last probed (empty when safe).
    pub fn store_problems(&self) -> Vec<String> {
        self.inner.health.borrow().problems.clone()
    }

    pub fn store(&self) -> &DynStore {
        &self.inner.store
    }

    pub fn now(&self) -> Millis {
        (self.inner.config.clock)()
    }

    /// Loads every stored session (replaying its log) and its credentials.
    pub async fn load_all(&self) -> Result<usize, HubError> {
        let ids = self.inner.store.sessions().await?;
        for id in &ids {
            self.load(id).await?;
        }
        Ok(ids.len())
    }

    async fn load(&self, id: &str) -> Result<(), HubError> {
        if self.inner.sessions.contains_key(id) {
            // Already live: a second actor would be a second writer.
            return Ok(());
        }
        let loaded = match load_session(&self.inner.store, id).await {
            Ok(loaded) => loaded,
            // A record that does not hold (a broken chain, an event that
            // does not replay): this session is refused, the others served.
            // Its credentials still resolve, so its people are told why.
            Err(HubError::Corrupt { detail, .. }) => {
                tracing::error!(session = %id, problem = %detail, "the session's stored record does not hold; it is not served (see `wenzheng verify`)");
                metrics::gauge!("wz_sessions_refused").increment(1.0);
                self.load_credentials(id).await?;
                self.inner.refused.insert(id.to_owned(), detail);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.load_credentials(id).await?;
        for (ev, problems) in &loaded.review {
            for p in problems {
                tracing::error!(session = %id, evaluation = ev, problem = %p, "stored tallies disagree with the log; evaluation closed for changes until repaired");
            }
        }
        self.spawn(loaded);
        Ok(())
    }

    async fn load_credentials(&self, id: &str) -> Result<(), HubError> {
        for (key, stored) in self.inner.store.credentials(id).await? {
            let key = PrincipalKey::parse(&key)
                .ok_or_else(|| HubError::Corrupt { session: id.to_owned(), detail: format!("bad principal {key}") })?;
            let hashes = credentials::StoredHashes::decode(&stored);
            let principal = Principal { session: id.to_owned(), key };
            if let Some(code) = hashes.code {
                self.inner.credentials.insert(code, principal.clone());
            }
            self.inner.credentials.insert(hashes.token, principal);
        }
        Ok(())
    }

    /// Sessions not served because their stored record did not hold, with why.
    pub fn refused(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self.inner.refused.iter().map(|e| (e.key().clone(), e.value().clone())).collect();
        v.sort();
        v
    }

    /// Starts a session's actor under a supervisor that restarts it from
    /// the store if it panics.
    fn spawn(&self, loaded: Loaded) {
        let id = loaded.session.def().id.clone();
        let title = loaded.session.def().title.clone();
        let seq = loaded.session.seq();
        let link = self.inner.cluster.as_ref().map(cluster::Node::link);
        let (tx, actor) = self.inner.start_actor(loaded, link.as_ref().map(|(l, _)| l.clone()));
        self.inner.sessions.insert(id.clone(), SessionHandle { tx, title, link: link.as_ref().map(|(l, _)| l.clone()) });
        self.spawn_task(supervisor::supervise(Arc::downgrade(&self.inner), id.clone(), actor));
        if let Some((link, outbox)) = link {
            for task in cluster::session_tasks(Arc::downgrade(&self.inner), id, seq, link, outbox) {
                self.spawn_task(task);
            }
        }
    }

    /// Creates a session and one credential per participant. The returned
    /// tokens exist nowhere else: only their hashes are stored.
    pub async fn create_session(&self, def: SessionDef) -> Result<Vec<Credential>, HubError> {
        def.validate()?;
        if self.inner.sessions.contains_key(&def.id) {
            return Err(HubError::Exists(def.id.clone()));
        }
        // A new incarnation: positions of any earlier session with this id
        // (a wiped and re-seeded store) must not resume into this one.
        let epoch = wz_protocol::Epoch::new(rand::random());
        // The key of the session's receipt codes: random, kept in the header only.
        let seal = wz_domain::Seal(rand::random());
        let meta = wz_protocol::stored::encode_header(&def, epoch, Some(&seal));
        let head = wz_protocol::stored::ChainHead::genesis(&meta);
        self.inner.store.create_session(&def.id, meta.into()).await.map_err(|e| match e {
            StoreError::AlreadyExists(id) => HubError::Exists(id),
            e => HubError::Store(e),
        })?;
        let mut creds = credentials::issue_all(&def);
        self.save_credentials(&def.id, &mut creds).await?;
        let session = wz_domain::Session::new(def).with_seal(seal);
        self.spawn(Loaded {
            session,
            acked: actor::Acked::new(),
            epoch,
            review: Review::new(),
            derived: Derived::default(),
            last_at: Millis(0),
            head,
        });
        Ok(creds)
    }

    async fn save_credentials(&self, session: &str, creds: &mut [Credential]) -> Result<(), HubError> {
        self.unique_codes(creds);
        let rows = creds.iter().map(|c| (c.key.to_string(), c.stored().encode())).collect();
        self.inner.store.put_credentials(session, rows).await?;
        if let Some(node) = &self.inner.cluster {
            // The other nodes read them back; until then they refuse them.
            let notice = wz_protocol::forward::Notice::Credentials {
                node: node.id.clone(),
                session: session.to_owned(),
                keys: creds.iter().map(|c| c.key.to_string()).collect(),
            };
            if let Err(e) = node.cluster.notify(notice.encode().into()).await {
                tracing::warn!(session = %session, error = %e, "cannot tell the other nodes of new credentials; they learn them at their next start");
            }
        }
        for c in creds.iter() {
            let principal = Principal { session: session.to_owned(), key: c.key.clone() };
            self.inner.credentials.insert(c.code().hash(), principal.clone());
            self.inner.credentials.insert(c.hash(), principal);
        }
        Ok(())
    }

    /// Issues again any credential whose join code another credential on
    /// this node already has (50 bits: about one in 10^12 for a county's
    /// thousand), so that a code names one participant only.
    fn unique_codes(&self, creds: &mut [Credential]) {
        let mut seen = std::collections::HashSet::new();
        for c in creds.iter_mut() {
            loop {
                let code = c.code().hash();
                if !self.inner.credentials.contains_key(&code) && seen.insert(code) {
                    break;
                }
                *c = Credential::issue(c.key.clone());
            }
        }
    }

    /// Issues new credentials for the given participants of a session,
    /// revoking their old ones and closing connections that used them.
    pub async fn reissue(&self, session: &str, keys: &[PrincipalKey]) -> Result<Vec<Credential>, HubError> {
        let tx = self.sender(session)?;
        let known = self.principals(session);
        if let Some(k) = keys.iter().find(|k| !known.contains(k)) {
            return Err(HubError::NoPrincipal(k.to_string()));
        }
        let mut creds: Vec<Credential> = keys.iter().map(|k| Credential::issue(k.clone())).collect();
        self.save_credentials(session, &mut creds).await?;
        let new: std::collections::HashSet<String> = creds.iter().flat_map(|c| [c.hash(), c.code().hash()]).collect();
        self.inner.credentials.retain(|hash, p| !(p.session == session && keys.contains(&p.key) && !new.contains(hash)));
        let _ = tx.send(ActorMsg::Revoke { keys: keys.to_vec() }).await;
        Ok(creds)
    }

    /// Who presents this credential (a token, or a join code in any
    /// spelling a person types), if anyone.
    pub fn authenticate(&self, credential: &str) -> Option<Principal> {
        self.inner.credentials.get(&credentials::hash_presented(credential)).map(|p| p.clone())
    }

    pub fn sessions(&self) -> Vec<SessionSummary> {
        let mut v: Vec<SessionSummary> =
            self.inner.sessions.iter().map(|e| SessionSummary { id: e.key().clone(), title: e.value().title.clone() }).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn sender(&self, session: &str) -> Result<mpsc::Sender<ActorMsg>, HubError> {
        if let Some(why) = self.inner.refused.get(session) {
            return Err(HubError::Refused { session: session.to_owned(), detail: why.value().clone() });
        }
        self.inner.sessions.get(session).map(|h| h.tx.clone()).ok_or_else(|| HubError::NoSession(session.to_owned()))
    }

    /// Opens a connection. With a position `from` in the session's current
    /// epoch, the client gets exactly the events after it that it may see;
    /// otherwise (no position, another epoch, events no longer held in
    /// memory, a seq ahead of the session) a snapshot. More connections on
    /// one credential than its cap close the oldest with `replaced` (4409).
    ///
    /// The caller's current span is the connection's (the server's span per
    /// WebSocket): the hub records the connection's id and venue in it
    /// (fields `conn` and `venue`, when it declares them) and makes it the
    /// parent of its own log lines about the connection.
    pub async fn connect(&self, principal: &Principal, from: Option<wz_protocol::Position>) -> Result<Connection, HubError> {
        let tx = self.sender(&principal.session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::Connect { key: principal.key.clone(), from, reply, span: tracing::Span::current() })
            .await
            .map_err(|_| HubError::Closed)?;
        let parts = rx.await.map_err(|_| HubError::Closed)?;
        Ok(Connection::new(parts, principal.clone(), tx))
    }

    /// Runs a command as `viewer` outside a WebSocket (REST, CLI).
    pub async fn command(&self, session: &str, viewer: Viewer, cmd: wz_domain::Command) -> Result<CommandResult, HubError> {
        let tx = self.sender(session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::Direct { viewer, cmd, reply }).await.map_err(|_| HubError::Closed)?;
        rx.await.map_err(|_| HubError::Closed)
    }

    /// Adds delegates to a preparing session (CSV import) and issues their
    /// credentials. If storing the credentials fails after the import was
    /// recorded, the delegates exist without credentials: reissue them.
    pub async fn import_delegates(
        &self,
        session: &str,
        delegates: Vec<wz_domain::Delegate>,
    ) -> Result<(CommandResult, Vec<Credential>), HubError> {
        let mut creds = credentials::issue_for(&delegates);
        let r = self.command(session, Viewer::Moderator, wz_domain::Command::ImportDelegates { delegates }).await?;
        if r.is_err() {
            return Ok((r, Vec::new()));
        }
        self.save_credentials(session, &mut creds).await?;
        Ok((r, creds))
    }

    /// The snapshot `viewer` would get, as JSON text (the `snapshot` message).
    pub async fn snapshot(&self, session: &str, viewer: Viewer) -> Result<String, HubError> {
        let dto = self.snapshot_dto(session, viewer).await?;
        Ok(wz_protocol::server::ServerMessage::Snapshot(dto).encode())
    }

    /// The snapshot `viewer` would get, typed (REST answers pick from it).
    pub async fn snapshot_dto(&self, session: &str, viewer: Viewer) -> Result<Box<wz_protocol::server::SnapshotDto>, HubError> {
        let tx = self.sender(session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::Snapshot { viewer, reply }).await.map_err(|_| HubError::Closed)?;
        rx.await.map_err(|_| HubError::Closed)
    }

    /// Credentials (keys only) of a session, for reissuing join links.
    pub fn principals(&self, session: &str) -> Vec<PrincipalKey> {
        let mut v: Vec<PrincipalKey> =
            self.inner.credentials.iter().filter(|e| e.value().session == session).map(|e| e.value().key.clone()).collect();
        v.sort();
        // A credential is in the map under its token and under its code.
        v.dedup();
        v
    }

    /// Checks a stored session's record without serving it: the hash chain
    /// and the replay (a failure names the first bad entry), then the stored
    /// claims and counters against a recount of the log.
    pub async fn verify(store: &DynStore, session: &str) -> Result<VerifyReport, HubError> {
        let loaded = load_session(store, session).await?;
        Ok(verify_report(&loaded))
    }

    /// Everything `wenzheng verify` checks of a stored session, reading it
    /// once: the chain, the replay, the claims and counters (`report`), then
    /// its public record, built from the same pass and checked (`record`,
    /// `checked`: every revealed result recounted).
    pub async fn audit(store: &DynStore, session: &str) -> Result<Audit, HubError> {
        let stored = store.load(session).await?.ok_or_else(|| HubError::NoSession(session.to_owned()))?;
        let mut entries = Vec::with_capacity(stored.events.len());
        let loaded = replay(session, &stored, |seq, raw, event, meta| {
            entries.push(wz_protocol::record::entry_line(seq, raw, event.kind(), meta.prev));
        })?;
        let genesis = wz_protocol::stored::ChainHead::genesis(&stored.meta);
        let record = wz_protocol::record::assemble(&genesis, &loaded.head, entries, &loaded.session);
        let checked = wz_protocol::record::check(&record)
            .map_err(|e| HubError::Corrupt { session: session.to_owned(), detail: format!("the public record does not hold: {e}") })?;
        Ok(Audit { report: verify_report(&loaded), record, checked })
    }

    /// The public record of a stored session (issue 9; `wz_protocol::record`),
    /// published only once its chain, its replay and its recounts hold.
    pub async fn public_record(store: &DynStore, session: &str) -> Result<wz_protocol::record::PublicRecord, HubError> {
        Ok(Self::audit(store, session).await?.record)
    }

    /// The receipt check: is a ballot or a follow-up rating with this code in
    /// the confirmed record, and counted? `None` for a code that is not 16
    /// lowercase hex digits.
    pub async fn receipt(&self, session: &str, code: &str) -> Result<Option<wz_protocol::record::ReceiptCheckDto>, HubError> {
        if !wz_protocol::record::is_code(code) {
            return Ok(None);
        }
        let st = self.state(session).await?;
        Ok(Some(wz_protocol::record::find_receipt(&st.session, &st.head, code)))
    }

    /// Rewrites a session's claims and counters from its log: the operator's
    /// repair after a start-up cross-check. Restart the server afterwards.
    pub async fn repair(store: &DynStore, session: &str) -> Result<usize, HubError> {
        let loaded = load_session(store, session).await?;
        let problems: usize = loaded.review.values().map(Vec::len).sum();
        let (claims, counters) = loaded.derived;
        store.reset_derived(session, claims.into_iter().map(|(k, (v, _))| (k, v)).collect(), counters).await?;
        Ok(problems)
    }

    /// Asks every session actor to close its connections with `going_away`;
    /// with several nodes, first gives up this node's leases, so that
    /// another node takes its sessions over at once.
    pub async fn shutdown(&self) {
        self.inner.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        let handles: Vec<_> = self.inner.sessions.iter().map(|e| (e.key().clone(), e.value().tx.clone(), e.value().link.clone())).collect();
        for (session, tx, link) in handles {
            if let Some(link) = link {
                let token = link.lease.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                if let Some(token) = token {
                    // The actor steps down first: nothing it writes after the release.
                    let _ = tx.send(ActorMsg::Role { role: actor::Role::Follower }).await;
                    if let Err(e) = link.cluster.release(&session, &link.node, token).await {
                        tracing::warn!(session = %session, error = %e, "cannot give the session's lease up; another node takes over when it expires");
                    }
                }
            }
            let _ = tx.send(ActorMsg::Shutdown).await;
        }
    }
}
