//! The reference `paddle.load` for pickles, in dynamic-graph mode (Paddle 3.3.1's
//! `paddle/framework/io.py`): big-parameter merge (L-UNPACK), the name-table path
//! (L-TABLE), the FAQ's tuple-or-ndarray rule (L-TUPLE, L-NDARRAY), `return_numpy`
//! (L-NUMPY), ndarray → Tensor dtypes (L-DTYPE) and the errors Paddle raises (L-ITER).

use crate::dtype::DType;
use crate::rules::PyExc;
use std::borrow::Cow;

use super::value::{ArrayView, Value};
use crate::pickle::{self, Graph, Node, NodeId, PickleError};

/// `paddle.load` options covered by the load view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    pub return_numpy: bool,
    pub keep_name_table: bool,
}

impl LoadOptions {
    /// The three option sets the corpus records: default, return_numpy, keep_name_table.
    pub const SETS: [(&'static str, LoadOptions); 3] = [
        (
            "default",
            LoadOptions {
                return_numpy: false,
                keep_name_table: false,
            },
        ),
        (
            "return_numpy",
            LoadOptions {
                return_numpy: true,
                keep_name_table: false,
            },
        ),
        (
            "keep_name_table",
            LoadOptions {
                return_numpy: false,
                keep_name_table: true,
            },
        ),
    ];
}

/// Why a load gives no value.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LoadError {
    /// The bytes are not a pickle pdsave accepts (malformed, or unsafe).
    #[error("{0}")]
    Pickle(#[from] PickleError),
    /// `paddle.load` itself raises this Python exception on these bytes.
    #[error("paddle.load raises {class}: {message}")]
    Python { class: PyExc, message: String },
    /// The value has no node in the load view (e.g. a numpy dtype object).
    #[error("a {0} has no node in the load view")]
    Unrepresentable(&'static str),
    /// Shared references would expand past pdsave's budget (in nodes, each counting one
    /// more per 64 bytes of its str, bytes or array data).
    #[error("the loaded value expands to more than {0} nodes")]
    TooLarge(u64),
}

impl LoadError {
    fn py(class: PyExc, message: impl Into<String>) -> Self {
        LoadError::Python {
            class,
            message: message.into(),
        }
    }
}

/// Deepest nesting followed before Paddle's recursive walk would raise RecursionError.
pub const MAX_DEPTH: usize = 1000;

const TABLE: &str = "StructuredToParameterName@@";
const UNPACK: &str = "UnpackBigParamInfor@@";

/// Decodes and loads a pickle.
pub fn load_pickle(data: &[u8], opts: LoadOptions) -> Result<Value<'_>, LoadError> {
    let g = pickle::decode(data)?;
    // The graph is dropped here, so the value must not borrow from it: it borrows from `data`.
    load_graph_owned(&g, opts)
}

/// Bytes of data that count as one more node in the expansion budget.
const BYTES_PER_NODE: u64 = 64;

/// What expanding a node once costs: one, plus one per 64 bytes of the data it holds (the
/// view copies strs and bytes and hashes arrays each time a shared node is reached).
fn node_cost(n: &Node) -> u64 {
    let len = match n {
        Node::Str(s) => s.len(),
        Node::Bytes(b) | Node::ByteArray(b) => b.len(),
        Node::NdArray(a) => a.data.len(),
        Node::NpScalar(s) => s.data.len(),
        _ => 0,
    };
    1 + len as u64 / BYTES_PER_NODE
}

fn load_graph_owned<'a>(g: &Graph<'a>, opts: LoadOptions) -> Result<Value<'a>, LoadError> {
    build(g, opts, |c| c.clone())
}

/// Loads a decoded graph, borrowing every payload from the graph (never copying, even the
/// payloads the decoder had to make, such as protocol 2's latin-1 text turned into bytes).
pub fn load_graph_ref<'x>(g: &'x Graph<'_>, opts: LoadOptions) -> Result<Value<'x>, LoadError> {
    build(g, opts, |c| Cow::Borrowed(&c[..]))
}

