//! Weak networks for end-to-end tests, made on this machine only.
//!
//! [`TestNet`] creates a network namespace and a veth pair into it, with
//! addresses in 10.203.0.0/16 that exist nowhere but on that pair, and
//! removes both when dropped (also when the test panics). The host end is
//! where the server listens; clients that run [`TestNet::spawn_inside`] live
//! in the namespace, so every socket they open crosses the veth, where the
//! test can shape it: `tc tbf` for the rate, an nftables `numgen random` rule
//! for the loss (this kernel has no `netem`), and a drop-everything rule for
//! a blackout. [`phone::Phone`] is a client that reconnects and resumes the
//! way the web client does.
//!
//! Creating namespaces needs root: [`require_root`] turns that into a SKIP
//! line on a developer's machine and a failure in CI (which runs as root).

pub mod phone;

use anyhow::{Context, bail};
use std::future::Future;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// True when the test may create namespaces; prints SKIP (or panics under
/// `CI=true`) when it may not, because it is not root or a tool is missing.
pub fn require_root(test: &str) -> bool {
    let missing: Vec<&str> = ["ip", "tc", "nft"].into_iter().filter(|t| !tool_exists(t)).collect();
    let why = if !rustix::process::geteuid().is_root() {
        "needs root to create network namespaces".to_owned()
    } else if !missing.is_empty() {
        format!("missing tools: {} (scripts/setup installs them)", missing.join(", "))
    } else {
        return true;
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test} {why}; CI must run it");
    }
    println!("SKIP {test}: {why}");
    false
}

fn tool_exists(name: &str) -> bool {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].iter().any(|d| std::path::Path::new(d).join(name).exists())
}

