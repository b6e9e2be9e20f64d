//! The subscribers: N WebSocket connections opened over several loopback
//! source addresses (each source address has its own ephemeral ports), at
//! most `concurrency` handshakes at a time, then one task per connection that
//! reads every frame, finds the payload, and records it.

use crate::tally::{Seen, Totals};
use crate::wire;
use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;

/// Which protocol the frames follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ours: the first frame is a `snapshot`; payloads ride in `event`s.
    Wenzheng,
    /// nchan: every text frame is a message body.
    Nchan,
}

/// Small buffers: the generator holds thousands of connections.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024).write_buffer_size(0)
}

/// Why one connect attempt failed: `kind` is what is counted (`refused`,
/// `reset`, `http 503`, …), `detail` the error itself.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// The short name a failed connect is counted under.
pub fn io_kind(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "refused".into(),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => "reset".into(),
        K::TimedOut => "timeout".into(),
        K::AddrNotAvailable | K::AddrInUse => "no source port".into(),
        k => format!("io {k:?}").to_lowercase(),
    }
}

fn ws_kind(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Http(r) => format!("http {}", r.status().as_u16()),
        E::Io(io) => io_kind(io),
        E::ConnectionClosed | E::AlreadyClosed => "reset".into(),
        E::Protocol(_) => "handshake".into(),
        _ => "handshake".into(),
    }
}

/// Outgoing connections bind an explicit local port, chosen here round-robin
/// per source address over the ephemeral range from a random start, not by
/// the kernel: with tens of thousands of the generator's own sockets in
/// TIME_WAIT after a storm, `bind` to port 0 searches the range for a free
/// port and its cost grows with every socket, and it is the generator's CPU.
/// A port still in use, or a TIME_WAIT of the same address pair younger than
/// a second (`tcp_tw_reuse`, loopback), is skipped: the next port is tried.
struct Ports {
    lo: u32,
    span: u32,
    start: u32,
    next: Mutex<std::collections::HashMap<Ipv4Addr, u32>>,
}

/// Ports skipped because they were still in use (the generator's, not the
/// server's, affair).
pub static PORT_RETRIES: AtomicU64 = AtomicU64::new(0);

fn ports() -> &'static Ports {
    static PORTS: std::sync::OnceLock<Ports> = std::sync::OnceLock::new();
    PORTS.get_or_init(|| {
        let (lo, hi) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|t| parse_port_range(&t))
            .unwrap_or((32768, 60999));
        Ports {
            lo: lo as u32,
            span: (hi - lo) as u32 + 1,
            start: (wire::now_us() % 1_000_003) as u32,
            next: Mutex::new(Default::default()),
        }
    })
}

/// `lo hi` of `/proc/sys/net/ipv4/ip_local_port_range`.
pub fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut it = text.split_whitespace().map(|v| v.parse::<u16>().ok());
    let (lo, hi) = (it.next()??, it.next()??);
    (lo > 0 && lo <= hi).then_some((lo, hi))
}

/// The `n`-th port of the range `lo`, `lo + 1`, … (`span` ports), from `start`.
pub fn port_at(lo: u32, span: u32, start: u32, n: u32) -> u16 {
    (lo + start.wrapping_add(n) % span.max(1)) as u16
}

impl Ports {
    fn pick(&self, source: Ipv4Addr) -> u16 {
        let mut next = self.next.lock().expect("ports");
        let n = next.entry(source).or_insert(0);
        *n = n.wrapping_add(1);
        port_at(self.lo, self.span, self.start, *n)
    }
}

/// A TCP connection from `source` (a port of its own, see [`Ports`]).
async fn tcp_connect(source: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    use std::io::ErrorKind as K;
    let mut tries = 0;
    loop {
        tries += 1;
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        let port = ports().pick(source);
        let skip = match socket.bind(SocketAddr::new(IpAddr::V4(source), port)) {
            Err(e) if e.kind() == K::AddrInUse && tries < 64 => true,
            Err(e) => return Err(e),
            Ok(()) => match socket.connect(server).await {
                Err(e) if e.kind() == K::AddrNotAvailable && tries < 64 => true,
                r => return r,
            },
        };
        if skip {
            PORT_RETRIES.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens one TCP connection from `source` to `server` and upgrades it to a
/// WebSocket at `path`; nothing is read after the upgrade.
pub async fn handshake(source: Ipv4Addr, server: SocketAddr, path: &str) -> Result<Ws, Failure> {
    let stream =
        tcp_connect(source, server).await.map_err(|e| Failure { kind: io_kind(&e), detail: format!("TCP connect from {source}: {e}") })?;
    stream.set_nodelay(true).map_err(|e| Failure { kind: io_kind(&e), detail: format!("TCP_NODELAY: {e}") })?;
    let url = format!("ws://{server}{path}");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config()))
        .await
        .map_err(|e| Failure { kind: ws_kind(&e), detail: format!("WebSocket handshake: {e}") })?;
    Ok(ws)
}

/// Where a screen of our server stands: the session's epoch and the
/// highest `seq` it has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub epoch: String,
    pub seq: u64,
}

