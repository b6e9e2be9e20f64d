//! The WebSocket endpoint: `GET /ws?token=…[&epoch=E&since=N]`.
//!
//! The credential is checked before anything else; it alone decides who the
//! connection speaks for. [`run_socket`] is generic over the sink and stream
//! so tests can drive it with channels.
//!
//! A connection is two halves: this task reads, a writer task (owned through
//! an abort-on-drop handle, so it never outlives the connection) writes. Every
//! write and flush has a deadline (`--write-timeout-seconds`): a client that
//! stops reading is cut when its socket stays full that long.
//!
//! Every frame a client sends costs rate budget (see [`Budget`]). When the
//! server closes a connection (rate limit, slow consumer, a reissued
//! credential), the writer sends what was queued and the close frame, and the
//! reader keeps reading, and discarding, until the client's close or EOF, so
//! the kernel does not reset the connection over unread input and destroy
//! what was sent. A frame that breaks RFC 6455 gets a close frame (1002, or
//! 1007 for invalid UTF-8) and nothing after it is processed.
//!
//! Close codes: 1000 echoed to a client's normal close, 1002 protocol error,
//! 1007 invalid UTF-8, 1008 unauthorized, 1009 message too big, 1001 server
//! going away, 4008 slow consumer, 4010 credential revoked, 4029 rate limited,
//! 4400 malformed query (after a typed `error`), 4409 replaced by a newer
//! connection of the same credential.
//!
//! Logs: every connection runs in a span `ws` with its session, role,
//! principal (`delegate:d017`, never a token or join code), venue and
//! connection id (`conn`, the hub's, unique in the process); the hub's
//! lines about the connection have the same span as their parent. Metrics:
//! `wz_ws_messages_total{direction="in"|"out"}` (data messages read and
//! written), `wz_ws_closed_total{reason}` (why each WebSocket ended),
//! `wz_errors_total{code}` also for what the connection answers itself
//! (`bad_message`, `limit`).

use crate::app::{AppState, SocketLimits};
use crate::upgrade::{Socket, WsUpgrade};
use crate::writers::{WriterHandle, Writers};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::{Instrument, Span, debug, info};
use tungstenite::Message;
use tungstenite::Utf8Bytes;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use wz_hub::{ConnSender, Connection};
use wz_protocol::server::{ErrorDto, ServerMessage};
use wz_protocol::{CloseCode, ErrorCode};

mod write;
use write::{Deadline, write_loop};

/// The query of `GET /ws`, read by hand rather than by a typed extractor:
/// a malformed `since` must reach the client as a typed error after the
/// upgrade, not as an HTTP 400 a browser cannot read.
#[derive(Default)]
pub struct WsQuery {
    token: Option<String>,
    since: Option<String>,
    epoch: Option<String>,
    /// A resume parameter given more than once.
    repeated: Option<&'static str>,
}

impl WsQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut q = Self::default();
        for (k, v) in pairs {
            let (slot, name) = match k.as_str() {
                "token" => {
                    q.token.get_or_insert(v);
                    continue;
                }
                "since" => (&mut q.since, "since"),
                "epoch" => (&mut q.epoch, "epoch"),
                _ => continue,
            };
            if slot.replace(v).is_some() {
                q.repeated.get_or_insert(name);
            }
        }
        q
    }

    /// Where the client resumes from, or what is wrong with its parameters.
    fn position(&self) -> Result<Option<wz_protocol::Position>, wz_protocol::epoch::BadParameter> {
        if let Some(name) = self.repeated {
            return Err(wz_protocol::epoch::repeated(name));
        }
        wz_protocol::epoch::resume_position(self.since.as_deref(), self.epoch.as_deref())
    }
}

