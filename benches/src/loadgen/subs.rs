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
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
}

/// Opens one WebSocket from `source` to `server` at `path`; for our server
/// also waits for the snapshot (the connection is subscribed after it).
pub async fn connect_one(
    source: Ipv4Addr,
    server: SocketAddr,
    path: &str,
    kind: Kind,
) -> anyhow::Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    // Steps reconnect thousands of sockets; the previous step's may still be
    // in TIME_WAIT on the same source ports.
    socket.set_reuseaddr(true)?;
    socket
        .bind(SocketAddr::new(IpAddr::V4(source), 0))
        .with_context(|| format!("binding to {source}"))?;
    let stream = socket.connect(server).await.context("TCP connect")?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{server}{path}");
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config()))
        .await
        .context("WebSocket handshake")?;
    if kind == Kind::Wenzheng {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.starts_with(r#"{"type":"snapshot""#) => break,
                Some(Ok(Message::Text(t))) => {
                    bail!(
                        "first message is not a snapshot: {}",
                        t.chars().take(200).collect::<String>()
                    )
                }
                Some(Ok(Message::Close(f))) => bail!("closed before the snapshot: {f:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => bail!("read error before the snapshot: {e}"),
                None => bail!("connection ended before the snapshot"),
            }
        }
    }
    Ok(ws)
}

/// Opens `n` subscribers, round-robin over `sources`; every one must succeed
/// within `guard`.
pub async fn connect_all(
    server: SocketAddr,
    path: &str,
    sources: &[Ipv4Addr],
    n: usize,
    concurrency: usize,
    kind: Kind,
    guard: Duration,
) -> anyhow::Result<Vec<Ws>> {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (gate, path, source) = (gate.clone(), path.to_owned(), sources[i % sources.len()]);
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore open");
            connect_one(source, server, &path, kind)
                .await
                .with_context(|| format!("subscriber {i} from {source}"))
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
    tokio::time::timeout(guard, collect)
        .await
        .with_context(|| format!("connecting {n} subscribers took longer than {guard:?}"))?
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
        Arc::new(Self {
            totals: Mutex::new(Totals::default()),
            distinct: AtomicU64::new(0),
            published: AtomicU64::new(0),
            capacity,
            kind,
        })
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
