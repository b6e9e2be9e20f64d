//! Throw-away `redis-server` processes for tests and benchmarks (never used
//! by the server).
//!
//! Each [`RedisServer`] is a child process listening only on a unix socket in
//! a directory of its own (no TCP port, so no port races between parallel
//! tests), configured as evaluations need it: append-only file fsync'd on
//! every write, no RDB snapshots, no eviction. Tests can crash it
//! ([`RedisServer::kill`]), start it again on the same files
//! ([`RedisServer::restart`], which replays the AOF), or freeze it
//! ([`RedisServer::pause`]) to see how a store behaves during an outage.
//!
//! The binary is `redis-server` from `PATH`, or the path in the environment
//! variable `WZ_REDIS_SERVER`.
//!
//! ```no_run
//! # async fn demo() {
//! use wz_store::{RedisStore, testing::RedisServer};
//!
//! let server = RedisServer::start_temp(&[]);
//! let store = RedisStore::connect(&server.url()).await.unwrap();
//! # }
//! ```

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start (or restart, with its AOF replay) may take before the
/// harness gives up. A guard against a hang, not an expectation: Redis is
/// normally ready within tens of milliseconds.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running (or killed, or paused) `redis-server` child process.
///
/// Dropping it kills the process (SIGKILL: tests need no clean shutdown, the
/// AOF is already fsync'd) and removes its temporary directory, if it owns one.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    socket: PathBuf,
    args: Vec<String>,
    /// Kept for its Drop, when the server was started with [`Self::start_temp`].
    _temp: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// Starts `redis-server` with its socket, AOF and log in `dir`, and waits
    /// until it answers PING.
    ///
    /// The command line is `--port 0 --unixsocket <dir>/redis.sock
    /// --unixsocketperm 700 --dir <dir> --save "" --appendonly yes
    /// --appendfsync always --maxmemory-policy noeviction`, then `extra_args`
    /// (later arguments override earlier ones, e.g. `["--appendfsync",
    /// "everysec"]`).
    ///
    /// Panics (this is test code) if the server does not start; the panic
    /// message carries the end of its log.
    pub fn start(dir: &Path, extra_args: &[&str]) -> Self {
        let mut args = Vec::new();
        args.extend(
            ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"].map(str::to_owned),
        );
        args.extend(extra_args.iter().map(|a| (*a).to_owned()));
        Self::launch(dir, None, args)
    }

    /// Starts `redis-server <config>` with only where it listens and keeps its
    /// files overridden (`--port 0 --unixsocket <dir>/redis.sock
    /// --unixsocketperm 700 --dir <dir> --daemonize no --logfile ""`), then
    /// `extra_args`: every other setting is the file's own. For checking a
    /// shipped configuration.
    pub fn start_with_config(dir: &Path, config: &Path, extra_args: &[&str]) -> Self {
        let config = config.to_str().expect("config path must be UTF-8").to_owned();
        let args = extra_args.iter().map(|a| (*a).to_owned()).collect();
        Self::launch(dir, Some(config), args)
    }

    fn launch(dir: &Path, config: Option<String>, settings: Vec<String>) -> Self {
        let socket = dir.join("redis.sock");
        // sun_path is 108 bytes; longer paths fail with a puzzling error.
        assert!(socket.as_os_str().len() < 100, "socket path {} is too long for a unix socket; use a shorter dir", socket.display());
        let dir_str = dir.to_str().expect("test dir path must be UTF-8");
        let socket_str = socket.to_str().expect("socket path must be UTF-8");
        // A config file must come first; command-line settings after it win.
        let mut args: Vec<String> = config.into_iter().collect();
        args.extend(
            ["--port", "0", "--unixsocket", socket_str, "--unixsocketperm", "700", "--dir", dir_str, "--daemonize", "no", "--logfile", ""]
                .map(str::to_owned),
        );
        args.extend(settings);
        let mut server = Self { child: None, dir: dir.to_owned(), socket, args, _temp: None };
        server.spawn();
        server
    }

    /// [`Self::start`] in a fresh temporary directory owned by the server
    /// (removed on drop).
    pub fn start_temp(extra_args: &[&str]) -> Self {
        // Under /tmp rather than $TMPDIR: a short path keeps the socket
        // within the unix socket path limit.
        let temp = tempfile::Builder::new().prefix("wz-redis-").tempdir_in("/tmp").expect("create temp dir for redis-server");
        let mut server = Self::start(temp.path(), extra_args);
        server._temp = Some(temp);
        server
    }

    /// `redis+unix://` URL of the server's socket.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// The server's data directory (AOF, log, socket).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Process id of the running server, if it is running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Crashes the server: SIGKILL, no shutdown, no final fsync. It can be
    /// started again on the same files with [`Self::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine; SIGKILL also ends a stopped process.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Shuts the server down (same as [`Self::kill`]: with `appendfsync
    /// always` every acknowledged write is already on disk).
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Kills the server if it runs, then starts it again with the same
    /// directory and arguments, so it replays its AOF; waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing is
    /// answered, as with a hung or swapped-out server.
    pub fn pause(&mut self) {
        self.signal("-STOP");
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&mut self) {
        self.signal("-CONT");
    }

    /// Changes a setting of the running server (`CONFIG SET name value`), as
    /// an operator could at run time; panics unless Redis answers `OK`.
    pub fn config_set(&self, name: &str, value: &str) {
        let mut stream = UnixStream::connect(&self.socket).expect("connect to redis-server");
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("set read timeout");
        let args = ["CONFIG", "SET", name, value];
        let mut cmd = format!("*{}\r\n", args.len());
        for a in args {
            cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        stream.write_all(cmd.as_bytes()).expect("send CONFIG SET");
        let mut reply = [0u8; 256];
        let n = stream.read(&mut reply).expect("read CONFIG SET reply");
        let reply = String::from_utf8_lossy(&reply[..n]);
        assert!(reply.starts_with("+OK"), "CONFIG SET {name} {value}: {reply}");
    }

    fn signal(&self, sig: &str) {
        let pid = self.pid().expect("redis-server is not running");
        let status = Command::new("kill").arg(sig).arg(pid.to_string()).status().expect("run kill(1)");
        assert!(status.success(), "kill {sig} {pid} failed: {status}");
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("redis.log")
    }

    fn spawn(&mut self) {
        let bin = std::env::var_os("WZ_REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        let log = OpenOptions::new().create(true).append(true).open(self.log_path()).expect("open redis.log");
        let child = Command::new(&bin)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} (install redis-server, or set WZ_REDIS_SERVER): {e}", bin.to_string_lossy()));
        self.child = Some(child);
        self.wait_ready();
    }

    /// Polls the socket with a short backoff until PING gets PONG (not
    /// `-LOADING` while an AOF is replayed), or panics after [`READY_WITHIN`].
    fn wait_ready(&mut self) {
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            if self.answers_ping() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("try_wait redis-server")) {
                self.child = None;
                panic!("redis-server exited with {status} before it was ready; args {:?}; log:\n{}", self.args, self.log_tail());
            }
            if started.elapsed() > READY_WITHIN {
                self.kill();
                panic!("redis-server did not answer PING on {} within {READY_WITHIN:?}; log:\n{}", self.socket.display(), self.log_tail());
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(&self.socket) else {
            return false;
        };
        let timeout = Some(Duration::from_millis(500));
        if s.set_read_timeout(timeout).is_err() || s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(self.log_path()) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
