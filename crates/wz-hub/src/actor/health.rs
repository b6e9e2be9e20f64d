//! Store health and the venue board, as the actor shows them.
//!
//! `store_available` in `stats` is the probe's last answer, and false while
//! a write of this session has been in flight longer than the health timeout
//! (so clients learn of a stalled store within about a second, even between
//! probes). The probe also re-reads the store's persistence settings: a
//! problem appears in `warnings` and pauses evaluations, and both go away
//! when the setting is fixed.

use super::SessionActor;
use crate::StoreHealth;
use std::collections::BTreeMap;
use tokio::sync::watch;
use wz_domain::{Perspective, VenueId};
use wz_protocol::render;

/// The next store health value; pending forever without a probe, `None`
/// when the probe is gone.
pub(super) async fn changed(h: &mut Option<watch::Receiver<StoreHealth>>) -> Option<StoreHealth> {
    match h {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

impl SessionActor {
    pub(super) async fn on_health(&mut self, changed: Option<StoreHealth>) {
        match changed {
            Some(h) => {
                self.set_store_available(h.available);
                self.set_store_problems(h.problems);
                if h.available && self.suspect && self.inflight.is_none() {
                    // Back: show clients what actually landed.
                    self.suspect = !self.reload().await;
                }
            }
            None => self.health = None,
        }
    }

    /// Reads the persistence settings again right before an evaluation
    /// opens (the probe's last reading may be up to an interval old). `Err`
    /// says why they could not be read in time.
    pub(super) async fn recheck_persistence(&mut self) -> Result<(), String> {
        if self.config.allow_unsafe_store {
            return Ok(());
        }
        match tokio::time::timeout(self.config.health_timeout, self.store.persistence_problems()).await {
            Ok(Ok(problems)) => {
                self.set_store_problems(problems);
                Ok(())
            }
            Ok(Err(e)) => Err(format!("the store's persistence settings cannot be read ({e})")),
            Err(_) => Err("the store did not report its persistence settings in time".to_owned()),
        }
    }

    /// Records a venue's heartbeat; the board only needs it to within seconds,
    /// so stats go out for it at most every 5 s per venue.
    pub(super) fn seen(&mut self, venue: VenueId) {
        let now = (self.config.clock)();
        let last = self.last_seen.insert(venue, now);
        if last.is_none_or(|t| now.0.saturating_sub(t.0) >= 5_000) {
            self.stats_dirty = true;
        }
    }

    pub(super) fn set_store_available(&mut self, ok: bool) {
        if self.store_available != ok {
            self.store_available = ok;
            self.stats_dirty = true;
        }
    }

    fn set_store_problems(&mut self, problems: Vec<String>) {
        if self.store_problems != problems {
            self.store_problems = problems;
            self.stats_dirty = true;
        }
    }

    /// Whether the store confirms writes: available and not stalled.
    pub(super) fn store_ok(&self) -> bool {
        self.store_available && !self.write_stalled
    }

    /// The health a viewer that is not staff is shown: only whether the store
    /// confirms writes. Cheaper than [`Self::health`], which counts every open
    /// connection (a reconnect storm of screens must not count 10,000
    /// connections per connect, issue 11).
    pub(super) fn public_health(&self) -> render::Health {
        render::Health {
            store_available: self.store_ok(),
            warnings: Vec::new(),
            connections: BTreeMap::new(),
            last_seen: BTreeMap::new(),
            chain_head: None,
        }
    }

    /// The health for `p`: the full board for staff, [`Self::public_health`] otherwise.
    pub(super) fn health_for(&self, p: &Perspective) -> render::Health {
        if p.is_staff() { self.health() } else { self.public_health() }
    }

    pub(super) fn health(&self) -> render::Health {
        let mut warnings = self.config.warnings.clone();
        if !self.store_problems.is_empty() {
            let why = self.store_problems.join("; ");
            warnings.push(match self.config.allow_unsafe_store {
                true => format!("不安全的存储配置 unsafe store settings: {why}"),
                false => format!("存储配置不安全，测评已暂停 unsafe store settings, evaluations paused: {why}"),
            });
        }
        for problems in self.review.values() {
            warnings.extend(problems.iter().cloned());
        }
        render::Health {
            store_available: self.store_ok(),
            warnings,
            connections: self.connection_counts(),
            last_seen: self.all_last_seen(),
            chain_head: Some(self.head.hex()),
        }
    }
}
