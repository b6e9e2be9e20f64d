//! Floods against the real server: every frame counts against the rate
//! limit, the flooder sees why it was cut (its `limit` errors, then close
//! 4029, not a reset), and everyone else keeps being served.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use wz_e2e::raw::{BINARY, CLOSE, Frame, PING, RawSocket, TEXT};
use wz_e2e::{GUARD, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");

/// Sends `count` copies of `frame` in one go, then reads what came back
/// until the close frame: (error codes by count, close code), answers the
/// close like a well-behaved client and expects the server to end the TCP
/// connection.
async fn flood(server: &Server, key: &str, frame: Frame, count: usize) -> (std::collections::BTreeMap<String, usize>, u16) {
    let mut raw = RawSocket::connect(&server.addr, &server.token(key)).await.unwrap();
    raw.read_message().await.expect("the snapshot");
    let bytes: Vec<u8> = std::iter::repeat_n(frame.encode(), count).flatten().collect();
    // Written from a task so reading starts at once: the server must not
    // need the client to read before it can take the whole flood in.
    let (mut rd, mut wr) = raw.split();
    let writer = tokio::spawn(async move {
        let _ = wr.send_bytes(&bytes).await;
        wr
    });
    let (before, close) = rd.until_close(GUARD).await.unwrap_or_else(|e| panic!("the connection ended without a close frame: {e:?}"));
    let mut codes = std::collections::BTreeMap::new();
    for f in before.iter().filter(|f| f.opcode == TEXT) {
        let v: Value = serde_json::from_slice(&f.payload).unwrap();
        if v["type"] == "error" {
            *codes.entry(v["code"].as_str().unwrap().to_owned()).or_insert(0) += 1;
        }
    }
    let mut wr = writer.await.unwrap();
    wr.send(&Frame::close(1000, "")).await.unwrap();
    assert_eq!(rd.end(GUARD).await, wz_e2e::raw::End::Eof, "after the close handshake the server ends the connection cleanly");
    (codes, close.close_code().expect("a close code").0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_binary_frames_end_in_4029_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--store", "memory"]).await.unwrap();
    let mut other = server.connect("delegate:d002", None).await;
    other.next().await;
    let (codes, close) = flood(&server, "delegate:d001", Frame::new(BINARY, vec![1u8, 2, 3]), 5000).await;
    assert_eq!(close, 4029, "errors before the close: {codes:?}");
    assert!(codes.get("bad_message").copied().unwrap_or(0) >= 60, "the burst is answered: {codes:?}");
    assert!(codes.get("limit").copied().unwrap_or(0) >= 100, "then 100 strikes: {codes:?}");
    assert!(codes.values().sum::<usize>() < 1000, "most of the flood was never answered: {codes:?}");
    other.ok(json!({"type": "ping"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_websocket_pings_ends_in_4029() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--store", "memory"]).await.unwrap();
    let mut other = server.connect("screen", None).await;
    other.next().await;
    let (codes, close) = flood(&server, "delegate:d001", Frame::new(PING, b"hi".to_vec()), 10_000).await;
    assert_eq!(close, 4029);
    assert!(codes.is_empty(), "control frames get no JSON errors: {codes:?}");
    other.ok(json!({"type": "ping"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pings_at_once_see_limit_errors_then_4029() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--store", "memory"]).await.unwrap();
    let mut other = server.connect("delegate:d002", None).await;
    other.next().await;
    // A real WebSocket client (tokio-tungstenite), as in the report: all
    // 10,000 written at once from one task, read from another.
    let url = format!("ws://{}/ws?token={}", server.addr, server.token("delegate:d001"));
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..10_000 {
            let text = json!({"type": "ping", "id": format!("p{i}")}).to_string();
            if sink.feed(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.flush().await;
        sink
    });
    let (mut acked, mut limited) = (0, 0);
    let close = tokio::time::timeout(GUARD, async {
        while let Some(m) = stream.next().await {
            match m {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    match v["type"].as_str() {
                        Some("ack") => acked += 1,
                        Some("error") if v["code"] == "limit" => limited += 1,
                        _ => {}
                    }
                }
                Ok(Message::Close(f)) => return f.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(e) => panic!("the connection failed instead of closing (1006): {e}"),
            }
        }
        None
    })
    .await
    .expect("a close in time");
    drop(writer.await.unwrap());
    eprintln!("10,000 pings at once: {acked} acks, {limited} limit errors, then close {close:?}");
    assert_eq!(close, Some(4029));
    assert!(limited >= 100, "the limit errors arrive before the close: {limited}");
    other.ok(json!({"type": "ping"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_handshake_is_bounded_when_the_client_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--store", "memory", "--write-timeout-seconds", "2"]).await.unwrap();
    let mut raw = RawSocket::connect(&server.addr, &server.token("delegate:d001")).await.unwrap();
    raw.read_message().await.expect("the snapshot");
    let bytes: Vec<u8> = std::iter::repeat_n(Frame::new(BINARY, vec![1u8]).encode(), 1000).flatten().collect();
    raw.send_bytes(&bytes).await.unwrap();
    let (_, close) = raw.until_close(GUARD).await.expect("a close frame");
    assert_eq!(close.opcode, CLOSE);
    assert_eq!(close.close_code().map(|c| c.0), Some(4029));
    // No close frame back: the server gives up waiting after its deadline.
    assert_eq!(raw.end(GUARD).await, wz_e2e::raw::End::Eof);
}
