//! The safe pickle VM: runs the opcodes of protocols 0-5 over typed nodes, never code.
//!
//! Memo semantics follow CPython's unpickler (PUT family and MEMOIZE share one memo,
//! MEMOIZE uses the count of filled slots), so a shared value stays one node. Globals
//! are looked up in [`super::ALLOWED_GLOBALS`]; REDUCE and BUILD on them are interpreted
//! symbolically in the exact shapes numpy, CPython and Paddle write, anything else is an
//! error naming module, name and offset. Every allocation is bounded by the input size.

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::HashMap;

use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;

use super::ops::{Arg, Instr, Op, Reader};
use super::{
    DtypeNode, Global, Graph, NdArray, Node, NodeId, NpScalar, Pending, PickleError, PyInt, Sym,
};
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
    let mut vm = Vm {
        g: Graph::new(0),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        index: HashMap::new(),
        limits,
        seen_proto: false,
        moved: Vec::new(),
    };
    vm.g.nodes.clear();
    let mut reader = Reader::new(data);
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
            continue;
        }
        if instr.op == Op::STOP {
            let root = vm.pop(&instr)?;
            vm.g.root = root;
            vm.g.consumed = reader.pos();
            vm.check_built()?;
            vm.restore_moved();
            vm.g.short_strings_distinct = short_strings_distinct(&vm.g);
            return Ok(vm.g);
        }
        vm.step(&instr)?;
    }
    Err(PickleError::NoStop { offset: data.len() })
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

/// A hashable Python value, normalised so that equal keys compare equal (1 == 1.0 == True).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    None,
    Int(BigInt),
    Float(u64),
    Complex(u64, u64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Key>),
    FrozenSet(Vec<Key>),
    /// An allowlisted global, by what it names: every GLOBAL of `builtins.eval` (or
    /// `__builtin__.eval`, which Python 3 maps to it) is the same object.
    Global(&'static str, &'static str),
    /// A numpy dtype: equal dtypes are equal keys (`np.dtype('<f4') == np.dtype('=f4')`).
    Dtype(DType, u8),
    /// Objects equal only to themselves (NaN).
    Identity(NodeId),
}

fn float_key(v: f64) -> Key {
    if v.is_nan() {
        // NaN is equal only to itself; the caller passes identity separately.
        return Key::Float(f64::NAN.to_bits());
    }
    if v.is_finite() && v == v.trunc() {
        if v.abs() < 9.0e15 {
            return Key::Int(BigInt::from(v as i64));
        }
        if let Some(b) = big_from_integral_f64(v) {
            return Key::Int(b);
        }
    }
    Key::Float(v.to_bits())
}

fn big_from_integral_f64(v: f64) -> Option<BigInt> {
    let bits = v.to_bits();
    let sign = if bits >> 63 == 1 {
        Sign::Minus
    } else {
        Sign::Plus
    };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    if exp == 0x7ff {
        return None;
    }
    let mant = (bits & ((1u64 << 52) - 1)) | if exp == 0 { 0 } else { 1u64 << 52 };
    let e = if exp == 0 { -1074 } else { exp - 1075 };
    let m = BigInt::from(mant);
    let mag = if e >= 0 {
        m << (e as usize)
    } else {
        m >> ((-e) as usize)
    };
    Some(if sign == Sign::Minus { -mag } else { mag })
}

struct Vm<'a, 'l> {
    g: Graph<'a>,
    /// (bytes node, array node): bytes the decoder made (protocol 2's `_codecs.encode`)
    /// whose buffer moved into the array their BUILD made, instead of being copied.
    moved: Vec<(NodeId, NodeId)>,
    stack: Vec<NodeId>,
    marks: Vec<usize>,
    memo: HashMap<u64, NodeId>,
    /// For dicts and sets: normalised key → position, to give Python's replace-on-equal-key.
    index: HashMap<NodeId, HashMap<Key, usize>>,
    limits: &'l Limits,
    seen_proto: bool,
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

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Bytes of a latin-1 str (each char < 256), as numpy and `_codecs.encode(s, 'latin1')` do.
/// Protocol 2 stores array payloads this way (gigabytes), so this is one branch-free pass
/// over the UTF-8: a char below 256 is one ASCII byte or a 0xC2/0xC3 lead byte followed
/// by a continuation byte; any byte from 0xC4 up starts a char outside latin-1.
fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.iter().fold(0u8, |acc, &c| acc | (c >= 0xC4) as u8) != 0 {
        return None;
    }
    let mut out = vec![0u8; b.len()];
    let mut j = 0;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied().unwrap_or(0);
        let two = ((c & 0x03) << 6) | (next & 0x3F);
        // A continuation byte writes a value that the next lead or ASCII byte overwrites
        // (j does not move past it); `out` has room since j <= i.
        out[j] = if c < 0x80 { c } else { two };
        j += ((c & 0xC0) != 0x80) as usize;
    }
    out.truncate(j);
    Some(out)
}

