//! The memory allocator, and what it reports.
//!
//! The server uses jemalloc rather than the system's glibc malloc. The hub
//! allocates on many worker threads (snapshots, encoded frames, per-client
//! queues); glibc gives each thread an arena of its own and returns a freed
//! page to the system only when it sits at the top of its arena's heap, so
//! after a burst (a thousand snapshots for stalled readers, a reconnect
//! storm) resident memory stayed high for good although the memory was free
//! (docs/reliability.md has the figures). jemalloc purges unused pages after
//! a delay (its `dirty_decay_ms`, 10 s by default) and, with its background
//! thread on, does so even when the process is idle, so resident memory
//! follows what is live within seconds.
//!
//! [`heap`] reads jemalloc's own counters: bytes the program holds
//! (`allocated`) against pages the allocator keeps in memory (`resident`).
//! `/metrics` exports both, so a leak (allocated grows) can be told apart
//! from retention (only resident grows).

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Turns on jemalloc's background purging thread. Called once at start;
/// without it, unused pages are returned only when some thread allocates.
pub fn start() {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "jemalloc background thread not started: freed memory is returned to the system only on later allocations");
    }
}

/// Heap figures in bytes, fresh from jemalloc.
#[derive(Clone, Copy, Debug)]
pub struct Heap {
    /// Bytes in live allocations.
    pub allocated: usize,
    /// Bytes in pages the allocator holds in memory (live, cached and its own metadata).
    pub resident: usize,
}

/// The current heap figures; `None` if jemalloc cannot report them.
pub fn heap() -> Option<Heap> {
    // jemalloc caches its statistics; advancing the epoch refreshes them.
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    Some(Heap { allocated: tikv_jemalloc_ctl::stats::allocated::read().ok()?, resident: tikv_jemalloc_ctl::stats::resident::read().ok()? })
}
