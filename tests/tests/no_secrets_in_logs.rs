//! No secret in a log, ever (issue 7 item 7): a representative session runs
//! against the real binary at `RUST_LOG=debug`, once with `--log-format text`
//! and once with `--log-format json`, with stdout and stderr captured to
//! files. Every captured byte is then searched for every token ever issued
//! (from the credential sheet and the REST answers), the admin token, a
//! rejected token and the question texts: none may appear. A third run does
//! the same at `RUST_LOG=trace`.

use serde_json::{Value, json};
use std::path::Path;
use wz_e2e::{Client, LogCapture, Server, all_sheet_tokens, assert_logs_free_of, http_with};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

/// A value no code path could produce by accident.
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{what}-{}-{nanos:x}", std::process::id())
}

/// What the session must never log.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn add(&mut self, s: impl Into<String>) {
        self.0.push(s.into());
    }
    fn add_issued(&mut self, answer: &Value) {
        for c in answer["credentials"].as_array().expect("credentials") {
            self.add(c["token"].as_str().unwrap());
            self.add(c["link"].as_str().unwrap());
            let code = c["code"].as_str().unwrap();
            self.add(code);
            self.add(code.replace('-', ""));
        }
    }
}

/// Connects every role, submits and moderates questions with unique texts,
/// tries a bad token, uses the REST API with the admin token and reissues a
/// credential. Returns every secret the run handled.
async fn representative_session(server: &Server, admin: &str) -> Secrets {
    let mut secrets = Secrets::default();
    secrets.add(admin);
    let mut moderator = server.connect("moderator", None).await;
    moderator.next().await;
    let mut others = Vec::new();
    for key in ["auditor", "screen", "operator:baiyu", "delegate:d001", "delegate:d002"] {
        let mut c = server.connect(key, None).await;
        assert_eq!(c.next().await["type"], "snapshot");
        others.push(c);
    }
    let [_auditor, _screen, operator, d1, d2] = &mut others[..] else { unreachable!() };
    let baiyu_delegate = {
        let snap = operator.log[0].clone();
        snap["delegates"][0]["id"].as_str().unwrap().to_owned()
    };

    moderator.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    d1.ok(json!({"type": "check_in", "delegate": "d001"})).await;
    operator.ok(json!({"type": "check_in", "delegate": baiyu_delegate})).await;
    let own = unique("问题文本 own question");
    let on_behalf = unique("代为提问 on behalf");
    let follow_up = unique("追问 follow-up");
    let reason = unique("不予采纳 reason");
    for t in [&own, &on_behalf, &follow_up, &reason] {
        secrets.add(t.as_str());
    }
    let q1 = d1.ok(json!({"type": "submit_question", "topic": "policy", "unit": "minzheng", "text": own})).await["result"]["question"]
        .as_u64()
        .unwrap();
    let q2 = operator
        .ok(json!({"type": "submit_question", "topic": "policy", "unit": "minzheng", "text": on_behalf, "on_behalf_of": baiyu_delegate}))
        .await["result"]["question"]
        .as_u64()
        .unwrap();
    moderator.ok(json!({"type": "approve_question", "question": q1})).await;
    moderator.ok(json!({"type": "reject_question", "question": q2, "reason": reason})).await;
    moderator.ok(json!({"type": "queue_question", "question": q1})).await;
    moderator.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    moderator.ok(json!({"type": "grant_floor", "venue": "main", "question": q1})).await;
    d2.ok(json!({"type": "add_follow_up", "text": follow_up})).await;
    // A message that fails to parse carries text too.
    d2.send_raw(format!("{{\"type\": \"submit_question\", \"text\": \"{own}\"")).await;
    d2.until(|v| v["type"] == "error").await;

    // A bad token, over WebSocket (with and without a resume position) and REST.
    let bad = unique("not-a-real-token");
    secrets.add(bad.as_str());
    let mut refused = Client::connect(&server.addr, &bad, None).await.unwrap();
    assert_eq!(refused.closed().await.map(|c| c.0), Some(1008));
    let mut refused = Client::connect(&server.addr, &bad, Some(3)).await.unwrap();
    assert_eq!(refused.closed().await.map(|c| c.0), Some(1008));
    assert_eq!(server.http("GET", &format!("/api/sessions/{SESSION}"), Some(&bad), None).await.0, 401);
    // Join codes (issue 10): a right one typed in lower case with a space,
    // over REST and WebSocket, and a wrong one.
    let code = server.code("operator:baiyu");
    let typed = code.to_lowercase().replace('-', " ");
    secrets.add(typed.as_str());
    secrets.add(typed.replace(' ', "%20"));
    assert_eq!(server.http("GET", "/api/whoami", Some(&typed), None).await.0, 200);
    let mut by_code = Client::connect(&server.addr, &typed.replace(' ', "%20"), None).await.unwrap();
    assert_eq!(by_code.next().await["you"]["venue"], "baiyu");
    let wrong = if code.starts_with('Z') { "YYYYY-YYYYY" } else { "ZZZZZ-ZZZZZ" };
    secrets.add(wrong);
    assert_eq!(server.http("GET", "/api/whoami", Some(wrong), None).await.0, 401);
    // Tokens in places the server does not expect them.
    let token = server.token("delegate:d001");
    let weird = [
        format!("/ws?token={token}&since=abc"),
        format!("/nothing-here?token={token}"),
        format!("/api/sessions/{SESSION}?token={token}"),
        format!("/delegate.html?token={token}"),
    ];
    for path in &weird {
        let (status, _) = http_with(&server.addr, "GET", path, &[("Authorization", &format!("Bearer {token}"))]).await.unwrap();
        assert!(status >= 200, "{path}");
    }

    // REST with the admin token: create a session; its tokens are answered once.
    let def = json!({
        "id": "logcheck", "title": "日志检查", "theme": "日志",
        "venues": [{"id": "main", "name": "主会场", "kind": "main"}],
        "units": [{"id": "minzheng", "name": "县民政局"}],
        "topics": [{"id": "policy", "name": "养老政策"}],
        "delegates": [{"id": "d001", "name": "赵安华", "level": "county", "venue": "main"}]
    })
    .to_string();
    let (status, body) = server.http("POST", "/api/sessions", Some(admin), Some(("application/json", def.as_bytes()))).await;
    assert_eq!(status, 201, "{body}");
    secrets.add_issued(&serde_json::from_str(&body).unwrap());
    let (status, _) = server.http("POST", "/api/sessions", Some(&format!("{admin}x")), Some(("application/json", def.as_bytes()))).await;
    assert_eq!(status, 403);
    let moderator_token = server.token("moderator");
    for path in [
        format!("/api/sessions/{SESSION}"),
        format!("/api/sessions/{SESSION}/questions"),
        format!("/api/sessions/{SESSION}/export/results.csv"),
    ] {
        assert_eq!(server.http("GET", &path, Some(&moderator_token), None).await.0, 200, "{path}");
    }

    // A reissue: the old connection is closed with 4010, the new token works.
    let body = json!({"principals": ["delegate:d002"]}).to_string();
    let (status, body) = server
        .http(
            "POST",
            &format!("/api/sessions/{SESSION}/credentials/reissue"),
            Some(&moderator_token),
            Some(("application/json", body.as_bytes())),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    secrets.add_issued(&answer);
    assert_eq!(d2.closed().await.map(|c| c.0), Some(4010));
    let mut renewed = Client::connect(&server.addr, answer["credentials"][0]["token"].as_str().unwrap(), None).await.unwrap();
    assert_eq!(renewed.next().await["type"], "snapshot");
    moderator.ok(json!({"type": "ping"})).await;
    secrets
}

async fn run_with(format: &str, level: &str, logs: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let admin = unique("admin-token");
    let capture = LogCapture { dir: logs.to_owned(), name: format!("server-{format}-{level}"), rust_log: level.into() };
    let mut server =
        Server::start_logged(BIN, dir.path(), &["--log-format", format, "--admin-token", &admin], Some(capture)).await.unwrap();
    let mut secrets = representative_session(&server, &admin).await;
    // SIGTERM: the server writes its last lines and exits.
    assert!(server.terminate().await.success());
    for t in all_sheet_tokens(dir.path()).unwrap() {
        secrets.add(t);
    }
    assert!(secrets.0.len() > 340, "every credential of the demo is checked ({})", secrets.0.len());
    let searched = assert_logs_free_of(&server.logs, &secrets.0);

    // The search was not vacuous: the server logged, in the format asked for.
    let stdout = std::fs::read_to_string(&server.logs[0]).unwrap();
    let stderr = std::fs::read_to_string(&server.logs[1]).unwrap();
    assert!(stdout.contains("listening on http://"), "{stdout}");
    assert!(stdout.contains("links --data-dir"), "the banner says how to print the links: {stdout}");
    assert!(stderr.contains("store loaded"), "{stderr}");
    if format == "json" {
        assert!(stderr.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "every stderr line is JSON");
    }
    eprintln!("{format} at {level}: searched {searched} bytes of logs for {} secrets", secrets.0.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_question_text_reaches_a_text_log() {
    let logs = tempfile::tempdir().unwrap();
    run_with("text", "debug", logs.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_question_text_reaches_a_json_log() {
    let logs = tempfile::tempdir().unwrap();
    run_with("json", "debug", logs.path()).await;
}

/// `trace` is not for production, but even there no frame is logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_question_text_reaches_a_trace_log() {
    let logs = tempfile::tempdir().unwrap();
    run_with("text", "trace", logs.path()).await;
}
