//! Redis [`Store`]: for deployments that already run Redis, or want the
//! session data outside the server process.
//!
//! # Key layout
//!
//! Every key lives under the prefix `wz:v1:` (these names exist nowhere else
//! in the workspace). The per-session keys carry the session id as a Redis
//! Cluster *hash tag* (`{<session>}`), so a later Cluster keeps all keys of
//! one session in one slot, where a script may touch them together:
//!
//! | key                          | type   | content                                   |
//! |------------------------------|--------|-------------------------------------------|
//! | `wz:v1:format`               | STRING | layout version, `"1"`                     |
//! | `wz:v1:sessions`             | SET    | ids of all sessions                       |
//! | `wz:v1:{<session>}:meta`     | STRING | header record (its existence = the session exists) |
//! | `wz:v1:{<session>}:log`      | STREAM | event `n` is entry id `<n>-0`, field `d` = record bytes |
//! | `wz:v1:{<session>}:creds`    | HASH   | principal → credential hash               |
//! | `wz:v1:{<session>}:claims`   | HASH   | claim key → claim value                   |
//! | `wz:v1:{<session>}:counters` | HASH   | counter key → count (integer)             |
//! | `wz:v1:{<session>}:attachments` | HASH | attachment id → bytes                   |
//!
//! The two suffixes never collide between sessions: a session id may contain
//! `}` (it then ends the hash tag early, which only means that some sessions
//! share a slot), but no two `(session, suffix)` pairs spell the same key,
//! because the suffixes all end differently. [`RedisStore::connect`] writes
//! `wz:v1:format` if it is missing and refuses ([`StoreError::Corrupt`]) a
//! database whose format is another version, rather than misreading it.
//!
//! # Atomicity
//!
//! Every write is **one Lua script** (sent as `EVALSHA`, loaded on `NOSCRIPT`):
//! Redis runs a script to completion without running any other command in
//! between, so the checks and the writes of, say, an append happen at one
//! instant for every other client. Each script validates everything first
//! (session exists, `first_seq` is the next one, no claim held or duplicated,
//! every counter is an integer, the stream ends where its length says) and
//! only then writes, so a refused call writes nothing. Each script starts with
//! a `#!lua` shebang and declares no flags, which tells Redis 7 that it may
//! write: Redis then refuses it *before* running it when memory is full (OOM)
//! or persistence has failed (MISCONF), instead of failing at the first write
//! in the middle — a script can never be half-applied.
//!
//! Every script touches one session's keys only, so on a Redis Cluster each
//! runs within one slot. The registry `wz:v1:sessions` is written by a
//! command of its own: `create_session` adds the id first and then runs its
//! script, so a failure between the two leaves an id without a session,
//! which `sessions` skips (it lists only ids whose header exists), and never
//! a session that nobody lists.
//!
//! `load` reads header, log length, claims and counters in one `MULTI`/`EXEC`
//! (one snapshot), then the log entries `1..=n` in chunks of
//! [`LOAD_CHUNK`] with `XRANGE … COUNT` (entries never change once written, so
//! reading them after the snapshot is consistent) and checks that the ids are
//! exactly `1-0, 2-0, …, n-0`.
//!
//! # Durability
//!
//! A call returns `Ok` when Redis has executed the script. It is durable only
//! as far as Redis is configured to make it so: with `appendonly yes` and
//! `appendfsync always`, Redis 7 writes and fsyncs the append-only file before
//! it replies, so an acknowledged record survives a crash of Redis or of the
//! machine. `maxmemory-policy noeviction` makes Redis refuse writes when full
//! instead of evicting session data. [`RedisStore::persistence`] reads those
//! settings so the server can refuse to run an evaluation on a Redis that
//! would lose ballots; `deploy/redis.conf` ships them.
//!
//! # Availability
//!
//! One [`ConnectionManager`] (a single multiplexed connection that pipelines
//! concurrent callers) with short timeouts: connecting gives up after
//! [`CONNECT_TIMEOUT`], a reply after [`RESPONSE_TIMEOUT`], and a broken
//! connection is re-established in the background with a few quick retries.
//! While Redis is gone, every call fails within a few seconds with
//! [`StoreError::Unavailable`] (never hangs); once it is back, calls succeed
//! again without restarting the server (the first call after an outage may
//! still see the failed reconnect and trigger a fresh one).
//!
//! A call that times out has an **unknown outcome**: a paused or overloaded
//! Redis may still execute the queued script later. The `first_seq` check
//! makes that safe to resolve, as with a dropped future on the embedded store:
//! a retry of the same batch gets a `Conflict` (or `Claimed`), and `load`
//! shows what was really stored.

