//! The listener's defences against connections that never authenticate
//! (issue 7 item 1), against the real server binary on loopback: header and
//! handshake deadlines, the cap of not-yet-authenticated connections, the
//! total cap, and the request-header size limit. Authenticated clients keep
//! being served throughout.

use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use wz_e2e::{Client, GUARD, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");

/// Reads until the server closes the connection (EOF or reset); returns what
/// it sent first. Panics when the server keeps it open past the guard.
async fn until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(GUARD, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server kept the connection open");
    got
}

/// One raw HTTP/1.1 exchange: (status, head, body).
async fn exchange(addr: &str, request: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let raw = until_closed(&mut s).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

async fn get(addr: &str, path: &str) -> (u16, String, String) {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await
}

/// Polls `/healthz` until it answers 200 (the server has let go of closed
/// connections): a bounded loop, as the release follows the peers' FIN.
async fn until_healthy(addr: &str) {
    for _ in 0..200 {
        if get(addr, "/healthz").await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server never admitted a new connection again");
}

async fn ping(c: &mut Client) {
    let ack = c.ok(json!({"type": "ping"})).await;
    assert_eq!(ack["type"], "ack");
}

/// The status of a WebSocket upgrade the server refused before upgrading.
async fn refused_upgrade(addr: &str, token: &str) -> u16 {
    match tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={token}")).await {
        Err(tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_partial_requests_are_cut_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--header-timeout-seconds", "1"]).await.unwrap();
    let mut moderator = server.connect("moderator", None).await;
    moderator.next().await;

    let mut silent = TcpStream::connect(&server.addr).await.unwrap();
    let mut partial_line = TcpStream::connect(&server.addr).await.unwrap();
    partial_line.write_all(b"GET /heal").await.unwrap();
    let mut partial_headers = TcpStream::connect(&server.addr).await.unwrap();
    partial_headers.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nX-More: ", server.addr).as_bytes()).await.unwrap();
    // A keep-alive connection that finished one request and then goes quiet.
    let mut kept_alive = TcpStream::connect(&server.addr).await.unwrap();
    kept_alive.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes()).await.unwrap();

    for s in [&mut silent, &mut partial_line, &mut partial_headers] {
        let sent = until_closed(s).await;
        assert!(!String::from_utf8_lossy(&sent).contains("200 OK"), "no request was completed");
    }
    let sent = String::from_utf8_lossy(&until_closed(&mut kept_alive).await).into_owned();
    assert!(sent.starts_with("HTTP/1.1 200"), "the finished request was answered: {sent:?}");

    // Everyone else is still served.
    ping(&mut moderator).await;
    assert_eq!(get(&server.addr, "/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_a_byte_at_a_time_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--header-timeout-seconds", "1"]).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\n\r\n", server.addr, "s".repeat(200));
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    // Slow-loris pacing: a byte every 100 ms, never finishing within a second.
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut sent = 0;
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(GUARD, async {
        while sent < request.len() {
            tokio::select! {
                _ = tick.tick() => {
                    if s.write_all(&request.as_bytes()[sent..sent + 1]).await.is_err() {
                        return true;
                    }
                    sent += 1;
                }
                r = s.read(&mut buf) => if matches!(r, Ok(0) | Err(_)) { return true },
            }
        }
        false
    })
    .await
    .expect("the slow request was never cut");
    assert!(closed, "the server waited for the whole slow request ({sent} bytes)");
    assert!(sent < request.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_that_never_completes_is_cut_after_the_handshake_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--handshake-timeout-seconds", "1"]).await.unwrap();
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    let head =
        format!("POST /api/sessions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{", server.addr);
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = String::from_utf8_lossy(&until_closed(&mut s).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert_eq!(get(&server.addr, "/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_unauthenticated_cap_new_connections_get_503_while_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-unauthenticated", "8", "--header-timeout-seconds", "60", "--handshake-timeout-seconds", "60"];
    let server = Server::start(BIN, dir.path(), &args).await.unwrap();
    let mut moderator = server.connect("moderator", None).await;
    moderator.next().await;

    // Eight connections that never send a byte fill the cap (they are
    // accepted in order, before the probes below).
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    let (status, head, body) = get(&server.addr, "/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(head.contains("retry-after: "), "{head}");
    assert!(body.contains("--max-unauthenticated"), "{body}");
    assert_eq!(refused_upgrade(&server.addr, &server.token("delegate:d001")).await, 503);

    // The authenticated client is not affected.
    ping(&mut moderator).await;

    drop(idle);
    until_healthy(&server.addr).await;
    let mut d = server.connect("delegate:d001", None).await;
    assert_eq!(d.next().await["type"], "snapshot");
    ping(&mut moderator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticated_websockets_leave_the_unauthenticated_cap() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--max-unauthenticated", "3"]).await.unwrap();
    let mut clients = Vec::new();
    for n in 1..=12 {
        let mut c = server.connect(&format!("delegate:d{n:03}"), None).await;
        assert_eq!(c.next().await["type"], "snapshot");
        clients.push(c);
    }
    for c in &mut clients {
        ping(c).await;
    }
    // An unknown token is closed (1008) and frees its place too.
    for _ in 0..6 {
        let mut bad = Client::connect(&server.addr, "not-a-token", None).await.unwrap();
        assert_eq!(bad.closed().await.map(|c| c.0), Some(1008));
    }
    assert_eq!(get(&server.addr, "/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_total_cap_new_connections_get_503_while_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-connections", "6", "--max-unauthenticated", "6", "--header-timeout-seconds", "60"];
    let server = Server::start(BIN, dir.path(), &args).await.unwrap();
    let mut clients = Vec::new();
    for key in ["moderator", "screen", "auditor", "delegate:d001"] {
        let mut c = server.connect(key, None).await;
        assert_eq!(c.next().await["type"], "snapshot");
        clients.push(c);
    }
    let idle = [TcpStream::connect(&server.addr).await.unwrap(), TcpStream::connect(&server.addr).await.unwrap()];

    let (status, head, body) = get(&server.addr, "/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(head.contains("retry-after: "), "{head}");
    assert!(body.contains("--max-connections"), "{body}");
    assert_eq!(refused_upgrade(&server.addr, &server.token("delegate:d002")).await, 503);
    for c in &mut clients {
        ping(c).await;
    }

    drop(idle);
    until_healthy(&server.addr).await;
    // A client that leaves gives its place back.
    clients.pop().unwrap().abort();
    let mut late = None;
    for _ in 0..200 {
        if let Ok(mut c) = Client::connect(&server.addr, &server.token("delegate:d002"), None).await {
            assert_eq!(c.next().await["type"], "snapshot");
            late = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ping(late.as_mut().expect("a place was freed")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_headers_over_16_kib_get_431() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let with_header = |bytes: usize| {
        format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nX-Pad: {}\r\n\r\n", server.addr, "p".repeat(bytes))
    };
    let (status, _, _) = exchange(&server.addr, with_header(17 * 1024).as_bytes()).await;
    assert_eq!(status, 431);
    let (status, _, body) = exchange(&server.addr, with_header(15 * 1024).as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    // The WebSocket upgrade is an HTTP request like any other.
    let url = format!("ws://{}/ws?token={}", server.addr, server.token("screen"));
    let mut req = tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    req.headers_mut().insert("x-pad", "p".repeat(17 * 1024).parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status().as_u16(), 431),
        other => panic!("expected 431, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_still_closes_websockets_with_1001() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let mut moderator = server.connect("moderator", None).await;
    moderator.next().await;
    let mut delegate = server.connect("delegate:d001", None).await;
    delegate.next().await;
    let idle = TcpStream::connect(&server.addr).await.unwrap();
    let exit = server.terminate().await;
    assert_eq!(moderator.closed().await.map(|c| c.0), Some(1001));
    assert_eq!(delegate.closed().await.map(|c| c.0), Some(1001));
    assert!(exit.success(), "{exit:?}");
    drop(idle);
}