fn build<'x, 'a: 'x + 'r, 'r>(
    g: &'x Graph<'a>,
    opts: LoadOptions,
    pay: fn(&'x Cow<'a, [u8]>) -> Cow<'r, [u8]>,
) -> Result<Value<'r>, LoadError> {
    // Eight times the graph's own size (its nodes and data counted once) plus a million:
    // shared references (the memo) may repeat a value, but not blow a small file up into
    // gigabytes of view (P-LIMIT).
    let own: u64 = g.nodes.iter().map(node_cost).sum();
    let budget = 8 * own + 1_000_000;
    let mut b = Builder {
        g,
        left: budget,
        budget,
        pay,
    };
    let v = b.value(g.root, 0)?;
    apply(v, opts)
}

/// Loads a decoded graph.
pub fn load_graph<'a>(g: &Graph<'a>, opts: LoadOptions) -> Result<Value<'a>, LoadError> {
    load_graph_owned(g, opts)
}

struct Builder<'x, 'a, 'r> {
    g: &'x Graph<'a>,
    left: u64,
    budget: u64,
    /// How array payloads reach the value: cloned (`Value<'a>`) or borrowed from the graph.
    pay: fn(&'x Cow<'a, [u8]>) -> Cow<'r, [u8]>,
}

impl<'x, 'a: 'r, 'r> Builder<'x, 'a, 'r> {
    fn array(&self, id: NodeId) -> Result<ArrayView<'r>, LoadError> {
        match self.g.node(id) {
            Node::NdArray(a) => {
                let d = self
                    .g
                    .dtype_of(a.dtype)
                    .ok_or(LoadError::Unrepresentable("ndarray without dtype"))?;
                Ok(ArrayView {
                    dtype: d.dtype,
                    order: d.order,
                    shape: a.shape.clone(),
                    fortran: a.fortran,
                    data: (self.pay)(&a.data),
                })
            }
            other => Err(LoadError::Unrepresentable(other.type_name())),
        }
    }

    fn value(&mut self, id: NodeId, depth: usize) -> Result<Value<'r>, LoadError> {
        crate::deep(|| self.value_inner(id, depth))
    }

    fn value_inner(&mut self, id: NodeId, depth: usize) -> Result<Value<'r>, LoadError> {
        if depth > MAX_DEPTH {
            return Err(LoadError::py(
                PyExc::RecursionError,
                "maximum recursion depth exceeded",
            ));
        }
        let g = self.g;
        let cost = match g.node(id) {
            // Tensors read their array directly (not through `value`): charge it here.
            Node::StaticTensor { array } | Node::DynTensor { array, .. } => {
                1 + node_cost(g.node(*array))
            }
            n => node_cost(n),
        };
        if self.left < cost {
            return Err(LoadError::TooLarge(self.budget));
        }
        self.left -= cost;
        let list = |b: &mut Self, items: &[NodeId]| -> Result<Vec<Value<'r>>, LoadError> {
            items.iter().map(|&i| b.value(i, depth + 1)).collect()
        };
        let pairs = |b: &mut Self,
                     items: &[(NodeId, NodeId)]|
         -> Result<Vec<(Value<'r>, Value<'r>)>, LoadError> {
            items
                .iter()
                .map(|&(k, v)| Ok((b.value(k, depth + 1)?, b.value(v, depth + 1)?)))
                .collect()
        };
        Ok(match g.node(id) {
            Node::None => Value::None,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(v) => Value::Int(v.clone()),
            Node::Float(v) => Value::Float(*v),
            Node::Complex(r, i) => Value::Complex(*r, *i),
            Node::Str(s) => Value::Str(s.clone()),
            Node::Bytes(b) => Value::Bytes((self.pay)(b)),
            Node::ByteArray(b) => Value::ByteArray((self.pay)(b)),
            Node::List(items) => Value::List(list(self, items)?),
            Node::Tuple(items) => Value::Tuple(list(self, items)?),
            Node::Dict(items) => Value::Dict(pairs(self, items)?),
            Node::OrderedDict(items) => Value::OrderedDict(pairs(self, items)?),
            Node::Set(items) => Value::Set(list(self, items)?),
            Node::FrozenSet(items) => Value::FrozenSet(list(self, items)?),
            Node::NdArray(_) | Node::StaticTensor { .. } => {
                let a = match g.node(id) {
                    Node::StaticTensor { array } => *array,
                    _ => id,
                };
                Value::NdArray(self.array(a)?)
            }
            Node::NpScalar(s) => {
                let d = g
                    .dtype_of(s.dtype)
                    .ok_or(LoadError::Unrepresentable("numpy scalar without dtype"))?;
                Value::NpScalar {
                    dtype: d,
                    data: (self.pay)(&s.data),
                }
            }
            Node::Dtype(d) => Value::Dtype(*d),
            Node::DynTensor { name, array } => Value::Tuple(vec![
                self.value(*name, depth + 1)?,
                Value::NdArray(self.array(*array)?),
            ]),
            Node::Global(_) => return Err(LoadError::Unrepresentable("global")),
            Node::Pending(_) => return Err(LoadError::Unrepresentable("unbuilt object")),
        })
    }
}

