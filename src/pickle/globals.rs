//! Every global a pickle references, found without running anything: the safety half of
//! `pdsave check` (spec/check.md).
//!
//! The VM ([`super::decode`]) stops at the first global it refuses, so a file holding
//! `os.system` and `subprocess.Popen` would only name the first. [`scan_globals`] is its own
//! pass over the opcode [`Reader`]: a stack-*shape* simulation with pickletools' stack
//! effects per opcode (what each pops and pushes, MARK), where a slot is only ever a
//! string (kept by reference to its opcode, to resolve STACK_GLOBAL's operands), a global
//! (by index into the list) or an opaque value. The memo (PUT/BINPUT/LONG_BINPUT/MEMOIZE,
//! GET/BINGET/LONG_BINGET) keeps those slots, so `BINGET 0; BINGET 1; STACK_GLOBAL` with
//! `'os'` and `'system'` memoized earlier is found as `os.system`.
//!
//! Found: GLOBAL and INST (module and name inline), STACK_GLOBAL (the two strings on top of
//! the stack; *unresolved* when they are not strings the scan can see), and the other
//! opcodes that can run code on `pickle.load`: PERSID/BINPERSID, EXT1/2/4, INST/OBJ/NEWOBJ/
//! NEWOBJ_EX on a class that is not an allowlisted global, REDUCE on a callable computed at
//! run time.
//!
//! Where the shape simulation sees that `pickle.load` itself would fail (stack underflow,
//! missing MARK or memo slot) it records the first such point in [`GlobalScan::load_error`]
//! and goes on with an opaque slot, so nothing after it is hidden. Malformed bytes (the
//! reader's error) end the scan, keeping what was found before. Bounded: iterative, at most
//! one stack slot, memo entry and record per opcode, strings decoded once each and kept
//! to [`MAX_NAME`] bytes.

use std::collections::HashMap;
use std::sync::Arc;

use super::decode::{escape_decode, is_surrogatepass, lossy, raw_unicode_escape};
pub use super::gadgets::{
    classify, danger, meaning, Gadget, Harm, Verdict, GADGETS, GADGET_SOURCES,
};
use super::ops::{Arg, Framing, Op, Reader};
use super::{Allowlist, Global, PickleError, Sym};

/// Longest module or name text kept (in bytes); longer ones end in `…`. Allowlisted names
/// are far shorter, so a cut name is never mistaken for one.
pub const MAX_NAME: usize = 256;

/// One global reference: one GLOBAL, INST or STACK_GLOBAL opcode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalRef {
    /// Byte offset of the opcode.
    pub offset: usize,
    /// `GLOBAL`, `INST` or `STACK_GLOBAL`.
    pub opcode: &'static str,
    /// The module as `pickle.load` would see it; `None` when STACK_GLOBAL's operand is not a
    /// string known without running the pickle.
    pub module: Option<Arc<str>>,
    pub name: Option<Arc<str>>,
    /// The allowlist entry, when (module, name) is exactly one.
    pub allowed: Option<Global>,
    /// The global was the callable of a REDUCE.
    pub called: bool,
    /// The global was used as a value: an argument, an item, a BUILD target, the result,
    /// popped (anything but being called).
    pub as_value: bool,
}

impl GlobalRef {
    /// Both module and name are known.
    pub fn resolved(&self) -> bool {
        self.module.is_some() && self.name.is_some()
    }
    /// Used exactly as Paddle and numpy use an allowlisted global: called by REDUCE and
    /// nothing else, or (`numpy.ndarray`, `_reconstruct`'s argument) only as a value.
    pub fn in_shape(&self) -> bool {
        match self.allowed {
            // Operands, never called: numpy.ndarray (`_reconstruct`'s argument) and the
            // checkpoint metadata classes (NEWOBJ's class, K-META).
            Some(g) if matches!(g.sym, Sym::NdArrayType | Sym::Checkpoint(_)) => {
                self.as_value && !self.called
            }
            Some(_) => self.called && !self.as_value,
            None => false,
        }
    }
    /// Module and name are dotted Python identifiers, which an unpickler could import
    /// (a tar's first member name `inference/inference.pdmodel\0…`, read as INST's
    /// module, is none: its import fails).
    pub fn importable(&self) -> bool {
        let ident = |s: &Option<Arc<str>>| {
            s.as_deref().is_some_and(|s| {
                s.split('.').all(|p| {
                    p.chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_')
                        && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                })
            })
        };
        ident(&self.module) && ident(&self.name)
    }
    /// `module.name`, with `?` for an unknown part.
    pub fn dotted(&self) -> String {
        format!(
            "{}.{}",
            self.module.as_deref().unwrap_or("?"),
            self.name.as_deref().unwrap_or("?")
        )
    }
}

