//! Durable storage for Wenzheng sessions.
//!
//! A public questioning session of a county people's congress is an officially
//! recorded proceeding, so what the server acknowledged must survive a crash or
//! restart exactly as it was sent. This crate is the single place that decides
//! *how* that happens: it is the only crate that knows key layouts and table
//! names. Everything it stores is opaque bytes; records are encoded and decoded
//! by `wz-protocol`, so a storage backend can never misinterpret (or "fix up")
//! the content of the record.
//!
//! The model is deliberately small:
//!
//! * a **session** is created once with an opaque header record (`meta`);
//! * its **event log** is append-only, numbered 1, 2, 3, ... without gaps, and
//!   every append names the sequence number it expects to write next, so a
//!   second writer (or a retried request) is detected as a [`StoreError::Conflict`]
//!   instead of silently interleaving or duplicating records;
//! * per-session **credentials** map a principal (`"delegate:d017"`) to a
//!   credential hash; replacing one revokes the old credential;
//! * per-session **attachments** (a unit's evidence photos and PDFs) are
//!   write-once blobs under an id the caller chooses (a content hash), stored
//!   as durably as the log, before the event that refers to them;
//! * for a backup, everything of a session can be read (`load`,
//!   `credentials`, `attachment_ids`) and written back in one atomic step
//!   (`import_session`, then its attachments).
//!
//! Three backends implement [`Store`]: [`MemoryStore`] (tests, demos, dry
//! runs), [`EmbeddedStore`] (redb file, fsync on every commit) and
//! [`RedisStore`] (a Redis 7 server, durable with `appendfsync always`). All
//! are checked by the same behavioural suite in [`conformance`], so callers
//! can rely on the semantics documented on the trait rather than on a backend.
//!
//! The module `testing` starts throw-away `redis-server` processes for tests
//! and benchmarks (this crate's and other crates'). It is compiled always,
//! not behind a cargo feature, so that a crate needing it at run time (the
//! benchmarks) does not change this crate's features for a workspace build:
//! `cargo build --release --workspace` and `cargo run --release` (the server
//! alone) then share one build (issue 10). The cargo feature `testing` only
//! adds the tamper helpers (`overwrite_log_for_tests`), for dev-dependencies.

use bytes::Bytes;

pub mod cluster;
pub mod conformance;
mod embedded;
pub mod keys;
mod memory;
mod redis;
mod redis_cluster;
pub mod testing;

pub use self::redis::{RedisPersistence, RedisStore};
pub use embedded::EmbeddedStore;
pub use memory::MemoryStore;

/// Shared handle to whichever backend the server was configured with.
pub type DynStore = std::sync::Arc<dyn Store>;

/// Everything that can go wrong in a [`Store`].
///
/// The variants are split by what the caller should *do*: the first three are
/// answers about the data (do not retry blindly), [`StoreError::Unavailable`]
/// is retryable, and [`StoreError::Corrupt`] needs an operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session {0} already exists")]
    AlreadyExists(String),
    #[error("session {0} not found")]
    NotFound(String),
    /// The log already holds events past `expected`: another writer got there first.
    #[error("append conflict on {session}: expected next seq {expected}, got {got}")]
    Conflict { session: String, expected: u64, got: u64 },
    /// Backend unreachable or failing; retryable.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (corruption, wrong format).
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// A record's claim is already held: e.g. a second ballot for the same
    /// (evaluation, unit, delegate). Nothing of the append was written.
    #[error("claim {key} of {session} is already held by {held_by}")]
    Claimed { session: String, key: String, held_by: String },
    /// Other bytes are already stored under this attachment id: ids are
    /// write-once (the caller derives them from the content).
    #[error("attachment {id} of {session} already holds other bytes")]
    AttachmentDiffers { session: String, id: String },
    /// Another node holds the session's lease (issue 12): an append by a
    /// stale owner (its fencing token is not the latest), or one without a
    /// token while a node owns the session. Nothing was written.
    #[error("append to {session} refused: {detail}")]
    Fenced { session: String, detail: String },
    /// More bytes than the store takes for one attachment ([`MAX_ATTACHMENT_BYTES`]).
    #[error("attachment of {len} bytes is larger than the store's limit of {max}")]
    AttachmentTooLarge { len: usize, max: usize },
}

/// The largest attachment any backend stores. The server's own limits per
/// file are lower; this is the floor under them (a Redis string may hold
/// 512 MB, but one value that large would stall the server for everyone).
pub const MAX_ATTACHMENT_BYTES: usize = 32 << 20;

