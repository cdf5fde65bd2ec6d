//! The pickle object graph: what a `paddle.save` pickle holds, as typed nodes with
//! object identity kept (a value shared in the file is one node here).
//!
//! [`decode`] builds a [`Graph`] from bytes without executing anything; [`encode`]
//! writes the bytes CPython's C pickler writes for the same objects; [`disasm`] lists
//! the opcodes. Globals are symbols from an exact allowlist ([`lookup_global`]).

pub mod decode;
pub mod disasm;
pub mod encode;
mod error;
pub mod gadgets;
pub mod globals;
pub mod ops;

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::HashSet;

use num_bigint::BigInt;

use crate::numpy::Flavour;

pub use decode::{
    decode, decode_checkpoint_metadata, decode_in, decode_with, surrogate_runs, Limits,
};
pub use encode::{encode, encode_to, EncodeOptions};
pub use error::{Category, PickleError};

/// Index of a node in [`Graph::nodes`].
pub type NodeId = u32;

/// A Python int: machine-sized when it fits, arbitrary otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PyInt {
    Small(i64),
    /// Boxed: a node stays 32 bytes (P-LIMIT: memory per opcode).
    Big(Box<BigInt>),
}

impl PyInt {
    pub fn from_big(b: BigInt) -> PyInt {
        match i64::try_from(&b) {
            Ok(v) => PyInt::Small(v),
            Err(_) => PyInt::Big(Box::new(b)),
        }
    }
    pub fn to_big(&self) -> BigInt {
        match self {
            PyInt::Small(v) => BigInt::from(*v),
            PyInt::Big(b) => (**b).clone(),
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PyInt::Small(v) => Some(*v),
            PyInt::Big(_) => None,
        }
    }
}

impl std::fmt::Display for PyInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PyInt::Small(v) => write!(f, "{v}"),
            PyInt::Big(b) => write!(f, "{b}"),
        }
    }
}

/// What an allowlisted global stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sym {
    /// numpy's `_reconstruct` (ndarray reduce).
    Reconstruct,
    /// numpy's `scalar` (numpy scalar reduce).
    Scalar,
    /// The `numpy.ndarray` class (argument of `_reconstruct`).
    NdArrayType,
    /// The `numpy.dtype` class.
    DtypeType,
    /// `builtins.tuple`: Paddle's dynamic-tensor reduce `tuple(((name, array),))`.
    Tuple,
    Set,
    FrozenSet,
    ByteArray,
    Complex,
    /// `builtins.bytes`: protocol 2's empty bytes `bytes()`.
    Bytes,
    OrderedDict,
    /// `_codecs.encode`: protocol 2's bytes `encode(latin1_text, 'latin1')`.
    CodecsEncode,
    /// `builtins.eval`: only Paddle's static-tensor form `eval('data', {'data': array})`.
    Eval,
    /// One of Paddle's distributed-checkpoint metadata dataclasses (`Metadata`,
    /// `LocalTensorMetadata`, `LocalTensorIndex`): allowlisted only where a `.metadata` file
    /// is decoded ([`Allowlist::CheckpointMetadata`]), instantiated by NEWOBJ with no
    /// arguments and given exactly its fields by BUILD.
    Checkpoint(CheckpointClass),
    /// `paddle.framework.io_utils._reconstruct_dense_tensor_data(array)`: the static-tensor
    /// form of Paddle's development branch (no release writes it yet, spec/versions.md V-NEXT).
    ReconstructDenseTensor,
}

/// Paddle's distributed-checkpoint metadata dataclasses, by the module that defines them:
/// Paddle 2.6's `paddle.distributed.checkpoint.metadata` and 3.x's
/// `paddle.distributed.flex_checkpoint.dcp.metadata` (spec/checkpoint.md, K-META).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckpointClass {
    Metadata,
    LocalTensorMetadata,
    LocalTensorIndex,
}

