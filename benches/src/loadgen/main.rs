//! `loadgen`: a WebSocket fan-out load generator for our server and for
//! nginx + nchan, the baseline of issue 11 (see docs/benchmarks.md,
//! "Fan-out against nginx+nchan").
//!
//! ```sh
//! cargo build --release -p wz-bench --bin loadgen
//! target/release/loadgen run --target wenzheng --addr 127.0.0.1:PORT --admin-token T \
//!     --subscribers 1000 --rates 1,5,20 --server-pid PID --out results.jsonl
//! target/release/loadgen report --results results.jsonl --out docs/benchmarks.md
//! ```
//!
//! `run` measures one server: for each rate (a step) it opens a fresh
//! channel (our server: a new session through `POST /api/sessions`, because a
//! session holds at most 200 announcements; nchan: a new channel id),
//! connects the subscribers (our public screens with the `screen`
//! credential; nchan `GET /sub?id=CH` WebSockets) over the given loopback
//! source addresses, reads the server's resident memory before and after,
//! publishes (our moderator's `announce`; nchan `POST /pub?id=CH`) messages
//! carrying a sequence number and their send time, and records per frame the
//! latency, gaps, duplicates and order, the server's CPU time and its own.
//! One JSON line per step is appended to `--out`. `report` turns the lines
//! of several runs into the Markdown section. `benches/compare` runs both.
//!
//! Everything is bounded: every phase has a time limit, and the whole run
//! `--timeout`. It runs on one thread (the generator is pinned to one core
//! and must say when that core was its limit).

