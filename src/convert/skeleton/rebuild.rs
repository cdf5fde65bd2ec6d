//! A skeleton and its tensors back into the pickle graph ([`rebuild`]): every node id,
//! kind and tensor checked before the graph is built, dict keys hashable as Python needs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value as J;

use serde_json::Map;

use super::{flavour_from, s, VERSION};
use crate::dtype::DType;
use crate::pickle::{lookup_global, DtypeNode, Graph, NdArray, Node, NodeId, NpScalar, PyInt};

/// A tensor as the skeleton's arrays need it: numpy dtype, shape, little-endian C-order bytes.
#[derive(Clone, Debug)]
pub struct Stored<'a> {
    pub dtype: DType,
    pub shape: Vec<u64>,
    pub data: &'a [u8],
}

pub use crate::numpy::c_to_fortran;

fn swap(dtype: DType, data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    for c in v.chunks_exact_mut(dtype.swap_unit()) {
        c.reverse();
    }
    v
}

/// Rebuilds the graph of a skeleton; `tensor(name, dtype)` gives a stored tensor, checked
/// here against the skeleton's dtype, shape and size. Errors name the node or tensor.
pub fn rebuild<'a>(
    skeleton: &J,
    mut tensor: impl FnMut(&str, DType) -> Result<Stored<'a>, String>,
) -> Result<Graph<'a>, String> {
    let version = skeleton.get("pdsave_skeleton").and_then(J::as_u64);
    if version != Some(VERSION) {
        return Err(format!(
            "skeleton version {version:?}, this pdsave reads {VERSION}"
        ));
    }
    let protocol = skeleton
        .get("protocol")
        .and_then(J::as_u64)
        .filter(|p| (2..=4).contains(p))
        .ok_or("protocol must be 2, 3 or 4")? as u8;
    let flavour = match skeleton.get("flavour") {
        Some(J::Null) | None => None,
        Some(J::String(s)) => Some(flavour_from(s).ok_or("unknown numpy flavour")?),
        _ => return Err("flavour must be a string or null".into()),
    };
    let nodes = skeleton
        .get("nodes")
        .and_then(J::as_array)
        .ok_or("no node list")?;
    let count = nodes.len();
    let root = skeleton
        .get("root")
        .and_then(J::as_u64)
        .filter(|&r| (r as usize) < count)
        .ok_or("root is not a node")? as NodeId;
    let mut g = Graph::new(protocol);
    g.nodes.clear();
    g.root = root;
    g.flavour = flavour;
    g.framed = skeleton
        .get("framed")
        .and_then(J::as_bool)
        .unwrap_or(protocol >= 4);
    g.short_strings_distinct = skeleton
        .get("short_strings_distinct")
        .and_then(J::as_bool)
        .unwrap_or(false);
    if let Some(d) = skeleton.get("dialect") {
        let flag = |k: &str| d.get(k).and_then(J::as_bool).unwrap_or(false);
        g.dialect.dtype_int_flags = flag("dtype_int_flags");
        g.dialect.python2 = flag("python2");
        g.dialect.large_in_frames = flag("large_in_frames");
        g.dialect.static_tensor_fn = flag("static_tensor_fn");
        let set = |k: &str| -> std::collections::HashSet<NodeId> {
            d.get(k)
                .and_then(J::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(J::as_u64)
                        .filter(|&i| (i as usize) < count)
                        .map(|i| i as NodeId)
                        .collect()
                })
                .unwrap_or_default()
        };
        g.dialect.byte_strs = set("byte_strs");
        g.dialect.longs = set("longs");
    }
    let id = |v: &J| -> Result<NodeId, String> {
        v.as_u64()
            .filter(|&i| (i as usize) < count)
            .map(|i| i as NodeId)
            .ok_or_else(|| format!("{v} is not a node id"))
    };
    let ids = |v: Option<&J>| -> Result<Vec<NodeId>, String> {
        v.and_then(J::as_array)
            .ok_or("expected a list of node ids")?
            .iter()
            .map(id)
            .collect()
    };
    let pairs = |v: Option<&J>| -> Result<Vec<(NodeId, NodeId)>, String> {
        let flat = ids(v)?;
        if flat.len() % 2 != 0 {
            return Err("odd number of dict entries".into());
        }
        Ok(flat.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    };
    let bits = |v: Option<&J>| -> Result<f64, String> {
        let t = s(v)?;
        u64::from_str_radix(t, 16)
            .map(f64::from_bits)
            .map_err(|_| format!("bad float bits {t:?}"))
    };
    let hexv = |v: Option<&J>| -> Result<Vec<u8>, String> {
        hex::decode(s(v)?).map_err(|_| "bad hex".to_string())
    };
    // Pass 1: every node but arrays (whose dtype node may come later).
    let mut arrays: Vec<(usize, &Map<String, J>)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let at = |e: String| format!("node {i}: {e}");
        let a = n.as_array().ok_or_else(|| at("not a list".into()))?;
        let tag = a.first().and_then(J::as_str).unwrap_or("");
        let f = a.get(1);
        let node = (|| -> Result<Node<'a>, String> {
            Ok(match tag {
                "none" => Node::None,
                "bool" => Node::Bool(f.and_then(J::as_bool).ok_or("expected a bool")?),
                "int" => Node::Int(match f {
                    Some(J::Number(x)) => PyInt::Small(x.as_i64().ok_or("int out of range")?),
                    Some(J::String(t)) => {
                        PyInt::from_big(t.parse::<num_bigint::BigInt>().map_err(|_| "bad int")?)
                    }
                    _ => return Err("expected an int".into()),
                }),
                "float" => Node::Float(bits(f)?),
                "complex" => Node::Complex(bits(f)?, bits(a.get(2))?),
                "str" => Node::Str(Cow::Owned(s(f)?.to_string())),
                "wstr" => {
                    let b = hexv(f)?;
                    if !crate::pickle::decode::is_surrogatepass(&b) {
                        return Err("a wstr that is not surrogatepass UTF-8".into());
                    }
                    Node::WStr(Cow::Owned(b))
                }
                "bytes" => Node::Bytes(Cow::Owned(hexv(f)?)),
                "bytearray" => Node::ByteArray(Cow::Owned(hexv(f)?)),
                "list" => Node::List(ids(f)?),
                "tuple" => Node::Tuple(ids(f)?),
                "set" => Node::Set(ids(f)?),
                "frozenset" => Node::FrozenSet(ids(f)?),
                "dict" => Node::Dict(pairs(f)?),
                "odict" => Node::OrderedDict(pairs(f)?),
                "global" => {
                    let (m, n) = (s(f)?, s(a.get(2))?);
                    Node::Global(
                        lookup_global(m.as_bytes(), n.as_bytes())
                            .ok_or_else(|| format!("global {m}.{n} is not allowed"))?,
                    )
                }
                "dtype" => {
                    let d = DType::from_numpy_descr(s(f)?).ok_or("unknown dtype")?;
                    let order = match s(a.get(2))? {
                        "<" => b'<',
                        ">" => b'>',
                        "|" => b'|',
                        "=" => b'=',
                        _ => return Err("bad byte order".into()),
                    };
                    Node::Dtype(DtypeNode { dtype: d, order })
                }
                "npscalar" => Node::NpScalar(NpScalar {
                    flavour: flavour_from(s(f)?).ok_or("unknown numpy flavour")?,
                    dtype: id(a.get(2).unwrap_or(&J::Null))?,
                    data: Cow::Owned(hexv(a.get(3))?),
                }),
                "dyntensor" => Node::DynTensor {
                    name: id(f.unwrap_or(&J::Null))?,
                    array: id(a.get(2).unwrap_or(&J::Null))?,
                },
                "statictensor" => Node::StaticTensor {
                    array: id(f.unwrap_or(&J::Null))?,
                },
                "ndarray" => {
                    arrays.push((i, f.and_then(J::as_object).ok_or("expected an object")?));
                    Node::None
                }
                t => return Err(format!("unknown node kind {t:?}")),
            })
        })()
        .map_err(at)?;
        g.nodes.push(node);
    }
    // Pass 2: arrays, with their payloads.
    for (i, o) in arrays {
        let at = |e: String| format!("node {i}: {e}");
        let dtype_id = id(o.get("dtype").unwrap_or(&J::Null)).map_err(at)?;
        let Some(Node::Dtype(d)) = g.nodes.get(dtype_id as usize).cloned() else {
            return Err(at("the array's dtype is not a dtype node".into()));
        };
        let shape: Vec<u64> = o
            .get("shape")
            .and_then(J::as_array)
            .and_then(|v| v.iter().map(J::as_u64).collect())
            .ok_or_else(|| at("bad shape".into()))?;
        let fortran = o.get("fortran").and_then(J::as_bool).unwrap_or(false);
        let fl = flavour_from(s(o.get("flavour")).map_err(at)?)
            .ok_or_else(|| at("unknown numpy flavour".into()))?;
        let name = s(o.get("tensor")).map_err(at)?;
        let t = tensor(name, d.dtype)?;
        let bytes = shape
            .iter()
            .try_fold(1u64, |a, &b| a.checked_mul(b))
            .and_then(|n| n.checked_mul(d.dtype.itemsize() as u64))
            .ok_or_else(|| at("shape too large".into()))?;
        let part: &'a [u8] = match o.get("range") {
            Some(rg) => {
                let r: Vec<u64> = rg
                    .as_array()
                    .and_then(|v| v.iter().map(J::as_u64).collect())
                    .filter(|v: &Vec<u64>| v.len() == 2)
                    .ok_or_else(|| at("bad range".into()))?;
                let (lo, hi) = (r[0], r[1]);
                if lo > hi || hi > t.data.len() as u64 || t.dtype != d.dtype {
                    return Err(format!(
                        "tensor {name:?}: range {lo}..{hi} is not a slice of its {} bytes of {}",
                        t.data.len(),
                        t.dtype.name()
                    ));
                }
                &t.data[lo as usize..hi as usize]
            }
            None => {
                if t.shape != shape {
                    return Err(format!(
                        "tensor {name:?}: shape {:?}, the pickle needs {:?}",
                        t.shape, shape
                    ));
                }
                t.data
            }
        };
        if part.len() as u64 != bytes {
            return Err(format!(
                "tensor {name:?}: {} bytes, the pickle's array of shape {shape:?} needs {bytes}",
                part.len()
            ));
        }
        let mut data: Cow<'a, [u8]> = Cow::Borrowed(part);
        if fortran && shape.iter().filter(|&&x| x > 1).count() >= 2 {
            data = Cow::Owned(c_to_fortran(&shape, d.dtype.itemsize(), &data));
        }
        if d.order == b'>' && d.dtype.swap_unit() > 1 {
            data = Cow::Owned(swap(d.dtype, &data));
        }
        g.nodes[i] = Node::NdArray(Box::new(NdArray {
            flavour: fl,
            dtype: dtype_id,
            shape,
            fortran,
            data,
        }));
    }
    // Scalars and tensors must point at what they need.
    for (i, n) in g.nodes.iter().enumerate() {
        let ok = match n {
            Node::NpScalar(sc) => match g.nodes.get(sc.dtype as usize) {
                Some(Node::Dtype(d)) => d.dtype.itemsize() == sc.data.len(),
                _ => false,
            },
            Node::DynTensor { array, .. } | Node::StaticTensor { array } => {
                matches!(g.nodes.get(*array as usize), Some(Node::NdArray(_)))
            }
            _ => true,
        };
        if !ok {
            return Err(format!("node {i}: refers to a node of the wrong kind"));
        }
    }
    // Dict keys and set items must be hashable, as Python requires when it unpickles
    // (found by the `convert` fuzz target: a tampered skeleton keyed a dict by a dict) —
    // except a Tensor's `(name, ndarray)` form, which `paddle.save` writes for a set
    // holding a Tensor or a Tensor dict key: the graph records it, and loading raises
    // TypeError as `pickle.load` does (L-FILE).
    let mut memo: HashMap<NodeId, bool> = HashMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        let keys: Vec<NodeId> = match n {
            Node::Dict(p) | Node::OrderedDict(p) => p.iter().map(|&(k, _)| k).collect(),
            Node::Set(v) | Node::FrozenSet(v) => v.clone(),
            _ => continue,
        };
        for k in keys {
            // Kept as the decoder keeps it (a Tensor dict key, a list in a set): the
            // rebuilt file raises TypeError on load as the original does (L-FILE).
            if !hashable(&g, k, &mut memo) {
                let found = match g.node(k) {
                    Node::DynTensor { .. } => "numpy.ndarray",
                    n => n.type_name(),
                };
                g.unhashable.get_or_insert(crate::pickle::Unhashable {
                    offset: 0,
                    found,
                    container: i as NodeId,
                });
            }
        }
    }
    Ok(g)
}

/// Whether Python can hash the object: no list, dict, set, bytearray or ndarray inside
/// (tuples are hashable when their items are). Iterative, with a memo: no recursion.
fn hashable(g: &Graph, id: NodeId, memo: &mut HashMap<NodeId, bool>) -> bool {
    let mut stack = vec![id];
    let mut seen: HashSet<NodeId> = HashSet::new();
    while let Some(x) = stack.pop() {
        if let Some(&h) = memo.get(&x) {
            if !h {
                memo.insert(id, false);
                return false;
            }
            continue;
        }
        if !seen.insert(x) {
            continue;
        }
        match g.nodes.get(x as usize) {
            Some(Node::Tuple(v)) => stack.extend(v.iter().copied()),
            Some(
                Node::None
                | Node::Bool(_)
                | Node::Int(_)
                | Node::Float(_)
                | Node::Complex(..)
                | Node::Str(_)
                | Node::WStr(_)
                | Node::Bytes(_)
                | Node::FrozenSet(_)
                | Node::NpScalar(_)
                | Node::Dtype(_)
                | Node::Global(_),
            ) => {}
            _ => {
                memo.insert(id, false);
                return false;
            }
        }
    }
    memo.insert(id, true);
    true
}