/// Small, explicit buffers: axum's defaults (128 KiB each) cost ~137 KB per
/// idle connection; our messages are a few hundred bytes. The write buffer
/// is the size below which queued frames are gathered into one write, and
/// it keeps the capacity it once reached (see `write::FRAGMENT_BYTES`). 1 KiB
/// instead of 4 saved another 4 KiB per screen after a large snapshot, but
/// cost a write per message of 2 KiB (10k screens: 56k instead of 158k
/// frames/s at saturation; issue 11).
const BUFFER_BYTES: usize = 4096;
/// The read buffer is allocated up front for every connection, and a
/// client's commands are small (a ballot ~150 bytes): 512 bytes instead of
/// 4 KiB took an idle screen from 15.5 to 12.0 KiB resident (issue 11,
/// `benches/compare --smoke`). Larger messages are read in several chunks.
const READ_BUFFER_BYTES: usize = 512;

/// Control frames (pings, pongs) free of charge per connection: one a second
/// on average, bursts of ten. A client that answers our pings or keeps its
/// own heartbeat never comes near; beyond it each costs like a message.
const CONTROL_PER_SECOND: u32 = 1;
const CONTROL_BURST: u32 = 10;

pub async fn upgrade(
    ws: WsUpgrade,
    State(st): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    admission: crate::listener::Admission,
) -> Response {
    let q = WsQuery::from_pairs(pairs);
    let from = q.position();
    let token = q.token.or_else(|| crate::api::bearer(&headers));
    let principal = token.as_deref().and_then(|t| st.hub.authenticate(t));
    let span = principal.as_ref().map_or_else(Span::none, connection_span);
    let max = st.limits.max_message_bytes;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    ws.on_upgrade(config, move |mut socket: Socket| {
        async move {
            // Browsers cannot read an HTTP status of a failed upgrade, so an
            // unknown credential gets a documented close code instead.
            let Some(principal) = principal else {
                closed(CloseCode::Unauthorized.reason());
                let _ = socket.send(close_message(Close::from(CloseCode::Unauthorized))).await;
                return;
            };
            let from = match from {
                Ok(from) => from,
                Err(bad) => {
                    debug!(parameter = bad.parameter, "malformed /ws query");
                    closed(CloseCode::BadRequest.reason());
                    let e = ServerMessage::Error(ErrorDto::new(None, ErrorCode::BadMessage, bad.message));
                    let _ = socket.send(Message::Text(e.encode().into())).await;
                    let _ = socket.send(close_message(Close::from(CloseCode::BadRequest))).await;
                    return;
                }
            };
            // The hub records the connection's id and venue in the current span.
            let conn = match st.hub.connect(&principal, from).await {
                Ok(c) => c,
                Err(e) => {
                    debug!(error = %e, "connect refused");
                    closed(CloseCode::GoingAway.reason());
                    let _ = socket.send(close_message(Close::from(CloseCode::GoingAway))).await;
                    return;
                }
            };
            // Authenticated: out of the listener's cap of unauthenticated
            // connections; `admission` keeps the total place until the end.
            admission.authenticated();
            debug!(resume = from.is_some(), "connected");
            let (sink, stream) = socket.split();
            run_socket(sink, stream, conn, st.limits.clone(), st.limiter.clone(), &st.writers).await;
        }
        .instrument(span)
    })
}

/// The span every log line of one connection is in: who it speaks for,
/// never with what (no token, no join code). `venue` and `conn` are
/// recorded by the hub when it admits the connection. At `ERROR` level so
/// it is enabled whatever the filter: a warning about a connection names
/// it at `RUST_LOG=warn` too. A root span: the upgrade's request is over
/// long before the connection.
fn connection_span(p: &wz_hub::Principal) -> Span {
    let role = wz_protocol::dto::Role::from(&p.viewer()).name();
    use tracing::field::Empty;
    tracing::error_span!(parent: None, "ws", session = %p.session, role, principal = %p.key, venue = Empty, conn = Empty)
}

/// Counts a WebSocket that ended, by why (`wz_ws_closed_total{reason}`).
fn closed(reason: &'static str) {
    metrics::counter!("wz_ws_closed_total", "reason" => reason).increment(1);
}

/// A close frame's code and reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Close {
    code: u16,
    reason: &'static str,
}

impl From<CloseCode> for Close {
    fn from(c: CloseCode) -> Self {
        Close { code: c.code(), reason: c.reason() }
    }
}

