//! The report: the machine the run was on (gathered at run time), the
//! results table, ratios and per-round figures as Markdown, written into
//! `docs/benchmarks.md` between `<!-- results:begin -->` and
//! `<!-- results:end -->` so the prose around them stays.

use crate::swarm::Measured;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub const BEGIN: &str = "<!-- results:begin -->";
pub const END: &str = "<!-- results:end -->";

/// One configuration of the matrix.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub name: &'static str,
    pub redis: bool,
    pub group_commit: bool,
}

pub const CONFIGS: [Config; 4] = [
    Config { name: "embedded-gc", redis: false, group_commit: true },
    Config { name: "embedded-nogc", redis: false, group_commit: false },
    Config { name: "redis-gc", redis: true, group_commit: true },
    Config { name: "redis-nogc", redis: true, group_commit: false },
];

impl Config {
    pub fn store(&self) -> &'static str {
        if self.redis { "Redis (AOF, appendfsync always)" } else { "embedded (redb, fsync per commit)" }
    }
    pub fn batching(&self) -> &'static str {
        if self.group_commit { "on (max 256)" } else { "off (`--max-batch 1`)" }
    }
}

/// The outcome of one configuration.
pub struct Outcome {
    pub config: Config,
    pub result: Result<Measured, String>,
    pub elapsed: Duration,
}

/// Figures derived from a [`Measured`].
pub struct Figures {
    pub rounds: usize,
    pub ballots: u64,
    pub acks_per_s: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// (appends, mean append in ms) during the rounds.
    pub appends: Option<(f64, f64)>,
    pub server_cpu: f64,
    pub redis_cpu: Option<f64>,
    pub bench_cpu: f64,
}

pub fn figures(m: &Measured) -> Figures {
    let ballots: u64 = m.rounds.iter().map(|r| r.ballots).sum();
    let wall: f64 = m.rounds.iter().map(|r| r.wall.as_secs_f64()).sum();
    let ms = |q: f64| m.latency.value_at_quantile(q) as f64 / 1000.0;
    let diff = |f: &dyn Fn(&crate::fixture::Sample) -> Option<f64>| -> Option<f64> {
        m.rounds.iter().map(|r| Some(f(&r.after)? - f(&r.before)?)).sum()
    };
    let count = diff(&|s| s.appends.map(|a| a.0));
    let sum = diff(&|s| s.appends.map(|a| a.1));
    // CPU over the rounds' windows (each includes a metrics scrape), as a
    // share of one core: 200 % is both cores of a 2-core machine.
    let share = |x: Option<f64>| x.map(|x| 100.0 * x / wall);
    Figures {
        rounds: m.rounds.len(),
        ballots,
        acks_per_s: ballots as f64 / wall,
        p50: ms(0.5),
        p90: ms(0.9),
        p99: ms(0.99),
        max: m.latency.max() as f64 / 1000.0,
        appends: count.zip(sum).filter(|(c, _)| *c > 0.0).map(|(c, s)| (c, 1000.0 * s / c)),
        server_cpu: share(diff(&|s| Some(s.server_cpu))).unwrap_or(0.0),
        redis_cpu: share(diff(&|s| s.redis_cpu)),
        bench_cpu: share(diff(&|s| Some(s.bench_cpu))).unwrap_or(0.0),
    }
}

/// Mean `wz_store_append_seconds` between two samples, in ms.
fn mean_append(a: &crate::fixture::Sample, b: &crate::fixture::Sample) -> String {
    match (a.appends, b.appends) {
        (Some((c0, s0)), Some((c1, s1))) if c1 > c0 => {
            format!("{:.2}", 1000.0 * (s1 - s0) / (c1 - c0))
        }
        _ => "n/a".into(),
    }
}

fn sh(cmd: &str) -> String {
    match Command::new("sh").arg("-c").arg(cmd).output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim_end().to_owned(),
        Err(e) => format!("({cmd}: {e})"),
    }
}

