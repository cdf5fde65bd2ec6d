//! Raw bytes → `paddle.load` reference (`load_file_bytes`, with its tensor-stream and
//! program fallbacks) under each option set, then the load view; and the classifier of a
//! decoded pickle (`pdsave check`). Everything must end in a value or a typed error.
//!
//! Values that expand (shared references counted each time) past 50,000 nodes are loaded
//! once, without their view: up to load's budget of ~1e6 nodes they are valid, but their
//! view takes seconds in an instrumented build (tests/fuzz_regressions.rs checks those).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pdsave::paddle::{file::load_file_bytes, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let decoded = pdsave::pickle::decode(data).ok();
    let big = decoded
        .as_ref()
        .is_some_and(|g| common::expanded_size(g, 50_001) > 50_000);
    for (_, opts) in LoadOptions::SETS {
        let r = load_file_bytes(data, opts);
        if big {
            break;
        }
        let _ = pdsave::view::view(&r);
    }
    if let Some(g) = decoded {
        let _ = pdsave::paddle::classify::classify_graph(&g);
    }
});