/// Opens one WebSocket from `source` to `server` at `path`; for our server
/// also waits for the snapshot (the connection is subscribed after it) and
/// returns its position.
pub async fn connect_one(source: Ipv4Addr, server: SocketAddr, path: &str, kind: Kind) -> anyhow::Result<(Ws, Option<Position>)> {
    let mut ws = handshake(source, server, path).await.map_err(|f| anyhow!("{f}"))?;
    if kind == Kind::Nchan {
        return Ok((ws, None));
    }
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let head = wire::head(t.as_bytes());
                match head {
                    Some(wire::Head { kind: "snapshot", seq: Some(seq), epoch: Some(epoch) }) => {
                        let epoch = epoch.to_owned();
                        return Ok((ws, Some(Position { epoch, seq })));
                    }
                    _ => bail!("first message is not a snapshot: {}", t.chars().take(200).collect::<String>()),
                }
            }
            Some(Ok(Message::Close(f))) => bail!("closed before the snapshot: {f:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("read error before the snapshot: {e}"),
            None => bail!("connection ended before the snapshot"),
        }
    }
}

/// Waits until every server in `servers` accepts `path` (several nodes of
/// one cluster: a session created on one is known to the others a moment
/// later), trying every 10 ms for at most `guard`.
pub async fn await_known(servers: &[SocketAddr], path: &str, guard: Duration) -> anyhow::Result<()> {
    let until = tokio::time::Instant::now() + guard;
    for server in servers {
        loop {
            match handshake(Ipv4Addr::LOCALHOST, *server, path).await {
                Ok(mut ws) => {
                    let _ = ws.close(None).await;
                    break;
                }
                Err(e) if tokio::time::Instant::now() >= until => bail!("{server} does not accept the channel: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
    Ok(())
}

/// Opens `n` subscribers, round-robin over `servers` and over `sources`;
/// every one must succeed within `guard`.
pub async fn connect_all(
    servers: &[SocketAddr],
    path: &str,
    sources: &[Ipv4Addr],
    n: usize,
    concurrency: usize,
    kind: Kind,
    guard: Duration,
) -> anyhow::Result<Vec<(Ws, Option<Position>)>> {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (gate, path, source) = (gate.clone(), path.to_owned(), sources[i % sources.len()]);
        let server = servers[i % servers.len()];
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore open");
            connect_one(source, server, &path, kind).await.with_context(|| format!("subscriber {i} from {source}"))
        });
    }
    let collect = async {
        let mut out = Vec::with_capacity(n);
        let mut first_error = None;
        let mut failed = 0usize;
        while let Some(r) = set.join_next().await {
            match r.map_err(|e| anyhow!("connect task: {e}")).and_then(|r| r) {
                Ok(ws) => out.push(ws),
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e.context(format!("{failed} of {n} subscribers failed to connect"))),
            None => Ok(out),
        }
    };
    tokio::time::timeout(guard, collect).await.with_context(|| format!("connecting {n} subscribers took longer than {guard:?}"))?
}

/// What the subscriber tasks of one step share.
pub struct Shared {
    pub totals: Mutex<Totals>,
    /// Distinct (subscriber, seq) pairs received so far: the drain waits for
    /// subscribers × published.
    pub distinct: AtomicU64,
    /// Messages published so far (set by the publisher).
    pub published: AtomicU64,
    /// The most seqs a step publishes.
    pub capacity: u64,
    pub kind: Kind,
}

impl Shared {
    pub fn new(kind: Kind, capacity: u64) -> Arc<Self> {
        Arc::new(Self { totals: Mutex::new(Totals::default()), distinct: AtomicU64::new(0), published: AtomicU64::new(0), capacity, kind })
    }
}

/// Reads `ws` until `stop` turns true or the connection ends, then adds what
/// it saw to the totals.
pub async fn subscriber(mut ws: Ws, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut seen = Seen::new(shared.capacity);
    let mut ended: Option<(Option<u16>, String)> = None;
    loop {
        let msg = tokio::select! {
            biased;
            m = ws.next() => m,
            _ = stop.changed() => break,
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                let recv = wire::now_us();
                let bytes = t.as_bytes();
                if shared.kind == Kind::Wenzheng && !wire::is_event(bytes) {
                    continue;
                }
                let Some((seq, sent)) = wire::parse(bytes) else {
                    continue;
                };
                if seen.record(seq) {
                    shared.distinct.fetch_add(1, Ordering::Relaxed);
                }
                shared.totals.lock().expect("totals").frame(sent, recv);
            }
            Some(Ok(Message::Close(f))) => {
                ended = Some((f.as_ref().map(|f| u16::from(f.code)), format!("{f:?}")));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                ended = Some((None, format!("read error: {e}")));
                break;
            }
            None => {
                ended = Some((None, "connection ended".into()));
                break;
            }
        }
    }
    if ended.is_some() {
        // Count the gaps of a lost connection against everything published
        // in the step, not only what was published before it ended.
        drop(ws);
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    }
    let published = shared.published.load(Ordering::Relaxed);
    let mut t = shared.totals.lock().expect("totals");
    t.subscriber(&seen, published);
    if let Some(e) = ended {
        t.closed.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_range() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("1024 1024"), Some((1024, 1024)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("0 10"), None);
        assert_eq!(parse_port_range("x"), None);
    }

    #[test]
    fn ports_cycle_through_the_range() {
        let (lo, span) = (32768, 28232);
        let all: std::collections::HashSet<u16> = (0..span).map(|n| port_at(lo, span, 12345, n)).collect();
        assert_eq!(all.len(), span as usize, "every port once per cycle");
        assert!(all.iter().all(|&p| (32768..=60999).contains(&p)));
        assert_eq!(port_at(lo, span, 12345, 0), port_at(lo, span, 12345, span));
        assert_eq!(port_at(lo, span, u32::MAX, 1), port_at(lo, span, 0, 0));
    }
}
