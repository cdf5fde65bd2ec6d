//! The save-side object: what a user passes to `paddle.save`, as a graph with identity
//! (the same tensor twice is one object), and its JSON form (spec/object.md), the
//! exchange format between generators, the real-Paddle oracle and third parties.

use crate::dtype::DType;
use num_bigint::BigInt;
use serde_json::{json, Value as J};

use crate::pickle::PyInt;

/// Index of an object in [`ObjGraph::objs`].
pub type ObjId = usize;

/// An ndarray the user built.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub dtype: DType,
    /// `<` (little-endian), `>` (big-endian) or `|` (one-byte types).
    pub order: u8,
    pub shape: Vec<u64>,
    /// Fortran memory order (`np.asfortranarray`).
    pub fortran: bool,
    /// Element bytes in memory order and byte order.
    pub data: Vec<u8>,
}

/// What kind of Paddle tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// `paddle.Tensor` in dynamic-graph mode (`paddle.to_tensor`, layer outputs).
    Dynamic,
    /// `EagerParamBase`: a Layer's parameter.
    Parameter,
    /// A static-graph `DenseTensor` (`Variable.get_value()`, `scope.find_var(...).get_tensor()`).
    Static,
}

impl TensorKind {
    pub fn name(self) -> &'static str {
        match self {
            TensorKind::Dynamic => "dynamic",
            TensorKind::Parameter => "parameter",
            TensorKind::Static => "static",
        }
    }
}

/// A Paddle tensor the user built.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub kind: TensorKind,
    pub dtype: DType,
    pub shape: Vec<u64>,
    /// Element bytes, C order, little-endian (bfloat16: the raw 16-bit patterns).
    pub data: Vec<u8>,
    /// The tensor's name (static tensors have none).
    pub name: Option<String>,
    pub stop_gradient: bool,
}

/// One user object.
#[derive(Clone, Debug, PartialEq)]
pub enum Obj {
    None,
    Bool(bool),
    Int(PyInt),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    List(Vec<ObjId>),
    Tuple(Vec<ObjId>),
    Dict(Vec<(ObjId, ObjId)>),
    OrderedDict(Vec<(ObjId, ObjId)>),
    Set(Vec<ObjId>),
    FrozenSet(Vec<ObjId>),
    NdArray(Array),
    NpScalar {
        dtype: DType,
        data: Vec<u8>,
    },
    Tensor(Tensor),
    /// A `paddle.nn.Layer` (saving one raises ValueError).
    Layer,
    /// A `paddle.static.Program` (saved as a program, not a pickle).
    Program,
}

/// A user object graph: `objs[root]` is what is passed to `paddle.save`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjGraph {
    pub objs: Vec<Obj>,
    pub root: ObjId,
    /// The empty or one-character str (latin-1) and empty or one-byte bytes objects that
    /// are *not* CPython's cached ones (P-ID): pickled by their own identity. Empty for
    /// objects built from JSON (`json.loads` gives the cached ones); the Python bindings
    /// fill it for strs a program made otherwise (a code constant `"b"` is not `chr(98)`).
    pub uncached: std::collections::BTreeSet<ObjId>,
}

impl ObjGraph {
    pub fn add(&mut self, o: Obj) -> ObjId {
        self.objs.push(o);
        self.objs.len() - 1
    }
    pub fn get(&self, id: ObjId) -> &Obj {
        self.objs.get(id).unwrap_or(&Obj::None)
    }
}

/// Why a JSON object description is not valid.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid object JSON at {path}: {reason}")]
pub struct ObjJsonError {
    pub path: String,
    pub reason: String,
}

