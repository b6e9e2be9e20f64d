//! The reconnect storm (issue 11): N subscribers connected and settled, all
//! their connections dropped at once, and all of them reconnecting at once
//! (or each after a uniform random delay of up to `jitter`). Measures per
//! subscriber the time until it is *current* again, the failed connect
//! attempts (each retried after a short back-off), the kernel's listen-queue
//! overflows and the server's peak resident memory while it lasts.
//!
//! One storm, in order:
//!
//! 1. A fresh channel; `prepublish` messages published (our snapshot carries
//!    the last 20 announcements).
//! 2. N subscribers connect (at most `concurrency` handshakes at a time) and
//!    read what comes; every screen of ours must stand at the last message.
//!    The server's steady memory is read after the settle time.
//! 3. The drop: every socket closed at once (no close frame: the TCP
//!    connection simply ends). Then `away` messages are published, each
//!    awaited, while nobody is subscribed.
//! 4. The storm: every subscriber reconnects, from the same moment (time
//!    zero of the measure), after its jitter. *Current* is: our server, full
//!    variant: the `snapshot` (it must be at the latest seq, of the same
//!    epoch, with the last message in it); resume variant
//!    (`&epoch=E&since=N`, N the last seq the screen saw): the missed events,
//!    the last of them at the latest seq (a snapshot instead fails the run).
//!    nchan, full: the WebSocket handshake completed (nchan sends nothing on
//!    subscribe); resume (`&last_event_id=ID`, the id of the last message
//!    before the drop): the missed messages, the last of them received.
//!    A refused or reset connect, an HTTP refusal (503) or a connection
//!    closed before it was current counts as a failure and is retried after
//!    20, 40, 80, 160, then 200 ms.
//! 5. Once all are current (or `storm_guard` has passed): a probe message is
//!    published, and every subscriber must receive it once.
//!
//! `/proc/net/netstat` is read before the drop and once all are current;
//! the server's `VmRSS` is sampled every 10 ms on a thread of its own over
//! the same window.

use crate::netstat;
use crate::procstat::RssPeak;
use crate::step::Setup;
use crate::subs::{self, Failure, Kind, Position, Ws};
use crate::tally::nearest_rank;
use crate::target;
use crate::wire;
use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

/// How often the server's resident memory is sampled during the storm.
pub const RSS_EVERY: Duration = Duration::from_millis(10);

pub struct Params<'a> {
    pub setup: Setup<'a>,
    /// Reconnect with the position (resume) instead of afresh.
    pub resume: bool,
    /// Each subscriber waits a uniform random time below this first.
    pub jitter: Duration,
    /// Messages published before the subscribers connect (at least 1).
    pub prepublish: u64,
    /// Messages published after the drop, before the reconnects.
    pub away: u64,
    pub payload: usize,
    /// The longest the storm may take until every subscriber is current.
    pub storm_guard: Duration,
    pub drain_guard: Duration,
    /// Seeds the jitter.
    pub seed: u64,
}

/// A small, fast generator (SplitMix64): the jitter needs no more.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` delays, uniform in [0, max) (all zero when max is zero), in µs.
pub fn jitters(seed: u64, n: usize, max: Duration) -> Vec<Duration> {
    let mut rng = SplitMix64::new(seed);
    let max_us = max.as_micros() as f64;
    (0..n).map(|_| Duration::from_micros((rng.unit() * max_us) as u64)).collect()
}

/// The wait before attempt `attempt + 1` after `attempt` (≥ 1) failed:
/// 20 ms doubling up to 200 ms.
pub fn backoff(attempt: u32) -> Duration {
    let ms = 20u64.saturating_mul(1 << attempt.clamp(1, 8).saturating_sub(1));
    Duration::from_millis(ms.min(200))
}

/// What one reconnecting subscriber must see to be current, and after.
#[derive(Debug, Clone)]
struct Expect {
    kind: Kind,
    resume: bool,
    /// Ours: the session's epoch and the seq of the last message.
    epoch: String,
    latest_seq: u64,
    /// Payload numbers of the messages published while away.
    away_from: u64,
    away_to: u64,
    probe: u64,
}

/// Counters every reconnecting subscriber updates.
#[derive(Default)]
struct Progress {
    current: AtomicU64,
    probed: AtomicU64,
}

/// What one reconnecting subscriber went through.
#[derive(Debug, Default)]
struct Outcome {
    /// From time zero of the storm until current, µs.
    current_us: Option<u64>,
    /// From its own first attempt (after its jitter) until current, µs.
    own_us: Option<u64>,
    attempts: u32,
    /// The kind of every failed attempt.
    failures: Vec<String>,
    /// A wrong answer (fails the run).
    wrong: Option<String>,
    probe: bool,
    /// Its connection ended after it was current.
    lost: bool,
}

