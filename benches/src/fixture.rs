//! What one benchmark configuration runs against: the session definition
//! file, the server process (and its credential sheet), and the probes that
//! read the server's `/metrics` and the CPU time of the processes involved.
//!
//! Everything listens on 127.0.0.1 (port 0) or on a unix socket; the server is
//! killed with SIGKILL when the [`ServerProc`] is dropped.

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// The session every configuration creates.
pub const SESSION: &str = "bench";
/// The two respondent units every evaluation rates.
pub const UNITS: [&str; 2] = ["u1", "u2"];
/// Sub-venues next to the main venue (1 + 19, as in Xixia County).
const SUB_VENUES: usize = 19;
const LEVELS: [&str; 5] = ["province", "city", "county", "township", "street_deliberation"];

/// Delegate ids `d0001`…, in the order they are written to the definition.
pub fn delegate_ids(voters: usize) -> Vec<String> {
    (1..=voters).map(|i| format!("d{i:04}")).collect()
}

/// A session definition (TOML) with 1 main + 19 sub-venues, `voters`
/// delegates spread over them round-robin, 2 units and 2 topics.
pub fn session_toml(voters: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        // The swarm's delegates check themselves in (many at once).
        "id = \"{SESSION}\"\ntitle = \"Benchmark session\"\ntheme = \"bench-swarm\"\ncheck_in = \"self\"\n"
    );
    let venues: Vec<String> = std::iter::once("main".to_owned()).chain((1..=SUB_VENUES).map(|i| format!("v{i:02}"))).collect();
    for (i, v) in venues.iter().enumerate() {
        let kind = if i == 0 { "main" } else { "sub" };
        let _ = writeln!(s, "[[venues]]\nid = \"{v}\"\nname = \"Venue {v}\"\nkind = \"{kind}\"\n");
    }
    for (i, u) in UNITS.iter().enumerate() {
        let _ = writeln!(s, "[[units]]\nid = \"{u}\"\nname = \"Unit {}\"\n", i + 1);
    }
    for t in ["t1", "t2"] {
        let _ = writeln!(s, "[[topics]]\nid = \"{t}\"\nname = \"Topic {t}\"\n");
    }
    for (i, d) in delegate_ids(voters).iter().enumerate() {
        let venue = &venues[i % venues.len()];
        let level = LEVELS[i % LEVELS.len()];
        let _ = writeln!(s, "[[delegates]]\nid = \"{d}\"\nname = \"Delegate {d}\"\nlevel = \"{level}\"\nvenue = \"{venue}\"\n");
    }
    s
}

/// How the server under test is started.
pub struct ServerArgs<'a> {
    pub bin: &'a Path,
    pub data_dir: &'a Path,
    pub session_file: &'a Path,
    pub redis_url: Option<String>,
    /// `Some(1)` disables group commit; `None` keeps the server's default.
    pub max_batch: Option<usize>,
}

/// A running server process, started by the same harness as the
/// end-to-end suites (`wz_e2e::Server`); SIGKILLed on drop.
pub struct ServerProc {
    server: wz_e2e::Server,
    pub addr: String,
    pub pid: u32,
}

impl ServerProc {
    pub async fn start(a: &ServerArgs<'_>) -> anyhow::Result<Self> {
        if !a.bin.exists() {
            bail!("server binary {} not found: build it with `cargo build --release -p wz-server`", a.bin.display());
        }
        let bin = a.bin.to_str().context("the server binary's path is not UTF-8")?;
        let session_file = a.session_file.to_str().context("the session file's path is not UTF-8")?;
        let mut args = vec!["--session-file", session_file, "--no-demo"];
        args.extend(["--rate-per-second", "100000", "--rate-burst", "100000", "--outbound-queue", "65536"]);
        if let Some(url) = &a.redis_url {
            args.extend(["--redis-url", url]);
        }
        let batch = a.max_batch.map(|n| n.to_string());
        if let Some(n) = &batch {
            args.extend(["--max-batch", n]);
        }
        let server = wz_e2e::Server::start(bin, a.data_dir, &args).await?;
        if !server.addr.starts_with("127.0.0.1:") {
            bail!("the server listens on {}, not on 127.0.0.1", server.addr);
        }
        Ok(Self { addr: server.addr.clone(), pid: server.pid(), server })
    }

    /// SIGKILL and reap.
    pub async fn kill(mut self) {
        self.server.kill().await;
    }

    /// principal → token, from the credential sheet the server wrote.
    pub fn tokens(&self) -> &HashMap<String, String> {
        &self.server.tokens
    }
}

/// One reading of the counters a round is measured with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// `wz_store_append_seconds_count` / `_sum` (None if `/metrics` is unavailable).
    pub appends: Option<(f64, f64)>,
    /// CPU time (user + system, seconds) of the server, Redis and this process.
    pub server_cpu: f64,
    pub redis_cpu: Option<f64>,
    pub bench_cpu: f64,
}

/// Reads [`Sample`]s of one configuration.
pub struct Probe {
    pub addr: String,
    pub server_pid: u32,
    pub redis_pid: Option<u32>,
    pub clk_tck: f64,
}

impl Probe {
    pub async fn sample(&self) -> Sample {
        Sample {
            appends: scrape_appends(&self.addr).await.ok().flatten(),
            server_cpu: cpu_seconds(&self.server_pid.to_string(), self.clk_tck).unwrap_or(0.0),
            redis_cpu: self.redis_pid.and_then(|p| cpu_seconds(&p.to_string(), self.clk_tck)),
            bench_cpu: cpu_seconds("self", self.clk_tck).unwrap_or(0.0),
        }
    }
}

pub use crate::host::clk_tck;
use crate::host::cpu_seconds;

/// (count, sum) of the `wz_store_append_seconds` histogram, if exported.
async fn scrape_appends(addr: &str) -> anyhow::Result<Option<(f64, f64)>> {
    let body = http_get(addr, "/metrics").await?;
    let value = |name: &str| {
        body.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name || k.starts_with(&format!("{name}{{"))).then(|| v.trim().parse::<f64>().ok()).flatten()
        })
    };
    Ok(value("wz_store_append_seconds_count").zip(value("wz_store_append_seconds_sum")))
}

/// A GET to the server; returns the body of a 200 answer.
async fn http_get(addr: &str, path: &str) -> anyhow::Result<String> {
    let (status, body) = wz_e2e::http(addr, "GET", path, None, None).await?;
    if status != 200 {
        bail!("GET {path}: {status}");
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_spreads_delegates() {
        let t = session_toml(40);
        assert_eq!(t.matches("[[venues]]").count(), 20);
        assert_eq!(t.matches("[[delegates]]").count(), 40);
        assert!(t.contains("venue = \"v19\""));
        // The swarm's delegates check themselves in.
        let def = wz_protocol::definition::SessionDefinition::from_toml(&t).unwrap().into_domain().unwrap();
        assert_eq!(def.check_in, wz_domain::CheckInPolicy::SelfService);
    }
}
