//! Derived-state checks: claims, counters, conflicts that must take no claim
//! and count nothing, and `reset_derived`.

use std::collections::BTreeMap;

use super::{
    assert_claimed, assert_conflict, assert_not_found, b, claiming, claims_map, counters_map, counting, created, events, loaded, log_of,
    rec, recs,
};
use crate::DynStore;

/// A new session holds no claims and no counters, and plain records add none.
pub async fn derived_state_starts_empty(store: DynStore) {
    created(&*store, "s1").await;
    let s = loaded(&*store, "s1").await;
    assert!(s.claims.is_empty(), "a new session holds claims: {:?}", s.claims);
    assert!(s.counters.is_empty(), "a new session has counters: {:?}", s.counters);
    store.append("s1", 1, recs(events("s1", 1, 3))).await.expect("append plain records");
    let s = loaded(&*store, "s1").await;
    assert!(s.claims.is_empty(), "plain records took claims: {:?}", s.claims);
    assert!(s.counters.is_empty(), "plain records counted: {:?}", s.counters);
}

/// A held claim refuses the whole batch with Claimed naming the holder, and
/// nothing of that batch is written: log, claims and counters unchanged.
pub async fn claims_are_enforced(store: DynStore) {
    created(&*store, "s1").await;
    let key = "ballot:e1:u1:d017";
    store.append("s1", 1, vec![rec("open"), claiming("ballot 1", key, "yes", Some("e1:u1:yes"))]).await.expect("first ballot");
    let before = loaded(&*store, "s1").await;
    assert_eq!(before.claims, claims_map(&[(key, "yes")]), "claims after first ballot");
    assert_eq!(before.counters, counters_map(&[("e1:u1:yes", 1)]), "counters after first ballot");

    // The batch would also write a free claim, a count and a plain record:
    // none of them may land.
    let r = store
        .append(
            "s1",
            3,
            vec![
                claiming("other ballot", "ballot:e1:u1:d002", "no", Some("e1:u1:no")),
                rec("plain"),
                claiming("second ballot", key, "no", Some("e1:u1:no")),
            ],
        )
        .await;
    assert_claimed("second ballot for a held claim", r, "s1", key, "yes");
    let after = loaded(&*store, "s1").await;
    assert_eq!(after.events, before.events, "a refused batch changed the log");
    assert_eq!(after.claims, before.claims, "a refused batch changed claims");
    assert_eq!(after.counters, before.counters, "a refused batch changed counters");

    // Same value again is still a second claim: holding is by key.
    assert_claimed("same claim, same value", store.append("s1", 3, vec![claiming("again", key, "yes", None)]).await, "s1", key, "yes");
    // The sequence slot stays free for a valid batch.
    store
        .append("s1", 3, vec![claiming("other ballot", "ballot:e1:u1:d002", "no", Some("e1:u1:no"))])
        .await
        .expect("a different claim at the free seq");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("open"), b("ballot 1"), b("other ballot")]);
    assert_eq!(s.claims, claims_map(&[(key, "yes"), ("ballot:e1:u1:d002", "no")]));
    assert_eq!(s.counters, counters_map(&[("e1:u1:yes", 1), ("e1:u1:no", 1)]));
}

/// The same claim key twice in one batch is refused whole; `held_by` is the
/// value of its first occurrence in the batch.
pub async fn duplicate_claim_in_batch(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, vec![rec("open")]).await.expect("append");
    let r = store
        .append("s1", 2, vec![claiming("a", "k", "first", Some("n")), counting("b", "n"), claiming("c", "k", "second", Some("n"))])
        .await;
    assert_claimed("duplicate claim in one batch", r, "s1", "k", "first");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("open")], "a refused batch changed the log");
    assert!(s.claims.is_empty(), "a refused batch took claims: {:?}", s.claims);
    assert!(s.counters.is_empty(), "a refused batch counted: {:?}", s.counters);

    store
        .append("s1", 2, vec![claiming("a", "k", "first", Some("n")), counting("b", "n"), claiming("c", "k2", "second", Some("n"))])
        .await
        .expect("distinct claims in one batch");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("open"), b("a"), b("b"), b("c")]);
    assert_eq!(s.claims, claims_map(&[("k", "first"), ("k2", "second")]));
    assert_eq!(s.counters, counters_map(&[("n", 3)]));
}

/// A claim held in one session does not block the same key in another,
/// including sessions whose ids are prefixes of each other.
pub async fn claims_isolated_per_session(store: DynStore) {
    for id in ["s", "s1", "s10"] {
        created(&*store, id).await;
    }
    for id in ["s1", "s10", "s"] {
        store.append(id, 1, vec![claiming(id, "ballot:d1", id, Some("votes"))]).await.unwrap_or_else(|e| panic!("claim in {id}: {e}"));
    }
    for id in ["s", "s1", "s10"] {
        let s = loaded(&*store, id).await;
        assert_eq!(s.claims, claims_map(&[("ballot:d1", id)]), "claims of {id:?}");
        assert_eq!(s.counters, counters_map(&[("votes", 1)]), "counters of {id:?}");
    }
    assert_claimed(
        "claim held in its own session",
        store.append("s1", 2, vec![claiming("x", "ballot:d1", "again", None)]).await,
        "s1",
        "ballot:d1",
        "s1",
    );
}

