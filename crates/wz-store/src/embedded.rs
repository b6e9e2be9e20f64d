//! Embedded [`Store`] on a single redb file: the backend for real sessions.
//!
//! A county congress questioning session is small (thousands of events, not
//! millions) but must not lose an acknowledged record, so the design favours
//! simplicity and durability over throughput:
//!
//! * one file, `wenzheng.redb`, in a data directory owned by exactly one
//!   server process. redb locks the file, so a second open (another process,
//!   or a second `EmbeddedStore` in the same process) fails with
//!   [`StoreError::Unavailable`] instead of two writers corrupting the log;
//! * every write is one redb write transaction committed with the default
//!   `Durability::Immediate`, i.e. fsync'd before the call returns;
//! * the "is `first_seq` the next number?" check runs inside the same write
//!   transaction as the insert. redb admits one write transaction at a time,
//!   so the check and the append are atomic with respect to every other writer;
//! * redb is synchronous, so each operation runs on tokio's blocking pool and
//!   never stalls the async workers that serve the live WebSocket traffic.
//!
//! Table layout (these names exist nowhere else in the workspace):
//!
//! | table         | key                   | value              |
//! |---------------|-----------------------|--------------------|
//! | `meta`        | `&str`                | `u64`              |
//! | `sessions`    | session id            | header record      |
//! | `events`      | (session id, seq)     | event record       |
//! | `credentials` | (session id, principal) | credential hash  |
//! | `claims`      | (session id, claim key) | claim value      |
//! | `counters`    | (session id, counter key) | `u64` count    |
//!
//! Claims and counters are written in the same write transaction as the
//! events they come with, after the claim check, so they can never disagree
//! with the log except by outside tampering (which `reset_derived` repairs).
//!
//! `meta["format"]` holds [`FORMAT_VERSION`]; a file with any other version is
//! refused with [`StoreError::Corrupt`] rather than misread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use redb::{
    CommitError, Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError, TableDefinition, TableError, TableHandle,
    TransactionError,
};
use std::collections::BTreeMap;

use crate::{Record, Store, StoreError, StoredSession, check_claims, conflict};

/// Name of the database file inside the data directory.
pub(crate) const FILE_NAME: &str = "wenzheng.redb";

/// Version of the table layout above. Bump it (and write a migration) whenever
/// a table, key or value type changes meaning; old binaries then refuse the
/// new file instead of misreading it.
pub(crate) const FORMAT_VERSION: u64 = 1;
pub(crate) const FORMAT_KEY: &str = "format";

pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
const EVENTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("events");
const CREDENTIALS: TableDefinition<(&str, &str), &str> = TableDefinition::new("credentials");
/// (session, claim key) → claim value.
const CLAIMS: TableDefinition<(&str, &str), &str> = TableDefinition::new("claims");
/// (session, counter key) → count.
const COUNTERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("counters");
/// (session, attachment id) → the attachment's bytes. Added after format 1
/// without a version change: opening an older file creates the table empty.
const ATTACHMENTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("attachments");

