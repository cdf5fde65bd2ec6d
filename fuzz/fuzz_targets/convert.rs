//! `pdsave convert` on untrusted input, both directions, through real files (in
//! /dev/shm when it exists):
//! - a pickle (first byte PROTO) → .safetensors → .pdparams gives exactly the bytes
//!   `reencode` gives for the input (the skeleton round trip is exact), and the safetensors
//!   file reads back with the safetensors crate;
//! - anything else is read as a .safetensors file → .pdparams, and what convert writes
//!   decodes and loads.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use pdsave::convert::{convert, ConvertOptions};
use pdsave::pickle::{decode, encode, EncodeOptions};

fn dir() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("pdsave-fuzz-convert-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    let opts = ConvertOptions::default();
    if data.first() == Some(&0x80) {
        // Skip pickles that expand past what a quick run can afford (the load budget).
        let Ok(g) = decode(data) else { return };
        if g.nodes.len() > 20_000 {
            return;
        }
        let Ok(reencoded) = encode(&g, &EncodeOptions::like(&g)) else {
            return;
        };
        let input = d.join("in.pdparams");
        let st = d.join("mid.safetensors");
        let back = d.join("back.pdparams");
        std::fs::write(&input, data).unwrap();
        if convert(&input, &st, &opts).is_ok() {
            let bytes = std::fs::read(&st).unwrap();
            safetensors::SafeTensors::deserialize(&bytes)
                .expect("convert wrote a safetensors file its crate cannot read");
            convert(&st, &back, &opts).expect("pdsave's own safetensors converts back");
            assert_eq!(
                std::fs::read(&back).unwrap(),
                reencoded,
                "round trip is not exact"
            );
        }
    } else {
        let input = d.join("in.safetensors");
        let out = d.join("out.pdparams");
        std::fs::write(&input, data).unwrap();
        if convert(&input, &out, &opts).is_ok() {
            let bytes = std::fs::read(&out).unwrap();
            let g = decode(&bytes).expect("convert wrote a pickle pdsave cannot decode");
            let _ = pdsave::paddle::load_graph(&g, Default::default());
        }
    }
});
