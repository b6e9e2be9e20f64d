//! `wenzheng backup` and `wenzheng restore` (issue 13), with the real binary.
//!
//! * A round trip: a short real session (check-in, a question answered
//!   with a commitment, an evaluation voted and closed, the assignment
//!   issued, an evidence file) on the embedded store; the server stopped;
//!   a backup; restored into a fresh data directory, `verify` accepts it
//!   with the original's chain head, and a server on it serves the same
//!   results, items and file and carries on at the next seq. The same backup
//!   restored into Redis, served from there, backed up again while that
//!   server runs, and restored into the embedded store once more.
//!   A restore run twice is harmless; onto another record it is refused.
//! * Bad input (cut off, changed, of another version, not a backup): a
//!   clear error and nothing written, not even the data directory.
//! * The fixture of the current format (`tests/fixtures/backup-v1.jsonl`):
//!   restored, verified against its known chain head, and served with its
//!   known results. Keep it when the format changes (tests/fixtures/README.md).

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use wz_e2e::{Server, http_raw};
use wz_store::testing::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "fixture-v1";

/// The evidence file of the session (a small but real PDF).
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// The chain head of the fixture's session: what `verify` printed when the
/// fixture was written. A restore of the fixture must reproduce it.
const FIXTURE_HEAD: &str = "669fdfa0139d6ea9be65d0a63da8b96452a303d1b720ae30e5d0b09175a0d92e";
/// Its number of events.
const FIXTURE_EVENTS: u64 = 22;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Runs the binary; returns (success, stdout, stderr).
fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).env("RUST_LOG", "warn").output().expect("running the binary");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs the binary and fails the test unless it succeeds; returns stdout.
fn ok(args: &[&str]) -> String {
    let (success, stdout, stderr) = run(args);
    assert!(success, "{args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Runs the binary, which must fail; returns stderr.
fn fails(args: &[&str]) -> String {
    let (success, stdout, stderr) = run(args);
    assert!(!success, "{args:?} should have failed:\n{stdout}\n{stderr}");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `verify` on a store: (events, chain head) of the session.
fn verify(store: &[&str], expect_head: Option<&str>) -> (u64, String) {
    let mut args = vec!["verify", "--session", SESSION];
    args.extend_from_slice(store);
    if let Some(h) = expect_head {
        args.extend(["--expect-head", h]);
    }
    let out = ok(&args);
    let events = out.split(": ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"));
    let head = out.trim().rsplit(' ').next().unwrap().to_owned();
    assert_eq!(head.len(), 64, "{out}");
    (events, head)
}

/// The credential sheets, which a backup does not hold (they carry live
/// tokens): copied by hand, as docs/operations.md says.
fn copy_sheets(from: &Path, to: &Path) {
    let (from, to) = (from.join("credentials"), to.join("credentials"));
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// What a server serves of the session, to compare before and after.
#[derive(Debug, PartialEq)]
struct Served {
    results: Value,
    items: Value,
    board: Value,
    file: Vec<u8>,
}

async fn served(server: &Server) -> Served {
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}/results"), Some(&server.token("moderator")), None).await;
    assert_eq!(status, 200, "{body}");
    let results: Value = serde_json::from_str(&body).unwrap();
    let mut office = server.connect("office", None).await;
    let snap = office.next().await;
    assert_eq!(snap["type"], "snapshot");
    let file_id = snap["items"][0]["evidence"][0]["id"].as_str().unwrap_or_else(|| panic!("no evidence: {snap}")).to_owned();
    let path = format!("/api/sessions/{SESSION}/files/{file_id}");
    let r = http_raw(&server.addr, "GET", &path, Some(&server.token("unit:minzheng")), None).await.unwrap();
    assert_eq!(r.status, 200);
    Served { results, items: snap["items"].clone(), board: snap["board"].clone(), file: r.body }
}

/// The short session: three delegates check in; d1 asks minzheng, which
/// answers with a commitment; all three rate it satisfied and the
/// evaluation closes; the session closes (the assignment list is
/// drafted); the office issues the item; minzheng starts handling it and
/// attaches the evidence file.
async fn short_session(server: &Server) {
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let mut delegates = Vec::new();
    for d in ["d1", "d2", "d3"] {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        c.ok(json!({"type": "check_in", "delegate": d})).await;
        delegates.push((d, c));
    }
    m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    let ack = delegates[0]
        .1
        .ok(json!({"type": "submit_question", "topic": "policy", "unit": "minzheng", "text": "农村助餐服务何时实现全覆盖？"}))
        .await;
    let q = ack["result"]["question"].as_u64().unwrap();
    m.ok(json!({"type": "approve_question", "question": q})).await;
    m.ok(json!({"type": "grant_floor", "venue": "main", "question": q})).await;
    m.ok(json!({"type": "record_answer", "unit": "minzheng", "official": "县民政局局长", "summary": "年底覆盖率达到八成。",
        "commitments": [{"what": "实现农村助餐服务全覆盖", "unit": "minzheng", "due": "2099-06-30"}]}))
        .await;
    m.ok(json!({"type": "end_floor"})).await;
    m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    m.ok(json!({"type": "open_evaluation", "units": ["minzheng"]})).await;
    for (d, c) in delegates.iter_mut() {
        c.ok(json!({"type": "cast_ballot", "ballot_id": format!("b-{d}"), "evaluation": 1, "unit": "minzheng", "rating": "satisfied"}))
            .await;
    }
    m.ok(json!({"type": "close_evaluation", "evaluation": 1})).await;
    m.ok(json!({"type": "advance_phase", "to": "closed"})).await;
    let mut office = server.connect("office", None).await;
    office.next().await;
    office
        .ok(json!({"type": "edit_draft", "item": 1, "lead": "minzheng", "co_units": [], "requirement": "实现农村助餐服务全覆盖",
            "deadline": "2099-06-30", "priority": "normal"}))
        .await;
    office.ok(json!({"type": "issue_item", "item": 1})).await;
    let mut unit = server.connect("unit:minzheng", None).await;
    unit.next().await;
    unit.ok(json!({"type": "start_handling", "item": 1})).await;
    let upload = format!("/api/sessions/{SESSION}/items/1/files?name=report.pdf");
    let r = http_raw(&server.addr, "POST", &upload, Some(&server.token("unit:minzheng")), Some(("application/pdf", PDF))).await.unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // The file's event is confirmed once the unit sees it on the item.
    unit.change("item", |ch| ch["item"]["id"] == 1 && !ch["item"]["evidence"].as_array().unwrap().is_empty()).await;
}

async fn start_fixture_session(dir: &Path, extra: &[&str]) -> Server {
    let file = fixtures().join("fixture-v1.toml");
    let mut args = vec!["--no-demo", "--session-file", s(&file)];
    args.extend_from_slice(extra);
    Server::start(BIN, dir, &args).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_either_store_and_serves_the_same_session() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| tmp.path().join(n));
    let backup = tmp.path().join("backup.jsonl");

    // ---- the session, then the server stopped ----------------------------
    let mut server = start_fixture_session(&a, &[]).await;
    short_session(&server).await;
    let before = served(&server).await;
    assert_eq!(before.file, PDF);
    // The embedded store is one process's file: not while the server runs.
    let e = fails(&["backup", "--data-dir", s(&a), "--out", s(&backup)]);
    assert!(e.contains("stop the server first"), "{e}");
    assert!(!backup.exists() && !tmp.path().join("backup.jsonl.partial").exists());
    server.terminate().await;
    let (events, head) = verify(&["--data-dir", s(&a)], None);

    // ---- backup ------------------------------------------------------------
    let started = Instant::now();
    let out = ok(&["backup", "--data-dir", s(&a), "--out", s(&backup)]);
    let took = started.elapsed();
    assert!(out.contains(&format!("session {SESSION}: {events} events")) && out.contains(&head), "{out}");
    let size = std::fs::metadata(&backup).unwrap().len();
    eprintln!("backup of {events} events and one file: {size} bytes in {} ms", took.as_millis());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600, "only its owner reads a backup");
    }
    let again = fails(&["backup", "--data-dir", s(&a), "--out", s(&backup)]);
    assert!(again.contains("a backup never replaces a file"), "{again}");
    let check = ok(&["restore", "--check", s(&backup)]);
    assert!(check.contains("the record holds; 3 ballots") && check.contains(&head), "{check}");

    // ---- restore into a fresh data directory -------------------------------
    let out = ok(&["restore", s(&backup), "--data-dir", s(&b)]);
    assert!(out.contains(&format!("session {SESSION}: restored; {events} events, 1 file(s); chain head {head}")), "{out}");
    assert_eq!(verify(&["--data-dir", s(&b)], Some(&head)), (events, head.clone()));
    copy_sheets(&a, &b);
    let mut server = Server::start(BIN, &b, &[]).await.unwrap();
    assert_eq!(served(&server).await, before, "the restored server serves the same results, items and file");
    // It carries on where the original stopped.
    let mut unit = server.connect("unit:minzheng", None).await;
    unit.next().await;
    let ack = unit.ok(json!({"type": "add_note", "item": 1, "text": "恢复后继续办理"})).await;
    assert_eq!(ack["seq"].as_u64(), Some(events + 1));
    server.terminate().await;

    // ---- running a restore again, and onto another record ------------------
    let out = ok(&["restore", s(&backup), "--data-dir", s(&a)]);
    assert!(out.contains("was already there, as backed up") && out.contains("0 session(s) written"), "{out}");
    for force in [false, true] {
        let mut args = vec!["restore", s(&backup), "--data-dir", s(&b)];
        if force {
            args.push("--force");
        }
        let e = fails(&args);
        assert!(e.contains(&format!("holds session(s) {SESSION} with another record")) && e.contains("Nothing was written"), "{e}");
    }
    assert_eq!(verify(&["--data-dir", s(&b)], None).0, events + 1, "the refused restore changed nothing");

    // ---- into Redis, served from there, backed up while it runs ------------
    let redis = RedisServer::start_temp(&[]);
    let url = redis.url();
    let out = ok(&["restore", s(&backup), "--redis-url", &url]);
    assert!(out.contains("restored into the redis store: 1 session(s) written, 1 file(s) written"), "{out}");
    assert_eq!(verify(&["--redis-url", &url], Some(&head)).1, head);
    copy_sheets(&a, &c);
    let mut server = Server::start(BIN, &c, &["--redis-url", &url]).await.unwrap();
    assert_eq!(served(&server).await, before, "the same session, served from Redis");
    let mut unit = server.connect("unit:minzheng", None).await;
    unit.next().await;
    unit.ok(json!({"type": "add_note", "item": 1, "text": "在 Redis 上继续办理"})).await;
    let backup2 = tmp.path().join("backup-from-redis.jsonl");
    let out = ok(&["backup", "--redis-url", &url, "--out", s(&backup2)]);
    assert!(out.contains(&format!("session {SESSION}: {} events", events + 1)), "{out}");
    let (_, head2) = verify(&["--redis-url", &url], None);
    assert_ne!(head2, head);
    server.terminate().await;
    ok(&["restore", s(&backup2), "--data-dir", s(&d)]);
    assert_eq!(verify(&["--data-dir", s(&d)], Some(&head2)), (events + 1, head2));
}