use std::collections::BTreeMap;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{RedisError, Value};
use bytes::Bytes;

use crate::{Record, Store, StoreError, StoredSession};

mod keys;
mod reply;
mod scripts;

pub(crate) use keys::{DATA_FIELD, Keys, NOTICES_KEY};
use keys::{FORMAT_KEY, FORMAT_VERSION, PROBE_KEY, SESSIONS_KEY};
pub(crate) use reply::{array_of, bytes_of, int_of, store_error, stream_entry, string_of, strings_of};
use reply::{config_value, corrupt, log_entry, redact, server_message, string_pairs};
use scripts::{APPEND, CREATE, IMPORT, PUT_ATTACHMENT, PUT_CREDENTIALS, RESET_DERIVED};

/// How long one connection attempt may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a command may wait for its reply.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Upper bound of the pause between reconnection attempts.
pub(crate) const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(2);
/// Reconnection attempts after the first, per outage-detecting call. Few, so
/// a caller waiting on a reconnection hears "unavailable" quickly; the next
/// call starts a new round.
const RECONNECT_RETRIES: usize = 2;
/// Log entries fetched per `XRANGE` while loading.
pub(crate) const LOAD_CHUNK: usize = 1000;

/// Store on a Redis 7 server, shared by all tasks (one multiplexed connection
/// that reconnects by itself).
///
/// Keys live under `wz:v1:`, one hash-tagged group per session
/// (`wz:v1:{<session>}:meta|log|creds|claims|counters`); every write is one
/// Lua script that checks everything before it writes anything, so a refused
/// call writes nothing; acknowledged writes are as durable as the server's
/// `appendfsync` makes them (check with [`RedisStore::persistence`]). When
/// Redis is unreachable, calls fail within a few seconds with
/// [`StoreError::Unavailable`] and succeed again once it is back. The source
/// of this module documents the layout, atomicity and durability in full.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) conn: ConnectionManager,
    /// For connections of their own (a cluster node's blocking reads).
    pub(crate) client: ::redis::Client,
    /// The URL without its password, for logs.
    url: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("url", &self.url).finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Replaces a session's whole log with `events`, numbered from 1: what
    /// an intruder with write access to Redis could do. For the record's
    /// tamper tests only (cargo feature `testing`); never called by the server.
    #[cfg(feature = "testing")]
    pub async fn overwrite_log_for_tests(&self, session: &str, events: Vec<Bytes>) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        let mut pipe = ::redis::pipe();
        pipe.atomic().cmd("DEL").arg(&keys.log).ignore();
        for (i, data) in events.iter().enumerate() {
            pipe.cmd("XADD").arg(&keys.log).arg(format!("{}-0", i + 1)).arg(DATA_FIELD).arg(data.as_ref()).ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await.map_err(store_error)
    }

    /// Runs the read `cmd` together with a check that the session exists,
    /// atomically; `NotFound` when it does not.
    async fn read_in_session(&self, session: &str, keys: &Keys, cmd: &::redis::Cmd) -> Result<Value, StoreError> {
        let (exists, value): (Value, Value) = ::redis::pipe()
            .atomic()
            .cmd("EXISTS")
            .arg(&keys.meta)
            .add_command(cmd.clone())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        if int_of(exists, "EXISTS")? == 0 {
            return Err(StoreError::NotFound(session.to_owned()));
        }
        Ok(value)
    }

    /// Connects to `url` (`redis://host:port/db`, `redis+unix:///path/to.sock`,
    /// with `?db=N` for a unix socket) and checks (or writes) the layout version.
    ///
    /// Errors: [`StoreError::Unavailable`] if the URL is invalid or Redis
    /// cannot be reached; [`StoreError::Corrupt`] if the database holds
    /// another layout version.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let shown = redact(url);
        let client = ::redis::Client::open(url).map_err(|e| StoreError::Unavailable(format!("invalid Redis URL {shown}: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(MAX_RECONNECT_DELAY);
        let conn = client
            .clone()
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot reach Redis at {shown}: {e}")))?;
        let store = Self { conn, client, url: shown };
        store.check_format().await?;
        tracing::info!(url = %store.url, "connected to Redis");
        Ok(store)
    }

    /// The URL connected to, without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn check_format(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let get = || ::redis::cmd("GET").arg(FORMAT_KEY).clone();
        let mut stored = bytes_of(get().query_async(&mut conn).await.map_err(store_error)?, FORMAT_KEY)?;
        if stored.is_none() {
            // A fresh database (written only when missing, so a Redis that is
            // full can still be connected to once it has been used).
            let (_, now): (Value, Value) = ::redis::pipe()
                .cmd("SET")
                .arg(FORMAT_KEY)
                .arg(FORMAT_VERSION)
                .arg("NX")
                .add_command(get())
                .query_async(&mut conn)
                .await
                .map_err(store_error)?;
            stored = bytes_of(now, FORMAT_KEY)?;
        }
        if stored.as_deref() != Some(FORMAT_VERSION.as_bytes()) {
            return Err(StoreError::Corrupt(format!(
                "{FORMAT_KEY} is {:?}, this build only reads version {FORMAT_VERSION}",
                stored.map(|b| String::from_utf8_lossy(&b).into_owned())
            )));
        }
        Ok(())
    }

    /// Reads the settings that decide whether an acknowledged write survives
    /// a crash. Errors only when Redis cannot be reached; a server that
    /// refuses `CONFIG` (renamed command, ACL) is reported in
    /// [`RedisPersistence::problems`].
    pub async fn persistence(&self) -> Result<RedisPersistence, StoreError> {
        let mut out = RedisPersistence::default();
        for (name, slot) in
            [("appendonly", &mut out.appendonly), ("appendfsync", &mut out.appendfsync), ("maxmemory-policy", &mut out.maxmemory_policy)]
        {
            let reply: Result<Value, RedisError> = ::redis::cmd("CONFIG").arg("GET").arg(name).query_async(&mut self.conn.clone()).await;
            match reply {
                Ok(v) => *slot = config_value(v, name),
                // A reply from the server (unknown command, NOPERM): Redis is
                // up, it just will not tell us.
                Err(e) if e.code().is_some() => {
                    out.unreadable = Some(server_message(&e));
                    break;
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Ok(out)
    }

    /// An append, fenced by `token` when a node holding the session's lease
    /// makes it (issue 12), or by the absence of any lease when not.
    pub(crate) async fn append_with(
        &self,
        session: &str,
        token: Option<u64>,
        first_seq: u64,
        records: Vec<Record>,
    ) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        let mut inv = APPEND.prepare_invoke();
        inv.key(&keys.meta)
            .key(&keys.log)
            .key(&keys.claims)
            .key(&keys.counters)
            .key(&keys.fence)
            .key(&keys.owner)
            .arg(token.map_or_else(String::new, |t| t.to_string()))
            .arg(first_seq)
            .arg(records.len());
        for r in &records {
            let (claim_key, claim_value) = match &r.claim {
                Some((k, v)) => (k.as_str(), v.as_str()),
                None => ("", ""),
            };
            let flags = match (r.claim.is_some(), r.count.is_some()) {
                (true, true) => "cn",
                (true, false) => "c",
                (false, true) => "n",
                (false, false) => "",
            };
            inv.arg(r.data.as_ref()).arg(flags).arg(claim_key).arg(claim_value).arg(r.count.as_deref().unwrap_or(""));
        }
        let status = strings_of(self.run_script(&inv).await?, "append status")?;
        match status.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["ok"] => Ok(()),
            ["not_found"] => Err(StoreError::NotFound(session.to_owned())),
            ["fenced", why] => Err(StoreError::Fenced { session: session.to_owned(), detail: why.to_owned() }),
            ["conflict", len] => {
                let len: u64 = len.parse().map_err(|_| StoreError::Corrupt(format!("append: bad log length {len:?} from Redis")))?;
                Err(crate::conflict(session, len, first_seq))
            }
            ["claimed", key, held_by] => {
                Err(StoreError::Claimed { session: session.to_owned(), key: key.to_owned(), held_by: held_by.to_owned() })
            }
            ["corrupt", message] => Err(StoreError::Corrupt(format!("session {session}: {message}"))),
            _ => Err(StoreError::Corrupt(format!("append: unexpected status {status:?} from Redis"))),
        }
    }

    pub(crate) async fn run_script(&self, inv: &::redis::ScriptInvocation<'_>) -> Result<Value, StoreError> {
        inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)
    }
}

