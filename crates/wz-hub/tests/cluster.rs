//! Nodes of several on one Redis (issue 12), seen from the hub: the owner
//! whose actor panics is restarted as the owner (it still holds the lease),
//! so the session keeps a writer; a credential issued on one node is known
//! on another once it has caught up with the notices.

mod common;

use bytes::Bytes;
use common::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wz_hub::{HubConfig, PrincipalKey};
use wz_store::cluster::{Cluster, Ends, Lease, Listener, Message};
use wz_store::testing::RedisServer;
use wz_store::{Record, RedisStore, Store, StoreError, StoredSession};

/// Redis whose next fenced append panics (a bug below the actor).
struct Panicky {
    inner: RedisStore,
}

#[async_trait::async_trait]
impl Store for Panicky {
    fn kind(&self) -> &'static str {
        "redis"
    }
    async fn create_session(&self, s: &str, meta: Bytes) -> Result<(), StoreError> {
        self.inner.create_session(s, meta).await
    }
    async fn append(&self, s: &str, first: u64, r: Vec<Record>) -> Result<(), StoreError> {
        self.inner.append(s, first, r).await
    }
    async fn reset_derived(
        &self,
        s: &str,
        c: std::collections::BTreeMap<String, String>,
        n: std::collections::BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        self.inner.reset_derived(s, c, n).await
    }
    async fn load(&self, s: &str) -> Result<Option<StoredSession>, StoreError> {
        self.inner.load(s).await
    }
    async fn sessions(&self) -> Result<Vec<String>, StoreError> {
        self.inner.sessions().await
    }
    async fn put_credentials(&self, s: &str, c: Vec<(String, String)>) -> Result<(), StoreError> {
        self.inner.put_credentials(s, c).await
    }
    async fn credentials(&self, s: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.credentials(s).await
    }
    async fn put_attachment(&self, s: &str, id: &str, data: Bytes) -> Result<(), StoreError> {
        self.inner.put_attachment(s, id, data).await
    }
    async fn attachment(&self, s: &str, id: &str) -> Result<Option<Bytes>, StoreError> {
        self.inner.attachment(s, id).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    fn cluster(&self) -> Option<Arc<dyn Cluster>> {
        Some(Arc::new(PanickyCluster(self.inner.clone(), PANIC.clone())))
    }
}

static PANIC: std::sync::LazyLock<Arc<AtomicBool>> = std::sync::LazyLock::new(|| Arc::new(AtomicBool::new(false)));

struct PanickyCluster(RedisStore, Arc<AtomicBool>);

#[async_trait::async_trait]
impl Cluster for PanickyCluster {
    async fn acquire(&self, s: &str, node: &str, ttl: Duration) -> Result<Lease, StoreError> {
        self.0.acquire(s, node, ttl).await
    }
    async fn renew(&self, s: &str, node: &str, token: u64, ttl: Duration) -> Result<bool, StoreError> {
        self.0.renew(s, node, token, ttl).await
    }
    async fn release(&self, s: &str, node: &str, token: u64) -> Result<(), StoreError> {
        self.0.release(s, node, token).await
    }
    async fn append_fenced(&self, s: &str, token: u64, first: u64, r: Vec<Record>) -> Result<(), StoreError> {
        if self.1.swap(false, Ordering::SeqCst) {
            panic!("injected: the append panics");
        }
        self.0.append_fenced(s, token, first, r).await
    }
    async fn send(&self, s: &str, m: Vec<Message>) -> Result<(), StoreError> {
        self.0.send(s, m).await
    }
    async fn ends(&self, s: &str, node: &str, lookback: Duration) -> Result<Ends, StoreError> {
        self.0.ends(s, node, lookback).await
    }
    async fn notify(&self, n: Bytes) -> Result<(), StoreError> {
        self.0.notify(n).await
    }
    async fn notices_end(&self) -> Result<String, StoreError> {
        self.0.notices_end().await
    }
    async fn listener(&self, node: &str) -> Result<Box<dyn Listener>, StoreError> {
        self.0.listener(node).await
    }
}

