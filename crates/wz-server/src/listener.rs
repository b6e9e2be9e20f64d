//! The accept loop: every TCP connection the server takes, and the limits
//! that keep connections which never authenticate from pinning it.
//!
//! A connection holds a place under the total cap (`--max-connections`) for
//! its whole life, and a place under the cap of not-yet-authenticated
//! connections (`--max-unauthenticated`) from the accept until its first
//! request is answered or its WebSocket is authenticated ([`Admission`]).
//! A connection that finds no place gets a canned 503 with `Retry-After` and
//! is closed. Request headers must arrive within `--header-timeout-seconds`
//! (hyper's header-read timeout, which also bounds an idle keep-alive
//! connection) and be at most [`MAX_HEADER_BYTES`] (431 beyond); a request's
//! body and answer must be done within `--handshake-timeout-seconds` (408).
//! So a connection that sends nothing, half a request line or a byte a
//! second is closed within seconds, and there are never more of them than
//! the cap.
//!
//! Every request runs in a span `http` with its method and its route: the
//! path with every part that could be a secret replaced by `{}` ([`route`]),
//! never the query (a mistaken `?token=` stays out of the logs) nor a
//! header. At `debug`, a line per request gives its status and duration.
//!
//! Shutdown stops accepting, lets every connection finish its request (hyper's
//! graceful shutdown) and waits, at most [`SHUTDOWN_GRACE`], until every place
//! is given back, the upgraded WebSockets' included.

use crate::config::ListenerArgs;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;
use tracing::{Instrument, debug, warn};

/// Largest request head (request line and headers) accepted; larger gets 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// What a refused client is told to wait before retrying (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 5;
/// How long shutdown waits for open connections before closing them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Refused connections being answered at once; beyond this a refused
/// connection is closed without an answer (a flood gets no attention).
const MAX_REFUSALS: usize = 256;

/// The listener's limits (flags in [`ListenerArgs`]).
#[derive(Clone, Debug)]
pub struct ListenerLimits {
    pub header_timeout: Duration,
    pub handshake_timeout: Duration,
    pub max_connections: usize,
    pub max_unauthenticated: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client ([`crate::auth::ClientAddr`]).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

impl ListenerLimits {
    pub fn from_args(a: &ListenerArgs) -> Self {
        Self {
            header_timeout: Duration::from_secs(a.header_timeout_seconds.max(1)),
            handshake_timeout: Duration::from_secs(a.handshake_timeout_seconds.max(1)),
            max_connections: a.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            max_unauthenticated: a.max_unauthenticated.clamp(1, Semaphore::MAX_PERMITS),
            trusted_proxies: a.trusted_proxies.clone().into(),
        }
    }
}

/// A connection's places under the caps, carried in every request's
/// extensions. The WebSocket handler keeps it for the socket's life (the
/// total place) and calls [`Admission::authenticated`] once the credential
/// is accepted. Extracted from a request served without this listener (in
/// tests), it holds nothing.
#[derive(Clone, Default)]
pub struct Admission(Option<Arc<Places>>);

struct Places {
    _total: Place,
    unauthenticated: Mutex<Option<Place>>,
}

/// A semaphore permit that keeps its gauge current.
struct Place {
    _permit: OwnedSemaphorePermit,
    gauge: &'static str,
}

impl Place {
    fn new(permit: OwnedSemaphorePermit, gauge: &'static str) -> Self {
        metrics::gauge!(gauge).increment(1.0);
        Self { _permit: permit, gauge }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        metrics::gauge!(self.gauge).decrement(1.0);
    }
}

impl Admission {
    /// The connection is an authenticated participant now: it leaves the
    /// cap of unauthenticated connections (it still counts in the total).
    pub fn authenticated(&self) {
        if let Some(p) = &self.0 {
            p.unauthenticated.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admission {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Admission>().cloned().unwrap_or_default())
    }
}

/// Why a connection was refused at the accept.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    Total,
    Unauthenticated,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::Total => "max_connections",
            Refusal::Unauthenticated => "max_unauthenticated",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Refusal::Total => {
                "服务器连接数已满，请稍后重试。The server is at its connection limit (--max-connections); retry in a few seconds.\n"
            }
            Refusal::Unauthenticated => {
                "正在建立的连接过多，请稍后重试。Too many connections are still opening (--max-unauthenticated); retry in a few seconds.\n"
            }
        }
    }
}

