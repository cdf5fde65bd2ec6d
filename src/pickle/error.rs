//! Everything that can go wrong reading or writing a pickle, each error naming where, and
//! its category for users (malformed as CPython says, refused, a limit, an encoding error).

use super::globals;

/// Everything that can go wrong reading or writing a pickle. Each names where.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum PickleError {
    #[error("truncated input at offset {offset}: {opcode} needs {needed} bytes, {available} left")]
    Truncated {
        offset: usize,
        opcode: &'static str,
        needed: u64,
        available: u64,
    },
    #[error("pickle ended at offset {offset} without STOP")]
    NoStop { offset: usize },
    /// An opcode or argument that straddles the end of its FRAME, or a FRAME opened inside
    /// another: `pickle.py` refuses it, while a lenient unpickler (CPython's C one before
    /// gh-154848, `pickletools`) reads the bytes another way than a scanner does.
    #[error("{opcode} at offset {offset} {reason} (the FRAME at offset {frame} ends at offset {frame_end})")]
    Frame {
        offset: usize,
        opcode: &'static str,
        frame: usize,
        frame_end: usize,
        reason: &'static str,
    },
    #[error("unknown opcode byte 0x{byte:02x} at offset {offset}")]
    UnknownOpcode { offset: usize, byte: u8 },
    #[error("opcode {opcode} at offset {offset} is not allowed: {reason}")]
    ForbiddenOpcode {
        offset: usize,
        opcode: &'static str,
        reason: &'static str,
    },
    #[error("bad argument for {opcode} at offset {offset}: {reason}")]
    BadArgument {
        offset: usize,
        opcode: &'static str,
        reason: &'static str,
    },
    #[error("unsupported pickle protocol {protocol} at offset {offset}")]
    BadProtocol { offset: usize, protocol: i64 },
    #[error("stack underflow: {opcode} at offset {offset}")]
    StackUnderflow { offset: usize, opcode: &'static str },
    #[error("{opcode} at offset {offset} needs a MARK and there is none")]
    NoMark { offset: usize, opcode: &'static str },
    #[error("memo slot {index} read at offset {offset} was never written")]
    MemoMissing { offset: usize, index: i64 },
    #[error("global {module}.{name} at offset {offset} is not allowed")]
    ForbiddenGlobal {
        offset: usize,
        module: String,
        name: String,
    },
    #[error("call of {module}.{name} at offset {offset} is not in an allowed form: {reason}")]
    BadCall {
        offset: usize,
        module: &'static str,
        name: &'static str,
        reason: String,
    },
    #[error("BUILD at offset {offset} on {target} is not allowed: {reason}")]
    BadBuild {
        offset: usize,
        target: &'static str,
        reason: String,
    },
    #[error("{opcode} at offset {offset} expects {expected}, found {found}")]
    BadType {
        offset: usize,
        opcode: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("unhashable {found} used as a key or set item by {opcode} at offset {offset}")]
    Unhashable {
        offset: usize,
        opcode: &'static str,
        found: &'static str,
    },
    #[error("text of {opcode} at offset {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize, opcode: &'static str },
    #[error("limit exceeded at offset {offset}: {what} (limit {limit})")]
    Limit {
        offset: usize,
        what: &'static str,
        limit: u64,
    },
    #[error("cannot encode: {0}")]
    Encode(String),
    #[error("nesting deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("I/O error: {0}")]
    Io(String),
}

/// What kind of failure a [`PickleError`] is ([`PickleError::classify`], as serde_json's
/// `Error::classify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// The bytes are not a complete, well-formed pickle: CPython's unpickler fails on them
    /// too, with this exception.
    Malformed(crate::rules::PyExc),
    /// A pickle pdsave will not read: a global outside the allowlist, a call or BUILD not
    /// in the exact form Paddle and numpy write, an opcode that runs code — CPython would
    /// run it or read it differently.
    Refused,
    /// Past one of pdsave's limits (nesting, digits, sizes).
    Limit,
    /// Writing failed.
    Encode,
}

impl PickleError {
    /// What kind of failure this is.
    pub fn classify(&self) -> Category {
        use crate::rules::PyExc;
        use PickleError::*;
        match self {
            NoStop { .. } => Category::Malformed(PyExc::EOFError),
            UnknownOpcode { .. }
            | Truncated { .. }
            | StackUnderflow { .. }
            | NoMark { .. }
            | BadProtocol { .. }
            | BadArgument { .. } => Category::Malformed(PyExc::UnpicklingError),
            InvalidUtf8 { .. } => Category::Malformed(PyExc::UnicodeDecodeError),
            Limit { .. } | TooDeep { .. } => Category::Limit,
            Encode(_) | Io(_) => Category::Encode,
            ForbiddenOpcode { .. }
            | Frame { .. }
            | MemoMissing { .. }
            | ForbiddenGlobal { .. }
            | BadCall { .. }
            | BadBuild { .. }
            | BadType { .. }
            | Unhashable { .. } => Category::Refused,
        }
    }

