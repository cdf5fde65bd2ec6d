//! pdsave: a reference encoder/decoder and conformance harness for PaddlePaddle's save formats.
//!
//! Data flows one way (spec/README.md, "Architecture"): bytes → [`source`] (what a PATH is,
//! each file's kind sniffed once) → codecs ([`pickle`] graph, [`tensor_stream`], [`program`],
//! safetensors) → Paddle's rules ([`paddle::plan`], on one graph walk, [`paddle::walk`]) →
//! the loaded value ([`paddle::load`]) → [`view`] / [`check`] / [`inspect`] / [`convert`].
//! A pickle is never executed: globals are symbols checked against an exact allowlist. Each
//! dtype is one row of [`dtype`]; rule ids are typed in [`rules`].
//!
//! The entry points, one per job:
//!
//! | job | function |
//! |---|---|
//! | a checkpoint's tensors and values | [`open`] → [`Checkpoint::tensors`], [`Checkpoint::entries`] |
//! | compare two checkpoints | [`diff::diff`] |
//! | decode / encode a pickle | [`pickle::decode()`], [`pickle::encode()`] |
//! | what a PATH is | [`source::Source::open`], [`source::sniff`] |
//! | what `paddle.load` returns | [`paddle::path::load`], [`paddle::file::load_file_bytes`] |
//! | what `paddle.save` writes | [`paddle::save::save`] |
//! | large models' checkpoints (spec/checkpoint.md) | [`paddle::checkpoint::Checkpoint::open`] (a `save_state_dict` directory), [`paddle::index::load`] (a sharded state dict), [`paddle::safetensors::load`] (`safetensors=True`) — or [`paddle::path::load`] on any of them |
//! | the load view (JSON) | [`view::view`], [`view::write_view`] |
//! | tensor streams, programs | [`tensor_stream::decode_dense_tensor`], [`program::summarize_program`] |
//! | inspect, check, convert | [`inspect::inspect`], [`check::check`], [`convert::convert`] |
//! | the conformance runner | [`conformance::validate::run`] |
//!
//! Tensors out of a checkpoint, in Rust, without the JSON view:
//!
//! ```
//! let ckpt = pdsave::open("corpus/cases/y_p3_proto4_convnet_state_dict/model.pdparams").unwrap();
//! for t in ckpt.tensors() {
//!     // key path, Paddle parameter name, dtype as loaded, shape, little-endian bytes
//!     println!("{} {:?} {} {:?} {} bytes", t.key, t.name, t.dtype, t.shape(), t.le_bytes().len());
//! }
//! let w: &[f32] = ckpt.tensor("fc.weight").unwrap().as_slice().unwrap();
//! assert_eq!(w.len(), 32 * 3);
//! ```
//!
//! ```
//! // What paddle.load gives for a state dict Paddle 3.3.1 wrote, as the JSON view.
//! use pdsave::paddle::{load::Item, path};
//! let src = pdsave::source::Source::open(
//!     "corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams".as_ref(),
//!     false,
//! )
//! .unwrap();
//! let loaded = path::load(&src, Default::default());
//! let view = pdsave::view::view(&loaded).unwrap();
//! assert_eq!(view["result"]["t"], "dict");
//! assert_eq!(view["result"]["items"][0][1]["t"], "tensor");
//! // The same value, walked in Rust: every entry is a Tensor with its Paddle name.
//! let Ok(l) = &loaded else { panic!() };
//! let Item::Dict(items) = l.root() else { panic!() };
//! for (k, v) in items.iter() {
//!     let (Item::Str(key), Item::Tensor { dtype, array, name }) = (k, v) else { panic!() };
//!     println!("{key}: {dtype} {:?} {name:?}, {} bytes", array.shape, array.data.len());
//! }
//! ```

pub mod check;
pub mod checkpoint;
pub mod conformance;
pub mod convert;
pub mod diff;
pub mod digest;
pub mod dtype;
#[cfg(feature = "harness")]
pub mod gen;
pub mod numpy;
pub mod paddle;
pub mod pickle;
pub mod program;
pub mod reencode;
pub mod rules;
pub mod show;
pub mod source;
pub mod tensor_stream;
pub mod view;
pub mod vocab;

pub use checkpoint::{open, Checkpoint};

/// Runs a recursive step with enough stack: nesting limits are counted in levels (as
/// Python counts them), so the native stack grows on the heap when it runs low.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, f)
}
pub mod inspect;
pub mod mapped;
pub mod names;
pub mod paint;
pub mod par;
pub mod stats;
pub mod write;
