//! WebSocket clients of the swarm: a connection split into a writer half and
//! a reader task that reads continuously, skips `stats` and `event`
//! messages, and hands every `ack`/`error` on with the instant it was read.
//!
//! Timestamps are taken in the reader task as soon as the frame is read, so a
//! ballot's latency does not include the time its voter task needs to be
//! scheduled again.

use anyhow::{Context, anyhow, bail};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

/// An `ack` or `error` read from the socket, or the end of the connection.
#[derive(Debug)]
pub enum Answer {
    Reply { id: String, ok: bool, body: Value, at: Instant },
    Closed(String),
}

/// One WebSocket connection as a participant.
pub struct Conn {
    sink: Sink,
    answers: mpsc::UnboundedReceiver<Answer>,
    reader: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Conn {
    pub async fn connect(addr: &str, token: &str) -> anyhow::Result<Conn> {
        let url = format!("ws://{addr}/ws?token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await.context("WebSocket handshake")?;
        let (sink, mut stream) = ws.split();
        let (tx, answers) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let why = loop {
                match stream.next().await {
                    Some(Ok(Message::Text(t))) => {
                        let at = Instant::now();
                        // Conflated stats and broadcast events are most of the
                        // traffic: skip them without parsing.
                        let head = &t.as_bytes()[..t.len().min(24)];
                        if head.starts_with(br#"{"type":"stats""#) || head.starts_with(br#"{"type":"event""#) {
                            continue;
                        }
                        let Ok(v) = serde_json::from_str::<Value>(&t) else {
                            break format!("not JSON: {t}");
                        };
                        let ok = match v["type"].as_str() {
                            Some("ack") => true,
                            Some("error") => false,
                            _ => continue,
                        };
                        let id = v["id"].as_str().unwrap_or("").to_owned();
                        if tx.send(Answer::Reply { id, ok, body: v, at }).is_err() {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(f))) => break format!("closed by the server: {f:?}"),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break format!("read error: {e}"),
                    None => break "connection ended".to_owned(),
                }
            };
            let _ = tx.send(Answer::Closed(why));
        });
        Ok(Conn { sink, answers, reader })
    }

    /// Sends one command (a JSON object) as a text frame and flushes it.
    pub async fn send(&mut self, cmd: &Value) -> anyhow::Result<()> {
        self.sink.send(Message::Text(cmd.to_string().into())).await.context("sending a command")
    }

    /// The next answer, or an error after `guard`.
    pub async fn answer(&mut self, guard: Duration) -> anyhow::Result<Answer> {
        match tokio::time::timeout(guard, self.answers.recv()).await {
            Ok(Some(a)) => Ok(a),
            Ok(None) => bail!("reader task ended"),
            Err(_) => bail!("no answer within {guard:?}"),
        }
    }

    /// Waits for exactly one answer to each of `ids` (in any order); any
    /// other answer, a second answer to the same id, or an `error` fails.
    /// Returns the answers in the order of `ids`.
    pub async fn answers_to(&mut self, ids: &[&str], guard: Duration) -> anyhow::Result<Vec<(Value, Instant)>> {
        let mut got: Vec<Option<(Value, Instant)>> = ids.iter().map(|_| None).collect();
        while got.iter().any(Option::is_none) {
            match self.answer(guard).await? {
                Answer::Closed(why) => bail!("connection lost while waiting for {ids:?}: {why}"),
                Answer::Reply { id, ok, body, at } => {
                    let Some(i) = ids.iter().position(|x| *x == id) else {
                        bail!("unexpected answer (a duplicate of an earlier command?): {body}");
                    };
                    if got[i].is_some() {
                        bail!("command {id} answered twice: {body}");
                    }
                    if !ok {
                        bail!("command {id} refused: {body}");
                    }
                    got[i] = Some((body, at));
                }
            }
        }
        Ok(got.into_iter().flatten().collect())
    }

    /// Fails if an answer arrived that nobody asked for.
    pub fn expect_quiet(&mut self) -> anyhow::Result<()> {
        match self.answers.try_recv() {
            Ok(Answer::Reply { body, .. }) => Err(anyhow!("unexpected extra answer: {body}")),
            _ => Ok(()),
        }
    }
}

/// The moderator: commands sent one at a time, each awaited.
pub struct Moderator {
    conn: Conn,
    next: u64,
    guard: Duration,
}

impl Moderator {
    pub async fn connect(addr: &str, token: &str, guard: Duration) -> anyhow::Result<Self> {
        Ok(Self { conn: Conn::connect(addr, token).await.context("moderator")?, next: 0, guard })
    }

    /// Sends `cmd` with a fresh id and returns the ack (an error fails).
    pub async fn call(&mut self, mut cmd: Value) -> anyhow::Result<Value> {
        self.next += 1;
        let id = format!("m-{}", self.next);
        cmd["id"] = json!(id);
        self.conn.send(&cmd).await?;
        let mut got = self.conn.answers_to(&[&id], self.guard).await.with_context(|| format!("moderator: {cmd}"))?;
        Ok(got.remove(0).0)
    }
}