/// RFC 6455 codes for a client that broke the framing rules. They are the
/// transport's, not the application's, so they live here and not in
/// `wz_protocol::CloseCode`.
const PROTOCOL_ERROR: Close = Close { code: 1002, reason: "protocol_error" };
const INVALID_UTF8: Close = Close { code: 1007, reason: "invalid_utf8" };

fn close_message(c: Close) -> Message {
    Message::Close(Some(CloseFrame { code: c.code.into(), reason: Utf8Bytes::from_static(c.reason) }))
}

/// How the reading side ended, and what the connection still owes the client.
#[derive(Debug)]
enum Ending {
    /// EOF, reset, idle timeout, or the writer could not write: nothing more
    /// can be delivered, so the connection is dropped at once. Says which
    /// (`gone`, `idle`, `write_failed`: the label of `wz_ws_closed_total`).
    Gone(&'static str),
    /// The client sent a close frame; tungstenite queued the echo.
    ClientClosed,
    /// The server closes: queued frames, then this close frame, then wait for
    /// the client's close while discarding input.
    Close(Close),
    /// Like `Close`, but the stream is unusable (a framing error): the close
    /// frame goes out and nothing more is read.
    Failed(Close),
    /// The writer already sent a close the session asked for (slow consumer,
    /// revoked, shutdown; its reason): wait for the client's close while
    /// discarding input.
    WriterClosed(&'static str),
}

impl Ending {
    /// Why the connection ended, as `wz_ws_closed_total{reason}` counts it:
    /// a close code's reason when the server closed, `client` when the
    /// client did, or how it was lost.
    fn reason(&self) -> &'static str {
        match self {
            Ending::Gone(why) | Ending::WriterClosed(why) => why,
            Ending::ClientClosed => "client",
            Ending::Close(c) | Ending::Failed(c) => c.reason,
        }
    }
}

/// What the reader asks of the writer when it is done.
enum Stop {
    Close(Close),
    /// Push out what tungstenite queued by itself (the echo of a client's close).
    Flush,
    /// Nothing can be delivered.
    Abandon,
}

/// How the writer ended.
#[derive(Debug)]
enum WriterEnd {
    /// A close frame went out (or was queued for the kernel), with its reason.
    SentClose(&'static str),
    /// It stopped without one: a write failed or missed its deadline, or it was told to.
    Stopped,
}

/// Pumps one connection until either side ends it. Returns once the writer
/// has finished or was aborted: nothing of the connection outlives this call.
pub async fn run_socket<W, R>(
    sink: W,
    mut stream: R,
    conn: Connection,
    limits: SocketLimits,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    writers: &Writers,
) where
    W: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = Result<Message, tungstenite::Error>> + Unpin + Send,
{
    let Connection { sender, receiver } = conn;
    let (stop_tx, stop_rx) = oneshot::channel::<Stop>();
    metrics::gauge!("wz_ws_open").increment(1.0);
    // Public screens' writers run on the shards (see `writers`), and are
    // not instrumented (entering a span at every poll of ten thousand
    // writers is not free): the writer names the connection's span as the
    // parent of the lines it logs.
    let screen = matches!(sender.principal().key, wz_hub::PrincipalKey::Screen);
    let writes = Deadline { limit: limits.write_timeout, span: Span::current() };
    let mut writer = Some(writers.run(screen, write_loop(sink, receiver, stop_rx, limits.ping_interval, writes)).await);

    let mut budget = Budget::new(&sender, limiter, limits.max_strikes);
    let ending = read_loop(&mut stream, &sender, &mut budget, limits.idle_timeout, &mut writer).await;
    let reason = ending.reason();
    closed(reason);
    match ending {
        // The server's own verdict on what the client did: worth a line.
        Ending::Close(c) | Ending::Failed(c) => info!(close = c.code, reason, "closing the connection"),
        _ => debug!(reason, "connection ended"),
    }
    let stop = match ending {
        Ending::Close(c) | Ending::Failed(c) => Stop::Close(c),
        Ending::ClientClosed => Stop::Flush,
        Ending::Gone(_) | Ending::WriterClosed(_) => Stop::Abandon,
    };
    // The verdict first: dropping the sender closes the queue, and the writer
    // must not mistake that for the session going away (1001).
    let _ = stop_tx.send(stop);
    // Dropping the sender tells the session this client left: nothing more
    // is queued for it from here on.
    drop(sender);

    // One deadline for all that is left: the writer's last frames and close,
    // and the client's answer to it.
    let deadline = Instant::now() + limits.write_timeout;
    if matches!(ending, Ending::Close(_) | Ending::ClientClosed | Ending::WriterClosed(_)) {
        linger(&mut stream, deadline).await;
    }
    if let Some(w) = writer
        && tokio::time::timeout_at(deadline, w).await.is_err()
    {
        metrics::counter!("wz_ws_writer_aborted_total").increment(1);
        // Dropping the handle aborts the task.
    }
    metrics::gauge!("wz_ws_open").decrement(1.0);
}

/// Reads and handles the client's frames until the connection must end.
async fn read_loop<R>(
    stream: &mut R,
    sender: &ConnSender,
    budget: &mut Budget,
    idle: Duration,
    writer: &mut Option<WriterHandle<WriterEnd>>,
) -> Ending
where
    R: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    // One handle per connection: counting is then an atomic add.
    let received = metrics::counter!("wz_ws_messages_total", "direction" => "in");
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout(idle, stream.next()) => n,
            end = finished(writer) => return match end {
                WriterEnd::SentClose(reason) => Ending::WriterClosed(reason),
                WriterEnd::Stopped => Ending::Gone("write_failed"),
            },
        };
        let msg = match next {
            Err(_) => return Ending::Gone("idle"), // the client is gone without a close
            Ok(None) => return Ending::Gone("gone"),
            Ok(Some(Err(e))) => return violation(e).map_or(Ending::Gone("gone"), Ending::Failed),
            Ok(Some(Ok(m))) => m,
        };
        if let Some(ending) = handle(msg, sender, budget, &received).await {
            return ending;
        }
    }
}

