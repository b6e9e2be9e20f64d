//! Clients that stop reading cannot pin the server: twenty auditor sockets
//! with a tiny receive buffer that never read, during a broadcast burst. Each
//! is cut by the write deadline and sees the connection end; the server's
//! descriptors return to where they were, and a normal client keeps
//! receiving every event throughout. Its delivery p99 and the server's
//! resident memory are reported, not asserted: glibc keeps freed memory in
//! its pools, and the resume window (10,000 events) grows with every burst,
//! so RSS does not fall back to a baseline by itself.

use serde_json::json;
use std::time::{Duration, Instant};
use wz_e2e::raw::{End, RawSocket};
use wz_e2e::{Client, GUARD, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const STALLED: usize = 20;

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Polls `ok` until it holds, yielding between looks; fails after `guard`.
async fn eventually(what: &str, guard: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + guard;
    while !ok() {
        assert!(Instant::now() < deadline, "not within {guard:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A question text of 494 characters (about 1.5 KB of UTF-8).
fn long_text(i: usize) -> String {
    format!("{i:05}{}", "养老服务补贴发放进度如何？".repeat(37))
}

/// Question `i` (0-based) submitted for delegate `i / 10` (ten each).
fn submit(i: usize) -> serde_json::Value {
    json!({"type": "submit_question", "on_behalf_of": format!("d{:03}", i / 10 + 1), "topic": "policy", "unit": "minzheng", "text": long_text(i)})
}

/// An edit of question 1: an event as large as a question, while snapshots stay the same size.
fn edit(i: usize) -> serde_json::Value {
    json!({"type": "edit_question", "question": 1, "text": long_text(i)})
}

/// The moderator sends `make(i)` for each `i` in `range` (pipelined 50 at a
/// time) while `watcher` reads the resulting `kind` events. Returns each
/// command's send-to-delivery latency at the watcher.
async fn burst(
    m: &mut Client,
    watcher: &mut Client,
    range: std::ops::Range<usize>,
    make: fn(usize) -> serde_json::Value,
    kind: &str,
) -> Vec<Duration> {
    let n = range.len();
    let send = async {
        let mut sent = Vec::with_capacity(n);
        let all: Vec<usize> = range.collect();
        for chunk in all.chunks(50) {
            let mut ids = Vec::new();
            for i in chunk {
                let id = m.fresh_id();
                let cmd = make(*i);
                sent.push(Instant::now());
                m.send(&id, cmd).await;
                ids.push(id);
            }
            for id in ids {
                m.reply(&id).await.unwrap_or_else(|e| panic!("submit refused: {e}"));
            }
            m.clear();
        }
        sent
    };
    let receive = async {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let v = watcher.until(|v| v["type"] == "event" && v["kind"] == kind).await;
            got.push((v["seq"].as_u64().unwrap(), Instant::now()));
        }
        got
    };
    let (sent, got) = tokio::join!(send, receive);
    // One connection's commands get consecutive seqs: the i-th event answers the i-th command.
    assert!(got.windows(2).all(|w| w[1].0 == w[0].0 + 1), "the watcher saw every event, in order");
    got.iter().zip(sent).map(|((_, at), sent)| at.saturating_duration_since(sent)).collect()
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99).div_ceil(100).saturating_sub(1)]
}

/// Twenty fresh auditor connections (each gets a snapshot of about 1.5 MB)
/// that never read, during a burst of 2,000 edits (about 3 MB more each: well
/// past what the kernel buffers hold). Returns (RSS once they were cut, RSS
/// peak, time from the burst's start to the last cut, the normal client's latencies).
async fn stalled_round(server: &Server, m: &mut Client, normal: &mut Client, edits: std::ops::Range<usize>) -> (u64, u64, Duration, Vec<Duration>) {
    let pid = server.pid();
    let fds0 = fds(pid);
    let query = format!("token={}", server.token("auditor"));
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        stalled.push(RawSocket::connect_with(&server.addr, &query, Some(4096)).await.unwrap());
    }
    eventually("the stalled sockets are open", GUARD, || fds(pid) >= fds0 + STALLED).await;
    let started = Instant::now();
    let latencies = burst(m, normal, edits, edit, "question_edited").await;
    let mut peak = rss_kb(pid);
    // Each stalled socket is cut by the write deadline (2 s here); the guard is generous.
    eventually("every stalled socket is closed by the server", GUARD, || {
        peak = peak.max(rss_kb(pid));
        fds(pid) <= fds0
    })
    .await;
    let cut_after = started.elapsed();
    // Seen from the stalled clients once they finally read: the server ended
    // the connection (EOF or reset), nothing is left hanging.
    for s in &mut stalled {
        let end = s.end(GUARD).await;
        assert!(matches!(end, End::Eof | End::Reset));
    }
    (rss_kb(pid), peak, cut_after, latencies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_are_cut_and_release_their_memory_and_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--store", "memory", "--rate-per-second", "100000", "--rate-burst", "100000", "--write-timeout-seconds", "2"];
    let server = Server::start(BIN, dir.path(), &args).await.unwrap();
    let pid = server.pid();
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    let mut normal = server.connect("auditor", None).await;
    normal.next().await;

    let calm = burst(&mut m, &mut normal, 0..1000, submit, "question_submitted").await;
    let (fds0, rss0) = (fds(pid), rss_kb(pid));
    // Two rounds: the second shows what the first left behind.
    let (rss1, peak1, cut1, _) = stalled_round(&server, &mut m, &mut normal, 0..2000).await;
    let (rss2, peak2, cut2, loaded) = stalled_round(&server, &mut m, &mut normal, 2000..4000).await;
    assert_eq!(fds(pid), fds0, "every descriptor is released");
    // The normal client was served all along and still is.
    normal.ok(json!({"type": "ping"})).await;
    eprintln!(
        "stalled readers: {STALLED} per round cut {cut1:?} / {cut2:?} after a burst of 2,000 events began; fds {fds0} before and after; \
         RSS {rss0} kB before, round 1 peak {peak1} kB → {rss1} kB, round 2 peak {peak2} kB → {rss2} kB; \
         normal client p99 {:?} without stalled readers, {:?} with them",
        p99(calm),
        p99(loaded)
    );
}