impl CheckpointClass {
    /// The class's fields in the order its newest release declares them
    /// (`crate::names`); a release writes a prefix of them (fields were only ever added at
    /// the end, each with a default).
    pub fn fields(self) -> &'static [&'static str] {
        use crate::names as n;
        match self {
            CheckpointClass::Metadata => n::DCP_METADATA_FIELDS,
            CheckpointClass::LocalTensorMetadata => n::DCP_TENSOR_METADATA_FIELDS,
            CheckpointClass::LocalTensorIndex => n::DCP_TENSOR_INDEX_FIELDS,
        }
    }
    /// How many leading fields every release writes.
    pub fn required(self) -> usize {
        2
    }
    /// Whether an instance with `fields` fields hashes (a frozen dataclass hashes by its
    /// fields; the others have `__hash__ = None`). `LocalTensorIndex` is frozen in every
    /// release; `LocalTensorMetadata` only from 3.3, whose six fields it then has.
    pub fn frozen(self, module: &str, fields: usize) -> bool {
        match self {
            CheckpointClass::Metadata => false,
            CheckpointClass::LocalTensorIndex => true,
            CheckpointClass::LocalTensorMetadata => {
                module == crate::names::DCP_MODULE_3 && fields == self.fields().len()
            }
        }
    }
}

/// Which globals a decode accepts: Paddle's and numpy's everywhere, plus the checkpoint
/// metadata classes where a distributed checkpoint's `.metadata` file is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Allowlist {
    #[default]
    Paddle,
    CheckpointMetadata,
}

impl Allowlist {
    /// Looks a (module, name) pair up.
    pub fn lookup(self, module: &[u8], name: &[u8]) -> Option<Global> {
        let extra: &[Global] = match self {
            Allowlist::Paddle => &[],
            Allowlist::CheckpointMetadata => CHECKPOINT_GLOBALS,
        };
        ALLOWED_GLOBALS
            .iter()
            .chain(extra)
            .copied()
            .find(|g| g.module.as_bytes() == module && g.name.as_bytes() == name)
    }
}

/// The checkpoint metadata classes under both module paths ([`Allowlist::CheckpointMetadata`]).
pub const CHECKPOINT_GLOBALS: &[Global] = {
    use crate::names::{DCP_MODULE_2, DCP_MODULE_3};
    use CheckpointClass as C;
    &[
        g(DCP_MODULE_3, "Metadata", Sym::Checkpoint(C::Metadata)),
        g(
            DCP_MODULE_3,
            "LocalTensorMetadata",
            Sym::Checkpoint(C::LocalTensorMetadata),
        ),
        g(
            DCP_MODULE_3,
            "LocalTensorIndex",
            Sym::Checkpoint(C::LocalTensorIndex),
        ),
        g(DCP_MODULE_2, "Metadata", Sym::Checkpoint(C::Metadata)),
        g(
            DCP_MODULE_2,
            "LocalTensorMetadata",
            Sym::Checkpoint(C::LocalTensorMetadata),
        ),
        g(
            DCP_MODULE_2,
            "LocalTensorIndex",
            Sym::Checkpoint(C::LocalTensorIndex),
        ),
    ]
};

/// An allowlisted global: module and name exactly as written, and its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    pub module: &'static str,
    pub name: &'static str,
    pub sym: Sym,
}

const fn g(module: &'static str, name: &'static str, sym: Sym) -> Global {
    Global { module, name, sym }
}

/// The exact (module, name) allowlist. Anything else is refused by the decoder.
pub const ALLOWED_GLOBALS: &[Global] = &[
    g("numpy.core.multiarray", "_reconstruct", Sym::Reconstruct),
    g("numpy._core.multiarray", "_reconstruct", Sym::Reconstruct),
    g("numpy.core.multiarray", "scalar", Sym::Scalar),
    g("numpy._core.multiarray", "scalar", Sym::Scalar),
    g(
        "numpy.core._multiarray_umath",
        "_reconstruct",
        Sym::Reconstruct,
    ),
    g("numpy.core._multiarray_umath", "scalar", Sym::Scalar),
    g("numpy", "ndarray", Sym::NdArrayType),
    g("numpy", "dtype", Sym::DtypeType),
    g("builtins", "tuple", Sym::Tuple),
    g("__builtin__", "tuple", Sym::Tuple),
    g("builtins", "set", Sym::Set),
    g("__builtin__", "set", Sym::Set),
    g("builtins", "frozenset", Sym::FrozenSet),
    g("__builtin__", "frozenset", Sym::FrozenSet),
    g("builtins", "bytearray", Sym::ByteArray),
    g("__builtin__", "bytearray", Sym::ByteArray),
    g("builtins", "complex", Sym::Complex),
    g("__builtin__", "complex", Sym::Complex),
    g("builtins", "bytes", Sym::Bytes),
    g("__builtin__", "bytes", Sym::Bytes),
    g("collections", "OrderedDict", Sym::OrderedDict),
    g("_codecs", "encode", Sym::CodecsEncode),
    g("builtins", "eval", Sym::Eval),
    g("__builtin__", "eval", Sym::Eval),
    g(
        "paddle.framework.io_utils",
        "_reconstruct_dense_tensor_data",
        Sym::ReconstructDenseTensor,
    ),
];