/// Another opcode that can run code on `pickle.load`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpcodeUse {
    pub offset: usize,
    pub opcode: &'static str,
    /// What it does, in words.
    pub detail: String,
}

/// What [`scan_globals`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalScan {
    /// Every global reference, in file order.
    pub globals: Vec<GlobalRef>,
    /// PERSID, EXT, instantiations of non-allowlisted classes, calls of run-time values.
    pub opcodes: Vec<OpcodeUse>,
    /// The PROTO opcode's argument, if any.
    pub protocol: Option<u8>,
    /// Offset of STOP, when the scan reached it.
    pub stop: Option<usize>,
    /// The malformed input that ended the scan (reader error, or end without STOP).
    pub error: Option<PickleError>,
    /// The first point where `pickle.load` would fail on the stack's shape; scanning went on.
    pub load_error: Option<PickleError>,
    /// The first frame violation ([`PickleError::Frame`]): `pickle.py` refuses the file,
    /// a lenient unpickler reads it otherwise than this (sequential) scan.
    pub frame: Option<PickleError>,
    /// Globals of the other reading of a frame violation that the sequential scan does not
    /// show: CPython 3.11's C unpickler on a `BytesIO` reads a line that straddles a frame's
    /// end again from the frame's end ([`Framing::LineAtFrameEnd`]).
    pub hidden: Vec<GlobalRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Enc {
    /// BINUNICODE & co: UTF-8.
    Utf8,
    /// BINSTRING, SHORT_BINSTRING: latin-1 (Paddle loads with `encoding='latin1'`).
    Latin1,
    /// STRING: quoted, escape-decoded, then latin-1.
    Quoted,
    /// UNICODE: raw-unicode-escape.
    RawUnicode,
}

#[derive(Clone, Copy, Debug)]
enum Slot<'a> {
    Opaque,
    /// A str pushed by the opcode at `at`, not yet decoded.
    Str {
        at: usize,
        raw: &'a [u8],
        enc: Enc,
    },
    /// `GlobalScan::globals[i]`.
    Global(usize),
}

/// Cuts `s` to [`MAX_NAME`] bytes (on a char boundary) and marks the cut.
fn capped(s: &str) -> Arc<str> {
    if s.len() <= MAX_NAME {
        return Arc::from(s);
    }
    let cut = (0..=MAX_NAME)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    Arc::from(format!("{}…({} bytes)", &s[..cut], s.len()))
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// The str `pickle.load(f, encoding='latin1')` makes of a string opcode's argument, or
/// `None` where it would raise.
fn decode_str(raw: &[u8], enc: Enc) -> Option<String> {
    match enc {
        Enc::Utf8 => match std::str::from_utf8(raw) {
            Ok(s) => Some(s.to_owned()),
            // surrogatepass: CPython makes a str (its import then fails).
            Err(_) if is_surrogatepass(raw) => Some(lossy(raw)),
            Err(_) => None,
        },
        Enc::Latin1 => Some(latin1(raw)),
        Enc::Quoted => match raw {
            [q, mid @ .., q2] if q == q2 && (*q == b'\'' || *q == b'"') => {
                escape_decode(mid).map(|b| latin1(&b))
            }
            _ => None,
        },
        Enc::RawUnicode => raw_unicode_escape(raw).map(|t| t.lossy()),
    }
}

/// The simulated stack: 4 bytes a slot (`u32::MAX` an opaque value, else an index into
/// `table`), so a pickle of millions of values costs 4 bytes each (P-LIMIT); only strings
/// and globals, which take input bytes of their own, get a table entry.
struct Slots<'a> {
    stack: Vec<u32>,
    table: Vec<Slot<'a>>,
}

const OPAQUE: u32 = u32::MAX;