enum Attempt {
    /// Counted and retried.
    Failed(Failure),
    /// A wrong answer: not retried, fails the run.
    Wrong(String),
}

fn failed(kind: &str, detail: impl Into<String>) -> Attempt {
    Attempt::Failed(Failure { kind: kind.into(), detail: detail.into() })
}

/// One attempt: connect, then read until current.
async fn attempt(source: Ipv4Addr, server: SocketAddr, path: &str, e: &Expect) -> Result<Ws, Attempt> {
    let mut ws = subs::handshake(source, server, path).await.map_err(Attempt::Failed)?;
    if e.kind == Kind::Nchan && !e.resume {
        return Ok(ws);
    }
    let mut next_payload = e.away_from;
    loop {
        let t = match ws.next().await {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(f))) => {
                let code = f.as_ref().map(|f| u16::from(f.code));
                return Err(failed(&code.map_or("closed".into(), |c| format!("closed {c}")), format!("closed before current: {f:?}")));
            }
            Some(Ok(_)) => continue,
            Some(Err(err)) => {
                let kind = match &err {
                    tokio_tungstenite::tungstenite::Error::Io(io) => subs::io_kind(io),
                    _ => "reset".into(),
                };
                return Err(failed(&kind, format!("read error before current: {err}")));
            }
            None => return Err(failed("reset", "connection ended before current")),
        };
        let bytes = t.as_bytes();
        let short = || t.chars().take(160).collect::<String>();
        if e.kind == Kind::Nchan {
            // Resume: the missed messages, in order.
            match wire::parse(bytes) {
                Some((seq, _)) if seq == next_payload => {
                    if seq == e.away_to {
                        return Ok(ws);
                    }
                    next_payload += 1;
                }
                _ => {
                    return Err(Attempt::Wrong(format!("expected message {next_payload}, got {}", short())));
                }
            }
            continue;
        }
        let Some(head) = wire::head(bytes) else {
            return Err(Attempt::Wrong(format!("not a server message: {}", short())));
        };
        match (head.kind, e.resume) {
            ("snapshot", false) => {
                let marker = format!("wzb {} ", e.away_to);
                if head.seq != Some(e.latest_seq) || head.epoch != Some(e.epoch.as_str()) || !t.contains(&marker) {
                    return Err(Attempt::Wrong(format!(
                        "snapshot not at seq {} of epoch {} with message {}: {}",
                        e.latest_seq,
                        e.epoch,
                        e.away_to,
                        short()
                    )));
                }
                return Ok(ws);
            }
            ("snapshot", true) => {
                return Err(Attempt::Wrong(format!("a snapshot instead of the missed events (seq {:?})", head.seq)));
            }
            ("event", true) => {
                match wire::parse(bytes) {
                    Some((seq, _)) if seq == next_payload => next_payload += 1,
                    _ => {
                        return Err(Attempt::Wrong(format!("expected the event of message {next_payload}, got {}", short())));
                    }
                }
                if head.seq.unwrap_or(0) >= e.latest_seq {
                    if next_payload != e.away_to + 1 {
                        return Err(Attempt::Wrong(format!("at seq {} with messages up to {} only", e.latest_seq, next_payload - 1)));
                    }
                    return Ok(ws);
                }
            }
            ("stats", true) if head.seq.unwrap_or(0) >= e.latest_seq => {
                // Only right when nothing was missed.
                if next_payload != e.away_to + 1 {
                    return Err(Attempt::Wrong(format!("the resume's stats before messages {next_payload}..={}", e.away_to)));
                }
                return Ok(ws);
            }
            ("stats", _) => {}
            _ => {
                return Err(Attempt::Wrong(format!("unexpected before current: {}", short())));
            }
        }
    }
}