/// Runs one command (`ip`, `tc`, `nft`), failing with its stderr.
fn run(args: &[&str], stdin: Option<&str>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut cmd = Command::new(args[0]);
    cmd.args(&args[1..]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(std::process::Stdio::piped());
    }
    let mut child = cmd.spawn().with_context(|| format!("spawning {}", args[0]))?;
    if let Some(text) = stdin {
        child.stdin.take().expect("piped").write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("`{}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A namespace with one veth pair into it; removed on drop.
pub struct TestNet {
    /// Namespace name (also under /run/netns).
    pub name: String,
    host_if: String,
    ns_if: String,
    /// The host end: bind the server here.
    pub host_ip: Ipv4Addr,
    /// The namespace end.
    pub ns_ip: Ipv4Addr,
}

impl TestNet {
    /// Creates `wz<pid>n<k>` with the pair `wz<pid>h<k>` (host) ↔ `wz<pid>p<k>`
    /// (namespace) and a /30 of 10.203.0.0/16 chosen from the pid, so runs
    /// that overlap do not collide.
    pub fn create() -> anyhow::Result<TestNet> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let block = (pid as u64 * 8 + k as u64) % (256 * 64);
        let (third, fourth) = ((block / 64) as u8, ((block % 64) * 4) as u8);
        let net = TestNet {
            name: format!("wz{pid}n{k}"),
            host_if: format!("wz{pid}h{k}"),
            ns_if: format!("wz{pid}p{k}"),
            host_ip: Ipv4Addr::new(10, 203, third, fourth + 1),
            ns_ip: Ipv4Addr::new(10, 203, third, fourth + 2),
        };
        // From here on, Drop removes whatever part of this was made.
        let (ns, h, p) = (net.name.as_str(), net.host_if.as_str(), net.ns_if.as_str());
        run(&["ip", "netns", "add", ns], None)?;
        run(&["ip", "link", "add", h, "type", "veth", "peer", "name", p, "netns", ns], None)?;
        run(&["ip", "addr", "add", &format!("{}/30", net.host_ip), "dev", h], None)?;
        run(&["ip", "link", "set", h, "up"], None)?;
        run(&["ip", "-n", ns, "addr", "add", &format!("{}/30", net.ns_ip), "dev", p], None)?;
        run(&["ip", "-n", ns, "link", "set", p, "up"], None)?;
        run(&["ip", "-n", ns, "link", "set", "lo", "up"], None)?;
        Ok(net)
    }

    /// Limits the link to `kbit` kbit/s each way (token bucket; a queue of
    /// about half a second, beyond which packets drop as on a real uplink).
    pub fn shape(&self, kbit: u32) -> anyhow::Result<()> {
        let rate = format!("{kbit}kbit");
        let tbf = ["root", "tbf", "rate", &rate, "burst", "8kb", "latency", "500ms"];
        run(&[&["tc", "qdisc", "replace", "dev", &self.host_if][..], &tbf[..]].concat(), None)?;
        run(&[&["ip", "netns", "exec", &self.name, "tc", "qdisc", "replace", "dev", &self.ns_if][..], &tbf[..]].concat(), None)
    }

    /// Drops `percent` % of the packets crossing the veth, each way, at random.
    pub fn loss(&self, percent: u8) -> anyhow::Result<()> {
        self.nft_table("wzloss", &format!("numgen random mod 100 < {percent} drop"), 0)
    }

    /// Starts (`true`) or ends a blackout: every packet on the veth dropped.
    pub fn blackout(&self, on: bool) -> anyhow::Result<()> {
        if on { self.nft_table("wzblack", "drop", -10) } else { self.nft(&["delete", "table", "inet", "wzblack"], None) }
    }

    /// An nftables table in the namespace whose `verdict` applies to every
    /// packet in and out of the veth.
    fn nft_table(&self, table: &str, verdict: &str, priority: i32) -> anyhow::Result<()> {
        let p = &self.ns_if;
        let rules = format!(
            "table inet {table} {{\n\
             chain rx {{ type filter hook input priority {priority}; policy accept; iifname \"{p}\" {verdict}; }}\n\
             chain tx {{ type filter hook output priority {priority}; policy accept; oifname \"{p}\" {verdict}; }}\n\
             }}\n"
        );
        self.nft(&["-f", "-"], Some(&rules))
    }

    fn nft(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<()> {
        run(&[&["ip", "netns", "exec", &self.name, "nft"][..], args].concat(), stdin)
    }

    /// Runs `f` on a new thread that lives in the namespace, with its own
    /// current-thread runtime, so every socket its future opens is inside.
    pub fn spawn_inside<T, F, Fut>(&self, f: F) -> Inside<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T>,
    {
        let path = format!("/run/netns/{}", self.name);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("in-{}", self.name))
            .spawn(move || {
                let ns = std::fs::File::open(&path).unwrap_or_else(|e| panic!("opening {path}: {e}"));
                rustix::thread::move_into_link_name_space(ns.as_fd(), Some(rustix::thread::LinkNameSpaceType::Network))
                    .expect("setns into the test namespace");
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                let _ = tx.send(rt.block_on(f()));
            })
            .expect("spawning the namespace thread");
        Inside { thread: Some(thread), rx }
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        // Deleting the namespace deletes its veth end and so the pair; the
        // explicit link delete covers a namespace that was never made.
        let ns = run(&["ip", "netns", "del", &self.name], None);
        let link = run(&["ip", "link", "del", &self.host_if], None);
        if let (Err(e), Err(_)) = (ns, link) {
            eprintln!("cleanup of {}: {e:#}", self.name);
        }
    }
}

/// The thread started by [`TestNet::spawn_inside`].
pub struct Inside<T> {
    thread: Option<std::thread::JoinHandle<()>>,
    rx: tokio::sync::oneshot::Receiver<T>,
}

impl<T> Inside<T> {
    /// Its result; a panic inside is re-raised here.
    pub async fn join(mut self) -> T {
        match (&mut self.rx).await {
            Ok(v) => v,
            Err(_) => {
                let thread = self.thread.take().expect("joined once");
                match tokio::task::spawn_blocking(move || thread.join()).await.expect("join task") {
                    Err(panic) => std::panic::resume_unwind(panic),
                    Ok(()) => panic!("namespace thread ended without a result"),
                }
            }
        }
    }
}
