//! The reference `paddle.save` for pickles (Paddle 3.3.1 `paddle/framework/io.py`):
//! protocol check (S-PROTO), state-dict detection (S-DETECT), the state-dict path with its
//! name table (S-TABLE) and big-parameter split (S-SPLIT), the generic path with its
//! pre-walk (S-WALK: NotImplementedError on bytes/bytearray/frozenset, tuples and sets in
//! lists and dicts replaced by copies), dynamic tensors as `tuple(name, ndarray)`
//! (S-DYN), static tensors as `eval` (S-STATIC), Layers refused (S-LAYER).

use crate::dtype::DType;
use crate::rules::{PyExc, Rule};
use std::borrow::Cow;
use std::collections::HashMap;

use super::object::{Array, Obj, ObjGraph, ObjId, Tensor, TensorKind};
use crate::numpy::Flavour;
use crate::pickle::{DtypeNode, Graph, NdArray, Node, NodeId, NpScalar, PyInt};

/// How `paddle.save` is called and where.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    /// `protocol=` (Paddle accepts 2, 3, 4).
    pub protocol: i64,
    /// numpy of the saving environment (module path of `_reconstruct`).
    pub flavour: Flavour,
    /// S-SPLIT threshold in bytes: `(2**30 - 1)` in Paddle; smaller in tests.
    pub big_param_bytes: u64,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            protocol: 4,
            flavour: Flavour::Numpy2,
            big_param_bytes: (1 << 30) - 1,
        }
    }
}

/// What `paddle.save` produces. The pickle graph borrows every array payload from the
/// saved object: nothing is copied (but Fortran-order arrays that are split, S-SPLIT).
#[derive(Debug)]
pub enum Saved<'s> {
    /// A pickle; encode it with `pickle::encode` at the same protocol.
    Pickle(Graph<'s>),
    /// A `paddle.static.Program`: Paddle writes the program, not a pickle.
    Program,
}

/// The exception `paddle.save` raises.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("paddle.save raises {class}: {message}")]
pub struct SaveError {
    /// The save rule that raises (S-WALK, S-LAYER, S-PROTO, …).
    pub rule: Rule,
    pub class: PyExc,
    pub message: String,
}

fn err(rule: Rule, class: PyExc, message: impl Into<String>) -> SaveError {
    SaveError {
        rule,
        class,
        message: message.into(),
    }
}

const MAX_DEPTH: usize = 1000;

fn is_dict(o: &Obj) -> bool {
    matches!(o, Obj::Dict(_) | Obj::OrderedDict(_))
}

fn values(o: &Obj) -> Vec<ObjId> {
    match o {
        Obj::Dict(p) | Obj::OrderedDict(p) => p.iter().map(|&(_, v)| v).collect(),
        Obj::List(v) | Obj::Tuple(v) => v.clone(),
        _ => vec![],
    }
}

/// `_contain_x(obj, paddle types)`: dict values, lists and tuples, not sets.
fn contains_paddle(g: &ObjGraph, id: ObjId, depth: usize) -> Result<bool, SaveError> {
    crate::deep(|| contains_paddle_inner(g, id, depth))
}

