//! Unit tests of the pickle module's allowlist: every global the encoder spells is one the
//! decoder accepts, and the checkpoint classes only where a `.metadata` file is decoded.

use super::*;

#[test]
fn global_for_spells_only_allowlisted_globals() {
    let syms = [
        Sym::Reconstruct,
        Sym::Scalar,
        Sym::NdArrayType,
        Sym::DtypeType,
        Sym::Tuple,
        Sym::Set,
        Sym::FrozenSet,
        Sym::ByteArray,
        Sym::Complex,
        Sym::Bytes,
        Sym::OrderedDict,
        Sym::CodecsEncode,
        Sym::Eval,
        Sym::ReconstructDenseTensor,
    ];
    for sym in syms {
        for protocol in 0..=5 {
            for flavour in [Flavour::Numpy1, Flavour::Numpy2] {
                let g = global_for(sym, protocol, flavour);
                assert_eq!(
                    lookup_global(g.module.as_bytes(), g.name.as_bytes()),
                    Some(g)
                );
            }
        }
    }
    for g in ALLOWED_GLOBALS.iter().chain(CHECKPOINT_GLOBALS) {
        assert_eq!(g.name, g.sym.name());
    }
    // The checkpoint classes only where a .metadata file is decoded.
    for g in CHECKPOINT_GLOBALS {
        let (m, n) = (g.module.as_bytes(), g.name.as_bytes());
        assert_eq!(lookup_global(m, n), None);
        assert_eq!(Allowlist::CheckpointMetadata.lookup(m, n), Some(*g));
    }
}
