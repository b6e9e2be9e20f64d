//! Helpers for end-to-end tests: a real server process and real WebSocket clients.
//!
//! [`Server`] spawns the server binary on port 0 with its own data directory,
//! reads the address from its banner and the demo credentials from the sheet
//! it writes. [`Client`] reads its socket in a background task into a local
//! queue, so the server never sees a slow reader, and the test awaits the
//! messages it expects (with a timeout that only guards against hangs).

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub mod net;
pub mod raw;

/// How long any single expected message may take before the test fails.
pub const GUARD: Duration = Duration::from_secs(30);

/// [`GUARD`], or `WZ_E2E_GUARD_SECONDS` when set: a long soak on a shared,
/// overloaded machine may raise the hang guard (a wait that succeeds is
/// never shortened or lengthened by it).
pub fn guard() -> Duration {
    std::env::var("WZ_E2E_GUARD_SECONDS").ok().and_then(|v| v.parse().ok()).map_or(GUARD, Duration::from_secs)
}

pub struct Server {
    child: Child,
    pub addr: String,
    pub data_dir: PathBuf,
    /// principal key (e.g. `delegate:d001`) → token
    pub tokens: HashMap<String, String>,
    /// Where this server's stdout and stderr went, when they were captured.
    pub logs: Vec<PathBuf>,
    stdout_drain: tokio::task::JoinHandle<()>,
}

/// Captures a server's stdout and stderr into files, so a test can read every
/// byte it logged (see [`assert_logs_free_of`]).
#[derive(Clone, Debug)]
pub struct LogCapture {
    /// Directory for `<name>.stdout` and `<name>.stderr`.
    pub dir: PathBuf,
    /// File name stem, unique per server started into `dir`.
    pub name: String,
    /// `RUST_LOG` for the server.
    pub rust_log: String,
}

impl LogCapture {
    /// The capture `WZ_E2E_LOG_DIR` asks for (any suite, e.g.
    /// `WZ_E2E_LOG_DIR=/tmp/wz-logs cargo test -p wz-e2e --test session`),
    /// at `WZ_E2E_RUST_LOG` (default `debug`).
    pub fn from_env() -> Option<LogCapture> {
        static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = PathBuf::from(std::env::var_os("WZ_E2E_LOG_DIR")?);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("server-{}-{n}", std::process::id());
        let rust_log = std::env::var("WZ_E2E_RUST_LOG").unwrap_or_else(|_| "debug".into());
        Some(LogCapture { dir, name, rust_log })
    }
}

impl Server {
    /// Starts the server binary on `data_dir` (seeding the demo when empty).
    /// Its output is captured when `WZ_E2E_LOG_DIR` is set.
    pub async fn start(bin: &str, data_dir: &Path, extra: &[&str]) -> anyhow::Result<Server> {
        Self::start_logged(bin, data_dir, extra, LogCapture::from_env()).await
    }

    /// Like [`Server::start`], with stdout and stderr written to files when
    /// `capture` is given (stderr is inherited otherwise).
    pub async fn start_logged(bin: &str, data_dir: &Path, extra: &[&str], capture: Option<LogCapture>) -> anyhow::Result<Server> {
        Self::start_with(bin, data_dir, extra, &[], capture).await
    }

    /// Like [`Server::start_logged`], with extra environment variables for the server.
    pub async fn start_with(
        bin: &str,
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        capture: Option<LogCapture>,
    ) -> anyhow::Result<Server> {
        Self::start_full(bin, "127.0.0.1:0", data_dir, extra, env, capture).await
    }

    /// Like [`start`](Self::start), bound to `bind` (a test network's host address).
    pub async fn start_on(bin: &str, bind: &str, data_dir: &Path, extra: &[&str]) -> anyhow::Result<Server> {
        Self::start_full(bin, bind, data_dir, extra, &[], LogCapture::from_env()).await
    }