/// Counters count records per key, across batches, within a batch, and per
/// session; keys may be any string (empty, non-ASCII).
pub async fn counters_count_per_key(store: DynStore) {
    created(&*store, "s1").await;
    created(&*store, "s10").await;
    store.append("s1", 1, vec![counting("1", "e1:yes"), counting("2", "e1:yes"), counting("3", "e1:no"), rec("4")]).await.expect("batch 1");
    store
        .append(
            "s1",
            5,
            vec![counting("5", "e1:yes"), counting("6", "评议:满意"), counting("7", ""), claiming("8", "c", "v", Some("e1:no"))],
        )
        .await
        .expect("batch 2");
    for i in 9..=11u64 {
        store.append("s1", i, vec![counting(&i.to_string(), "e1:yes")]).await.expect("single counting append");
    }
    store.append("s10", 1, vec![counting("x", "e1:yes")]).await.expect("other session");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events.len(), 11);
    assert_eq!(s.counters, counters_map(&[("e1:yes", 6), ("e1:no", 2), ("评议:满意", 1), ("", 1)]), "counters of s1");
    assert_eq!(s.claims, claims_map(&[("c", "v")]));
    let other = loaded(&*store, "s10").await;
    assert_eq!(other.counters, counters_map(&[("e1:yes", 1)]), "counters leaked between sessions");
    assert!(other.claims.is_empty());
}

/// An append refused for its first_seq takes no claim and counts nothing,
/// even when its claim is free; a Conflict wins over Claimed.
pub async fn conflict_takes_no_claim_and_counts_nothing(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, vec![claiming("1", "held", "v", Some("n"))]).await.expect("append");
    for seq in [1, 3] {
        let r = store.append("s1", seq, vec![claiming("x", "free", "w", Some("n")), counting("y", "m")]).await;
        assert_conflict(&format!("claiming append at {seq}"), r, "s1", 2, seq);
        // Both wrong: the sequence is checked first, so the caller re-reads
        // instead of treating a stale batch as a duplicate claim.
        let r = store.append("s1", seq, vec![claiming("z", "held", "again", None)]).await;
        assert_conflict(&format!("held claim at wrong seq {seq}"), r, "s1", 2, seq);
    }
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("1")]);
    assert_eq!(s.claims, claims_map(&[("held", "v")]), "a conflicting append took a claim");
    assert_eq!(s.counters, counters_map(&[("n", 1)]), "a conflicting append counted");
    store.append("s1", 2, vec![claiming("x", "free", "w", Some("n")), counting("y", "m")]).await.expect("the claim is still free");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.claims, claims_map(&[("free", "w"), ("held", "v")]));
    assert_eq!(s.counters, counters_map(&[("m", 1), ("n", 2)]));
}

/// `reset_derived` replaces all claims and counters of one session (old keys
/// gone, explicit zeros kept), leaves the log and other sessions alone, and
/// later appends build on the new state.
pub async fn reset_derived_replaces_both(store: DynStore) {
    for id in ["s", "s1", "s10"] {
        created(&*store, id).await;
        store.append(id, 1, vec![claiming("1", "old", "v", Some("n")), claiming("2", "kept", "v", Some("gone"))]).await.expect("append");
    }
    let log_before = log_of(&*store, "s1").await;
    store
        .reset_derived("s1", claims_map(&[("kept", "v2"), ("new", "w"), ("空", "")]), counters_map(&[("n", 7), ("zero", 0), ("新", 1)]))
        .await
        .expect("reset_derived");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, log_before, "reset_derived changed the log");
    assert_eq!(s.claims, claims_map(&[("kept", "v2"), ("new", "w"), ("空", "")]));
    assert_eq!(s.counters, counters_map(&[("n", 7), ("zero", 0), ("新", 1)]));
    for id in ["s", "s10"] {
        let other = loaded(&*store, id).await;
        assert_eq!(other.claims, claims_map(&[("old", "v"), ("kept", "v")]), "claims of {id:?}");
        assert_eq!(other.counters, counters_map(&[("n", 1), ("gone", 1)]), "counters of {id:?}");
    }

    // The dropped claim is free again, the new one is held, counters go on.
    assert_claimed("claim set by reset_derived", store.append("s1", 3, vec![claiming("3", "new", "x", None)]).await, "s1", "new", "w");
    store
        .append("s1", 3, vec![claiming("3", "old", "again", Some("n")), counting("4", "zero")])
        .await
        .expect("claim dropped by reset_derived");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events.len(), 4);
    assert_eq!(s.claims, claims_map(&[("kept", "v2"), ("new", "w"), ("old", "again"), ("空", "")]));
    assert_eq!(s.counters, counters_map(&[("n", 8), ("zero", 1), ("新", 1)]));

    store.reset_derived("s1", BTreeMap::new(), BTreeMap::new()).await.expect("reset to empty");
    let s = loaded(&*store, "s1").await;
    assert!(s.claims.is_empty() && s.counters.is_empty(), "reset to empty left {s:?}");
    assert_eq!(s.events.len(), 4);
}

/// `reset_derived` on an unknown session is NotFound and creates nothing.
pub async fn reset_derived_missing_session(store: DynStore) {
    assert_not_found(
        "reset_derived on missing session",
        store.reset_derived("ghost", claims_map(&[("k", "v")]), counters_map(&[("n", 1)])).await,
        "ghost",
    );
    assert!(store.load("ghost").await.expect("load").is_none());
    assert!(store.sessions().await.expect("sessions").is_empty());
}