impl<'a> Slots<'a> {
    fn enc(&mut self, s: Slot<'a>) -> u32 {
        match s {
            Slot::Opaque => OPAQUE,
            s if self.table.len() < OPAQUE as usize => {
                self.table.push(s);
                (self.table.len() - 1) as u32
            }
            _ => OPAQUE,
        }
    }
    fn dec(&self, v: u32) -> Slot<'a> {
        self.table.get(v as usize).copied().unwrap_or(Slot::Opaque)
    }
    fn push(&mut self, s: Slot<'a>) {
        let v = self.enc(s);
        self.stack.push(v);
    }
    fn push_raw(&mut self, v: u32) {
        self.stack.push(v);
    }
    fn pop(&mut self) -> Option<Slot<'a>> {
        self.stack.pop().map(|v| self.dec(v))
    }
    fn last(&self) -> Option<Slot<'a>> {
        self.stack.last().map(|&v| self.dec(v))
    }
    fn last_raw(&self) -> Option<u32> {
        self.stack.last().copied()
    }
    fn get(&self, i: usize) -> Option<Slot<'a>> {
        self.stack.get(i).map(|&v| self.dec(v))
    }
    fn len(&self) -> usize {
        self.stack.len()
    }
}

struct Scanner<'a> {
    /// The globals the decoder would accept here.
    allow: Allowlist,
    out: GlobalScan,
    stack: Slots<'a>,
    /// Stack lengths at each MARK.
    marks: Vec<usize>,
    /// Memo slots, encoded as the stack's plus one (the memo's empty marker is OPAQUE).
    memo: super::decode::memo::Memo,
    /// Decoded strings by the offset of the opcode that pushed them (decoded once each).
    strings: HashMap<usize, Option<Arc<str>>>,
}

impl<'a> Scanner<'a> {
    fn soft(&mut self, e: PickleError) {
        if self.out.load_error.is_none() {
            self.out.load_error = Some(e);
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// Records how a slot was consumed: called by REDUCE, or used as a value.
    fn used(&mut self, s: Slot<'a>, called: bool) {
        if let Slot::Global(i) = s {
            if let Some(g) = self.out.globals.get_mut(i) {
                if called {
                    g.called = true;
                } else {
                    g.as_value = true;
                }
            }
        }
    }

    /// Pops a slot used as a value.
    fn pop(&mut self, at: usize, op: Op) -> Slot<'a> {
        let s = self.pop_raw(at, op);
        self.used(s, false);
        s
    }

    fn pop_raw(&mut self, at: usize, op: Op) -> Slot<'a> {
        if self.stack.len() > self.fence() {
            self.stack.pop().unwrap_or(Slot::Opaque)
        } else {
            self.soft(PickleError::StackUnderflow {
                offset: at,
                opcode: op.name(),
            });
            Slot::Opaque
        }
    }

