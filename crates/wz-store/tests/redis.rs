//! Redis-only tests: what the conformance suite cannot see because it never
//! stops the server — durability across a crash, the persistence check,
//! outages (paused or killed server), out-of-memory, the format guard, damaged
//! data, and the shipped `deploy/redis.conf`.
//!
//! Every test starts its own `redis-server` on a unix socket in a temp dir
//! (`wz_store::testing`), never a shared Redis.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wz_store::testing::RedisServer;
use wz_store::{Record, RedisStore, Store, StoreError};

/// Upper bound for "fails fast" / "recovers": a hang guard, not a
/// performance claim (the store's own timeouts are 1 s to connect, 3 s per reply).
const GUARD: Duration = Duration::from_secs(10);

async fn connect(server: &RedisServer) -> RedisStore {
    RedisStore::connect(&server.url()).await.expect("connect to test redis-server")
}

/// A raw client for tampering with what the store wrote.
async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

fn rec(s: &str) -> Record {
    Record::new(Bytes::copy_from_slice(s.as_bytes()))
}

fn ballot(data: &str, key: &str, value: &str, count: &str) -> Record {
    Record { data: Bytes::copy_from_slice(data.as_bytes()), claim: Some((key.to_owned(), value.to_owned())), count: Some(count.to_owned()) }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

fn expect_unavailable<T: std::fmt::Debug>(what: &str, r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Unavailable(m)) => m,
        other => panic!("{what}: want Unavailable, got {other:?}"),
    }
}

