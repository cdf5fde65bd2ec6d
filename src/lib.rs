//! pdsave: a reference encoder/decoder and conformance harness for PaddlePaddle's save formats.
//!
//! Data flows one way: bytes → [`pickle`] graph → [`numpy`] reduce forms → Paddle semantics → view.
//! A pickle is never executed: globals are symbols checked against an exact allowlist.

pub mod conformance;
pub mod gen;
pub mod numpy;
pub mod paddle;
pub mod pickle;
pub mod program;
pub mod tensor_stream;
pub mod view;
