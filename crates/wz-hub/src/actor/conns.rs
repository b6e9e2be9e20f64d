//! The session's open connections, by id and by credential.
//!
//! The index by credential makes the per-credential cap a lookup rather than
//! a scan of every connection: in a reconnect storm of 10,000 screens on the
//! shared `screen` credential, a scan per connect would cost 10^8
//! comparisons. Every insertion and removal goes through this type, so the
//! maps cannot disagree.
//!
//! Connections are also split by how they receive broadcasts: most screens
//! read the session's feed (`fed`), everyone else has frames pushed into
//! their own queue (`direct`); a broadcast walks only the direct ones, in a
//! map of their own.

use super::ConnId;
use crate::credentials::PrincipalKey;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio::sync::oneshot;
use wz_domain::{VenueId, Viewer};
use wz_protocol::CloseCode;

pub(super) struct Conn {
    pub key: PrincipalKey,
    pub viewer: Viewer,
    /// The venue this connection counts for on the health board.
    pub venue: Option<VenueId>,
    pub tx: crate::conn::OutboxTx,
    /// Reads the session's feed rather than having broadcasts pushed.
    pub fed: bool,
    pub close: Option<oneshot::Sender<CloseCode>>,
    /// The server's span of the connection (session, role, principal,
    /// venue, id): the parent of the hub's log lines about it.
    pub span: tracing::Span,
}

impl Conn {
    /// Tells the connection's writer to close with `code` (once).
    pub fn close(&mut self, code: CloseCode) {
        if let Some(close) = self.close.take() {
            let _ = close.send(code);
        }
    }
}

#[derive(Default)]
pub(super) struct Conns {
    /// The connections that read the feed, and the others: two maps rather
    /// than one with an index, so a broadcast walks the direct ones without
    /// a lookup each (issue 11: hashing ids was a visible part of a ballot
    /// with 1,000 delegates connected). Ordered, so the feed's readers opened
    /// since some id are a range.
    fed: BTreeMap<ConnId, Conn>,
    direct: BTreeMap<ConnId, Conn>,
    /// Ids grow with every connection, so each set lists the oldest first.
    by_key: HashMap<PrincipalKey, BTreeSet<ConnId>>,
    /// The direct connections that are not a delegate's: with the index by
    /// credential, an event the public sees nothing of (a ballot) visits
    /// these and the delegates it concerns, not every delegate.
    others: BTreeSet<ConnId>,
}

impl Conns {
    /// Adds a connection under a fresh id (ids are never reused).
    pub fn insert(&mut self, id: ConnId, conn: Conn) {
        debug_assert!(!self.contains(id), "connection id {id} reused");
        self.by_key.entry(conn.key.clone()).or_default().insert(id);
        if !conn.fed && !matches!(conn.key, PrincipalKey::Delegate(_)) {
            self.others.insert(id);
        }
        if conn.fed { &mut self.fed } else { &mut self.direct }.insert(id, conn);
    }

    pub fn remove(&mut self, id: ConnId) -> Option<Conn> {
        let conn = self.direct.remove(&id).or_else(|| self.fed.remove(&id))?;
        self.unindex(id, &conn.key);
        self.others.remove(&id);
        Some(conn)
    }