fn float_json(v: f64) -> J {
    if v.is_nan() {
        J::from("nan")
    } else if v.is_infinite() {
        J::from(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        serde_json::Number::from_f64(v)
            .map(J::Number)
            .unwrap_or(J::Null)
    }
}

fn float_from(v: &J) -> Option<f64> {
    match v {
        J::String(s) if s == "nan" => Some(f64::NAN),
        J::String(s) if s == "inf" => Some(f64::INFINITY),
        J::String(s) if s == "-inf" => Some(f64::NEG_INFINITY),
        J::Number(n) => n.as_f64(),
        _ => None,
    }
}

impl ObjGraph {
    /// The JSON form: nested nodes; an object reached more than once carries `"id"` where
    /// it first appears and is `{"t":"ref","id":...}` afterwards.
    pub fn to_json(&self) -> J {
        let mut count = vec![0usize; self.objs.len()];
        self.count(self.root, &mut count, 0);
        let mut emitted = vec![false; self.objs.len()];
        self.node_json(self.root, &count, &mut emitted, 0)
    }

    fn children(&self, id: ObjId) -> Vec<ObjId> {
        match self.get(id) {
            Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) | Obj::FrozenSet(v) => v.clone(),
            Obj::Dict(p) | Obj::OrderedDict(p) => p.iter().flat_map(|&(k, v)| [k, v]).collect(),
            _ => vec![],
        }
    }

    fn count(&self, id: ObjId, count: &mut [usize], depth: usize) {
        crate::deep(|| self.count_inner(id, count, depth))
    }

    fn count_inner(&self, id: ObjId, count: &mut [usize], depth: usize) {
        if id >= count.len() || depth > 2000 {
            return;
        }
        count[id] += 1;
        if count[id] == 1 {
            for c in self.children(id) {
                self.count(c, count, depth + 1);
            }
        }
    }

    fn node_json(&self, id: ObjId, count: &[usize], emitted: &mut [bool], depth: usize) -> J {
        crate::deep(|| self.node_json_inner(id, count, emitted, depth))
    }

    fn node_json_inner(&self, id: ObjId, count: &[usize], emitted: &mut [bool], depth: usize) -> J {
        if id >= emitted.len() || depth > 2000 {
            return json!({"t": "none"});
        }
        let shared = count[id] > 1;
        if shared && emitted[id] {
            return json!({"t": "ref", "id": id.to_string()});
        }
        emitted[id] = true;
        let mut sub = |x: ObjId| self.node_json(x, count, emitted, depth + 1);
        let mut j = match self.get(id) {
            o @ plain_obj!() => plain_json(o, &mut sub),
            Obj::NdArray(a) => json!({
                "t": "ndarray", "dtype": a.dtype.name(), "shape": a.shape,
                "order": if a.fortran { "F" } else { "C" },
                "byteorder": (a.order as char).to_string(), "hex": hex::encode(&a.data),
            }),
            Obj::NpScalar { dtype, data } => {
                json!({"t": "npscalar", "dtype": dtype.name(), "hex": hex::encode(data)})
            }
            Obj::Tensor(t) => json!({
                "t": "tensor", "kind": t.kind.name(), "dtype": t.dtype.name(), "shape": t.shape,
                "hex": hex::encode(&t.data), "name": t.name, "stop_gradient": t.stop_gradient,
            }),
            Obj::Layer => json!({"t": "layer"}),
            Obj::Program => json!({"t": "program"}),
        };
        if shared {
            j["id"] = J::from(id.to_string());
        }
        j
    }

    /// Parses the JSON form.
    pub fn from_json(j: &J) -> Result<ObjGraph, ObjJsonError> {
        let mut g = ObjGraph::default();
        let mut ids = std::collections::HashMap::new();
        let root = g.parse(j, "$", &mut ids, 0)?;
        g.root = root;
        Ok(g)
    }

    fn parse(
        &mut self,
        j: &J,
        path: &str,
        ids: &mut std::collections::HashMap<String, ObjId>,
        depth: usize,
    ) -> Result<ObjId, ObjJsonError> {
        crate::deep(|| self.parse_inner(j, path, ids, depth))
    }

    fn parse_inner(
        &mut self,
        j: &J,
        path: &str,
        ids: &mut std::collections::HashMap<String, ObjId>,
        depth: usize,
    ) -> Result<ObjId, ObjJsonError> {
        let err = |reason: &str| ObjJsonError {
            path: path.to_string(),
            reason: reason.to_string(),
        };
        if depth > 2000 {
            return Err(err("nested too deeply"));
        }
        let t = j
            .get("t")
            .and_then(J::as_str)
            .ok_or_else(|| err("missing \"t\""))?;
        if t == "ref" {
            let id = j
                .get("id")
                .and_then(J::as_str)
                .ok_or_else(|| err("ref without id"))?;
            return ids
                .get(id)
                .copied()
                .ok_or_else(|| err("ref to an id not defined before"));
        }
        let items = |k: &str| {
            j.get(k)
                .and_then(J::as_array)
                .ok_or_else(|| err(&format!("missing array \"{k}\"")))
        };
        let s = |k: &str| {
            j.get(k)
                .and_then(J::as_str)
                .ok_or_else(|| err(&format!("missing string \"{k}\"")))
        };
        let hexf = |k: &str| s(k).and_then(|h| hex::decode(h).map_err(|_| err("bad hex")));
        let shape = || -> Result<Vec<u64>, ObjJsonError> {
            items("shape")?
                .iter()
                .map(|d| d.as_u64().ok_or_else(|| err("bad shape")))
                .collect()
        };
        // Reserve the slot first; the id is bound after the children, so no cycles.
        let me = self.add(Obj::None);
        let mut seq = |g: &mut Self, key: &str| -> Result<Vec<ObjId>, ObjJsonError> {
            items(key)?
                .iter()
                .enumerate()
                .map(|(i, x)| g.parse(x, &format!("{path}.{key}[{i}]"), ids, depth + 1))
                .collect()
        };
        let obj = match t {
            "none" => Obj::None,
            "bool" => Obj::Bool(
                j.get("v")
                    .and_then(J::as_bool)
                    .ok_or_else(|| err("bool v"))?,
            ),
            "int" => {
                let v = s("v")?;
                Obj::Int(PyInt::from_big(
                    v.parse::<BigInt>()
                        .map_err(|_| err("int v must be a decimal string"))?,
                ))
            }
            "float" => Obj::Float(
                j.get("v")
                    .and_then(float_from)
                    .ok_or_else(|| err("float v"))?,
            ),
            "complex" => Obj::Complex(
                j.get("re").and_then(float_from).ok_or_else(|| err("re"))?,
                j.get("im").and_then(float_from).ok_or_else(|| err("im"))?,
            ),
            "str" => Obj::Str(s("v")?.to_string()),
            "bytes" => Obj::Bytes(hexf("hex")?),
            "bytearray" => Obj::ByteArray(hexf("hex")?),
            "list" => Obj::List(seq(self, "items")?),
            "tuple" => Obj::Tuple(seq(self, "items")?),
            "set" => Obj::Set(seq(self, "items")?),
            "frozenset" => Obj::FrozenSet(seq(self, "items")?),
            "dict" | "odict" => {
                let mut pairs = Vec::new();
                for (i, p) in items("items")?.iter().enumerate() {
                    let kv = p
                        .as_array()
                        .filter(|a| a.len() == 2)
                        .ok_or_else(|| err("dict items are [key, value] pairs"))?;
                    let k = self.parse(&kv[0], &format!("{path}.items[{i}][0]"), ids, depth + 1)?;
                    let v = self.parse(&kv[1], &format!("{path}.items[{i}][1]"), ids, depth + 1)?;
                    pairs.push((k, v));
                }
                if t == "dict" {
                    Obj::Dict(pairs)
                } else {
                    Obj::OrderedDict(pairs)
                }
            }
            "ndarray" => {
                let dtype = DType::from_name(s("dtype")?).ok_or_else(|| err("unknown dtype"))?;
                let order = match j.get("byteorder").and_then(J::as_str).unwrap_or("") {
                    ">" if dtype.itemsize() > 1 => b'>',
                    _ => dtype.native_order(),
                };
                let fortran = j.get("order").and_then(J::as_str) == Some("F");
                let a = Array {
                    dtype,
                    order,
                    shape: shape()?,
                    fortran,
                    data: hexf("hex")?,
                };
                let n: Option<u64> = a.shape.iter().try_fold(1u64, |x, &y| x.checked_mul(y));
                if n.and_then(|n| n.checked_mul(dtype.itemsize() as u64))
                    != Some(a.data.len() as u64)
                {
                    return Err(err("hex length does not match shape and dtype"));
                }
                Obj::NdArray(a)
            }
            "npscalar" => {
                let dtype = DType::from_name(s("dtype")?).ok_or_else(|| err("unknown dtype"))?;
                let data = hexf("hex")?;
                if data.len() != dtype.itemsize() {
                    return Err(err("scalar hex length"));
                }
                Obj::NpScalar { dtype, data }
            }
            "tensor" => {
                let kind = match j.get("kind").and_then(J::as_str).unwrap_or("dynamic") {
                    "dynamic" => TensorKind::Dynamic,
                    "parameter" => TensorKind::Parameter,
                    "static" => TensorKind::Static,
                    _ => return Err(err("kind is dynamic, parameter or static")),
                };
                let dtype =
                    DType::from_name(s("dtype")?).ok_or_else(|| err("unknown paddle dtype"))?;
                let t = Tensor {
                    kind,
                    dtype,
                    shape: shape()?,
                    data: hexf("hex")?,
                    name: j.get("name").and_then(J::as_str).map(str::to_string),
                    stop_gradient: j
                        .get("stop_gradient")
                        .and_then(J::as_bool)
                        .unwrap_or(kind != TensorKind::Parameter),
                };
                let n: Option<u64> = t.shape.iter().try_fold(1u64, |x, &y| x.checked_mul(y));
                if n.and_then(|n| n.checked_mul(dtype.numpy_carrier().itemsize() as u64))
                    != Some(t.data.len() as u64)
                {
                    return Err(err("hex length does not match shape and dtype"));
                }
                Obj::Tensor(t)
            }
            "layer" => Obj::Layer,
            "program" => Obj::Program,
            _ => return Err(err("unknown type")),
        };
        self.objs[me] = obj;
        if let Some(id) = j.get("id").and_then(J::as_str) {
            ids.insert(id.to_string(), me);
        }
        Ok(me)
    }
}