    async fn start_full(
        bin: &str,
        bind: &str,
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        capture: Option<LogCapture>,
    ) -> anyhow::Result<Server> {
        let mut cmd = Command::new(bin);
        cmd.arg("serve").args(["--bind", bind, "--data-dir"]).arg(data_dir);
        // The suites drive delegates' own check-ins over their sockets (the
        // phones' command path, on good and bad networks): the demo they seed
        // lets delegates check themselves in (issue 10: its own default is
        // `confirmed`). A session already stored keeps its policy.
        cmd.args(["--demo-check-in", "self"]);
        cmd.args(extra).stdout(Stdio::piped()).kill_on_drop(true);
        cmd.envs(env.iter().copied());
        let mut logs = Vec::new();
        let mut stdout_file = None;
        match &capture {
            Some(c) => {
                std::fs::create_dir_all(&c.dir).context("creating the log directory")?;
                let out = c.dir.join(format!("{}.stdout", c.name));
                let err = c.dir.join(format!("{}.stderr", c.name));
                stdout_file = Some(tokio::fs::File::create(&out).await.context("creating the stdout log")?);
                cmd.env("RUST_LOG", &c.rust_log).stderr(Stdio::from(std::fs::File::create(&err).context("creating the stderr log")?));
                logs.push(out);
                logs.push(err);
            }
            None => {
                cmd.env("RUST_LOG", "warn").stderr(Stdio::inherit());
            }
        }
        let mut child = cmd.spawn().context("spawning the server")?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(GUARD, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(f) = stdout_file.as_mut() {
                    f.write_all(format!("{line}\n").as_bytes()).await?;
                }
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    return Ok::<_, anyhow::Error>(rest.trim().to_owned());
                }
            }
            bail!("server exited before listening")
        })
        .await
        .context("server start timed out")??;
        // Keep draining stdout (into its log) so the server never blocks on a full pipe.
        let stdout_drain = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(f) = stdout_file.as_mut() {
                    let _ = f.write_all(format!("{line}\n").as_bytes()).await;
                    let _ = f.flush().await;
                }
            }
        });
        let tokens = read_tokens(data_dir).unwrap_or_default();
        Ok(Server { child, addr, data_dir: data_dir.to_owned(), tokens, logs, stdout_drain })
    }

    /// The server's process id (for reading /proc/<pid>).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    pub fn token(&self, key: &str) -> String {
        self.tokens.get(key).unwrap_or_else(|| panic!("no credential {key}")).clone()
    }

    /// The short join code the sheet prints for `key` (its last row).
    pub fn code(&self, key: &str) -> String {
        let bytes = std::fs::read(self.data_dir.join("credentials").join("xixia-2026.csv")).expect("the demo's sheet");
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes).to_vec();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(bytes.as_slice()).records().map(|r| r.expect("a sheet row")).collect();
        rows.iter().rev().find(|r| &r[0] == key).and_then(|r| r.get(6)).unwrap_or_else(|| panic!("no code for {key}")).to_owned()
    }

    /// kill -9: no shutdown hook runs.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill");
        // The pipe is closed now: the drain reads to its end and writes the rest of the log.
        let _ = tokio::time::timeout(GUARD, &mut self.stdout_drain).await;
    }

    /// SIGTERM, then waits for the process to exit (graceful shutdown).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill -TERM");
        assert!(status.success(), "kill -TERM failed");
        let exit = tokio::time::timeout(GUARD, self.child.wait()).await.expect("graceful shutdown timed out").expect("wait");
        let _ = tokio::time::timeout(GUARD, &mut self.stdout_drain).await;
        exit
    }

    pub async fn connect(&self, key: &str, since: Option<u64>) -> Client {
        Client::connect(&self.addr, &self.token(key), since).await.unwrap_or_else(|e| panic!("connect {key}: {e:#}"))
    }

    /// Connects with `key`'s credential and `extra` appended to the query
    /// verbatim (e.g. `&epoch=…&since=3`).
    pub async fn connect_query(&self, key: &str, extra: &str) -> Client {
        Client::connect_query(&self.addr, &format!("token={}{extra}", self.token(key)))
            .await
            .unwrap_or_else(|e| panic!("connect {key}: {e:#}"))
    }

    /// A plain HTTP/1.1 request; returns (status, body).
    pub async fn http(&self, method: &str, path: &str, bearer: Option<&str>, body: Option<(&str, &[u8])>) -> (u16, String) {
        http(&self.addr, method, path, bearer, body).await.expect("http request")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stdout_drain.abort();
    }
}