#[path = "../host.rs"]
mod host;
mod http;
mod large;
mod netstat;
mod plot;
mod procstat;
mod report;
mod report_nodes;
mod step;
mod storm;
mod subs;
mod tally;
mod target;
mod wire;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "loadgen", about = "WebSocket fan-out load generator: our server against nginx+nchan (issue 11)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Measure one server: one step per rate (or a burst, or storms); one JSON line per step.
    Run(Box<RunArgs>),
    /// Render the results of several runs into the Markdown section.
    Report(report::ReportArgs),
    /// Render `benches/nodes` results (several nodes, issue 12) into their section.
    ReportNodes(report_nodes::NodesArgs),
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum TargetArg {
    Wenzheng,
    Nchan,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// One step per `--rates` entry: messages at a steady rate.
    Fanout,
    /// One step: `--bursts` bursts of `--burst` messages back to back.
    Burst,
    /// One reconnect storm per `--variants` entry.
    Storm,
    /// Idle memory after a first message of `--large-bytes` (ours: the
    /// snapshot; nchan: a buffered message).
    Large,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Reconnect afresh (our server: a snapshot).
    Full,
    /// Reconnect with the position (our server: `&epoch=E&since=N`; nchan:
    /// `&last_event_id=ID`).
    Resume,
    /// Full, each subscriber after a random delay of up to `--jitter-ms`.
    FullJitter,
    /// Resume, each subscriber after a random delay of up to `--jitter-ms`.
    ResumeJitter,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    #[arg(long, value_enum)]
    target: TargetArg,
    /// The server's address (loopback only).
    #[arg(long)]
    addr: SocketAddr,
    /// Our server's nodes the subscribers connect to, round-robin (several
    /// nodes on one Redis, issue 12); the session is created and published
    /// on `--addr`. Default: `--addr` alone.
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<SocketAddr>,
    /// Our server's `--admin-token` (sessions are created over REST).
    #[arg(long, env = "LOADGEN_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Subscribers (screens) per step.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// What to run.
    #[arg(long, value_enum, default_value = "fanout")]
    scenario: Scenario,
    /// Publish rates (messages per second), one step each (fanout).
    #[arg(long, value_delimiter = ',', default_value = "1,5,20")]
    rates: Vec<f64>,
    /// Messages per burst (burst).
    #[arg(long, default_value_t = 20)]
    burst: u64,
    /// Bursts in the step (burst); the next starts once the last is delivered.
    #[arg(long, default_value_t = 3)]
    bursts: u64,
    /// Storm variants, one storm each (storm).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "full,resume")]
    variants: Vec<Variant>,
    /// The largest random delay before a jittered reconnect (storm).
    #[arg(long, default_value_t = 1000)]
    jitter_ms: u64,
    /// Messages published before a storm (storm; our snapshot carries the last 20).
    #[arg(long, default_value_t = 20)]
    prepublish: u64,
    /// Messages published while the subscribers are away (storm).
    #[arg(long, default_value_t = 5)]
    away: u64,
    /// Bytes of the first message (large): ours, a snapshot with questions
    /// of 4,000 characters until it is this long; nchan, one message.
    #[arg(long, default_value_t = 100_000)]
    large_bytes: usize,
    /// Seconds a storm may take until every subscriber is current again.
    #[arg(long, default_value_t = 60)]
    storm_timeout: u64,
    /// Seconds of publishing per step (fewer when --max-events is reached).
    #[arg(long, default_value_t = 5.0)]
    step_seconds: f64,
    /// Messages per step at most (200: a session's announcement limit).
    #[arg(long, default_value_t = 200)]
    max_events: u64,
    /// Payload bytes per message (our announcements hold at most 200 characters).
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// Loopback source addresses, used round-robin (each has its own ephemeral ports).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<Ipv4Addr>,
    /// WebSocket handshakes in flight at most.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// The server's pids whose CPU and memory are read (nginx: its worker).
    #[arg(long, value_delimiter = ',', required = true)]
    server_pid: Vec<u32>,
    /// A label for this run (e.g. A1, B1, B2, A2), kept in every line.
    #[arg(long, default_value = "run")]
    label: String,
    /// JSON lines are appended here.
    #[arg(long)]
    out: PathBuf,
    /// Seconds to connect every subscriber of a step.
    #[arg(long, default_value_t = 120)]
    connect_timeout: u64,
    /// Seconds to wait after the last publish for every frame.
    #[arg(long, default_value_t = 10)]
    drain_timeout: u64,
    /// Milliseconds the server is left idle before memory is read.
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
    /// The whole run is aborted after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let result = match cli.cmd {
        Cmd::Run(a) => rt.block_on(run(*a)),
        Cmd::Report(a) => report::main(&a).map(|()| true),
        Cmd::ReportNodes(a) => report_nodes::main(&a).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One step of a run, as the command line asks.
enum Plan {
    Fanout(f64),
    Burst,
    Storm(Variant),
    Large,
}

/// Runs every step; Ok(false) if a step's answer was wrong.
async fn run(a: RunArgs) -> anyhow::Result<bool> {
    if !a.addr.ip().is_loopback() || a.sources.iter().any(|s| !s.is_loopback()) || a.nodes.iter().any(|n| !n.ip().is_loopback()) {
        bail!("loopback only: --addr, --nodes and --sources must be 127.x.y.z");
    }
    let nodes = if a.nodes.is_empty() { vec![a.addr] } else { a.nodes.clone() };
    if a.subscribers == 0 || a.rates.is_empty() || a.rates.iter().any(|r| *r <= 0.0) {
        bail!("--subscribers and every rate must be positive");
    }
    if a.burst == 0 || a.bursts == 0 || a.burst * a.bursts > a.max_events {
        bail!("--burst × --bursts must be between 1 and --max-events");
    }
    if a.prepublish + a.away + 1 > a.max_events {
        bail!("--prepublish + --away + 1 (the probe) must be at most --max-events");
    }
    let (kind, name) = match a.target {
        TargetArg::Wenzheng => (subs::Kind::Wenzheng, "wenzheng"),
        TargetArg::Nchan => (subs::Kind::Nchan, "nchan"),
    };
    let pids = procstat::Pids { pids: a.server_pid.clone(), clk_tck: procstat::clk_tck() };
    let mut out =
        std::fs::OpenOptions::new().create(true).append(true).open(&a.out).with_context(|| format!("opening {}", a.out.display()))?;
    let nonce = wire::now_us() % 1_000_000_000;
    let plan: Vec<Plan> = match a.scenario {
        Scenario::Fanout => a.rates.iter().map(|&r| Plan::Fanout(r)).collect(),
        Scenario::Burst => vec![Plan::Burst],
        Scenario::Storm => a.variants.iter().map(|&v| Plan::Storm(v)).collect(),
        Scenario::Large => vec![Plan::Large],
    };
    let steps = async {
        let mut all_ok = true;
        for (i, step) in plan.iter().enumerate() {
            let channel = format!("fan-{nonce}-{}-{i}", a.label.to_lowercase());
            // Moved into the one scenario this step runs.
            let setup = step::Setup {
                kind,
                server: a.addr,
                nodes: &nodes,
                admin_token: a.admin_token.as_deref(),
                sources: &a.sources,
                subscribers: a.subscribers,
                concurrency: a.concurrency,
                pids: &pids,
                channel,
                connect_guard: Duration::from_secs(a.connect_timeout),
                settle: Duration::from_millis(a.settle_ms),
            };
            let (result, fallback) = match *step {
                Plan::Large => {
                    eprintln!(
                        "loadgen: {name} {}: {} subscribers idle after a first message of {} bytes",
                        a.label, a.subscribers, a.large_bytes
                    );
                    let params = large::Params { setup, bytes: a.large_bytes };
                    let fallback = serde_json::json!({
                        "scenario": "large", "subscribers": a.subscribers,
                        "large_bytes": a.large_bytes, "ok": false,
                    });
                    (large::run(&params).await, fallback)
                }
                Plan::Storm(v) => {
                    let resume = matches!(v, Variant::Resume | Variant::ResumeJitter);
                    let jitter = if matches!(v, Variant::FullJitter | Variant::ResumeJitter) {
                        Duration::from_millis(a.jitter_ms)
                    } else {
                        Duration::ZERO
                    };
                    eprintln!(
                        "loadgen: {name} {}: storm of {} subscribers, {}, jitter {jitter:?}",
                        a.label,
                        a.subscribers,
                        if resume { "resume" } else { "full" }
                    );
                    let params = storm::Params {
                        setup,
                        resume,
                        jitter,
                        prepublish: a.prepublish,
                        away: a.away,
                        payload: a.payload,
                        storm_guard: Duration::from_secs(a.storm_timeout),
                        drain_guard: Duration::from_secs(a.drain_timeout),
                        seed: nonce ^ (i as u64).wrapping_mul(0x9E37_79B9),
                    };
                    let fallback = serde_json::json!({
                        "scenario": "storm", "variant": if resume { "resume" } else { "full" },
                        "jitter_ms": jitter.as_millis() as u64, "subscribers": a.subscribers,
                        "payload_bytes": a.payload, "ok": false,
                    });
                    (storm::run(&params).await, fallback)
                }
                Plan::Fanout(_) | Plan::Burst => {
                    let (schedule, events) = match *step {
                        Plan::Fanout(rate) => (step::Schedule::Rate(rate), ((rate * a.step_seconds).round() as u64).clamp(1, a.max_events)),
                        _ => (step::Schedule::Burst { size: a.burst, count: a.bursts }, a.burst * a.bursts),
                    };
                    eprintln!(
                        "loadgen: {name} {}: {} subscribers, {schedule:?}, {events} messages of {} bytes",
                        a.label, a.subscribers, a.payload
                    );
                    let params =
                        step::Params { setup, schedule, events, payload: a.payload, drain_guard: Duration::from_secs(a.drain_timeout) };
                    let rate = if let Plan::Fanout(r) = *step { r } else { 0.0 };
                    let mut fallback = serde_json::json!({
                        "scenario": if a.scenario == Scenario::Burst { "burst" } else { "fanout" },
                        "subscribers": a.subscribers, "payload_bytes": a.payload, "rate": rate,
                        "events": events, "ok": false,
                    });
                    if a.scenario == Scenario::Burst {
                        fallback["burst"] = a.burst.into();
                        fallback["bursts"] = a.bursts.into();
                    }
                    (step::run(&params).await, fallback)
                }
            };
            let mut line = match result {
                Ok(v) => v,
                Err(e) => {
                    let mut f = fallback;
                    f["error"] = format!("{e:#}").into();
                    f
                }
            };
            line["target"] = name.into();
            line["label"] = a.label.clone().into();
            let ok = line["ok"].as_bool().unwrap_or(false);
            eprintln!("loadgen:   {line}");
            writeln!(out, "{line}")?;
            if !ok {
                all_ok = false;
                if line.get("error").is_some() {
                    break;
                }
            }
        }
        Ok::<_, anyhow::Error>(all_ok)
    };
    tokio::time::timeout(Duration::from_secs(a.timeout), steps)
        .await
        .with_context(|| format!("the run took longer than {} s (--timeout)", a.timeout))?
}
