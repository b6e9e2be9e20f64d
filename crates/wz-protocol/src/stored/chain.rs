//! The record as a hash chain (issue 9): every event record written since
//! format 2 carries `prev`, the SHA-256 (hex) of the record before it, and
//! the first one that of the session's header. The chain's head, the hash of
//! the last record, names the whole record: change, drop, swap or insert an
//! entry anywhere before it and the head changes, or a `prev` no longer
//! matches.
//!
//! Records written before the chain existed (format 1, no `prev`) are read
//! as an unchained prefix: the chain starts at the first format-2 record,
//! and a format-1 record after it is refused. Cutting entries off the end
//! leaves a valid shorter chain: only a head known from elsewhere (the
//! bulletin, the moderator's console) shows that, which is why the head is
//! published.

use sha2::{Digest, Sha256};
use std::fmt;

/// The hash of the last record (or of the header, before any event).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHead([u8; 32]);

impl ChainHead {
    /// The head before any event: the hash of the session's header record.
    pub fn genesis(header: &[u8]) -> Self {
        Self(Sha256::digest(header).into())
    }

    /// The head once `record` (its exact stored bytes) follows.
    pub fn next(&self, record: &[u8]) -> Self {
        Self(Sha256::digest(record).into())
    }

    /// 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b).ok()?;
        Some(Self(b))
    }
}

impl fmt::Debug for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHead({})", self.hex())
    }
}

impl fmt::Display for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The first entry at which a record does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event {seq}: {reason}")]
pub struct ChainError {
    /// 1-based: the event's sequence number.
    pub seq: u64,
    pub reason: String,
}

/// Checks the chain of a session's records and returns its head.
pub fn check<R: AsRef<[u8]>>(header: &[u8], records: &[R]) -> Result<ChainHead, ChainError> {
    let mut head = ChainHead::genesis(header);
    let mut chained = false;
    for (i, raw) in records.iter().enumerate() {
        let raw = raw.as_ref();
        let seq = i as u64 + 1;
        let fail = |reason: String| ChainError { seq, reason };
        let prev = super::record_prev(raw).map_err(|e| fail(e.to_string()))?;
        match prev {
            Some(p) if p != head.hex() => {
                return Err(fail(format!("its prev {p} is not the hash of the record before it ({head})")));
            }
            Some(_) => chained = true,
            None if chained => return Err(fail("an unchained record after the chain began".into())),
            None => {}
        }
        head = head.next(raw);
    }
    Ok(head)
}