/// Every token ever written to the data directory's credential sheets,
/// including the ones a reissue replaced.
pub fn all_sheet_tokens(data_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(data_dir.join("credentials"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes).to_vec();
        for rec in csv::Reader::from_reader(bytes.as_slice()).records() {
            let rec = rec?;
            out.push(rec[2].to_owned());
            // The short join code (issue 10), as printed and without its dash.
            if let Some(code) = rec.get(6).filter(|c| !c.is_empty()) {
                out.push(code.to_owned());
                out.push(code.replace('-', ""));
            }
        }
    }
    Ok(out)
}

/// Fails when any of `secrets` occurs anywhere in any of `files` (every byte
/// is searched, whatever the log format). Returns the bytes searched.
pub fn assert_logs_free_of(files: &[PathBuf], secrets: &[String]) -> usize {
    let mut searched = 0;
    for f in files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
        searched += bytes.len();
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            let found = bytes.windows(s.len()).position(|w| w == s.as_bytes());
            if let Some(at) = found {
                // Show what precedes it, never the secret itself.
                let context = String::from_utf8_lossy(&bytes[at.saturating_sub(160)..at]).into_owned();
                panic!("{} contains a secret ({} bytes) at byte {at}, after: …{context}", f.display(), s.len());
            }
        }
    }
    searched
}

/// Reads the credential sheet the server wrote at creation.
pub fn read_tokens(data_dir: &Path) -> anyhow::Result<HashMap<String, String>> {
    let dir = data_dir.join("credentials");
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(&dir)? {
        let bytes = std::fs::read(entry?.path())?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes).to_vec();
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        for rec in rdr.records() {
            let rec = rec?;
            out.insert(rec[0].to_owned(), rec[2].to_owned());
        }
    }
    Ok(out)
}

/// The HTTP client every suite uses: a real one (reqwest over hyper), with
/// no proxy from the environment and no connection reuse, so each request
/// is what a fresh browser or curl would send.
fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).timeout(guard()).build()?)
}

/// A request with a bearer credential and an optional body (content type,
/// bytes); returns (status, body as text).
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> anyhow::Result<(u16, String)> {
    let r = http_raw(addr, method, path, bearer, body).await?;
    Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
}

/// A bodyless request with the given headers; returns (status, body as text).
pub async fn http_with(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<(u16, String)> {
    let r = send(addr, method, path, headers, None).await?;
    Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
}

/// A response as the client received it: status, headers and the body's bytes.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header's value (case-insensitive name), if present and text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name)?.to_str().ok().map(str::to_owned)
    }
}

