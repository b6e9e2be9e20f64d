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

mod actor;
mod conn;
mod credentials;
mod ring;

pub use conn::{ConnReceiver, ConnSender, Connection, Outbound};
pub use credentials::{Credential, Principal, PrincipalKey};

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
    /// Messages queued for one session actor; senders wait when it is full.
    pub actor_queue: usize,
    /// Most commands written to the store in one group commit.
    pub max_batch: usize,
    /// How often conflated live numbers (presence, turnout, tallies) go out.
    pub stats_interval: Duration,
    /// Events kept in memory for resuming clients.
    pub resume_window: usize,
    /// Wall clock in Unix milliseconds; tests inject their own.
    pub clock: Arc<dyn Fn() -> Millis + Send + Sync>,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            outbound_queue: 1024,
            actor_queue: 4096,
            max_batch: 256,
            stats_interval: Duration::from_millis(200),
            resume_window: 10_000,
            clock: Arc::new(system_clock),
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
    #[error("the session is shutting down")]
    Closed,
}

/// The result of a command issued outside a WebSocket (REST).
pub type CommandResult = Result<AckDto, ErrorDto>;

struct SessionHandle {
    tx: mpsc::Sender<ActorMsg>,
    title: String,
}

struct Inner {
    store: DynStore,
    config: HubConfig,
    sessions: DashMap<String, SessionHandle>,
    /// SHA-256 hex of a credential → who presents it.
    credentials: DashMap<String, Principal>,
}

/// A session rebuilt from the store.
pub(crate) struct Loaded {
    pub session: wz_domain::Session,
    /// (principal, command id) → (seq of its last event, its reply): lets a
    /// command retried after a restart be answered instead of run again.
    pub acked: actor::Acked,
}

