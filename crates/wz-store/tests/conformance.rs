//! Runs the whole conformance suite against every backend in this crate.
//!
//! Both modules expand the same macro, so both stores run exactly the same
//! list of checks; adding a check to `wz_store::conformance` adds it here for
//! both without touching this file.

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
