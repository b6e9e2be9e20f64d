//! Supervision of session actors: an actor that panics (here: inside the
//! store's append) is restarted from the store, its clients are closed with
//! `restarting` (1012) and resume on the new actor, acknowledged work is
//! intact, and `wz_actor_restarts_total` counts it; restarts are bounded.
//!
//! This binary installs a metrics recorder of its own (process-global).

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use wz_domain::Viewer;
use wz_hub::{HubConfig, HubError, Outbound, PrincipalKey};
use wz_protocol::CloseCode;

/// Counts `wz_actor_restarts_total`; every other metric is dropped.
struct Restarts(Arc<AtomicU64>);

impl metrics::Recorder for Restarts {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        match key.name() {
            "wz_actor_restarts_total" => metrics::Counter::from_arc(self.0.clone()),
            _ => metrics::Counter::noop(),
        }
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

/// The counter is process-global: tests that restart actors take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn restarts_metric() -> &'static AtomicU64 {
    static COUNT: OnceLock<Arc<AtomicU64>> = OnceLock::new();
    COUNT.get_or_init(|| {
        let count = Arc::new(AtomicU64::new(0));
        metrics::set_global_recorder(Restarts(count.clone())).expect("the only recorder of this binary");
        count
    })
}

async fn closed_with(rx: &mut wz_hub::ConnReceiver) -> CloseCode {
    loop {
        match next_out(rx).await {
            Outbound::Close(code) => return code,
            Outbound::Frame(_) => {}
        }
    }
}

#[tokio::test]
async fn a_panicking_actor_is_restarted_and_its_clients_resume() {
    let _turn = SERIAL.lock().await;
    let metric = restarts_metric();
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), quiet_config(), "s1", 6).await;
    h.advance("check_in").await;
    h.check_in(0).await;
    let (mut moderator, _) = h.join(&PrincipalKey::Moderator).await;
    let (mut d2, _) = h.join(&delegate(1)).await;
    // The recorded state (connection counts aside: the old ones are gone).
    let recorded = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("stats");
        v
    };
    let before = recorded(h.snapshot(Viewer::Auditor).await);
    let mut supervision = h.hub.supervision();
    let counted = metric.load(Ordering::SeqCst);

    store.panic_next_append();
    let check_in = json!({"type": "check_in", "id": "in-2", "delegate": "d02"});
    send(&moderator, check_in.clone()).await;
    // Every connection of the session is closed with the documented code.
    assert_eq!(closed_with(&mut moderator.receiver).await, CloseCode::Restarting);
    assert_eq!(closed_with(&mut d2.receiver).await, CloseCode::Restarting);
    assert_eq!((CloseCode::Restarting.code(), CloseCode::Restarting.reason()), (1012, "restarting"));
    tokio::time::timeout(WAIT, supervision.wait_for(|n| *n >= 1)).await.expect("restarted in time").unwrap();
    assert_eq!(metric.load(Ordering::SeqCst), counted + 1, "wz_actor_restarts_total counts the restart");

    // Acknowledged work is intact; the command that crashed was never acked.
    assert_eq!(recorded(h.snapshot(Viewer::Auditor).await), before);
    // The clients resume from where they were, and the retry lands once.
    let mut moderator = h.connect(&PrincipalKey::Moderator, Some(2)).await;
    let (seen, ack) = call(&mut moderator, check_in.clone()).await;
    assert_eq!((ack["type"].as_str(), seq(&ack)), (Some("ack"), 3), "{ack}");
    assert_eq!(seen.iter().filter(|v| is_type(v, "event")).count(), 1, "{seen:?}");
    let (seen, again) = call(&mut moderator, check_in).await;
    assert_eq!(seq(&again), 3, "answered, not run again");
    assert!(seen.iter().all(|v| !is_type(v, "event")), "{seen:?}");
    let (mut d2, snap) = h.join(&delegate(1)).await;
    assert_eq!(seq(&snap), 3);
    assert!(barrier(&mut d2).await.is_empty());
}

#[tokio::test]
async fn a_session_that_keeps_failing_is_given_up_after_the_bound() {
    let _turn = SERIAL.lock().await;
    restarts_metric();
    let store = FlakyStore::new();
    let h = Harness::start(store.clone(), HubConfig { max_restarts: 1, ..quiet_config() }, "s1", 6).await;
    let mut supervision = h.hub.supervision();
    for round in 1..=2u64 {
        let (mut m, _) = h.join(&PrincipalKey::Moderator).await;
        store.panic_next_append();
        send(&m, json!({"type": "advance_phase", "id": format!("to-{round}"), "to": "check_in"})).await;
        assert_eq!(closed_with(&mut m.receiver).await, CloseCode::Restarting);
        tokio::time::timeout(WAIT, supervision.wait_for(|n| *n >= round)).await.expect("supervised in time").unwrap();
    }
    // The second failure within a minute is past the bound: no new actor.
    let p = h.hub.authenticate(&h.token(&PrincipalKey::Moderator)).unwrap();
    assert!(matches!(h.hub.connect(&p, None).await, Err(HubError::Closed)), "the session refuses connections");
}
