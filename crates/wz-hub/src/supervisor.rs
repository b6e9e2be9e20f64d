//! Supervision of session actors.
//!
//! Each session's actor task is owned by one supervisor task (itself owned by
//! the hub's task set), so no actor is ever detached. When an actor panics
//! the supervisor logs it, counts it in `wz_actor_restarts_total`, reloads the
//! session from the store (only what the store confirmed was ever
//! acknowledged, so nothing acknowledged is lost), starts a new actor and
//! routes the session to it. The old actor's connections lose their close
//! channel with it, which their receivers report as `restarting` (1012): the
//! clients reconnect and resume from the new actor.
//!
//! Restarts back off (100 ms doubling to 5 s) and are bounded: after
//! `HubConfig::max_restarts` within a minute the supervisor gives up, logs an
//! error, and the session refuses connections until the server restarts (a
//! session that keeps crashing must not keep its clients in a reconnect loop
//! against a half-working server).

use crate::actor::Exit;
use crate::{Inner, load_session};
use std::collections::VecDeque;
use std::sync::Weak;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{error, info};

/// The actor's handle. When the hub (and with it this supervisor) is
/// dropped, the actor is not aborted: it keeps serving the connections it
/// has and ends by itself (`Exit::InboxClosed`) once the last one is gone,
/// as before supervision existed (embedders drop the hub and keep sockets).
struct Owned<T>(JoinHandle<T>);

const WINDOW: Duration = Duration::from_secs(60);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Watches one session's actor until it stops on purpose (shutdown, or the
/// hub is gone); restarts it when it panics.
pub(crate) async fn supervise(inner: Weak<Inner>, session: String, actor: JoinHandle<Exit>) {
    let mut actor = Owned(actor);
    let mut restarts: VecDeque<Instant> = VecDeque::new();
    loop {
        let why = match (&mut actor.0).await {
            Ok(Exit::Stopped) | Ok(Exit::InboxClosed) => return,
            Err(e) if e.is_cancelled() => return,
            Err(e) => panic_message(e),
        };
        metrics::counter!("wz_actor_restarts_total").increment(1);
        let now = Instant::now();
        while restarts.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            restarts.pop_front();
        }
        let Some(hub) = inner.upgrade() else { return };
        if restarts.len() >= hub.config.max_restarts as usize {
            error!(session = %session, error = %why, restarts = restarts.len(), "session actor failed again; giving up: the session refuses connections until the server is restarted");
            // A queue nobody reads: every connect and command gets `Closed`.
            if let Some(mut h) = hub.sessions.get_mut(&session) {
                h.tx = tokio::sync::mpsc::channel(1).0;
            }
            hub.supervision.send_modify(|n| *n += 1);
            return;
        }
        error!(session = %session, error = %why, "session actor panicked; restarting it from the store");
        drop(hub);
        let mut backoff = FIRST_BACKOFF.saturating_mul(1 << restarts.len().min(6)).min(MAX_BACKOFF);
        restarts.push_back(now);
        let loaded = loop {
            tokio::time::sleep(backoff).await;
            let Some(hub) = inner.upgrade() else { return };
            match load_session(&hub.store, &session).await {
                Ok(loaded) => break loaded,
                Err(e) => {
                    error!(session = %session, error = %e, "cannot reload the session to restart it; retrying");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        };
        let Some(hub) = inner.upgrade() else { return };
        let seq = loaded.session.seq();
        let link = hub.sessions.get(&session).and_then(|h| h.link.clone());
        let (tx, task) = hub.start_actor(loaded, link);
        actor = Owned(task);
        match hub.sessions.get_mut(&session) {
            Some(mut h) => h.tx = tx,
            None => return,
        }
        hub.supervision.send_modify(|n| *n += 1);
        info!(session = %session, seq, "session actor restarted");
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned()),
        Err(e) => e.to_string(),
    }
}
