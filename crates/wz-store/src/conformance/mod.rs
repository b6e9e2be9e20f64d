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

mod attachments;
mod backup;
mod claims;
mod concurrency;
mod credentials;
mod log;

pub use attachments::{attachments_are_write_once, attachments_isolated_per_session, attachments_missing_session_and_limit};
pub use backup::{attachment_ids_sorted_per_session, import_refuses_an_existing_session, import_then_load_and_carry_on};
pub use claims::{
    claims_are_enforced, claims_isolated_per_session, conflict_takes_no_claim_and_counts_nothing, counters_count_per_key,
    derived_state_starts_empty, duplicate_claim_in_batch, reset_derived_missing_session, reset_derived_replaces_both,
};
pub use concurrency::{concurrent_appenders_leave_no_gaps, concurrent_race_for_same_claim, concurrent_race_for_same_seq};
pub use credentials::{credentials_isolated_per_session, credentials_missing_session, credentials_put_replace_list};
pub use log::{
    append_conflict_too_high, append_conflict_too_low, append_in_batches, append_sequence_roundtrip, append_to_missing_session,
    batch_is_all_or_nothing, create_then_load, duplicate_create_fails, empty_append, large_binary_payloads, load_missing_is_none, ping_ok,
    sessions_are_isolated, sessions_sorted_and_complete,
};

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::{Record, Store, StoreError, StoredSession};

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
            attachments_are_write_once,
            attachments_isolated_per_session,
            attachments_missing_session_and_limit,
            import_then_load_and_carry_on,
            import_refuses_an_existing_session,
            attachment_ids_sorted_per_session,
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
    Record { data: b(data), claim: Some((key.to_owned(), value.to_owned())), count: count.map(str::to_owned) }
}

/// A record that only counts under `count`.
fn counting(data: &str, count: &str) -> Record {
    Record { data: b(data), claim: None, count: Some(count.to_owned()) }
}

fn claims_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn counters_map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// `n` distinct events for `session`, numbered from `from`.
fn events(session: &str, from: u64, n: u64) -> Vec<Bytes> {
    (from..from + n).map(|i| Bytes::from(format!("{session}/event-{i}"))).collect()
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
        Err(StoreError::Claimed { session: s, key: k, held_by: h }) => assert!(
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
        Err(StoreError::Conflict { session: s, expected: e, got: g }) => assert!(
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
