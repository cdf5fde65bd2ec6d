//! Raw bytes → the decoders of the checkpoints of large models: a `.metadata` file
//! (the checkpoint allowlist, NEWOBJ/BUILD of Paddle's dataclasses, their typed reading),
//! `paddle.load(..., safetensors=True)` under both option sets with its view, a sharded
//! state dict's index JSON, a Vocab record. Everything must end in a value or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pdsave::paddle::LoadOptions;

fuzz_target!(|data: &[u8]| {
    if let Ok(md) = pdsave::paddle::checkpoint::metadata::parse(data) {
        // Every piece's geometry checks without panicking.
        for (key, metas) in &md.tensors {
            let pieces: Vec<pdsave::paddle::checkpoint::assemble::Piece> = metas
                .iter()
                .map(|m| pdsave::paddle::checkpoint::assemble::Piece {
                    offset: m.global_offset.clone(),
                    block: m.local_shape.clone(),
                    range: m.flattened.unwrap_or((0, 1)),
                })
                .collect();
            let shape = metas.first().map(|m| m.local_shape.clone()).unwrap_or_default();
            let _ = pdsave::paddle::checkpoint::assemble::coverage(
                &shape,
                &pieces.iter().collect::<Vec<_>>(),
            );
            let _ = key;
        }
    }
    for return_numpy in [false, true] {
        let opts = LoadOptions {
            return_numpy,
            safetensors: true,
            ..Default::default()
        };
        let r = pdsave::paddle::safetensors::load(data, opts);
        let _ = pdsave::view::view(&r);
    }
    let _ = pdsave::source::sharded::parse_index("fuzz.index.json".as_ref(), data);
    let _ = pdsave::vocab::decode_vocab(data);
});
