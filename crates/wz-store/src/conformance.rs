//! Behavioural conformance suite for [`Store`] implementations.
//!
//! The trait's doc comments are the contract; this module is that contract in
//! executable form. Every backend must pass every check, so the hub and server
//! can be written against the trait and tested on [`crate::MemoryStore`] while
//! production runs on [`crate::EmbeddedStore`] or [`crate::RedisStore`].
//!
//! Each check is a public async function that takes a **fresh, empty** store
//! and panics with a message naming the violated rule. Do not call them one by
//! one in a backend's tests: use [`store_conformance_tests!`](crate::store_conformance_tests),
//! which expands to one `#[tokio::test]` per check from a single list, so no
//! backend can quietly skip one and a new check reaches every backend at once.
//!
//! This is a normal (non-test) module so that a backend living in another
//! crate can run the same suite.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Barrier;

use crate::{DynStore, Record, Store, StoreError, StoredSession};

/// Expands to one `#[tokio::test]` per conformance check.
///
/// `$make` is an expression callable with no arguments that returns
/// `(DynStore, guard)`, where `guard` is anything that must outlive the store
/// (a `TempDir`, a test Redis server, or `()`); it is called once per test, so
/// every check gets a fresh store. Write `async $make` when `$make()` returns
/// a future of that pair (a store that connects asynchronously). The
/// expanding crate needs `tokio` with the `macros` and `rt-multi-thread`
/// features.
///
/// ```
/// use std::sync::Arc;
/// use wz_store::{DynStore, MemoryStore};
///
/// // In a backend's `tests/conformance.rs`:
/// wz_store::store_conformance_tests!(|| (Arc::new(MemoryStore::new()) as DynStore, ()));
///
/// // A backend that connects asynchronously:
/// async fn fresh() -> (DynStore, ()) {
///     (Arc::new(MemoryStore::new()), ())
/// }
/// mod connected {
///     wz_store::store_conformance_tests!(async super::fresh);
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    // Internal arms first: `@` cannot start an expression, but keep them
    // away from the `$make:expr` matchers anyway.
    (@make sync $make:expr) => {
        ($make)()
    };
    (@make async $make:expr) => {
        ($make)().await
    };
    (@all $mode:ident $make:expr) => {
        $crate::store_conformance_tests!(@checks $mode $make;
            create_then_load,
            load_missing_is_none,
            duplicate_create_fails,
            append_sequence_roundtrip,
            append_in_batches,
            append_conflict_too_low,
            append_conflict_too_high,
            append_to_missing_session,
            batch_is_all_or_nothing,
            empty_append,
            sessions_are_isolated,
            sessions_sorted_and_complete,
            credentials_put_replace_list,
            credentials_isolated_per_session,
            credentials_missing_session,
            large_binary_payloads,
            ping_ok,
            concurrent_race_for_same_seq,
            concurrent_appenders_leave_no_gaps,
            derived_state_starts_empty,
            claims_are_enforced,
            duplicate_claim_in_batch,
            claims_isolated_per_session,
            counters_count_per_key,
            conflict_takes_no_claim_and_counts_nothing,
            reset_derived_replaces_both,
            reset_derived_missing_session,
            concurrent_race_for_same_claim,
        );
    };
    (@checks $mode:ident $make:expr; $($check:ident),+ $(,)?) => {
        $(
            // Multi-threaded so the concurrency checks race for real.
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, guard) = $crate::store_conformance_tests!(@make $mode $make);
                $crate::conformance::$check(::std::sync::Arc::clone(&store)).await;
                // Store first: the guard (e.g. a TempDir) must outlive it.
                drop(store);
                drop(guard);
            }
        )+
    };
    (async $make:expr) => {
        $crate::store_conformance_tests!(@all async $make);
    };
    ($make:expr) => {
        $crate::store_conformance_tests!(@all sync $make);
    };
}

// ---------------------------------------------------------------- helpers

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// A plain record (no claim, no count).
fn rec(s: &str) -> Record {
    Record::new(b(s))
}

/// Plain records from raw events: what every append was before claims existed.
fn recs(events: Vec<Bytes>) -> Vec<Record> {
    events.into_iter().map(Record::from).collect()
}