    /// The exception CPython's unpickler raises on these bytes, when it fails on them too.
    pub fn python_class(&self) -> Option<crate::rules::PyExc> {
        match self.classify() {
            Category::Malformed(c) => Some(c),
            _ => None,
        }
    }

    /// The spec rule (spec/pickle.md) a refusal falls under.
    pub fn rule(&self) -> crate::rules::Rule {
        use crate::rules::Rule;
        use PickleError::*;
        match self {
            ForbiddenGlobal { .. } => Rule::PAllow,
            BadCall { .. } | BadBuild { .. } | ForbiddenOpcode { .. } | BadType { .. } => {
                Rule::PShape
            }
            Limit { .. } | TooDeep { .. } => Rule::PLimit,
            Frame { .. } => Rule::PFrame,
            MemoMissing { .. } => Rule::PMemo,
            _ => Rule::PErr,
        }
    }

    /// Why pdsave does not read these bytes, in a user's words: which object or opcode,
    /// whether it looks hostile (something that runs code) or only unfamiliar (a form of
    /// numpy's, Python's or Paddle's objects no known writer produces, spec/pickle.md
    /// P-HIST), and what to do.
    pub fn explain(&self) -> String {
        use PickleError::*;
        const REPORT: &str = "if a Paddle, numpy or Python release wrote this file, please \
            report it to pdsave with the output of `pdsave disasm FILE` and the versions used";
        match self {
            ForbiddenGlobal { module, name, .. } => match globals::danger(module, name) {
                Some(what) => format!(
                    "hostile: it calls {module}.{name} ({what}); paddle.load would run it. \
                     Do not load this file with Paddle"
                ),
                None => format!(
                    "unfamiliar: {module}.{name} is not an object Paddle, numpy or Python's \
                     pickler write in a Paddle file (another library's class, or a way to run \
                     code); pdsave never imports it. Load it only if you trust its source; \
                     {REPORT}"
                ),
            },
            BadCall { module, name, .. } => format!(
                "unfamiliar, not hostile by itself: {module}.{name} is numpy's, Python's or \
                 Paddle's own, but this call is in a form no numpy, CPython or Paddle release \
                 pdsave knows writes; {REPORT}"
            ),
            BadType {
                opcode,
                expected,
                found,
                ..
            } => format!(
                "unfamiliar: {opcode} is given a {found} where Python's and numpy's picklers \
                 put {expected}; {REPORT}"
            ),
            BadBuild { target, .. } => format!(
                "unfamiliar: the state given to {target} is not in a form numpy writes; {REPORT}"
            ),
            ForbiddenOpcode { opcode, .. } => format!(
                "unfamiliar: {opcode} builds instances of arbitrary classes (custom objects, \
                 or a way to run code); Paddle's files never use it. Load it only if you trust \
                 its source; {REPORT}"
            ),
            MemoMissing { .. } => format!(
                "damaged or crafted: it reads a memo slot it never \
                wrote (CPython refuses it too); {REPORT}"
            ),
            Limit { .. } | TooDeep { .. } => {
                "past pdsave's limits (nesting or sizes): it may be crafted to exhaust memory"
                    .into()
            }
            _ => "damaged: not a complete pickle (truncated, or not a pickle at all)".into(),
        }
    }

    /// Byte offset the error refers to, when it refers to one.
    pub fn offset(&self) -> Option<usize> {
        use PickleError::*;
        match self {
            Truncated { offset, .. }
            | NoStop { offset }
            | UnknownOpcode { offset, .. }
            | Frame { offset, .. }
            | ForbiddenOpcode { offset, .. }
            | BadArgument { offset, .. }
            | BadProtocol { offset, .. }
            | StackUnderflow { offset, .. }
            | NoMark { offset, .. }
            | MemoMissing { offset, .. }
            | ForbiddenGlobal { offset, .. }
            | BadCall { offset, .. }
            | BadBuild { offset, .. }
            | BadType { offset, .. }
            | Unhashable { offset, .. }
            | InvalidUtf8 { offset, .. }
            | Limit { offset, .. } => Some(*offset),
            Encode(_) | TooDeep { .. } | Io(_) => None,
        }
    }
}
