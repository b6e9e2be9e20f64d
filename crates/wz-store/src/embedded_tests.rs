//! Embedded-only tests: what the conformance suite cannot see because it never
//! closes a store — durability across reopen, the format-version guard, and
//! the one-owner-per-data-dir rule.

use super::*;
use tempfile::TempDir;

fn pair(p: &str, h: &str) -> (String, String) {
    (p.to_owned(), h.to_owned())
}

fn recs(events: &[Bytes]) -> Vec<Record> {
    events.iter().cloned().map(Record::from).collect()
}

/// Writes `table` in the store's file directly, bypassing `EmbeddedStore`,
/// to simulate files written by other versions or other programs.
fn tamper(dir: &Path, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = Database::create(dir.join(FILE_NAME)).expect("open redb directly");
    let txn = db.begin_write().expect("begin_write");
    f(&txn);
    txn.commit().expect("commit");
}

fn expect_corrupt(r: Result<EmbeddedStore, StoreError>, needle: &str) {
    match r {
        Err(StoreError::Corrupt(m)) => {
            assert!(m.contains(needle), "Corrupt message {m:?} lacks {needle:?}")
        }
        other => panic!("want Corrupt(..{needle}..), got {other:?}"),
    }
}

#[tokio::test]
async fn everything_survives_reopen() {
    let dir = TempDir::new().unwrap();
    let events: Vec<Bytes> = (1..=5).map(|i| Bytes::from(format!("e{i}"))).collect();
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store.create_session("s2", Bytes::from_static(b"m2")).await.unwrap();
        store.create_session("s1", Bytes::from_static(b"m1\0")).await.unwrap();
        store.append("s1", 1, recs(&events[..2])).await.unwrap();
        let mut batch = recs(&events[2..]);
        batch[0].claim = Some(pair("ballot:d017", "yes"));
        batch[0].count = Some("yes".to_owned());
        batch[1].count = Some("yes".to_owned());
        store.append("s1", 3, batch).await.unwrap();
        store.reset_derived("s2", BTreeMap::from([pair("repaired", "v")]), BTreeMap::from([("n".to_owned(), 4)])).await.unwrap();
        store.put_credentials("s1", vec![pair("chair", "old"), pair("delegate:d017", "h")]).await.unwrap();
        store.put_credentials("s1", vec![pair("chair", "new")]).await.unwrap();
        store.put_attachment("s1", "photo", Bytes::from_static(b"\xff\xd8\xff\0jpeg")).await.unwrap();
        // A rejected batch must not reappear after reopen either.
        assert!(store.append("s1", 2, vec![Record::new(Bytes::from_static(b"late"))]).await.is_err());
    }
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.sessions().await.unwrap(), ["s1", "s2"]);
    let s1 = store.load("s1").await.unwrap().unwrap();
    assert_eq!(s1.meta, Bytes::from_static(b"m1\0"));
    assert_eq!(s1.events, events);
    assert_eq!(s1.claims, BTreeMap::from([pair("ballot:d017", "yes")]));
    assert_eq!(s1.counters, BTreeMap::from([("yes".to_owned(), 2)]));
    assert_eq!(store.credentials("s1").await.unwrap(), [pair("chair", "new"), pair("delegate:d017", "h")]);
    assert_eq!(store.attachment("s1", "photo").await.unwrap(), Some(Bytes::from_static(b"\xff\xd8\xff\0jpeg")));
    let s2 = store.load("s2").await.unwrap().unwrap();
    assert!(s2.events.is_empty());
    assert_eq!(s2.claims, BTreeMap::from([pair("repaired", "v")]));
    assert_eq!(s2.counters, BTreeMap::from([("n".to_owned(), 4)]));
    // The sequence continues where it stopped before the restart.
    store.append("s1", 6, vec![Record::new(Bytes::from_static(b"e6"))]).await.unwrap();
    assert_eq!(store.load("s1").await.unwrap().unwrap().events.len(), 6);
}