/// Looks a (module, name) pair up in the allowlist (outside checkpoint metadata).
pub fn lookup_global(module: &[u8], name: &[u8]) -> Option<Global> {
    Allowlist::Paddle.lookup(module, name)
}

impl Sym {
    /// The Python name of the callable or class (`_reconstruct`, `tuple`, …).
    pub fn name(self) -> &'static str {
        match self {
            Sym::Reconstruct => "_reconstruct",
            Sym::Scalar => "scalar",
            Sym::NdArrayType => "ndarray",
            Sym::DtypeType => "dtype",
            Sym::Tuple => "tuple",
            Sym::Set => "set",
            Sym::FrozenSet => "frozenset",
            Sym::ByteArray => "bytearray",
            Sym::Complex => "complex",
            Sym::Bytes => "bytes",
            Sym::OrderedDict => "OrderedDict",
            Sym::CodecsEncode => "encode",
            Sym::Eval => "eval",
            Sym::Checkpoint(CheckpointClass::Metadata) => "Metadata",
            Sym::Checkpoint(CheckpointClass::LocalTensorMetadata) => "LocalTensorMetadata",
            Sym::Checkpoint(CheckpointClass::LocalTensorIndex) => "LocalTensorIndex",
            Sym::ReconstructDenseTensor => "_reconstruct_dense_tensor_data",
        }
    }
}

/// The allowlisted global for a symbol, spelled as CPython writes it for a protocol
/// (`__builtin__` below protocol 3) and numpy flavour (every result is in
/// [`ALLOWED_GLOBALS`]: a test checks it).
pub fn global_for(sym: Sym, protocol: u8, flavour: Flavour) -> Global {
    let builtins = if protocol < 3 {
        "__builtin__"
    } else {
        "builtins"
    };
    let module = match sym {
        Sym::Reconstruct | Sym::Scalar => flavour.multiarray(),
        Sym::NdArrayType | Sym::DtypeType => "numpy",
        Sym::OrderedDict => "collections",
        Sym::CodecsEncode => "_codecs",
        Sym::Checkpoint(_) => crate::names::DCP_MODULE_3,
        Sym::ReconstructDenseTensor => "paddle.framework.io_utils",
        Sym::Tuple
        | Sym::Set
        | Sym::FrozenSet
        | Sym::ByteArray
        | Sym::Complex
        | Sym::Bytes
        | Sym::Eval => builtins,
    };
    Global {
        module,
        name: sym.name(),
        sym,
    }
}

/// A numpy dtype object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DtypeNode {
    pub dtype: DType,
    /// `<`, `>` or `|` as pickled in the dtype state.
    pub order: u8,
}

/// A numpy ndarray.
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray<'a> {
    pub flavour: Flavour,
    /// A [`Node::Dtype`] node (numpy shares dtype objects between arrays).
    pub dtype: NodeId,
    pub shape: Vec<u64>,
    pub fortran: bool,
    /// Element bytes in the array's memory order (C or Fortran) and byte order.
    pub data: Cow<'a, [u8]>,
}

/// A numpy scalar such as `np.float32(1.5)`.
#[derive(Clone, Debug, PartialEq)]
pub struct NpScalar<'a> {
    pub flavour: Flavour,
    pub dtype: NodeId,
    pub data: Cow<'a, [u8]>,
}