/// A record that takes claim `key` = `value` and counts under `count`.
fn claiming(data: &str, key: &str, value: &str, count: Option<&str>) -> Record {
    Record {
        data: b(data),
        claim: Some((key.to_owned(), value.to_owned())),
        count: count.map(str::to_owned),
    }
}

/// A record that only counts under `count`.
fn counting(data: &str, count: &str) -> Record {
    Record {
        data: b(data),
        claim: None,
        count: Some(count.to_owned()),
    }
}

fn claims_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn counters_map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// `n` distinct events for `session`, numbered from `from`.
fn events(session: &str, from: u64, n: u64) -> Vec<Bytes> {
    (from..from + n)
        .map(|i| Bytes::from(format!("{session}/event-{i}")))
        .collect()
}

async fn created(store: &dyn Store, session: &str) {
    store
        .create_session(session, b(&format!("meta of {session}")))
        .await
        .unwrap_or_else(|e| panic!("create_session({session:?}) failed: {e}"));
}

async fn log_of(store: &dyn Store, session: &str) -> Vec<Bytes> {
    store
        .load(session)
        .await
        .unwrap_or_else(|e| panic!("load({session:?}) failed: {e}"))
        .unwrap_or_else(|| panic!("load({session:?}) returned None for an existing session"))
        .events
}

async fn loaded(store: &dyn Store, session: &str) -> StoredSession {
    store
        .load(session)
        .await
        .unwrap_or_else(|e| panic!("load({session:?}) failed: {e}"))
        .unwrap_or_else(|| panic!("load({session:?}) returned None for an existing session"))
}

fn assert_claimed(what: &str, r: Result<(), StoreError>, session: &str, key: &str, held_by: &str) {
    match r {
        Err(StoreError::Claimed {
            session: s,
            key: k,
            held_by: h,
        }) => assert!(
            s == session && k == key && h == held_by,
            "{what}: wrong Claimed fields: session {s:?} key {k:?} held_by {h:?}, \
             want session {session:?} key {key:?} held_by {held_by:?}"
        ),
        other => {
            panic!("{what}: want Claimed {{ key: {key:?}, held_by: {held_by:?} }}, got {other:?}")
        }
    }
}

fn assert_conflict(what: &str, r: Result<(), StoreError>, session: &str, expected: u64, got: u64) {
    match r {
        Err(StoreError::Conflict {
            session: s,
            expected: e,
            got: g,
        }) => assert!(
            s == session && e == expected && g == got,
            "{what}: wrong Conflict fields: session {s:?} expected {e} got {g}, \
             want session {session:?} expected {expected} got {got}"
        ),
        other => {
            panic!("{what}: want Conflict {{ expected: {expected}, got: {got} }}, got {other:?}")
        }
    }
}

fn assert_not_found<T: std::fmt::Debug>(what: &str, r: Result<T, StoreError>, session: &str) {
    match r {
        Err(StoreError::NotFound(s)) if s == session => {}
        other => panic!("{what}: want NotFound({session:?}), got {other:?}"),
    }
}

// ----------------------------------------------------------------- checks

/// A new session loads back with its header byte-exact and an empty log.
pub async fn create_then_load(store: DynStore) {
    let meta = Bytes::from_static(b"\x00header\xff\x00 with zeros");
    store
        .create_session("s1", meta.clone())
        .await
        .expect("create_session");
    let loaded = store
        .load("s1")
        .await
        .expect("load")
        .expect("created session must load");
    assert_eq!(loaded.meta, meta, "meta must round-trip byte-exact");
    assert!(loaded.events.is_empty(), "a new session has no events");
    assert_eq!(loaded.next_seq(), 1);
}

/// Loading an unknown session is `Ok(None)`, not an error.
pub async fn load_missing_is_none(store: DynStore) {
    assert!(store.load("nope").await.expect("load").is_none());
    created(&*store, "s1").await;
    assert!(
        store.load("s").await.expect("load").is_none(),
        "prefix of an id is another id"
    );
    assert!(store.load("s10").await.expect("load").is_none());
}

