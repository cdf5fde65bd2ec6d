//! The safe pickle VM: runs the opcodes of protocols 0-5 over typed nodes, never code.
//!
//! Memo semantics follow CPython's unpickler (PUT family and MEMOIZE share one memo,
//! MEMOIZE uses the count of filled slots), so a shared value stays one node. Globals
//! are looked up in [`super::ALLOWED_GLOBALS`]; REDUCE and BUILD on them are interpreted
//! symbolically in the exact shapes numpy, CPython and Paddle write, anything else is an
//! error naming module, name and offset (those forms: [`reduce`]; hashing of keys: [`key`];
//! string codecs: [`text`]). Every allocation is bounded by the input size.

use std::borrow::Cow;
use std::collections::HashMap;

use num_bigint::BigInt;

mod key;
pub(crate) mod memo;
mod reduce;
mod text;

use key::key_budget;
use memo::Memo;
pub use text::is_surrogatepass;
pub(crate) use text::{escape_decode, lossy, raw_unicode_escape, PyText};
/// `surrogatepass` UTF-8 as text, each lone surrogate U+FFFD.
pub fn lossy_text(b: &[u8]) -> String {
    lossy(b)
}
pub use text::surrogate_runs;
use text::{from_utf8, latin1};

use super::ops::{Arg, Instr, Op, Reader};
use super::{Allowlist, Graph, Node, NodeId, Pending, PickleError, PyInt, Sym};
use crate::numpy::Flavour;

/// Bounds on work that the input size alone does not bound.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of tuples/frozensets hashed as dict keys or set items.
    pub max_depth: usize,
    /// Longest decimal text accepted by INT/LONG (CPython's `int` limit is 4300 digits).
    pub max_int_digits: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 1000,
            max_int_digits: 4300,
        }
    }
}

/// Decodes a pickle with the default [`Limits`]. Nothing is executed: a global outside the
/// allowlist is an error naming it and its offset.
///
/// ```
/// use pdsave::pickle::{decode, Node, PickleError};
/// // pickle.dumps({'a': 1}, protocol=2)
/// let g = decode(b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.").unwrap();
/// assert!(matches!(g.node(g.root), Node::Dict(items) if items.len() == 1));
/// // The classic exploit is refused, with the global and where it is.
/// let e = decode(b"cos\nsystem\n(S'echo pwned'\ntR.").unwrap_err();
/// assert!(matches!(e, PickleError::ForbiddenGlobal { offset: 0, .. }));
/// ```
pub fn decode(data: &[u8]) -> Result<Graph<'_>, PickleError> {
    decode_with(data, &Limits::default())
}

/// Decodes a pickle.
pub fn decode_with<'a>(data: &'a [u8], limits: &Limits) -> Result<Graph<'a>, PickleError> {
    decode_in(data, limits, Allowlist::Paddle)
}

/// Decodes a distributed checkpoint's `.metadata` pickle: the one place where Paddle's
/// metadata dataclasses ([`super::CHECKPOINT_GLOBALS`]) are accepted, each in the exact
/// form `paddle.save` writes (NEWOBJ with no arguments, BUILD with a dict of its fields).
pub fn decode_checkpoint_metadata(data: &[u8]) -> Result<Graph<'_>, PickleError> {
    decode_in(data, &Limits::default(), Allowlist::CheckpointMetadata)
}

