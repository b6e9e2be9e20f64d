//! The socket loop driven through channels instead of a network: commands in,
//! frames out, rate limiting (every frame counts), pings, the idle timeout and
//! the write deadline (with paused time), and the outbound queue's byte bound.

use futures_channel::mpsc;
use futures_util::StreamExt;
use governor::{Quota, RateLimiter};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tungstenite::Message;
use wz_hub::{Hub, HubConfig, PrincipalKey};
use wz_server::app::SocketLimits;
use wz_server::ws::run_socket;

struct Harness {
    to_server: mpsc::UnboundedSender<Result<Message, tungstenite::Error>>,
    from_server: mpsc::UnboundedReceiver<Message>,
    task: tokio::task::JoinHandle<()>,
}

fn quiet() -> HubConfig {
    HubConfig { stats_interval: Duration::from_secs(3600), ..HubConfig::default() }
}

/// A hub with the demo session and the moderator's principal.
async fn demo_hub(config: HubConfig) -> (Hub, wz_hub::Principal) {
    let hub = Hub::new(Arc::new(wz_store::MemoryStore::new()), config);
    let creds = hub.create_session(wz_server::demo::definition()).await.unwrap();
    let token = &creds.iter().find(|c| c.key == PrincipalKey::Moderator).unwrap().token;
    let principal = hub.authenticate(token).unwrap();
    (hub, principal)
}

/// Runs the socket loop for the moderator, writing into `sink`.
async fn start<W>(
    limits: SocketLimits,
    burst: u32,
    sink: W,
) -> (mpsc::UnboundedSender<Result<Message, tungstenite::Error>>, tokio::task::JoinHandle<()>)
where
    W: futures_util::Sink<Message> + Unpin + Send + 'static,
{
    let (hub, principal) = demo_hub(quiet()).await;
    let conn = hub.connect(&principal, None).await.unwrap();
    let (to_server, stream) = mpsc::unbounded();
    let burst = NonZeroU32::new(burst).unwrap();
    let limiter = Arc::new(RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(1).unwrap()).allow_burst(burst)));
    let writers = wz_server::writers::Writers::new(2);
    (to_server, tokio::spawn(async move { run_socket(sink, stream, conn, limits, limiter, &writers).await }))
}

async fn harness(limits: SocketLimits, burst: u32) -> Harness {
    let (sink, from_server) = mpsc::unbounded();
    let (to_server, task) = start(limits, burst, sink).await;
    Harness { to_server, from_server, task }
}

fn limits() -> SocketLimits {
    SocketLimits {
        max_message_bytes: 65536,
        ping_interval: Duration::from_secs(25),
        idle_timeout: Duration::from_secs(90),
        max_strikes: 3,
        write_timeout: Duration::from_secs(10),
    }
}

/// The next message as a client sees it: a text message sent as fragments
/// (raw frames, see `ws::feed`) is reassembled.
async fn recv(rx: &mut mpsc::UnboundedReceiver<Message>) -> Option<Message> {
    let mut parts = Vec::new();
    loop {
        match rx.next().await? {
            Message::Frame(f) => {
                let fin = f.header().is_final;
                parts.extend_from_slice(f.payload());
                if fin {
                    return Some(Message::Text(String::from_utf8(parts).expect("UTF-8 once reassembled").into()));
                }
            }
            m => {
                assert!(parts.is_empty(), "a data message inside a fragmented one");
                return Some(m);
            }
        }
    }
}

/// Reads until the close frame: (error codes seen before it, close code).
async fn errors_then_close(rx: &mut mpsc::UnboundedReceiver<Message>) -> (Vec<String>, u16) {
    let mut codes = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), recv(rx)).await.expect("a message") {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "error" {
                    codes.push(v["code"].as_str().unwrap().to_owned());
                }
            }
            Some(Message::Close(Some(f))) => return (codes, u16::from(f.code)),
            Some(_) => {}
            None => panic!("closed without a close frame"),
        }
    }
}

/// The next JSON message, skipping the conflated `stats` ones.
async fn next_json(rx: &mut mpsc::UnboundedReceiver<Message>) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), recv(rx)).await.expect("a message").expect("open");
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] != "stats" {
                return v;
            }
        }
    }
}

fn text(s: &str) -> Result<Message, tungstenite::Error> {
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
    // The client closing (and then its stream ending, as tungstenite's does
    // after a close) ends the loop.
    h.to_server.unbounded_send(Ok(Message::Close(None))).unwrap();
    drop(h.to_server);
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
        match tokio::time::timeout(Duration::from_secs(5), recv(&mut h.from_server)).await.unwrap() {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "error" {
                    assert_eq!(v["code"], "limit");
                    limited += 1;
                }
            }
            Some(Message::Close(Some(f))) => break u16::from(f.code),
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
    while let Some(m) = recv(&mut h.from_server).await {
        if matches!(m, Message::Ping(_)) {
            pings += 1;
        }
    }
    tokio::time::timeout(Duration::from_secs(5), h.task).await.unwrap().unwrap();
    assert_eq!(pings, 3, "pings at 25, 50 and 75 s, dropped at 90 s");
    drop(h.to_server);
}

