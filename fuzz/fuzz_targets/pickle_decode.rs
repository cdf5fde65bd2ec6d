//! Raw bytes → the pickle VM (`pdsave::pickle::decode`), the global scan of `pdsave check`
//! (`pdsave::pickle::globals::scan_globals`) and the disassembler.
//! Any input must give a graph or a typed error (a frame violation included): no panic, no allocation beyond the
//! input's size (libFuzzer's -malloc_limit_mb catches that), no stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The global scan of `pdsave check`: every reference in file order, inside the input.
    let scan = pdsave::pickle::globals::scan_globals(data);
    assert!(scan.globals.windows(2).all(|w| w[0].offset < w[1].offset));
    assert!(scan.globals.iter().all(|r| r.offset < data.len()));
    if let Ok(g) = pdsave::pickle::decode(data) {
        assert!(g.consumed <= data.len());
        assert!((g.root as usize) < g.nodes.len());
        // What the VM accepts, the scan finds safe: allowlisted globals, no other opcode
        // that runs code (the two passes read STACK_GLOBAL's operands the same way).
        assert!(
            scan.globals.iter().all(|r| r.allowed.is_some()),
            "{:?}",
            scan.globals
        );
        assert!(scan.opcodes.is_empty(), "{:?}", scan.opcodes);
        // Both read frames as pickle.py does: what decodes has no frame violation.
        assert!(scan.frame.is_none() && scan.hidden.is_empty(), "{:?}", scan.frame);
    }
    let _ = pdsave::pickle::disasm::disasm(data);
});