/// The persistence settings of a Redis server, as read by
/// [`RedisStore::persistence`]. `None` means the server did not report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisPersistence {
    pub appendonly: Option<String>,
    pub appendfsync: Option<String>,
    pub maxmemory_policy: Option<String>,
    /// Why the settings could not be read (e.g. `CONFIG` renamed or denied).
    pub unreadable: Option<String>,
}

impl RedisPersistence {
    /// Each setting that puts acknowledged records at risk, in words an
    /// operator can act on; empty when Redis is set up for evaluations.
    pub fn problems(&self) -> Vec<String> {
        if let Some(why) = &self.unreadable {
            return vec![format!(
                "cannot read the Redis persistence settings ({why}); check by hand that \
                 appendonly is yes, appendfsync is always and maxmemory-policy is noeviction"
            )];
        }
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "not reported".to_owned());
        let mut out = Vec::new();
        if self.appendonly.as_deref() != Some("yes") {
            out.push(format!(
                "appendonly is {}; evaluations need appendonly yes (without the append-only \
                 file, a crash loses everything written since the last snapshot)",
                shown(&self.appendonly)
            ));
        }
        if self.appendfsync.as_deref() != Some("always") {
            out.push(format!(
                "appendfsync is {}; evaluations need appendfsync always (an acknowledged \
                 ballot could be lost in a crash)",
                shown(&self.appendfsync)
            ));
        }
        if self.maxmemory_policy.as_deref() != Some("noeviction") {
            out.push(format!(
                "maxmemory-policy is {}; evaluations need maxmemory-policy noeviction (when \
                 memory runs out, Redis would delete session data instead of refusing writes)",
                shown(&self.maxmemory_policy)
            ));
        }
        out
    }
}

