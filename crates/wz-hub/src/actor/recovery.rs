//! Reading the session back from the store: after a write whose outcome is
//! unknown (a timeout that may still land, a conflict), the store is the
//! record and the actor's copy is replaced by what it holds.

use super::{ConnId, SessionActor};
use crate::ring::Ring;
use bytes::Bytes;
use tracing::{error, warn};
use wz_domain::Viewer;
use wz_protocol::render;

impl SessionActor {
    /// Replaces the state with what the store holds; false if it could not be read.
    pub(super) async fn reload(&mut self) -> bool {
        let id = self.session_id().to_owned();
        match crate::load_session(&self.store, &id).await {
            Ok(loaded) if loaded.session.seq() == self.state.seq() && loaded.epoch == self.epoch => {
                // Nothing landed that we do not know: the restored state is
                // what the store holds, and clients saw nothing unconfirmed.
                self.acked = loaded.acked;
                self.head = loaded.head;
                true
            }
            Ok(loaded) => {
                warn!(session = %id, seq = loaded.session.seq(), "session reloaded from the store");
                self.state = loaded.session;
                self.epoch = loaded.epoch;
                self.head = loaded.head;
                self.acked = loaded.acked;
                self.last_at = self.last_at.max(loaded.last_at);
                // Events that landed without being broadcast are not in the
                // resume window, and connected clients never saw them: every
                // client gets a fresh snapshot, resuming ones too.
                self.ring = Ring::new(self.config.resume_window);
                let now = (self.config.clock)();
                let health = self.health();
                // One snapshot for all screens (issue 11), one each for the rest.
                self.screen_snapshot = None;
                let screens = self.screen_snapshot(now);
                let snaps: Vec<(ConnId, Bytes)> = self
                    .conns
                    .iter()
                    .map(|(id, c)| {
                        let b = match c.viewer {
                            Viewer::Screen => screens.clone(),
                            _ => Bytes::from(render::snapshot(&self.state, self.epoch, &c.viewer, &health, now).encode()),
                        };
                        (*id, b)
                    })
                    .collect();
                for (id, b) in snaps {
                    self.send(id, b);
                }
                self.stats_dirty = true;
                true
            }
            Err(e) => {
                error!(session = %id, error = %e, "could not reload the session from the store");
                false
            }
        }
    }
}