/// Damaged input: a clear error, and nothing written: the target data
/// directory is not even created.
#[test]
fn a_bad_backup_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixtures().join("backup-v1.jsonl")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let cut_line = lines[..lines.len() - 1].iter().map(|l| format!("{l}\n")).collect::<String>();
    let cut_mid = &good[..good.len() / 2];
    let edited_event = good.replacen("\\\"satisfied\\\"", "\\\"dissatisfied\\\"", 1);
    assert_ne!(edited_event, good, "the fixture holds a ballot");
    let newer = good.replacen("\"version\":1", "\"version\":2", 1);
    let cases: [(&str, &str, &str); 6] = [
        ("cut-line", &cut_line, "without its end line: it was cut off"),
        ("cut-mid", cut_mid, "it was cut off"),
        ("edited", &edited_event, "session fixture-v1 does not match its checksum"),
        ("newer", &newer, "backup format version 2 is not supported (this build reads version 1)"),
        ("not-a-backup", "id,name\nd1,王建国\n", "not a Wenzheng backup"),
        ("empty", "", "not a Wenzheng backup: the file is empty"),
    ];
    for (name, text, want) in cases {
        let file = tmp.path().join(format!("{name}.jsonl"));
        std::fs::write(&file, text).unwrap();
        let target = tmp.path().join(format!("{name}-data"));
        let e = fails(&["restore", s(&file), "--data-dir", s(&target)]);
        assert!(e.contains(want) && e.contains("cannot be restored"), "{name}: {e}");
        assert!(!target.exists(), "{name}: nothing is written");
        let e = fails(&["restore", "--check", s(&file)]);
        assert!(e.contains(want), "{name} (--check): {e}");
    }
    // The good one, for contrast.
    ok(&["restore", "--check", s(&fixtures().join("backup-v1.jsonl"))]);
}

