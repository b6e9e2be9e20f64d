//! Runs the whole conformance suite against every backend in this crate.
//!
//! Every module expands the same macro, so all stores run exactly the same
//! list of checks; adding a check to `wz_store::conformance` adds it here for
//! all of them without touching this file.

use std::sync::Arc;

use wz_store::DynStore;

mod memory {
    use super::*;
    use wz_store::MemoryStore;

    wz_store::store_conformance_tests!(|| (Arc::new(MemoryStore::new()) as DynStore, ()));
}

mod embedded {
    use super::*;
    use wz_store::EmbeddedStore;

    fn fresh() -> (DynStore, tempfile::TempDir) {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let store = EmbeddedStore::open(dir.path()).expect("open embedded store");
        (Arc::new(store), dir)
    }

    wz_store::store_conformance_tests!(fresh);
}

mod redis {
    use super::*;
    use wz_store::RedisStore;
    use wz_store::testing::RedisServer;

    /// A fresh redis-server per check, in its own temp dir.
    async fn fresh() -> (DynStore, RedisServer) {
        let server = RedisServer::start_temp(&[]);
        let store = RedisStore::connect(&server.url()).await.expect("connect to test redis-server");
        (Arc::new(store), server)
    }

    wz_store::store_conformance_tests!(async fresh);
}