/// The machine, as the commands the doc names print it.
pub struct Machine {
    pub lines: Vec<(&'static str, String)>,
}

pub fn machine(fsync_dir: &Path, server_bin: &Path) -> Machine {
    let cpu = crate::host::cpu_model();
    Machine {
        lines: vec![
            ("`nproc`", sh("nproc")),
            ("CPU model (`/proc/cpuinfo`)", cpu),
            ("`free -h`", sh("free -h")),
            ("`df -h /work`", sh("df -h /work")),
            ("kernel (`uname -srm`)", sh("uname -srm")),
            ("`redis-server --version`", sh("redis-server --version")),
            ("`rustc --version`", sh("rustc --version")),
            ("load average before the run (`/proc/loadavg`)", sh("cat /proc/loadavg")),
            (
                "server source (`git rev-parse --short HEAD`; uncommitted changes under crates/)",
                sh("echo \"$(git rev-parse --short HEAD 2>/dev/null) \
                    $(git status --porcelain --untracked-files=no -- crates Cargo.lock 2>/dev/null | tr '\\n' ' ')\""),
            ),
            ("server binary built (mtime)", sh(&format!("date -u -r '{}' '+%Y-%m-%d %H:%M:%S UTC'", server_bin.display()))),
            ("fdatasync of a 512-byte append in the temp dir (500×)", fsync_baseline(fsync_dir)),
        ],
    }
}

/// What one `fdatasync` costs on the disk the stores write to: the floor
/// under every durable acknowledgement without group commit.
fn fsync_baseline(dir: &Path) -> String {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let run = || -> std::io::Result<String> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        let mut t: Vec<f64> = Vec::with_capacity(500);
        for _ in 0..500 {
            let s = Instant::now();
            f.write_all(&[0x5a; 512])?;
            f.sync_data()?;
            t.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        t.sort_by(f64::total_cmp);
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        Ok(format!("median {:.2} ms, mean {mean:.2} ms, p99 {:.2} ms (≈ {:.0} fsyncs/s)", t[250], t[495], 1000.0 / mean))
    };
    let out = run().unwrap_or_else(|e| format!("failed: {e}"));
    let _ = std::fs::remove_file(&path);
    out
}

/// Renders the results section (without the markers).
pub fn render(machine: &Machine, outcomes: &[Outcome], voters: usize, invocation: &str, total: Duration) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Generated by `{invocation}` on {} (the run took {:.0} s).\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        total.as_secs_f64()
    );
    let _ = writeln!(s, "**Machine.**\n");
    for (k, v) in &machine.lines {
        if v.contains('\n') {
            let _ = writeln!(s, "- {k}:\n\n  ```text\n{}\n  ```", v.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"));
        } else {
            let _ = writeln!(s, "- {k}: {v}");
        }
    }
    let _ = writeln!(s, "- load average after the run: {}", sh("cat /proc/loadavg"));
    let _ = writeln!(s, "\n**Results** ({voters} voters, 2 ballots each per round; latency is send → ack per ballot, over every round):\n");
    let _ = writeln!(
        s,
        "| configuration | store | group commit | rounds | ballots | acks/s | p50 ms | p90 ms | p99 ms | max ms | store appends | mean append ms | mean batch (ballots/append) | server CPU | redis CPU | bench CPU |"
    );
    let _ = writeln!(s, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut figs: Vec<(Config, Figures)> = Vec::new();
    for o in outcomes {
        let c = o.config;
        match &o.result {
            Ok(m) => {
                let f = figures(m);
                let (appends, mean, batch) = match f.appends {
                    Some((n, ms)) => (format!("{n:.0}"), format!("{ms:.2}"), format!("{:.1}", f.ballots as f64 / n)),
                    None => ("n/a".into(), "n/a".into(), "n/a".into()),
                };
                let redis = f.redis_cpu.map_or("–".into(), |x| format!("{x:.0} %"));
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} | {} | **{:.0}** | {:.2} | {:.2} | {:.2} | {:.2} | {appends} | {mean} | {batch} | {:.0} % | {redis} | {:.0} % |",
                    c.name,
                    c.store(),
                    c.batching(),
                    f.rounds,
                    f.ballots,
                    f.acks_per_s,
                    f.p50,
                    f.p90,
                    f.p99,
                    f.max,
                    f.server_cpu,
                    f.bench_cpu
                );
                figs.push((c, f));
            }
            Err(e) => {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | – | – | **failed** | – | – | – | – | – | – | – | – | – | – |",
                    c.name,
                    c.store(),
                    c.batching()
                );
                let _ = writeln!(s, "\n> `{}` failed: {}\n", c.name, e.replace('\n', " "));
            }
        }
    }
    let get = |redis: bool, gc: bool| figs.iter().find(|(c, _)| c.redis == redis && c.group_commit == gc).map(|(_, f)| f);
    let mut ratios = Vec::new();
    let mut ratio = |label: &str, a: Option<&Figures>, b: Option<&Figures>| {
        if let (Some(a), Some(b)) = (a, b) {
            ratios.push(format!("| {label} | {:.2}× | {:.2}× | {:.2}× |", a.acks_per_s / b.acks_per_s, a.p50 / b.p50, a.p99 / b.p99));
        }
    };
    ratio("embedded: group commit ÷ no group commit", get(false, true), get(false, false));
    ratio("Redis: group commit ÷ no group commit", get(true, true), get(true, false));
    ratio("group commit: Redis ÷ embedded", get(true, true), get(false, true));
    ratio("no group commit: Redis ÷ embedded", get(true, false), get(false, false));
    if !ratios.is_empty() {
        let _ = writeln!(
            s,
            "\n**Ratios** (same run, same machine):\n\n| comparison | acks/s | p50 latency | p99 latency |\n| --- | ---: | ---: | ---: |"
        );
        for r in ratios {
            let _ = writeln!(s, "{r}");
        }
    }
    let _ = writeln!(
        s,
        "\n**Per round and set-up** (each round: acks/s, and in brackets the mean store append in ms; check-in: N `check_in` commands \
         sent at once, one event each, with the mean append):\n"
    );
    let _ = writeln!(
        s,
        "| configuration | connect N+1 sockets | check-in | rounds: acks/s (mean append ms) | configuration wall time |\n| --- | ---: | ---: | --- | ---: |"
    );
    for o in outcomes {
        if let Ok(m) = &o.result {
            let per: Vec<String> = m
                .rounds
                .iter()
                .map(|r| format!("{:.0} ({})", r.ballots as f64 / r.wall.as_secs_f64(), mean_append(&r.before, &r.after)))
                .collect();
            let _ = writeln!(
                s,
                "| `{}` | {:.2} s | {:.2} s ({}) | {} | {:.0} s |",
                o.config.name,
                m.connect.as_secs_f64(),
                m.check_in.as_secs_f64(),
                mean_append(&m.check_in_samples.0, &m.check_in_samples.1),
                per.join(", "),
                o.elapsed.as_secs_f64()
            );
        }
    }
    s
}

/// Replaces what is between the markers in `path` (or appends a results
/// section with the markers when the file or the markers are missing).
pub fn write(path: &Path, section: &str) -> anyhow::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{BEGIN}\n{section}{}", &old[..b], &old[e..]),
        _ => format!("{old}{}## Results\n\n{BEGIN}\n{section}{END}\n", if old.is_empty() { "" } else { "\n" }),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, new)?;
    Ok(())
}
