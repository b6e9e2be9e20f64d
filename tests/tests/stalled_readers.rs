//! Clients that stop reading cannot pin the server: twenty auditor sockets
//! with a tiny receive buffer that never read, during a broadcast burst. Each
//! is cut by the write deadline and sees the connection end; the server's
//! descriptors return to where they were, and a normal client keeps
//! receiving every event throughout.
//!
//! Memory: a control burst without stalled readers first measures what 2,000
//! events legitimately add (the memory store's log, the acknowledged command
//! ids; the resume window is kept full at 500 events). After each stalled
//! round the server's live heap (jemalloc's `allocated`, from `/metrics`) may
//! grow by no more than the control burst did, plus a little: a stalled
//! reader's snapshot and queue (about 4.5 MB each) must be gone. And resident
//! memory must fall back, within [`SETTLE`], to where it was before the round
//! plus what the heap legitimately grew, within [`RSS_SLACK`]: freed memory
//! goes back to the system (jemalloc purges unused pages after 10 s).
use serde_json::json;
use std::time::{Duration, Instant};
use wz_e2e::raw::{End, RawSocket};
use wz_e2e::{Client, GUARD, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const STALLED: usize = 20;
/// How long resident memory may take to fall back after the readers are cut:
/// jemalloc's purge delay (10 s) with room for a loaded machine.
const SETTLE: Duration = Duration::from_secs(60);
/// Resident memory may stay this much above (before + live heap growth).
const RSS_SLACK: f64 = 0.10;
/// Live heap a stalled round may add beyond the control burst's growth:
/// a quarter of it, plus 2 MB (one leaked snapshot per reader would be 30 MB).
const HEAP_SLACK_RATIO: f64 = 0.25;
const HEAP_SLACK_BYTES: u64 = 2 << 20;

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

/// The server's live heap in bytes (`wz_heap_allocated_bytes`), once the
/// scrape's own connection is closed again (so descriptor counts stay exact).
async fn heap_allocated(server: &Server) -> u64 {
    let pid = server.pid();
    let before = fds(pid);
    let (status, body) = server.http("GET", "/metrics", None, None).await;
    assert_eq!(status, 200, "{body}");
    let bytes = body
        .lines()
        .find_map(|l| l.strip_prefix("wz_heap_allocated_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("/metrics exports wz_heap_allocated_bytes");
    eventually("the scrape's connection is closed", GUARD, || fds(pid) <= before).await;
    bytes as u64
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

/// Memory before a round, as (live heap bytes, resident kB).
#[derive(Clone, Copy, Debug)]
struct Mem {
    heap: u64,
    rss_kb: u64,
}

async fn mem(server: &Server) -> Mem {
    let heap = heap_allocated(server).await;
    Mem { heap, rss_kb: rss_kb(server.pid()) }
}

/// What one round left behind once it settled.
struct Round {
    peak_kb: u64,
    cut_after: Duration,
    /// Resident memory once it fell back, and how long that took.
    settled_kb: u64,
    settled_after: Duration,
    heap_growth: u64,
    latencies: Vec<Duration>,
}

/// Twenty fresh auditor connections (each gets a snapshot of about 1.5 MB)
/// that never read, during a burst of 2,000 edits (about 3 MB more each: well
/// past what the kernel buffers hold). Once they are cut, checks that the
/// live heap grew no more than `allowed` bytes and waits (up to [`SETTLE`])
/// for resident memory to fall back to `before` plus that growth.
async fn stalled_round(
    server: &Server,
    m: &mut Client,
    normal: &mut Client,
    edits: std::ops::Range<usize>,
    before: Mem,
    allowed: u64,
) -> Round {
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
    let mut peak_kb = rss_kb(pid);
    // Each stalled socket is cut by the write deadline (2 s here); the guard is generous.
    eventually("every stalled socket is closed by the server", GUARD, || {
        peak_kb = peak_kb.max(rss_kb(pid));
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
    drop(stalled);
    let heap_growth = heap_allocated(server).await.saturating_sub(before.heap);
    assert!(
        heap_growth <= allowed,
        "the live heap grew {heap_growth} bytes in a round with stalled readers, more than the {allowed} bytes its events explain: the cut readers left memory behind"
    );
    let limit_kb = ((before.rss_kb + heap_growth / 1024) as f64 * (1.0 + RSS_SLACK)) as u64;
    let cut = Instant::now();
    eventually(
        &format!("resident memory falls back to {limit_kb} kB (before {} kB, live heap +{} kB)", before.rss_kb, heap_growth / 1024),
        SETTLE,
        || rss_kb(pid) <= limit_kb,
    )
    .await;
    Round { peak_kb, cut_after, settled_kb: rss_kb(pid), settled_after: cut.elapsed(), heap_growth, latencies }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_are_cut_and_release_their_memory_and_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    // A resume window of 500 events is full after the first 1,000 questions,
    // so it does not grow during the rounds.
    let args = [
        "--store",
        "memory",
        "--resume-window",
        "500",
        "--rate-per-second",
        "100000",
        "--rate-burst",
        "100000",
        "--write-timeout-seconds",
        "2",
    ];
    let server = Server::start(BIN, dir.path(), &args).await.unwrap();
    let pid = server.pid();
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    let mut normal = server.connect("auditor", None).await;
    normal.next().await;

    burst(&mut m, &mut normal, 0..1000, submit, "question_submitted").await;
    let fds0 = fds(pid);
    // The control: 2,000 edits with no stalled reader. What they add to the
    // live heap is what the events themselves cost.
    let m0 = mem(&server).await;
    let calm = burst(&mut m, &mut normal, 0..2000, edit, "question_edited").await;
    let m1 = mem(&server).await;
    let control = m1.heap.saturating_sub(m0.heap);
    let allowed = control + (control as f64 * HEAP_SLACK_RATIO) as u64 + HEAP_SLACK_BYTES;
    // Two rounds: the second shows that the first left nothing behind.
    let r1 = stalled_round(&server, &mut m, &mut normal, 2000..4000, m1, allowed).await;
    let m2 = mem(&server).await;
    let r2 = stalled_round(&server, &mut m, &mut normal, 4000..6000, m2, allowed).await;
    assert_eq!(fds(pid), fds0, "every descriptor is released");
    // The normal client was served all along and still is.
    normal.ok(json!({"type": "ping"})).await;
    eprintln!(
        "stalled readers: {STALLED} per round cut {:?} / {:?} after a burst of 2,000 events began; fds {fds0} before and after; \
         control burst: live heap +{} kB, RSS {} → {} kB; \
         round 1: RSS {} → peak {} → {} kB after {:?}, live heap +{} kB; \
         round 2: RSS {} → peak {} → {} kB after {:?}, live heap +{} kB; \
         the normal client's delivery p99 over a burst of 2,000 edits: {:?} without stalled readers, {:?} / {:?} with them",
        r1.cut_after,
        r2.cut_after,
        control / 1024,
        m0.rss_kb,
        m1.rss_kb,
        m1.rss_kb,
        r1.peak_kb,
        r1.settled_kb,
        r1.settled_after,
        r1.heap_growth / 1024,
        m2.rss_kb,
        r2.peak_kb,
        r2.settled_kb,
        r2.settled_after,
        r2.heap_growth / 1024,
        p99(calm),
        p99(r1.latencies),
        p99(r2.latencies)
    );
}
