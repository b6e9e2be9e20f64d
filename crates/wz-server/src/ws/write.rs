//! The writing half of a connection: the writer task owns the sink, writes
//! what the hub queued in batches, pings on a timer, and ends with the close
//! frame. Every write and flush has a deadline (`--write-timeout-seconds`).

use super::{BUFFER_BYTES, Close, Stop, WriterEnd, close_message};
use futures_util::{Sink, SinkExt};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::{Span, debug};
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::{Message, Utf8Bytes};
use wz_hub::{ConnReceiver, Outbound};
use wz_protocol::CloseCode;

/// The writer owns the sink: it flushes everything queued since its last
/// wakeup in one write, pings on a timer, and writes the close frame.
/// Messages written are counted in `wz_ws_messages_total{direction="out"}`.
pub(super) async fn write_loop<W>(
    mut sink: W,
    mut receiver: ConnReceiver,
    mut stop: oneshot::Receiver<Stop>,
    ping_every: Duration,
    deadline: Deadline,
) -> WriterEnd
where
    W: Sink<Message> + Unpin,
{
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    // One handle per connection: counting is then an atomic add per batch.
    let sent = metrics::counter!("wz_ws_messages_total", "direction" => "out");
    loop {
        tokio::select! {
            // The reader's verdict (e.g. 4029) wins over the queue closing,
            // which follows from the reader ending.
            biased;
            s = &mut stop => return match s {
                Ok(Stop::Close(c)) => finish(&mut sink, &mut receiver, c, &deadline, &sent).await,
                Ok(Stop::Flush) => {
                    let _ = deadline.run(sink.flush()).await;
                    WriterEnd::SentClose("client")
                }
                Ok(Stop::Abandon) | Err(_) => WriterEnd::Stopped,
            },
            out = receiver.next() => match out {
                Some(Outbound::Frame(first)) => {
                    if write_batch(&mut sink, &mut receiver, first, &deadline, &sent).await.is_err() {
                        return WriterEnd::Stopped;
                    }
                }
                Some(Outbound::Close(code)) => return send_close(&mut sink, code.into(), &deadline).await,
                None => return send_close(&mut sink, CloseCode::GoingAway.into(), &deadline).await,
            },
            _ = ping.tick() => {
                if deadline.run(sink.send(Message::Ping(Default::default()))).await.is_err() {
                    return WriterEnd::Stopped;
                }
            }
        }
    }
}

/// Writes `first` and whatever else is queued, then flushes once.
async fn write_batch<W: Sink<Message> + Unpin>(
    sink: &mut W,
    receiver: &mut ConnReceiver,
    first: bytes::Bytes,
    deadline: &Deadline,
    sent: &metrics::Counter,
) -> Result<(), ()> {
    let mut n = 0;
    let written = async {
        deadline.run(feed(sink, first)).await?;
        n += 1;
        while let Some(more) = receiver.try_next() {
            deadline.run(feed(sink, more)).await?;
            n += 1;
        }
        deadline.run(sink.flush()).await
    }
    .await;
    sent.increment(n);
    written
}

/// What the client was already told (e.g. the `limit` errors before a 4029)
/// goes out before the close; all of it within one deadline.
async fn finish<W: Sink<Message> + Unpin>(
    sink: &mut W,
    receiver: &mut ConnReceiver,
    c: Close,
    deadline: &Deadline,
    sent: &metrics::Counter,
) -> WriterEnd {
    let mut n = 0;
    let all = async {
        while let Some(frame) = receiver.try_next() {
            feed(sink, frame).await?;
            n += 1;
        }
        sink.send(close_message(c)).await.map_err(|_| ())
    };
    let done = deadline.run(all).await;
    sent.increment(n);
    match done {
        Ok(()) => WriterEnd::SentClose(c.reason),
        Err(()) => WriterEnd::Stopped,
    }
}

async fn send_close<W: Sink<Message> + Unpin>(sink: &mut W, c: Close, deadline: &Deadline) -> WriterEnd {
    match deadline.run(sink.send(close_message(c))).await {
        Ok(()) => WriterEnd::SentClose(c.reason),
        Err(()) => WriterEnd::Stopped,
    }
}

/// The deadline of every write and flush (`--write-timeout-seconds`), and
/// the connection's span, the parent of the line that says one was missed.
pub(super) struct Deadline {
    pub(super) limit: Duration,
    pub(super) span: Span,
}

impl Deadline {
    /// A write or flush with its deadline: a client that does not read makes
    /// it miss, and the connection ends.
    async fn run<T, E>(&self, f: impl Future<Output = Result<T, E>>) -> Result<T, ()> {
        match tokio::time::timeout(self.limit, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(()),
            Err(_) => {
                metrics::counter!("wz_ws_write_timeouts_total").increment(1);
                debug!(parent: &self.span, "write deadline missed; closing the connection");
                Err(())
            }
        }
    }
}

/// Messages longer than this go out as fragments of this size. tungstenite's
/// write buffer keeps the capacity of the largest frame it ever held, for
/// the life of the connection: a screen sent a 106 kB snapshot kept ~119 KiB
/// resident (issue 11); with fragments ~16 KiB, 4 more than a fresh one.
/// Browsers and every WebSocket client reassemble fragmented messages
/// (RFC 6455 §5.4). The common messages (events, stats: a few hundred
/// bytes to a few KiB) stay one frame each.
const FRAGMENT_BYTES: usize = BUFFER_BYTES;

/// Queues one text message: the hub encodes every frame from a `String`, so
/// the bytes are UTF-8 (a fragment may end inside a character; the client
/// checks the reassembled message).
async fn feed<W: Sink<Message> + Unpin>(sink: &mut W, mut bytes: bytes::Bytes) -> Result<(), ()> {
    if bytes.len() <= FRAGMENT_BYTES {
        let text = Utf8Bytes::try_from(bytes).map_err(|_| ())?;
        return sink.feed(Message::Text(text)).await.map_err(|_| ());
    }
    debug_assert!(std::str::from_utf8(&bytes).is_ok(), "frames are encoded from strings");
    let mut opcode = OpCode::Data(Data::Text);
    while bytes.len() > FRAGMENT_BYTES {
        let part = bytes.split_to(FRAGMENT_BYTES);
        sink.feed(Message::Frame(Frame::message(part, opcode, false))).await.map_err(|_| ())?;
        opcode = OpCode::Data(Data::Continue);
    }
    sink.feed(Message::Frame(Frame::message(bytes, opcode, true))).await.map_err(|_| ())
}