/// Polls `ping` until it succeeds: after a restart, the first call may still
/// see the failed reconnection and start a fresh one.
async fn until_available(store: &RedisStore) -> Duration {
    let started = Instant::now();
    loop {
        match store.ping().await {
            Ok(()) => return started.elapsed(),
            Err(StoreError::Unavailable(m)) => {
                assert!(started.elapsed() < GUARD, "store did not recover within {GUARD:?}: {m}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("ping while recovering: {e:?}"),
        }
    }
}

#[tokio::test]
async fn everything_survives_kill_and_restart() {
    let mut server = RedisServer::start_temp(&[]);
    let events: Vec<Bytes> = (1..=5).map(|i| Bytes::from(format!("e{i}\0"))).collect();
    {
        let store = connect(&server).await;
        store.create_session("s2", Bytes::from_static(b"m2")).await.unwrap();
        store.create_session("s1", Bytes::from_static(b"m1\0\xff")).await.unwrap();
        let first: Vec<Record> = events[..2].iter().cloned().map(Record::from).collect();
        store.append("s1", 1, first).await.unwrap();
        let mut rest: Vec<Record> = events[2..].iter().cloned().map(Record::from).collect();
        rest[0].claim = Some(pair("ballot:d017", "yes"));
        rest[0].count = Some("yes".to_owned());
        rest[2].count = Some("yes".to_owned());
        store.append("s1", 3, rest).await.unwrap();
        store.put_credentials("s1", vec![pair("chair", "h1"), pair("delegate:d017", "h2")]).await.unwrap();
        store.reset_derived("s2", BTreeMap::from([pair("repaired", "v")]), BTreeMap::from([("n".to_owned(), 4)])).await.unwrap();
        store.put_attachment("s1", "photo", Bytes::from_static(b"\xff\xd8\xff\0jpeg")).await.unwrap();
        // The last reply came back: with appendfsync always, it is on disk.
        server.kill();
    }
    server.restart();
    let store = connect(&server).await;
    assert_eq!(store.sessions().await.unwrap(), ["s1", "s2"]);
    let s1 = store.load("s1").await.unwrap().unwrap();
    assert_eq!(s1.meta, Bytes::from_static(b"m1\0\xff"));
    assert_eq!(s1.events, events);
    assert_eq!(s1.claims, BTreeMap::from([pair("ballot:d017", "yes")]));
    assert_eq!(s1.counters, BTreeMap::from([("yes".to_owned(), 2)]));
    assert_eq!(store.credentials("s1").await.unwrap(), [pair("chair", "h1"), pair("delegate:d017", "h2")]);
    assert_eq!(store.attachment("s1", "photo").await.unwrap(), Some(Bytes::from_static(b"\xff\xd8\xff\0jpeg")));
    let s2 = store.load("s2").await.unwrap().unwrap();
    assert!(s2.events.is_empty());
    assert_eq!(s2.claims, BTreeMap::from([pair("repaired", "v")]));
    assert_eq!(s2.counters, BTreeMap::from([("n".to_owned(), 4)]));
    // Claims still hold and the sequence continues after the restart.
    match store.append("s1", 6, vec![ballot("again", "ballot:d017", "no", "no")]).await {
        Err(StoreError::Claimed { held_by, .. }) => assert_eq!(held_by, "yes"),
        other => panic!("want Claimed after restart, got {other:?}"),
    }
    store.append("s1", 6, vec![rec("e6")]).await.unwrap();
    assert_eq!(store.load("s1").await.unwrap().unwrap().events.len(), 6);
}

#[tokio::test]
async fn persistence_of_test_defaults_has_no_problems() {
    let server = RedisServer::start_temp(&[]);
    let p = connect(&server).await.persistence().await.unwrap();
    assert_eq!(p.appendonly.as_deref(), Some("yes"));
    assert_eq!(p.appendfsync.as_deref(), Some("always"));
    assert_eq!(p.maxmemory_policy.as_deref(), Some("noeviction"));
    assert!(p.problems().is_empty(), "{:?}", p.problems());
}

#[tokio::test]
async fn persistence_reports_each_wrong_setting() {
    for (args, want) in [
        (
            ["--appendfsync", "everysec"],
            "appendfsync is everysec; evaluations need appendfsync always (an acknowledged \
             ballot could be lost in a crash)",
        ),
        (["--appendonly", "no"], "appendonly is no; evaluations need appendonly yes"),
        (["--maxmemory-policy", "allkeys-lru"], "maxmemory-policy is allkeys-lru; evaluations need maxmemory-policy noeviction"),
    ] {
        let server = RedisServer::start_temp(&args);
        let problems = connect(&server).await.persistence().await.unwrap().problems();
        assert_eq!(problems.len(), 1, "{args:?}: {problems:?}");
        assert!(problems[0].starts_with(want), "{args:?}: {:?} does not start with {want:?}", problems[0]);
    }
}

/// The store's own check (`Store::persistence_problems`) follows settings
/// changed on a running server, both ways.
#[tokio::test]
async fn persistence_problems_follow_config_set_at_run_time() {
    let server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    assert_eq!(store.persistence_problems().await.unwrap(), Vec::<String>::new());
    server.config_set("appendfsync", "everysec");
    let p = store.persistence_problems().await.unwrap();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("appendfsync is everysec"), "{p:?}");
    server.config_set("maxmemory-policy", "allkeys-lru");
    assert_eq!(store.persistence_problems().await.unwrap().len(), 2);
    server.config_set("appendfsync", "always");
    server.config_set("maxmemory-policy", "noeviction");
    assert_eq!(store.persistence_problems().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn persistence_without_config_command_is_a_problem_not_an_error() {
    let server = RedisServer::start_temp(&["--rename-command", "CONFIG", ""]);
    let store = connect(&server).await;
    let p = store.persistence().await.expect("persistence must not fail");
    let problems = p.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("cannot read the Redis persistence settings"), "{problems:?}");
    assert!(problems[0].contains("appendfsync is always"), "{problems:?}");
    store.ping().await.unwrap();
}

#[tokio::test]
async fn shipped_config_passes_the_persistence_check() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/redis.conf");
    let text = std::fs::read_to_string(&shipped).expect("read deploy/redis.conf");
    let dir = tempfile::Builder::new().prefix("wz-redis-").tempdir_in("/tmp").unwrap();
    // Redis applies `dir` while reading the file (it chdirs at once), so a
    // command-line --dir cannot rescue a directory that does not exist here:
    // point that one line at the temp dir and keep every other line as shipped.
    let dir_lines = text.lines().filter(|l| l.starts_with("dir ")).count();
    assert_eq!(dir_lines, 1, "deploy/redis.conf should set dir exactly once");
    let text: String =
        text.lines().map(|l| if l.starts_with("dir ") { format!("dir {}\n", dir.path().display()) } else { format!("{l}\n") }).collect();
    let config = dir.path().join("redis.conf");
    std::fs::write(&config, text).unwrap();

    let server = RedisServer::start_with_config(dir.path(), &config, &[]);
    let store = connect(&server).await;
    let p = store.persistence().await.unwrap();
    assert!(p.problems().is_empty(), "deploy/redis.conf: {:?}", p.problems());
    // And the store works on it (Redis 7 script flags accepted, etc.).
    store.create_session("s1", Bytes::from_static(b"m")).await.unwrap();
    store.append("s1", 1, vec![ballot("b", "ballot:d1", "yes", "yes")]).await.unwrap();
    assert_eq!(store.load("s1").await.unwrap().unwrap().events.len(), 1);
}

#[tokio::test]
async fn paused_server_is_unavailable_then_recovers() {
    let mut server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    store.create_session("s1", Bytes::from_static(b"m")).await.unwrap();
    store.append("s1", 1, vec![rec("before")]).await.unwrap();

    server.pause();
    let started = Instant::now();
    let (ping, append) = tokio::join!(store.ping(), store.append("s1", 2, vec![ballot("during", "ballot:d1", "yes", "yes")]));
    let took = started.elapsed();
    expect_unavailable("ping while paused", ping);
    expect_unavailable("append while paused", append);
    assert!(took < GUARD, "calls to a paused Redis took {took:?}");
    eprintln!("paused: ping and append failed after {took:?}");

    server.resume();
    let back = until_available(&store).await;
    eprintln!("resumed: available again after {back:?}");
    // The timed-out append had an unknown outcome: Redis still had it queued
    // and may have run it on resume. Either way it is all or nothing.
    let s = store.load("s1").await.unwrap().unwrap();
    match s.events.len() {
        1 => assert!(s.claims.is_empty() && s.counters.is_empty(), "{s:?}"),
        2 => {
            assert_eq!(s.events[1], Bytes::from_static(b"during"));
            assert_eq!(s.claims, BTreeMap::from([pair("ballot:d1", "yes")]));
            assert_eq!(s.counters, BTreeMap::from([("yes".to_owned(), 1)]));
        }
        n => panic!("{n} events after a paused append"),
    }
    store.append("s1", s.next_seq(), vec![rec("after")]).await.expect("append after resume, same store");
}

#[tokio::test]
async fn killed_server_is_unavailable_then_recovers() {
    let mut server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    store.create_session("s1", Bytes::from_static(b"m")).await.unwrap();
    store.append("s1", 1, vec![rec("before")]).await.unwrap();

    server.kill();
    // Several rounds: the first call notices the dropped connection, later
    // ones wait on (and fail with) the background reconnection.
    for round in 0..3 {
        let started = Instant::now();
        expect_unavailable(&format!("ping {round} while down"), store.ping().await);
        let m = expect_unavailable(&format!("append {round} while down"), store.append("s1", 2, vec![rec("during")]).await);
        let took = started.elapsed();
        assert!(took < GUARD, "round {round}: calls to a dead Redis took {took:?} ({m})");
        eprintln!("killed, round {round}: ping and append failed after {took:?}: {m}");
    }

    server.restart();
    let back = until_available(&store).await;
    eprintln!("restarted: available again after {back:?}");
    let s = store.load("s1").await.unwrap().unwrap();
    assert_eq!(s.events, [Bytes::from_static(b"before")], "nothing of the failed appends");
    store.append("s1", 2, vec![rec("after")]).await.expect("append after restart, same store");
    assert_eq!(store.load("s1").await.unwrap().unwrap().events.len(), 2);
}

#[tokio::test]
async fn unreachable_redis_fails_fast_on_connect() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("redis+unix://{}/nobody.sock", dir.path().display());
    let started = Instant::now();
    match RedisStore::connect(&url).await {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("nobody.sock"), "{m}"),
        other => panic!("want Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < GUARD, "connect took {:?}", started.elapsed());
    match RedisStore::connect("http://example.org/").await {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("invalid Redis URL"), "{m}"),
        other => panic!("want Unavailable for a bad URL, got {other:?}"),
    }
}

