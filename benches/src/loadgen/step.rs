//! One step of a run: a fresh channel, N subscribers connected, the server
//! left idle for a moment (its memory read before and after), then `events`
//! messages published, drained, and tallied. The messages go out at `rate`
//! per second (fan-out), or in bursts: `size` messages back to back, the
//! next burst once every subscriber has the last one.

use crate::procstat::{self, Pids};
use crate::subs::{self, Kind, Shared};
use crate::target;
use crate::wire;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The generator is flagged as the limit above this share of its core.
pub const CLIENT_LIMITED: f64 = 0.8;
/// A step whose p99 exceeds this (ms) counts as saturated.
pub const SATURATED_P99_MS: f64 = 1000.0;

/// How the messages of a step are published.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// One message every 1/rate s, each awaited (its ack, its 201/202).
    Rate(f64),
    /// `count` bursts of `size` messages back to back (see
    /// `Publisher::publish_burst`); a burst starts once every subscriber
    /// has every message of the one before.
    Burst { size: u64, count: u64 },
}

/// What every scenario's step is given about where it runs: the server, its
/// fresh channel, the subscribers and the limits on connecting.
pub struct Setup<'a> {
    pub kind: Kind,
    pub server: SocketAddr,
    /// Where the subscribers connect, round-robin: `server` alone, or the
    /// nodes of one cluster (issue 12; the channel is created on `server`).
    pub nodes: &'a [SocketAddr],
    pub admin_token: Option<&'a str>,
    pub sources: &'a [Ipv4Addr],
    pub subscribers: usize,
    pub concurrency: usize,
    pub pids: &'a Pids,
    pub channel: String,
    pub connect_guard: Duration,
    /// The server is left idle this long before its memory is read.
    pub settle: Duration,
}

pub struct Params<'a> {
    pub setup: Setup<'a>,
    pub schedule: Schedule,
    pub events: u64,
    pub payload: usize,
    pub drain_guard: Duration,
}