#[tokio::test]
async fn an_owner_whose_actor_panics_is_restarted_as_the_owner() {
    let redis = RedisServer::start_temp(&[]);
    let store = Arc::new(Panicky { inner: RedisStore::connect(&redis.url()).await.unwrap() });
    let config = HubConfig { node: Some("n1".into()), ..quiet_config() };
    let h = Harness::start(store.clone(), config, "s1", 6).await;
    // The only node takes the lease.
    let mut ownership = h.hub.ownership();
    tokio::time::timeout(WAIT, ownership.wait_for(|_| h.hub.owns("s1"))).await.expect("the lease in time").unwrap();
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    let (_, ack) = call(&mut moderator, json!({"type": "advance_phase", "id": "p1", "to": "check_in"})).await;
    assert_eq!(ack["type"], "ack", "{ack}");

    let mut supervision = h.hub.supervision();
    PANIC.store(true, Ordering::SeqCst);
    send(&moderator, json!({"type": "check_in", "id": "in-1", "delegate": "d01"})).await;
    tokio::time::timeout(WAIT, supervision.wait_for(|n| *n >= 1)).await.expect("restarted in time").unwrap();
    assert!(h.hub.owns("s1"), "the lease is still this node's");
    // The restarted actor writes: the retry is acknowledged at once, not
    // forwarded to an owner that is this very node.
    let mut moderator = h.connect(&PrincipalKey::Moderator, Some(1)).await;
    let (_, ack) = call(&mut moderator, json!({"type": "check_in", "id": "in-1", "delegate": "d01"})).await;
    assert_eq!((ack["type"].as_str(), ack["seq"].as_u64()), (Some("ack"), Some(2)), "{ack}");
}

#[tokio::test]
async fn a_node_catches_up_with_credentials_issued_on_another() {
    let redis = RedisServer::start_temp(&[]);
    let node = |id: &str| HubConfig { node: Some(id.into()), ..quiet_config() };
    let store = |url: String| async move { Arc::new(RedisStore::connect(&url).await.unwrap()) as wz_store::DynStore };
    let b = wz_hub::Hub::new(store(redis.url()).await, node("b"));
    // b's notices reader has started.
    b.catch_up().await;
    let a = Harness::start(store(redis.url()).await, node("a"), "s1", 3).await;
    let token = a.token(&PrincipalKey::Moderator);
    // On one thread, b has not run since a issued it: it does not know it yet.
    assert!(b.authenticate(&token).is_none());
    b.catch_up().await;
    let p = b.authenticate(&token).expect("known once b caught up");
    assert_eq!((p.session.as_str(), p.key.clone()), ("s1", PrincipalKey::Moderator));
    // And b serves the session.
    let mut c = b.connect(&p, None).await.unwrap();
    assert!(is_type(&next_json(&mut c.receiver).await, "snapshot"));
}

/// Every request with an unknown credential waits for the node to catch up
/// with the notices, one Redis read each: a flood of made-up tokens must
/// not become a flood of Redis reads. At most `MAX_CATCH_UPS` wait at once;
/// one more returns at once (its request is refused as unknown; a real
/// client retries).
#[tokio::test]
async fn catching_up_is_bounded() {
    let redis = RedisServer::start_temp(&[]);
    let node = HubConfig { node: Some("b".into()), ..quiet_config() };
    let store = Arc::new(RedisStore::connect(&redis.url()).await.unwrap()) as wz_store::DynStore;
    let b = wz_hub::Hub::new(store, node);
    b.catch_up().await;
    // Each waits on Redis after its first poll, holding its place.
    let mut waiting: Vec<_> = (0..wz_hub::MAX_CATCH_UPS).map(|_| Box::pin(b.catch_up())).collect();
    for w in waiting.iter_mut() {
        assert!(futures_util::poll!(w.as_mut()).is_pending(), "a catch-up waits for Redis");
    }
    let mut one_more = Box::pin(b.catch_up());
    assert!(futures_util::poll!(one_more.as_mut()).is_ready(), "one more than the limit does not wait");
    // The places are given back: once they are done, a catch-up waits again.
    futures_util::future::join_all(waiting).await;
    let mut next = Box::pin(b.catch_up());
    assert!(futures_util::poll!(next.as_mut()).is_pending());
    next.await;
}
