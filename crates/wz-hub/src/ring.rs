//! The resume window: recent events kept in memory with their encodings.
//!
//! Each entry keeps the changes an event made (as they were then) and the
//! bytes already encoded per perspective, so a resuming client receives
//! exactly what it would have received live, encoded at most once per
//! perspective.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use wz_domain::{Change, EventKind, Millis, Perspective, SessionDef};

pub(crate) struct Entry {
    pub seq: u64,
    pub at: Millis,
    pub kind: EventKind,
    pub changes: Vec<Change>,
    /// `None` when the perspective sees nothing of this event.
    encoded: HashMap<Perspective, Option<Bytes>>,
    /// The public perspective's, kept apart: most connections see an event
    /// as the public does (every delegate it does not concern), and a
    /// broadcast asks for it once per connection, so it is not hashed each
    /// time (issue 11: hashing perspectives was a fifth of a ballot's CPU
    /// with 1,000 delegates connected).
    public: Option<Option<Bytes>>,
}

impl Entry {
    pub fn new(seq: u64, at: Millis, kind: EventKind, changes: Vec<Change>) -> Self {
        Self { seq, at, kind, changes, encoded: HashMap::new(), public: None }
    }

    /// The bytes for `p`, encoding them on first use.
    pub fn bytes(&mut self, session: &str, def: &SessionDef, seal: Option<&wz_domain::Seal>, p: &Perspective) -> Option<Bytes> {
        if *p == Perspective::Public {
            if let Some(b) = &self.public {
                return b.clone();
            }
            let b = self.encode(session, def, seal, p);
            self.public = Some(b.clone());
            return b;
        }
        if let Some(b) = self.encoded.get(p) {
            return b.clone();
        }
        let b = self.encode(session, def, seal, p);
        self.encoded.insert(p.clone(), b.clone());
        b
    }

    fn encode(&self, session: &str, def: &SessionDef, seal: Option<&wz_domain::Seal>, p: &Perspective) -> Option<Bytes> {
        metrics::counter!("wz_event_encodings_total").increment(1);
        wz_protocol::render::event(wz_protocol::render::Scope { session, def, seal }, self.seq, self.at, self.kind, &self.changes, p)
            .map(|m| Bytes::from(m.encode()))
    }
}

pub(crate) struct Ring {
    entries: VecDeque<Entry>,
    capacity: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Self { entries: VecDeque::new(), capacity: capacity.max(1) }
    }

    pub fn push(&mut self, e: Entry) -> &mut Entry {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
        self.entries.back_mut().expect("just pushed")
    }

    /// Entries with seq > `since`, if the window still holds all of them.
    pub fn since(&mut self, since: u64, last: u64) -> Option<impl Iterator<Item = &mut Entry>> {
        if since >= last {
            let len = self.entries.len();
            return Some(self.entries.iter_mut().skip(len));
        }
        let first = self.entries.front()?.seq;
        if since + 1 < first {
            return None;
        }
        let skip = (since + 1 - first) as usize;
        Some(self.entries.iter_mut().skip(skip))
    }
}
