//! cargo-fuzz target: one client text frame through `client::parse`,
//! `into_domain`, `Session::decide` and `Session::apply` against several
//! session states for every role. The check is the one the proptest fuzzer
//! runs (crates/wz-protocol/tests/fuzz_harness), included by path so both
//! fuzzers hold the same invariants.
//!
//! Only valid UTF-8 is tried: the WebSocket layer closes a connection whose
//! text frame is not UTF-8 before the protocol ever sees it.

#![no_main]

#[path = "../../crates/wz-protocol/tests/common/mod.rs"]
mod common;
#[path = "../../crates/wz-protocol/tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static STATES: LazyLock<Vec<(&'static str, wz_domain::Session)>> = LazyLock::new(fuzz_harness::states);

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        fuzz_harness::check(text, &STATES);
    }
});