fn is_dict(v: &Value) -> bool {
    matches!(v, Value::Dict(_) | Value::OrderedDict(_))
}

fn items_mut<'v, 'a>(v: &'v mut Value<'a>) -> Option<&'v mut Vec<(Value<'a>, Value<'a>)>> {
    match v {
        Value::Dict(i) | Value::OrderedDict(i) => Some(i),
        _ => None,
    }
}

fn items<'v, 'a>(v: &'v Value<'a>) -> Option<&'v Vec<(Value<'a>, Value<'a>)>> {
    match v {
        Value::Dict(i) | Value::OrderedDict(i) => Some(i),
        _ => None,
    }
}

/// Python equality for the keys a state dict uses.
fn key_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Bool(y)) | (Value::Bool(y), Value::Int(x)) => {
            x.as_i64() == Some(*y as i64)
        }
        (Value::None, Value::None) => true,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| key_eq(p, q))
        }
        _ => false,
    }
}

fn find<'a>(items: &[(Value<'a>, Value<'a>)], key: &Value) -> Option<usize> {
    items.iter().position(|(k, _)| key_eq(k, key))
}

fn str_key(s: &'static str) -> Value<'static> {
    Value::Str(Cow::Borrowed(s))
}

fn apply<'a>(mut v: Value<'a>, opts: LoadOptions) -> Result<Value<'a>, LoadError> {
    if is_dict(&v) {
        pack_loaded_dict(&mut v)?;
        let has_table = items(&v).and_then(|i| find(i, &str_key(TABLE))).is_some();
        if has_table {
            name_table_path(&mut v, opts)?;
            return Ok(v);
        }
    }
    parse_load_result(v, opts)
}

/// L-UNPACK: `_pack_loaded_dict` merges `key@@.i` slices listed in `UnpackBigParamInfor@@`.
fn pack_loaded_dict(v: &mut Value) -> Result<(), LoadError> {
    let Some(its) = items_mut(v) else {
        return Ok(());
    };
    let Some(pos) = find(its, &str_key(UNPACK)) else {
        return Ok(());
    };
    let info = its[pos].1.clone();
    let Some(info_items) = items(&info) else {
        return Err(LoadError::py(
            PyExc::AttributeError,
            "UnpackBigParamInfor@@ is not a dict",
        ));
    };
    let mut removes: Vec<Value> = Vec::new();
    for (key, spec) in info_items {
        let spec_items = items(spec)
            .ok_or_else(|| LoadError::py(PyExc::TypeError, "slice info is not a dict"))?;
        let get = |name: &'static str| {
            find(spec_items, &str_key(name))
                .map(|i| &spec_items[i].1)
                .ok_or_else(|| LoadError::py(PyExc::KeyError, name))
        };
        let slices = match get("slices")? {
            Value::List(s) | Value::Tuple(s) => s.clone(),
            _ => return Err(LoadError::py(PyExc::TypeError, "slices is not a list")),
        };
        let shape: Vec<u64> = match get("OriginShape")? {
            Value::Tuple(s) | Value::List(s) => s
                .iter()
                .map(|d| match d {
                    Value::Int(i) => i.as_i64().filter(|&x| x >= 0).map(|x| x as u64),
                    _ => None,
                })
                .collect::<Option<Vec<u64>>>()
                .ok_or_else(|| LoadError::py(PyExc::ValueError, "bad OriginShape"))?,
            _ => {
                return Err(LoadError::py(
                    PyExc::TypeError,
                    "OriginShape is not a tuple",
                ))
            }
        };
        let mut data: Vec<u8> = Vec::new();
        let mut first: Option<(crate::dtype::DType, u8)> = None;
        for s in &slices {
            let i = find(its, s).ok_or_else(|| LoadError::py(PyExc::KeyError, "slice missing"))?;
            let Value::NdArray(a) = &its[i].1 else {
                return Err(LoadError::py(PyExc::ValueError, "slice is not an ndarray"));
            };
            match first {
                None => first = Some((a.dtype, a.order)),
                Some(f) if f != (a.dtype, a.order) => {
                    return Err(LoadError::py(
                        PyExc::ValueError,
                        "slices of different dtypes",
                    ));
                }
                _ => {}
            }
            data.extend_from_slice(&a.c_order_le());
        }
        let (dtype, _) = first.ok_or_else(|| {
            LoadError::py(PyExc::ValueError, "need at least one array to concatenate")
        })?;
        let n: Option<u64> = shape.iter().try_fold(1u64, |a, &b| a.checked_mul(b));
        if n.and_then(|n| n.checked_mul(dtype.itemsize() as u64)) != Some(data.len() as u64) {
            return Err(LoadError::py(
                PyExc::ValueError,
                "cannot reshape merged slices to OriginShape",
            ));
        }
        let merged = Value::NdArray(ArrayView {
            dtype,
            order: dtype.native_order(),
            shape,
            fortran: false,
            data: Cow::Owned(data),
        });
        match find(its, key) {
            Some(i) => its[i].1 = merged,
            None => its.push((key.clone(), merged)),
        }
        removes.extend(slices);
    }
    for k in removes {
        if let Some(i) = find(its, &k) {
            its.remove(i);
        }
    }
    if let Some(i) = find(its, &str_key(UNPACK)) {
        its.remove(i);
    }
    Ok(())
}