struct Caps {
    total: Arc<Semaphore>,
    unauthenticated: Arc<Semaphore>,
}

impl Caps {
    fn admit(&self) -> Result<Admission, Refusal> {
        let total = self.total.clone().try_acquire_owned().map_err(|_| Refusal::Total)?;
        let unauthenticated = self.unauthenticated.clone().try_acquire_owned().map_err(|_| Refusal::Unauthenticated)?;
        Ok(Admission(Some(Arc::new(Places {
            _total: Place::new(total, "wz_connections_open"),
            unauthenticated: Mutex::new(Some(Place::new(unauthenticated, "wz_connections_unauthenticated"))),
        }))))
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then shuts down
/// gracefully (see the module documentation).
pub async fn run(listener: TcpListener, app: Router, limits: ListenerLimits, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let caps = Caps {
        total: Arc::new(Semaphore::new(limits.max_connections)),
        unauthenticated: Arc::new(Semaphore::new(limits.max_unauthenticated)),
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_header_size(MAX_HEADER_BYTES);
    let http = Arc::new(http);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let mut refusals = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(done) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = done && e.is_panic() {
                    warn!("a connection task panicked");
                }
            }
            Some(_) = refusals.join_next(), if !refusals.is_empty() => {}
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                };
                // Small messages must not wait for Nagle.
                let _ = tcp.set_nodelay(true);
                match caps.admit() {
                    Ok(admission) => {
                        let service = RequestService {
                            app: app.clone(),
                            admission,
                            deadline: limits.handshake_timeout,
                            peer: peer.ip(),
                            trusted: limits.trusted_proxies.clone(),
                        };
                        conns.spawn(serve_connection(tcp, http.clone(), service, stop_rx.clone()));
                    }
                    Err(why) => {
                        metrics::counter!("wz_connections_refused_total", "reason" => why.label()).increment(1);
                        if refusals.len() < MAX_REFUSALS {
                            refusals.spawn(refuse(tcp, why));
                        }
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    refusals.abort_all();
    let everyone = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
        // Upgraded connections (WebSockets) hold their place until their
        // handler ends: the hub has closed them with 1001 by now.
        let _ = caps.total.acquire_many(everyone).await;
    })
    .await;
    if drained.is_err() {
        let open = limits.max_connections - caps.total.available_permits();
        warn!(open, "connections still open {} s after shutdown began; closing them", SHUTDOWN_GRACE.as_secs());
        conns.abort_all();
    }
    Ok(())
}

/// Out of descriptors (or a similar resource): nothing can be accepted until
/// a connection closes, so wait a little instead of spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock) {
        return;
    }
    metrics::counter!("wz_accept_errors_total").increment(1);
    warn!(error = %e, "accept failed (descriptor limit?); retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn serve_connection(
    tcp: TcpStream,
    http: Arc<hyper::server::conn::http1::Builder>,
    service: RequestService,
    mut stop: watch::Receiver<bool>,
) {
    let conn = http.serve_connection(TokioIo::new(tcp), service).with_upgrades();
    tokio::pin!(conn);
    let ended = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            // Finish the request in progress, then close; idle ones close now.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        // hyper's errors name what went wrong, never the request's content.
        if e.is_timeout() {
            metrics::counter!("wz_connections_timed_out_total", "phase" => "headers").increment(1);
        }
        debug!(error = %e, "connection ended");
    }
}