/// A second create with the same id fails and keeps the original header.
pub async fn duplicate_create_fails(store: DynStore) {
    store
        .create_session("s1", b("first"))
        .await
        .expect("create");
    store
        .append("s1", 1, recs(events("s1", 1, 2)))
        .await
        .expect("append");
    match store.create_session("s1", b("second")).await {
        Err(StoreError::AlreadyExists(s)) if s == "s1" => {}
        other => panic!("duplicate create: want AlreadyExists(\"s1\"), got {other:?}"),
    }
    let loaded = store.load("s1").await.expect("load").expect("exists");
    assert_eq!(
        loaded.meta,
        b("first"),
        "duplicate create must not replace meta"
    );
    assert_eq!(
        loaded.events,
        events("s1", 1, 2),
        "duplicate create must not reset the log"
    );
}

/// Single-event appends 1..=n come back in order, byte-exact.
pub async fn append_sequence_roundtrip(store: DynStore) {
    created(&*store, "s1").await;
    let all = events("s1", 1, 25);
    for (i, e) in all.iter().enumerate() {
        store
            .append("s1", i as u64 + 1, vec![e.clone().into()])
            .await
            .unwrap_or_else(|err| panic!("append seq {}: {err}", i + 1));
    }
    assert_eq!(log_of(&*store, "s1").await, all);
}

/// Multi-event batches continue numbering where the last batch stopped.
pub async fn append_in_batches(store: DynStore) {
    created(&*store, "s1").await;
    store
        .append("s1", 1, recs(events("s1", 1, 3)))
        .await
        .expect("batch 1..=3");
    store
        .append("s1", 4, recs(events("s1", 4, 1)))
        .await
        .expect("batch 4");
    store
        .append("s1", 5, recs(events("s1", 5, 10)))
        .await
        .expect("batch 5..=14");
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 14));
}

/// Re-appending an already used seq (a duplicate or a lost race) is a Conflict
/// and changes nothing.
pub async fn append_conflict_too_low(store: DynStore) {
    created(&*store, "s1").await;
    store
        .append("s1", 1, recs(events("s1", 1, 3)))
        .await
        .expect("append");
    for seq in [0, 1, 3] {
        let r = store.append("s1", seq, vec![rec("intruder")]).await;
        assert_conflict(&format!("append at seq {seq} of 3"), r, "s1", 4, seq);
    }
    assert_eq!(
        log_of(&*store, "s1").await,
        events("s1", 1, 3),
        "log changed by a conflict"
    );
}

/// Skipping ahead would leave a gap: Conflict, nothing stored.
pub async fn append_conflict_too_high(store: DynStore) {
    created(&*store, "s1").await;
    assert_conflict(
        "append at 2 on empty log",
        store.append("s1", 2, vec![rec("x")]).await,
        "s1",
        1,
        2,
    );
    store
        .append("s1", 1, recs(events("s1", 1, 2)))
        .await
        .expect("append");
    for seq in [4, 100, u64::MAX] {
        let r = store.append("s1", seq, vec![rec("gap")]).await;
        assert_conflict(&format!("append at seq {seq} of 2"), r, "s1", 3, seq);
    }
    assert_eq!(
        log_of(&*store, "s1").await,
        events("s1", 1, 2),
        "log changed by a conflict"
    );
}

/// Appending to an unknown session is NotFound, even with first_seq 1, and does not create it.
pub async fn append_to_missing_session(store: DynStore) {
    assert_not_found(
        "append to missing",
        store.append("ghost", 1, vec![rec("x")]).await,
        "ghost",
    );
    assert_not_found(
        "empty append to missing",
        store.append("ghost", 1, vec![]).await,
        "ghost",
    );
    assert!(
        store.load("ghost").await.expect("load").is_none(),
        "append created a session"
    );
    assert!(store.sessions().await.expect("sessions").is_empty());
}