/// Handles one frame; `Some` when the connection must end. Data messages
/// are counted in `received`.
async fn handle(msg: Message, sender: &ConnSender, budget: &mut Budget, received: &metrics::Counter) -> Option<Ending> {
    let text = match msg {
        Message::Close(_) => return Some(Ending::ClientClosed),
        // tungstenite answers pings itself; what is left to do is to count them.
        Message::Ping(_) | Message::Pong(_) => {
            return matches!(budget.control(), Charge::Exceeded).then_some(Ending::Close(CloseCode::RateLimited.into()));
        }
        Message::Binary(_) => {
            received.increment(1);
            let e = match budget.data() {
                Charge::Exceeded => return Some(Ending::Close(CloseCode::RateLimited.into())),
                Charge::Limited => limit_error(None),
                Charge::Allowed => ErrorDto::new(None, ErrorCode::BadMessage, "binary frames are not supported; send JSON text"),
            };
            return answer(sender, e);
        }
        Message::Text(t) => t,
        // Only ever written, never read (tungstenite's raw frames).
        Message::Frame(_) => return None,
    };
    received.increment(1);
    match budget.data() {
        Charge::Exceeded => return Some(Ending::Close(CloseCode::RateLimited.into())),
        Charge::Limited => {
            let m = wz_protocol::client::parse(&text).ok();
            if let Some(m) = &m {
                // Refused before the session saw it: counted here, as the session counts what it answers.
                metrics::counter!("wz_commands_by_type_total", "type" => m.command.type_name(), "result" => ErrorCode::Limit.as_str())
                    .increment(1);
            }
            return answer(sender, limit_error(m.map(|m| m.id)));
        }
        Charge::Allowed => {}
    }
    match wz_protocol::client::parse(&text) {
        Ok(m) => sender.command(m).await.is_err().then_some(Ending::Close(CloseCode::GoingAway.into())),
        Err(e) => {
            // What was wrong, never the message itself (it may hold a question's text).
            debug!(code = e.code.as_str(), "message not understood");
            answer(sender, ErrorDto::new(e.id, e.code, e.message))
        }
    }
}