#[tokio::test]
async fn out_of_memory_refuses_the_whole_append() {
    let server = RedisServer::start_temp(&["--maxmemory", "2mb"]);
    let store = connect(&server).await;
    store.create_session("s1", Bytes::from_static(b"m")).await.unwrap();
    let big = Bytes::from(vec![7u8; 256 * 1024]);
    let mut next = 1;
    let message = loop {
        assert!(next < 100, "2 MB Redis never ran out of memory");
        let batch = vec![Record::new(big.clone()), ballot("ballot", &format!("ballot:{next}"), "yes", "yes")];
        match store.append("s1", next, batch).await {
            Ok(()) => next += 2,
            Err(StoreError::Unavailable(m)) => break m,
            Err(e) => panic!("want Unavailable on OOM, got {e:?}"),
        }
    };
    assert!(message.contains("OOM"), "operator must see OOM: {message}");
    let s = store.load("s1").await.expect("reads still work").unwrap();
    assert_eq!(s.next_seq(), next, "a refused append left events behind");
    assert_eq!(s.claims.len() as u64, (next - 1) / 2, "a refused append took a claim");
    assert_eq!(s.counters["yes"], (next - 1) / 2, "a refused append counted");
    store.ping().await.expect("ping works when full");
    // A server restarting against a full Redis can still connect and read.
    let again = connect(&server).await;
    assert_eq!(again.load("s1").await.unwrap().unwrap().next_seq(), next);
}