/// One record to append: the encoded event, plus what the store enforces and
/// counts alongside it, atomically with the append.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The encoded event (opaque to the store).
    pub data: Bytes,
    /// A unique claim: the append fails with [`StoreError::Claimed`] if the
    /// key is already held (by any value). Used for one ballot per
    /// (evaluation, unit, delegate), so no retry, race or second server
    /// process can ever record two.
    pub claim: Option<(String, String)>,
    /// A counter incremented by one with this record (live tallies kept next
    /// to the log, cross-checked against it at start-up).
    pub count: Option<String>,
}

impl Record {
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self { data: data.into(), claim: None, count: None }
    }
}

impl From<Bytes> for Record {
    fn from(data: Bytes) -> Self {
        Self::new(data)
    }
}

/// Everything stored for one session, as returned by [`Store::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The header record given to [`Store::create_session`], byte for byte.
    pub meta: Bytes,
    /// The event log; `events[i]` has sequence number `i + 1`.
    pub events: Vec<Bytes>,
    /// Claims held, key → value.
    pub claims: std::collections::BTreeMap<String, String>,
    /// Counters, key → value.
    pub counters: std::collections::BTreeMap<String, u64>,
}

impl StoredSession {
    /// Sequence number the next append must use (`events.len() + 1`).
    pub fn next_seq(&self) -> u64 {
        self.events.len() as u64 + 1
    }
}

