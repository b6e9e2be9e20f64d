//! The WebSocket upgrade checks a browser's `Origin` (issue 7 item 7a): only
//! the server's own address, its public URL and the configured extra origins
//! may open a socket; requests without `Origin` (non-browser clients) may.
//! Everything else gets HTTP 403 before the upgrade.

use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wz_e2e::Server;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");

/// The HTTP status the upgrade gets with this `Origin` (101 when accepted).
async fn upgrade_with(server: &Server, origin: Option<&str>) -> u16 {
    let url = format!("ws://{}/ws?token={}", server.addr, server.token("delegate:d001"));
    let mut req = url.into_client_request().unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, res)) => {
            use futures_util::StreamExt;
            // Accepted: the session answers with its snapshot.
            let first = ws.next().await.expect("a message").expect("a frame");
            assert!(first.to_text().unwrap().contains("\"snapshot\""), "{first:?}");
            res.status().as_u16()
        }
        Err(tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("origin {origin:?}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_servers_own_origins_may_open_a_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--public-url",
        "https://wz.example.org/",
        "--allowed-origin",
        "http://localhost:5173",
        "--allowed-origin",
        "https://screen.example.org:8443",
    ];
    let server = Server::start(BIN, dir.path(), &args).await.unwrap();
    let (host, port) = server.addr.rsplit_once(':').unwrap();
    let other_port = if port == "1" { "2" } else { "1" };

    let own = format!("http://{}", server.addr);
    let own_localhost = format!("http://localhost:{port}");
    for origin in [
        None,
        Some(own.as_str()),
        Some(own_localhost.as_str()),
        Some("https://wz.example.org"),
        Some("https://WZ.example.org:443"),
        Some("http://localhost:5173"),
        Some("https://screen.example.org:8443"),
    ] {
        assert_eq!(upgrade_with(&server, origin).await, 101, "{origin:?} must be accepted");
    }

    let refused = [
        "http://evil.example".to_owned(),
        "null".to_owned(),
        format!("http://{host}.evil.example:{port}"),
        format!("https://{}", server.addr),
        format!("http://{host}:{other_port}"),
        format!("http://{host}"),
        "http://wz.example.org".to_owned(),
        "https://wz.example.org.evil.example".to_owned(),
        "https://evil.example/https://wz.example.org".to_owned(),
        "http://localhost:5174".to_owned(),
        "https://screen.example.org".to_owned(),
        String::new(),
    ];
    for origin in &refused {
        assert_eq!(upgrade_with(&server, Some(origin)).await, 403, "{origin:?} must be refused");
    }
    // The refusal names the rule, not the credential.
    let (status, body) = wz_e2e::http_with(
        &server.addr,
        "GET",
        "/ws?token=x",
        &[
            ("Origin", "http://evil.example"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )
    .await
    .unwrap();
    assert_eq!(status, 403);
    assert!(body.contains("--allowed-origin"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_origins_come_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("WENZHENG_ALLOWED_ORIGINS", "http://a.example:8080,https://b.example")];
    let server = Server::start_with(BIN, dir.path(), &[], &env, None).await.unwrap();
    assert_eq!(upgrade_with(&server, Some("http://a.example:8080")).await, 101);
    assert_eq!(upgrade_with(&server, Some("https://b.example")).await, 101);
    assert_eq!(upgrade_with(&server, Some("http://b.example")).await, 403);
    assert_eq!(upgrade_with(&server, Some("http://evil.example")).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_allowed_origin_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["evil.example", "http://a.example/path", "ftp://a.example", "*"] {
        let out = std::process::Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--allowed-origin", bad])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad} was accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--allowed-origin"), "{bad}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