/// A batch that conflicts stores none of its events.
pub async fn batch_is_all_or_nothing(store: DynStore) {
    created(&*store, "s1").await;
    store
        .append("s1", 1, recs(events("s1", 1, 2)))
        .await
        .expect("append");
    // Overlaps seq 2 (taken) and would also write 3 and 4 (free).
    let r = store.append("s1", 2, recs(events("other", 2, 3))).await;
    assert_conflict("overlapping batch", r, "s1", 3, 2);
    assert_eq!(
        log_of(&*store, "s1").await,
        events("s1", 1, 2),
        "partial batch stored"
    );
    // The free slots are still free.
    store
        .append("s1", 3, recs(events("s1", 3, 2)))
        .await
        .expect("append after conflict");
    assert_eq!(log_of(&*store, "s1").await, events("s1", 1, 4));
}

/// An empty batch is a no-op, but still checks first_seq.
pub async fn empty_append(store: DynStore) {
    created(&*store, "s1").await;
    store
        .append("s1", 1, vec![])
        .await
        .expect("empty append at 1 on empty log");
    assert!(log_of(&*store, "s1").await.is_empty());
    store
        .append("s1", 1, recs(events("s1", 1, 2)))
        .await
        .expect("append");
    store
        .append("s1", 3, vec![])
        .await
        .expect("empty append at next seq");
    assert_conflict(
        "empty append at used seq",
        store.append("s1", 2, vec![]).await,
        "s1",
        3,
        2,
    );
    assert_conflict(
        "empty append past end",
        store.append("s1", 9, vec![]).await,
        "s1",
        3,
        9,
    );
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
        store
            .append(id, 1, recs(events(id, 1, n)))
            .await
            .expect("append");
    }
    for (k, id) in ids.iter().enumerate() {
        let loaded = store.load(id).await.expect("load").expect("exists");
        assert_eq!(loaded.meta, b(&format!("meta of {id}")), "meta of {id:?}");
        assert_eq!(loaded.events, events(id, 1, k as u64 + 1), "log of {id:?}");
    }
}

/// `sessions()` lists every session exactly once, in ascending byte order.
pub async fn sessions_sorted_and_complete(store: DynStore) {
    assert!(
        store.sessions().await.expect("sessions").is_empty(),
        "fresh store lists sessions"
    );
    let ids = ["m", "b", "z", "a", "aa", "Z", "县", "b-2", "0"];
    for id in ids {
        created(&*store, id).await;
    }
    let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(store.sessions().await.expect("sessions"), want);
}

/// Put inserts, put again replaces (revokes), listing is sorted by principal.
pub async fn credentials_put_replace_list(store: DynStore) {
    created(&*store, "s1").await;
    assert!(
        store
            .credentials("s1")
            .await
            .expect("credentials")
            .is_empty()
    );
    let pair = |p: &str, h: &str| (p.to_string(), h.to_string());
    store
        .put_credentials(
            "s1",
            vec![
                pair("delegate:d017", "h1"),
                pair("chair", "h2"),
                pair("delegate:d002", "h3"),
            ],
        )
        .await
        .expect("put");
    store
        .put_credentials("s1", vec![])
        .await
        .expect("empty put is a no-op");
    store
        .put_credentials(
            "s1",
            vec![pair("delegate:d017", "h1-new"), pair("official:o1", "h4")],
        )
        .await
        .expect("put again");
    store
        .put_credentials("s1", vec![pair("x", "first"), pair("x", "last")])
        .await
        .expect("put with duplicate principal");
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
    store
        .put_credentials("s1", vec![pair("chair", "a")])
        .await
        .expect("put s1");
    store
        .put_credentials("s10", vec![pair("chair", "b"), pair("", "empty-principal")])
        .await
        .expect("put s10");
    store
        .put_credentials("s", vec![pair("zz", "c")])
        .await
        .expect("put s");
    assert_eq!(
        store.credentials("s1").await.expect("s1"),
        vec![pair("chair", "a")]
    );
    assert_eq!(
        store.credentials("s10").await.expect("s10"),
        vec![pair("", "empty-principal"), pair("chair", "b")]
    );
    assert_eq!(
        store.credentials("s").await.expect("s"),
        vec![pair("zz", "c")]
    );
    assert!(store.credentials("t").await.expect("t").is_empty());
}