/// Decodes a pickle with an allowlist.
pub fn decode_in<'a>(
    data: &'a [u8],
    limits: &Limits,
    allow: Allowlist,
) -> Result<Graph<'a>, PickleError> {
    let mut vm = Vm {
        allow,
        g: Graph::new(0),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        index: HashMap::new(),
        hasher: Default::default(),
        limits,
        seen_proto: false,
        moved: Vec::new(),
        singletons: [None; 3],
        key_left: std::cell::Cell::new(key_budget(data.len())),
        key_limit: key_budget(data.len()),
    };
    vm.g.nodes.clear();
    let mut reader = Reader::new(data);
    let mut frame_end = 0usize;
    while let Some(instr) = reader.next_instr() {
        let instr = instr?;
        if instr.op == Op::FRAME {
            let n = match instr.arg {
                Arg::Int(n) => n as u64,
                _ => 0,
            };
            let left = (data.len() - reader.pos()) as u64;
            if n > left {
                return Err(PickleError::Truncated {
                    offset: instr.offset,
                    opcode: "FRAME",
                    needed: n,
                    available: left,
                });
            }
            vm.g.framed = true;
            frame_end = reader.pos() + n as usize;
            continue;
        }
        if instr.offset < frame_end && large_payload(&instr) {
            vm.g.dialect.large_in_frames = true;
        }
        if instr.op == Op::STOP {
            let root = vm.pop(&instr)?;
            vm.g.root = root;
            vm.g.consumed = reader.pos();
            vm.check_built()?;
            vm.check_no_global_values(instr.offset)?;
            vm.restore_moved();
            vm.g.short_strings_distinct = short_strings_distinct(&vm.g);
            return Ok(vm.g);
        }
        vm.step(&instr)?;
    }
    Err(PickleError::NoStop { offset: data.len() })
}

/// A str or bytes payload CPython 3.7+ writes outside frames (64 KiB or more).
fn large_payload(i: &Instr) -> bool {
    use Op::*;
    matches!(
        i.op,
        BINUNICODE | BINUNICODE8 | BINBYTES | BINBYTES8 | BYTEARRAY8
    ) && arg_bytes(i).len() >= 64 * 1024
}

/// Whether two distinct nodes hold the same str (or bytes) of at most one character.
fn short_strings_distinct(g: &Graph) -> bool {
    let mut seen = std::collections::HashSet::new();
    for n in &g.nodes {
        let key = match n {
            Node::Str(s) if s.chars().count() <= 1 => (true, s.as_bytes().to_vec()),
            Node::Bytes(b) if b.len() <= 1 => (false, b.to_vec()),
            _ => continue,
        };
        if !seen.insert(key) {
            return true;
        }
    }
    false
}

struct Vm<'a, 'l> {
    g: Graph<'a>,
    /// The globals this decode accepts.
    allow: Allowlist,
    /// (bytes node, array node): bytes the decoder made (protocol 2's `_codecs.encode`)
    /// whose buffer moved into the array their BUILD made, instead of being copied.
    moved: Vec<(NodeId, NodeId)>,
    stack: Vec<NodeId>,
    marks: Vec<usize>,
    memo: Memo,
    /// For dicts and sets: (hash of the normalised key, position), to give Python's
    /// replace-on-equal-key; keys are compared by recomputing them (no key is stored, so a
    /// dict costs 16 bytes an entry here, P-LIMIT).
    index: HashMap<NodeId, hashbrown::HashTable<(u64, u32)>>,
    /// Per decode (random keys: colliding keys cannot be precomputed).
    hasher: std::collections::hash_map::RandomState,
    limits: &'l Limits,
    seen_proto: bool,
    /// The one node of None, False and True (Python's singletons): a pickle of a million
    /// Nones is a million stack slots, not a million nodes (P-LIMIT).
    singletons: [Option<NodeId>; 3],
    /// What hashing keys may still cost ([`key_budget`]): a key is built by following
    /// every path of a tuple, as Python hashes it, and shared tuples (DUP, the memo) make
    /// that exponential in the input.
    key_left: std::cell::Cell<u64>,
    key_limit: u64,
}

fn arg_int(i: &Instr) -> i64 {
    match i.arg {
        Arg::Int(v) => v,
        _ => 0,
    }
}

fn arg_bytes<'a>(i: &Instr<'a>) -> &'a [u8] {
    match i.arg {
        Arg::Bytes(b) => b,
        _ => &[],
    }
}

