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
mod procstat;
mod report;
mod step;
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
#[command(
    name = "loadgen",
    about = "WebSocket fan-out load generator: our server against nginx+nchan (issue 11)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Measure one server: one step per rate; one JSON line per step.
    Run(RunArgs),
    /// Render the results of several runs into the Markdown section.
    Report(report::ReportArgs),
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum TargetArg {
    Wenzheng,
    Nchan,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    #[arg(long, value_enum)]
    target: TargetArg,
    /// The server's address (loopback only).
    #[arg(long)]
    addr: SocketAddr,
    /// Our server's `--admin-token` (sessions are created over REST).
    #[arg(long, env = "LOADGEN_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Subscribers (screens) per step.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Publish rates (messages per second), one step each.
    #[arg(long, value_delimiter = ',', default_value = "1,5,20")]
    rates: Vec<f64>,
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match cli.cmd {
        Cmd::Run(a) => rt.block_on(run(a)),
        Cmd::Report(a) => report::main(&a).map(|()| true),
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

/// Runs every step; Ok(false) if a step's answer was wrong.
async fn run(a: RunArgs) -> anyhow::Result<bool> {
    if !a.addr.ip().is_loopback() || a.sources.iter().any(|s| !s.is_loopback()) {
        bail!("loopback only: --addr and --sources must be 127.x.y.z");
    }
    if a.subscribers == 0 || a.rates.is_empty() || a.rates.iter().any(|r| *r <= 0.0) {
        bail!("--subscribers and every rate must be positive");
    }
    let (kind, name) = match a.target {
        TargetArg::Wenzheng => (subs::Kind::Wenzheng, "wenzheng"),
        TargetArg::Nchan => (subs::Kind::Nchan, "nchan"),
    };
    let pids = procstat::Pids {
        pids: a.server_pid.clone(),
        clk_tck: procstat::clk_tck(),
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.out)
        .with_context(|| format!("opening {}", a.out.display()))?;
    let nonce = wire::now_us() % 1_000_000_000;
    let steps = async {
        let mut all_ok = true;
        for (i, &rate) in a.rates.iter().enumerate() {
            let events = ((rate * a.step_seconds).round() as u64).clamp(1, a.max_events);
            eprintln!(
                "loadgen: {name} {}: {} subscribers, {rate}/s, {events} messages of {} bytes",
                a.label, a.subscribers, a.payload
            );
            let params = step::Params {
                kind,
                server: a.addr,
                admin_token: a.admin_token.as_deref(),
                sources: &a.sources,
                subscribers: a.subscribers,
                rate,
                events,
                payload: a.payload,
                concurrency: a.concurrency,
                pids: &pids,
                channel: format!("fan-{nonce}-{}-{i}", a.label.to_lowercase()),
                connect_guard: Duration::from_secs(a.connect_timeout),
                drain_guard: Duration::from_secs(a.drain_timeout),
                settle: Duration::from_millis(a.settle_ms),
            };
            let mut line = match step::run(&params).await {
                Ok(v) => v,
                Err(e) => serde_json::json!({
                    "subscribers": a.subscribers, "payload_bytes": a.payload, "rate": rate,
                    "events": events, "ok": false, "error": format!("{e:#}"),
                }),
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
