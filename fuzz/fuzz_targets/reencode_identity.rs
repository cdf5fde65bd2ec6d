//! Re-encode identity: whatever the decoder accepts, encode it (`EncodeOptions::like`),
//! decode that and encode again: the second and third encodings must be byte-identical
//! (the encoder's output is canonical), the decoder must accept the encoder's output, and
//! `paddle.load` must see the same thing in both.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pdsave::paddle::{load_graph, LoadOptions};
use pdsave::pickle::{decode, encode, EncodeOptions};
use pdsave::view::{diff, view};

fuzz_target!(|data: &[u8]| {
    let Ok(g1) = decode(data) else { return };
    // The encoder may refuse what it cannot write (nesting past the recursion limit,
    // an object waiting for its BUILD, ...): a typed error is fine.
    let Ok(enc2) = encode(&g1, &EncodeOptions::like(&g1)) else {
        return;
    };
    let g2 = match decode(&enc2) {
        Ok(g) => g,
        Err(e) => panic!("the decoder refuses the encoder's output: {e}"),
    };
    let enc3 = encode(&g2, &EncodeOptions::like(&g2)).expect("re-encoding a re-encoded graph");
    assert!(
        enc2 == enc3,
        "encoding is not canonical: second and third encodings differ"
    );
    if common::expanded_size(&g1, 50_001) <= 50_000 {
        for (name, lo) in LoadOptions::SETS {
            let a = view(&load_graph(&g1, lo));
            let b = view(&load_graph(&g2, lo));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    assert!(
                        diff(&a, &b).is_none(),
                        "{name}: view changes on re-encoding: {:?}",
                        diff(&a, &b)
                    )
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{name}: view changes on re-encoding: {a:?} vs {b:?}"),
            }
        }
    }
});