/// Durable store in `<dir>/wenzheng.redb`. Cheap to share behind an `Arc`.
///
/// If a caller drops an operation's future before it completes (say, the
/// client disconnected), the blocking transaction still runs to completion:
/// the write may or may not have happened. The sequence check makes that safe
/// to resolve — a retry with the same `first_seq` gets a `Conflict`, and
/// `load` shows what is really stored.
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Replaces a session's whole log with `events`, numbered from 1: what
    /// an intruder with write access to the data file could do. For the
    /// record's tamper tests only (cargo feature `testing`); never called by
    /// the server.
    #[cfg(feature = "testing")]
    pub async fn overwrite_log_for_tests(&self, session: &str, events: Vec<Bytes>) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            {
                let mut table = txn.open_table(EVENTS).store()?;
                let len = last_seq(&table, &session)?;
                for seq in 1..=len {
                    table.remove((session.as_str(), seq)).store()?;
                }
                for (seq, data) in (1u64..).zip(&events) {
                    table.insert((session.as_str(), seq), data.as_ref()).store()?;
                }
            }
            txn.commit().store()?;
            Ok(())
        })
        .await
    }

    /// Opens (creating if needed) the data directory `dir` and its
    /// `wenzheng.redb` file, verifying the file's integrity and format version.
    ///
    /// This blocks on file I/O (a full integrity check reads the whole file),
    /// so call it at startup, or from `spawn_blocking`.
    ///
    /// Errors: [`StoreError::Unavailable`] if the directory cannot be created
    /// or the file is already open (one server owns a data dir);
    /// [`StoreError::Corrupt`] if the file is damaged, is not a Wenzheng file,
    /// or has a different format version.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(format!("cannot create data dir {}: {e}", dir.display())))?;
        let path = dir.join(FILE_NAME);
        // A plain redb open trusts the file and may panic on damage done
        // outside redb (a bad disk, a careless copy). Checking on open turns
        // that into a clean `Corrupt` at startup, before the session begins;
        // the files are small enough that the extra read is negligible.
        let db = Database::builder().set_check_integrity_on_open(true).create(&path).map_err(|e| match e {
            DatabaseError::DatabaseAlreadyOpen => {
                StoreError::Unavailable(format!("{} is already open: one server owns a data dir", path.display()))
            }
            other => in_file(&path, other.into_store_error()),
        })?;
        init_or_check_format(&db).map_err(|e| in_file(&path, e))?;
        Ok(Self { db: Arc::new(db), path })
    }

    /// Opens the data directory `dir` like [`EmbeddedStore::open`], but only
    /// when its `wenzheng.redb` exists: for the offline subcommands that read
    /// a store (a backup), where a mistyped `--data-dir` must be an error,
    /// not a new empty store.
    pub fn open_existing(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        if !path.is_file() {
            return Err(StoreError::Unavailable(format!("no data file {}: is the data directory right?", path.display())));
        }
        Self::open(dir)
    }

    /// Path of the database file, for logs.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` against the database on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(&db)).await.map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }
}

/// Writes the format record into a fresh file, or checks it in an existing one,
/// and makes sure every table exists so readers never see "table does not exist".
fn init_or_check_format(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().store()?;
    {
        let existing: Vec<String> = txn.list_tables().store()?.map(|t| t.name().to_owned()).collect();
        let mut meta = txn.open_table(META).store()?;
        let stored = meta.get(FORMAT_KEY).store()?.map(|v| v.value());
        match stored {
            Some(FORMAT_VERSION) => {}
            Some(other) => {
                return Err(StoreError::Corrupt(format!("format version {other}, this build only reads version {FORMAT_VERSION}")));
            }
            None if existing.is_empty() => {
                meta.insert(FORMAT_KEY, FORMAT_VERSION).store()?;
            }
            None => {
                // Tables but no version: some other program's redb file.
                return Err(StoreError::Corrupt(format!("no format record (tables: {existing:?}); not a Wenzheng data file")));
            }
        }
        txn.open_table(SESSIONS).store()?;
        txn.open_table(EVENTS).store()?;
        txn.open_table(CREDENTIALS).store()?;
        txn.open_table(CLAIMS).store()?;
        txn.open_table(ATTACHMENTS).store()?;
        txn.open_table(COUNTERS).store()?;
    }
    txn.commit().store()
}

/// Inclusive key range of every event of `session`.
fn event_keys(session: &str) -> std::ops::RangeInclusive<(&str, u64)> {
    (session, 0)..=(session, u64::MAX)
}

/// Sequence number of the last stored event of `session` (0 if none). Because
/// the log is gap-free from 1, this is also the number of stored events.
fn last_seq(events: &impl ReadableTable<(&'static str, u64), &'static [u8]>, session: &str) -> Result<u64, StoreError> {
    match events.range(event_keys(session)).store()?.next_back() {
        Some(entry) => Ok(entry.store()?.0.value().1),
        None => Ok(0),
    }
}

/// The `(key, value)` pairs of `session` in a table keyed by `(session, key)`,
/// in key order. Keys sort by session first, so they are one contiguous run
/// starting at `(session, "")`; the first key of another session ends it.
fn session_entries<V: redb::Value + 'static, T>(
    table: &impl ReadableTable<(&'static str, &'static str), V>,
    session: &str,
    value: impl Fn(V::SelfType<'_>) -> T,
) -> Result<Vec<(String, T)>, StoreError> {
    let mut out = Vec::new();
    for entry in table.range((session, "")..).store()? {
        let (key, v) = entry.store()?;
        let (owner, k) = key.value();
        if owner != session {
            break;
        }
        out.push((k.to_owned(), value(v.value())));
    }
    Ok(out)
}

fn require_session(sessions: &impl ReadableTable<&'static str, &'static [u8]>, session: &str) -> Result<(), StoreError> {
    match sessions.get(session).store()? {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(session.to_owned())),
    }
}