#[tokio::test]
async fn binary_frames_count_against_the_rate_limit() {
    let mut h = harness(limits(), 2).await;
    next_json(&mut h.from_server).await;
    for _ in 0..5000 {
        h.to_server.unbounded_send(Ok(Message::Binary(vec![1u8, 2, 3].into()))).unwrap();
    }
    let (codes, close) = errors_then_close(&mut h.from_server).await;
    assert_eq!(close, 4029);
    assert_eq!(codes, ["bad_message", "bad_message", "limit", "limit", "limit"], "the burst is answered, three strikes, then the close");
    // The rest of the flood is read and discarded until the client's stream ends.
    drop(h.to_server);
    tokio::time::timeout(Duration::from_secs(5), h.task).await.unwrap().unwrap();
}

#[tokio::test]
async fn control_frames_beyond_the_allowance_count_too() {
    let mut h = harness(limits(), 2).await;
    next_json(&mut h.from_server).await;
    // A few pings are free: the rate budget is untouched.
    for _ in 0..5 {
        h.to_server.unbounded_send(Ok(Message::Ping(Default::default()))).unwrap();
    }
    h.to_server.unbounded_send(text(r#"{"type":"ping","id":"p1"}"#)).unwrap();
    assert_eq!(next_json(&mut h.from_server).await["type"], "ack");
    // A flood of them is not.
    for _ in 0..1000 {
        h.to_server.unbounded_send(Ok(Message::Pong(Default::default()))).unwrap();
    }
    let (codes, close) = errors_then_close(&mut h.from_server).await;
    assert_eq!(close, 4029);
    assert!(codes.is_empty(), "control frames have no id to answer: {codes:?}");
    drop(h.to_server);
    tokio::time::timeout(Duration::from_secs(5), h.task).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_cut_at_the_write_deadline() {
    // A sink with room for one frame that nobody reads: the second write waits forever.
    let (sink, unread) = futures_channel::mpsc::channel::<Message>(0);
    let (to_server, task) = start(limits(), 100, sink).await;
    let started = tokio::time::Instant::now();
    for i in 0..5 {
        to_server.unbounded_send(text(&format!(r#"{{"type":"ping","id":"p{i}"}}"#))).unwrap();
    }
    // The guard is far beyond the 10 s deadline; with time paused it costs nothing.
    tokio::time::timeout(Duration::from_secs(600), task).await.expect("the connection ended").unwrap();
    assert!(started.elapsed() < Duration::from_secs(90), "cut by the write deadline, not the idle timeout");
    assert!(to_server.is_closed(), "the reading side is gone too");
    drop(unread);
}

#[tokio::test]
async fn the_outbound_queue_is_bounded_by_bytes() {
    // 1,024 messages would be allowed; 64 KiB is reached long before.
    let (hub, principal) = demo_hub(HubConfig { outbound_queue_bytes: 64 * 1024, ..quiet() }).await;
    let mut slow = hub.connect(&principal, None).await.unwrap(); // never reads
    let text = "养老".repeat(200);
    let mut acked = 0;
    for n in 0..200usize {
        let cmd = wz_domain::Command::SubmitQuestion {
            on_behalf_of: Some(wz_domain::DelegateId(format!("d{:03}", n / 10 + 1))),
            topic: wz_domain::TopicId::new("policy"),
            unit: wz_domain::UnitId::new("minzheng"),
            text: text.clone(),
        };
        if hub.command(wz_server::demo::DEMO_SESSION_ID, wz_domain::Viewer::Moderator, cmd).await.unwrap().is_ok() {
            acked += 1;
        }
    }
    assert_eq!(acked, 200);
    // 200 events of about 1.3 KB each is about 260 KB: over the byte bound, under the message bound.
    match tokio::time::timeout(Duration::from_secs(5), slow.receiver.next()).await.unwrap() {
        Some(wz_hub::Outbound::Close(code)) => assert_eq!(code, wz_protocol::CloseCode::SlowConsumer),
        other => panic!("expected the slow-consumer close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_large_message_goes_out_in_fragments_of_at_most_4_kib() {
    let mut h = harness(limits(), 100).await;
    // The moderator's snapshot of the demo session is tens of kilobytes.
    let mut frames = Vec::new();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), h.from_server.next()).await.expect("a frame").expect("open");
        let Message::Frame(f) = m else { panic!("the snapshot should come in fragments, got {m:?}") };
        let fin = f.header().is_final;
        frames.push(f);
        if fin {
            break;
        }
    }
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    assert!(frames.len() > 1, "more than one fragment");
    assert_eq!(frames[0].header().opcode, OpCode::Data(Data::Text));
    assert!(frames[1..].iter().all(|f| f.header().opcode == OpCode::Data(Data::Continue)));
    assert!(frames.iter().all(|f| f.payload().len() <= 4096), "no fragment over 4 KiB");
    let whole: Vec<u8> = frames.iter().flat_map(|f| f.payload().iter().copied()).collect();
    let v: Value = serde_json::from_slice(&whole).expect("the fragments make one JSON message");
    assert_eq!(v["type"], "snapshot");
    // A small message afterwards is one frame again.
    h.to_server.unbounded_send(text(r#"{"type":"ping","id":"p1"}"#)).unwrap();
    assert_eq!(next_json(&mut h.from_server).await["type"], "ack");
    drop(h.to_server);
    tokio::time::timeout(Duration::from_secs(5), h.task).await.unwrap().unwrap();
}