/// Credentials of an unknown session: NotFound both ways, nothing created.
pub async fn credentials_missing_session(store: DynStore) {
    let r = store
        .put_credentials("ghost", vec![("chair".into(), "h".into())])
        .await;
    assert_not_found("put_credentials on missing session", r, "ghost");
    assert_not_found(
        "empty put_credentials on missing",
        store.put_credentials("ghost", vec![]).await,
        "ghost",
    );
    assert_not_found(
        "credentials of missing session",
        store.credentials("ghost").await,
        "ghost",
    );
    assert!(store.load("ghost").await.expect("load").is_none());
    assert!(store.sessions().await.expect("sessions").is_empty());
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
    store
        .create_session("big", meta.clone())
        .await
        .expect("create");
    store
        .append("big", 1, recs(batch.clone()))
        .await
        .expect("append");
    let loaded = store.load("big").await.expect("load").expect("exists");
    assert!(loaded.meta == meta, "60 KiB meta did not round-trip");
    assert_eq!(loaded.events.len(), batch.len(), "event count");
    for (i, (got, want)) in loaded.events.iter().zip(&batch).enumerate() {
        // Not assert_eq!: a 60 KiB diff is useless in a failure message.
        assert!(
            got == want,
            "event {} ({} bytes) did not round-trip",
            i + 1,
            want.len()
        );
    }
}

/// `ping` succeeds on a healthy store, empty or not.
pub async fn ping_ok(store: DynStore) {
    store.ping().await.expect("ping on an empty store");
    created(&*store, "s1").await;
    store
        .append("s1", 1, recs(events("s1", 1, 1)))
        .await
        .expect("append");
    store.ping().await.expect("ping");
    assert!(!store.kind().is_empty(), "kind() must name the backend");
}

