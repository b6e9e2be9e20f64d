//! Credential checks: put, replace and list per session, isolation between
//! sessions, and a missing session.

use super::{assert_not_found, created};
use crate::DynStore;

/// Put inserts, put again replaces (revokes), listing is sorted by principal.
pub async fn credentials_put_replace_list(store: DynStore) {
    created(&*store, "s1").await;
    assert!(store.credentials("s1").await.expect("credentials").is_empty());
    let pair = |p: &str, h: &str| (p.to_string(), h.to_string());
    store.put_credentials("s1", vec![pair("delegate:d017", "h1"), pair("chair", "h2"), pair("delegate:d002", "h3")]).await.expect("put");
    store.put_credentials("s1", vec![]).await.expect("empty put is a no-op");
    store.put_credentials("s1", vec![pair("delegate:d017", "h1-new"), pair("official:o1", "h4")]).await.expect("put again");
    store.put_credentials("s1", vec![pair("x", "first"), pair("x", "last")]).await.expect("put with duplicate principal");
    assert_eq!(
        store.credentials("s1").await.expect("credentials"),
        vec![
            pair("chair", "h2"),
            pair("delegate:d002", "h3"),
            pair("delegate:d017", "h1-new"),
            pair("official:o1", "h4"),
            pair("x", "last"),
        ],
        "credentials must be sorted, replaced in place, last duplicate wins"
    );
}

/// One session's credentials are invisible to another, even with prefix ids.
pub async fn credentials_isolated_per_session(store: DynStore) {
    for id in ["s", "s1", "s10", "t"] {
        created(&*store, id).await;
    }
    let pair = |p: &str, h: &str| (p.to_string(), h.to_string());
    store.put_credentials("s1", vec![pair("chair", "a")]).await.expect("put s1");
    store.put_credentials("s10", vec![pair("chair", "b"), pair("", "empty-principal")]).await.expect("put s10");
    store.put_credentials("s", vec![pair("zz", "c")]).await.expect("put s");
    assert_eq!(store.credentials("s1").await.expect("s1"), vec![pair("chair", "a")]);
    assert_eq!(store.credentials("s10").await.expect("s10"), vec![pair("", "empty-principal"), pair("chair", "b")]);
    assert_eq!(store.credentials("s").await.expect("s"), vec![pair("zz", "c")]);
    assert!(store.credentials("t").await.expect("t").is_empty());
}

/// Credentials of an unknown session: NotFound both ways, nothing created.
pub async fn credentials_missing_session(store: DynStore) {
    let r = store.put_credentials("ghost", vec![("chair".into(), "h".into())]).await;
    assert_not_found("put_credentials on missing session", r, "ghost");
    assert_not_found("empty put_credentials on missing", store.put_credentials("ghost", vec![]).await, "ghost");
    assert_not_found("credentials of missing session", store.credentials("ghost").await, "ghost");
    assert!(store.load("ghost").await.expect("load").is_none());
    assert!(store.sessions().await.expect("sessions").is_empty());
}
