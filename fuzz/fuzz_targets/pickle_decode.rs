//! Raw bytes → the pickle VM (`pdsave::pickle::decode`) and the disassembler.
//! Any input must give a graph or a typed error: no panic, no allocation beyond the
//! input's size (libFuzzer's -malloc_limit_mb catches that), no stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = pdsave::pickle::decode(data) {
        assert!(g.consumed <= data.len());
        assert!((g.root as usize) < g.nodes.len());
    }
    let _ = pdsave::pickle::disasm::disasm(data);
});
