//! What a backup reads and a restore writes: every attachment id of a
//! session, and a session imported whole, in one step, exactly as given.

use super::{assert_claimed, assert_not_found, b, claiming, claims_map, counters_map, counting, created, events, loaded, rec};
use crate::{DynStore, StoreError, StoredSession};
use bytes::Bytes;

/// A session as a backup holds it: header, three events, a claim, two counters.
fn backed_up(session: &str) -> StoredSession {
    StoredSession {
        meta: b(&format!("header of {session}")),
        events: events(session, 1, 3),
        claims: claims_map(&[("ballot/1/u/d1", "b-1")]),
        counters: counters_map(&[("tally/1/u/satisfied", 1), ("other", 7)]),
    }
}

fn creds(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(p, h)| (p.to_string(), h.to_string())).collect()
}

/// An imported session loads back exactly (header, log, claims, counters),
/// has its credentials, is listed, and carries on like any other: the next
/// append is at seq 4, a claim it came with is held, and counters count on.
pub async fn import_then_load_and_carry_on(store: DynStore) {
    let content = backed_up("s1");
    let c = creds(&[("moderator", "h-m"), ("delegate:d1", "h-d1")]);
    store.import_session("s1", content.clone(), c).await.expect("import");
    assert_eq!(loaded(&*store, "s1").await, content, "load returns what was imported, byte for byte");
    assert_eq!(store.credentials("s1").await.expect("credentials"), creds(&[("delegate:d1", "h-d1"), ("moderator", "h-m")]));
    assert_eq!(store.sessions().await.expect("sessions"), ["s1"]);
    assert_eq!(store.attachment_ids("s1").await.expect("attachment ids"), Vec::<String>::new());

    let again = store.append("s1", 4, vec![claiming("e4", "ballot/1/u/d1", "b-2", None)]).await;
    assert_claimed("a claim the import brought", again, "s1", "ballot/1/u/d1", "b-1");
    store.append("s1", 4, vec![counting("e4", "tally/1/u/satisfied")]).await.expect("the next append is at seq 4");
    let after = loaded(&*store, "s1").await;
    assert_eq!(after.events.len(), 4);
    assert_eq!(after.counters, counters_map(&[("tally/1/u/satisfied", 2), ("other", 7)]));
}

/// A session that exists is never overwritten: AlreadyExists, and nothing
/// of it changes. A session without events imports too.
pub async fn import_refuses_an_existing_session(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, vec![rec("mine")]).await.expect("append");
    store.put_credentials("s1", creds(&[("moderator", "mine")])).await.expect("credentials");
    let before = loaded(&*store, "s1").await;
    match store.import_session("s1", backed_up("s1"), creds(&[("moderator", "theirs")])).await {
        Err(StoreError::AlreadyExists(s)) => assert_eq!(s, "s1"),
        other => panic!("import over an existing session: want AlreadyExists, got {other:?}"),
    }
    assert_eq!(loaded(&*store, "s1").await, before, "the refused import changed nothing");
    assert_eq!(store.credentials("s1").await.expect("credentials"), creds(&[("moderator", "mine")]));

    let empty = StoredSession { meta: b("empty"), events: Vec::new(), claims: Default::default(), counters: Default::default() };
    store.import_session("s2", empty.clone(), Vec::new()).await.expect("import of a session without events");
    assert_eq!(loaded(&*store, "s2").await, empty);
    store.append("s2", 1, vec![rec("first")]).await.expect("its first append is at seq 1");
    assert_eq!(store.sessions().await.expect("sessions"), ["s1", "s2"]);
}

/// Attachment ids are listed sorted, per session (a session whose id is a
/// prefix of another's sees only its own), and only for a session that exists.
pub async fn attachment_ids_sorted_per_session(store: DynStore) {
    for s in ["s", "s1", "t"] {
        created(&*store, s).await;
    }
    for id in ["sha256-b", "sha256-a", "sha256-c"] {
        store.put_attachment("s1", id, Bytes::from(id.as_bytes().to_vec())).await.expect("put");
    }
    store.put_attachment("t", "sha256-a", Bytes::from_static(b"other")).await.expect("put");
    assert_eq!(store.attachment_ids("s1").await.expect("ids"), ["sha256-a", "sha256-b", "sha256-c"]);
    assert_eq!(store.attachment_ids("t").await.expect("ids"), ["sha256-a"]);
    assert_eq!(store.attachment_ids("s").await.expect("ids"), Vec::<String>::new());
    assert_not_found("attachment_ids", store.attachment_ids("nope").await, "nope");
}