/// L-DTYPE: `paddle.to_tensor(ndarray)`.
fn to_tensor<'a>(a: ArrayView<'a>, name: Option<String>) -> Result<Value<'a>, LoadError> {
    let dtype = DType::to_tensor(a.dtype).ok_or_else(|| {
        LoadError::py(
            PyExc::ValueError,
            format!(
                "(InvalidArgument) Input object type error or incompatible array data type ({})",
                a.dtype.name()
            ),
        )
    })?;
    Ok(Value::Tensor {
        dtype,
        array: a,
        name,
    })
}

/// L-TABLE: a dict holding `StructuredToParameterName@@`: each ndarray it names becomes a
/// Tensor with that name; nothing else is walked; the table is dropped unless kept.
fn name_table_path(v: &mut Value, opts: LoadOptions) -> Result<(), LoadError> {
    let Some(its) = items_mut(v) else {
        return Ok(());
    };
    let Some(tpos) = find(its, &str_key(TABLE)) else {
        return Ok(());
    };
    let table = match &its[tpos].1 {
        t if is_dict(t) => items(t).cloned().unwrap_or_default(),
        _ => {
            return Err(LoadError::py(
                PyExc::AttributeError,
                "the name table has no items()",
            ))
        }
    };
    for (key, name) in table {
        let i = find(its, &key)
            .ok_or_else(|| LoadError::py(PyExc::KeyError, "a key of the name table is missing"))?;
        if let Value::NdArray(_) = &its[i].1 {
            if opts.return_numpy {
                continue;
            }
            let Value::NdArray(a) = std::mem::replace(&mut its[i].1, Value::None) else {
                continue;
            };
            let name = match name {
                Value::Str(s) => s.into_owned(),
                _ => return Err(LoadError::py(PyExc::TypeError, "tensor name must be a str")),
            };
            its[i].1 = to_tensor(a, Some(name).filter(|n| !n.is_empty()))?;
        }
    }
    if !opts.keep_name_table {
        if let Some(i) = find(its, &str_key(TABLE)) {
            its.remove(i);
        }
    }
    Ok(())
}

fn is_varbase_tuple(v: &Value) -> bool {
    matches!(v, Value::Tuple(t) if t.len() == 2 && matches!(t[0], Value::Str(_)) && matches!(t[1], Value::NdArray(_)))
}

/// `_contain_x`: walks dict/OrderedDict values, lists and tuples (not sets).
fn contains_varbase(v: &Value, depth: usize) -> Result<bool, LoadError> {
    crate::deep(|| contains_varbase_inner(v, depth))
}