#[tokio::test]
async fn open_creates_missing_directories() {
    let root = TempDir::new().unwrap();
    let dir = root.path().join("a/b/data");
    let store = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(store.path(), dir.join(FILE_NAME));
    assert!(store.path().is_file());
    store.ping().await.unwrap();
}

#[test]
fn other_format_version_is_refused() {
    let dir = TempDir::new().unwrap();
    drop(EmbeddedStore::open(dir.path()).unwrap());
    tamper(dir.path(), |txn| {
        txn.open_table(META).unwrap().insert(FORMAT_KEY, FORMAT_VERSION + 1).unwrap();
    });
    expect_corrupt(EmbeddedStore::open(dir.path()), "format version 2");
    // Refusing must not rewrite the record: a newer binary can still open it.
    let db = Database::create(dir.path().join(FILE_NAME)).unwrap();
    let txn = db.begin_read().unwrap();
    let version = txn.open_table(META).unwrap().get(FORMAT_KEY).unwrap().unwrap().value();
    assert_eq!(version, FORMAT_VERSION + 1);
}

#[test]
fn foreign_redb_file_is_refused() {
    let dir = TempDir::new().unwrap();
    let other: TableDefinition<u64, u64> = TableDefinition::new("somebody_elses");
    tamper(dir.path(), |txn| {
        txn.open_table(other).unwrap().insert(1, 2).unwrap();
    });
    expect_corrupt(EmbeddedStore::open(dir.path()), "not a Wenzheng data file");
}

#[test]
fn wrongly_typed_table_is_refused() {
    let dir = TempDir::new().unwrap();
    let meta_as_text: TableDefinition<&str, &str> = TableDefinition::new("meta");
    tamper(dir.path(), |txn| {
        txn.open_table(meta_as_text).unwrap().insert(FORMAT_KEY, "1").unwrap();
    });
    expect_corrupt(EmbeddedStore::open(dir.path()), "");
}

#[test]
fn non_redb_file_is_refused() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join(FILE_NAME), vec![0x5a; 64 * 1024]).unwrap();
    match EmbeddedStore::open(dir.path()) {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("want Corrupt for a non-redb file, got {other:?}"),
    }
}

#[test]
fn one_store_owns_a_data_dir() {
    let dir = TempDir::new().unwrap();
    let first = EmbeddedStore::open(dir.path()).unwrap();
    match EmbeddedStore::open(dir.path()) {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("already open"), "{m}"),
        other => panic!("second open of the same dir: want Unavailable, got {other:?}"),
    }
    drop(first);
    EmbeddedStore::open(dir.path()).expect("reopen after the owner closed it");
}

#[tokio::test]
async fn gap_in_stored_log_is_corrupt_not_silently_renumbered() {
    let dir = TempDir::new().unwrap();
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store.create_session("s1", Bytes::new()).await.unwrap();
        let evs = vec![Bytes::from_static(b"1"), Bytes::from_static(b"2"), Bytes::from_static(b"3")];
        store.append("s1", 1, recs(&evs)).await.unwrap();
    }
    tamper(dir.path(), |txn| {
        txn.open_table(EVENTS).unwrap().remove(("s1", 2)).unwrap();
    });
    let store = EmbeddedStore::open(dir.path()).unwrap();
    match store.load("s1").await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("expected event 2, found 3"), "{m}"),
        other => panic!("want Corrupt for a gap, got {other:?}"),
    }
}

#[tokio::test]
async fn open_existing_creates_nothing() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("typo");
    match EmbeddedStore::open_existing(&missing) {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("no data file") && m.contains("typo"), "{m}"),
        other => panic!("want Unavailable, got {other:?}"),
    }
    assert!(!missing.exists(), "a mistyped data directory is not created");
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store.create_session("s1", Bytes::from_static(b"m")).await.unwrap();
    }
    let store = EmbeddedStore::open_existing(dir.path()).unwrap();
    assert_eq!(store.sessions().await.unwrap(), ["s1"]);
}