impl<'a> Vm<'a, '_> {
    fn add(&mut self, n: Node<'a>) -> NodeId {
        self.g.nodes.push(n);
        (self.g.nodes.len() - 1) as NodeId
    }

    fn push_new(&mut self, n: Node<'a>) {
        let id = self.add(n);
        self.stack.push(id);
    }

    /// The node just pushed is a Python 2 `str` (only Python 2 writes the STRING opcodes).
    fn byte_str(&mut self) {
        let id = (self.g.nodes.len() - 1) as NodeId;
        self.g.dialect.python2 = true;
        self.g.dialect.byte_strs.insert(id);
    }

    /// The node just pushed was written as a `long`. One that fits 32 bits is Python 2's
    /// (its `long` type; CPython 3 writes BININT for every int that fits).
    fn long(&mut self) {
        let id = (self.g.nodes.len() - 1) as NodeId;
        self.g.dialect.longs.insert(id);
        if let Some(Node::Int(PyInt::Small(v))) = self.g.nodes.last() {
            if i32::try_from(*v).is_ok() {
                self.g.dialect.python2 = true;
            }
        }
    }

    /// Pushes None (0), False (1) or True (2), one node each.
    fn push_singleton(&mut self, which: usize) {
        let id = match self.singletons[which] {
            Some(id) => id,
            None => {
                let id = self.add([Node::None, Node::Bool(false), Node::Bool(true)][which].clone());
                self.singletons[which] = Some(id);
                id
            }
        };
        self.stack.push(id);
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, i: &Instr) -> Result<NodeId, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(PickleError::StackUnderflow {
                offset: i.offset,
                opcode: i.op.name(),
            });
        }
        Ok(self.stack.pop().unwrap_or(0))
    }

    fn top(&self, i: &Instr) -> Result<NodeId, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(PickleError::StackUnderflow {
                offset: i.offset,
                opcode: i.op.name(),
            });
        }
        Ok(*self.stack.last().unwrap_or(&0))
    }

    fn pop_mark(&mut self, i: &Instr) -> Result<Vec<NodeId>, PickleError> {
        let m = self.marks.pop().ok_or(PickleError::NoMark {
            offset: i.offset,
            opcode: i.op.name(),
        })?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn node(&self, id: NodeId) -> &Node<'a> {
        self.g.node(id)
    }

    fn utf8(&self, i: &Instr<'a>, b: &'a [u8]) -> Result<&'a str, PickleError> {
        from_utf8(b).ok_or(PickleError::InvalidUtf8 {
            offset: i.offset,
            opcode: i.op.name(),
        })
    }

    fn memo_put(&mut self, idx: u64, i: &Instr) -> Result<(), PickleError> {
        if idx > u32::MAX as u64 && i.op != Op::PUT {
            return Err(PickleError::BadArgument {
                offset: i.offset,
                opcode: i.op.name(),
                reason: "memo index out of range",
            });
        }
        let top = self.top(i)?;
        self.memo.put(idx, top);
        Ok(())
    }

    fn memo_get(&mut self, idx: i64, i: &Instr) -> Result<(), PickleError> {
        let id = self.memo.get(idx as u64).filter(|_| idx >= 0);
        match id {
            Some(id) => {
                self.stack.push(id);
                Ok(())
            }
            None => Err(PickleError::MemoMissing {
                offset: i.offset,
                index: idx,
            }),
        }
    }

    /// A bytes node whose buffer moved into an array is empty; if the finished graph can
    /// still reach it (the same bytes object used again), it gets a copy back.
    fn restore_moved(&mut self) {
        if self.moved.is_empty() {
            return;
        }
        let reach = self.g.reachable();
        for &(b, a) in &self.moved {
            let restored = match self.g.node(a) {
                Node::NdArray(arr) if reach.get(b as usize).copied().unwrap_or(false) => {
                    Node::Bytes(Cow::Owned(arr.data.to_vec()))
                }
                // Unreachable: not an empty bytes object either (that would count as a
                // second b'' in `short_strings_distinct`).
                _ => Node::None,
            };
            self.g.nodes[b as usize] = restored;
        }
    }

    /// An allowlisted global is only ever called (or, `numpy.ndarray`, an argument of the
    /// call that consumes it): one the result still holds was pushed as a value, which is
    /// not a shape Paddle or numpy writes (P-SHAPE).
    fn check_no_global_values(&self, stop: usize) -> Result<(), PickleError> {
        if !self.g.nodes.iter().any(|n| matches!(n, Node::Global(_))) {
            return Ok(());
        }
        let reach = self.g.reachable();
        for (n, r) in self.g.nodes.iter().zip(reach) {
            if let (Node::Global(g), true) = (n, r) {
                return Err(PickleError::BadCall {
                    offset: stop,
                    module: g.module,
                    name: g.name,
                    reason: "the result holds the global itself as a value: only its call in the shape Paddle and numpy write is allowed".into(),
                });
            }
        }
        Ok(())
    }

    fn check_built(&self) -> Result<(), PickleError> {
        for n in &self.g.nodes {
            if let Node::Pending(p) = n {
                let what = match p {
                    Pending::Array(_) => "ndarray",
                    Pending::Dtype(_) => "dtype",
                    Pending::Object(g) => g.name,
                };
                return Err(PickleError::BadBuild {
                    offset: self.g.consumed,
                    target: what,
                    reason: format!("{what} created by REDUCE was never given its state"),
                });
            }
        }
        Ok(())
    }

    fn int_text(&self, i: &Instr, text: &[u8]) -> Result<PyInt, PickleError> {
        let s = std::str::from_utf8(text).map_err(|_| PickleError::InvalidUtf8 {
            offset: i.offset,
            opcode: i.op.name(),
        })?;
        let s = s.trim();
        let s = s.strip_suffix('L').unwrap_or(s);
        let digits = s.trim_start_matches(['-', '+']).len();
        if digits > self.limits.max_int_digits {
            return Err(PickleError::Limit {
                offset: i.offset,
                what: "decimal digits of an integer",
                limit: self.limits.max_int_digits as u64,
            });
        }
        s.parse::<BigInt>()
            .map(PyInt::from_big)
            .map_err(|_| PickleError::BadArgument {
                offset: i.offset,
                opcode: i.op.name(),
                reason: "not a decimal integer",
            })
    }

    fn step(&mut self, i: &Instr<'a>) -> Result<(), PickleError> {
        use Op::*;
        match i.op {
            PROTO => {
                let p = arg_int(i);
                if !(0..=5).contains(&p) {
                    return Err(PickleError::BadProtocol {
                        offset: i.offset,
                        protocol: p,
                    });
                }
                if !self.seen_proto {
                    self.g.protocol = p as u8;
                    self.seen_proto = true;
                }
            }
            MARK => self.marks.push(self.stack.len()),
            POP => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop(i)?;
                }
            }
            POP_MARK => {
                self.pop_mark(i)?;
            }
            DUP => {
                let t = self.top(i)?;
                self.stack.push(t);
            }
            NONE => self.push_singleton(0),
            NEWTRUE => self.push_singleton(2),
            NEWFALSE => self.push_singleton(1),
            BININT | BININT1 | BININT2 => self.push_new(Node::Int(PyInt::Small(arg_int(i)))),
            INT => {
                let t = arg_bytes(i);
                let n = match t {
                    b"00" => Node::Bool(false),
                    b"01" => Node::Bool(true),
                    _ => Node::Int(self.int_text(i, t)?),
                };
                // At protocol 2 only Python 2 writes INT (an `int` past 32 bits).
                if self.g.protocol >= 2 && matches!(n, Node::Int(_)) {
                    self.g.dialect.python2 = true;
                }
                self.push_new(n)
            }
            LONG => {
                let v = self.int_text(i, arg_bytes(i))?;
                self.push_new(Node::Int(v));
                self.long();
            }
            LONG1 | LONG4 => {
                let b = arg_bytes(i);
                let v = if b.is_empty() {
                    PyInt::Small(0)
                } else {
                    PyInt::from_big(BigInt::from_signed_bytes_le(b))
                };
                self.push_new(Node::Int(v));
                self.long();
            }
            FLOAT => {
                let s =
                    std::str::from_utf8(arg_bytes(i)).map_err(|_| PickleError::InvalidUtf8 {
                        offset: i.offset,
                        opcode: "FLOAT",
                    })?;
                let v = s
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| PickleError::BadArgument {
                        offset: i.offset,
                        opcode: "FLOAT",
                        reason: "not a float",
                    })?;
                self.push_new(Node::Float(v))
            }
            BINFLOAT => {
                let v = match i.arg {
                    Arg::Float(v) => v,
                    _ => 0.0,
                };
                self.push_new(Node::Float(v))
            }
            STRING => {
                let raw = arg_bytes(i);
                let inner = match raw {
                    [q, mid @ .., q2] if q == q2 && (*q == b'\'' || *q == b'"') => mid,
                    _ => {
                        return Err(PickleError::BadArgument {
                            offset: i.offset,
                            opcode: "STRING",
                            reason: "argument must be quoted",
                        })
                    }
                };
                let bytes = escape_decode(inner).ok_or(PickleError::BadArgument {
                    offset: i.offset,
                    opcode: "STRING",
                    reason: "invalid escape",
                })?;
                self.push_new(Node::Str(Cow::Owned(latin1(&bytes))));
                self.byte_str();
            }
            BINSTRING | SHORT_BINSTRING => {
                self.push_new(Node::Str(Cow::Owned(latin1(arg_bytes(i)))));
                self.byte_str();
            }
            UNICODE => {
                let s = raw_unicode_escape(arg_bytes(i)).ok_or(PickleError::InvalidUtf8 {
                    offset: i.offset,
                    opcode: "UNICODE",
                })?;
                self.push_new(match s {
                    PyText::Str(s) => Node::Str(Cow::Owned(s)),
                    PyText::Surrogates(b) => Node::WStr(Cow::Owned(b)),
                })
            }
            BINUNICODE | SHORT_BINUNICODE | BINUNICODE8 => {
                // CPython decodes with 'surrogatepass': a lone surrogate is a str too.
                let b = arg_bytes(i);
                let n = match self.utf8(i, b) {
                    Ok(s) => Node::Str(Cow::Borrowed(s)),
                    Err(_) if is_surrogatepass(b) => Node::WStr(Cow::Borrowed(b)),
                    Err(e) => return Err(e),
                };
                self.push_new(n)
            }
            BINBYTES | SHORT_BINBYTES | BINBYTES8 => {
                self.push_new(Node::Bytes(Cow::Borrowed(arg_bytes(i))))
            }
            BYTEARRAY8 => self.push_new(Node::ByteArray(Cow::Borrowed(arg_bytes(i)))),
            EMPTY_TUPLE => self.push_new(Node::Tuple(Vec::new())),
            TUPLE => {
                let items = self.pop_mark(i)?;
                self.push_new(Node::Tuple(items))
            }
            TUPLE1 | TUPLE2 | TUPLE3 => {
                let n = match i.op {
                    TUPLE1 => 1,
                    TUPLE2 => 2,
                    _ => 3,
                };
                if self.stack.len() < self.fence() + n {
                    return Err(PickleError::StackUnderflow {
                        offset: i.offset,
                        opcode: i.op.name(),
                    });
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push_new(Node::Tuple(items))
            }
            EMPTY_LIST => self.push_new(Node::List(Vec::new())),
            LIST => {
                let items = self.pop_mark(i)?;
                self.push_new(Node::List(items))
            }
            APPEND | APPENDS => {
                let items = if i.op == APPEND {
                    vec![self.pop(i)?]
                } else {
                    self.pop_mark(i)?
                };
                let l = self.top(i)?;
                match self.g.nodes.get_mut(l as usize) {
                    Some(Node::List(v)) => v.extend(items),
                    Some(other) => {
                        return Err(PickleError::BadType {
                            offset: i.offset,
                            opcode: i.op.name(),
                            expected: "list",
                            found: other.type_name(),
                        })
                    }
                    None => {
                        return Err(PickleError::StackUnderflow {
                            offset: i.offset,
                            opcode: i.op.name(),
                        })
                    }
                }
            }
            EMPTY_DICT => self.push_new(Node::Dict(Vec::new())),
            DICT => {
                let items = self.pop_mark(i)?;
                let d = self.new_dict(&items, i)?;
                self.stack.push(d);
            }
            SETITEM => {
                let v = self.pop(i)?;
                let k = self.pop(i)?;
                let d = self.top(i)?;
                self.dict_set(d, k, v, i)?;
            }
            SETITEMS => {
                let items = self.pop_mark(i)?;
                if items.len() % 2 != 0 {
                    return Err(PickleError::BadArgument {
                        offset: i.offset,
                        opcode: "SETITEMS",
                        reason: "odd number of items",
                    });
                }
                let d = self.top(i)?;
                for kv in items.chunks_exact(2) {
                    self.dict_set(d, kv[0], kv[1], i)?;
                }
            }
            EMPTY_SET => self.push_new(Node::Set(Vec::new())),
            ADDITEMS => {
                let items = self.pop_mark(i)?;
                let s = self.top(i)?;
                if !matches!(self.node(s), Node::Set(_)) {
                    return Err(PickleError::BadType {
                        offset: i.offset,
                        opcode: "ADDITEMS",
                        expected: "set",
                        found: self.node(s).type_name(),
                    });
                }
                for it in items {
                    self.set_add(s, it, i)?;
                }
            }
            FROZENSET => {
                let items = self.pop_mark(i)?;
                let s = self.new_set(true, &items, i)?;
                self.stack.push(s);
            }
            GLOBAL => {
                let (m, n) = match i.arg {
                    Arg::Global(m, n) => (m, n),
                    _ => (&[][..], &[][..]),
                };
                self.push_global(i, m, n)?;
            }
            STACK_GLOBAL => {
                let name = self.pop(i)?;
                let module = self.pop(i)?;
                let (m, n) = match (self.node(module), self.node(name)) {
                    (Node::Str(m), Node::Str(n)) => (m.as_bytes().to_vec(), n.as_bytes().to_vec()),
                    _ => {
                        return Err(PickleError::BadType {
                            offset: i.offset,
                            opcode: "STACK_GLOBAL",
                            expected: "str module and name",
                            found: "other",
                        })
                    }
                };
                self.push_global(i, &m, &n)?;
            }
            REDUCE => {
                let args = self.pop(i)?;
                let func = self.pop(i)?;
                let r = self.reduce(i, func, args)?;
                self.stack.push(r);
            }
            BUILD => {
                let state = self.pop(i)?;
                let target = self.top(i)?;
                self.build(i, target, state)?;
            }
            PUT | BINPUT | LONG_BINPUT => {
                let idx = arg_int(i);
                if idx < 0 {
                    return Err(PickleError::BadArgument {
                        offset: i.offset,
                        opcode: i.op.name(),
                        reason: "negative memo index",
                    });
                }
                self.memo_put(idx as u64, i)?;
            }
            MEMOIZE => {
                let idx = self.memo.len();
                self.memo_put(idx, i)?;
            }
            GET | BINGET | LONG_BINGET => self.memo_get(arg_int(i), i)?,
            PERSID | BINPERSID => {
                return Err(PickleError::ForbiddenOpcode {
                    offset: i.offset,
                    opcode: i.op.name(),
                    reason: "persistent ids load external objects",
                })
            }
            NEWOBJ => {
                let args = self.pop(i)?;
                let cls = self.pop(i)?;
                let r = self.newobj(i, cls, args)?;
                self.stack.push(r);
            }
            INST | OBJ | NEWOBJ_EX => {
                return Err(PickleError::ForbiddenOpcode {
                    offset: i.offset,
                    opcode: i.op.name(),
                    reason: "instantiates a class",
                })
            }
            EXT1 | EXT2 | EXT4 => {
                return Err(PickleError::ForbiddenOpcode {
                    offset: i.offset,
                    opcode: i.op.name(),
                    reason: "extension registry globals",
                })
            }
            NEXT_BUFFER | READONLY_BUFFER => {
                return Err(PickleError::ForbiddenOpcode {
                    offset: i.offset,
                    opcode: i.op.name(),
                    reason: "out-of-band buffers are not supported",
                })
            }
            STOP | FRAME => {}
        }
        Ok(())
    }

    fn push_global(&mut self, i: &Instr, m: &[u8], n: &[u8]) -> Result<(), PickleError> {
        match self.allow.lookup(m, n) {
            Some(g) => {
                if g.sym == Sym::Reconstruct || g.sym == Sym::Scalar {
                    let fl = Flavour::from_module(g.module).unwrap_or(Flavour::Numpy1);
                    self.g.flavour.get_or_insert(fl);
                }
                self.push_new(Node::Global(g));
                Ok(())
            }
            None => Err(PickleError::ForbiddenGlobal {
                offset: i.offset,
                module: String::from_utf8_lossy(m).into_owned(),
                name: String::from_utf8_lossy(n).into_owned(),
            }),
        }
    }
}
