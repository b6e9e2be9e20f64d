//! `bench-swarm`: durable ballot acknowledgements per second and
//! ballot-to-ack latency through the real WebSocket path, for the embedded
//! store and Redis (`appendfsync always`), each with and without group
//! commit, in one run so the ratios compare like with like (issue 3).
//!
//! ```sh
//! cargo build --release -p wz-server -p wz-bench && target/release/bench-swarm
//! ```
//!
//! For each configuration it writes a session definition into a temporary
//! directory, starts its own `redis-server` (Redis configurations, unix
//! socket only) and the server binary on 127.0.0.1 port 0, runs the swarm
//! (`swarm.rs`), verifies the results, kills both, and finally rewrites the
//! results section of `docs/benchmarks.md`. See that file for what is
//! measured and how.

mod client;
mod fixture;
mod host;
mod report;
mod swarm;

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use fixture::{Probe, ServerArgs, ServerProc};
use report::{CONFIGS, Config, Outcome};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "bench-swarm", about = "Durable ballot acks/s and ballot-to-ack latency over WebSocket, 4 store configurations")]
struct Args {
    /// The server binary to benchmark.
    #[arg(long, default_value = "target/release/wenzheng")]
    server_bin: PathBuf,
    /// Concurrent voters (delegate connections), each casting 2 ballots per round.
    #[arg(long, default_value_t = 1000)]
    voters: usize,
    /// Measured rounds (evaluations) per configuration.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Rounds for the configurations without group commit (default: --rounds).
    #[arg(long)]
    nogc_rounds: Option<u32>,
    /// Markdown file whose results section (between the markers) is rewritten.
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
    /// Run only these configurations (embedded-gc, embedded-nogc, redis-gc, redis-nogc).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// A configuration that has not finished after this many seconds is aborted.
    #[arg(long, default_value_t = 300)]
    config_timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-swarm: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    for name in &args.only {
        if !CONFIGS.iter().any(|c| c.name == name) {
            bail!("unknown configuration {name:?}; one of {:?}", CONFIGS.map(|c| c.name));
        }
    }
    if args.voters == 0 || args.rounds == 0 {
        bail!("--voters and --rounds must be at least 1");
    }
    let started = Instant::now();
    let scratch = tempfile::Builder::new().prefix("wz-bench-").tempdir().context("creating a temp dir")?;
    eprintln!("bench-swarm: measuring the machine (fsync baseline in {})", scratch.path().display());
    let machine = report::machine(scratch.path(), &args.server_bin);
    let mut outcomes = Vec::new();
    for config in CONFIGS.into_iter().filter(|c| args.only.is_empty() || args.only.iter().any(|o| o == c.name)) {
        let rounds = if config.group_commit { args.rounds } else { args.nogc_rounds.unwrap_or(args.rounds) };
        eprintln!(
            "bench-swarm: {} — {}, group commit {}, {} voters, {rounds} rounds",
            config.name,
            config.store(),
            config.batching(),
            args.voters
        );
        let t = Instant::now();
        let limit = Duration::from_secs(args.config_timeout);
        let result = match tokio::time::timeout(limit, one_config(&args, config, rounds)).await {
            Ok(Ok(m)) => Ok(m),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(_) => Err(format!("aborted: not finished after {} s (--config-timeout)", limit.as_secs())),
        };
        if let Err(e) = &result {
            eprintln!("bench-swarm: {} FAILED: {e}", config.name);
        }
        outcomes.push(Outcome { config, result, elapsed: t.elapsed() });
    }
    let invocation = std::iter::once("target/release/bench-swarm".to_owned()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    let section = report::render(&machine, &outcomes, args.voters, &invocation, started.elapsed());
    println!("{section}");
    report::write(&args.out, &section).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("bench-swarm: results written to {}", args.out.display());
    Ok(outcomes.iter().all(|o| o.result.is_ok()))
}

/// Starts Redis (if needed) and the server, runs the swarm, kills both.
async fn one_config(args: &Args, config: Config, rounds: u32) -> anyhow::Result<swarm::Measured> {
    let dir = tempfile::Builder::new().prefix("wz-bench-").tempdir().context("creating a temp dir")?;
    let definition = dir.path().join("session.toml");
    std::fs::write(&definition, fixture::session_toml(args.voters))?;
    let data_dir = dir.path().join("data");
    let redis = if config.redis {
        // The harness blocks while it polls the socket, and panics if Redis
        // does not start: keep both off the runtime's workers.
        let r = tokio::task::spawn_blocking(|| wz_store::testing::RedisServer::start_temp(&[]))
            .await
            .map_err(|e| anyhow!("starting redis-server failed: {e}"))?;
        Some(r)
    } else {
        None
    };
    let server = ServerProc::start(&ServerArgs {
        bin: &args.server_bin,
        data_dir: &data_dir,
        session_file: &definition,
        redis_url: redis.as_ref().map(|r| r.url()),
        max_batch: (!config.group_commit).then_some(1),
    })
    .await?;
    let probe = Probe {
        addr: server.addr.clone(),
        server_pid: server.pid,
        redis_pid: redis.as_ref().and_then(|r| r.pid()),
        clk_tck: fixture::clk_tck(),
    };
    let measured = async { swarm::run(&server.addr, server.tokens(), &fixture::delegate_ids(args.voters), rounds, &probe).await }.await;
    server.kill().await;
    if let Some(r) = redis {
        tokio::task::spawn_blocking(move || drop(r)).await.ok();
    }
    measured
}