#[async_trait::async_trait]
impl Store for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn create_session(&self, session: &str, meta: Bytes) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            {
                let mut sessions = txn.open_table(SESSIONS).store()?;
                if sessions.get(session.as_str()).store()?.is_some() {
                    return Err(StoreError::AlreadyExists(session));
                }
                sessions.insert(session.as_str(), meta.as_ref()).store()?;
            }
            txn.commit().store()
        })
        .await
    }

    async fn append(&self, session: &str, first_seq: u64, records: Vec<Record>) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            {
                require_session(&txn.open_table(SESSIONS).store()?, &session)?;
                let mut table = txn.open_table(EVENTS).store()?;
                let len = last_seq(&table, &session)?;
                if first_seq != len + 1 {
                    return Err(conflict(&session, len, first_seq));
                }
                let mut claims = txn.open_table(CLAIMS).store()?;
                check_claims(&session, &records, |k| Ok(claims.get((session.as_str(), k)).store()?.map(|v| v.value().to_owned())))?;
                let mut counters = txn.open_table(COUNTERS).store()?;
                for (seq, r) in (first_seq..).zip(&records) {
                    table.insert((session.as_str(), seq), r.data.as_ref()).store()?;
                    if let Some((k, v)) = &r.claim {
                        claims.insert((session.as_str(), k.as_str()), v.as_str()).store()?;
                    }
                    if let Some(k) = &r.count {
                        let n = counters.get((session.as_str(), k.as_str())).store()?.map_or(0, |v| v.value());
                        counters.insert((session.as_str(), k.as_str()), n + 1).store()?;
                    }
                }
            }
            if records.is_empty() {
                // Nothing to make durable: skip the fsync a commit would cost.
                return txn.abort().store();
            }
            // Any error above returned early and dropped `txn`, which aborts
            // it: a failed batch leaves no partial append behind.
            txn.commit().store()
        })
        .await
    }

    async fn load(&self, session: &str) -> Result<Option<StoredSession>, StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            // One read transaction: header and log come from the same snapshot,
            // even while appends are being committed.
            let txn = db.begin_read().store()?;
            let sessions = txn.open_table(SESSIONS).store()?;
            let Some(meta) = sessions.get(session.as_str()).store()? else {
                return Ok(None);
            };
            let meta = Bytes::copy_from_slice(meta.value());
            let table = txn.open_table(EVENTS).store()?;
            let mut events = Vec::new();
            for entry in table.range(event_keys(&session)).store()? {
                let (key, value) = entry.store()?;
                let seq = key.value().1;
                let want = events.len() as u64 + 1;
                // The append path never leaves a gap, so one here means the
                // file was damaged or edited; returning a log with a hole in
                // it would misnumber every later record.
                if seq != want {
                    return Err(StoreError::Corrupt(format!("session {session}: expected event {want}, found {seq}")));
                }
                events.push(Bytes::copy_from_slice(value.value()));
            }
            let claims = session_entries(&txn.open_table(CLAIMS).store()?, &session, |v| v.to_owned())?.into_iter().collect();
            let counters = session_entries(&txn.open_table(COUNTERS).store()?, &session, |v| v)?.into_iter().collect();
            Ok(Some(StoredSession { meta, events, claims, counters }))
        })
        .await
    }

    async fn sessions(&self) -> Result<Vec<String>, StoreError> {
        self.run(|db| {
            let txn = db.begin_read().store()?;
            let sessions = txn.open_table(SESSIONS).store()?;
            // redb orders &str keys bytewise, which is exactly `String`'s `Ord`.
            sessions.iter().store()?.map(|entry| Ok(entry.store()?.0.value().to_owned())).collect()
        })
        .await
    }

    async fn put_credentials(&self, session: &str, creds: Vec<(String, String)>) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            {
                require_session(&txn.open_table(SESSIONS).store()?, &session)?;
                let mut table = txn.open_table(CREDENTIALS).store()?;
                // Inserted in order, so a principal given twice keeps its last hash.
                for (principal, hash) in &creds {
                    table.insert((session.as_str(), principal.as_str()), hash.as_str()).store()?;
                }
            }
            if creds.is_empty() {
                return txn.abort().store();
            }
            txn.commit().store()
        })
        .await
    }

    async fn put_attachment(&self, session: &str, id: &str, data: Bytes) -> Result<(), StoreError> {
        crate::check_attachment_size(&data)?;
        let (session, id) = (session.to_owned(), id.to_owned());
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            let write = {
                require_session(&txn.open_table(SESSIONS).store()?, &session)?;
                let mut table = txn.open_table(ATTACHMENTS).store()?;
                let held = table.get((session.as_str(), id.as_str())).store()?.map(|v| v.value().to_vec());
                let write = crate::attachment_write(&session, &id, held.as_deref(), &data)?;
                if write {
                    table.insert((session.as_str(), id.as_str()), &data[..]).store()?;
                }
                write
            };
            if !write {
                return txn.abort().store();
            }
            txn.commit().store()
        })
        .await
    }

    async fn attachment(&self, session: &str, id: &str) -> Result<Option<Bytes>, StoreError> {
        let (session, id) = (session.to_owned(), id.to_owned());
        self.run(move |db| {
            let txn = db.begin_read().store()?;
            require_session(&txn.open_table(SESSIONS).store()?, &session)?;
            let table = match txn.open_table(ATTACHMENTS) {
                Ok(t) => t,
                // A file from before attachments, opened read-only so far.
                Err(TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e).store(),
            };
            Ok(table.get((session.as_str(), id.as_str())).store()?.map(|v| Bytes::copy_from_slice(v.value())))
        })
        .await
    }

    async fn attachment_ids(&self, session: &str) -> Result<Vec<String>, StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().store()?;
            require_session(&txn.open_table(SESSIONS).store()?, &session)?;
            let table = match txn.open_table(ATTACHMENTS) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e).store(),
            };
            Ok(session_entries(&table, &session, |_| ())?.into_iter().map(|(id, ())| id).collect())
        })
        .await
    }

    async fn import_session(&self, session: &str, stored: StoredSession, credentials: Vec<(String, String)>) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            {
                let mut sessions = txn.open_table(SESSIONS).store()?;
                if sessions.get(session.as_str()).store()?.is_some() {
                    return Err(StoreError::AlreadyExists(session));
                }
                let mut events = txn.open_table(EVENTS).store()?;
                // No session, yet events under its id: not written by this
                // crate (there is no delete); refuse rather than mix logs.
                if last_seq(&events, &session)? != 0 {
                    return Err(StoreError::Corrupt(format!("session {session}: events stored without its header")));
                }
                sessions.insert(session.as_str(), stored.meta.as_ref()).store()?;
                for (seq, data) in (1u64..).zip(&stored.events) {
                    events.insert((session.as_str(), seq), data.as_ref()).store()?;
                }
                let mut claims = txn.open_table(CLAIMS).store()?;
                for (k, v) in &stored.claims {
                    claims.insert((session.as_str(), k.as_str()), v.as_str()).store()?;
                }
                let mut counters = txn.open_table(COUNTERS).store()?;
                for (k, n) in &stored.counters {
                    counters.insert((session.as_str(), k.as_str()), *n).store()?;
                }
                let mut creds = txn.open_table(CREDENTIALS).store()?;
                for (principal, hash) in &credentials {
                    creds.insert((session.as_str(), principal.as_str()), hash.as_str()).store()?;
                }
            }
            txn.commit().store()
        })
        .await
    }

    async fn credentials(&self, session: &str) -> Result<Vec<(String, String)>, StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().store()?;
            require_session(&txn.open_table(SESSIONS).store()?, &session)?;
            // Keys sort by session first, so this session's principals are one
            // contiguous run, in principal order.
            session_entries(&txn.open_table(CREDENTIALS).store()?, &session, |v| v.to_owned())
        })
        .await
    }

    async fn reset_derived(
        &self,
        session: &str,
        claims: BTreeMap<String, String>,
        counters: BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().store()?;
            {
                require_session(&txn.open_table(SESSIONS).store()?, &session)?;
                let mut table = txn.open_table(CLAIMS).store()?;
                for (k, ()) in session_entries(&table, &session, |_| ())? {
                    table.remove((session.as_str(), k.as_str())).store()?;
                }
                for (k, v) in &claims {
                    table.insert((session.as_str(), k.as_str()), v.as_str()).store()?;
                }
                let mut table = txn.open_table(COUNTERS).store()?;
                for (k, ()) in session_entries(&table, &session, |_| ())? {
                    table.remove((session.as_str(), k.as_str())).store()?;
                }
                for (k, v) in &counters {
                    table.insert((session.as_str(), k.as_str()), *v).store()?;
                }
            }
            txn.commit().store()
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(|db| match db.try_begin_write() {
            // Starting a write transaction proves redb has not latched an
            // earlier I/O failure (reads alone would not notice). Abort it
            // straight away: there is nothing to write.
            Ok(txn) => txn.abort().store(),
            // A write is in progress right now, after the same I/O check passed.
            // Waiting for it would make /readyz as slow as an fsync for no gain.
            Err(TransactionError::WouldBlock) => Ok(()),
            Err(e) => Err(e.into_store_error()),
        })
        .await
    }
}