fn limit_error(id: Option<String>) -> ErrorDto {
    ErrorDto::new(id, ErrorCode::Limit, "too many messages; slow down and retry with the same id")
}

/// Queues an error the connection answers itself; a full queue means the
/// client does not read what it is sent: closed as a slow consumer.
fn answer(sender: &ConnSender, e: ErrorDto) -> Option<Ending> {
    metrics::counter!("wz_errors_total", "code" => e.code.as_str()).increment(1);
    if sender.error(e) {
        return None;
    }
    metrics::counter!("wz_slow_consumers_total", "reason" => "queue").increment(1);
    Some(Ending::Close(CloseCode::SlowConsumer.into()))
}

/// The close a stream error calls for; `None` when the client simply went away.
fn violation(e: tungstenite::Error) -> Option<Close> {
    use tungstenite::error::{Error, ProtocolError};
    match e {
        // The message or frame limit; the frame header said so before its payload was read.
        Error::Capacity(_) => Some(CloseCode::TooBig.into()),
        // Invalid UTF-8 in a text message (also across fragments) or a close reason.
        Error::Utf8(_) => Some(INVALID_UTF8),
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        // Unmasked frame, RSV bits, reserved opcodes, oversized or fragmented
        // control frames, a continuation without a start, a data frame inside
        // a fragmented message, a 1-byte close payload.
        Error::Protocol(_) => Some(PROTOCOL_ERROR),
        _ => None,
    }
}

/// Reads and discards until the client's close or EOF, or the deadline: a
/// socket closed with unread input is reset by the kernel, and a reset can
/// destroy the close frame before the client read it.
async fn linger<R>(stream: &mut R, deadline: Instant)
where
    R: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    let _ = tokio::time::timeout_at(deadline, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}

/// The writer's end, once: pending while it runs, and forever after it was seen.
async fn finished(writer: &mut Option<WriterHandle<WriterEnd>>) -> WriterEnd {
    let Some(w) = writer.as_mut() else { return std::future::pending().await };
    let end = w.await.unwrap_or(WriterEnd::Stopped);
    *writer = None;
    end
}

/// What every frame from a client costs. Data frames (text and binary) take
/// one token of the credential's shared rate limit; control frames are free
/// up to [`CONTROL_PER_SECOND`] per connection, then cost the same. A frame
/// refused by the limit is a strike; more than `max_strikes` in a row close
/// the connection (4029).
struct Budget {
    key: String,
    shared: Arc<DefaultKeyedRateLimiter<String>>,
    control: DefaultDirectRateLimiter,
    strikes: u32,
    max_strikes: u32,
}

enum Charge {
    Allowed,
    /// Refused: answer `limit`.
    Limited,
    /// Too many refusals in a row: close with 4029.
    Exceeded,
}

impl Budget {
    fn new(sender: &ConnSender, shared: Arc<DefaultKeyedRateLimiter<String>>, max_strikes: u32) -> Self {
        let p = sender.principal();
        let quota = Quota::per_second(NonZeroU32::new(CONTROL_PER_SECOND).expect("non-zero"))
            .allow_burst(NonZeroU32::new(CONTROL_BURST).expect("non-zero"));
        // The shared limiter's clock: a fresh one per connection calibrates
        // the TSC with `cpuid`, which traps to the hypervisor in a VM (issue
        // 11: ~5% of a reconnect storm's CPU).
        let control = RateLimiter::direct_with_clock(quota, shared.clock().clone());
        Self { key: format!("{}/{}", p.session, p.key), shared, control, strikes: 0, max_strikes }
    }

    fn data(&mut self) -> Charge {
        if self.shared.check_key(&self.key).is_ok() {
            self.strikes = 0;
            return Charge::Allowed;
        }
        self.strikes += 1;
        if self.strikes > self.max_strikes { Charge::Exceeded } else { Charge::Limited }
    }

    fn control(&mut self) -> Charge {
        if self.control.check().is_ok() { Charge::Allowed } else { self.data() }
    }
}