/// The fixture of the current format: restored, the record holds with the
/// chain head it was written with, and a server serves its known results.
/// Restoring it next to another session needs --force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_format_1_fixture_restores_and_serves_its_known_results() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixtures().join("backup-v1.jsonl");
    let data = tmp.path().join("data");
    let out = ok(&["restore", s(&fixture), "--data-dir", s(&data)]);
    assert!(out.contains(&format!("chain head {FIXTURE_HEAD}")), "{out}");
    assert_eq!(verify(&["--data-dir", s(&data)], Some(FIXTURE_HEAD)), (FIXTURE_EVENTS, FIXTURE_HEAD.to_owned()));
    std::fs::create_dir_all(data.join("credentials")).unwrap();
    std::fs::copy(fixtures().join("backup-v1.credentials.csv"), data.join("credentials").join(format!("{SESSION}.csv"))).unwrap();
    let mut server = Server::start(BIN, &data, &[]).await.unwrap();
    let got = served(&server).await;
    assert_eq!(got.file, PDF);
    let eval = &got.results["evaluations"][0];
    assert_eq!(eval["status"], "closed", "{eval}");
    assert_eq!(eval["results"]["turnout"]["voted"], 3, "{eval}");
    let unit = &eval["results"]["units"][0];
    assert_eq!(unit["unit"], "minzheng");
    assert_eq!(
        unit["counts"],
        json!({"satisfied": 3, "basically_satisfied": 0, "dissatisfied": 0, "total": 3, "satisfaction_rate_bp": 10000}),
        "{eval}"
    );
    assert_eq!(got.items[0]["status"], "in_handling", "{}", got.items);
    assert_eq!(got.items[0]["evidence"][0]["name"], "report.pdf");
    server.terminate().await;

    // Next to another session: only with --force, and both are kept.
    let other = tmp.path().join("other");
    let mut server = Server::start(BIN, &other, &[]).await.unwrap();
    server.terminate().await;
    let e = fails(&["restore", s(&fixture), "--data-dir", s(&other)]);
    assert!(e.contains("already holds other sessions (xixia-2026)") && e.contains("--force"), "{e}");
    ok(&["restore", s(&fixture), "--data-dir", s(&other), "--force"]);
    let out = ok(&["verify", "--data-dir", s(&other)]);
    assert!(out.contains("session fixture-v1:") && out.contains("session xixia-2026:"), "{out}");
}

/// Writes the fixture (not run by default): the short session on the
/// embedded store, its backup, and its credential sheet.
/// `WZ_WRITE_BACKUP_FIXTURE=1 cargo test -p wz-e2e --test backup -- --ignored`
/// Never rewrite `backup-v1.jsonl` once committed: it is the record of
/// format 1. A new format gets a new fixture next to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes tests/fixtures; run by hand for a new format"]
async fn write_the_format_1_fixture() {
    if std::env::var_os("WZ_WRITE_BACKUP_FIXTURE").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = start_fixture_session(&data, &[]).await;
    short_session(&server).await;
    server.terminate().await;
    let (events, head) = verify(&["--data-dir", s(&data)], None);
    let out = fixtures().join("backup-v1.jsonl");
    assert!(!out.exists(), "{} exists: the fixture of format 1 is never rewritten", out.display());
    ok(&["backup", "--data-dir", s(&data), "--out", s(&out)]);
    std::fs::copy(data.join("credentials").join(format!("{SESSION}.csv")), fixtures().join("backup-v1.credentials.csv")).unwrap();
    eprintln!("fixture written: {events} events, chain head {head}");
}
