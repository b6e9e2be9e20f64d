//! Structured logs (issue 13): with `--log-format json`, every line a
//! WebSocket connection produces, in the server and in the hub on its
//! behalf, carries the connection's span: its session, role, principal,
//! venue (when it has one) and connection id, and never its token. A
//! request's line carries its method and route, never its query.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use wz_e2e::{LogCapture, Server, assert_logs_free_of};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

/// Every JSON line of the server's stderr.
fn json_lines(server: &Server) -> Vec<Value> {
    let stderr = std::fs::read_to_string(&server.logs[1]).unwrap();
    stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

/// The lines of the connection of `principal`.
fn of<'a>(lines: &'a [Value], principal: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["span"]["name"] == "ws" && l["span"]["principal"] == principal).collect()
}

fn messages(lines: &[&Value]) -> BTreeSet<String> {
    lines.iter().filter_map(|l| l["fields"]["message"].as_str()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_of_a_connection_names_it_and_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let capture = LogCapture { dir: logs.path().to_owned(), name: "server".into(), rust_log: "info,wz_server=debug,wz_hub=debug".into() };
    let mut server =
        Server::start_logged(BIN, dir.path(), &["--log-format", "json", "--write-timeout-seconds", "2"], Some(capture)).await.unwrap();
    let mut delegate = server.connect("delegate:d001", None).await;
    let venue = delegate.next().await["you"]["venue"].as_str().unwrap().to_owned();
    let mut screen = server.connect("screen", None).await;
    screen.next().await;
    // Refused by the session (logged by the hub), then not understood
    // (logged by the connection), then gone without a close frame.
    let refused = delegate.call(json!({"type": "advance_phase", "to": "questioning"})).await.unwrap_err();
    assert_eq!(refused["code"], "forbidden");
    delegate.send_raw("{\"type\": \"submit_question\"".into()).await;
    assert_eq!(delegate.until(|v| v["type"] == "error").await["code"], "bad_message");
    delegate.abort();
    // The screen is closed by the server's shutdown (1001; the server waits
    // for its close at most the write deadline: 2 s).
    assert!(server.terminate().await.success());
    assert_eq!(screen.closed().await.map(|c| c.0), Some(1001));

    let lines = json_lines(&server);
    let d = of(&lines, "delegate:d001");
    let said = messages(&d);
    for m in ["connected", "command refused", "message not understood", "connection ended"] {
        assert!(said.contains(m), "the delegate's connection logged {m:?}: {said:?}");
    }
    // The hub's line is the hub's, in the connection's span.
    assert!(d.iter().any(|l| l["target"].as_str().is_some_and(|t| t.starts_with("wz_hub")) && l["fields"]["code"] == "forbidden"), "{d:?}");
    let conn = d[0]["span"]["conn"].as_u64().expect("a connection id");
    for l in &d {
        let span = &l["span"];
        assert_eq!((span["session"].as_str(), span["role"].as_str()), (Some(SESSION), Some("delegate")), "{l}");
        assert_eq!(span["venue"].as_str(), Some(venue.as_str()), "{l}");
        assert_eq!(span["conn"].as_u64(), Some(conn), "one connection, one id: {l}");
    }
    let s = of(&lines, "screen");
    assert!(messages(&s).contains("connection ended"), "{s:?}");
    for l in &s {
        let span = &l["span"];
        assert_eq!((span["session"].as_str(), span["role"].as_str()), (Some(SESSION), Some("screen")), "{l}");
        assert!(span.get("venue").is_none(), "a screen counts for no venue: {l}");
        let id = span["conn"].as_u64().expect("a connection id");
        assert_ne!(id, conn, "each connection its own id");
    }
    // The upgrade requests: method and route, never the query with the token.
    let upgrades: Vec<&Value> = lines.iter().filter(|l| l["span"]["name"] == "http" && l["span"]["route"] == "/ws").collect();
    assert!(upgrades.iter().any(|l| l["fields"]["status"] == 101 && l["span"]["method"] == "GET"), "{upgrades:?}");
    assert!(lines.iter().all(|l| !l["span"]["route"].as_str().unwrap_or("").contains('?')));

    let tokens = vec![server.token("delegate:d001"), server.token("screen"), server.code("delegate:d001")];
    assert_logs_free_of(&server.logs, &tokens);
}
