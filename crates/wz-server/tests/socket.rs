//! The socket loop driven through channels instead of a network: commands in,
//! frames out, rate limiting, pings and the idle timeout (with paused time).

use axum::extract::ws::Message;
use futures_channel::mpsc;
use futures_util::StreamExt;
use governor::{Quota, RateLimiter};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use wz_hub::{Hub, HubConfig, PrincipalKey};
use wz_server::app::SocketLimits;
use wz_server::ws::run_socket;

struct Harness {
    to_server: mpsc::UnboundedSender<Result<Message, axum::Error>>,
    from_server: mpsc::UnboundedReceiver<Message>,
    task: tokio::task::JoinHandle<()>,
}

async fn harness(limits: SocketLimits, burst: u32) -> Harness {
    let hub = Hub::new(Arc::new(wz_store::MemoryStore::new()), HubConfig { stats_interval: Duration::from_secs(3600), ..HubConfig::default() });
    let creds = hub.create_session(wz_server::demo::definition()).await.unwrap();
    let token = &creds.iter().find(|c| c.key == PrincipalKey::Moderator).unwrap().token;
    let principal = hub.authenticate(token).unwrap();
    let conn = hub.connect(&principal, None).await.unwrap();
    let (to_server, stream) = mpsc::unbounded();
    let (sink, from_server) = mpsc::unbounded();
    let burst = NonZeroU32::new(burst).unwrap();
    let limiter = Arc::new(RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(1).unwrap()).allow_burst(burst)));
    let task = tokio::spawn(run_socket(sink, stream, conn, limits, limiter));
    Harness { to_server, from_server, task }
}

fn limits() -> SocketLimits {
    SocketLimits { max_message_bytes: 65536, ping_interval: Duration::from_secs(25), idle_timeout: Duration::from_secs(90), max_strikes: 3 }
}

/// The next JSON message, skipping the conflated `stats` ones.
async fn next_json(rx: &mut mpsc::UnboundedReceiver<Message>) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), rx.next()).await.expect("a message").expect("open");
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] != "stats" {
                return v;
            }
        }
    }
}

fn text(s: &str) -> Result<Message, axum::Error> {
    Ok(Message::Text(s.into()))
}

#[tokio::test]
async fn commands_in_frames_out() {
    let mut h = harness(limits(), 100).await;
    assert_eq!(next_json(&mut h.from_server).await["type"], "snapshot");
    h.to_server.unbounded_send(text(r#"{"type":"ping","id":"p1"}"#)).unwrap();
    let ack = next_json(&mut h.from_server).await;
    assert_eq!((ack["type"].as_str(), ack["id"].as_str()), (Some("ack"), Some("p1")));
    h.to_server.unbounded_send(text(r#"{"type":"advance_phase","id":"a1","to":"check_in"}"#)).unwrap();
    let event = next_json(&mut h.from_server).await;
    assert_eq!(event["kind"], "phase_changed");
    assert_eq!(next_json(&mut h.from_server).await["id"], "a1");
    h.to_server.unbounded_send(text("][")).unwrap();
    assert_eq!(next_json(&mut h.from_server).await["code"], "bad_message");
    // The client closing ends the loop.
    h.to_server.unbounded_send(Ok(Message::Close(None))).unwrap();
    tokio::time::timeout(Duration::from_secs(5), h.task).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_flooding_client_gets_limit_errors_then_close_4029() {
    let mut h = harness(limits(), 2).await;
    next_json(&mut h.from_server).await;
    for i in 0..10 {
        h.to_server.unbounded_send(text(&format!(r#"{{"type":"ping","id":"p{i}"}}"#))).unwrap();
    }
    let mut limited = 0;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(5), h.from_server.next()).await.unwrap() {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "error" {
                    assert_eq!(v["code"], "limit");
                    limited += 1;
                }
            }
            Some(Message::Close(Some(f))) => break f.code,
            Some(_) => {}
            None => panic!("closed without a close frame"),
        }
    };
    assert_eq!(code, 4029);
    assert_eq!(limited, 3, "three strikes are answered, the fourth closes");
}

#[tokio::test(start_paused = true)]
async fn an_idle_client_is_pinged_and_finally_dropped() {
    let mut h = harness(limits(), 100).await;
    next_json(&mut h.from_server).await;
    // Nothing arrives from the client: with time paused, the runtime jumps
    // straight to each timer.
    let mut pings = 0;
    while let Some(m) = h.from_server.next().await {
        if matches!(m, Message::Ping(_)) {
            pings += 1;
        }
    }
    tokio::time::timeout(Duration::from_secs(5), h.task).await.unwrap().unwrap();
    assert_eq!(pings, 3, "pings at 25, 50 and 75 s, dropped at 90 s");
    drop(h.to_server);
}