/// Reads a session's definition and log from the store and replays it.
pub(crate) async fn load_session(store: &DynStore, id: &str) -> Result<Loaded, HubError> {
    let stored = store.load(id).await?.ok_or_else(|| HubError::NoSession(id.to_owned()))?;
    let corrupt = |detail: String| HubError::Corrupt { session: id.to_owned(), detail };
    let def = wz_protocol::stored::decode_definition(&stored.meta).map_err(|e| corrupt(e.to_string()))?;
    let mut session = wz_domain::Session::new(def);
    let mut acked = actor::Acked::new();
    // Records of one command are consecutive and share (by, cmd).
    let mut run: Vec<wz_domain::Event> = Vec::new();
    let mut run_key: Option<(String, String)> = None;
    for (i, raw) in stored.events.iter().enumerate() {
        let (event, meta) =
            wz_protocol::stored::decode_record(raw).map_err(|e| corrupt(format!("event {}: {e}", i + 1)))?;
        session.apply(&event).map_err(|e| corrupt(e.to_string()))?;
        let key = meta.by.zip(meta.cmd);
        if key != run_key {
            run.clear();
        }
        run.push(event);
        if let Some(k) = &key {
            acked.insert(k.clone(), (session.seq(), wz_domain::Reply::of_events(&run)));
        }
        run_key = key;
    }
    Ok(Loaded { session, acked })
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
        Self { inner: Arc::new(Inner { store, config, sessions: DashMap::new(), credentials: DashMap::new() }) }
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
        let corrupt = |detail: String| HubError::Corrupt { session: id.to_owned(), detail };
        let loaded = load_session(&self.inner.store, id).await?;
        for (key, hash) in self.inner.store.credentials(id).await? {
            let key = PrincipalKey::parse(&key).ok_or_else(|| corrupt(format!("bad principal {key}")))?;
            self.inner.credentials.insert(hash, Principal { session: id.to_owned(), key });
        }
        self.spawn(loaded.session, loaded.acked);
        Ok(())
    }

    fn spawn(&self, session: wz_domain::Session, acked: actor::Acked) {
        let id = session.def().id.clone();
        let title = session.def().title.clone();
        let (tx, rx) = mpsc::channel(self.inner.config.actor_queue);
        let actor = SessionActor::new(session, acked, self.inner.store.clone(), self.inner.config.clone(), rx);
        tokio::spawn(actor.run());
        self.inner.sessions.insert(id, SessionHandle { tx, title });
    }

    /// Creates a session and one credential per participant. The returned
    /// tokens exist nowhere else: only their hashes are stored.
    pub async fn create_session(&self, def: SessionDef) -> Result<Vec<Credential>, HubError> {
        def.validate()?;
        if self.inner.sessions.contains_key(&def.id) {
            return Err(HubError::Exists(def.id.clone()));
        }
        let meta = wz_protocol::stored::encode_definition(&def);
        self.inner.store.create_session(&def.id, meta.into()).await.map_err(|e| match e {
            StoreError::AlreadyExists(id) => HubError::Exists(id),
            e => HubError::Store(e),
        })?;
        let creds = credentials::issue_all(&def);
        self.save_credentials(&def.id, &creds).await?;
        self.spawn(wz_domain::Session::new(def), actor::Acked::new());
        Ok(creds)
    }

    async fn save_credentials(&self, session: &str, creds: &[Credential]) -> Result<(), HubError> {
        let rows = creds.iter().map(|c| (c.key.to_string(), c.hash())).collect();
        self.inner.store.put_credentials(session, rows).await?;
        for c in creds {
            self.inner.credentials.insert(c.hash(), Principal { session: session.to_owned(), key: c.key.clone() });
        }
        Ok(())
    }

    /// Issues new credentials for the given participants of a session,
    /// revoking their old ones and closing connections that used them.
    pub async fn reissue(&self, session: &str, keys: &[PrincipalKey]) -> Result<Vec<Credential>, HubError> {
        let tx = self.sender(session)?;
        let known = self.principals(session);
        if let Some(k) = keys.iter().find(|k| !known.contains(k)) {
            return Err(HubError::NoPrincipal(k.to_string()));
        }
        let creds: Vec<Credential> = keys.iter().map(|k| Credential::issue(k.clone())).collect();
        self.save_credentials(session, &creds).await?;
        let new: std::collections::HashSet<String> = creds.iter().map(|c| c.hash()).collect();
        self.inner
            .credentials
            .retain(|hash, p| !(p.session == session && keys.contains(&p.key) && !new.contains(hash)));
        let _ = tx.send(ActorMsg::Revoke { keys: keys.to_vec() }).await;
        Ok(creds)
    }

    /// Who presents this token, if anyone.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        self.inner.credentials.get(&credentials::hash_token(token)).map(|p| p.clone())
    }

    pub fn sessions(&self) -> Vec<SessionSummary> {
        let mut v: Vec<SessionSummary> = self
            .inner
            .sessions
            .iter()
            .map(|e| SessionSummary { id: e.key().clone(), title: e.value().title.clone() })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn sender(&self, session: &str) -> Result<mpsc::Sender<ActorMsg>, HubError> {
        self.inner.sessions.get(session).map(|h| h.tx.clone()).ok_or_else(|| HubError::NoSession(session.to_owned()))
    }

    /// Opens a connection. With `since`, the client gets exactly the events
    /// after that sequence number it may see, or a snapshot when they are no
    /// longer held in memory.
    pub async fn connect(&self, principal: &Principal, since: Option<u64>) -> Result<Connection, HubError> {
        let tx = self.sender(&principal.session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::Connect { key: principal.key.clone(), since, reply }).await.map_err(|_| HubError::Closed)?;
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
        let creds = credentials::issue_for(&delegates);
        let r = self.command(session, Viewer::Moderator, wz_domain::Command::ImportDelegates { delegates }).await?;
        if r.is_err() {
            return Ok((r, Vec::new()));
        }
        self.save_credentials(session, &creds).await?;
        Ok((r, creds))
    }

    /// The snapshot `viewer` would get, as JSON text.
    pub async fn snapshot(&self, session: &str, viewer: Viewer) -> Result<String, HubError> {
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
        v
    }

    /// Asks every session actor to close its connections with `going_away`.
    pub async fn shutdown(&self) {
        let txs: Vec<_> = self.inner.sessions.iter().map(|e| e.value().tx.clone()).collect();
        for tx in txs {
            let _ = tx.send(ActorMsg::Shutdown).await;
        }
    }
}
