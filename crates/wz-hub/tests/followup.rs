//! The hub's side of the follow-up (issue 8): an evidence file is checked
//! before anything is stored, stored before the event that names it, served
//! only to who may see it; the public progress page is rendered once per
//! change and shared.

mod common;

use bytes::Bytes;
use common::*;
use std::sync::Arc;
use wz_domain::assignment::{AssignmentCommand, DraftSpec, ItemId};
use wz_domain::{CalendarDate, Command, UnitId, Viewer};
use wz_hub::{Principal, PrincipalKey};
use wz_protocol::ErrorCode;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn unit(u: &str) -> Viewer {
    Viewer::Unit(UnitId::new(u))
}

fn principal(h: &Harness, u: &str) -> Principal {
    Principal { session: h.id.clone(), key: PrincipalKey::Unit(UnitId::new(u)) }
}

/// An issued item for unit u1, in a session still questioning.
async fn issued_item(h: &Harness) {
    h.advance("check_in").await;
    h.advance("questioning").await;
    let spec = DraftSpec {
        sources: vec![],
        askers: vec![],
        lead: UnitId::new("u1"),
        requirement: "排查校车安全隐患".into(),
        deadline: CalendarDate::parse("2099-12-31"),
    };
    for cmd in [AssignmentCommand::Draft(spec), AssignmentCommand::Issue { item: ItemId(1) }] {
        h.hub.command(&h.id, Viewer::Office, Command::Assignment(cmd)).await.unwrap().expect("accepted");
    }
}

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[tokio::test]
async fn a_refused_upload_stores_nothing_and_an_accepted_one_is_stored_before_it_is_recorded() {
    let h = Harness::memory(quiet_config(), 4).await;
    issued_item(&h).await;
    let id = sha256(PNG);
    let stored = |h: &Harness| {
        let (store, session, id) = (h.hub.store().clone(), h.id.clone(), id.clone());
        async move { store.attachment(&session, &id).await.unwrap() }
    };
    // Another unit's item, a script named .png, an unknown item: refused, nothing stored.
    let e = h.hub.attach(&principal(&h, "u2"), 1, "照片.png", Bytes::from_static(PNG)).await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = h.hub.attach(&principal(&h, "u1"), 1, "照片.png", Bytes::from_static(b"<script>alert(1)</script>")).await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::Invalid);
    let e = h.hub.attach(&principal(&h, "u1"), 9, "照片.png", Bytes::from_static(PNG)).await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(stored(&h).await, None, "a refused upload stores nothing");

    let ack = h.hub.attach(&principal(&h, "u1"), 1, "照片.png", Bytes::from_static(PNG)).await.unwrap().expect("accepted");
    assert_eq!(stored(&h).await.as_deref(), Some(PNG));
    let snap = h.snapshot(unit("u1")).await;
    assert_eq!(snap["seq"], ack.seq);
    assert_eq!(snap["items"][0]["evidence"][0]["id"], id.as_str());
    assert_eq!(snap["items"][0]["evidence"][0]["kind"], "png");
    // The same file again: already done (a retried upload is recognisable).
    let e = h.hub.attach(&principal(&h, "u1"), 1, "again.png", Bytes::from_static(PNG)).await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyDone);

    // Private until the office publishes it; never to another unit.
    assert!(h.hub.file(&h.id, None, &id).await.unwrap().is_none());
    assert!(h.hub.file(&h.id, Some(unit("u2")), &id).await.unwrap().is_none());
    let (info, bytes) = h.hub.file(&h.id, Some(unit("u1")), &id).await.unwrap().expect("its unit may");
    assert_eq!((info.name.as_str(), bytes.as_ref()), ("照片.png", PNG));
    let publish = AssignmentCommand::PublishEvidence { item: ItemId(1), id: id.clone(), public: true };
    h.hub.command(&h.id, Viewer::Office, Command::Assignment(publish)).await.unwrap().expect("accepted");
    assert!(h.hub.file(&h.id, None, &id).await.unwrap().is_some(), "published: the public may fetch it");
    assert!(h.hub.file(&h.id, None, "no-such-file").await.unwrap().is_none());
}

#[tokio::test]
async fn the_progress_page_is_rendered_once_per_change_and_shared() {
    let h = Harness::memory(quiet_config(), 4).await;
    issued_item(&h).await;
    let a = h.hub.progress(&h.id).await.unwrap();
    let b = h.hub.progress(&h.id).await.unwrap();
    assert!(Arc::ptr_eq(&a, &b), "nothing changed: the same rendering is shared");
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["board"]["overall"]["issued"], 1);
    assert_eq!(v["items"][0]["requirement"], "排查校车安全隐患");
    let note = AssignmentCommand::AddNote { item: ItemId(1), text: "已排查12辆校车".into() };
    h.hub.command(&h.id, unit("u1"), Command::Assignment(note)).await.unwrap().expect("accepted");
    let c = h.hub.progress(&h.id).await.unwrap();
    assert!(!Arc::ptr_eq(&a, &c), "a change renders it again");
    assert!(!c.contains("已排查12辆校车"), "notes are not public");
}
