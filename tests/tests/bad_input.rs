//! Bad input against the real server: each gets its typed error or its
//! documented close code, nothing changes, and everyone else keeps being served.

use serde_json::{Value, json};
use wz_e2e::{Client, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

async fn moderator_view(server: &Server) -> Value {
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}"), Some(&server.token("moderator")), None).await;
    assert_eq!(status, 200);
    let mut v: Value = serde_json::from_str(&body).unwrap();
    v.as_object_mut().unwrap().remove("server_time");
    v.as_object_mut().unwrap().remove("stats");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_typed_errors_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let mut d1 = server.connect("delegate:d001", None).await;
    d1.next().await;
    let mut d2 = server.connect("delegate:d002", None).await;
    d2.next().await;
    d1.ok(json!({"type": "check_in", "delegate": "d001"})).await;
    let q = d1.ok(json!({"type": "submit_question", "topic": "policy", "unit": "minzheng", "text": "养老补贴何时发放？"})).await;
    let q = q["result"]["question"].as_u64().unwrap();
    let before = moderator_view(&server).await;

    // Malformed JSON: bad_message, no id to echo.
    d1.send_raw("{not json".into()).await;
    let e = d1.until(|v| v["type"] == "error").await;
    assert_eq!(e["code"], "bad_message");
    assert!(e.get("id").is_none());

    // Unknown type: bad_message with the id recovered.
    let e = d1.call(json!({"type": "vote_twice"})).await.unwrap_err();
    assert_eq!(e["code"], "bad_message");
    assert!(e["id"].is_string());

    // Wrong field type.
    let e = d1.call(json!({"type": "approve_question", "question": "one"})).await.unwrap_err();
    assert_eq!(e["code"], "bad_message");

    // A delegate issuing moderator commands.
    let e = d1.call(json!({"type": "approve_question", "question": q})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");
    let e = d1.call(json!({"type": "advance_phase", "to": "questioning"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");

    // A delegate naming another delegate: identity comes from the connection only.
    let e = d1
        .call(json!({"type": "submit_question", "on_behalf_of": "d002", "topic": "policy", "unit": "minzheng", "text": "冒名提问"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "forbidden");
    let e = d1.call(json!({"type": "check_in", "delegate": "d002"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");

    // A venue operator acting for another venue's delegate.
    let mut op = server.connect("operator:baiyu", None).await;
    op.next().await;
    let e = op.call(json!({"type": "check_in", "delegate": "d001"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");

    // The screen: pings are fine, commands are not.
    let mut screen = server.connect("screen", None).await;
    screen.next().await;
    screen.ok(json!({"type": "ping"})).await;
    let e = screen.call(json!({"type": "check_in", "delegate": "d002"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");
    let e = screen.call(json!({"type": "approve_question", "question": q})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");

    // Text over the limit.
    let long = "问".repeat(501);
    let e = d1.call(json!({"type": "submit_question", "topic": "policy", "unit": "minzheng", "text": long})).await.unwrap_err();
    assert_eq!(e["code"], "invalid");

    // A binary frame.
    d2.sink_binary().await;
    let e = d2.until(|v| v["type"] == "error").await;
    assert_eq!(e["code"], "bad_message");

    assert_eq!(moderator_view(&server).await, before, "bad input changed the session");

    // Oversize message: closed with 1009, everyone else unaffected.
    let big = format!("{{\"type\":\"ping\",\"id\":\"x\",\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    d2.send_raw(big).await;
    let close = d2.closed().await;
    assert_eq!(close.map(|c| c.0), Some(1009));
    m.ok(json!({"type": "ping"})).await;
    d1.ok(json!({"type": "ping"})).await;

    // An unknown credential: closed with 1008.
    let mut stranger = Client::connect(&server.addr, "not-a-token", None).await.unwrap();
    assert_eq!(stranger.closed().await.map(|c| c.0), Some(1008));

    // Ballots: a second ballot, and a ballot after close.
    m.ok(json!({"type": "approve_question", "question": q})).await;
    m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    let e = d1
        .call(json!({"type": "cast_ballot", "ballot_id": "early", "evaluation": 1, "unit": "minzheng", "rating": "satisfied"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "not_found", "no evaluation is open yet");
    m.ok(json!({"type": "open_evaluation", "units": ["minzheng"]})).await;
    let mut d2 = server.connect("delegate:d002", None).await;
    d2.next().await;
    let e = d2
        .call(json!({"type": "cast_ballot", "ballot_id": "b1", "evaluation": 1, "unit": "minzheng", "rating": "satisfied"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "invalid_state", "a delegate who has not checked in cannot vote");
    d1.ok(json!({"type": "cast_ballot", "ballot_id": "b1", "evaluation": 1, "unit": "minzheng", "rating": "satisfied"})).await;
    let e = d1
        .call(json!({"type": "cast_ballot", "ballot_id": "b2", "evaluation": 1, "unit": "minzheng", "rating": "dissatisfied"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "already_done");
    let e = d1
        .call(json!({"type": "cast_ballot", "ballot_id": "b1", "evaluation": 1, "unit": "minzheng", "rating": "dissatisfied"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "already_done", "a ballot id cannot be reused for another choice");
    let e = m
        .call(json!({"type": "cast_ballot", "ballot_id": "m1", "evaluation": 1, "unit": "minzheng", "rating": "satisfied"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "forbidden", "only delegates vote");
    m.ok(json!({"type": "check_in", "delegate": "d002"})).await;
    let closed = m.ok(json!({"type": "close_evaluation", "evaluation": 1})).await;
    let e = d2
        .call(json!({"type": "cast_ballot", "ballot_id": "late", "evaluation": 1, "unit": "minzheng", "rating": "satisfied"}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], "invalid_state", "ballot after close");
    // Closing again is harmless: the same final results.
    let again = m.ok(json!({"type": "close_evaluation", "evaluation": 1})).await;
    assert_eq!(again["result"], closed["result"]);
    assert_eq!(again["result"]["closed"]["results"]["units"][0]["counts"]["total"], 1);
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}/results"), None, None).await;
    assert_eq!(status, 200);
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["evaluations"][0]["results"]["units"][0]["counts"]["total"], 1, "exactly one ballot counted");
    assert_eq!(r["evaluations"][0]["results"]["turnout"]["eligible"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_limit_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--rate-per-second", "1", "--rate-burst", "3"]).await.unwrap();
    let mut d = server.connect("delegate:d001", None).await;
    d.next().await;
    let mut other = server.connect("delegate:d002", None).await;
    other.next().await;
    for i in 0..10 {
        d.send(&format!("p{i}"), json!({"type": "ping"})).await;
    }
    let mut limited = 0;
    for i in 0..10 {
        match d.reply(&format!("p{i}")).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e["code"], "limit");
                assert_eq!(e["retryable"], true);
                limited += 1;
            }
        }
    }
    assert!(limited >= 6, "only the burst passes: {limited} limited");
    other.ok(json!({"type": "ping"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_endpoints_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    assert_eq!(server.http("GET", "/healthz", None, None).await.0, 200);
    let (status, body) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        ready,
        json!({"ready": true, "store": "embedded", "store_reachable": true, "store_problems": [], "sessions": 1, "refused": []})
    );
    let (status, body) = server.http("GET", "/api/sessions", None, None).await;
    assert_eq!(status, 200);
    assert!(body.contains(SESSION));
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}/venues"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["venues"].as_array().unwrap().len(), 20);
    // Public reads carry no identities.
    let (_, body) = server.http("GET", &format!("/api/sessions/{SESSION}"), None, None).await;
    assert!(!body.contains("\"d001\""));
    // A bad token is refused, not downgraded to public.
    assert_eq!(server.http("GET", &format!("/api/sessions/{SESSION}"), Some("nope"), None).await.0, 401);
    // Writes need the moderator.
    let csv = "id,name,level,venue\nd999,新代表,县,baiyu\n";
    let (status, _) = server
        .http(
            "POST",
            &format!("/api/sessions/{SESSION}/delegates"),
            Some(&server.token("delegate:d001")),
            Some(("text/csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = server
        .http("POST", &format!("/api/sessions/{SESSION}/delegates"), Some(&server.token("moderator")), Some(("text/csv", csv.as_bytes())))
        .await;
    assert_eq!(status, 201, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let token = v["credentials"][0]["token"].as_str().unwrap().to_owned();
    let mut newcomer = Client::connect(&server.addr, &token, None).await.unwrap();
    assert_eq!(newcomer.next().await["you"]["delegate"], "d999");
    // The newcomer is on the credential sheet, named, with their venue (so
    // `links --filter baiyu` and `cards` list them).
    let sheet = std::fs::read_to_string(dir.path().join("credentials").join(format!("{SESSION}.csv"))).unwrap();
    let row = sheet.lines().find(|l| l.starts_with("delegate:d999,")).expect("d999 on the sheet");
    let code = v["credentials"][0]["code"].as_str().unwrap();
    assert!(row.contains(",新代表,") && row.contains(&token) && row.ends_with(&format!(",baiyu,白羽街道人大代表联络站,{code}")), "{row}");
    // Reissuing a lost card revokes the old credential and closes its connection.
    let body = json!({"principals": ["delegate:d999"]}).to_string();
    let (status, out) = server
        .http(
            "POST",
            &format!("/api/sessions/{SESSION}/credentials/reissue"),
            Some(&server.token("moderator")),
            Some(("application/json", body.as_bytes())),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(newcomer.closed().await.map(|c| c.0), Some(4010));
    assert_eq!(Client::connect(&server.addr, &token, None).await.unwrap().closed().await.map(|c| c.0), Some(1008));
    let fresh: Value = serde_json::from_str(&out).unwrap();
    let mut again = Client::connect(&server.addr, fresh["credentials"][0]["token"].as_str().unwrap(), None).await.unwrap();
    assert_eq!(again.next().await["you"]["delegate"], "d999");
    // Importing after the session started is refused with a typed error.
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let csv = "id,name,level,venue\nd998,晚到代表,县,baiyu\n";
    let (status, body) = server
        .http("POST", &format!("/api/sessions/{SESSION}/delegates"), Some(&server.token("moderator")), Some(("text/csv", csv.as_bytes())))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("invalid_state"));
    // Security headers on pages.
    let (status, _) = server.http("GET", "/", None, None).await;
    assert_eq!(status, 200);
}

/// A mistyped API call must not pass silently: unknown `/api/…` paths get a
/// JSON 404 and a wrong method a JSON 405 (with `Allow`), never the web
/// app's HTML with 200; pages are still pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_and_methods_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let moderator = server.token("moderator");
    for (method, path, bearer) in [
        ("GET", "/api".to_owned(), None),
        ("GET", "/api/".to_owned(), None),
        ("GET", "/api/nope".to_owned(), None),
        ("GET", format!("/api/sessions/{SESSION}/nope"), Some(moderator.as_str())),
        ("POST", format!("/api/sessions/{SESSION}/questions/1/answer"), Some(moderator.as_str())),
        ("GET", "/api/sessions/no-such-session".to_owned(), None),
    ] {
        let r = wz_e2e::http_raw(&server.addr, method, &path, bearer, None).await.unwrap();
        assert_eq!(r.status, 404, "{method} {path}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"), "{method} {path}");
        let v: Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", String::from_utf8_lossy(&r.body)));
        assert_eq!(v["code"], "not_found", "{method} {path}: {v}");
    }
    let r = wz_e2e::http_raw(&server.addr, "DELETE", "/api/sessions", Some(&moderator), None).await.unwrap();
    assert_eq!(r.status, 405, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("allow").as_deref(), Some("GET,HEAD,POST"));
    let v: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body)));
    assert_eq!(v["code"], "bad_message", "{v}");
    // A page that does not exist is still the web app's business.
    let (status, body) = server.http("GET", "/no-such-page.html", None, None).await;
    assert_eq!(status, 200);
    assert!(body.contains("<html") || body.contains("<!doctype") || body.contains("<!DOCTYPE"), "{body}");
}

/// What contract fuzzing (scripts/fuzz-api) found: a request without a
/// credential where one is required is 401, not 403 (docs/protocol.md
/// section 12), and a path, query or body the endpoint cannot read is the
/// API's JSON error, never axum's plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_401_and_unreadable_requests_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let admin = "fuzz-admin-token-0123456789";
    let server = Server::start(BIN, dir.path(), &["--admin-token", admin]).await.unwrap();
    let moderator = server.token("moderator");
    let json_error = |r: &wz_e2e::RawResponse, status: u16, code: &str, what: &str| {
        assert_eq!(r.status, status, "{what}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"), "{what}");
        let v: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {:?}", r.body));
        assert_eq!(v["code"], code, "{what}: {v}");
    };
    let def =
        json!({"id": "second", "title": "t", "venues": [{"id": "main", "name": "主会场", "kind": "main"}], "units": [], "topics": []});
    let def = def.to_string();
    let r = wz_e2e::http_raw(&server.addr, "POST", "/api/sessions", None, Some(("application/json", def.as_bytes()))).await.unwrap();
    json_error(&r, 401, "forbidden", "creating a session without the admin token");
    let r = wz_e2e::http_raw(&server.addr, "GET", &format!("/api/sessions/{SESSION}/record"), None, None).await.unwrap();
    json_error(&r, 401, "forbidden", "the record without a credential");
    let screen = server.token("screen");
    let r = wz_e2e::http_raw(&server.addr, "GET", &format!("/api/sessions/{SESSION}/record"), Some(&screen), None).await.unwrap();
    json_error(&r, 403, "forbidden", "the record for a screen's credential");
    let reissue = format!("/api/sessions/{SESSION}/credentials/reissue");
    let body = br#"{"principals": ["delegate:d001"]}"#;
    let r = wz_e2e::http_raw(&server.addr, "POST", &reissue, Some(&moderator), Some(("text/plain", body))).await.unwrap();
    json_error(&r, 415, "bad_message", "a reissue that is not application/json");
    let r = wz_e2e::http_raw(&server.addr, "POST", &reissue, Some(&moderator), Some(("application/json", b"{\"principals\": 1}")))
        .await
        .unwrap();
    json_error(&r, 400, "bad_message", "a reissue body of the wrong shape");
    let upload = format!("/api/sessions/{SESSION}/items/abc/files?name=x.pdf");
    let r = wz_e2e::http_raw(&server.addr, "POST", &upload, Some(&moderator), Some(("application/pdf", b"%PDF-1.4"))).await.unwrap();
    json_error(&r, 400, "bad_message", "an item that is not a number");
    let upload = format!("/api/sessions/{SESSION}/items/1/files");
    let r = wz_e2e::http_raw(&server.addr, "POST", &upload, Some(&moderator), Some(("application/pdf", b"%PDF-1.4"))).await.unwrap();
    json_error(&r, 400, "bad_message", "an upload without ?name=");
    let r = wz_e2e::http_raw(&server.addr, "GET", "/api/sessions/%FF/venues", None, None).await.unwrap();
    json_error(&r, 400, "bad_message", "a session id that is not UTF-8");
    // A wrong method on the upload route is 405 in JSON, like on the others.
    let r = wz_e2e::http_raw(&server.addr, "GET", &format!("/api/sessions/{SESSION}/items/1/files"), None, None).await.unwrap();
    json_error(&r, 405, "bad_message", "GET on the upload route");
}