    /// The top slot, used as a value (a BUILD, APPEND or SETITEM target).
    fn top(&mut self, at: usize, op: Op) -> Option<Slot<'a>> {
        let t = self.peek(at, op);
        if let Some(s) = t {
            self.used(s, false);
        }
        t
    }

    fn peek(&mut self, at: usize, op: Op) -> Option<Slot<'a>> {
        if self.stack.len() > self.fence() {
            self.stack.last()
        } else {
            self.soft(PickleError::StackUnderflow {
                offset: at,
                opcode: op.name(),
            });
            None
        }
    }

    /// Pops to the last MARK; gives the first slot above it (OBJ's class).
    fn pop_mark(&mut self, at: usize, op: Op) -> Option<Slot<'a>> {
        match self.marks.pop() {
            Some(m) => {
                let first = self.stack.get(m);
                let from = m.min(self.stack.len());
                for i in from..self.stack.len() {
                    if let Some(s @ Slot::Global(_)) = self.stack.get(i) {
                        self.used(s, false);
                    }
                }
                self.stack.stack.truncate(from);
                first
            }
            None => {
                self.soft(PickleError::NoMark {
                    offset: at,
                    opcode: op.name(),
                });
                None
            }
        }
    }

    fn resolve(&mut self, s: Slot<'a>) -> Option<Arc<str>> {
        let Slot::Str { at, raw, enc } = s else {
            return None;
        };
        self.strings
            .entry(at)
            .or_insert_with(|| decode_str(raw, enc).map(|t| capped(&t)))
            .clone()
    }

    fn add_global(
        &mut self,
        offset: usize,
        op: Op,
        module: Option<Arc<str>>,
        name: Option<Arc<str>>,
        allowed: Option<Global>,
    ) -> usize {
        self.out.globals.push(GlobalRef {
            offset,
            opcode: op.name(),
            module,
            name,
            allowed,
            called: false,
            as_value: false,
        });
        self.out.globals.len() - 1
    }

    /// INST/OBJ/NEWOBJ/NEWOBJ_EX on `class`: a finding unless it is an allowlisted global.
    fn instantiate(&mut self, offset: usize, op: Op, class: Option<Slot<'a>>) {
        let what = match class {
            Some(Slot::Global(i)) => match self.out.globals.get(i) {
                Some(g) if g.allowed.is_some() => return,
                Some(g) if g.resolved() => g.dotted(),
                Some(g) => format!("the unresolved global of offset {}", g.offset),
                None => "a class computed at run time".into(),
            },
            _ => "a class computed at run time (not a global named in the file)".into(),
        };
        self.out.opcodes.push(OpcodeUse {
            offset,
            opcode: op.name(),
            detail: format!("instantiates {what}: pickle.load would create it and run its code"),
        });
    }

    fn step(&mut self, offset: usize, op: Op, arg: Arg<'a>) {
        use Op::*;
        let int = match arg {
            Arg::Int(v) => v,
            _ => 0,
        };
        let bytes = match arg {
            Arg::Bytes(b) => b,
            _ => &[][..],
        };
        match op {
            MARK => self.marks.push(self.stack.len()),
            STOP => {
                self.pop(offset, op);
            }
            POP => {
                if self.stack.len() > self.fence() {
                    let t = self.stack.pop().unwrap_or(Slot::Opaque);
                    self.used(t, false);
                } else if self.marks.pop().is_none() {
                    self.soft(PickleError::StackUnderflow {
                        offset,
                        opcode: op.name(),
                    });
                }
            }
            POP_MARK => {
                self.pop_mark(offset, op);
            }
            DUP => {
                if self.peek(offset, op).is_some() {
                    if let Some(v) = self.stack.last_raw() {
                        self.stack.push_raw(v);
                    }
                }
            }
            FLOAT | INT | BININT | BININT1 | BININT2 | LONG | LONG1 | LONG4 | NONE | NEWTRUE
            | NEWFALSE | BINFLOAT | BINBYTES | SHORT_BINBYTES | BINBYTES8 | BYTEARRAY8
            | EMPTY_DICT | EMPTY_LIST | EMPTY_TUPLE | EMPTY_SET | NEXT_BUFFER => {
                self.stack.push(Slot::Opaque)
            }
            STRING => self.stack.push(Slot::Str {
                at: offset,
                raw: bytes,
                enc: Enc::Quoted,
            }),
            BINSTRING | SHORT_BINSTRING => self.stack.push(Slot::Str {
                at: offset,
                raw: bytes,
                enc: Enc::Latin1,
            }),
            UNICODE => self.stack.push(Slot::Str {
                at: offset,
                raw: bytes,
                enc: Enc::RawUnicode,
            }),
            BINUNICODE | SHORT_BINUNICODE | BINUNICODE8 => self.stack.push(Slot::Str {
                at: offset,
                raw: bytes,
                enc: Enc::Utf8,
            }),
            READONLY_BUFFER => {
                self.peek(offset, op);
            }
            PERSID => {
                self.out.opcodes.push(OpcodeUse {
                    offset,
                    opcode: op.name(),
                    detail: format!(
                        "persistent id {:?}: pickle.load hands it to the unpickler's persistent_load (an object from outside the file; Paddle never writes one)",
                        String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_NAME)])
                    ),
                });
                self.stack.push(Slot::Opaque);
            }
            BINPERSID => {
                self.pop(offset, op);
                self.out.opcodes.push(OpcodeUse {
                    offset,
                    opcode: op.name(),
                    detail: "persistent id: pickle.load hands it to the unpickler's persistent_load (an object from outside the file; Paddle never writes one)".into(),
                });
                self.stack.push(Slot::Opaque);
            }
            EXT1 | EXT2 | EXT4 => {
                self.out.opcodes.push(OpcodeUse {
                    offset,
                    opcode: op.name(),
                    detail: format!(
                        "extension code {int}: pickle.load imports whatever global copyreg's extension registry maps it to (Paddle never writes one)"
                    ),
                });
                self.stack.push(Slot::Opaque);
            }
            REDUCE => {
                self.pop(offset, op);
                let f = self.pop_raw(offset, op);
                self.used(f, true);
                if !matches!(f, Slot::Global(_)) {
                    self.out.opcodes.push(OpcodeUse {
                        offset,
                        opcode: op.name(),
                        detail: "calls an object computed at run time (not a global named in the file): pickle.load would run it".into(),
                    });
                }
                self.stack.push(Slot::Opaque);
            }
            BUILD | APPEND => {
                self.pop(offset, op);
                self.top(offset, op);
            }
            SETITEM => {
                self.pop(offset, op);
                self.pop(offset, op);
                self.top(offset, op);
            }
            APPENDS | SETITEMS | ADDITEMS => {
                self.pop_mark(offset, op);
                self.top(offset, op);
            }
            DICT | LIST | TUPLE | FROZENSET => {
                self.pop_mark(offset, op);
                self.stack.push(Slot::Opaque);
            }
            TUPLE1 | TUPLE2 | TUPLE3 => {
                let n = match op {
                    TUPLE1 => 1,
                    TUPLE2 => 2,
                    _ => 3,
                };
                for _ in 0..n {
                    self.pop(offset, op);
                }
                self.stack.push(Slot::Opaque);
            }
            GET | BINGET | LONG_BINGET => {
                let v = match u64::try_from(int).ok().and_then(|i| self.memo.get(i)) {
                    Some(v) => v.wrapping_sub(1),
                    None => {
                        self.soft(PickleError::MemoMissing { offset, index: int });
                        OPAQUE
                    }
                };
                self.stack.push_raw(v);
            }
            PUT | BINPUT | LONG_BINPUT | MEMOIZE => {
                let idx = if op == MEMOIZE {
                    self.memo.len() as i64
                } else {
                    int
                };
                if idx < 0 {
                    self.soft(PickleError::BadArgument {
                        offset,
                        opcode: op.name(),
                        reason: "negative memo index",
                    });
                } else if self.peek(offset, op).is_some() {
                    let v = self.stack.last_raw().unwrap_or(OPAQUE);
                    // Stored one up: the memo's empty marker is OPAQUE's value.
                    self.memo.put(idx as u64, v.wrapping_add(1));
                }
            }
            GLOBAL | INST => {
                let (m, n) = match arg {
                    Arg::Global(m, n) => (m, n),
                    _ => (&[][..], &[][..]),
                };
                let allowed = self.allow.lookup(m, n);
                let module = Some(capped(&String::from_utf8_lossy(m)));
                let name = Some(capped(&String::from_utf8_lossy(n)));
                let i = self.add_global(offset, op, module, name, allowed);
                if op == INST {
                    self.pop_mark(offset, op);
                    self.instantiate(offset, op, Some(Slot::Global(i)));
                    self.stack.push(Slot::Opaque);
                } else {
                    self.stack.push(Slot::Global(i));
                }
            }
            STACK_GLOBAL => {
                let n = self.pop_raw(offset, op);
                let m = self.pop_raw(offset, op);
                let (module, name) = (self.resolve(m), self.resolve(n));
                let allowed = match (&module, &name) {
                    (Some(m), Some(n)) => self.allow.lookup(m.as_bytes(), n.as_bytes()),
                    _ => None,
                };
                let i = self.add_global(offset, op, module, name, allowed);
                self.stack.push(Slot::Global(i));
            }
            OBJ => {
                let class = self.pop_mark(offset, op);
                self.instantiate(offset, op, class);
                self.stack.push(Slot::Opaque);
            }
            NEWOBJ => {
                self.pop(offset, op);
                let class = self.pop(offset, op);
                self.instantiate(offset, op, Some(class));
                self.stack.push(Slot::Opaque);
            }
            NEWOBJ_EX => {
                self.pop(offset, op);
                self.pop(offset, op);
                let class = self.pop(offset, op);
                self.instantiate(offset, op, Some(class));
                self.stack.push(Slot::Opaque);
            }
            PROTO => {
                if !(0..=5).contains(&int) {
                    self.soft(PickleError::BadProtocol {
                        offset,
                        protocol: int,
                    });
                }
                self.out.protocol.get_or_insert(int.clamp(0, 255) as u8);
            }
            FRAME => {}
        }
    }
}

