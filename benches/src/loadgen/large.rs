//! The `large` scenario: idle memory after a large first message. A fresh
//! channel is filled before anyone subscribes (our server: approved
//! questions with long texts, so every screen's snapshot is about
//! `--large-bytes`; nchan: one message of that size, which its
//! `/sub-oldest` location hands each new subscriber). Then N subscribers
//! connect, each reads that first message, and the server is left idle:
//! its resident memory before and after, per subscriber, is what a
//! connection keeps of a large frame it has sent (issue 11 found ours kept
//! the whole frame in its write buffer for ever).

use crate::step::Setup;
use crate::subs::{self, Kind, Ws};
use crate::target;
use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::Ipv4Addr;
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Characters per question of our server (the session's `question_chars`).
const CHUNK: usize = 4000;

pub struct Params<'a> {
    pub setup: Setup<'a>,
    pub bytes: usize,
}

/// Runs the step and returns its result line.
pub async fn run(p: &Params<'_>) -> anyhow::Result<Value> {
    // Let the server release the previous step's connections first.
    tokio::time::sleep(p.setup.settle).await;
    let rss_before = p.setup.pids.rss_kb();
    let mut ch = target::open(p.setup.kind, p.setup.server, p.setup.admin_token, &p.setup.channel, CHUNK).await?;
    ch.publisher.preload(p.bytes, CHUNK).await.context("filling the channel")?;
    let path = match p.setup.kind {
        Kind::Wenzheng => ch.sub_path.clone(),
        Kind::Nchan => ch.sub_path.replacen("/sub?", "/sub-oldest?", 1),
    };
    let t = Instant::now();
    let sockets = subs::connect_all(
        std::slice::from_ref(&p.setup.server),
        &path,
        p.setup.sources,
        p.setup.subscribers,
        p.setup.concurrency,
        p.setup.kind,
        p.setup.connect_guard,
    )
    .await?;
    // Ours: `connect_one` read the snapshot; its size comes from one more
    // screen. nchan: every subscriber reads its first message here.
    let first_bytes = match p.setup.kind {
        Kind::Wenzheng => {
            let mut probe = subs::handshake(Ipv4Addr::LOCALHOST, p.setup.server, &path).await.map_err(|f| anyhow!("probe: {f}"))?;
            first_text_len(&mut probe).await?
        }
        Kind::Nchan => 0,
    };
    let mut sockets: Vec<Ws> = sockets.into_iter().map(|(ws, _)| ws).collect();
    let mut lens = Vec::with_capacity(sockets.len());
    if p.setup.kind == Kind::Nchan {
        let read = futures_util::future::join_all(sockets.iter_mut().map(first_text_len));
        for r in tokio::time::timeout(p.setup.connect_guard, read).await.context("subscribers did not get their first message in time")? {
            lens.push(r?);
        }
    }
    let connect_s = t.elapsed().as_secs_f64();
    let first_bytes = lens.iter().copied().min().unwrap_or(first_bytes);
    if first_bytes < p.bytes {
        bail!("the first message holds {first_bytes} bytes, fewer than --large-bytes {}", p.bytes);
    }
    tokio::time::sleep(p.setup.settle).await;
    let rss_after = p.setup.pids.rss_kb();
    drop(sockets);
    drop(ch);
    Ok(json!({
        "scenario": "large",
        "subscribers": p.setup.subscribers,
        "large_bytes": p.bytes,
        "first_message_bytes": first_bytes,
        "connect_s": connect_s,
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "idle_kb_per_sub": (rss_after as f64 - rss_before as f64) / p.setup.subscribers.max(1) as f64,
        "ok": true,
    }))
}

/// Reads until the first text frame and returns its length.
async fn first_text_len(ws: &mut Ws) -> anyhow::Result<usize> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.len()),
            Some(Ok(Message::Close(f))) => bail!("closed before the first message: {f:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("read error before the first message: {e}"),
            None => bail!("connection ended before the first message"),
        }
    }
}