/// A session store. All methods are safe to call concurrently from many tasks.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Short name for logs and /readyz ("memory", "embedded", "redis").
    fn kind(&self) -> &'static str;

    /// Creates a session with an opaque header record (title etc.). Fails with AlreadyExists.
    async fn create_session(&self, session: &str, meta: Bytes) -> Result<(), StoreError>;

    /// Appends `records` so that the first gets sequence number `first_seq` (1-based). All or nothing.
    /// `first_seq` must equal (number of stored events + 1), else Conflict { expected: len+1, got: first_seq }.
    /// Any record whose claim key is already held (before or earlier in this
    /// batch) fails the whole append with Claimed. Counters of the records are
    /// incremented in the same atomic step.
    /// NotFound if the session does not exist. When this returns Ok, the records are durable
    /// (fsync'd for the embedded store, AOF-fsync'd for Redis with `appendfsync always`).
    /// An empty `records` vec is Ok and a no-op (still checks existence and first_seq).
    async fn append(&self, session: &str, first_seq: u64, records: Vec<Record>) -> Result<(), StoreError>;

    /// Replaces all claims and counters of a session: the operator's repair
    /// after a start-up cross-check found them disagreeing with the log (the
    /// log is the record; claims and counters are derived from it).
    async fn reset_derived(
        &self,
        session: &str,
        claims: std::collections::BTreeMap<String, String>,
        counters: std::collections::BTreeMap<String, u64>,
    ) -> Result<(), StoreError>;

    /// Everything stored for a session, events in sequence order; None when absent.
    async fn load(&self, session: &str) -> Result<Option<StoredSession>, StoreError>;

    /// Ids of all sessions, sorted ascending.
    async fn sessions(&self) -> Result<Vec<String>, StoreError>;

    /// Sets (insert or replace) the credential hash of one principal of a session, e.g. principal "delegate:d017" -> hash hex.
    /// Replacing revokes the old credential. NotFound if the session does not exist.
    /// All pairs are written together or not at all; if a principal appears
    /// twice in `creds`, the later pair wins.
    async fn put_credentials(&self, session: &str, creds: Vec<(String, String)>) -> Result<(), StoreError>;

    /// All (principal, hash) pairs of a session, sorted by principal.
    /// NotFound if the session does not exist (an unknown session is a caller
    /// bug, not "a session nobody may join").
    async fn credentials(&self, session: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Stores an attachment of a session under `id`, durably (as an append
    /// is) when this returns Ok. Write-once: the same bytes again are Ok (a
    /// retried upload), other bytes under a used id fail with
    /// [`StoreError::AttachmentDiffers`] and change nothing. More than
    /// [`MAX_ATTACHMENT_BYTES`] fails with [`StoreError::AttachmentTooLarge`].
    /// NotFound if the session does not exist.
    async fn put_attachment(&self, session: &str, id: &str, data: Bytes) -> Result<(), StoreError>;

    /// An attachment's bytes exactly as stored; None when there is none under
    /// `id`. NotFound if the session does not exist.
    async fn attachment(&self, session: &str, id: &str) -> Result<Option<Bytes>, StoreError>;

    /// The ids of a session's attachments, sorted ascending (for a backup:
    /// read them after [`Store::load`], and every attachment an event of the
    /// loaded log refers to is listed, since an attachment is stored before
    /// its event). NotFound if the session does not exist.
    ///
    /// Every store of this crate implements this and [`Store::import_session`];
    /// the defaults (Unavailable) are for test doubles that wrap a store.
    async fn attachment_ids(&self, session: &str) -> Result<Vec<String>, StoreError> {
        let _ = session;
        Err(StoreError::Unavailable(format!("the {} store cannot list attachments", self.kind())))
    }

    /// Creates a session with everything a backup holds of it, in one atomic
    /// step: the header, the events (numbered from 1, written as they are:
    /// no claim is checked or taken, no counter counted), the claims and
    /// counters exactly as given, and the credentials. Restoring a backup
    /// (`wenzheng restore`) is the only caller; the server never imports.
    /// Fails with AlreadyExists, and writes nothing, when the session exists.
    /// Attachments follow with [`Store::put_attachment`].
    async fn import_session(&self, session: &str, stored: StoredSession, credentials: Vec<(String, String)>) -> Result<(), StoreError> {
        let _ = (session, stored, credentials);
        Err(StoreError::Unavailable(format!("the {} store cannot import a session", self.kind())))
    }

    /// Cheap check that the store is reachable *and takes writes now*, used
    /// by the hub's health probe and /readyz: Redis writes a small expiring
    /// probe key (a Redis that answers PING may still refuse writes), the
    /// embedded store begins a write transaction, the memory store is up.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Settings of the backend that would let an acknowledged write be lost
    /// in a crash (e.g. Redis with `appendfsync everysec`), each in words an
    /// operator can act on; empty when every acknowledged write is durable.
    /// The hub reads this at start, with every health probe and right before
    /// an evaluation opens, and refuses ballots while it is not empty.
    /// The memory and embedded stores have no such settings: always empty.
    /// Errors only when the backend cannot be reached.
    async fn persistence_problems(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// What several nodes on this store share, when it can be shared
    /// (Redis); `None` for a store inside one process.
    fn cluster(&self) -> Option<std::sync::Arc<dyn cluster::Cluster>> {
        None
    }
}

/// Checks a batch's claims against those held and against each other;
/// shared by the backends so they refuse exactly the same batches.
pub(crate) fn check_claims(
    session: &str,
    records: &[Record],
    held: impl Fn(&str) -> Result<Option<String>, StoreError>,
) -> Result<(), StoreError> {
    let mut seen = std::collections::BTreeMap::new();
    for r in records {
        if let Some((key, value)) = &r.claim {
            let holder = match seen.get(key.as_str()) {
                Some(v) => Some(String::clone(v)),
                None => held(key)?,
            };
            if let Some(held_by) = holder {
                return Err(StoreError::Claimed { session: session.to_owned(), key: key.clone(), held_by });
            }
            seen.insert(key.as_str(), value.clone());
        }
    }
    Ok(())
}

/// Refuses an attachment over [`MAX_ATTACHMENT_BYTES`]; shared by the backends.
pub(crate) fn check_attachment_size(data: &[u8]) -> Result<(), StoreError> {
    if data.len() > MAX_ATTACHMENT_BYTES {
        return Err(StoreError::AttachmentTooLarge { len: data.len(), max: MAX_ATTACHMENT_BYTES });
    }
    Ok(())
}

/// What to do with an attachment write, given what the id holds already.
pub(crate) fn attachment_write(session: &str, id: &str, held: Option<&[u8]>, data: &[u8]) -> Result<bool, StoreError> {
    match held {
        None => Ok(true),
        Some(h) if h == data => Ok(false),
        Some(_) => Err(StoreError::AttachmentDiffers { session: session.to_owned(), id: id.to_owned() }),
    }
}

/// The [`StoreError::Conflict`] both backends return; one constructor keeps
/// the field order (`expected` = what the log needs, `got` = what was asked)
/// from drifting between them.
pub(crate) fn conflict(session: &str, stored_len: u64, first_seq: u64) -> StoreError {
    StoreError::Conflict { session: session.to_owned(), expected: stored_len + 1, got: first_seq }
}
