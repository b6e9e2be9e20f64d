//! [`Cluster`] on Redis (issue 12): the lease, fenced appends, forwarded
//! commands and notices, with the keys of `redis.rs`'s table.
//!
//! | key                          | type   | content                                   |
//! |------------------------------|--------|-------------------------------------------|
//! | `wz:v1:{<session>}:owner`    | STRING | `"<token> <node>"`, expires unless renewed (the lease) |
//! | `wz:v1:{<session>}:fence`    | STRING | the latest fencing token (`INCR`)         |
//! | `wz:v1:{<session>}:inbox`    | STREAM | commands forwarded to the owner, field `d`; expires an hour after the last |
//! | `wz:v1:{<session>}:to:<node>`| STREAM | replies to node `<node>`, field `d`; expires an hour after the last |
//! | `wz:v1:{<session>}:presence` | STREAM | each node's connections per venue, field `d`; expires an hour after the last |
//! | `wz:v1:notices`              | STREAM | notices to every node, field `d`          |
//!
//! Taking the lease increments the fence in the same script, and the append
//! script compares its token with the fence next to `first_seq`: once a
//! node has taken the lease, no append of an earlier owner can land, however
//! late it arrives. Every script touches one session's slot; the notices
//! are a key of their own, written and read by single commands.

use std::time::Duration;

use ::redis::Value;
use ::redis::aio::MultiplexedConnection;
use bytes::Bytes;
use std::sync::LazyLock;

use crate::cluster::{Cluster, Cursor, Ends, Heard, Lease, Listener, Message};
use crate::redis::{DATA_FIELD, Keys, NOTICES_KEY, RedisStore, array_of, int_of, store_error, string_of, strings_of};
use crate::{Record, StoreError};

/// Entries kept in the inbox, in a node's replies and in the notices
/// (approximately: `MAXLEN ~`). A forwarded command is answered within
/// seconds; these are far more than a failover needs.
const STREAM_MAX: usize = 10_000;
/// The inbox and a node's replies expire this long after their last entry:
/// a session that went quiet, or a node gone for good, leaves nothing behind
/// (what they carry, a forwarded ballot and its receipt, is in the log too).
const STREAMS_TTL: Duration = Duration::from_secs(3600);

/// KEYS: owner, fence, meta. ARGV: node, ttl in ms.
/// Returns {'acquired', token} | {'held', node, pttl} | {'not_found'}.
static ACQUIRE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {'not_found'}
end
local cur = redis.call('GET', KEYS[1])
if cur then
  local who = string.sub(cur, (string.find(cur, ' ', 1, true) or 0) + 1)
  if who ~= ARGV[1] then
    return {'held', who, string.format('%d', redis.call('PTTL', KEYS[1]))}
  end
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], string.format('%d', token) .. ' ' .. ARGV[1], 'PX', ARGV[2])
return {'acquired', string.format('%d', token)}
",
    )
});

/// KEYS: owner. ARGV: "<token> <node>", ttl in ms. Returns 1 when renewed.
static RENEW: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"#!lua
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
",
    )
});