/// Prefixes an error message with the file it concerns (useful at open time,
/// when the operator needs to know which file to look at).
fn in_file(path: &Path, e: StoreError) -> StoreError {
    let at = |m: String| format!("{}: {m}", path.display());
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(at(m)),
        StoreError::Corrupt(m) => StoreError::Corrupt(at(m)),
        other => other,
    }
}

/// Classifies a redb error as a [`StoreError`]. A private trait rather than
/// `From` impls, so redb's types stay out of this crate's public API.
trait IntoStoreError {
    fn into_store_error(self) -> StoreError;
}

impl IntoStoreError for StorageError {
    fn into_store_error(self) -> StoreError {
        match self {
            StorageError::Corrupted(m) => StoreError::Corrupt(m),
            // redb reports "this is not a redb file" (bad magic number etc.)
            // as an I/O error of kind InvalidData; real device failures come
            // through as other kinds and stay retryable below.
            StorageError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => StoreError::Corrupt(e.to_string()),
            // After an I/O error redb refuses further writes until reopened;
            // say so, since retrying in-process will not help.
            StorageError::PreviousIo => {
                StoreError::Unavailable("an earlier I/O error disabled the database; restart the server".to_owned())
            }
            // Io (disk full, device error), closed database, poisoned lock,
            // and ValueTooLarge (> 3 GiB: unreachable behind the server's frame
            // limits) all mean "this write did not happen".
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl IntoStoreError for TableError {
    fn into_store_error(self) -> StoreError {
        match self {
            TableError::Storage(e) => e.into_store_error(),
            // Wrong key/value types or a missing table: the file does not have
            // the layout its format version promises.
            e @ (TableError::TableTypeMismatch { .. }
            | TableError::TypeDefinitionChanged { .. }
            | TableError::TableIsMultimap(_)
            | TableError::TableIsNotMultimap(_)
            | TableError::TableDoesNotExist(_)) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl IntoStoreError for TransactionError {
    fn into_store_error(self) -> StoreError {
        match self {
            TransactionError::Storage(e) => e.into_store_error(),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl IntoStoreError for CommitError {
    fn into_store_error(self) -> StoreError {
        match self {
            CommitError::Storage(e) => e.into_store_error(),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl IntoStoreError for DatabaseError {
    fn into_store_error(self) -> StoreError {
        match self {
            DatabaseError::Storage(e) => e.into_store_error(),
            e @ (DatabaseError::UpgradeRequired(_) | DatabaseError::RepairAborted) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// `.store()?` on any redb result.
trait ResultExt<T> {
    fn store(self) -> Result<T, StoreError>;
}

impl<T, E: IntoStoreError> ResultExt<T> for Result<T, E> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(IntoStoreError::into_store_error)
    }
}

#[cfg(test)]
#[path = "embedded_tests.rs"]
mod tests;