    fn unindex(&mut self, id: ConnId, key: &PrincipalKey) {
        if let Some(ids) = self.by_key.get_mut(key) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_key.remove(key);
            }
        }
    }

    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        self.direct.get(&id).or_else(|| self.fed.get(&id))
    }

    pub fn contains(&self, id: ConnId) -> bool {
        self.get(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ConnId, &Conn)> {
        self.direct.iter().chain(self.fed.iter())
    }

    /// The connections that get broadcasts pushed into their own queue.
    pub fn direct(&self) -> impl Iterator<Item = (ConnId, &Conn)> {
        self.direct.iter().map(|(id, c)| (*id, c))
    }

    /// The direct connections that are not a delegate's.
    pub fn others(&self) -> impl Iterator<Item = (ConnId, &Conn)> {
        self.others.iter().filter_map(|id| Some((*id, self.direct.get(id)?)))
    }

    /// How many connections read the feed.
    pub fn fed(&self) -> usize {
        self.fed.len()
    }

    /// The connections reading the feed with an id from `from` on.
    pub fn fed_since(&self, from: ConnId) -> impl Iterator<Item = (ConnId, &Conn)> {
        self.fed.range(from..).map(|(id, c)| (*id, c))
    }

    pub fn len(&self) -> usize {
        self.direct.len() + self.fed.len()
    }

    /// How many connections `key` has, closed ones not yet removed included.
    pub fn count_of(&self, key: &PrincipalKey) -> usize {
        self.by_key.get(key).map_or(0, BTreeSet::len)
    }

    /// The connections of one credential, oldest first.
    pub fn of_key(&self, key: &PrincipalKey) -> Vec<ConnId> {
        self.by_key.get(key).map(|ids| ids.iter().copied().collect()).unwrap_or_default()
    }

    /// Forgets the connections whose client side is gone.
    pub fn remove_closed(&mut self) {
        let gone: Vec<ConnId> = self.iter().filter(|(_, c)| c.tx.is_closed()).map(|(id, _)| *id).collect();
        for id in gone {
            self.remove(id);
        }
    }

    /// Removes and returns every connection.
    pub fn drain(&mut self) -> Vec<Conn> {
        self.by_key.clear();
        self.others.clear();
        let fed = std::mem::take(&mut self.fed);
        std::mem::take(&mut self.direct).into_values().chain(fed.into_values()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wz_domain::DelegateId;

    fn conn(key: &PrincipalKey) -> (Conn, crate::conn::OutboxRx) {
        let (tx, rx) = crate::conn::outbox(4, 1024);
        (Conn { key: key.clone(), viewer: key.viewer(), venue: None, tx, fed: false, close: None, span: tracing::Span::none() }, rx)
    }

    /// The index by credential follows every insertion and removal, oldest first.
    #[test]
    fn the_index_by_credential_follows_every_change() {
        let d1 = PrincipalKey::Delegate(DelegateId::new("d1"));
        let screen = PrincipalKey::Screen;
        let mut conns = Conns::default();
        let mut keep = Vec::new();
        for (id, key) in [(5, &d1), (2, &screen), (9, &d1), (7, &d1), (3, &screen)] {
            let (c, rx) = conn(key);
            conns.insert(id, c);
            keep.push((id, rx));
        }
        assert_eq!(conns.of_key(&d1), [5, 7, 9]);
        assert_eq!(conns.of_key(&screen), [2, 3]);
        assert_eq!((conns.count_of(&d1), conns.count_of(&screen)), (3, 2));
        assert!(conns.remove(7).is_some() && conns.remove(7).is_none());
        assert_eq!(conns.of_key(&d1), [5, 9]);
        // A client gone (its receiving half dropped) leaves both maps.
        keep.retain(|(id, _)| *id != 9 && *id != 2);
        conns.remove_closed();
        assert_eq!((conns.of_key(&d1), conns.of_key(&screen)), (vec![5], vec![3]));
        assert_eq!(conns.len(), 2);
        assert_eq!(conns.drain().len(), 2);
        assert!(conns.of_key(&d1).is_empty() && conns.len() == 0);
    }

    /// Screens on the feed, everyone else direct, and the direct ones that
    /// are not a delegate's apart: every insertion and removal keeps the
    /// three views of one set of connections.
    #[test]
    fn connections_are_split_by_how_they_receive_broadcasts() {
        let d1 = PrincipalKey::Delegate(DelegateId::new("d1"));
        let op = PrincipalKey::Operator(wz_domain::VenueId::new("baiyu"));
        let mut conns = Conns::default();
        let mut keep = Vec::new();
        for (id, key, fed) in [
            (1, &PrincipalKey::Moderator, false),
            (2, &PrincipalKey::Screen, true),
            (3, &d1, false),
            (4, &op, false),
            (5, &PrincipalKey::Screen, true),
        ] {
            let (mut c, rx) = conn(key);
            c.fed = fed;
            conns.insert(id, c);
            keep.push(rx);
        }
        let ids = |it: &mut dyn Iterator<Item = (ConnId, &Conn)>| it.map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(ids(&mut conns.direct()), [1, 3, 4]);
        assert_eq!(ids(&mut conns.others()), [1, 4], "the delegate is reached through its credential");
        assert_eq!((conns.fed(), ids(&mut conns.fed_since(3))), (2, vec![5]));
        assert_eq!(conns.len(), 5);
        assert!(conns.remove(4).is_some() && conns.remove(2).is_some());
        assert_eq!((ids(&mut conns.direct()), ids(&mut conns.others()), conns.fed()), (vec![1, 3], vec![1], 1));
        assert!(conns.get(5).is_some_and(|c| c.fed) && conns.get(2).is_none());
    }
}