#[tokio::test]
async fn an_id_registered_without_a_session_is_not_listed_and_can_still_be_created() {
    // What a failure between create_session's two steps leaves behind: the
    // registry names the id, but the session's script never ran.
    let server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    store.create_session("real", Bytes::from_static(b"m")).await.unwrap();
    let _: i64 = redis::cmd("SADD").arg("wz:v1:sessions").arg("ghost").query_async(&mut raw(&server).await).await.unwrap();
    assert_eq!(store.sessions().await.unwrap(), vec!["real".to_owned()]);
    assert!(store.load("ghost").await.unwrap().is_none());
    store.create_session("ghost", Bytes::from_static(b"g")).await.unwrap();
    assert_eq!(store.sessions().await.unwrap(), vec!["ghost".to_owned(), "real".to_owned()]);
}

#[tokio::test]
async fn other_format_version_is_refused() {
    let server = RedisServer::start_temp(&[]);
    connect(&server).await; // writes the format key
    let mut conn = raw(&server).await;
    let stored: String = redis::cmd("GET").arg("wz:v1:format").query_async(&mut conn).await.unwrap();
    assert_eq!(stored, "1");
    let () = redis::cmd("SET").arg("wz:v1:format").arg("2").query_async(&mut conn).await.unwrap();
    match RedisStore::connect(&server.url()).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("version"), "{m}"),
        other => panic!("want Corrupt, got {other:?}"),
    }
    // Refusing must not rewrite it.
    let stored: String = redis::cmd("GET").arg("wz:v1:format").query_async(&mut conn).await.unwrap();
    assert_eq!(stored, "2");
}

