//! Session log checks: create, load, append (in sequence, in batches,
//! all-or-nothing), seq conflicts, missing sessions, session listing, large
//! binary payloads and `ping`.

use bytes::Bytes;

use super::{assert_conflict, assert_not_found, b, created, events, log_of, rec, recs};
use crate::{DynStore, StoreError};

/// A new session loads back with its header byte-exact and an empty log.
pub async fn create_then_load(store: DynStore) {
    let meta = Bytes::from_static(b"\x00header\xff\x00 with zeros");
    store.create_session("s1", meta.clone()).await.expect("create_session");
    let loaded = store.load("s1").await.expect("load").expect("created session must load");
    assert_eq!(loaded.meta, meta, "meta must round-trip byte-exact");
    assert!(loaded.events.is_empty(), "a new session has no events");
    assert_eq!(loaded.next_seq(), 1);
}

/// Loading an unknown session is `Ok(None)`, not an error.
pub async fn load_missing_is_none(store: DynStore) {
    assert!(store.load("nope").await.expect("load").is_none());
    created(&*store, "s1").await;
    assert!(store.load("s").await.expect("load").is_none(), "prefix of an id is another id");
    assert!(store.load("s10").await.expect("load").is_none());
}

/// A second create with the same id fails and keeps the original header.
pub async fn duplicate_create_fails(store: DynStore) {
    store.create_session("s1", b("first")).await.expect("create");
    store.append("s1", 1, recs(events("s1", 1, 2))).await.expect("append");
    match store.create_session("s1", b("second")).await {
        Err(StoreError::AlreadyExists(s)) if s == "s1" => {}
        other => panic!("duplicate create: want AlreadyExists(\"s1\"), got {other:?}"),
    }
    let loaded = store.load("s1").await.expect("load").expect("exists");
    assert_eq!(loaded.meta, b("first"), "duplicate create must not replace meta");
    assert_eq!(loaded.events, events("s1", 1, 2), "duplicate create must not reset the log");
}

/// Single-event appends 1..=n come back in order, byte-exact.
pub async fn append_sequence_roundtrip(store: DynStore) {
    created(&*store, "s1").await;
    let all = events("s1", 1, 25);
    for (i, e) in all.iter().enumerate() {
        store.append("s1", i as u64 + 1, vec![e.clone().into()]).await.unwrap_or_else(|err| panic!("append seq {}: {err}", i + 1));
    }
    assert_eq!(log_of(&*store, "s1").await, all);
}

/// Multi-event batches continue numbering where the last batch stopped.
pub async fn append_in_batches(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, recs(events("s1", 1, 3))).await.expect("batch 1..=3");
    store.append("s1", 4, recs(events("s1", 4, 1))).await.expect("batch 4");
    store.append("s1", 5, recs(events("s1", 5, 10))).await.expect("batch 5..=14");
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 14));
}

/// Re-appending an already used seq (a duplicate or a lost race) is a Conflict
/// and changes nothing.
pub async fn append_conflict_too_low(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, recs(events("s1", 1, 3))).await.expect("append");
    for seq in [0, 1, 3] {
        let r = store.append("s1", seq, vec![rec("intruder")]).await;
        assert_conflict(&format!("append at seq {seq} of 3"), r, "s1", 4, seq);
    }
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 3), "log changed by a conflict");
}

/// Skipping ahead would leave a gap: Conflict, nothing stored.
pub async fn append_conflict_too_high(store: DynStore) {
    created(&*store, "s1").await;
    assert_conflict("append at 2 on empty log", store.append("s1", 2, vec![rec("x")]).await, "s1", 1, 2);
    store.append("s1", 1, recs(events("s1", 1, 2))).await.expect("append");
    for seq in [4, 100, u64::MAX] {
        let r = store.append("s1", seq, vec![rec("gap")]).await;
        assert_conflict(&format!("append at seq {seq} of 2"), r, "s1", 3, seq);
    }
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 2), "log changed by a conflict");
}

/// Appending to an unknown session is NotFound, even with first_seq 1, and does not create it.
pub async fn append_to_missing_session(store: DynStore) {
    assert_not_found("append to missing", store.append("ghost", 1, vec![rec("x")]).await, "ghost");
    assert_not_found("empty append to missing", store.append("ghost", 1, vec![]).await, "ghost");
    assert!(store.load("ghost").await.expect("load").is_none(), "append created a session");
    assert!(store.sessions().await.expect("sessions").is_empty());
}