impl ObjGraph {
    /// The load view the object would have if `paddle.load` gave it back unchanged
    /// (tensors as tensors, static tensors unnamed). With `numpy`, tensors as the ndarrays
    /// `Tensor.numpy()` gives: what `return_numpy=True` promises.
    pub fn ideal_view(&self, numpy: bool) -> J {
        json!({"view": 1, "result": self.ideal_node(self.root, numpy, 0)})
    }

    fn ideal_node(&self, id: ObjId, numpy: bool, depth: usize) -> J {
        crate::deep(|| self.ideal_node_inner(id, numpy, depth))
    }

    fn ideal_node_inner(&self, id: ObjId, numpy: bool, depth: usize) -> J {
        if depth > 2000 {
            return json!({"t": "none"});
        }
        let mut sub = |x: ObjId| self.ideal_node(x, numpy, depth + 1);
        let arr = |dtype: DType, shape: &[u64], le_c: &[u8]| json!({"t": "ndarray", "dtype": dtype.name(), "shape": shape, "sha256": crate::digest::sha256_hex(le_c)});
        match self.get(id) {
            o @ plain_obj!() => plain_json(o, &mut sub),
            Obj::NdArray(a) => {
                let le = crate::numpy::c_order_le(a.dtype, a.order, &a.shape, a.fortran, &a.data);
                arr(a.dtype, &a.shape, &le)
            }
            Obj::NpScalar { dtype, data } => {
                json!({"t": "npscalar", "dtype": dtype.name(), "hex": hex::encode(data)})
            }
            Obj::Tensor(t) => {
                if numpy {
                    return arr(t.dtype.numpy_carrier(), &t.shape, &t.data);
                }
                let name = match (&t.kind, &t.name) {
                    (TensorKind::Static, _) | (_, None) => None,
                    (_, Some(n)) if n.starts_with("generated_tensor") => None,
                    (_, Some(n)) => Some(n.clone()),
                };
                json!({"t": "tensor", "dtype": t.dtype.name(), "shape": t.shape, "name": name,
                       "sha256": crate::digest::sha256_hex(&t.data)})
            }
            Obj::Layer => json!({"t": "layer"}),
            Obj::Program => json!({"t": "program"}),
        }
    }
}

