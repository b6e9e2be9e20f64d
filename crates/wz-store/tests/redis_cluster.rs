//! Several nodes on one Redis (issue 12): the lease and its fencing token,
//! fenced appends, the listener's streams and the notices. Each test runs
//! its own `redis-server`; a lease's expiry is what deleting its key does,
//! so no test waits for a clock.

use std::time::Duration;

use bytes::Bytes;
use wz_store::cluster::{Cursor, Lease, Message};
use wz_store::testing::RedisServer;
use wz_store::{Record, RedisStore, Store, StoreError};

const TTL: Duration = Duration::from_secs(30);
const BLOCK: Duration = Duration::from_secs(5);

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::connect(&server.url()).await.expect("connect to test redis-server")
}

fn rec(s: &str) -> Record {
    Record::new(Bytes::copy_from_slice(s.as_bytes()))
}

fn token(l: Lease) -> u64 {
    match l {
        Lease::Acquired(t) => t,
        other => panic!("want the lease, got {other:?}"),
    }
}

/// What an expired lease leaves: no owner key.
async fn expire_lease(server: &RedisServer, session: &str) {
    let mut raw = redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL").arg(format!("wz:v1:{{{session}}}:owner")).query_async(&mut raw).await.unwrap();
}

fn fenced(r: Result<(), StoreError>) -> String {
    match r {
        Err(StoreError::Fenced { detail, .. }) => detail,
        other => panic!("want Fenced, got {other:?}"),
    }
}