/// Lists every global reference and every other code-running opcode of the pickle at the
/// start of `data`, up to its STOP, without running anything. Never panics; stops at
/// malformed bytes with the reader's error, keeping what it found before.
///
/// The opcodes are read straight through, FRAME as advisory, as a lenient unpickler runs
/// them; a frame violation that `pickle.py` refuses is [`GlobalScan::frame`], and the
/// globals of its other reading are [`GlobalScan::hidden`].
pub fn scan_globals(data: &[u8]) -> GlobalScan {
    scan_globals_at(data, 0, Allowlist::Paddle)
}

/// [`scan_globals`] with an allowlist (a checkpoint's `.metadata` file:
/// [`Allowlist::CheckpointMetadata`]).
pub fn scan_globals_in(data: &[u8], allow: Allowlist) -> GlobalScan {
    scan_globals_at(data, 0, allow)
}

/// [`scan_globals_in`] of the pickle starting at `start` (a pickle after another's STOP);
/// offsets are offsets in `data`.
pub fn scan_globals_at(data: &[u8], start: usize, allow: Allowlist) -> GlobalScan {
    let mut out = scan(data, start, Framing::Advisory, allow);
    let mut strict = Reader::at(data, start, Framing::Strict);
    while let Some(i) = strict.next_instr() {
        match i {
            Ok(i) if i.op == Op::STOP => break,
            Ok(_) => {}
            Err(e) => {
                if let PickleError::Frame { .. } = e {
                    // The other reading: what CPython 3.11's C unpickler imports from a
                    // BytesIO, where a straddling line is read again from the frame's end.
                    let other = scan(data, start, Framing::LineAtFrameEnd, allow);
                    let seen = |g: &GlobalRef| {
                        out.globals.iter().any(|s| {
                            (s.offset, &s.module, &s.name) == (g.offset, &g.module, &g.name)
                        })
                    };
                    out.hidden = other.globals.into_iter().filter(|g| !seen(g)).collect();
                    out.frame = Some(e);
                }
                break;
            }
        }
    }
    out
}