/// One subscriber of the storm: waits `delay`, reconnects until current
/// (or `deadline`), then reads until `stop`, looking for the probe.
#[allow(clippy::too_many_arguments)]
async fn reconnect(
    source: Ipv4Addr,
    server: SocketAddr,
    path: String,
    e: Arc<Expect>,
    t0: Instant,
    delay: Duration,
    deadline: Instant,
    progress: Arc<Progress>,
    mut stop: watch::Receiver<bool>,
) -> Outcome {
    let mut out = Outcome::default();
    tokio::time::sleep_until((t0 + delay).into()).await;
    let started = Instant::now();
    let mut ws = loop {
        out.attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = tokio::select! {
            biased;
            _ = stop.changed() => return out,
            r = tokio::time::timeout(left, attempt(source, server, &path, &e)) => match r {
                Ok(Ok(ws)) => break ws,
                Ok(Err(Attempt::Wrong(w))) => {
                    out.wrong = Some(w);
                    return out;
                }
                Ok(Err(Attempt::Failed(f))) => f.kind,
                Err(_) => {
                    out.failures.push("timeout".into());
                    return out;
                }
            }
        };
        out.failures.push(failure);
        let wait = backoff(out.attempts);
        if Instant::now() + wait >= deadline {
            return out;
        }
        tokio::time::sleep(wait).await;
    };
    out.current_us = Some(t0.elapsed().as_micros() as u64);
    out.own_us = Some(started.elapsed().as_micros() as u64);
    progress.current.fetch_add(1, Ordering::Relaxed);
    // Until stopped: the probe, once; nothing else that carries a payload.
    loop {
        let msg = tokio::select! {
            biased;
            m = ws.next() => m,
            _ = stop.changed() => break,
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                let bytes = t.as_bytes();
                if e.kind == Kind::Wenzheng && !wire::is_event(bytes) {
                    continue;
                }
                match wire::parse(bytes) {
                    Some((seq, _)) if seq == e.probe && !out.probe => {
                        out.probe = true;
                        progress.probed.fetch_add(1, Ordering::Relaxed);
                    }
                    Some((seq, _)) => {
                        out.wrong.get_or_insert(format!("after current: message {seq} (probe {}, seen {})", e.probe, out.probe));
                    }
                    None if e.kind == Kind::Nchan => {
                        out.wrong.get_or_insert("after current: a frame without a payload".into());
                    }
                    None => {}
                }
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                out.lost = true;
                break;
            }
            Some(Ok(_)) => {}
        }
    }
    out
}

