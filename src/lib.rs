//! pdsave: a reference encoder/decoder and conformance harness for PaddlePaddle's save formats.
//!
//! Data flows one way: bytes → [`pickle`] graph → [`numpy`] reduce forms → Paddle semantics → view.
//! A pickle is never executed: globals are symbols checked against an exact allowlist.
//!
//! The entry points, one per job:
//!
//! | job | function |
//! |---|---|
//! | decode / encode a pickle | [`pickle::decode()`], [`pickle::encode()`] |
//! | what `paddle.load` returns | [`paddle::file::load_file_bytes`], [`paddle::path::open`] |
//! | what `paddle.save` writes | [`paddle::save::save`] |
//! | the load view (JSON) | [`view::view`] |
//! | tensor streams, programs | [`tensor_stream::decode_dense_tensor`], [`program::summarize_program`] |
//! | inspect, check, convert | [`inspect::inspect`], [`check`], [`convert`] |
//! | the conformance runner | [`conformance::validate::run`] |
//!
//! ```
//! // What paddle.load gives for a state dict Paddle 3.3.1 wrote, as the JSON view.
//! let opened = pdsave::paddle::path::open(
//!     "corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams".as_ref(),
//! )
//! .unwrap();
//! let value = opened.load(Default::default());
//! let view = pdsave::view::view(&value).unwrap();
//! assert_eq!(view["result"]["t"], "dict");
//! assert_eq!(view["result"]["items"][0][1]["t"], "tensor");
//! ```

pub mod check;
pub mod conformance;
pub mod convert;
pub mod dtype;
#[cfg(feature = "harness")]
pub mod gen;
pub mod numpy;
pub mod paddle;
pub mod pickle;
pub mod program;
pub mod rules;
pub mod tensor_stream;
pub mod view;

/// Runs a recursive step with enough stack: nesting limits are counted in levels (as
/// Python counts them), so the native stack grows on the heap when it runs low.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, f)
}
pub mod inspect;
pub mod mapped;
pub mod par;
pub mod stats;