fn scan(data: &[u8], start: usize, framing: Framing, allow: Allowlist) -> GlobalScan {
    let mut s = Scanner {
        allow,
        out: GlobalScan::default(),
        stack: Slots {
            stack: Vec::new(),
            table: Vec::new(),
        },
        marks: Vec::new(),
        memo: Default::default(),
        strings: HashMap::new(),
    };
    let mut r = Reader::at(data, start, framing);
    while let Some(instr) = r.next_instr() {
        let i = match instr {
            Ok(i) => i,
            Err(e) => {
                s.out.error = Some(e);
                return s.out;
            }
        };
        s.step(i.offset, i.op, i.arg);
        if i.op == Op::STOP {
            s.out.stop = Some(i.offset);
            return s.out;
        }
    }
    s.out.error = Some(PickleError::NoStop { offset: data.len() });
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &GlobalScan) -> Vec<(usize, &'static str, String)> {
        s.globals
            .iter()
            .map(|g| (g.offset, g.opcode, g.dotted()))
            .collect()
    }

    #[test]
    fn memoized_stack_global_operands_are_resolved() {
        // PROTO 4; 'os' MEMOIZE; 'system' MEMOIZE; POP POP; BINGET 0; BINGET 1; STACK_GLOBAL
        let b = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x9400h\x00h\x01\x93.";
        let s = scan_globals(b);
        assert_eq!(names(&s), vec![(22, "STACK_GLOBAL", "os.system".into())]);
        assert_eq!(
            (s.load_error, s.stop, s.protocol),
            (None, Some(23), Some(4))
        );
    }

    #[test]
    fn long_names_are_capped() {
        let long = "m".repeat(1000);
        let b = format!("c{long}\nx\n.");
        let s = scan_globals(b.as_bytes());
        let m = s.globals[0].module.as_deref().unwrap();
        assert!(
            m.len() < MAX_NAME + 32 && m.ends_with("(1000 bytes)"),
            "{m}"
        );
    }

    #[test]
    fn every_global_of_a_quoted_or_raw_unicode_stack_global() {
        // STRING 'os' (quoted, escaped \x73 = s), UNICODE 'system' with \u0073.
        let b = b"S'o\\x73'\nVsy\\u0073tem\n\x93.";
        let s = scan_globals(b);
        assert_eq!(names(&s), vec![(22, "STACK_GLOBAL", "os.system".into())]);
        assert_eq!(s.load_error, None);
    }
}