/// The pattern of the objects [`plain_json`] writes.
macro_rules! plain_obj {
    () => {
        Obj::None
            | Obj::Bool(_)
            | Obj::Int(_)
            | Obj::Float(_)
            | Obj::Complex(..)
            | Obj::Str(_)
            | Obj::Bytes(_)
            | Obj::ByteArray(_)
            | Obj::List(_)
            | Obj::Tuple(_)
            | Obj::Set(_)
            | Obj::FrozenSet(_)
            | Obj::Dict(_)
            | Obj::OrderedDict(_)
    };
}
use plain_obj;

/// The JSON node of a Python value or container (the same in the object JSON and in the
/// view); `sub` gives its items' nodes.
fn plain_json(o: &Obj, sub: &mut dyn FnMut(ObjId) -> J) -> J {
    let items = |v: &[ObjId], sub: &mut dyn FnMut(ObjId) -> J| -> Vec<J> {
        v.iter().map(|&x| sub(x)).collect()
    };
    let pairs = |p: &[(ObjId, ObjId)], sub: &mut dyn FnMut(ObjId) -> J| -> Vec<J> {
        p.iter().map(|&(k, v)| json!([sub(k), sub(v)])).collect()
    };
    match o {
        Obj::Bool(b) => json!({"t": "bool", "v": b}),
        Obj::Int(i) => json!({"t": "int", "v": i.to_string()}),
        Obj::Float(f) => json!({"t": "float", "v": float_json(*f)}),
        Obj::Complex(r, i) => json!({"t": "complex", "re": float_json(*r), "im": float_json(*i)}),
        Obj::Str(s) => json!({"t": "str", "v": s}),
        Obj::Bytes(b) => json!({"t": "bytes", "hex": hex::encode(b)}),
        Obj::ByteArray(b) => json!({"t": "bytearray", "hex": hex::encode(b)}),
        Obj::List(v) => json!({"t": "list", "items": items(v, sub)}),
        Obj::Tuple(v) => json!({"t": "tuple", "items": items(v, sub)}),
        Obj::Set(v) => json!({"t": "set", "items": items(v, sub)}),
        Obj::FrozenSet(v) => json!({"t": "frozenset", "items": items(v, sub)}),
        Obj::Dict(p) => json!({"t": "dict", "items": pairs(p, sub)}),
        Obj::OrderedDict(p) => json!({"t": "odict", "items": pairs(p, sub)}),
        _ => json!({"t": "none"}),
    }
}
