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
//!   credential hash; replacing one revokes the old credential.
//!
//! Two backends implement [`Store`]: [`MemoryStore`] (tests, demos, dry runs)
//! and [`EmbeddedStore`] (redb file, fsync on every commit). Both are checked
//! by the same behavioural suite in [`conformance`], so callers can rely on
//! the semantics documented on the trait rather than on a backend.

use bytes::Bytes;

pub mod conformance;
mod embedded;
mod memory;

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
    Conflict {
        session: String,
        expected: u64,
        got: u64,
    },
    /// Backend unreachable or failing; retryable.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (corruption, wrong format).
    #[error("store corrupt: {0}")]
    Corrupt(String),
}

/// Everything stored for one session, as returned by [`Store::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The header record given to [`Store::create_session`], byte for byte.
    pub meta: Bytes,
    /// The event log; `events[i]` has sequence number `i + 1`.
    pub events: Vec<Bytes>,
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
    /// Short name for logs and /readyz ("memory", "embedded").
    fn kind(&self) -> &'static str;

    /// Creates a session with an opaque header record (title etc.). Fails with AlreadyExists.
    async fn create_session(&self, session: &str, meta: Bytes) -> Result<(), StoreError>;

    /// Appends `events` so that the first gets sequence number `first_seq` (1-based). All or nothing.
    /// `first_seq` must equal (number of stored events + 1), else Conflict { expected: len+1, got: first_seq }.
    /// NotFound if the session does not exist. When this returns Ok, the events are durable (fsync'd for the embedded store).
    /// An empty `events` vec is Ok and a no-op (still checks existence and first_seq).
    async fn append(
        &self,
        session: &str,
        first_seq: u64,
        events: Vec<Bytes>,
    ) -> Result<(), StoreError>;

    /// Everything stored for a session, events in sequence order; None when absent.
    async fn load(&self, session: &str) -> Result<Option<StoredSession>, StoreError>;

    /// Ids of all sessions, sorted ascending.
    async fn sessions(&self) -> Result<Vec<String>, StoreError>;

    /// Sets (insert or replace) the credential hash of one principal of a session, e.g. principal "delegate:d017" -> hash hex.
    /// Replacing revokes the old credential. NotFound if the session does not exist.
    /// All pairs are written together or not at all; if a principal appears
    /// twice in `creds`, the later pair wins.
    async fn put_credentials(
        &self,
        session: &str,
        creds: Vec<(String, String)>,
    ) -> Result<(), StoreError>;

    /// All (principal, hash) pairs of a session, sorted by principal.
    /// NotFound if the session does not exist (an unknown session is a caller
    /// bug, not "a session nobody may join").
    async fn credentials(&self, session: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Cheap liveness check used by /readyz.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The [`StoreError::Conflict`] both backends return; one constructor keeps
/// the field order (`expected` = what the log needs, `got` = what was asked)
/// from drifting between them.
pub(crate) fn conflict(session: &str, stored_len: u64, first_seq: u64) -> StoreError {
    StoreError::Conflict {
        session: session.to_owned(),
        expected: stored_len + 1,
        got: first_seq,
    }
}