/// One Python object.
#[derive(Clone, Debug, PartialEq)]
pub enum Node<'a> {
    None,
    Bool(bool),
    Int(PyInt),
    Float(f64),
    Complex(f64, f64),
    Str(Cow<'a, str>),
    /// A str holding lone surrogates (`'w\ud800'`), which Rust's `str` cannot: its code
    /// points as `surrogatepass` UTF-8, the bytes CPython reads and writes for it.
    WStr(Cow<'a, [u8]>),
    Bytes(Cow<'a, [u8]>),
    ByteArray(Cow<'a, [u8]>),
    List(Vec<NodeId>),
    Tuple(Vec<NodeId>),
    Dict(Vec<(NodeId, NodeId)>),
    OrderedDict(Vec<(NodeId, NodeId)>),
    Set(Vec<NodeId>),
    FrozenSet(Vec<NodeId>),
    /// An allowlisted global used as a value (only inside numpy's reduce arguments).
    Global(Global),
    Dtype(DtypeNode),
    /// Boxed: a node stays 32 bytes (P-LIMIT: memory per opcode).
    NdArray(Box<NdArray<'a>>),
    NpScalar(NpScalar<'a>),
    /// Paddle's dynamic tensor: `builtins.tuple(((name, array),))`, i.e. the tuple `(name, array)`.
    DynTensor {
        name: NodeId,
        array: NodeId,
    },
    /// Paddle's static tensor: `builtins.eval('data', {'data': array})`, i.e. the array.
    StaticTensor {
        array: NodeId,
    },
    /// An instance of an allowlisted class (only Paddle's checkpoint metadata dataclasses,
    /// [`Sym::Checkpoint`]): `NEWOBJ` on the class, then `BUILD` with `state`, a
    /// [`Node::Dict`] of exactly the class's fields (its `__dict__`).
    Object {
        class: Global,
        state: NodeId,
    },
    /// Decoder-internal: the result of a REDUCE that still waits for its BUILD.
    Pending(Pending),
}

/// Objects between their REDUCE and their BUILD.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pending {
    Array(Flavour),
    Dtype(DType),
    /// An allowlisted class instantiated by NEWOBJ.
    Object(Global),
}

impl Node<'_> {
    /// The nodes this one holds: container items (dict keys and values in turn), an
    /// array's or scalar's dtype, a tensor's name and array.
    pub fn children(&self) -> Vec<NodeId> {
        match self {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.clone(),
            Node::Dict(v) | Node::OrderedDict(v) => v.iter().flat_map(|&(k, x)| [k, x]).collect(),
            Node::NdArray(a) => vec![a.dtype],
            Node::NpScalar(s) => vec![s.dtype],
            Node::DynTensor { name, array } => vec![*name, *array],
            Node::StaticTensor { array } => vec![*array],
            Node::Object { state, .. } => vec![*state],
            _ => vec![],
        }
    }

    /// Python type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::None => "NoneType",
            Node::Bool(_) => "bool",
            Node::Int(_) => "int",
            Node::Float(_) => "float",
            Node::Complex(..) => "complex",
            Node::Str(_) | Node::WStr(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::ByteArray(_) => "bytearray",
            Node::List(_) => "list",
            Node::Tuple(_) | Node::DynTensor { .. } => "tuple",
            Node::Dict(_) => "dict",
            Node::OrderedDict(_) => "OrderedDict",
            Node::Set(_) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global(_) => "global",
            Node::Dtype(_) => "numpy.dtype",
            Node::NdArray(_) | Node::StaticTensor { .. } => "numpy.ndarray",
            Node::NpScalar(_) => "numpy scalar",
            Node::Pending(_) => "unbuilt object",
            Node::Object { class, .. } => class.name,
        }
    }
}

/// A decoded pickle.
#[derive(Clone, Debug)]
pub struct Graph<'a> {
    pub nodes: Vec<Node<'a>>,
    pub root: NodeId,
    /// The PROTO opcode's argument, or 0/1 when the pickle has none.
    pub protocol: u8,
    /// The numpy module spelling found in the file, if any numpy object is in it.
    pub flavour: Option<Flavour>,
    /// Whether any FRAME opcode was seen.
    pub framed: bool,
    /// Number of bytes consumed up to and including STOP.
    pub consumed: usize,
    /// The file holds two distinct str (or bytes) objects of the same value of at most one
    /// character (byte): CPython's cached one-character objects were not used, so the
    /// encoder follows node identity for them too (see `encode`).
    pub short_strings_distinct: bool,
    /// How the writer spelled what the objects do not show (old numpy, Python 2, CPython
    /// 3.6); the encoder follows it (spec/pickle.md P-HIST).
    pub dialect: Dialect,
    /// The first unhashable dict key or set item: the file decodes, but CPython's unpickler
    /// raises TypeError there (`paddle.save` of a set holding a Tensor writes such a file;
    /// L-FILE).
    pub unhashable: Option<Unhashable>,
}

/// Where a graph holds an unhashable dict key or set item ([`Graph::unhashable`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unhashable {
    /// Offset of the opcode that inserted it (SETITEM(S), ADDITEMS, FROZENSET, …).
    pub offset: usize,
    /// Its Python type, as CPython's TypeError names it.
    pub found: &'static str,
    /// The dict or set it was inserted into.
    pub container: NodeId,
}