/// A request with a bearer credential and a body of raw bytes.
pub async fn http_raw(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> anyhow::Result<RawResponse> {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    send(addr, method, path, &headers, body).await
}

async fn send(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<(&str, &[u8])>) -> anyhow::Result<RawResponse> {
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let mut req = client()?.request(method, format!("http://{addr}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some((content_type, bytes)) = body {
        req = req.header(reqwest::header::CONTENT_TYPE, content_type).body(bytes.to_vec());
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.bytes().await?.to_vec();
    Ok(RawResponse { status, headers, body })
}

type Sink = futures_util::stream::SplitSink<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>, Message>;

/// What a client read: a JSON message, or the close frame (code, reason).
#[derive(Debug, Clone)]
pub enum Incoming {
    Json(Value),
    Closed(Option<(u16, String)>),
}

pub struct Client {
    sink: Sink,
    reader: tokio::task::JoinHandle<()>,
    rx: mpsc::UnboundedReceiver<Incoming>,
    next_id: u64,
    nonce: u64,
    /// Everything received, in order (for leak checks).
    pub log: Vec<Value>,
    /// Highest event/snapshot seq applied.
    pub seq: u64,
    /// The epoch of the last snapshot (the other half of a resume position).
    pub epoch: Option<String>,
    /// Messages read past while waiting for something else.
    backlog: std::collections::VecDeque<Value>,
}

impl Client {
    /// Connects; `since` alone (without an epoch) is a first connection, so
    /// the server answers with a snapshot. Use [`Client::resume`] to resume.
    pub async fn connect(addr: &str, token: &str, since: Option<u64>) -> anyhow::Result<Client> {
        let mut query = format!("token={token}");
        if let Some(s) = since {
            query.push_str(&format!("&since={s}"));
        }
        Self::connect_query(addr, &query).await
    }

    /// Resumes from (epoch, since), as a client that kept both from its last snapshot.
    pub async fn resume(addr: &str, token: &str, epoch: &str, since: u64) -> anyhow::Result<Client> {
        Self::connect_query(addr, &format!("token={token}&epoch={epoch}&since={since}")).await
    }

    /// Connects to `/ws?<query>` exactly as given.
    pub async fn connect_query(addr: &str, query: &str) -> anyhow::Result<Client> {
        let url = format!("ws://{addr}/ws?{query}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let (sink, mut stream) = ws.split();
        let (tx, rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut closed = false;
            while let Some(m) = stream.next().await {
                match m {
                    Ok(Message::Text(t)) => {
                        let v: Value = serde_json::from_str(&t).expect("server sends JSON");
                        if tx.send(Incoming::Json(v)).is_err() {
                            break;
                        }
                    }
                    Ok(Message::Close(f)) => {
                        // Read on, as a browser does: the next read sends
                        // tungstenite's reply to the close, and the server
                        // need not wait for its close handshake to time out.
                        closed = true;
                        let _ = tx.send(Incoming::Closed(f.map(|f| (u16::from(f.code), f.reason.to_string()))));
                    }
                    Ok(_) => {}
                    Err(_) => {
                        if !closed {
                            let _ = tx.send(Incoming::Closed(None));
                        }
                        break;
                    }
                }
            }
        });
        Ok(Client { sink, reader, rx, next_id: 0, nonce: 0, log: Vec::new(), seq: 0, epoch: None, backlog: Default::default() })
    }

    async fn read(&mut self) -> Incoming {
        self.read_within(guard()).await.expect("timed out waiting for a message")
    }

    /// The next message (backlog first) or the close; `None` after `wait`
    /// without one. For clients that detect a dead link themselves.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Incoming> {
        match self.backlog.pop_front() {
            Some(v) => Some(Incoming::Json(v)),
            None => self.read_within(wait).await,
        }
    }

    async fn read_within(&mut self, wait: Duration) -> Option<Incoming> {
        let m = tokio::time::timeout(wait, self.rx.recv()).await.ok()?.unwrap_or(Incoming::Closed(None));
        if let Incoming::Json(v) = &m {
            self.log.push(v.clone());
            if matches!(v["type"].as_str(), Some("event" | "snapshot")) {
                self.seq = self.seq.max(v["seq"].as_u64().unwrap_or(0));
            }
            if v["type"] == "snapshot" {
                self.epoch = v["epoch"].as_str().map(str::to_owned);
            }
        }
        Some(m)
    }

    /// The next JSON message (from the backlog first); panics on close.
    pub async fn next(&mut self) -> Value {
        if let Some(v) = self.backlog.pop_front() {
            return v;
        }
        match self.read().await {
            Incoming::Json(v) => v,
            Incoming::Closed(c) => panic!("connection closed: {c:?}"),
        }
    }

    /// Waits for the close frame, skipping messages.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            if let Incoming::Closed(c) = self.read().await {
                return c;
            }
        }
    }

    /// Skips messages until one matches; earlier non-matching ones are dropped.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.next().await;
            if pred(&v) {
                return v;
            }
        }
    }

    /// Waits for an event that carries a change of `entity` matching `pred`.
    pub async fn change(&mut self, entity: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.until(|v| {
            v["type"] == "event" && v["changes"].as_array().is_some_and(|cs| cs.iter().any(|c| c["entity"] == entity && pred(c)))
        })
        .await
    }

    pub async fn sink_binary(&mut self) {
        self.sink.send(Message::Binary(vec![1u8, 2, 3].into())).await.expect("send");
    }

    /// Sends a text frame. A connection that is already gone is not an error
    /// here: waiting for the answer reports it.
    pub async fn send_raw(&mut self, text: String) {
        let _ = self.sink.send(Message::Text(text.into())).await;
    }

    /// A command id unique per credential, as the protocol requires (the
    /// server answers a repeated id with the first answer instead of running it).
    pub fn fresh_id(&mut self) -> String {
        static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if self.nonce == 0 {
            self.nonce = CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        }
        self.next_id += 1;
        format!("k{}-c{}", self.nonce, self.next_id)
    }

    /// Sends a command with the given id without waiting.
    pub async fn send(&mut self, id: &str, mut cmd: Value) {
        cmd["id"] = json!(id);
        self.send_raw(cmd.to_string()).await;
    }

    /// Waits for the ack or error answering `id`, keeping other messages for later.
    pub async fn reply(&mut self, id: &str) -> Result<Value, Value> {
        self.try_reply(id).await.unwrap_or_else(|| panic!("connection closed while waiting for {id}"))
    }

    /// Like [`reply`], but `None` when the connection closes first.
    pub async fn try_reply(&mut self, id: &str) -> Option<Result<Value, Value>> {
        let mut kept = Vec::new();
        let r = loop {
            let v = match self.backlog.pop_front() {
                Some(v) => v,
                None => match self.read().await {
                    Incoming::Json(v) => v,
                    Incoming::Closed(_) => break None,
                },
            };
            let t = v["type"].as_str().unwrap_or("");
            if (t == "ack" || t == "error") && v["id"] == id {
                break Some(if t == "ack" { Ok(v) } else { Err(v) });
            }
            kept.push(v);
        };
        for v in kept.into_iter().rev() {
            self.backlog.push_front(v);
        }
        r
    }

    /// Sends a command and waits for its answer.
    pub async fn call(&mut self, cmd: Value) -> Result<Value, Value> {
        let id = self.fresh_id();
        self.send(&id, cmd).await;
        self.reply(&id).await
    }

    /// Like [`call`] but panics with the error.
    pub async fn ok(&mut self, cmd: Value) -> Value {
        let what = cmd.to_string();
        self.call(cmd).await.unwrap_or_else(|e| panic!("{what} failed: {e}"))
    }

    /// Everything received before the answer to a fresh `ping` (the server
    /// answers in order, so this is all that earlier work queued).
    pub async fn until_ping(&mut self) -> Vec<Value> {
        let id = self.fresh_id();
        self.send(&id, json!({"type": "ping"})).await;
        let mut before: Vec<Value> = self.backlog.drain(..).collect();
        loop {
            match self.read().await {
                Incoming::Json(v) if v["type"] == "ack" && v["id"] == id.as_str() => return before,
                Incoming::Json(v) => before.push(v),
                Incoming::Closed(c) => panic!("connection closed while waiting for {id}: {c:?}"),
            }
        }
    }

    /// Drops buffered messages (keeps the log).
    pub fn clear(&mut self) {
        self.backlog.clear();
    }

    /// Closes the TCP connection abruptly (no close frame), like a phone losing its signal.
    pub fn abort(self) {
        self.reader.abort();
        drop(self.sink);
    }

    /// Moves every message already received into the log, without waiting.
    pub fn drain(&mut self) {
        while let Ok(m) = self.rx.try_recv() {
            if let Incoming::Json(v) = m {
                self.log.push(v.clone());
                self.backlog.push_back(v);
            }
        }
    }
}

/// As the moderator whose snapshot `moderator` has read: checks every
/// delegate of the session in (pipelined), moves to the evaluation phase and
/// opens an evaluation of `units`. Returns the delegates' ids, in the
/// snapshot's order.
pub async fn check_in_all_and_open_evaluation(moderator: &mut Client, units: &[&str]) -> Vec<String> {
    let snapshot = moderator.log.iter().find(|m| m["type"] == "snapshot").expect("the moderator's snapshot was read");
    let delegates: Vec<String> =
        snapshot["delegates"].as_array().expect("delegates").iter().map(|d| d["id"].as_str().expect("id").to_owned()).collect();
    moderator.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let ids: Vec<String> = delegates.iter().map(|_| moderator.fresh_id()).collect();
    for (d, id) in delegates.iter().zip(&ids) {
        moderator.send(id, json!({"type": "check_in", "delegate": d})).await;
    }
    for id in &ids {
        moderator.reply(id).await.expect("check-in acknowledged");
    }
    moderator.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    moderator.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    moderator.ok(json!({"type": "open_evaluation", "units": units})).await;
    delegates
}