/// Many tasks race for the same seq at once: exactly one wins each round and
/// the others get a Conflict pointing past it.
pub async fn concurrent_race_for_same_seq(store: DynStore) {
    const TASKS: usize = 8;
    const ROUNDS: u64 = 6;
    created(&*store, "race").await;
    let mut winners = Vec::new();
    for round in 1..=ROUNDS {
        // Every winner writes two events, so round r races for seq 2r-1.
        let seq = 2 * round - 1;
        let barrier = Arc::new(Barrier::new(TASKS));
        let handles: Vec<_> = (0..TASKS)
            .map(|t| {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                tokio::spawn(async move {
                    let payload = Bytes::from(format!("round {round} task {t}"));
                    barrier.wait().await;
                    let r = store
                        .append("race", seq, vec![payload.clone().into(), rec("tail")])
                        .await;
                    (payload, r)
                })
            })
            .collect();
        let mut won = Vec::new();
        for h in handles {
            match h.await.expect("racing task panicked") {
                (payload, Ok(())) => won.push(payload),
                (_, r) => {
                    assert_conflict(&format!("loser of round {round}"), r, "race", seq + 2, seq)
                }
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: want exactly one winner, got {won:?}"
        );
        winners.extend(won);
    }
    let log = log_of(&*store, "race").await;
    let want: Vec<Bytes> = winners.into_iter().flat_map(|w| [w, b("tail")]).collect();
    assert_eq!(
        log, want,
        "log must hold exactly the winners' batches, in round order"
    );
}

/// Writers that retry on Conflict (the hub's pattern) all eventually land, with
/// no event lost, duplicated or reordered within a writer.
pub async fn concurrent_appenders_leave_no_gaps(store: DynStore) {
    const TASKS: usize = 6;
    const PER_TASK: usize = 5;
    created(&*store, "busy").await;
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    let payload = Bytes::from(format!("task {t} item {i}"));
                    loop {
                        let next = store
                            .load("busy")
                            .await
                            .expect("load")
                            .expect("exists")
                            .next_seq();
                        match store
                            .append("busy", next, vec![payload.clone().into()])
                            .await
                        {
                            Ok(()) => break,
                            // Lost a race: another writer took `next`; re-read and retry.
                            Err(StoreError::Conflict { expected, got, .. }) if expected > got => {}
                            Err(e) => panic!("task {t}: unexpected append error: {e:?}"),
                        }
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("appender panicked");
    }
    let log = log_of(&*store, "busy").await;
    assert_eq!(log.len(), TASKS * PER_TASK, "events lost or duplicated");
    let unique: HashSet<&Bytes> = log.iter().collect();
    assert_eq!(unique.len(), log.len(), "an event was stored twice");
    for t in 0..TASKS {
        let mine: Vec<&Bytes> = log
            .iter()
            .filter(|e| e.starts_with(format!("task {t} ").as_bytes()))
            .collect();
        let want: Vec<Bytes> = (0..PER_TASK)
            .map(|i| Bytes::from(format!("task {t} item {i}")))
            .collect();
        assert!(
            mine.iter().copied().eq(want.iter()),
            "task {t}'s events out of order: {mine:?}"
        );
    }
}

/// A new session holds no claims and no counters, and plain records add none.
pub async fn derived_state_starts_empty(store: DynStore) {
    created(&*store, "s1").await;
    let s = loaded(&*store, "s1").await;
    assert!(
        s.claims.is_empty(),
        "a new session holds claims: {:?}",
        s.claims
    );
    assert!(
        s.counters.is_empty(),
        "a new session has counters: {:?}",
        s.counters
    );
    store
        .append("s1", 1, recs(events("s1", 1, 3)))
        .await
        .expect("append plain records");
    let s = loaded(&*store, "s1").await;
    assert!(
        s.claims.is_empty(),
        "plain records took claims: {:?}",
        s.claims
    );
    assert!(
        s.counters.is_empty(),
        "plain records counted: {:?}",
        s.counters
    );
}

/// A held claim refuses the whole batch with Claimed naming the holder, and
/// nothing of that batch is written: log, claims and counters unchanged.
pub async fn claims_are_enforced(store: DynStore) {
    created(&*store, "s1").await;
    let key = "ballot:e1:u1:d017";
    store
        .append(
            "s1",
            1,
            vec![
                rec("open"),
                claiming("ballot 1", key, "yes", Some("e1:u1:yes")),
            ],
        )
        .await
        .expect("first ballot");
    let before = loaded(&*store, "s1").await;
    assert_eq!(
        before.claims,
        claims_map(&[(key, "yes")]),
        "claims after first ballot"
    );
    assert_eq!(
        before.counters,
        counters_map(&[("e1:u1:yes", 1)]),
        "counters after first ballot"
    );

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
    assert_eq!(
        after.events, before.events,
        "a refused batch changed the log"
    );
    assert_eq!(
        after.claims, before.claims,
        "a refused batch changed claims"
    );
    assert_eq!(
        after.counters, before.counters,
        "a refused batch changed counters"
    );

    // Same value again is still a second claim: holding is by key.
    assert_claimed(
        "same claim, same value",
        store
            .append("s1", 3, vec![claiming("again", key, "yes", None)])
            .await,
        "s1",
        key,
        "yes",
    );
    // The sequence slot stays free for a valid batch.
    store
        .append(
            "s1",
            3,
            vec![claiming(
                "other ballot",
                "ballot:e1:u1:d002",
                "no",
                Some("e1:u1:no"),
            )],
        )
        .await
        .expect("a different claim at the free seq");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("open"), b("ballot 1"), b("other ballot")]);
    assert_eq!(
        s.claims,
        claims_map(&[(key, "yes"), ("ballot:e1:u1:d002", "no")])
    );
    assert_eq!(
        s.counters,
        counters_map(&[("e1:u1:yes", 1), ("e1:u1:no", 1)])
    );
}