fn contains_varbase_inner(v: &Value, depth: usize) -> Result<bool, LoadError> {
    if depth > MAX_DEPTH {
        return Err(LoadError::py(
            PyExc::RecursionError,
            "maximum recursion depth exceeded",
        ));
    }
    if is_varbase_tuple(v) {
        return Ok(true);
    }
    match v {
        Value::Dict(i) | Value::OrderedDict(i) => {
            for (_, x) in i {
                if contains_varbase(x, depth + 1)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::List(i) | Value::Tuple(i) => {
            for x in i {
                if contains_varbase(x, depth + 1)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// `_parse_load_result`: L-TUPLE if any `(str, ndarray)` tuple is reachable, else L-NDARRAY.
fn parse_load_result<'a>(v: Value<'a>, opts: LoadOptions) -> Result<Value<'a>, LoadError> {
    let tuple_mode = contains_varbase(&v, 0)?;
    parse_every(v, tuple_mode, opts, 0)
}

fn convert<'a>(v: Value<'a>, tuple_mode: bool, opts: LoadOptions) -> Result<Value<'a>, LoadError> {
    if tuple_mode {
        let Value::Tuple(mut t) = v else { return Ok(v) };
        let arr = t.pop();
        let name = t.pop();
        match (name, arr) {
            (Some(Value::Str(n)), Some(Value::NdArray(a))) => {
                if opts.return_numpy {
                    Ok(Value::NdArray(a))
                } else {
                    // L-NAME: an empty name makes Paddle generate `eager_tmp_<N>`.
                    to_tensor(a, Some(n.into_owned()).filter(|n| !n.is_empty()))
                }
            }
            _ => Err(LoadError::py(
                PyExc::TypeError,
                "not a (name, ndarray) tuple",
            )),
        }
    } else {
        match v {
            Value::NdArray(a) if !opts.return_numpy => to_tensor(a, None),
            other => Ok(other),
        }
    }
}

/// `_parse_every_object`.
fn parse_every<'a>(
    v: Value<'a>,
    tuple_mode: bool,
    opts: LoadOptions,
    depth: usize,
) -> Result<Value<'a>, LoadError> {
    crate::deep(|| parse_every_inner(v, tuple_mode, opts, depth))
}

fn parse_every_inner<'a>(
    v: Value<'a>,
    tuple_mode: bool,
    opts: LoadOptions,
    depth: usize,
) -> Result<Value<'a>, LoadError> {
    if depth > MAX_DEPTH {
        return Err(LoadError::py(
            PyExc::RecursionError,
            "maximum recursion depth exceeded",
        ));
    }
    let cond = |x: &Value| {
        if tuple_mode {
            is_varbase_tuple(x)
        } else {
            matches!(x, Value::NdArray(_))
        }
    };
    if cond(&v) {
        return convert(v, tuple_mode, opts);
    }
    let walk = |items: Vec<Value<'a>>| -> Result<Vec<Value<'a>>, LoadError> {
        items
            .into_iter()
            .map(|x| parse_every(x, tuple_mode, opts, depth + 1))
            .collect()
    };
    Ok(match v {
        Value::Dict(i) => Value::Dict(
            i.into_iter().map(|(k, x)| Ok((k, parse_every(x, tuple_mode, opts, depth + 1)?))).collect::<Result<_, LoadError>>()?,
        ),
        Value::OrderedDict(i) => Value::OrderedDict(
            i.into_iter().map(|(k, x)| Ok((k, parse_every(x, tuple_mode, opts, depth + 1)?))).collect::<Result<_, LoadError>>()?,
        ),
        Value::List(i) => Value::List(walk(i)?),
        Value::Tuple(i) => Value::Tuple(walk(i)?),
        Value::Set(i) => Value::Set(walk(i)?),
        Value::Bytes(_) | Value::ByteArray(_) | Value::FrozenSet(_) => {
            return Err(LoadError::py(PyExc::NotImplementedError,
                format!(
                    "The iterable objects supported are tuple, list, dict, OrderedDict, string. But received <class '{}'>.",
                    v.type_name()
                ),
            ))
        }
        other => other,
    })
}
