//! Graceful shutdown while a county votes, and settings that cannot work.
//!
//! SIGTERM arrives while 60 delegates' ballots are in flight. The server
//! must close every WebSocket with 1001 `going_away` (the clients'
//! documented cue to reconnect, here or to another node), leave a record
//! that `verify` accepts, and exit. Every ballot acknowledged before the
//! close is in the record after a restart; every delegate's resend (same
//! command id, same ballot id) is answered without a second count.

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use wz_e2e::{Client, Incoming, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const UNITS: [&str; 2] = ["vice_county_head", "minzheng"];
const VOTERS: usize = 60;
const SESSION: &str = "xixia-2026";

fn rating(n: usize, u: usize) -> &'static str {
    ["satisfied", "basically_satisfied", "dissatisfied"][(n * 5 + u) % 3]
}

fn ballot(d: &str, n: usize, u: usize) -> (String, Value) {
    let cmd = json!({"type": "cast_ballot", "ballot_id": format!("b-{d}-{u}"), "evaluation": 1, "unit": UNITS[u], "rating": rating(n, u)});
    (format!("vote-{d}-{u}"), cmd)
}

async fn start(dir: &std::path::Path) -> Server {
    let args = ["--rate-per-second", "100000", "--rate-burst", "100000"];
    Server::start(BIN, dir, &args).await.expect("server starts")
}

/// Reads until the close frame; returns the acknowledgements seen (command
/// id → result) and the close code.
async fn acks_until_closed(c: &mut Client) -> (BTreeMap<String, Value>, Option<u16>) {
    let mut acks = BTreeMap::new();
    loop {
        match c.next_within(wz_e2e::guard()).await.expect("the server closes the connection") {
            Incoming::Json(v) if v["type"] == "ack" => {
                acks.insert(v["id"].as_str().expect("id").to_owned(), v["result"].clone());
            }
            Incoming::Json(_) => {}
            Incoming::Closed(c) => return (acks, c.map(|c| c.0)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_ballots_are_in_flight_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let mut moderator = server.connect("moderator", None).await;
    moderator.next().await;
    let delegates = wz_e2e::check_in_all_and_open_evaluation(&mut moderator, &UNITS).await;
    let voters: Vec<String> = delegates.into_iter().take(VOTERS).collect();
    let keys: Vec<String> = voters.iter().map(|d| format!("delegate:{d}")).collect();
    let mut phones = join_all(keys.iter().map(|k| server.connect(k, None))).await;
    for p in phones.iter_mut() {
        p.next().await;
    }

    // Every phone sends both ballots at once; SIGTERM follows at once, so
    // some are being written when it arrives.
    for (n, (d, p)) in voters.iter().zip(phones.iter_mut()).enumerate() {
        for u in 0..UNITS.len() {
            let (id, cmd) = ballot(d, n, u);
            p.send(&id, cmd).await;
        }
    }
    let exit = server.terminate().await;
    assert!(exit.success(), "the server exits cleanly on SIGTERM: {exit:?}");
    let mut acked = BTreeMap::new();
    for p in phones.iter_mut() {
        let (acks, code) = acks_until_closed(p).await;
        assert_eq!(code, Some(1001), "every client is told `going_away`, its cue to reconnect");
        acked.extend(acks);
    }
    let (_, code) = acks_until_closed(&mut moderator).await;
    assert_eq!(code, Some(1001));

    // What the server left holds.
    let out = Command::new(BIN).args(["verify", "--data-dir"]).arg(dir.path()).args(["--session", SESSION]).output().unwrap();
    assert!(out.status.success(), "verify: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // Back up: every phone resends what it has no answer for, with the same
    // ids, as the delegate client's outbox does; the acknowledged ones are
    // resent too (a phone may have missed the ack), and must not count twice.
    let server = start(dir.path()).await;
    let mut receipts = BTreeMap::new();
    for (n, d) in voters.iter().enumerate() {
        let mut phone = server.connect(&format!("delegate:{d}"), None).await;
        phone.next().await;
        for u in 0..UNITS.len() {
            let (id, cmd) = ballot(d, n, u);
            phone.send(&id, cmd).await;
            let ack = phone.reply(&id).await.unwrap_or_else(|e| panic!("{id} after the restart: {e}"));
            if let Some(before) = acked.get(&id) {
                assert_eq!(ack["result"]["receipt"], before["receipt"], "{id}: the receipt acknowledged before the shutdown stands");
            }
            receipts.insert(id, ack["result"]["receipt"].clone());
        }
    }
    let mut moderator = server.connect("moderator", None).await;
    moderator.next().await;
    let closed = moderator.ok(json!({"type": "close_evaluation", "evaluation": 1})).await;
    for unit in closed["result"]["closed"]["results"]["units"].as_array().expect("units") {
        assert_eq!(unit["counts"]["total"], VOTERS, "each delegate's ballot on {} counts once: {unit}", unit["unit"]);
    }
    assert_eq!(receipts.len(), VOTERS * UNITS.len());
}

#[test]
fn settings_that_cannot_work_stop_the_start_with_every_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--ping-seconds", "30", "--max-unauthenticated", "5000"])
        .env("WENZHENG_IDLE_SECONDS", "20")
        .env("WENZHENG_ADMIN_TOKEN", "hunter2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 setting(s) cannot work; nothing was started"), "{stderr}");
    assert!(
        stderr.contains("--idle-seconds (WENZHENG_IDLE_SECONDS): is 20; it must be at least 5 and more than --ping-seconds (30)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--max-unauthenticated (WENZHENG_MAX_UNAUTHENTICATED): is 5000; it must be 1 to --max-connections (4096)"),
        "{stderr}"
    );
    assert!(stderr.contains("--admin-token (WENZHENG_ADMIN_TOKEN): is shorter than 16 characters"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the admin token is never printed: {stderr}");
    // Nothing was started: no store was created.
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "the data directory stays empty");
}

#[test]
fn an_unknown_key_deep_in_a_session_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.toml");
    std::fs::write(
        &file,
        "id = \"s1\"\ntitle = \"问政\"\n[[venues]]\nid = \"main\"\nname = \"主会场\"\nkind = \"main\"\ncapacity = 300\n\
         [[units]]\nid = \"minzheng\"\nname = \"县民政局\"\n[[topics]]\nid = \"policy\"\nname = \"养老政策\"\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let file = file.to_str().unwrap();
    let check = ["check-definition", file];
    let serve = ["serve", "--bind", "127.0.0.1:0", "--no-demo", "--data-dir", data, "--session-file", file];
    for args in [&check[..], &serve[..]] {
        let out = Command::new(BIN).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("session.toml") && stderr.contains("unknown field `capacity`"), "{args:?}: {stderr}");
    }
}