/// The same claim key twice in one batch is refused whole; `held_by` is the
/// value of its first occurrence in the batch.
pub async fn duplicate_claim_in_batch(store: DynStore) {
    created(&*store, "s1").await;
    store
        .append("s1", 1, vec![rec("open")])
        .await
        .expect("append");
    let r = store
        .append(
            "s1",
            2,
            vec![
                claiming("a", "k", "first", Some("n")),
                counting("b", "n"),
                claiming("c", "k", "second", Some("n")),
            ],
        )
        .await;
    assert_claimed("duplicate claim in one batch", r, "s1", "k", "first");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("open")], "a refused batch changed the log");
    assert!(
        s.claims.is_empty(),
        "a refused batch took claims: {:?}",
        s.claims
    );
    assert!(
        s.counters.is_empty(),
        "a refused batch counted: {:?}",
        s.counters
    );

    store
        .append(
            "s1",
            2,
            vec![
                claiming("a", "k", "first", Some("n")),
                counting("b", "n"),
                claiming("c", "k2", "second", Some("n")),
            ],
        )
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
        store
            .append(id, 1, vec![claiming(id, "ballot:d1", id, Some("votes"))])
            .await
            .unwrap_or_else(|e| panic!("claim in {id}: {e}"));
    }
    for id in ["s", "s1", "s10"] {
        let s = loaded(&*store, id).await;
        assert_eq!(
            s.claims,
            claims_map(&[("ballot:d1", id)]),
            "claims of {id:?}"
        );
        assert_eq!(
            s.counters,
            counters_map(&[("votes", 1)]),
            "counters of {id:?}"
        );
    }
    assert_claimed(
        "claim held in its own session",
        store
            .append("s1", 2, vec![claiming("x", "ballot:d1", "again", None)])
            .await,
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
    store
        .append(
            "s1",
            1,
            vec![
                counting("1", "e1:yes"),
                counting("2", "e1:yes"),
                counting("3", "e1:no"),
                rec("4"),
            ],
        )
        .await
        .expect("batch 1");
    store
        .append(
            "s1",
            5,
            vec![
                counting("5", "e1:yes"),
                counting("6", "评议:满意"),
                counting("7", ""),
                claiming("8", "c", "v", Some("e1:no")),
            ],
        )
        .await
        .expect("batch 2");
    for i in 9..=11u64 {
        store
            .append("s1", i, vec![counting(&i.to_string(), "e1:yes")])
            .await
            .expect("single counting append");
    }
    store
        .append("s10", 1, vec![counting("x", "e1:yes")])
        .await
        .expect("other session");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events.len(), 11);
    assert_eq!(
        s.counters,
        counters_map(&[("e1:yes", 6), ("e1:no", 2), ("评议:满意", 1), ("", 1)]),
        "counters of s1"
    );
    assert_eq!(s.claims, claims_map(&[("c", "v")]));
    let other = loaded(&*store, "s10").await;
    assert_eq!(
        other.counters,
        counters_map(&[("e1:yes", 1)]),
        "counters leaked between sessions"
    );
    assert!(other.claims.is_empty());
}

