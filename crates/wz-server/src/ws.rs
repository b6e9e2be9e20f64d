//! The WebSocket endpoint: `GET /ws?token=…[&since=N]`.
//!
//! The credential is checked before anything else; it alone decides who the
//! connection speaks for. [`run_socket`] is generic over the sink and stream
//! so tests can drive it with channels.
//!
//! Close codes: 1008 unauthorized, 1009 message too big, 1001 server going
//! away, 4008 slow consumer, 4010 credential revoked, 4029 rate limited.

use crate::app::{AppState, SocketLimits};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::DefaultKeyedRateLimiter;
use serde::Deserialize;
use std::sync::Arc;
use tokio::time::Instant;
use tracing::debug;
use wz_hub::{Connection, Outbound};
use wz_protocol::server::ErrorDto;
use wz_protocol::{CloseCode, ErrorCode};

#[derive(Deserialize)]
pub struct WsQuery {
    token: Option<String>,
    since: Option<u64>,
}

/// Small, explicit buffers: axum's defaults (128 KiB each) cost ~137 KB per
/// idle connection; our messages are a few hundred bytes.
const BUFFER_BYTES: usize = 4096;

pub async fn upgrade(ws: WebSocketUpgrade, State(st): State<AppState>, Query(q): Query<WsQuery>, headers: HeaderMap, admission: crate::listener::Admission) -> Response {
    let token = q.token.or_else(|| crate::api::bearer(&headers));
    let principal = token.as_deref().and_then(|t| st.hub.authenticate(t));
    let max = st.limits.max_message_bytes;
    ws.read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |mut socket: WebSocket| async move {
            // Browsers cannot read an HTTP status of a failed upgrade, so an
            // unknown credential gets a documented close code instead.
            let Some(principal) = principal else {
                let _ = socket.send(close(CloseCode::Unauthorized)).await;
                return;
            };
            let conn = match st.hub.connect(&principal, q.since).await {
                Ok(c) => c,
                Err(e) => {
                    debug!(error = %e, "connect refused");
                    let _ = socket.send(close(CloseCode::GoingAway)).await;
                    return;
                }
            };
            // Authenticated: out of the listener's cap of unauthenticated
            // connections; `admission` keeps the total place until the end.
            admission.authenticated();
            let (sink, stream) = socket.split();
            run_socket(sink, stream, conn, st.limits.clone(), st.limiter.clone()).await;
        })
}

fn close(code: CloseCode) -> Message {
    Message::Close(Some(CloseFrame { code: code.code(), reason: Utf8Bytes::from_static(code.reason()) }))
}

/// Pumps one connection until either side ends it.
pub async fn run_socket<W, R>(
    mut sink: W,
    mut stream: R,
    conn: Connection,
    limits: SocketLimits,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
) where
    W: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin + Send,
{
    let Connection { sender, mut receiver } = conn;
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<Option<CloseCode>>();
    metrics::gauge!("wz_ws_open").increment(1.0);

    // The writer owns the sink: it flushes everything queued since its last
    // wakeup in one write, pings on a timer, and writes the close frame.
    let ping_every = limits.ping_interval;
    let writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        loop {
            tokio::select! {
                // The reader's verdict (e.g. 1009) wins over the queue closing,
                // which follows from the reader ending.
                biased;
                stop = &mut stop_rx => {
                    if let Ok(Some(code)) = stop {
                        // What the client was already told (e.g. the `limit`
                        // errors before a 4029) goes out before the close.
                        while let Some(frame) = receiver.try_next() {
                            if feed(&mut sink, frame).await.is_err() {
                                break;
                            }
                        }
                        let _ = sink.send(close(code)).await;
                    }
                    break;
                }
                out = receiver.next() => match out {
                    Some(Outbound::Frame(first)) => {
                        if feed(&mut sink, first).await.is_err() { break; }
                        let mut ok = true;
                        while let Some(more) = receiver.try_next() {
                            if feed(&mut sink, more).await.is_err() { ok = false; break; }
                        }
                        if !ok || sink.flush().await.is_err() { break; }
                    }
                    Some(Outbound::Close(code)) => {
                        let _ = sink.send(close(code)).await;
                        break;
                    }
                    None => {
                        let _ = sink.send(close(CloseCode::GoingAway)).await;
                        break;
                    }
                },
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() { break; }
                }
            }
        }
    });

    let key = format!("{}/{}", sender.principal().session, sender.principal().key);
    let mut strikes = 0u32;
    let mut writer = writer;
    let mut writer_done = false;
    let reason: Option<CloseCode> = loop {
        let next = tokio::select! {
            n = tokio::time::timeout(limits.idle_timeout, stream.next()) => n,
            _ = &mut writer => { writer_done = true; break None }
        };
        let msg = match next {
            Err(_) => break None, // idle: the client is gone without a close
            Ok(None) => break None,
            Ok(Some(Err(e))) => {
                // tungstenite reports an oversized message as a capacity error.
                let text = e.to_string();
                break (text.contains("Space limit") || text.contains("too long") || text.contains("Capacity"))
                    .then_some(CloseCode::TooBig);
            }
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                sender.error(ErrorDto::new(None, ErrorCode::BadMessage, "binary frames are not supported; send JSON text"));
                continue;
            }
            Message::Close(_) => break None,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        metrics::counter!("wz_ws_messages_total").increment(1);
        if limiter.check_key(&key).is_err() {
            strikes += 1;
            if strikes > limits.max_strikes {
                break Some(CloseCode::RateLimited);
            }
            let id = wz_protocol::client::parse(&text).ok().map(|m| m.id);
            sender.error(ErrorDto::new(id, ErrorCode::Limit, "too many messages; slow down and retry with the same id"));
            continue;
        }
        strikes = 0;
        match wz_protocol::client::parse(&text) {
            Ok(m) => {
                if sender.command(m).await.is_err() {
                    break Some(CloseCode::GoingAway);
                }
            }
            Err(e) => {
                sender.error(ErrorDto::new(e.id, e.code, e.message));
            }
        }
    };
    let _ = stop_tx.send(reason);
    // Dropping the sender tells the session this client left.
    drop(sender);
    if !writer_done {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await;
    }
    metrics::gauge!("wz_ws_open").decrement(1.0);
}

async fn feed<W: Sink<Message> + Unpin>(sink: &mut W, bytes: bytes::Bytes) -> Result<(), ()> {
    // The hub encodes from `String`, so this UTF-8 check never fails.
    let text = Utf8Bytes::try_from(bytes).map_err(|_| ())?;
    sink.feed(Message::Text(text)).await.map_err(|_| ())
}