/// The writer's spelling of a pickle beyond its protocol and numpy module path, as far as
/// the bytes tell (spec/pickle.md P-HIST). The default is what CPython 3.7+ with numpy
/// 1.19+ writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dialect {
    /// numpy < 1.19: dtypes pickled as `dtype(descr, 0, 1)` (ints), not `(False, True)`.
    pub dtype_int_flags: bool,
    /// Python 2's `pickle.py` wrote the file: `str` objects as SHORT_BINSTRING / BINSTRING
    /// (array payloads included), `long`s as LONG1, iterator batching for every list and
    /// dict, numpy's dtype byte-order strings not shared.
    pub python2: bool,
    /// CPython < 3.7: a protocol-4 payload of 64 KiB or more was written inside its frame.
    pub large_in_frames: bool,
    /// Python 2: the str nodes written as byte strings (STRING, BINSTRING,
    /// SHORT_BINSTRING); the other str nodes were `unicode` (BINUNICODE).
    pub byte_strs: HashSet<NodeId>,
    /// Python 2: the int nodes written as `long` (LONG, LONG1, LONG4).
    pub longs: HashSet<NodeId>,
    /// Static tensors written as `paddle.framework.io_utils._reconstruct_dense_tensor_data
    /// (array)` (Paddle's development branch) instead of `eval('data', {'data': array})`.
    pub static_tensor_fn: bool,
}

impl<'a> Graph<'a> {
    /// The node `id` names. Ids come from [`Graph::add`] (the decoder, the pickler's
    /// `save`, a rebuilt skeleton, which checks every id first): one from another graph is
    /// a bug, and panics like a slice index would.
    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }
    /// The node `id` names, if this graph has one.
    pub fn get(&self, id: NodeId) -> Option<&Node<'a>> {
        self.nodes.get(id as usize)
    }
    /// A new, empty graph whose root is `None`.
    pub fn new(protocol: u8) -> Self {
        Graph {
            nodes: vec![Node::None],
            root: 0,
            protocol,
            flavour: None,
            framed: false,
            consumed: 0,
            short_strings_distinct: false,
            dialect: Dialect::default(),
            unhashable: None,
        }
    }
    pub fn add(&mut self, n: Node<'a>) -> NodeId {
        self.nodes.push(n);
        (self.nodes.len() - 1) as NodeId
    }
    /// The child nodes of a node ([`Node::children`]).
    pub fn children(&self, id: NodeId) -> Vec<NodeId> {
        self.node(id).children()
    }

    /// Which nodes the root reaches (iteratively: no recursion on deep graphs).
    pub fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        let mut todo = vec![self.root];
        if let Some(s) = seen.get_mut(self.root as usize) {
            *s = true;
        }
        // A node is pushed once, when first seen: the stack holds at most one entry per
        // node, and no child list is copied.
        let mut visit = |id: NodeId, todo: &mut Vec<NodeId>| {
            if let Some(s) = seen.get_mut(id as usize).filter(|s| !**s) {
                *s = true;
                todo.push(id);
            }
        };
        while let Some(id) = todo.pop() {
            match self.get(id) {
                Some(Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v)) => {
                    v.iter().for_each(|&c| visit(c, &mut todo))
                }
                Some(Node::Dict(p) | Node::OrderedDict(p)) => p.iter().for_each(|&(k, v)| {
                    visit(k, &mut todo);
                    visit(v, &mut todo);
                }),
                Some(n) => n.children().into_iter().for_each(|c| visit(c, &mut todo)),
                None => {}
            }
        }
        seen
    }

    pub fn dtype_of(&self, id: NodeId) -> Option<DtypeNode> {
        match self.node(id) {
            Node::Dtype(d) => Some(*d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