/// Answers a refused connection with 503 and closes it: the answer, then
/// FIN, then what the client sent is read and discarded until it closes (a
/// close with unread input would reset the connection and could destroy
/// the answer before the client reads it). Bounded to 1 s.
async fn refuse(mut tcp: TcpStream, why: Refusal) {
    let text = why.text();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nretry-after: {RETRY_AFTER_SECONDS}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        tcp.write_all(answer.as_bytes()).await?;
        tcp.shutdown().await?;
        let mut discard = [0u8; 4096];
        let mut budget = 64 * 1024usize;
        while budget > 0 {
            let n = tcp.read(&mut discard).await?;
            if n == 0 {
                break;
            }
            budget = budget.saturating_sub(n);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// Hands each request to the router, with the connection's [`Admission`]
/// and the client's address in its extensions and the handshake deadline
/// around it.
#[derive(Clone)]
struct RequestService {
    app: Router,
    admission: Admission,
    deadline: Duration,
    peer: std::net::IpAddr,
    trusted: Arc<[ipnet::IpNet]>,
}

impl hyper::service::Service<Request<Incoming>> for RequestService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.admission.clone());
        let client = crate::auth::ClientAddr::of(self.peer, req.headers(), &self.trusted);
        req.extensions_mut().insert(client);
        let (app, admission, deadline) = (self.app.clone(), self.admission.clone(), self.deadline);
        // At `ERROR` level so it is enabled whatever the filter (like a
        // WebSocket's span): a warning during a request names it.
        let span = tracing::error_span!("http", method = %req.method(), route = %route(req.uri().path()));
        let started = std::time::Instant::now();
        let served = async move {
            let res = match tokio::time::timeout(deadline, app.oneshot(req)).await {
                Ok(Ok(res)) => res,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    metrics::counter!("wz_connections_timed_out_total", "phase" => "request").increment(1);
                    timed_out(deadline)
                }
            };
            // An upgrade leaves the cap only once its credential is accepted (ws.rs).
            if res.status() != StatusCode::SWITCHING_PROTOCOLS {
                admission.authenticated();
            }
            debug!(status = res.status().as_u16(), ms = started.elapsed().as_millis(), "request");
            Ok(res)
        };
        Box::pin(served.instrument(span))
    }
}

/// The words of the server's routes (`app.rs`), kept as they are in a
/// logged route; everything else is a parameter.
const ROUTE_WORDS: &[&str] = &[
    "api",
    "ws",
    "healthz",
    "readyz",
    "metrics",
    "openapi.json",
    "whoami",
    "sessions",
    "venues",
    "questions",
    "results",
    "delegates",
    "export",
    "documents",
    "letters",
    "credentials",
    "reissue",
    "record",
    "cards",
    "receipts",
    "progress",
    "items",
    "files",
    "assets",
];

/// A request's path as logged: the route's words, the session's id after
/// `sessions/` (a session id, unless it could be a join code), and file
/// names (`delegate.html`, `results.csv`: lower case, with a dot); every
/// other part is `{}`. A token (43 characters without a dot), a join code
/// or a receipt code in a path is never logged, nor is the query.
pub fn route(path: &str) -> String {
    let mut out = String::with_capacity(path.len().min(128));
    let mut after_sessions = false;
    for part in path.split('/').skip(1) {
        out.push('/');
        let file = part.len() <= 64
            && part.contains('.')
            && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
        // A session id's form (lower case; `SessionDef::validate`).
        let session = after_sessions
            && part.len() <= 64
            && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
            && wz_hub::JoinCode::parse(part).is_none();
        if part.is_empty() || ROUTE_WORDS.contains(&part) || file || session {
            out.push_str(part);
        } else {
            out.push_str("{}");
        }
        after_sessions = part == "sessions";
    }
    out
}

fn timed_out(deadline: Duration) -> Response {
    let text = format!(
        "请求未在 {s} 秒内完成。The request was not complete within {s} s (--handshake-timeout-seconds).\n",
        s = deadline.as_secs()
    );
    let mut res = (StatusCode::REQUEST_TIMEOUT, text).into_response();
    res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn a_logged_route_keeps_the_routes_words_and_hides_what_could_be_a_secret() {
        assert_eq!(route("/"), "/");
        assert_eq!(route("/delegate.html"), "/delegate.html");
        assert_eq!(route("/ws"), "/ws");
        assert_eq!(route("/api/sessions/xixia-2026/export/results.csv"), "/api/sessions/xixia-2026/export/results.csv");
        assert_eq!(route("/api/sessions/xixia-2026/receipts/0123456789abcdef"), "/api/sessions/xixia-2026/receipts/{}");
        let token = "Vh3kq0Jx_9aB-4sLmNoPqRsTuVwXyZ0123456789abc";
        assert_eq!(route(&format!("/{token}")), "/{}");
        assert_eq!(route(&format!("/api/sessions/{token}")), "/api/sessions/{}");
        // A join code, however typed, even where a session id goes.
        assert_eq!(route("/api/sessions/abcde-fghjk"), "/api/sessions/{}");
        assert_eq!(route("/ABCDE-FGHJK"), "/{}");
        assert_eq!(route("/assets/index-B2x9Kf.js"), "/assets/{}");
        assert_eq!(route("/api/sessions/s1/items/7/files"), "/api/sessions/s1/items/{}/files");
    }
}