/// An append refused for its first_seq takes no claim and counts nothing,
/// even when its claim is free; a Conflict wins over Claimed.
pub async fn conflict_takes_no_claim_and_counts_nothing(store: DynStore) {
    created(&*store, "s1").await;
    store
        .append("s1", 1, vec![claiming("1", "held", "v", Some("n"))])
        .await
        .expect("append");
    for seq in [1, 3] {
        let r = store
            .append(
                "s1",
                seq,
                vec![claiming("x", "free", "w", Some("n")), counting("y", "m")],
            )
            .await;
        assert_conflict(&format!("claiming append at {seq}"), r, "s1", 2, seq);
        // Both wrong: the sequence is checked first, so the caller re-reads
        // instead of treating a stale batch as a duplicate claim.
        let r = store
            .append("s1", seq, vec![claiming("z", "held", "again", None)])
            .await;
        assert_conflict(&format!("held claim at wrong seq {seq}"), r, "s1", 2, seq);
    }
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, vec![b("1")]);
    assert_eq!(
        s.claims,
        claims_map(&[("held", "v")]),
        "a conflicting append took a claim"
    );
    assert_eq!(
        s.counters,
        counters_map(&[("n", 1)]),
        "a conflicting append counted"
    );
    store
        .append(
            "s1",
            2,
            vec![claiming("x", "free", "w", Some("n")), counting("y", "m")],
        )
        .await
        .expect("the claim is still free");
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
        store
            .append(
                id,
                1,
                vec![
                    claiming("1", "old", "v", Some("n")),
                    claiming("2", "kept", "v", Some("gone")),
                ],
            )
            .await
            .expect("append");
    }
    let log_before = log_of(&*store, "s1").await;
    store
        .reset_derived(
            "s1",
            claims_map(&[("kept", "v2"), ("new", "w"), ("空", "")]),
            counters_map(&[("n", 7), ("zero", 0), ("新", 1)]),
        )
        .await
        .expect("reset_derived");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events, log_before, "reset_derived changed the log");
    assert_eq!(
        s.claims,
        claims_map(&[("kept", "v2"), ("new", "w"), ("空", "")])
    );
    assert_eq!(
        s.counters,
        counters_map(&[("n", 7), ("zero", 0), ("新", 1)])
    );
    for id in ["s", "s10"] {
        let other = loaded(&*store, id).await;
        assert_eq!(
            other.claims,
            claims_map(&[("old", "v"), ("kept", "v")]),
            "claims of {id:?}"
        );
        assert_eq!(
            other.counters,
            counters_map(&[("n", 1), ("gone", 1)]),
            "counters of {id:?}"
        );
    }

    // The dropped claim is free again, the new one is held, counters go on.
    assert_claimed(
        "claim set by reset_derived",
        store
            .append("s1", 3, vec![claiming("3", "new", "x", None)])
            .await,
        "s1",
        "new",
        "w",
    );
    store
        .append(
            "s1",
            3,
            vec![
                claiming("3", "old", "again", Some("n")),
                counting("4", "zero"),
            ],
        )
        .await
        .expect("claim dropped by reset_derived");
    let s = loaded(&*store, "s1").await;
    assert_eq!(s.events.len(), 4);
    assert_eq!(
        s.claims,
        claims_map(&[("kept", "v2"), ("new", "w"), ("old", "again"), ("空", "")])
    );
    assert_eq!(
        s.counters,
        counters_map(&[("n", 8), ("zero", 1), ("新", 1)])
    );

    store
        .reset_derived("s1", BTreeMap::new(), BTreeMap::new())
        .await
        .expect("reset to empty");
    let s = loaded(&*store, "s1").await;
    assert!(
        s.claims.is_empty() && s.counters.is_empty(),
        "reset to empty left {s:?}"
    );
    assert_eq!(s.events.len(), 4);
}

/// `reset_derived` on an unknown session is NotFound and creates nothing.
pub async fn reset_derived_missing_session(store: DynStore) {
    assert_not_found(
        "reset_derived on missing session",
        store
            .reset_derived(
                "ghost",
                claims_map(&[("k", "v")]),
                counters_map(&[("n", 1)]),
            )
            .await,
        "ghost",
    );
    assert!(store.load("ghost").await.expect("load").is_none());
    assert!(store.sessions().await.expect("sessions").is_empty());
}

/// Many tasks race to take the same claim (each re-reading on Conflict, the
/// hub's pattern): exactly one wins; every other gets Claimed naming the
/// winner; the log, claims and counters hold exactly one ballot.
pub async fn concurrent_race_for_same_claim(store: DynStore) {
    const TASKS: usize = 12;
    created(&*store, "vote").await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            tokio::spawn(async move {
                let value = format!("task {t}");
                barrier.wait().await;
                loop {
                    let next = store
                        .load("vote")
                        .await
                        .expect("load")
                        .expect("exists")
                        .next_seq();
                    let batch = vec![
                        claiming(&value, "ballot:d017", &value, Some("e1:yes")),
                        counting(&format!("{value} tail"), "tails"),
                    ];
                    match store.append("vote", next, batch).await {
                        Err(StoreError::Conflict { expected, got, .. }) if expected > got => {
                            tokio::task::yield_now().await;
                        }
                        r => return (value, r),
                    }
                }
            })
        })
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.expect("racing task panicked"));
    }
    let winners: Vec<&String> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(v, _)| v)
        .collect();
    assert_eq!(winners.len(), 1, "want exactly one winner, got {winners:?}");
    let winner = winners[0].clone();
    for (value, r) in results {
        if value != winner {
            assert_claimed(&format!("loser {value}"), r, "vote", "ballot:d017", &winner);
        }
    }
    let s = loaded(&*store, "vote").await;
    assert_eq!(s.events, vec![b(&winner), b(&format!("{winner} tail"))]);
    assert_eq!(s.claims, claims_map(&[("ballot:d017", &winner)]));
    assert_eq!(s.counters, counters_map(&[("e1:yes", 1), ("tails", 1)]));
}
