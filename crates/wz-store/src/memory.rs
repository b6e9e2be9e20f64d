//! In-memory [`Store`]: for tests, demos and dry runs, never for a recorded session.
//!
//! It exists so the rest of the server can be exercised without a data
//! directory, and so the conformance suite has a second, trivially correct
//! implementation to hold the embedded store against. Its semantics are exactly
//! those of the trait; only durability is missing (everything is gone when the
//! process exits), which is why `kind()` says "memory" on /readyz.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use crate::{Record, Store, StoreError, StoredSession, attachment_write, check_attachment_size, check_claims, conflict};

/// Process-local store backed by `BTreeMap`s behind one mutex.
///
/// One coarse lock is enough: every operation is a few map lookups, and it
/// makes "check the sequence number, then append" trivially atomic, which is
/// the property that matters. The lock is never held across an `.await` (all
/// work happens in synchronous helpers), so it cannot stall the runtime.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// BTreeMaps rather than HashMaps because the trait promises sorted listings.
#[derive(Debug, Default)]
struct Inner {
    sessions: BTreeMap<String, Session>,
}

#[derive(Debug, Default)]
struct Session {
    meta: Bytes,
    events: Vec<Bytes>,
    /// principal -> credential hash
    credentials: BTreeMap<String, String>,
    claims: BTreeMap<String, String>,
    counters: BTreeMap<String, u64>,
    attachments: BTreeMap<String, Bytes>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every mutation below validates first and only then changes state,
        // with nothing that can panic in between, so a poisoned lock (a panic
        // in some other thread while holding it) cannot have left a half-done
        // write behind. Carrying on is therefore safe, and better than taking
        // the whole server down with a cascade of panics.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn session_mut<'a>(inner: &'a mut Inner, session: &str) -> Result<&'a mut Session, StoreError> {
        inner.sessions.get_mut(session).ok_or_else(|| StoreError::NotFound(session.to_owned()))
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn create_session(&self, session: &str, meta: Bytes) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.sessions.contains_key(session) {
            return Err(StoreError::AlreadyExists(session.to_owned()));
        }
        inner.sessions.insert(session.to_owned(), Session { meta, ..Session::default() });
        Ok(())
    }

    async fn append(&self, session: &str, first_seq: u64, records: Vec<Record>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let s = Self::session_mut(&mut inner, session)?;
        let len = s.events.len() as u64;
        if first_seq != len + 1 {
            return Err(conflict(session, len, first_seq));
        }
        check_claims(session, &records, |k| Ok(s.claims.get(k).cloned()))?;
        for r in records {
            if let Some((k, v)) = r.claim {
                s.claims.insert(k, v);
            }
            if let Some(k) = r.count {
                *s.counters.entry(k).or_insert(0) += 1;
            }
            s.events.push(r.data);
        }
        Ok(())
    }

    async fn reset_derived(
        &self,
        session: &str,
        claims: BTreeMap<String, String>,
        counters: BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let s = Self::session_mut(&mut inner, session)?;
        s.claims = claims;
        s.counters = counters;
        Ok(())
    }

    async fn load(&self, session: &str) -> Result<Option<StoredSession>, StoreError> {
        let inner = self.lock();
        // Cloning `Bytes` is a refcount bump, so this copy is cheap even for
        // long logs and the lock is released before the caller decodes anything.
        Ok(inner.sessions.get(session).map(|s| StoredSession {
            meta: s.meta.clone(),
            events: s.events.clone(),
            claims: s.claims.clone(),
            counters: s.counters.clone(),
        }))
    }

    async fn sessions(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().sessions.keys().cloned().collect())
    }

    async fn put_credentials(&self, session: &str, creds: Vec<(String, String)>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let s = Self::session_mut(&mut inner, session)?;
        // `extend` inserts in order, so a principal given twice ends up with
        // its last hash, matching the embedded store.
        s.credentials.extend(creds);
        Ok(())
    }

    async fn credentials(&self, session: &str) -> Result<Vec<(String, String)>, StoreError> {
        let inner = self.lock();
        let s = inner.sessions.get(session).ok_or_else(|| StoreError::NotFound(session.to_owned()))?;
        Ok(s.credentials.iter().map(|(p, h)| (p.clone(), h.clone())).collect())
    }

    async fn put_attachment(&self, session: &str, id: &str, data: Bytes) -> Result<(), StoreError> {
        check_attachment_size(&data)?;
        let mut inner = self.lock();
        let s = Self::session_mut(&mut inner, session)?;
        if attachment_write(session, id, s.attachments.get(id).map(|b| &b[..]), &data)? {
            s.attachments.insert(id.to_owned(), data);
        }
        Ok(())
    }

    async fn attachment(&self, session: &str, id: &str) -> Result<Option<Bytes>, StoreError> {
        let inner = self.lock();
        let s = inner.sessions.get(session).ok_or_else(|| StoreError::NotFound(session.to_owned()))?;
        Ok(s.attachments.get(id).cloned())
    }

    async fn attachment_ids(&self, session: &str) -> Result<Vec<String>, StoreError> {
        let inner = self.lock();
        let s = inner.sessions.get(session).ok_or_else(|| StoreError::NotFound(session.to_owned()))?;
        Ok(s.attachments.keys().cloned().collect())
    }

    async fn import_session(&self, session: &str, stored: StoredSession, credentials: Vec<(String, String)>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.sessions.contains_key(session) {
            return Err(StoreError::AlreadyExists(session.to_owned()));
        }
        let StoredSession { meta, events, claims, counters } = stored;
        let session_data =
            Session { meta, events, credentials: credentials.into_iter().collect(), claims, counters, attachments: BTreeMap::new() };
        inner.sessions.insert(session.to_owned(), session_data);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Nothing to reach: an in-process map is up for as long as the process is.
        Ok(())
    }
}
