//! Tampering inside the stores (issue 9): a session with a closed
//! evaluation is written to the embedded store and to Redis; then its log
//! is rewritten underneath, as an intruder with write access to the data
//! file or to Redis could (a byte flipped, an entry deleted, two swapped,
//! one inserted, the end cut off; each renumbered so that the store's own
//! structure holds). `Hub::verify`, the start-up load and the public record
//! each catch every case at the entry it touches, except the cut end, which
//! only the published chain head shows.

mod common;

use bytes::Bytes;
use common::*;
use serde_json::json;
use std::sync::Arc;
use wz_domain::Viewer;
use wz_hub::{Hub, HubError};
use wz_store::testing::RedisServer;
use wz_store::{DynStore, EmbeddedStore, RedisStore};

enum Backend {
    Embedded(Arc<EmbeddedStore>),
    Redis(Arc<RedisStore>),
}

impl Backend {
    fn store(&self) -> DynStore {
        match self {
            Backend::Embedded(s) => s.clone(),
            Backend::Redis(s) => s.clone(),
        }
    }

    async fn overwrite(&self, session: &str, events: Vec<Bytes>) {
        match self {
            Backend::Embedded(s) => s.overwrite_log_for_tests(session, events).await,
            Backend::Redis(s) => s.overwrite_log_for_tests(session, events).await,
        }
        .expect("log rewritten")
    }
}

/// A session with every delegate's two ballots and a closed evaluation.
async fn written(store: DynStore) -> Harness {
    let h = Harness::start(store, quiet_config(), "s1", 4).await;
    h.to_evaluation(4).await;
    for i in 0..4 {
        for (n, unit) in ["u1", "u2"].iter().enumerate() {
            let rating = ["satisfied", "basically_satisfied", "dissatisfied"][(i + n) % 3];
            let cmd = command(ballot(&format!("v-{i}-{unit}"), &format!("b-{i}-{unit}"), unit, rating));
            h.hub.command(&h.id, Viewer::Delegate(wz_domain::DelegateId::new(did(i))), cmd).await.unwrap().expect("accepted");
        }
    }
    h.moderate(json!({"type": "close_evaluation", "id": "close-1", "evaluation": 1})).await;
    h
}

/// The entry a refusal names ("… event 12: …").
fn entry_named(e: &HubError) -> u64 {
    let text = e.to_string();
    let at = text.find("event ").unwrap_or_else(|| panic!("no entry named in {text}"));
    text[at + 6..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or_else(|_| panic!("{text}"))
}

/// Checks the stored session three ways; all must refuse at one of `at`.
async fn refused_at(store: &DynStore, at: &[u64]) {
    let e = Hub::verify(store, "s1").await.expect_err("verify must refuse it");
    assert!(at.contains(&entry_named(&e)), "verify: {e}, want one of {at:?}");
    let e = Hub::public_record(store, "s1").await.expect_err("no public record of it");
    assert!(at.contains(&entry_named(&e)), "public record: {e}");
    let fresh = Hub::new(store.clone(), quiet_config());
    fresh.load_all().await.unwrap();
    assert!(fresh.sessions().is_empty(), "the session is not served");
    let refused = fresh.refused();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].1.contains(&format!("event {}", entry_named(&e))), "{refused:?}");
}

async fn tampering_is_caught_in(backend: Backend) {
    let store = backend.store();
    let h = written(store.clone()).await;
    let original = store.load("s1").await.unwrap().unwrap().events;
    let n = original.len();
    assert!(n > 15, "{n} entries");
    let head = Hub::verify(&store, "s1").await.unwrap().head;
    let k = 12; // 1-based: an entry in the middle (a ballot).

    // A byte flipped inside entry k: caught at k or at k+1 (whose link names k).
    let mut flipped = original.clone();
    let mut bytes = flipped[k - 1].to_vec();
    let i = bytes.iter().position(|b| *b == b'"').unwrap() + 1;
    bytes[i] ^= 0x01;
    flipped[k - 1] = Bytes::from(bytes);
    backend.overwrite("s1", flipped).await;
    refused_at(&store, &[k as u64, k as u64 + 1]).await;

    // Entry k deleted: the entry now at k links to the deleted one.
    let mut deleted = original.clone();
    deleted.remove(k - 1);
    backend.overwrite("s1", deleted).await;
    refused_at(&store, &[k as u64]).await;

    // Entries k and k+1 swapped.
    let mut swapped = original.clone();
    swapped.swap(k - 1, k);
    backend.overwrite("s1", swapped).await;
    refused_at(&store, &[k as u64]).await;

    // A copy of an earlier entry inserted at k.
    let mut inserted = original.clone();
    inserted.insert(k - 1, original[2].clone());
    backend.overwrite("s1", inserted).await;
    refused_at(&store, &[k as u64]).await;

    // The end cut off: a shorter record that holds, but whose head is not
    // the one that was published.
    backend.overwrite("s1", original[..n - 2].to_vec()).await;
    let short = Hub::verify(&store, "s1").await.expect("a cut record still links");
    assert_ne!(short.head, head, "only the published head shows a cut end");

    // Restored: it holds again, with the same head, and recounts.
    backend.overwrite("s1", original.clone()).await;
    assert_eq!(Hub::verify(&store, "s1").await.unwrap().head, head);
    let public = Hub::public_record(&store, "s1").await.unwrap();
    let checked = wz_protocol::record::check(&public).unwrap();
    assert_eq!((checked.ballots, checked.head.as_str()), (8, head.as_str()));
    drop(h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_inside_the_embedded_store_is_caught_at_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    tampering_is_caught_in(Backend::Embedded(Arc::new(EmbeddedStore::open(dir.path()).unwrap()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_inside_redis_is_caught_at_the_entry() {
    let server = RedisServer::start_temp(&[]);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    tampering_is_caught_in(Backend::Redis(Arc::new(store))).await;
}
