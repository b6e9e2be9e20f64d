//! The hub's side of the follow-up (issue 8): evidence files in and out,
//! and the public progress page.
//!
//! A file is checked before it is stored: its kind from its first bytes
//! (never its name), its size, and the command it comes with against the
//! session as it is now, so a wrong role, another unit's item or a full
//! item stores nothing. Then the bytes go to the store under their SHA-256
//! and only then is the event that names them appended: an acknowledged
//! event never names a missing file.

use crate::actor::{ActorMsg, FileInfo};
use crate::{CommandResult, Hub, HubError, Principal};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::oneshot;
use wz_domain::assignment::{AssignmentCommand, ItemId, NewFile, Rules, sniff};
use wz_domain::{Command, Viewer};
use wz_protocol::ErrorCode;
use wz_protocol::server::ErrorDto;

/// Largest evidence file accepted (the domain's per-file limit): the
/// server refuses a larger body before reading it.
pub const MAX_EVIDENCE_BYTES: u64 = Rules::DEFAULT_EVIDENCE_BYTES;

impl Hub {
    /// Attaches a file to an item as `principal` (the item's unit).
    pub async fn attach(&self, principal: &Principal, item: u32, name: &str, data: Bytes) -> Result<CommandResult, HubError> {
        let refuse = |code, message: String| Ok(Err(ErrorDto::new(None, code, message)));
        let Some(kind) = sniff(&data) else {
            return refuse(ErrorCode::Invalid, "the file is not a JPEG, PNG, WebP or PDF (recognised by its content)".into());
        };
        if data.len() as u64 > MAX_EVIDENCE_BYTES {
            return refuse(ErrorCode::Invalid, format!("file larger than {MAX_EVIDENCE_BYTES} bytes"));
        }
        let id = hex::encode(Sha256::digest(&data));
        let file = NewFile { id: id.clone(), name: name.to_owned(), kind, bytes: data.len() as u64 };
        let cmd = Command::Assignment(AssignmentCommand::AddEvidence { item: ItemId(item), file });
        let viewer = principal.viewer();
        let tx = self.sender(&principal.session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::Check { viewer: viewer.clone(), cmd: cmd.clone(), reply }).await.map_err(|_| HubError::Closed)?;
        if let Err(e) = rx.await.map_err(|_| HubError::Closed)? {
            return Ok(Err(e));
        }
        self.store().put_attachment(&principal.session, &id, data).await?;
        self.command(&principal.session, viewer, cmd).await
    }

    /// An evidence file's description and bytes, if `viewer` (`None`: the
    /// public) may fetch it; `None` both when there is no such file and when
    /// the viewer may not see it, so ids cannot be probed.
    pub async fn file(&self, session: &str, viewer: Option<Viewer>, id: &str) -> Result<Option<(FileInfo, Bytes)>, HubError> {
        let tx = self.sender(session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::File { viewer, id: id.to_owned(), reply }).await.map_err(|_| HubError::Closed)?;
        let Some(info) = rx.await.map_err(|_| HubError::Closed)? else { return Ok(None) };
        Ok(self.store().attachment(session, id).await?.map(|b| (info, b)))
    }

    /// The public progress page's JSON, rendered once per change (and per
    /// day: "overdue" moves with the date).
    pub async fn progress(&self, session: &str) -> Result<Arc<str>, HubError> {
        let tx = self.sender(session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::Progress { reply }).await.map_err(|_| HubError::Closed)?;
        rx.await.map_err(|_| HubError::Closed)
    }

    /// A read-only copy of a session's confirmed state with its chain head:
    /// what documents and spreadsheets are rendered from. Cheap: the closed
    /// evaluations and the assignment list are shared, not copied.
    pub async fn state(&self, session: &str) -> Result<crate::SessionState, HubError> {
        let tx = self.sender(session)?;
        let (reply, rx) = oneshot::channel();
        tx.send(ActorMsg::State { reply }).await.map_err(|_| HubError::Closed)?;
        rx.await.map_err(|_| HubError::Closed)
    }
}