#[tokio::test]
async fn damaged_data_is_corrupt_and_never_half_written() {
    let server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    let mut conn = raw(&server).await;
    for id in ["gap", "counter", "wrongtype"] {
        store.create_session(id, Bytes::new()).await.unwrap();
        store.append(id, 1, vec![rec("1"), counting_rec("2"), rec("3")]).await.unwrap();
    }

    // A hole in the log: load refuses to renumber, append refuses to write.
    let _: i64 = redis::cmd("XDEL").arg("wz:v1:{gap}:log").arg("2-0").query_async(&mut conn).await.unwrap();
    match store.load("gap").await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("event 2"), "{m}"),
        other => panic!("load of a log with a hole: want Corrupt, got {other:?}"),
    }
    match store.append("gap", 3, vec![rec("x")]).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("ends at id 3-0"), "{m}"),
        other => panic!("append to a log with a hole: want Corrupt, got {other:?}"),
    }

    // A counter that is not a count: the append is refused before any write.
    let _: i64 = redis::cmd("HSET").arg("wz:v1:{counter}:counters").arg("n").arg("lots").query_async(&mut conn).await.unwrap();
    match store.append("counter", 4, vec![rec("4"), counting_rec("5")]).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("not a count"), "{m}"),
        other => panic!("want Corrupt for a bad counter, got {other:?}"),
    }
    let len: i64 = redis::cmd("XLEN").arg("wz:v1:{counter}:log").query_async(&mut conn).await.unwrap();
    assert_eq!(len, 3, "a refused append wrote events");
    assert!(matches!(store.load("counter").await, Err(StoreError::Corrupt(_))));

    // A key of the wrong type: not our data.
    let _: () = redis::cmd("DEL").arg("wz:v1:{wrongtype}:claims").query_async(&mut conn).await.unwrap();
    let _: () = redis::cmd("SET").arg("wz:v1:{wrongtype}:claims").arg("x").query_async(&mut conn).await.unwrap();
    match store.append("wrongtype", 4, vec![ballot("b", "k", "v", "n")]).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("WRONGTYPE"), "{m}"),
        other => panic!("want Corrupt for a wrongly typed key, got {other:?}"),
    }
    match store.load("wrongtype").await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("WRONGTYPE"), "{m}"),
        other => panic!("load with a wrongly typed key: want Corrupt, got {other:?}"),
    }
}

fn counting_rec(s: &str) -> Record {
    Record { count: Some("n".to_owned()), ..rec(s) }
}

#[tokio::test]
async fn long_logs_load_in_chunks() {
    let server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    store.create_session("long", Bytes::new()).await.unwrap();
    // More than two XRANGE chunks, ending inside the third.
    let n = 2 * 1000 + 345;
    let all: Vec<Bytes> = (1..=n).map(|i| Bytes::from(format!("event {i}"))).collect();
    for (k, chunk) in all.chunks(400).enumerate() {
        let records = chunk.iter().cloned().map(Record::from).collect();
        store.append("long", k as u64 * 400 + 1, records).await.unwrap();
    }
    let s = store.load("long").await.unwrap().unwrap();
    assert_eq!(s.events.len(), n);
    assert!(s.events == all, "long log did not round-trip in order");
}

#[tokio::test]
async fn kind_and_url() {
    let server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    assert_eq!(store.kind(), "redis");
    assert_eq!(store.url(), server.url());
}

/// An import onto keys a session left without its header (a hand-made
/// mess: the store never deletes) is refused before anything is written,
/// and a large session imports in one script.
#[tokio::test]
async fn import_refuses_leftover_keys_and_takes_a_long_log() {
    let server = RedisServer::start_temp(&[]);
    let store = connect(&server).await;
    let mut conn = raw(&server).await;
    let _: String = redis::cmd("XADD").arg("wz:v1:{left}:log").arg("1-0").arg("d").arg("old").query_async(&mut conn).await.unwrap();
    let content = wz_store::StoredSession {
        meta: Bytes::from_static(b"header"),
        events: vec![Bytes::from_static(b"new")],
        claims: BTreeMap::new(),
        counters: BTreeMap::new(),
    };
    match store.import_session("left", content.clone(), vec![]).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("without its header"), "{m}"),
        other => panic!("want Corrupt, got {other:?}"),
    }
    assert_eq!(store.load("left").await.unwrap(), None, "no header was written");
    assert!(store.sessions().await.unwrap().is_empty());

    let n = 5000;
    let long = wz_store::StoredSession { events: (1..=n).map(|i| Bytes::from(format!("event {i}"))).collect(), ..content };
    store.import_session("long", long.clone(), vec![pair("moderator", "h")]).await.unwrap();
    assert_eq!(store.load("long").await.unwrap(), Some(long));
    store.append("long", n as u64 + 1, vec![rec("next")]).await.unwrap();
}