#[tokio::test]
async fn one_owner_at_a_time_and_a_stale_owner_cannot_write() {
    let server = RedisServer::start_temp(&[]);
    let s = store(&server).await;
    s.create_session("s", Bytes::from_static(b"meta")).await.unwrap();
    let c = s.cluster().expect("Redis can be shared");
    let a = token(c.acquire("s", "a", TTL).await.unwrap());
    match c.acquire("s", "b", TTL).await.unwrap() {
        Lease::Held { node, ttl } => {
            assert_eq!(node, "a");
            assert!(ttl <= TTL && ttl > Duration::ZERO, "{ttl:?}");
        }
        other => panic!("b must not get a's lease: {other:?}"),
    }
    assert!(c.renew("s", "a", a, TTL).await.unwrap());
    assert!(!c.renew("s", "b", a, TTL).await.unwrap(), "b cannot renew a's lease");
    c.append_fenced("s", a, 1, vec![rec("e1")]).await.unwrap();
    // Without a token while a node owns the session: refused.
    assert!(fenced(s.append("s", 2, vec![rec("x")]).await).contains("node a owns the session"));

    // a is paused past its lease; b takes it with a newer token.
    expire_lease(&server, "s").await;
    let b = token(c.acquire("s", "b", TTL).await.unwrap());
    assert!(b > a, "tokens grow: {a} then {b}");
    assert!(!c.renew("s", "a", a, TTL).await.unwrap(), "a's lease is gone");
    // a wakes up and writes with its old token, at the right seq: refused, nothing written.
    let why = fenced(c.append_fenced("s", a, 2, vec![rec("stale")]).await);
    assert!(why.contains("stale"), "{why}");
    c.append_fenced("s", b, 2, vec![rec("e2")]).await.unwrap();
    let loaded = s.load("s").await.unwrap().unwrap();
    assert_eq!(loaded.events, vec![Bytes::from_static(b"e1"), Bytes::from_static(b"e2")]);

    // A released lease: a single node (no token) may write again.
    c.release("s", "b", b).await.unwrap();
    s.append("s", 3, vec![rec("e3")]).await.unwrap();
    assert!(matches!(c.acquire("nope", "a", TTL).await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn a_node_restarted_under_its_id_takes_its_lease_again_with_a_new_token() {
    let server = RedisServer::start_temp(&[]);
    let s = store(&server).await;
    s.create_session("s", Bytes::from_static(b"meta")).await.unwrap();
    let c = s.cluster().unwrap();
    let first = token(c.acquire("s", "a", TTL).await.unwrap());
    let again = token(c.acquire("s", "a", TTL).await.unwrap());
    assert!(again > first);
    fenced(c.append_fenced("s", first, 1, vec![rec("old process")]).await);
    c.append_fenced("s", again, 1, vec![rec("e1")]).await.unwrap();
    // Releasing with the old token does not release the new lease.
    c.release("s", "a", first).await.unwrap();
    assert!(c.renew("s", "a", again, TTL).await.unwrap());
}

#[tokio::test]
async fn a_listener_hears_the_log_the_inbox_and_its_own_replies() {
    let server = RedisServer::start_temp(&[]);
    let s = store(&server).await;
    s.create_session("s", Bytes::from_static(b"meta")).await.unwrap();
    let c = s.cluster().unwrap();
    let ends = c.ends("s", "b", Duration::from_secs(5)).await.unwrap();
    assert_eq!(ends.inbox_recent, "0-0", "an empty inbox: from its start");
    assert_eq!((ends.inbox.as_str(), ends.replies.as_str(), ends.presence.as_str()), ("0-0", "0-0", "0-0"));
    let (inbox_end, replies_end) = (ends.inbox.clone(), ends.replies.clone());
    s.append("s", 1, vec![rec("e1"), rec("e2")]).await.unwrap();
    c.send(
        "s",
        vec![
            Message::Forward(Bytes::from_static(b"cmd1")),
            Message::Reply { node: "b".into(), bytes: Bytes::from_static(b"for b") },
            Message::Reply { node: "c".into(), bytes: Bytes::from_static(b"for c") },
            Message::Presence(Bytes::from_static(b"c sees 3 in baiyu")),
        ],
    )
    .await
    .unwrap();
    let mut l = c.listener("b").await.unwrap();
    let owner = Cursor {
        log_after: 0,
        inbox_after: Some(inbox_end.clone()),
        replies_after: replies_end.clone(),
        presence_after: ends.presence.clone(),
    };
    // A new owner reading from where the inbox stood a while ago gets what
    // was forwarded meanwhile, while nobody owned the session.
    let recent = c.ends("s", "b", Duration::from_secs(60)).await.unwrap();
    assert!(recent.inbox_recent != recent.inbox, "{recent:?}");
    let late = Cursor { inbox_after: Some(recent.inbox_recent.clone()), ..owner.clone() };
    let heard = l.listen("s", &late, BLOCK, 100).await.unwrap();
    assert_eq!(heard.inbox.iter().map(|e| e.1.clone()).collect::<Vec<_>>(), vec![Bytes::from_static(b"cmd1")]);
    let heard = l.listen("s", &owner, BLOCK, 100).await.unwrap();
    assert_eq!(heard.log, vec![(1, Bytes::from_static(b"e1")), (2, Bytes::from_static(b"e2"))]);
    assert_eq!(heard.inbox.iter().map(|e| e.1.clone()).collect::<Vec<_>>(), vec![Bytes::from_static(b"cmd1")]);
    assert_eq!(heard.replies.iter().map(|e| e.1.clone()).collect::<Vec<_>>(), vec![Bytes::from_static(b"for b")]);
    assert_eq!(heard.presence.iter().map(|e| e.1.clone()).collect::<Vec<_>>(), vec![Bytes::from_static(b"c sees 3 in baiyu")]);

    // A follower does not read the inbox; a read after everything blocks
    // until the next entry comes.
    let follower =
        Cursor { log_after: 2, inbox_after: None, replies_after: heard.replies[0].0.clone(), presence_after: heard.presence[0].0.clone() };
    let append = async {
        // The read is blocked by now or starts after this append: either way it sees it.
        s.append("s", 3, vec![rec("e3")]).await.unwrap();
    };
    let (heard, ()) = tokio::join!(l.listen("s", &follower, BLOCK, 100), append);
    let heard = heard.unwrap();
    assert_eq!(heard.log, vec![(3, Bytes::from_static(b"e3"))]);
    assert!(heard.inbox.is_empty() && heard.replies.is_empty() && heard.presence.is_empty());
}

#[tokio::test]
async fn notices_reach_every_listener() {
    let server = RedisServer::start_temp(&[]);
    let s = store(&server).await;
    let c = s.cluster().unwrap();
    let end = c.notices_end().await.unwrap();
    c.notify(Bytes::from_static(b"created s")).await.unwrap();
    c.notify(Bytes::from_static(b"credentials s")).await.unwrap();
    for node in ["a", "b"] {
        let mut l = c.listener(node).await.unwrap();
        let got = l.notices(&end, BLOCK, 10).await.unwrap();
        let bodies: Vec<Bytes> = got.into_iter().map(|e| e.1).collect();
        assert_eq!(bodies, vec![Bytes::from_static(b"created s"), Bytes::from_static(b"credentials s")]);
    }
}