/// UTF-8 validation of str payloads: SIMD (simdutf8), since protocol 2 array payloads are
/// multi-gigabyte strs full of non-ASCII characters, where the scalar check crawls.
fn from_utf8(b: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(b).ok()
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

    fn key(&self, id: NodeId, depth: usize, i: &Instr) -> Result<Key, PickleError> {
        crate::deep(|| self.key_inner(id, depth, i))
    }

    fn key_inner(&self, id: NodeId, depth: usize, i: &Instr) -> Result<Key, PickleError> {
        if depth > self.limits.max_depth {
            return Err(PickleError::Limit {
                offset: i.offset,
                what: "nesting depth of a hashed key",
                limit: self.limits.max_depth as u64,
            });
        }
        let unhashable = |n: &Node| PickleError::Unhashable {
            offset: i.offset,
            opcode: i.op.name(),
            found: n.type_name(),
        };
        let n = self.node(id);
        Ok(match n {
            Node::None => Key::None,
            Node::Bool(b) => Key::Int(BigInt::from(*b as u8)),
            Node::Int(v) => Key::Int(v.to_big()),
            Node::Float(v) if v.is_nan() => Key::Identity(id),
            Node::Float(v) => float_key(*v),
            Node::Complex(re, im) => {
                if *im == 0.0 && !re.is_nan() {
                    float_key(*re)
                } else if re.is_nan() || im.is_nan() {
                    Key::Identity(id)
                } else {
                    Key::Complex((re + 0.0).to_bits(), (im + 0.0).to_bits())
                }
            }
            Node::Str(s) => Key::Str(s.to_string()),
            Node::Bytes(b) => Key::Bytes(b.to_vec()),
            Node::Tuple(items) => {
                let mut v = Vec::with_capacity(items.len());
                for &it in items {
                    v.push(self.key(it, depth + 1, i)?);
                }
                Key::Tuple(v)
            }
            Node::FrozenSet(items) => {
                let mut v = Vec::with_capacity(items.len());
                for &it in items {
                    v.push(self.key(it, depth + 1, i)?);
                }
                v.sort();
                Key::FrozenSet(v)
            }
            Node::NpScalar(s) => match self.g.dtype_of(s.dtype) {
                Some(d) => scalar_key(d, &s.data).unwrap_or(Key::Identity(id)),
                None => Key::Identity(id),
            },
            Node::Global(g) => {
                let c = super::global_for(g.sym, 3, Flavour::Numpy2);
                Key::Global(c.module, c.name)
            }
            Node::Dtype(d) => Key::Dtype(
                d.dtype,
                match d.order {
                    _ if d.dtype.itemsize() == 1 => b'|',
                    b'=' => b'<',
                    o => o,
                },
            ),
            other => return Err(unhashable(other)),
        })
    }

    /// Inserts into a dict node with Python's semantics: an equal key keeps its place and
    /// its first key object, the value is replaced.
    fn dict_set(&mut self, d: NodeId, k: NodeId, v: NodeId, i: &Instr) -> Result<(), PickleError> {
        let key = self.key(k, 0, i)?;
        let idx = self.index.entry(d).or_default();
        let pos = idx.get(&key).copied();
        let items = match self.g.nodes.get_mut(d as usize) {
            Some(Node::Dict(items)) | Some(Node::OrderedDict(items)) => items,
            Some(other) => {
                return Err(PickleError::BadType {
                    offset: i.offset,
                    opcode: i.op.name(),
                    expected: "dict",
                    found: other.type_name(),
                })
            }
            None => {
                return Err(PickleError::StackUnderflow {
                    offset: i.offset,
                    opcode: i.op.name(),
                })
            }
        };
        match pos {
            Some(p) => {
                if let Some(slot) = items.get_mut(p) {
                    slot.1 = v;
                }
            }
            None => {
                idx.insert(key, items.len());
                items.push((k, v));
            }
        }
        Ok(())
    }

    fn set_add(&mut self, s: NodeId, item: NodeId, i: &Instr) -> Result<(), PickleError> {
        let key = self.key(item, 0, i)?;
        let idx = self.index.entry(s).or_default();
        if idx.contains_key(&key) {
            return Ok(());
        }
        match self.g.nodes.get_mut(s as usize) {
            Some(Node::Set(items)) | Some(Node::FrozenSet(items)) => {
                idx.insert(key, items.len());
                items.push(item);
                Ok(())
            }
            Some(other) => Err(PickleError::BadType {
                offset: i.offset,
                opcode: i.op.name(),
                expected: "set",
                found: other.type_name(),
            }),
            None => Err(PickleError::StackUnderflow {
                offset: i.offset,
                opcode: i.op.name(),
            }),
        }
    }

    fn new_set(
        &mut self,
        frozen: bool,
        items: &[NodeId],
        i: &Instr,
    ) -> Result<NodeId, PickleError> {
        let id = self.add(if frozen {
            Node::FrozenSet(Vec::new())
        } else {
            Node::Set(Vec::new())
        });
        for &it in items {
            self.set_add(id, it, i)?;
        }
        Ok(id)
    }

    fn new_dict(&mut self, items: &[NodeId], i: &Instr) -> Result<NodeId, PickleError> {
        if items.len() % 2 != 0 {
            return Err(PickleError::BadArgument {
                offset: i.offset,
                opcode: i.op.name(),
                reason: "odd number of items",
            });
        }
        let id = self.add(Node::Dict(Vec::new()));
        for kv in items.chunks_exact(2) {
            self.dict_set(id, kv[0], kv[1], i)?;
        }
        Ok(id)
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
        self.memo.insert(idx, top);
        Ok(())
    }

    fn memo_get(&mut self, idx: i64, i: &Instr) -> Result<(), PickleError> {
        let id = self.memo.get(&(idx as u64)).copied().filter(|_| idx >= 0);
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

    fn check_built(&self) -> Result<(), PickleError> {
        for n in &self.g.nodes {
            if let Node::Pending(p) = n {
                let what = match p {
                    Pending::Array(_) => "ndarray",
                    Pending::Dtype(_) => "dtype",
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
            NONE => self.push_new(Node::None),
            NEWTRUE => self.push_new(Node::Bool(true)),
            NEWFALSE => self.push_new(Node::Bool(false)),
            BININT | BININT1 | BININT2 => self.push_new(Node::Int(PyInt::Small(arg_int(i)))),
            INT => {
                let t = arg_bytes(i);
                let n = match t {
                    b"00" => Node::Bool(false),
                    b"01" => Node::Bool(true),
                    _ => Node::Int(self.int_text(i, t)?),
                };
                self.push_new(n)
            }
            LONG => {
                let v = self.int_text(i, arg_bytes(i))?;
                self.push_new(Node::Int(v))
            }
            LONG1 | LONG4 => {
                let b = arg_bytes(i);
                let v = if b.is_empty() {
                    PyInt::Small(0)
                } else {
                    PyInt::from_big(BigInt::from_signed_bytes_le(b))
                };
                self.push_new(Node::Int(v))
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
                self.push_new(Node::Str(Cow::Owned(latin1(&bytes))))
            }
            BINSTRING | SHORT_BINSTRING => {
                self.push_new(Node::Str(Cow::Owned(latin1(arg_bytes(i)))))
            }
            UNICODE => {
                let s = raw_unicode_escape(arg_bytes(i)).ok_or(PickleError::InvalidUtf8 {
                    offset: i.offset,
                    opcode: "UNICODE",
                })?;
                self.push_new(Node::Str(Cow::Owned(s)))
            }
            BINUNICODE | SHORT_BINUNICODE | BINUNICODE8 => {
                let s = self.utf8(i, arg_bytes(i))?;
                self.push_new(Node::Str(Cow::Borrowed(s)))
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
                let idx = self.memo.len() as u64;
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
            INST | OBJ | NEWOBJ | NEWOBJ_EX => {
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
        match super::lookup_global(m, n) {
            Some(g) => {
                if g.sym == Sym::Reconstruct || g.sym == Sym::Scalar {
                    let fl = if g.module.contains("._core") {
                        Flavour::Numpy2
                    } else {
                        Flavour::Numpy1
                    };
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

    fn bytes_like(&self, id: NodeId) -> Option<Cow<'a, [u8]>> {
        match self.node(id) {
            Node::Bytes(b) => Some(b.clone()),
            // Python 2 str payloads, decoded as latin-1 under encoding='latin1'.
            Node::Str(s) => latin1_bytes(s).map(Cow::Owned),
            _ => None,
        }
    }

    fn reduce(&mut self, i: &Instr, func: NodeId, args: NodeId) -> Result<NodeId, PickleError> {
        let g: Global = match self.node(func) {
            Node::Global(g) => *g,
            other => {
                return Err(PickleError::BadType {
                    offset: i.offset,
                    opcode: "REDUCE",
                    expected: "an allowlisted global",
                    found: other.type_name(),
                })
            }
        };
        let bad = |reason: &str| PickleError::BadCall {
            offset: i.offset,
            module: g.module,
            name: g.name,
            reason: reason.to_string(),
        };
        let a: Vec<NodeId> = match self.node(args) {
            Node::Tuple(v) => v.clone(),
            _ => return Err(bad("arguments are not a tuple")),
        };
        let nodes: Vec<&Node<'a>> = a.iter().map(|&x| self.node(x)).collect();
        let new = match (g.sym, nodes.as_slice()) {
            (Sym::Reconstruct, [Node::Global(cls), Node::Tuple(zero), b]) => {
                if cls.sym != Sym::NdArrayType {
                    return Err(bad("first argument must be numpy.ndarray"));
                }
                let zero_ok = matches!(zero.as_slice(), [z] if matches!(self.node(*z), Node::Int(PyInt::Small(0))));
                let b_ok = matches!(self.bytes_like(a[2]).as_deref(), Some(b"b"));
                let _ = b;
                if !zero_ok || !b_ok {
                    return Err(bad("expected (numpy.ndarray, (0,), b'b')"));
                }
                let fl = if g.module.contains("._core") {
                    Flavour::Numpy2
                } else {
                    Flavour::Numpy1
                };
                Node::Pending(Pending::Array(fl))
            }
            (Sym::DtypeType, [Node::Str(descr), Node::Bool(false), Node::Bool(true)]) => {
                let dt = DType::from_numpy_descr(descr)
                    .ok_or_else(|| bad(&format!("unsupported dtype {descr:?}")))?;
                Node::Pending(Pending::Dtype(dt))
            }
            (Sym::Scalar, [Node::Dtype(d), _]) => {
                let data = self
                    .bytes_like(a[1])
                    .ok_or_else(|| bad("scalar data must be bytes"))?;
                if data.len() != d.dtype.itemsize() {
                    return Err(bad(&format!(
                        "scalar of {} needs {} bytes, got {}",
                        d.dtype.name(),
                        d.dtype.itemsize(),
                        data.len()
                    )));
                }
                let fl = if g.module.contains("._core") {
                    Flavour::Numpy2
                } else {
                    Flavour::Numpy1
                };
                Node::NpScalar(NpScalar {
                    flavour: fl,
                    dtype: a[0],
                    data,
                })
            }
            (Sym::Tuple, [Node::Tuple(inner)]) => match inner.as_slice() {
                [name, arr]
                    if matches!(self.node(*name), Node::Str(_))
                        && matches!(self.node(*arr), Node::NdArray(_)) =>
                {
                    Node::DynTensor {
                        name: *name,
                        array: *arr,
                    }
                }
                _ => {
                    return Err(bad(
                        "only Paddle's tensor form tuple(((name, ndarray),)) is allowed",
                    ))
                }
            },
            (Sym::Set, [Node::List(items)]) | (Sym::FrozenSet, [Node::List(items)]) => {
                let items = items.clone();
                let s = self.new_set(g.sym == Sym::FrozenSet, &items, i)?;
                return Ok(s);
            }
            (Sym::ByteArray, [Node::Bytes(b)]) => Node::ByteArray(b.clone()),
            (Sym::ByteArray, []) => Node::ByteArray(Cow::Borrowed(&[])),
            (Sym::Complex, [re, im]) => {
                let f = |n: &Node| match n {
                    Node::Float(v) => Some(*v),
                    Node::Int(v) => Some(match v {
                        PyInt::Small(x) => *x as f64,
                        PyInt::Big(b) => b.to_f64().unwrap_or(f64::INFINITY),
                    }),
                    Node::Bool(b) => Some(*b as u8 as f64),
                    _ => None,
                };
                match (f(re), f(im)) {
                    (Some(r), Some(m)) => Node::Complex(r, m),
                    _ => return Err(bad("complex parts must be numbers")),
                }
            }
            (Sym::Bytes, []) => Node::Bytes(Cow::Borrowed(&[])),
            (Sym::OrderedDict, []) => Node::OrderedDict(Vec::new()),
            (Sym::CodecsEncode, [Node::Str(text), Node::Str(enc)]) => {
                if enc != "latin1" && enc != "latin-1" {
                    return Err(bad("only the 'latin1' encoding is allowed"));
                }
                let b =
                    latin1_bytes(text).ok_or_else(|| bad("text has characters outside latin-1"))?;
                Node::Bytes(Cow::Owned(b))
            }
            (Sym::Eval, [Node::Str(src), Node::Dict(env)]) => {
                let ok = src == "data"
                    && matches!(env.as_slice(), [(k, v)]
                        if matches!(self.node(*k), Node::Str(s) if s == "data")
                        && matches!(self.node(*v), Node::NdArray(_)));
                if !ok {
                    return Err(bad("only Paddle's static-tensor form eval('data', {'data': ndarray}) is allowed"));
                }
                Node::StaticTensor { array: env[0].1 }
            }
            _ => return Err(bad("arguments do not match the allowed form")),
        };
        Ok(self.add(new))
    }

    fn build(&mut self, i: &Instr, target: NodeId, state: NodeId) -> Result<(), PickleError> {
        let tname = self.node(target).type_name();
        let bad = |reason: &str| PickleError::BadBuild {
            offset: i.offset,
            target: tname,
            reason: reason.to_string(),
        };
        let st: Vec<NodeId> = match self.node(state) {
            Node::Tuple(v) => v.clone(),
            _ => return Err(bad("state is not a tuple")),
        };
        let built = match *self.node(target) {
            Node::Pending(Pending::Array(fl)) => {
                let s: Vec<&Node> = st.iter().map(|&x| self.node(x)).collect();
                let (shape_id, dtype_id, fortran) = match s.as_slice() {
                    [Node::Int(PyInt::Small(1)), Node::Tuple(_), Node::Dtype(_), Node::Bool(f), _] => {
                        (st[1], st[2], *f)
                    }
                    _ => {
                        return Err(bad(
                            "ndarray state must be (1, shape, dtype, is_fortran, data)",
                        ))
                    }
                };
                let d = self.g.dtype_of(dtype_id).ok_or_else(|| bad("no dtype"))?;
                let mut shape = Vec::new();
                if let Node::Tuple(dims) = self.node(shape_id) {
                    for &x in dims {
                        match self.node(x) {
                            Node::Int(PyInt::Small(v)) if *v >= 0 => shape.push(*v as u64),
                            _ => return Err(bad("shape entries must be non-negative ints")),
                        }
                    }
                }
                // Bytes the decoder made itself move into the array (no second copy).
                let earlier = self.moved.iter().find(|(b, _)| *b == st[4]).map(|m| m.1);
                let data = match self.g.nodes.get_mut(st[4] as usize) {
                    // The same bytes object built an earlier array: copy from that array.
                    _ if earlier.is_some() => match earlier.map(|a| self.g.node(a)) {
                        Some(Node::NdArray(a)) => Cow::Owned(a.data.to_vec()),
                        _ => return Err(bad("array data must be bytes")),
                    },
                    Some(Node::Bytes(Cow::Owned(v))) if !v.is_empty() => {
                        self.moved.push((st[4], target));
                        Cow::Owned(std::mem::take(v))
                    }
                    _ => self
                        .bytes_like(st[4])
                        .ok_or_else(|| bad("array data must be bytes"))?,
                };
                let count = shape.iter().try_fold(1u64, |acc, &x| acc.checked_mul(x));
                let need = count.and_then(|c| c.checked_mul(d.dtype.itemsize() as u64));
                if need != Some(data.len() as u64) {
                    return Err(PickleError::BadBuild {
                        offset: i.offset,
                        target: "numpy.ndarray",
                        reason: format!(
                            "shape {:?} of {} needs {} bytes, data has {}",
                            shape,
                            d.dtype.name(),
                            need.map(|n| n.to_string())
                                .unwrap_or_else(|| "more than 2^64".into()),
                            data.len()
                        ),
                    });
                }
                Node::NdArray(NdArray {
                    flavour: fl,
                    dtype: dtype_id,
                    shape,
                    fortran,
                    data,
                })
            }
            Node::Pending(Pending::Dtype(dt)) => {
                let s: Vec<&Node> = st.iter().map(|&x| self.node(x)).collect();
                match s.as_slice() {
                    [Node::Int(PyInt::Small(3)), Node::Str(order), Node::None, Node::None, Node::None, Node::Int(PyInt::Small(-1)), Node::Int(PyInt::Small(-1)), Node::Int(PyInt::Small(0))] =>
                    {
                        let o = match order.as_bytes() {
                            [c @ (b'<' | b'>' | b'|' | b'=')] => *c,
                            _ => return Err(bad("byte order must be one of < > | =")),
                        };
                        Node::Dtype(DtypeNode {
                            dtype: dt,
                            order: o,
                        })
                    }
                    _ => {
                        return Err(bad(
                            "dtype state must be (3, order, None, None, None, -1, -1, 0)",
                        ))
                    }
                }
            }
            _ => return Err(bad("only numpy arrays and dtypes take a state")),
        };
        if let Some(slot) = self.g.nodes.get_mut(target as usize) {
            *slot = built;
        }
        Ok(())
    }
}

fn scalar_key(d: DtypeNode, data: &[u8]) -> Option<Key> {
    let le = crate::numpy::to_little_endian(d.dtype, d.order, data);
    let b = le.as_ref();
    let arr = |n: usize| -> Option<[u8; 8]> {
        let mut a = [0u8; 8];
        a.get_mut(..n)?.copy_from_slice(b.get(..n)?);
        Some(a)
    };
    Some(match d.dtype {
        DType::Bool => Key::Int(BigInt::from((*b.first()? != 0) as u8)),
        DType::Int8 => Key::Int(BigInt::from(*b.first()? as i8)),
        DType::UInt8 => Key::Int(BigInt::from(*b.first()?)),
        DType::Int16 => Key::Int(BigInt::from(i16::from_le_bytes(
            arr(2)?[..2].try_into().ok()?,
        ))),
        DType::UInt16 => Key::Int(BigInt::from(u16::from_le_bytes(
            arr(2)?[..2].try_into().ok()?,
        ))),
        DType::Int32 => Key::Int(BigInt::from(i32::from_le_bytes(
            arr(4)?[..4].try_into().ok()?,
        ))),
        DType::UInt32 => Key::Int(BigInt::from(u32::from_le_bytes(
            arr(4)?[..4].try_into().ok()?,
        ))),
        DType::Int64 => Key::Int(BigInt::from(i64::from_le_bytes(arr(8)?))),
        DType::UInt64 => Key::Int(BigInt::from(u64::from_le_bytes(arr(8)?))),
        DType::Float32 => float_key(f32::from_le_bytes(arr(4)?[..4].try_into().ok()?) as f64),
        DType::Float64 => float_key(f64::from_le_bytes(arr(8)?)),
        _ => return None,
    })
}

/// Python's `codecs.escape_decode` (the STRING opcode's quoting).
pub(crate) fn escape_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *s.get(i)?;
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let h = s.get(i..i + 2)?;
                let v = u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape` decoding (the UNICODE opcode).
pub(crate) fn raw_unicode_escape(s: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i] as char);
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] == b'\\' {
            out.push('\\');
            i += 1;
        }
        if (i - start) % 2 == 0 || i >= s.len() || (s[i] != b'u' && s[i] != b'U') {
            continue;
        }
        out.pop();
        let n = if s[i] == b'u' { 4 } else { 8 };
        i += 1;
        let h = s.get(i..i + n)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        out.push(char::from_u32(v)?);
        i += n;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_decode_matches_python() {
        assert_eq!(escape_decode(br"a\x41\101\n\\\q").unwrap(), b"aAA\n\\\\q");
        assert!(escape_decode(br"\x4").is_none());
    }

    #[test]
    fn raw_unicode_escape_matches_python() {
        assert_eq!(
            raw_unicode_escape(br"\u00fc\\u0041").unwrap(),
            "\u{fc}\\\\u0041"
        );
        assert_eq!(raw_unicode_escape(b"\xe9").unwrap(), "\u{e9}");
    }

    #[test]
    fn float_keys_equal_ints() {
        assert_eq!(float_key(1.0), Key::Int(BigInt::from(1)));
        assert_eq!(float_key(-0.0), Key::Int(BigInt::from(0)));
        assert_eq!(
            float_key(1e300),
            Key::Int(big_from_integral_f64(1e300).unwrap())
        );
        assert_ne!(float_key(1.5), Key::Int(BigInt::from(1)));
    }
}