fn contains_paddle_inner(g: &ObjGraph, id: ObjId, depth: usize) -> Result<bool, SaveError> {
    if depth > MAX_DEPTH {
        return Err(err(
            Rule::SWalk,
            PyExc::RecursionError,
            "maximum recursion depth exceeded",
        ));
    }
    let o = g.get(id);
    if matches!(o, Obj::Tensor(_) | Obj::Layer | Obj::Program) {
        return Ok(true);
    }
    for v in values(o) {
        if contains_paddle(g, v, depth + 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// S-DETECT: `_is_state_dict`.
pub fn is_state_dict(g: &ObjGraph) -> Result<bool, SaveError> {
    let root = g.get(g.root);
    let (Obj::Dict(items) | Obj::OrderedDict(items)) = root else {
        return Ok(false);
    };
    for &(_, v) in items {
        let o = g.get(v);
        if is_dict(o) {
            for inner in values(o) {
                if contains_paddle(g, inner, 1)? {
                    return Ok(false);
                }
            }
        } else if !matches!(o, Obj::Tensor(_)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// S-WALK: `_parse_every_object(obj, is_layer, ...)` raises NotImplementedError on the
/// first iterable it cannot walk.
fn walk_check(g: &ObjGraph, id: ObjId, depth: usize) -> Result<(), SaveError> {
    crate::deep(|| walk_check_inner(g, id, depth))
}

fn walk_check_inner(g: &ObjGraph, id: ObjId, depth: usize) -> Result<(), SaveError> {
    if depth > MAX_DEPTH {
        return Err(err(
            Rule::SWalk,
            PyExc::RecursionError,
            "maximum recursion depth exceeded",
        ));
    }
    match g.get(id) {
        Obj::Dict(_) | Obj::OrderedDict(_) | Obj::List(_) | Obj::Tuple(_) => {
            for v in values(g.get(id)) {
                walk_check(g, v, depth + 1)?;
            }
            Ok(())
        }
        Obj::Set(v) => {
            for &x in v {
                walk_check(g, x, depth + 1)?;
            }
            Ok(())
        }
        o @ (Obj::Bytes(_) | Obj::ByteArray(_) | Obj::FrozenSet(_)) => {
            let t = match o {
                Obj::Bytes(_) => "bytes",
                Obj::ByteArray(_) => "bytearray",
                _ => "frozenset",
            };
            Err(err(
                Rule::SWalk,
                PyExc::NotImplementedError,
                format!("The iterable objects supported are tuple, list, dict, OrderedDict, string. But received <class '{t}'>."),
            ))
        }
        _ => Ok(()),
    }
}

/// `paddle.save(obj, path, protocol=...)` in dynamic-graph mode.
///
/// ```
/// use pdsave::paddle::{object::ObjGraph, save::{save, SaveOptions, Saved}};
/// let obj = ObjGraph::from_json(&serde_json::json!({"t": "dict", "items": [
///     [{"t": "str", "v": "w"}, {"t": "tensor", "kind": "parameter", "dtype": "float32",
///      "shape": [2], "hex": "0000803f00000040", "name": "linear_0.w_0",
///      "stop_gradient": false}]]})).unwrap();
/// let Saved::Pickle(g) = save(&obj, &SaveOptions::default()).unwrap() else { panic!() };
/// let bytes = pdsave::pickle::encode(&g, &pdsave::pickle::EncodeOptions::like(&g)).unwrap();
/// // A state dict: the Tensor is saved as an ndarray plus the name table.
/// let text = String::from_utf8_lossy(&bytes);
/// assert!(text.contains("StructuredToParameterName@@") && text.contains("linear_0.w_0"));
/// ```
pub fn save<'s>(g: &'s ObjGraph, opts: &SaveOptions) -> Result<Saved<'s>, SaveError> {
    if matches!(g.get(g.root), Obj::Program) {
        return Ok(Saved::Program);
    }
    if !(2..=4).contains(&opts.protocol) {
        return Err(err(
            Rule::SProto,
            PyExc::ValueError,
            format!(
                "Expected 1<'protocol'<5, but received protocol={}",
                opts.protocol
            ),
        ));
    }
    let mut e = Emitter {
        src: g,
        out: Graph::new(opts.protocol as u8),
        memo: HashMap::new(),
        dtypes: HashMap::new(),
        singletons: HashMap::new(),
        flavour: opts.flavour,
        generic: true,
    };
    e.out.flavour = Some(opts.flavour);
    // Short strs the user made that are not CPython's cached ones (P-ID): the encoder
    // follows node identity for short strs, and reduce forms' own short strs (protocol 2
    // bytes) stay the cached ones. (A graph mixing cached and uncached equal short strs
    // with such reduce strs is not modelled: the encoder's switch is per graph.)
    e.out.short_strings_distinct = !g.uncached.is_empty();
    if is_state_dict(g)? {
        e.generic = false;
        let root = e.state_dict(opts)?;
        e.out.root = root;
    } else {
        walk_check(g, g.root, 0)?;
        let root = e.emit(g.root, Ctx::Original, 0)?;
        e.out.root = root;
    }
    Ok(Saved::Pickle(e.out))
}

/// Whether a tuple or set is the object the user built or a copy made by S-WALK.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Original,
    Copy,
}

/// An array as the emitter pickles it, its payload borrowed from the saved object.
#[derive(Clone)]
struct Arr<'s> {
    dtype: DType,
    order: u8,
    shape: Vec<u64>,
    fortran: bool,
    data: Cow<'s, [u8]>,
}

impl<'s> Arr<'s> {
    fn of(a: &'s Array) -> Self {
        Arr {
            dtype: a.dtype,
            order: a.order,
            shape: a.shape.clone(),
            fortran: a.fortran,
            data: Cow::Borrowed(&a.data),
        }
    }
}

struct Emitter<'s> {
    src: &'s ObjGraph,
    out: Graph<'s>,
    memo: HashMap<ObjId, NodeId>,
    /// numpy's dtype singletons, by (dtype, byte order, C type: 0 canonical, 1 `long long`).
    dtypes: HashMap<(DType, u8, u8), NodeId>,
    /// CPython's cached objects: '' and one-latin-1-character str, b'' and one-byte bytes.
    singletons: HashMap<(bool, Vec<u8>), NodeId>,
    flavour: Flavour,
    /// Generic path (dispatch table, S-WALK copies) or state-dict path (plain pickler).
    generic: bool,
}

impl<'s> Emitter<'s> {
    fn dtype(&mut self, d: DType, order: u8, ctype: u8) -> NodeId {
        if order == b'>' {
            // numpy shares only its built-in (native) descriptors.
            return self.out.add(Node::Dtype(DtypeNode { dtype: d, order }));
        }
        if let Some(&id) = self.dtypes.get(&(d, order, ctype)) {
            return id;
        }
        let id = self.out.add(Node::Dtype(DtypeNode { dtype: d, order }));
        self.dtypes.insert((d, order, ctype), id);
        id
    }

    fn array(&mut self, a: &Arr<'s>) -> NodeId {
        self.array_ctype(a, 0)
    }

    /// `ctype` 1: the array came through the buffer protocol of a static DenseTensor, whose
    /// int64 format is `q` (`long long`): numpy gives it the `longlong` descriptor, a
    /// different object from the canonical int64 (`long`) one, so it is pickled apart
    /// (S-STATIC).
    fn array_ctype(&mut self, a: &Arr<'s>, ctype: u8) -> NodeId {
        let ctype = if a.dtype == DType::Int64 { ctype } else { 0 };
        let dtype = self.dtype(a.dtype, a.order, ctype);
        // numpy pickles is_fortran only for arrays that are not also C-contiguous.
        let fortran = a.fortran && a.shape.iter().filter(|&&d| d > 1).count() >= 2;
        self.out.add(Node::NdArray(Box::new(NdArray {
            flavour: self.flavour,
            dtype,
            shape: a.shape.clone(),
            fortran,
            data: a.data.clone(),
        })))
    }

    /// `np.array(tensor.cpu())`: C order, native order; bfloat16 as uint16.
    fn tensor_array(t: &'s Tensor) -> Arr<'s> {
        let dtype = t.dtype.numpy_carrier();
        Arr {
            dtype,
            order: dtype.native_order(),
            shape: t.shape.clone(),
            fortran: false,
            data: Cow::Borrowed(&t.data),
        }
    }

    /// A str Python creates afresh (tensor names, table keys); short ones are CPython's cached objects.
    fn str_node(&mut self, s: &str) -> NodeId {
        if s.chars().count() <= 1 && s.chars().all(|c| (c as u32) < 256) {
            let key = (true, s.as_bytes().to_vec());
            if let Some(&n) = self.singletons.get(&key) {
                return n;
            }
            let n = self.out.add(Node::Str(Cow::Owned(s.to_string())));
            self.singletons.insert(key, n);
            return n;
        }
        self.out.add(Node::Str(Cow::Owned(s.to_string())))
    }

    fn emit(&mut self, id: ObjId, ctx: Ctx, depth: usize) -> Result<NodeId, SaveError> {
        crate::deep(|| self.emit_inner(id, ctx, depth))
    }

    fn emit_inner(&mut self, id: ObjId, ctx: Ctx, depth: usize) -> Result<NodeId, SaveError> {
        if depth > MAX_DEPTH {
            return Err(err(
                Rule::SWalk,
                PyExc::RecursionError,
                "maximum recursion depth exceeded while pickling an object",
            ));
        }
        let o = self.src.get(id);
        let cached = !self.src.uncached.contains(&id);
        let single = match o {
            _ if !cached => None,
            Obj::Str(s) if s.chars().count() <= 1 && s.chars().all(|c| (c as u32) < 256) => {
                Some((true, s.as_bytes().to_vec()))
            }
            Obj::Bytes(b) if b.len() <= 1 => Some((false, b.clone())),
            _ => None,
        };
        if let Some(key) = single {
            if let Some(&n) = self.singletons.get(&key) {
                return Ok(n);
            }
            let n = self.out.add(match o {
                Obj::Str(s) => Node::Str(Cow::Owned(s.clone())),
                _ => Node::Bytes(Cow::Owned(key.1.clone())),
            });
            self.singletons.insert(key, n);
            return Ok(n);
        }
        let copied = ctx == Ctx::Copy && self.generic && matches!(o, Obj::Tuple(_) | Obj::Set(_));
        if !copied {
            if let Some(&n) = self.memo.get(&id) {
                return Ok(n);
            }
        }
        // Items of lists and dict values were replaced by S-WALK: their tuples/sets are copies.
        let slot = if self.generic {
            Ctx::Copy
        } else {
            Ctx::Original
        };
        let inner = if copied { Ctx::Copy } else { Ctx::Original };
        let node = match o {
            Obj::None => Node::None,
            Obj::Bool(b) => Node::Bool(*b),
            Obj::Int(i) => Node::Int(i.clone()),
            Obj::Float(f) => Node::Float(*f),
            Obj::Complex(r, i) => Node::Complex(*r, *i),
            Obj::Str(s) => Node::Str(Cow::Owned(s.clone())),
            Obj::Bytes(b) => Node::Bytes(Cow::Owned(b.clone())),
            Obj::ByteArray(b) => Node::ByteArray(Cow::Owned(b.clone())),
            Obj::List(v) => {
                let me = self.reserve(id);
                let items = v
                    .iter()
                    .map(|&x| self.emit(x, slot, depth + 1))
                    .collect::<Result<_, _>>()?;
                self.out.nodes[me as usize] = Node::List(items);
                return Ok(me);
            }
            Obj::Dict(p) | Obj::OrderedDict(p) => {
                let me = self.reserve(id);
                let mut items = Vec::with_capacity(p.len());
                for &(k, v) in p {
                    items.push((
                        self.emit(k, Ctx::Original, depth + 1)?,
                        self.emit(v, slot, depth + 1)?,
                    ));
                }
                self.out.nodes[me as usize] = if matches!(o, Obj::Dict(_)) {
                    Node::Dict(items)
                } else {
                    Node::OrderedDict(items)
                };
                return Ok(me);
            }
            Obj::Tuple(v) => Node::Tuple(
                v.iter()
                    .map(|&x| self.emit(x, inner, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Obj::Set(v) => Node::Set(
                v.iter()
                    .map(|&x| self.emit(x, inner, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Obj::FrozenSet(v) => Node::FrozenSet(
                v.iter()
                    .map(|&x| self.emit(x, Ctx::Original, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Obj::NdArray(a) => {
                let n = self.array(&Arr::of(a));
                self.memo.insert(id, n);
                return Ok(n);
            }
            Obj::NpScalar { dtype, data } => {
                let d = self.dtype(*dtype, dtype.native_order(), 0);
                Node::NpScalar(NpScalar {
                    flavour: self.flavour,
                    dtype: d,
                    data: Cow::Owned(data.clone()),
                })
            }
            Obj::Tensor(t) => {
                if !self.generic {
                    return Err(err(
                        Rule::SStaticSd,
                        PyExc::RuntimeError,
                        "(PreconditionNotMet) Tensor is not in shared memory.",
                    ));
                }
                let mut a = Self::tensor_array(t);
                if t.kind == TensorKind::Static && a.data.is_empty() {
                    // S-STATIC-EMPTY: `np.array(t._copy(place))` of an empty DenseTensor is
                    // `array([], dtype=float64)`: shape and dtype are lost.
                    a = Arr {
                        dtype: DType::Float64,
                        order: b'<',
                        shape: vec![0],
                        fortran: false,
                        data: Cow::Borrowed(&[]),
                    };
                }
                let arr = self.array_ctype(&a, (t.kind == TensorKind::Static) as u8);
                match t.kind {
                    TensorKind::Static => Node::StaticTensor { array: arr },
                    TensorKind::Dynamic | TensorKind::Parameter => {
                        let name = self.str_node(t.name.as_deref().unwrap_or("generated_tensor"));
                        Node::DynTensor { name, array: arr }
                    }
                }
            }
            Obj::Layer => {
                return Err(err(
                    Rule::SLayer,
                    PyExc::ValueError,
                    "paddle do not support saving `paddle.nn.Layer` object.",
                ))
            }
            Obj::Program => {
                return Err(err(
                    Rule::SProgram,
                    PyExc::TypeError,
                    "a Program inside another object cannot be pickled",
                ))
            }
        };
        let n = self.out.add(node);
        if !copied {
            self.memo.insert(id, n);
        }
        Ok(n)
    }

    fn reserve(&mut self, id: ObjId) -> NodeId {
        let n = self.out.add(Node::None);
        self.memo.insert(id, n);
        n
    }

    /// S-TABLE and S-SPLIT: `_build_saved_state_dict` then `_unpack_saved_dict`, pickled
    /// with the plain pickler (no dispatch table, no pre-walk).
    fn state_dict(&mut self, opts: &SaveOptions) -> Result<NodeId, SaveError> {
        let (Obj::Dict(items) | Obj::OrderedDict(items)) = self.src.get(self.src.root) else {
            return Err(err(
                Rule::STable,
                PyExc::NotImplementedError,
                "state dict must be a dict",
            ));
        };
        let items = items.clone();
        let root = self.out.add(Node::None);
        let mut saved: Vec<(NodeId, NodeId)> = Vec::new();
        let mut table: Vec<(NodeId, NodeId)> = Vec::new();
        // (key node, array) of ndarrays, to check for splitting.
        let mut arrays: Vec<(usize, Arr<'s>)> = Vec::new();
        for &(k, v) in &items {
            let kn = self.emit(k, Ctx::Original, 1)?;
            match self.src.get(v) {
                Obj::Tensor(t) if t.kind != TensorKind::Static => {
                    let a = Self::tensor_array(t);
                    arrays.push((saved.len(), a.clone()));
                    let an = self.array(&a);
                    saved.push((kn, an));
                    let name = self.str_node(t.name.as_deref().unwrap_or("generated_tensor"));
                    table.push((kn, name));
                }
                Obj::Tensor(_) => {
                    return Err(err(
                        Rule::SStaticSd,
                        PyExc::RuntimeError,
                        "(PreconditionNotMet) Tensor is not in shared memory.",
                    ));
                }
                Obj::NdArray(a) => {
                    arrays.push((saved.len(), Arr::of(a)));
                    let vn = self.emit(v, Ctx::Original, 1)?;
                    saved.push((kn, vn));
                }
                _ => {
                    let vn = self.emit(v, Ctx::Original, 1)?;
                    saved.push((kn, vn));
                }
            }
        }
        let tkey = self.str_node(crate::names::NAME_TABLE);
        let tnode = self.out.add(Node::Dict(table));
        // `save_dict["StructuredToParameterName@@"] = name_table`: a user key of that name
        // keeps its place and gets the table (its ndarray, if any, is no longer split).
        self.set_item(&mut saved, tkey, tnode);
        arrays.retain(|(pos, _)| saved[*pos].1 != tnode);
        if opts.protocol < 4 {
            self.split(&mut saved, &arrays, opts)?;
        }
        self.out.nodes[root as usize] = Node::Dict(saved);
        Ok(root)
    }

    fn split(
        &mut self,
        saved: &mut Vec<(NodeId, NodeId)>,
        arrays: &[(usize, Arr<'s>)],
        opts: &SaveOptions,
    ) -> Result<(), SaveError> {
        let mut info: Vec<(NodeId, NodeId)> = Vec::new();
        let mut parts_all: Vec<(NodeId, NodeId)> = Vec::new();
        for (pos, a) in arrays {
            let itemsize = a.dtype.itemsize() as u64;
            let max = opts.big_param_bytes / itemsize;
            let n: u64 = a.shape.iter().product();
            if max == 0 || n <= max {
                continue;
            }
            let key = saved[*pos].0;
            let key_str = match self.out.node(key) {
                Node::Str(s) => s.to_string(),
                _ => {
                    return Err(err(
                        Rule::SSplit,
                        PyExc::TypeError,
                        "big parameter keys must be str",
                    ))
                }
            };
            // value.flatten(): C order, same dtype object. Borrowed unless the array is in
            // Fortran order (then one transposed copy).
            let flat: Cow<'s, [u8]> = if a.fortran && a.shape.len() > 1 {
                Cow::Owned(crate::numpy::fortran_to_c(
                    &a.shape,
                    a.dtype.itemsize(),
                    &a.data,
                ))
            } else {
                a.data.clone()
            };
            let parts = n.div_ceil(max);
            let mut names = Vec::new();
            for i in 0..parts {
                let lo = (i * max * itemsize) as usize;
                let hi = (((i + 1) * max).min(n) * itemsize) as usize;
                let name = self.str_node(&format!("{key_str}{}{i}", crate::names::SLICE_MARK));
                let part = Arr {
                    dtype: a.dtype,
                    order: a.order,
                    shape: vec![(hi - lo) as u64 / itemsize],
                    fortran: false,
                    data: match &flat {
                        Cow::Borrowed(b) => Cow::Borrowed(&b[lo..hi]),
                        Cow::Owned(v) => Cow::Owned(v[lo..hi].to_vec()),
                    },
                };
                let pn = self.array(&part);
                names.push(name);
                parts_all.push((name, pn));
            }
            let shape_items: Vec<NodeId> = a
                .shape
                .iter()
                .map(|&d| self.out.add(Node::Int(PyInt::Small(d as i64))))
                .collect();
            let shape = self.out.add(Node::Tuple(shape_items));
            let slices = self.out.add(Node::List(names));
            let k1 = self.str_node(crate::names::UNPACK_SHAPE);
            let k2 = self.str_node(crate::names::UNPACK_SLICES);
            let spec = self.out.add(Node::Dict(vec![(k1, shape), (k2, slices)]));
            info.push((key, spec));
        }
        if info.is_empty() {
            return Ok(());
        }
        // Per big key, as `_unpack_saved_dict`: `saved_obj.pop(key)`, then
        // `saved_obj[part] = ...` for its slices (an equal key is replaced in place).
        let mut parts = parts_all.into_iter();
        for (key, spec) in &info {
            saved.retain(|(k, _)| k != key);
            let n = match self.out.node(*spec) {
                Node::Dict(s) => match self.out.node(s[1].1) {
                    Node::List(names) => names.len(),
                    _ => 0,
                },
                _ => 0,
            };
            for (name, part) in parts.by_ref().take(n) {
                self.set_item(saved, name, part);
            }
        }
        let ik = self.str_node(crate::names::UNPACK_INFO);
        let inode = self.out.add(Node::Dict(info));
        self.set_item(saved, ik, inode);
        Ok(())
    }

    /// `d[k] = v` for a str key: an equal str key keeps its place (and its key object) and
    /// gets the value; otherwise the item is appended.
    fn set_item(&self, d: &mut Vec<(NodeId, NodeId)>, k: NodeId, v: NodeId) {
        let Node::Str(ks) = self.out.node(k) else {
            d.push((k, v));
            return;
        };
        let same = |n: &Node| matches!(n, Node::Str(s) if s == ks);
        match d.iter_mut().find(|(x, _)| same(self.out.node(*x))) {
            Some(item) => item.1 = v,
            None => d.push((k, v)),
        }
    }
}