/// A batch that conflicts stores none of its events.
pub async fn batch_is_all_or_nothing(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, recs(events("s1", 1, 2))).await.expect("append");
    // Overlaps seq 2 (taken) and would also write 3 and 4 (free).
    let r = store.append("s1", 2, recs(events("other", 2, 3))).await;
    assert_conflict("overlapping batch", r, "s1", 3, 2);
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 2), "partial batch stored");
    // The free slots are still free.
    store.append("s1", 3, recs(events("s1", 3, 2))).await.expect("append after conflict");
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 4));
}

/// An empty batch is a no-op, but still checks first_seq.
pub async fn empty_append(store: DynStore) {
    created(&*store, "s1").await;
    store.append("s1", 1, vec![]).await.expect("empty append at 1 on empty log");
    assert!(log_of(&*store, "s1").await.is_empty());
    store.append("s1", 1, recs(events("s1", 1, 2))).await.expect("append");
    store.append("s1", 3, vec![]).await.expect("empty append at next seq");
    assert_conflict("empty append at used seq", store.append("s1", 2, vec![]).await, "s1", 3, 2);
    assert_conflict("empty append past end", store.append("s1", 9, vec![]).await, "s1", 3, 9);
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 2));
}

/// Logs of different sessions never mix, including ids that are prefixes of
/// each other (the classic composite-key bug) and non-ASCII ids.
pub async fn sessions_are_isolated(store: DynStore) {
    let ids = ["a", "ab", "a b", "a\u{0}", "县人大-2025-1", "A"];
    for id in ids {
        created(&*store, id).await;
    }
    for (k, id) in ids.iter().enumerate() {
        let n = k as u64 + 1;
        store.append(id, 1, recs(events(id, 1, n))).await.expect("append");
    }
    for (k, id) in ids.iter().enumerate() {
        let loaded = store.load(id).await.expect("load").expect("exists");
        assert_eq!(loaded.meta, b(&format!("meta of {id}")), "meta of {id:?}");
        assert_eq!(loaded.events, events(id, 1, k as u64 + 1), "log of {id:?}");
    }
}

/// `sessions()` lists every session exactly once, in ascending byte order.
pub async fn sessions_sorted_and_complete(store: DynStore) {
    assert!(store.sessions().await.expect("sessions").is_empty(), "fresh store lists sessions");
    let ids = ["m", "b", "z", "a", "aa", "Z", "县", "b-2", "0"];
    for id in ids {
        created(&*store, id).await;
    }
    let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(store.sessions().await.expect("sessions"), want);
}

/// Large, arbitrary binary records (all byte values, runs of zeros) round-trip exactly.
pub async fn large_binary_payloads(store: DynStore) {
    // Deterministic pseudo-random bytes; no extra dependency needed.
    let mut x: u32 = 0x9e37_79b9;
    let mut noise = |len: usize| -> Bytes {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect::<Vec<u8>>()
            .into()
    };
    let meta = noise(60 * 1024);
    let batch = vec![
        noise(60 * 1024),
        Bytes::from(vec![0u8; 60 * 1024]),
        Bytes::new(),
        (0..=255u8).cycle().take(70_000).collect::<Vec<u8>>().into(),
        noise(1),
    ];
    store.create_session("big", meta.clone()).await.expect("create");
    store.append("big", 1, recs(batch.clone())).await.expect("append");
    let loaded = store.load("big").await.expect("load").expect("exists");
    assert!(loaded.meta == meta, "60 KiB meta did not round-trip");
    assert_eq!(loaded.events.len(), batch.len(), "event count");
    for (i, (got, want)) in loaded.events.iter().zip(&batch).enumerate() {
        // Not assert_eq!: a 60 KiB diff is useless in a failure message.
        assert!(got == want, "event {} ({} bytes) did not round-trip", i + 1, want.len());
    }
}

/// `ping` succeeds on a healthy store, empty or not.
pub async fn ping_ok(store: DynStore) {
    store.ping().await.expect("ping on an empty store");
    created(&*store, "s1").await;
    store.append("s1", 1, recs(events("s1", 1, 1))).await.expect("append");
    store.ping().await.expect("ping");
    assert!(!store.kind().is_empty(), "kind() must name the backend");
}
