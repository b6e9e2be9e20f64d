//! The follow-up's reads (issue 8), answered by the session's actor from
//! the confirmed state: checking a command before a file is stored for it,
//! the public progress page, and who may fetch which evidence file.
//!
//! Kept out of the actor's loop so that the long-lived second half of a
//! session does not grow the live session's single writer.

use super::SessionActor;
use std::sync::Arc;
use wz_domain::assignment::FileKind;
use wz_domain::{CalendarDate, Command, Perspective, Viewer};
use wz_protocol::ErrorCode;
use wz_protocol::server::ErrorDto;

/// The progress page, rendered once per (seq, date) and shared by every
/// request until either changes: a county opening the page at once costs
/// one rendering, not one per visitor.
#[derive(Default)]
pub(crate) struct ProgressCache(Option<(u64, CalendarDate, Arc<str>)>);

/// An evidence file as a viewer may fetch it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: FileKind,
    pub name: String,
}

impl SessionActor {
    /// Would `cmd` by `viewer` be accepted now? (Nothing is recorded.)
    pub(super) fn check(&self, viewer: &Viewer, cmd: &Command) -> Result<(), ErrorDto> {
        let now = (self.config.clock)().max(self.last_at);
        self.state.decide(viewer, cmd, now).map(|_| ()).map_err(|e| ErrorDto::new(None, ErrorCode::from(&e), e.to_string()))
    }

    /// The public progress page's JSON.
    pub(super) fn progress(&mut self) -> Arc<str> {
        let now = (self.config.clock)();
        let today = self.state.today(now);
        let seq = self.state.seq();
        match &self.progress.0 {
            Some((s, d, text)) if *s == seq && *d == today => Arc::clone(text),
            _ => {
                let text: Arc<str> = wz_protocol::assignment::progress(&self.state, now).encode().into();
                self.progress.0 = Some((seq, today, Arc::clone(&text)));
                text
            }
        }
    }

    /// The file `id` if `viewer` (`None`: the public) may fetch it: a
    /// public file for anyone, any file of an item for those who see the
    /// item's private evidence (its units, the office, the auditor, its askers).
    pub(super) fn file(&self, viewer: Option<&Viewer>, id: &str) -> Option<FileInfo> {
        let p = viewer.map_or(Perspective::Public, Perspective::for_snapshot);
        self.state.assignments().items().find_map(|it| {
            let e = it.evidence.iter().find(|e| e.id == id)?;
            let may = e.public && p.sees_item(it) || p.sees_item(it) && p.sees_private_evidence(it);
            may.then(|| FileInfo { kind: e.kind, name: e.name.clone() })
        })
    }
}