/// KEYS: owner. ARGV: "<token> <node>". Returns 1 when released.
static RELEASE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"#!lua
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
",
    )
});

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl Cluster for RedisStore {
    async fn acquire(&self, session: &str, node: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let keys = Keys::of(session);
        let mut inv = ACQUIRE.prepare_invoke();
        inv.key(&keys.owner).key(&keys.fence).key(&keys.meta).arg(node).arg(millis(ttl));
        let status = strings_of(self.run_script(&inv).await?, "acquire")?;
        match status.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["acquired", token] => token
                .parse()
                .map(Lease::Acquired)
                .map_err(|_| StoreError::Corrupt(format!("session {session}: fencing token {token:?} is not a number"))),
            ["held", who, pttl] => {
                let ms = pttl.parse::<i64>().unwrap_or(0).max(0) as u64;
                Ok(Lease::Held { node: who.to_owned(), ttl: Duration::from_millis(ms) })
            }
            ["not_found"] => Err(StoreError::NotFound(session.to_owned())),
            _ => Err(StoreError::Corrupt(format!("acquire: unexpected status {status:?} from Redis"))),
        }
    }

    async fn renew(&self, session: &str, node: &str, token: u64, ttl: Duration) -> Result<bool, StoreError> {
        let keys = Keys::of(session);
        let mut inv = RENEW.prepare_invoke();
        inv.key(&keys.owner).arg(format!("{token} {node}")).arg(millis(ttl));
        Ok(int_of(self.run_script(&inv).await?, "renew")? == 1)
    }

    async fn release(&self, session: &str, node: &str, token: u64) -> Result<(), StoreError> {
        let keys = Keys::of(session);
        let mut inv = RELEASE.prepare_invoke();
        inv.key(&keys.owner).arg(format!("{token} {node}"));
        int_of(self.run_script(&inv).await?, "release").map(|_| ())
    }

    async fn append_fenced(&self, session: &str, token: u64, first_seq: u64, records: Vec<Record>) -> Result<(), StoreError> {
        self.append_with(session, Some(token), first_seq, records).await
    }

    async fn send(&self, session: &str, messages: Vec<Message>) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        let keys = Keys::of(session);
        let mut pipe = ::redis::pipe();
        for m in &messages {
            let (stream, bytes) = match m {
                Message::Forward(b) => (keys.inbox.clone(), b),
                Message::Reply { node, bytes } => (keys.replies(node), bytes),
                Message::Presence(b) => (keys.presence.clone(), b),
            };
            pipe.cmd("XADD").arg(&stream).arg("MAXLEN").arg("~").arg(STREAM_MAX).arg("*").arg(DATA_FIELD).arg(bytes.as_ref()).ignore();
            pipe.cmd("PEXPIRE").arg(&stream).arg(millis(STREAMS_TTL)).ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await.map_err(store_error)
    }

    async fn ends(&self, session: &str, node: &str, lookback: Duration) -> Result<Ends, StoreError> {
        let keys = Keys::of(session);
        let mut pipe = ::redis::pipe();
        for stream in [keys.inbox.clone(), keys.replies(node), keys.presence.clone()] {
            pipe.cmd("XREVRANGE").arg(stream).arg("+").arg("-").arg("COUNT").arg(1);
        }
        pipe.cmd("TIME");
        let (inbox, replies, presence, time): (Value, Value, Value, Value) =
            pipe.query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        // Entry ids are the store's clock in ms: an id `lookback` ago.
        let now = strings_of(time, "TIME")?;
        let ms = match &now[..] {
            [secs, micros] => secs.parse::<u64>().unwrap_or(0) * 1000 + micros.parse::<u64>().unwrap_or(0) / 1000,
            _ => return Err(StoreError::Corrupt(format!("TIME answered {now:?}"))),
        };
        let recent = format!("{}-0", ms.saturating_sub(millis(lookback)));
        let inbox = last_id(inbox)?;
        let inbox_recent = if crate::cluster::at_or_after(&recent, &inbox) { inbox.clone() } else { recent };
        Ok(Ends { inbox, inbox_recent, replies: last_id(replies)?, presence: last_id(presence)? })
    }

    async fn notify(&self, notice: Bytes) -> Result<(), StoreError> {
        ::redis::cmd("XADD")
            .arg(NOTICES_KEY)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_MAX)
            .arg("*")
            .arg(DATA_FIELD)
            .arg(notice.as_ref())
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(store_error)
    }

    async fn notices_end(&self) -> Result<String, StoreError> {
        let v: Value = ::redis::cmd("XREVRANGE")
            .arg(NOTICES_KEY)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        last_id(v)
    }

    async fn listener(&self, node: &str) -> Result<Box<dyn Listener>, StoreError> {
        Ok(Box::new(RedisListener { client: self.client.clone(), conn: None, node: node.to_owned() }))
    }
}

/// The id of the one entry of an `XREVRANGE … COUNT 1`, or `0-0` for an empty stream.
fn last_id(v: Value) -> Result<String, StoreError> {
    match array_of(v, "XREVRANGE")?.into_iter().next() {
        None => Ok("0-0".to_owned()),
        Some(entry) => Ok(entry_of(entry)?.0),
    }
}

/// One stream entry `[id, [d, bytes]]`.
fn entry_of(entry: Value) -> Result<(String, Bytes), StoreError> {
    crate::redis::stream_entry(entry).map_err(|m| StoreError::Corrupt(format!("stream entry from Redis: {m}")))
}

/// A connection of its own for `XREAD BLOCK`, opened on first use and again
/// after an error.
struct RedisListener {
    client: ::redis::Client,
    conn: Option<MultiplexedConnection>,
    node: String,
}