/// Runs one step and returns its result line (see `report.rs` for the fields).
pub async fn run(p: &Params<'_>) -> anyhow::Result<Value> {
    let self_cpu = || procstat::cpu_seconds("self", p.setup.pids.clk_tck).unwrap_or(0.0);
    // Let the server release the previous step's connections first.
    tokio::time::sleep(p.setup.settle).await;
    let rss_before = p.setup.pids.rss_kb();
    let mut ch = target::open(p.setup.kind, p.setup.server, p.setup.admin_token, &p.setup.channel, p.payload).await?;
    if p.setup.nodes.len() > 1 {
        subs::await_known(p.setup.nodes, &ch.sub_path, p.setup.connect_guard).await?;
    }
    let t = Instant::now();
    let sockets = subs::connect_all(
        p.setup.nodes,
        &ch.sub_path,
        p.setup.sources,
        p.setup.subscribers,
        p.setup.concurrency,
        p.setup.kind,
        p.setup.connect_guard,
    )
    .await?;
    let connect_s = t.elapsed().as_secs_f64();
    // nchan: the channel must count every subscriber before anything is published.
    let counted = ch.publisher.count_subscribers(p.setup.subscribers).await?;
    if counted as usize != p.setup.subscribers {
        bail!("the channel counts {counted} subscribers, not {}", p.setup.subscribers);
    }
    let shared = Shared::new(p.setup.kind, p.events);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for (ws, _) in sockets {
        tasks.spawn(subs::subscriber(ws, shared.clone(), stop_rx.clone()));
    }
    tokio::time::sleep(p.setup.settle).await;
    let rss_after = p.setup.pids.rss_kb();

    let (cpu0, gen0, w0) = (p.setup.pids.cpu(), self_cpu(), Instant::now());
    let each0 = p.setup.pids.cpu_each();
    let first_send = wire::now_us();
    let n = p.setup.subscribers as u64;
    // Burst steps: the time from each burst's first send until every
    // subscriber had all of it (ms).
    let mut burst_ms: Vec<f64> = Vec::new();
    // Rate steps: each publish until the server accepted it (our server:
    // the moderator's ack, while the screens are fed; nchan: the POST's
    // answer), in ms.
    let mut ack_ms: Vec<f64> = Vec::new();
    match p.schedule {
        Schedule::Rate(rate) => {
            for i in 1..=p.events {
                let due = w0 + Duration::from_secs_f64((i - 1) as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let text = wire::payload(i, wire::now_us(), p.payload);
                let sent = Instant::now();
                ch.publisher.publish(&text).await.with_context(|| format!("publishing message {i}"))?;
                ack_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                shared.published.store(i, Ordering::Relaxed);
            }
        }
        Schedule::Burst { size, count } => {
            let mut sent = 0u64;
            for b in 0..count {
                let start = Instant::now();
                let base = sent;
                // Counted as published before the first send: a subscriber
                // may have the first frames before the last is sent.
                shared.published.store(base + size, Ordering::Relaxed);
                ch.publisher
                    .publish_burst(size, |i| wire::payload(base + i + 1, wire::now_us(), p.payload))
                    .await
                    .with_context(|| format!("publishing burst {}", b + 1))?;
                sent += size;
                let until = Instant::now() + p.drain_guard;
                while shared.distinct.load(Ordering::Relaxed) < n * sent && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                if shared.distinct.load(Ordering::Relaxed) < n * sent {
                    break;
                }
                burst_ms.push(start.elapsed().as_secs_f64() * 1000.0);
                if b + 1 < count {
                    tokio::time::sleep(p.setup.settle / 2).await;
                }
            }
        }
    }
    let publish_s = w0.elapsed().as_secs_f64();
    let expected = p.setup.subscribers as u64 * p.events;
    let drain_until = Instant::now() + p.drain_guard;
    while shared.distinct.load(Ordering::Relaxed) < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = shared.distinct.load(Ordering::Relaxed) >= expected;
    let (cpu1, gen1, wall) = (p.setup.pids.cpu(), self_cpu(), w0.elapsed().as_secs_f64());
    let each: Vec<f64> = p.setup.pids.cpu_each().iter().zip(&each0).map(|(b, a)| b - a).collect();
    let _ = stop_tx.send(true);
    let joined = tokio::time::timeout(Duration::from_secs(60), async { while tasks.join_next().await.is_some() {} }).await;
    if joined.is_err() {
        bail!("subscriber tasks did not stop within 60 s");
    }
    let ch_command = ch.publisher.command();
    drop(ch);
    let t = shared.totals.lock().expect("totals");
    let window_s = (t.last_recv_us.saturating_sub(first_send) as f64 / 1e6).max(1e-6);
    let server_cpu = cpu1 - cpu0;
    let gen_cpu = (gen1 - gen0) / wall.max(1e-6);
    let rate = match p.schedule {
        Schedule::Rate(r) => r,
        Schedule::Burst { .. } => 0.0,
    };
    let achieved = if publish_s > 0.0 && p.events > 1 {
        // Messages are due at 0, 1/rate, …: n messages span n − 1 intervals.
        (p.events - 1) as f64 / publish_s
    } else {
        rate
    };
    let slow_closes = t.closed.iter().filter(|(c, _)| *c == Some(4008)).count();
    let client_limited = gen_cpu > CLIENT_LIMITED;
    let saturated = achieved < 0.9 * rate || t.ms(0.99) > SATURATED_P99_MS || slow_closes > 0 || client_limited;
    let clean = t.gaps == 0 && t.reorders == 0 && t.closed.is_empty();
    let ok = t.dups == 0 && t.strays == 0 && (clean || saturated);
    let mut codes: Vec<String> = t.closed.iter().map(|(c, why)| c.map_or_else(|| why.clone(), |c| c.to_string())).collect();
    codes.sort();
    codes.dedup();
    let mut line = json!({
        "scenario": "fanout",
        "subscribers": p.setup.subscribers,
        "payload_bytes": p.payload,
        "rate": rate,
        "events": p.events,
        "connect_s": connect_s,
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "idle_kb_per_sub": (rss_after as f64 - rss_before as f64) / p.setup.subscribers.max(1) as f64,
        "publish_s": publish_s,
        "achieved_rate": achieved,
        "window_s": window_s,
        "expected": expected,
        "frames": t.frames,
        "distinct": t.distinct,
        "gaps": t.gaps,
        "dups": t.dups,
        "reorders": t.reorders,
        "strays": t.strays,
        "closed": t.closed.len(),
        "close_codes": codes,
        "drained": drained,
        "p50_ms": t.ms(0.5),
        "p90_ms": t.ms(0.9),
        "p99_ms": t.ms(0.99),
        "max_ms": t.ms(1.0),
        "frames_per_s": t.frames as f64 / window_s,
        "server_cpu_s": server_cpu,
        "server_cpu_frac": server_cpu / wall.max(1e-6),
        "server_cpu_us_per_frame": if t.frames > 0 { server_cpu * 1e6 / t.frames as f64 } else { 0.0 },
        "gen_cpu": gen_cpu,
        "nodes": p.setup.nodes.len(),
        "server_cpu_each_s": each,
        "client_limited": client_limited,
        "saturated": saturated,
        "ok": ok,
    });
    if !ack_ms.is_empty() {
        ack_ms.sort_by(f64::total_cmp);
        let q = |f: f64| ack_ms[((ack_ms.len() - 1) as f64 * f).round() as usize];
        line["ack_p50_ms"] = q(0.5).into();
        line["ack_p99_ms"] = q(0.99).into();
        line["ack_max_ms"] = q(1.0).into();
    }
    if let Some(c) = ch_command {
        line["command"] = c.name().into();
    }
    if let Schedule::Burst { size, count } = p.schedule {
        line["scenario"] = "burst".into();
        line["burst"] = size.into();
        line["bursts"] = count.into();
        // Every burst delivered in full, and how long the slowest took.
        line["bursts_delivered"] = (burst_ms.len() as u64).into();
        line["burst_ms_max"] = burst_ms.iter().copied().fold(0.0, f64::max).into();
        line["burst_ms_median"] = crate::report::median(burst_ms.clone()).into();
    }
    Ok(line)
}
