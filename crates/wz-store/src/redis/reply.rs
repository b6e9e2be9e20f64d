//! Reading Redis's answers: errors classified into [`StoreError`]s an
//! operator can act on, and replies taken apart into the values the store
//! expects (anything else is [`StoreError::Corrupt`]).

use ::redis::{ErrorKind, RedisError, Value};
use bytes::Bytes;

use super::DATA_FIELD;
use crate::StoreError;

/// Classifies a redis-rs error. Unreachable, timed out, out of memory,
/// failing persistence (MISCONF), read-only replica, loading: all retryable
/// `Unavailable`, with the server's own words so the operator sees "OOM …"
/// or "MISCONF …". A key of the wrong type means the data is not ours: `Corrupt`.
pub(crate) fn store_error(e: RedisError) -> StoreError {
    let kind = e.kind();
    let shown = e.to_string();
    // The server's own errors: one, or one per failed command of a MULTI.
    let server: Vec<(String, String)> = match e.code() {
        Some(code) => vec![(code.to_owned(), server_message(&e))],
        None => e
            .into_server_errors()
            .map(|errors| {
                errors
                    .iter()
                    .map(|(_, err)| {
                        let message = match err.details() {
                            Some(d) => format!("{} {d}", err.code()),
                            None => err.code().to_owned(),
                        };
                        (err.code().to_owned(), message)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    if let Some((_, message)) = server.iter().find(|(code, _)| code == "WRONGTYPE") {
        return StoreError::Corrupt(format!("Redis: {message}"));
    }
    if let Some((_, message)) = server.first() {
        return StoreError::Unavailable(format!("Redis: {message}"));
    }
    match kind {
        ErrorKind::UnexpectedReturnType => StoreError::Corrupt(format!("Redis: {shown}")),
        _ => StoreError::Unavailable(format!("Redis: {shown}")),
    }
}

/// "CODE detail", as Redis sent it.
pub(super) fn server_message(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_owned(),
        _ => e.to_string(),
    }
}

/// Strips the password from a URL for logs and messages.
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut out = match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_owned(),
    };
    // `?pass=` / `?password=` in a unix socket URL.
    if let Some(q) = out.find('?') {
        let query: Vec<String> = out[q + 1..]
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k == "pass" || k == "password" => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{}?{}", &out[..q], query.join("&"));
    }
    out
}

// ------------------------------------------------------------ replies

pub(super) fn corrupt(what: &str, v: &Value) -> StoreError {
    StoreError::Corrupt(format!("unexpected reply for {what} from Redis: {v:?}"))
}

pub(crate) fn bytes_of(v: Value, what: &str) -> Result<Option<Bytes>, StoreError> {
    match v {
        Value::Nil => Ok(None),
        Value::BulkString(b) => Ok(Some(Bytes::from(b))),
        Value::SimpleString(s) => Ok(Some(Bytes::from(s))),
        other => Err(corrupt(what, &other)),
    }
}

pub(crate) fn string_of(v: Value, what: &str) -> Result<String, StoreError> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).map_err(|e| StoreError::Corrupt(format!("{what}: not UTF-8: {e}"))),
        Value::SimpleString(s) => Ok(s),
        other => Err(corrupt(what, &other)),
    }
}

pub(crate) fn int_of(v: Value, what: &str) -> Result<i64, StoreError> {
    match v {
        Value::Int(n) => Ok(n),
        other => Err(corrupt(what, &other)),
    }
}

pub(crate) fn array_of(v: Value, what: &str) -> Result<Vec<Value>, StoreError> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        other => Err(corrupt(what, &other)),
    }
}

pub(crate) fn strings_of(v: Value, what: &str) -> Result<Vec<String>, StoreError> {
    array_of(v, what)?.into_iter().map(|s| string_of(s, what)).collect()
}

/// A hash: a flat array (RESP2) or a map (RESP3).
pub(super) fn string_pairs(v: Value, what: &str) -> Result<Vec<(String, String)>, StoreError> {
    match v {
        Value::Map(pairs) => pairs.into_iter().map(|(k, v)| Ok((string_of(k, what)?, string_of(v, what)?))).collect(),
        Value::Array(items) if items.len() % 2 == 0 => {
            let mut it = items.into_iter();
            let mut out = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((string_of(k, what)?, string_of(v, what)?));
            }
            Ok(out)
        }
        other => Err(corrupt(what, &other)),
    }
}

/// The reply to `CONFIG GET name`: `[name, value]` (RESP2) or `{name: value}`.
pub(super) fn config_value(v: Value, name: &str) -> Option<String> {
    string_pairs(v, name).ok()?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// One `XRANGE` entry, `[id, [field, value]]`, which must be event `want`.
pub(super) fn log_entry(entry: Value, want: u64) -> Result<Bytes, String> {
    let (id, data) = stream_entry(entry)?;
    if id != format!("{want}-0") {
        return Err(format!("found stream id {id}, want {want}-0"));
    }
    Ok(data)
}

/// One stream entry of ours, `[id, [d, bytes]]` (RESP2 or RESP3): its id and bytes.
pub(crate) fn stream_entry(entry: Value) -> Result<(String, Bytes), String> {
    let Value::Array(parts) = entry else {
        return Err(format!("malformed entry {entry:?}"));
    };
    let [id, fields] = <[Value; 2]>::try_from(parts).map_err(|p| format!("malformed entry {p:?}"))?;
    let id = string_of(id, "stream id").map_err(|e| e.to_string())?;
    let fields = match fields {
        Value::Array(f) => f,
        Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        other => return Err(format!("malformed fields {other:?}")),
    };
    match <[Value; 2]>::try_from(fields) {
        Ok([Value::BulkString(name), Value::BulkString(data)]) if name == DATA_FIELD.as_bytes() => Ok((id, Bytes::from(data))),
        Ok(other) => Err(format!("fields {other:?}, want only {DATA_FIELD:?}")),
        Err(other) => Err(format!("fields {other:?}, want only {DATA_FIELD:?}")),
    }
}