#[async_trait::async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn create_session(&self, session: &str, meta: Bytes) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        // Registered first: a failure between the two leaves an id without
        // a session, which `sessions` skips, never a session nobody lists.
        let _: Value =
            ::redis::cmd("SADD").arg(SESSIONS_KEY).arg(session).query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        let mut inv = CREATE.prepare_invoke();
        inv.key(&keys.meta).arg(meta.as_ref());
        match int_of(self.run_script(&inv).await?, "create")? {
            1 => Ok(()),
            _ => Err(StoreError::AlreadyExists(session.to_owned())),
        }
    }

    async fn append(&self, session: &str, first_seq: u64, records: Vec<Record>) -> Result<(), StoreError> {
        self.append_with(session, None, first_seq, records).await
    }

    async fn reset_derived(
        &self,
        session: &str,
        claims: BTreeMap<String, String>,
        counters: BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        let mut inv = RESET_DERIVED.prepare_invoke();
        inv.key(&keys.meta).key(&keys.claims).key(&keys.counters).arg(claims.len());
        for (k, v) in &claims {
            inv.arg(k).arg(v);
        }
        for (k, n) in &counters {
            inv.arg(k).arg(*n);
        }
        match int_of(self.run_script(&inv).await?, "reset_derived")? {
            1 => Ok(()),
            _ => Err(StoreError::NotFound(session.to_owned())),
        }
    }

    async fn load(&self, session: &str) -> Result<Option<StoredSession>, StoreError> {
        let keys = Keys::of(session);
        let mut conn = self.conn.clone();
        // One snapshot of everything but the entries themselves.
        let (meta, len, claims, counters): (Value, Value, Value, Value) = ::redis::pipe()
            .atomic()
            .cmd("GET")
            .arg(&keys.meta)
            .cmd("XLEN")
            .arg(&keys.log)
            .cmd("HGETALL")
            .arg(&keys.claims)
            .cmd("HGETALL")
            .arg(&keys.counters)
            .query_async(&mut conn)
            .await
            .map_err(store_error)?;
        let Some(meta) = bytes_of(meta, "meta")? else {
            return Ok(None);
        };
        let len =
            u64::try_from(int_of(len, "XLEN")?).map_err(|_| StoreError::Corrupt(format!("session {session}: negative log length")))?;
        let claims = string_pairs(claims, "claims")?.into_iter().collect();
        let counters = string_pairs(counters, "counters")?
            .into_iter()
            .map(|(k, v)| match v.parse::<u64>() {
                Ok(n) => Ok((k, n)),
                Err(_) => Err(StoreError::Corrupt(format!("session {session}: counter {k:?} holds {v:?}, not a count"))),
            })
            .collect::<Result<_, _>>()?;

        let mut events = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        while (events.len() as u64) < len {
            let from = events.len() as u64 + 1;
            let chunk: Value = ::redis::cmd("XRANGE")
                .arg(&keys.log)
                .arg(format!("{from}-0"))
                .arg(format!("{len}-0"))
                .arg("COUNT")
                .arg(LOAD_CHUNK)
                .query_async(&mut conn)
                .await
                .map_err(store_error)?;
            let entries = array_of(chunk, "XRANGE")?;
            if entries.is_empty() {
                return Err(StoreError::Corrupt(format!("session {session}: log holds {len} events, but event {from} is missing")));
            }
            for entry in entries {
                let want = events.len() as u64 + 1;
                events.push(log_entry(entry, want).map_err(|m| StoreError::Corrupt(format!("session {session}: event {want}: {m}")))?);
            }
        }
        if events.len() as u64 != len {
            return Err(StoreError::Corrupt(format!("session {session}: log holds {len} events, read {}", events.len())));
        }
        Ok(Some(StoredSession { meta, events, claims, counters }))
    }

    async fn sessions(&self) -> Result<Vec<String>, StoreError> {
        let members: Value = ::redis::cmd("SMEMBERS").arg(SESSIONS_KEY).query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        let mut ids = strings_of(members, SESSIONS_KEY)?;
        ids.sort();
        if ids.is_empty() {
            return Ok(ids);
        }
        // An id whose creation failed after it was registered has no header.
        let mut exists = ::redis::pipe();
        for id in &ids {
            exists.cmd("EXISTS").arg(Keys::of(id).meta);
        }
        let found: Vec<i64> = exists.query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        Ok(ids.into_iter().zip(found).filter_map(|(id, n)| (n == 1).then_some(id)).collect())
    }

    async fn put_credentials(&self, session: &str, creds: Vec<(String, String)>) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        let mut inv = PUT_CREDENTIALS.prepare_invoke();
        inv.key(&keys.meta).key(&keys.creds);
        // HSET in argument order, so a principal given twice keeps its last hash.
        for (principal, hash) in &creds {
            inv.arg(principal).arg(hash);
        }
        match int_of(self.run_script(&inv).await?, "put_credentials")? {
            1 => Ok(()),
            _ => Err(StoreError::NotFound(session.to_owned())),
        }
    }

    async fn put_attachment(&self, session: &str, id: &str, data: Bytes) -> Result<(), StoreError> {
        crate::check_attachment_size(&data)?;
        let keys = Keys::of(session);
        let mut inv = PUT_ATTACHMENT.prepare_invoke();
        inv.key(&keys.meta).key(&keys.attachments).arg(id).arg(&data[..]);
        match int_of(self.run_script(&inv).await?, "put_attachment")? {
            1 => Ok(()),
            2 => Err(StoreError::AttachmentDiffers { session: session.to_owned(), id: id.to_owned() }),
            _ => Err(StoreError::NotFound(session.to_owned())),
        }
    }

    async fn attachment(&self, session: &str, id: &str) -> Result<Option<Bytes>, StoreError> {
        let keys = Keys::of(session);
        match self.read_in_session(session, &keys, ::redis::cmd("HGET").arg(&keys.attachments).arg(id)).await? {
            Value::Nil => Ok(None),
            Value::BulkString(b) => Ok(Some(Bytes::from(b))),
            other => Err(corrupt("attachment", &other)),
        }
    }

    async fn attachment_ids(&self, session: &str) -> Result<Vec<String>, StoreError> {
        let keys = Keys::of(session);
        let ids = self.read_in_session(session, &keys, ::redis::cmd("HKEYS").arg(&keys.attachments)).await?;
        let mut ids = strings_of(ids, "attachment ids")?;
        ids.sort();
        Ok(ids)
    }

    async fn import_session(&self, session: &str, stored: StoredSession, credentials: Vec<(String, String)>) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        // Registered first, as `create_session` does.
        let _: Value =
            ::redis::cmd("SADD").arg(SESSIONS_KEY).arg(session).query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        let mut inv = IMPORT.prepare_invoke();
        inv.key(&keys.meta).key(&keys.log).key(&keys.creds).key(&keys.claims).key(&keys.counters).key(&keys.attachments);
        inv.arg(stored.meta.as_ref()).arg(stored.events.len()).arg(credentials.len()).arg(stored.claims.len());
        for e in &stored.events {
            inv.arg(e.as_ref());
        }
        for (principal, hash) in &credentials {
            inv.arg(principal).arg(hash);
        }
        for (k, v) in &stored.claims {
            inv.arg(k).arg(v);
        }
        for (k, n) in &stored.counters {
            inv.arg(k).arg(*n);
        }
        match int_of(self.run_script(&inv).await?, "import_session")? {
            1 => Ok(()),
            0 => Err(StoreError::AlreadyExists(session.to_owned())),
            _ => Err(StoreError::Corrupt(format!("session {session}: keys of it exist without its header; remove them first"))),
        }
    }

    async fn credentials(&self, session: &str) -> Result<Vec<(String, String)>, StoreError> {
        let keys = Keys::of(session);
        let creds = self.read_in_session(session, &keys, ::redis::cmd("HGETALL").arg(&keys.creds)).await?;
        let mut creds = string_pairs(creds, "credentials")?;
        creds.sort();
        Ok(creds)
    }

    async fn persistence_problems(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.persistence().await?.problems())
    }

    fn cluster(&self) -> Option<std::sync::Arc<dyn crate::cluster::Cluster>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A write, not PING: a Redis that answers but refuses writes (MISCONF
        // after a failed save, READONLY as a replica, OOM at maxmemory,
        // NOREPLICAS under min-replicas-to-write) would refuse every append
        // too, and /readyz must take the node out. One small key, expiring.
        let reply: Value = ::redis::cmd("SET")
            .arg(PROBE_KEY)
            .arg(1)
            .arg("PX")
            .arg(60_000)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        match reply {
            Value::Okay => Ok(()),
            Value::SimpleString(s) if s == "OK" => Ok(()),
            other => Err(StoreError::Unavailable(format!("unexpected reply from Redis to the write probe: {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_hash_tag_and_never_collide() {
        let k = Keys::of("县-1");
        assert_eq!(k.meta, "wz:v1:{县-1}:meta");
        assert_eq!(k.log, "wz:v1:{县-1}:log");
        assert_eq!(k.counters, "wz:v1:{县-1}:counters");
        assert_eq!(k.attachments, "wz:v1:{县-1}:attachments");
        let ids = ["a", "a}:log", "a}", "", "}", "a}:claims}:meta", "a}:creds", "a}:attachments", "a}:to:n1", "a}:inbox", "a}:presence"];
        let mut all = std::collections::HashSet::new();
        for id in ids {
            let k = Keys::of(id);
            let replies = k.replies("n1");
            for key in [k.meta, k.log, k.creds, k.claims, k.counters, k.attachments, k.owner, k.fence, k.inbox, k.presence, replies] {
                assert!(all.insert(key.clone()), "{key} spelled twice");
                assert!(key != FORMAT_KEY && key != SESSIONS_KEY);
            }
        }
    }

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
        assert_eq!(redact("redis://:s3cret@10.0.0.5:6379/2"), "redis://***@10.0.0.5:6379/2");
        assert_eq!(redact("redis://user:p@ss@host/1"), "redis://***@host/1");
        assert_eq!(redact("redis+unix:///run/r.sock?db=1&pass=s3cret"), "redis+unix:///run/r.sock?db=1&pass=***");
    }

    #[test]
    fn problems_name_each_wrong_setting() {
        let good = RedisPersistence {
            appendonly: Some("yes".into()),
            appendfsync: Some("always".into()),
            maxmemory_policy: Some("noeviction".into()),
            unreadable: None,
        };
        assert!(good.problems().is_empty());
        let bad = RedisPersistence { appendfsync: Some("everysec".into()), maxmemory_policy: None, ..good.clone() };
        let p = bad.problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("appendfsync is everysec; evaluations need appendfsync always"));
        assert!(p[1].starts_with("maxmemory-policy is not reported;"));
        let unreadable = RedisPersistence { unreadable: Some("ERR unknown command 'CONFIG'".into()), ..good };
        assert_eq!(unreadable.problems().len(), 1);
        assert!(unreadable.problems()[0].contains("unknown command"));
    }
}