/// Reads a settled subscriber's frames until `stop`; returns its socket and
/// the highest `seq` it saw (ours), or why it ended.
async fn settled(mut ws: Ws, mut position: Option<Position>, mut stop: watch::Receiver<bool>) -> Result<(Ws, Option<Position>), String> {
    loop {
        let msg = tokio::select! {
            biased;
            _ = stop.changed() => return Ok((ws, position)),
            m = ws.next() => m,
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                if let (Some(p), Some(h)) = (position.as_mut(), wire::head(t.as_bytes())) {
                    if matches!(h.kind, "event" | "stats") {
                        p.seq = p.seq.max(h.seq.unwrap_or(0));
                    }
                } else if position.is_none() {
                    return Err(format!("nchan sent a frame on subscribe: {}", t.chars().take(100).collect::<String>()));
                }
            }
            Some(Ok(Message::Close(f))) => return Err(format!("closed while settled: {f:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("read error while settled: {e}")),
            None => return Err("connection ended while settled".into()),
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Runs one storm and returns its result line (see `report.rs`).
pub async fn run(p: &Params<'_>) -> anyhow::Result<Value> {
    if p.prepublish == 0 {
        bail!("a storm publishes at least one message before it (--prepublish)");
    }
    let self_cpu = || crate::procstat::cpu_seconds("self", p.setup.pids.clk_tck).unwrap_or(0.0);
    tokio::time::sleep(p.setup.settle).await;
    let rss_before = p.setup.pids.rss_kb();
    let mut ch = target::open(p.setup.kind, p.setup.server, p.setup.admin_token, &p.setup.channel, p.payload).await?;
    let mut before = target::Published::default();
    for i in 1..=p.prepublish {
        before = ch
            .publisher
            .publish(&wire::payload(i, wire::now_us(), p.payload))
            .await
            .with_context(|| format!("publishing message {i} before the storm"))?;
    }

    // Connected and settled.
    let t = Instant::now();
    let sockets = subs::connect_all(
        std::slice::from_ref(&p.setup.server),
        &ch.sub_path,
        p.setup.sources,
        p.setup.subscribers,
        p.setup.concurrency,
        p.setup.kind,
        p.setup.connect_guard,
    )
    .await?;
    let connect_s = t.elapsed().as_secs_f64();
    let counted = ch.publisher.count_subscribers(p.setup.subscribers).await?;
    if counted as usize != p.setup.subscribers {
        bail!("the channel counts {counted} subscribers, not {}", p.setup.subscribers);
    }
    let (stop_settled, settled_rx) = watch::channel(false);
    let mut readers = JoinSet::new();
    for (ws, position) in sockets {
        readers.spawn(settled(ws, position, settled_rx.clone()));
    }
    tokio::time::sleep(p.setup.settle).await;
    let rss_steady = p.setup.pids.rss_kb();

    // The drop.
    let peak = RssPeak::start(p.setup.pids, RSS_EVERY);
    let listen0 = netstat::read();
    let (cpu0, gen0, w0) = (p.setup.pids.cpu(), self_cpu(), Instant::now());
    let _ = stop_settled.send(true);
    let mut sockets = Vec::with_capacity(p.setup.subscribers);
    while let Some(r) = readers.join_next().await {
        match r {
            Ok(Ok(s)) => sockets.push(s),
            Ok(Err(e)) => bail!("before the storm: {e}"),
            Err(e) => bail!("before the storm: a reader failed: {e}"),
        }
    }
    let latest_before = before.seq.unwrap_or(0);
    let epoch = ch.epoch.clone().unwrap_or_default();
    let mut paths = Vec::with_capacity(p.setup.subscribers);
    for (_, position) in &sockets {
        let path = match (p.setup.kind, p.resume, position) {
            (Kind::Wenzheng, _, Some(pos)) if pos.seq != latest_before || pos.epoch != epoch => {
                bail!("a screen stands at seq {} of epoch {}, not {latest_before} of {epoch}", pos.seq, pos.epoch)
            }
            (Kind::Wenzheng, true, Some(pos)) => {
                format!("{}&epoch={}&since={}", ch.sub_path, pos.epoch, pos.seq)
            }
            (Kind::Nchan, true, _) => {
                let id = before.id.as_deref().context("nchan named no message id when publishing")?;
                format!("{}&last_event_id={id}", ch.sub_path)
            }
            _ => ch.sub_path.clone(),
        };
        paths.push(path);
    }
    let t_drop = Instant::now();
    drop(sockets);

    // Away.
    let mut after = before.clone();
    for i in p.prepublish + 1..=p.prepublish + p.away {
        after = ch
            .publisher
            .publish(&wire::payload(i, wire::now_us(), p.payload))
            .await
            .with_context(|| format!("publishing message {i} while away"))?;
    }
    let away_ms = t_drop.elapsed().as_secs_f64() * 1000.0;
    let expect = Arc::new(Expect {
        kind: p.setup.kind,
        resume: p.resume,
        epoch,
        latest_seq: after.seq.unwrap_or(0),
        away_from: p.prepublish + 1,
        away_to: p.prepublish + p.away,
        probe: p.prepublish + p.away + 1,
    });
    if p.setup.kind == Kind::Nchan && p.resume && p.away == 0 {
        bail!("nchan's resume is current with the first missed message: --away must be positive");
    }

    // The storm.
    let delays = jitters(p.seed, p.setup.subscribers, p.jitter);
    let progress = Arc::new(Progress::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let t0 = Instant::now();
    let deadline = t0 + p.storm_guard;
    let mut tasks = JoinSet::new();
    for (i, (path, delay)) in paths.into_iter().zip(delays).enumerate() {
        tasks.spawn(reconnect(
            p.setup.sources[i % p.setup.sources.len()],
            p.setup.server,
            path,
            expect.clone(),
            t0,
            delay,
            deadline,
            progress.clone(),
            stop_rx.clone(),
        ));
    }
    let n = p.setup.subscribers as u64;
    while progress.current.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let storm_s = t0.elapsed().as_secs_f64();
    let (cpu1, gen1, wall) = (p.setup.pids.cpu(), self_cpu(), w0.elapsed().as_secs_f64());
    let listen = match (listen0, netstat::read()) {
        (Some(a), Some(b)) => Some(b.since(&a)),
        _ => None,
    };
    let (rss_peak, rss_samples) = peak.finish();

    // The probe.
    let current = progress.current.load(Ordering::Relaxed);
    let counted_after = ch.publisher.count_subscribers(current as usize).await?;
    let probe_at = Instant::now();
    ch.publisher.publish(&wire::payload(expect.probe, wire::now_us(), p.payload)).await.context("publishing the probe")?;
    let until = Instant::now() + p.drain_guard;
    while progress.probed.load(Ordering::Relaxed) < current && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let probe_ms = probe_at.elapsed().as_secs_f64() * 1000.0;
    let _ = stop_tx.send(true);
    let mut outcomes = Vec::with_capacity(p.setup.subscribers);
    let joined = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(r) = tasks.join_next().await {
            if let Ok(o) = r {
                outcomes.push(o);
            }
        }
    })
    .await;
    if joined.is_err() {
        tasks.abort_all();
        bail!("storm tasks did not stop within 60 s");
    }
    drop(ch);

    // Tally.
    let mut times: Vec<u64> = outcomes.iter().filter_map(|o| o.current_us).collect();
    let mut own: Vec<u64> = outcomes.iter().filter_map(|o| o.own_us).collect();
    times.sort_unstable();
    own.sort_unstable();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for f in outcomes.iter().flat_map(|o| &o.failures) {
        *failures.entry(f.clone()).or_default() += 1;
    }
    let failed_attempts: u64 = failures.values().sum();
    let retried = outcomes.iter().filter(|o| o.attempts > 1).count();
    let wrong: Vec<&String> = outcomes.iter().filter_map(|o| o.wrong.as_ref()).collect();
    let not_current = p.setup.subscribers - times.len();
    let probe_missed = outcomes.iter().filter(|o| o.current_us.is_some() && !o.probe).count();
    let lost = outcomes.iter().filter(|o| o.lost).count();
    let gen_cpu = (gen1 - gen0) / wall.max(1e-6);
    let client_limited = gen_cpu > crate::step::CLIENT_LIMITED;
    let ok = wrong.is_empty() && not_current == 0 && probe_missed == 0 && lost == 0;
    let mut line = json!({
        "scenario": "storm",
        "variant": if p.resume { "resume" } else { "full" },
        "jitter_ms": p.jitter.as_millis() as u64,
        "subscribers": p.setup.subscribers,
        "payload_bytes": p.payload,
        "prepublished": p.prepublish,
        "away": p.away,
        "latest_seq": expect.latest_seq,
        "connect_s": connect_s,
        "rss_before_kb": rss_before,
        "rss_steady_kb": rss_steady,
        "rss_peak_kb": rss_peak,
        "rss_samples": rss_samples,
        "away_ms": away_ms,
        "storm_s": storm_s,
        "current": times.len(),
        "not_current": not_current,
        "p50_ms": ms(nearest_rank(&times, 0.5)),
        "p99_ms": ms(nearest_rank(&times, 0.99)),
        "max_ms": ms(nearest_rank(&times, 1.0)),
        "own_p50_ms": ms(nearest_rank(&own, 0.5)),
        "own_p99_ms": ms(nearest_rank(&own, 0.99)),
        "own_max_ms": ms(nearest_rank(&own, 1.0)),
        "failed_attempts": failed_attempts,
        "failures": failures,
        "retried": retried,
        "server_cpu_s": cpu1 - cpu0,
        "gen_cpu": gen_cpu,
        "client_limited": client_limited,
        "probe_received": outcomes.iter().filter(|o| o.probe).count(),
        "probe_missed": probe_missed,
        "probe_ms": probe_ms,
        "lost": lost,
        "wrong": wrong.len(),
        "ok": ok,
    });
    if p.setup.kind == Kind::Nchan {
        line["nchan_counted_after"] = counted_after.into();
    }
    line["generator_port_retries"] = subs::PORT_RETRIES.load(Ordering::Relaxed).into();
    if let Some(l) = listen {
        line["listen_overflows"] = l.overflows.into();
        line["listen_drops"] = l.drops.into();
    }
    if let Some(w) = wrong.first() {
        line["wrong_sample"] = w.chars().take(300).collect::<String>().into();
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_within_bounds_and_spread() {
        let max = Duration::from_secs(1);
        let d = jitters(42, 10_000, max);
        assert_eq!(d.len(), 10_000);
        assert!(d.iter().all(|x| *x < max));
        // Uniform: roughly a tenth in each tenth of the second.
        let mut tenths = [0usize; 10];
        for x in &d {
            tenths[(x.as_micros() / 100_000) as usize] += 1;
        }
        assert!(tenths.iter().all(|&c| (800..1200).contains(&c)), "{tenths:?}");
        // The same seed gives the same delays, another seed others.
        assert_eq!(d, jitters(42, 10_000, max));
        assert_ne!(d, jitters(43, 10_000, max));
        assert!(jitters(7, 100, Duration::ZERO).iter().all(|x| x.is_zero()));
    }

    #[test]
    fn unit_interval() {
        let mut r = SplitMix64::new(0);
        for _ in 0..100_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let ms: Vec<u64> = (1..=7).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(ms, [20, 40, 80, 160, 200, 200, 200]);
        assert_eq!(backoff(0), backoff(1));
        assert_eq!(backoff(u32::MAX).as_millis(), 200);
    }
}
