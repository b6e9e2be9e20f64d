//! Short join codes (issue 10): a delegate types ten characters from the
//! card instead of a 43-character token; wrong codes are limited per client
//! address without locking out a township behind one address; the moderator
//! prints a venue's cards from the console.

use serde_json::{Value, json};
use wz_e2e::{Client, Server, http_with};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

/// Ten characters of the code's alphabet that are not `code`.
fn wrong_code(code: &str, n: usize) -> String {
    let alphabet = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut wrong: Vec<u8> = code.replace('-', "").into_bytes();
    wrong[9] = alphabet[(alphabet.iter().position(|&c| c == wrong[9]).unwrap() + 1 + n % 31) % 32];
    wrong[8] = alphabet[(alphabet.iter().position(|&c| c == wrong[8]).unwrap() + 1 + n / 31) % 32];
    String::from_utf8(wrong).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegate_joins_with_the_short_code_in_any_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let code = server.code("delegate:d017");
    assert_eq!(code.len(), 11, "two groups of five: {code}");
    // Typed on a phone: lower case, a space instead of the dash, O for 0.
    let typed = code.to_lowercase().replace('-', " ").replace('0', "o");
    let (status, body) = server.http("GET", "/api/whoami", Some(&typed), None).await;
    assert_eq!(status, 200, "{body}");
    let who: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(who, json!({"session": SESSION, "principal": "delegate:d017", "role": "delegate", "page": "delegate.html"}));
    // The page then connects with what was typed (URL-encoded, as a browser's URLSearchParams does).
    let mut c = Client::connect(&server.addr, &typed.replace(' ', "%20"), None).await.unwrap();
    let snap = c.next().await;
    assert_eq!(snap["you"]["delegate"], "d017");
    // A wrong code names nobody.
    assert_eq!(server.http("GET", "/api/whoami", Some(&wrong_code(&code, 0)), None).await.0, 401);
    let mut refused = Client::connect(&server.addr, &wrong_code(&code, 1), None).await.unwrap();
    assert_eq!(refused.closed().await.map(|c| c.0), Some(1008));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_slow_one_address_but_not_links_or_other_addresses() {
    let dir = tempfile::tempdir().unwrap();
    // As behind a reverse proxy on the same machine: the proxy names the
    // client. Named by a range, as an ingress's moving pods are (a single
    // address is the deploy kit's example environment, tests/deploy.rs).
    let server = Server::start(BIN, dir.path(), &["--trusted-proxy", "127.0.0.0/8"]).await.unwrap();
    let code = server.code("operator:baiyu");
    let whoami = |credential: String, client: &'static str| {
        let addr = server.addr.clone();
        async move {
            let auth = format!("Bearer {credential}");
            http_with(&addr, "GET", "/api/whoami", &[("Authorization", &auth), ("X-Forwarded-For", client)]).await.unwrap().0
        }
    };
    // Twenty wrong codes from one township's address are answered as wrong…
    for n in 0..20 {
        assert_eq!(whoami(wrong_code(&code, n), "198.51.100.7").await, 401, "attempt {n}");
    }
    // …then that address must wait, even with the right code (else the
    // answer would tell a guesser which guess was right).
    assert_eq!(whoami(wrong_code(&code, 20), "198.51.100.7").await, 429);
    assert_eq!(whoami(code.clone(), "198.51.100.7").await, 429);
    let raw = wz_e2e::http_raw(&server.addr, "GET", "/api/whoami", Some(&code), None).await.unwrap();
    assert_eq!(raw.status, 200, "127.0.0.1 without a forwarded address is the proxy itself: its own bucket");
    // The whole credential (the card's QR link) is never limited…
    assert_eq!(whoami(server.token("delegate:d017"), "198.51.100.7").await, 200);
    // …and another township is not affected.
    assert_eq!(whoami(code.clone(), "203.0.113.20").await, 200);
    // The 429 says how long to wait, in both languages.
    let auth = format!("Bearer {code}");
    let (status, body) =
        http_with(&server.addr, "GET", "/api/whoami", &[("Authorization", &auth), ("X-Forwarded-For", "198.51.100.7")]).await.unwrap();
    assert_eq!(status, 429);
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["code"], "limit");
    assert!(e["message"].as_str().unwrap().contains("秒后再试"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_moderator_prints_a_venues_cards_and_a_reissued_code_replaces_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let path = format!("/api/sessions/{SESSION}/cards?venue=baiyu");
    let raw = wz_e2e::http_raw(&server.addr, "GET", &path, Some(&server.token("moderator")), None).await.unwrap();
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("cache-control").as_deref(), Some("no-store"));
    let html = String::from_utf8(raw.body).unwrap();
    let operator = server.code("operator:baiyu");
    assert!(html.contains(&operator), "the operator's card is there");
    assert!(html.contains("白羽街道"), "named by venue");
    let cards = html.matches("class=\"card\"").count();
    assert!(cards >= 2, "the operator and the venue's delegates: {cards}");
    assert!(!html.contains(&server.code("moderator")), "only the venue's cards");
    // Nobody else prints cards.
    for key in ["operator:baiyu", "auditor", "delegate:d017"] {
        assert_eq!(server.http("GET", &path, Some(&server.token(key)), None).await.0, 403, "{key}");
    }
    assert_eq!(server.http("GET", &path, None, None).await.0, 401);

    // A lost card: reissuing answers a new code; the old one stops working.
    let old = server.code("delegate:d017");
    let body = json!({"principals": ["delegate:d017"]}).to_string();
    let (status, out) = server
        .http(
            "POST",
            &format!("/api/sessions/{SESSION}/credentials/reissue"),
            Some(&server.token("moderator")),
            Some(("application/json", body.as_bytes())),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let fresh: Value = serde_json::from_str(&out).unwrap();
    let new = fresh["credentials"][0]["code"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(server.http("GET", "/api/whoami", Some(&old), None).await.0, 401);
    assert_eq!(server.http("GET", "/api/whoami", Some(&new), None).await.0, 200);
    assert_eq!(server.code("delegate:d017"), new, "the sheet's last row for d017 has the new code");
}
