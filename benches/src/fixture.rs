//! What one benchmark configuration runs against: the session definition
//! file, the server process (and its credential sheet), and the probes that
//! read the server's `/metrics` and the CPU time of the processes involved.
//!
//! Everything listens on 127.0.0.1 (port 0) or on a unix socket; the server is
//! killed with SIGKILL when the [`ServerProc`] is dropped.

use anyhow::{Context, anyhow, bail};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

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

/// A running server process; SIGKILLed on drop.
pub struct ServerProc {
    child: Child,
    pub addr: String,
    pub pid: u32,
}

impl ServerProc {
    pub async fn start(a: &ServerArgs<'_>) -> anyhow::Result<Self> {
        if !a.bin.exists() {
            bail!("server binary {} not found: build it with `cargo build --release -p wz-server`", a.bin.display());
        }
        let mut cmd = Command::new(a.bin);
        cmd.arg("serve").args(["--bind", "127.0.0.1:0", "--data-dir"]).arg(a.data_dir).arg("--session-file").arg(a.session_file).args([
            "--no-demo",
            "--rate-per-second",
            "100000",
            "--rate-burst",
            "100000",
            "--outbound-queue",
            "65536",
        ]);
        if let Some(url) = &a.redis_url {
            cmd.args(["--redis-url", url]);
        }
        if let Some(n) = a.max_batch {
            cmd.args(["--max-batch", &n.to_string()]);
        }
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", a.bin.display()))?;
        let pid = child.id().ok_or_else(|| anyhow!("server exited at once"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    return Ok::<_, anyhow::Error>(rest.trim().to_owned());
                }
            }
            bail!("the server exited before it was listening (see its log above)")
        })
        .await
        .context("the server did not print `listening on http://…` within 60 s")??;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if !addr.starts_with("127.0.0.1:") {
            bail!("the server listens on {addr}, not on 127.0.0.1");
        }
        Ok(Self { child, addr, pid })
    }

    /// SIGKILL and reap.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Reads `<data-dir>/credentials/<session>.csv` (UTF-8 BOM; columns
/// principal,name,token,link): principal → token.
pub fn read_tokens(data_dir: &Path, session: &str) -> anyhow::Result<HashMap<String, String>> {
    let path: PathBuf = data_dir.join("credentials").join(format!("{session}.csv"));
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8(bytes).context("credential sheet is not UTF-8")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rows = text.lines().filter(|l| !l.trim().is_empty()).map(csv_fields);
    let header = rows.next().ok_or_else(|| anyhow!("{} is empty", path.display()))?;
    let col = |name: &str| header.iter().position(|h| h.trim() == name).ok_or_else(|| anyhow!("{} has no column {name}", path.display()));
    let (p, t) = (col("principal")?, col("token")?);
    let mut out = HashMap::new();
    for r in rows {
        if let (Some(k), Some(v)) = (r.get(p), r.get(t)) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(out)
}

/// Splits one CSV line (RFC 4180 quoting; no quoted newlines in the sheet).
fn csv_fields(line: &str) -> Vec<String> {
    let line = line.trim_end_matches('\r');
    let (mut out, mut cur, mut quoted, mut chars) = (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
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

/// A plain HTTP/1.1 GET to 127.0.0.1; returns the body of a 200 answer.
async fn http_get(addr: &str, path: &str) -> anyhow::Result<String> {
    let io = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), io).await.context("GET timed out")??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or(""));
    }
    Ok(if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes() {
        assert_eq!(csv_fields("a,\"b, c\",\"d\"\"e\",f\r"), ["a", "b, c", "d\"e", "f"]);
    }

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