impl RedisListener {
    async fn conn(&mut self, block: Duration) -> Result<MultiplexedConnection, StoreError> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        let config = ::redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(crate::redis::CONNECT_TIMEOUT))
            // The reply of a blocked read comes after the block at the latest.
            .set_response_timeout(Some(block + crate::redis::RESPONSE_TIMEOUT));
        let c = self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(store_error)?;
        self.conn = Some(c.clone());
        Ok(c)
    }

    /// `XREAD COUNT max BLOCK ms STREAMS k… id…`: each stream's entries.
    async fn xread(
        &mut self,
        streams: &[(String, String)],
        block: Duration,
        max: usize,
    ) -> Result<Vec<(String, Vec<(String, Bytes)>)>, StoreError> {
        let mut cmd = ::redis::cmd("XREAD");
        cmd.arg("COUNT").arg(max.max(1)).arg("BLOCK").arg(millis(block)).arg("STREAMS");
        for (k, _) in streams {
            cmd.arg(k);
        }
        for (_, id) in streams {
            cmd.arg(id);
        }
        let mut conn = self.conn(block).await?;
        let reply: Value = match cmd.query_async(&mut conn).await {
            Ok(v) => v,
            Err(e) => {
                self.conn = None;
                return Err(store_error(e));
            }
        };
        let per_stream: Vec<(Value, Value)> = match reply {
            Value::Nil => return Ok(Vec::new()),
            Value::Map(m) => m,
            Value::Array(items) => items
                .into_iter()
                .map(|kv| match kv {
                    Value::Array(p) if p.len() == 2 => {
                        let mut it = p.into_iter();
                        Ok((it.next().unwrap_or(Value::Nil), it.next().unwrap_or(Value::Nil)))
                    }
                    other => Err(StoreError::Corrupt(format!("malformed XREAD reply from Redis: {other:?}"))),
                })
                .collect::<Result<_, _>>()?,
            other => return Err(StoreError::Corrupt(format!("malformed XREAD reply from Redis: {other:?}"))),
        };
        per_stream
            .into_iter()
            .map(|(k, entries)| {
                let k = string_of(k, "stream key")?;
                let entries = array_of(entries, "XREAD entries")?.into_iter().map(entry_of).collect::<Result<Vec<_>, _>>()?;
                Ok((k, entries))
            })
            .collect()
    }
}

/// A log entry id `<seq>-0` as its sequence number.
fn seq_of(id: &str) -> Result<u64, StoreError> {
    id.strip_suffix("-0").and_then(|n| n.parse().ok()).ok_or_else(|| StoreError::Corrupt(format!("log entry id {id} is not <seq>-0")))
}

#[async_trait::async_trait]
impl Listener for RedisListener {
    async fn listen(&mut self, session: &str, cursor: &Cursor, block: Duration, max: usize) -> Result<Heard, StoreError> {
        let keys = Keys::of(session);
        let replies = keys.replies(&self.node);
        let mut streams = vec![
            (keys.log.clone(), format!("{}-0", cursor.log_after)),
            (replies.clone(), cursor.replies_after.clone()),
            (keys.presence.clone(), cursor.presence_after.clone()),
        ];
        if let Some(after) = &cursor.inbox_after {
            streams.push((keys.inbox.clone(), after.clone()));
        }
        let mut heard = Heard::default();
        for (key, entries) in self.xread(&streams, block, max).await? {
            if key == keys.log {
                for (want, (id, bytes)) in (cursor.log_after + 1..).zip(entries) {
                    let seq = seq_of(&id)?;
                    if seq != want {
                        return Err(StoreError::Corrupt(format!("session {session}: log entry {id} follows {}", want - 1)));
                    }
                    heard.log.push((seq, bytes));
                }
            } else if key == replies {
                heard.replies = entries;
            } else if key == keys.inbox {
                heard.inbox = entries;
            } else if key == keys.presence {
                heard.presence = entries;
            }
        }
        Ok(heard)
    }

    async fn notices(&mut self, after: &str, block: Duration, max: usize) -> Result<Vec<(String, Bytes)>, StoreError> {
        let streams = [(NOTICES_KEY.to_owned(), after.to_owned())];
        Ok(self.xread(&streams, block, max).await?.into_iter().flat_map(|(_, e)| e).collect())
    }
}
