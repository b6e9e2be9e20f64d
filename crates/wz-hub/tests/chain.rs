//! The record's hash chain at the hub (issue 9): what the hub writes is a
//! chain from the session's header on, a restart continues it, and a
//! session whose chain is broken is refused, alone, with the first bad
//! entry named.

mod common;

use bytes::Bytes;
use common::*;
use std::sync::Arc;
use wz_hub::{Hub, HubError};
use wz_protocol::stored::chain;
use wz_store::{MemoryStore, Record, Store};

/// A session with a few events, and what the store holds of it.
async fn written() -> (Harness, wz_store::StoredSession) {
    let h = Harness::memory(quiet_config(), 4).await;
    h.advance("check_in").await;
    for i in 0..3 {
        h.check_in(i).await;
    }
    h.advance("questioning").await;
    let stored = h.hub.store().load(&h.id).await.unwrap().unwrap();
    (h, stored)
}

/// A fresh hub that has loaded a store holding `events` under `meta`.
async fn reload(id: &str, meta: Bytes, events: Vec<Bytes>) -> Hub {
    let store = Arc::new(MemoryStore::new());
    store.create_session(id, meta).await.unwrap();
    let records = events.into_iter().map(|data| Record { data, claim: None, count: None }).collect();
    store.append(id, 1, records).await.unwrap();
    let hub = Hub::new(store, quiet_config());
    assert_eq!(hub.load_all().await.unwrap(), 1);
    hub
}

#[tokio::test]
async fn the_hub_writes_a_chain_and_a_restart_continues_it() {
    let (h, stored) = written().await;
    assert_eq!(stored.events.len(), 5);
    chain::check(&stored.meta, &stored.events).expect("the hub writes a chain");
    // A restart on those records, and one more event: still one chain.
    let store = Arc::new(MemoryStore::new());
    store.create_session(&h.id, stored.meta.clone()).await.unwrap();
    let records = stored.events.iter().map(|data| Record { data: data.clone(), claim: None, count: None }).collect();
    store.append(&h.id, 1, records).await.unwrap();
    let hub = Hub::new(store.clone(), quiet_config());
    assert_eq!(hub.load_all().await.unwrap(), 1);
    let cmd = wz_domain::Command::AdvancePhase { to: wz_domain::Phase::Evaluation };
    hub.command(&h.id, wz_domain::Viewer::Moderator, cmd).await.unwrap().expect("accepted");
    let after = store.load(&h.id).await.unwrap().unwrap();
    assert_eq!(after.events.len(), 6);
    chain::check(&after.meta, &after.events).expect("the restart continues the chain");
}

#[tokio::test]
async fn a_broken_chain_is_refused_naming_the_first_bad_entry() {
    let (h, stored) = written().await;
    let mut swapped = stored.events.clone();
    swapped.swap(2, 3);
    let mut dropped = stored.events.clone();
    dropped.remove(1);
    for (what, events, at) in [("swapped", swapped, "event 3"), ("dropped", dropped, "event 2")] {
        let hub = reload(&h.id, stored.meta.clone(), events).await;
        let refused = hub.refused();
        assert_eq!(refused.len(), 1, "{what}");
        assert!(refused[0].1.contains("hash chain") && refused[0].1.contains(at), "{what}: {}", refused[0].1);
        match hub.snapshot(&h.id, wz_domain::Viewer::Moderator).await {
            Err(HubError::Refused { detail, .. }) => assert!(detail.contains(at), "{what}: {detail}"),
            other => panic!("{what}: {other:?}"),
        }
        // `verify` names the same entry.
        let err = Hub::verify(hub.store(), &h.id).await.unwrap_err().to_string();
        assert!(err.contains(at), "{what}: {err}");
    }
}

#[tokio::test]
async fn a_broken_session_is_refused_alone_and_the_others_are_served() {
    let written_store = Arc::new(MemoryStore::new());
    for id in ["good", "broken"] {
        let h = Harness::start(written_store.clone(), quiet_config(), id, 4).await;
        h.advance("check_in").await;
        h.check_in(0).await;
        h.check_in(1).await;
    }
    let store = Arc::new(MemoryStore::new());
    for id in ["good", "broken"] {
        let s = written_store.load(id).await.unwrap().unwrap();
        let mut events = s.events.clone();
        if id == "broken" {
            events.swap(1, 2);
        }
        store.create_session(id, s.meta.clone()).await.unwrap();
        let records = events.into_iter().map(|data| Record { data, claim: None, count: None }).collect();
        store.append(id, 1, records).await.unwrap();
    }
    let hub = Hub::new(store, quiet_config());
    assert_eq!(hub.load_all().await.unwrap(), 2);
    assert!(hub.snapshot("good", wz_domain::Viewer::Moderator).await.is_ok(), "the good session is served");
    assert!(matches!(hub.snapshot("broken", wz_domain::Viewer::Moderator).await, Err(HubError::Refused { .. })));
    assert_eq!(hub.refused().iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["broken"]);
}
