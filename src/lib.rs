//! pdsave: a reference encoder/decoder and conformance harness for PaddlePaddle's save formats.
//!
//! Data flows one way: bytes → [`pickle`] graph → [`numpy`] reduce forms → Paddle semantics → view.
//! A pickle is never executed: globals are symbols checked against an exact allowlist.

pub mod conformance;
pub mod convert;
pub mod gen;
pub mod numpy;
pub mod paddle;
pub mod pickle;
pub mod program;
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
