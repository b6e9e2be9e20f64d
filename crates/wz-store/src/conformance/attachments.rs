//! Attachment checks: write-once storage with idempotent retries, isolation
//! between sessions, the size limit, a missing session; nothing of an
//! attachment shows in `load`.

use super::{assert_not_found, created};
use crate::{DynStore, MAX_ATTACHMENT_BYTES, StoreError};
use bytes::Bytes;

/// Bytes of every value, and a JPEG-like header: stored and read back exactly.
fn photo(n: usize) -> Bytes {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..n).map(|i| (i % 251) as u8));
    Bytes::from(v)
}

/// Put, read back byte for byte; the same bytes again are Ok; other bytes
/// under the same id are refused and change nothing; an unknown id is None.
pub async fn attachments_are_write_once(store: DynStore) {
    created(&*store, "s1").await;
    let a = photo(300_000);
    store.put_attachment("s1", "sha256-a", a.clone()).await.expect("put");
    assert_eq!(store.attachment("s1", "sha256-a").await.expect("get"), Some(a.clone()));
    store.put_attachment("s1", "sha256-a", a.clone()).await.expect("a retried upload of the same bytes is Ok");
    match store.put_attachment("s1", "sha256-a", photo(10)).await {
        Err(StoreError::AttachmentDiffers { session, id }) => assert_eq!((session.as_str(), id.as_str()), ("s1", "sha256-a")),
        other => panic!("other bytes under a used id: want AttachmentDiffers, got {other:?}"),
    }
    assert_eq!(store.attachment("s1", "sha256-a").await.expect("get"), Some(a), "the refused write changed nothing");
    assert_eq!(store.attachment("s1", "sha256-b").await.expect("get"), None);
    store.put_attachment("s1", "empty", Bytes::new()).await.expect("an empty attachment");
    assert_eq!(store.attachment("s1", "empty").await.expect("get"), Some(Bytes::new()));
    // Attachments are not part of the session's log or derived state.
    let loaded = store.load("s1").await.expect("load").expect("session");
    assert!(loaded.events.is_empty() && loaded.claims.is_empty() && loaded.counters.is_empty());
}

/// One session's attachments are invisible to another, even with prefix ids.
pub async fn attachments_isolated_per_session(store: DynStore) {
    for s in ["s", "s1", "t"] {
        created(&*store, s).await;
    }
    store.put_attachment("s1", "x", photo(5)).await.expect("put");
    assert_eq!(store.attachment("s", "x").await.expect("get"), None);
    assert_eq!(store.attachment("t", "x").await.expect("get"), None);
    store.put_attachment("t", "x", photo(6)).await.expect("the same id in another session is another attachment");
    assert_eq!(store.attachment("s1", "x").await.expect("get"), Some(photo(5)));
}

/// A missing session, and an attachment over the limit (refused before
/// anything is sent to the backend).
pub async fn attachments_missing_session_and_limit(store: DynStore) {
    assert_not_found("put_attachment", store.put_attachment("nope", "x", photo(1)).await, "nope");
    assert_not_found("attachment", store.attachment("nope", "x").await, "nope");
    created(&*store, "s1").await;
    let big = Bytes::from(vec![7u8; MAX_ATTACHMENT_BYTES + 1]);
    match store.put_attachment("s1", "big", big).await {
        Err(StoreError::AttachmentTooLarge { len, max }) => assert_eq!((len, max), (MAX_ATTACHMENT_BYTES + 1, MAX_ATTACHMENT_BYTES)),
        other => panic!("want AttachmentTooLarge, got {other:?}"),
    }
    assert_eq!(store.attachment("s1", "big").await.expect("get"), None);
}
