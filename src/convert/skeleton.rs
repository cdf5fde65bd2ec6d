//! A pickle graph split into its arrays and a JSON skeleton of everything else: the
//! arrays get safetensors names (state-dict keys, dotted paths below the top level), the
//! skeleton keeps every other node, with each array's payload replaced by a reference to
//! its tensor. [`rebuild`] turns a skeleton and the tensors back into the same graph, which
//! `pickle::encode` writes as the same bytes.

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value as J};

use super::{Array, SKELETON_KEY, TABLE_KEY};
use crate::numpy::Flavour;
use crate::pickle::{lookup_global, DtypeNode, Graph, NdArray, Node, NodeId, NpScalar, PyInt};

const UNPACK: &str = "UnpackBigParamInfor@@";
/// Skeleton format version.
pub const VERSION: u64 = 1;

/// A pickle's arrays, names and skeleton.
#[derive(Debug)]
pub struct Extracted<'g> {
    /// In naming order (the pickle's order); aliases (the same array reached again by
    /// another path) come as arrays of their own that share the data.
    pub arrays: Vec<Array<'g>>,
    pub skeleton: J,
    /// Tensor name → Paddle parameter name (the name table, and dynamic tensors' names).
    pub table: Vec<(String, String)>,
    /// Paths of the entries that hold no array.
    pub non_tensor: Vec<String>,
}

impl Extracted<'_> {
    /// The safetensors `__metadata__`.
    pub fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        m.insert(SKELETON_KEY.to_string(), self.skeleton.to_string());
        if !self.table.is_empty() {
            let t: Map<String, J> = self
                .table
                .iter()
                .map(|(k, v)| (k.clone(), J::String(v.clone())))
                .collect();
            m.insert(TABLE_KEY.to_string(), J::Object(t).to_string());
        }
        m
    }
}

fn items<'x>(g: &'x Graph, id: NodeId) -> Option<&'x [(NodeId, NodeId)]> {
    match g.node(id) {
        Node::Dict(p) | Node::OrderedDict(p) => Some(p),
        _ => None,
    }
}

fn str_of<'x>(g: &'x Graph, id: NodeId) -> Option<&'x str> {
    match g.node(id) {
        Node::Str(s) => Some(s),
        _ => None,
    }
}

fn find_key(g: &Graph, dict: &[(NodeId, NodeId)], key: &str) -> Option<NodeId> {
    dict.iter()
        .find(|&&(k, _)| str_of(g, k) == Some(key))
        .map(|&(_, v)| v)
}

/// A big parameter split by `paddle.save` (S-SPLIT) that `paddle.load` merges (L-UNPACK).
#[derive(Debug)]
struct Merged {
    key: String,
    shape: Vec<u64>,
    /// Slice key nodes and array nodes, in order.
    slices: Vec<(NodeId, NodeId)>,
}

/// The splits of `UnpackBigParamInfor@@` that merge cleanly (same dtype and byte order, 1-D
/// C-order slices whose sizes add up to `OriginShape`); others stay separate arrays.
fn merges(g: &Graph) -> Vec<Merged> {
    let Some(root) = items(g, g.root) else {
        return vec![];
    };
    let Some(info) = find_key(g, root, UNPACK).and_then(|i| items(g, i)) else {
        return vec![];
    };
    let mut out: Vec<Merged> = Vec::new();
    let mut used: HashSet<NodeId> = HashSet::new();
    'each: for &(k, spec) in info {
        let Some(key) = str_of(g, k) else { continue };
        let Some(spec) = items(g, spec) else { continue };
        let (Some(shape), Some(slices)) = (
            find_key(g, spec, "OriginShape"),
            find_key(g, spec, "slices"),
        ) else {
            continue;
        };
        let shape: Option<Vec<u64>> = match g.node(shape) {
            Node::Tuple(d) | Node::List(d) => d
                .iter()
                .map(|&x| match g.node(x) {
                    Node::Int(PyInt::Small(v)) if *v >= 0 => Some(*v as u64),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        let Some(shape) = shape else { continue };
        let names = match g.node(slices) {
            Node::List(v) | Node::Tuple(v) if !v.is_empty() => v,
            _ => continue,
        };
        let mut parts = Vec::new();
        let mut first: Option<DtypeNode> = None;
        let mut bytes: u64 = 0;
        for &n in names {
            let Some(name) = str_of(g, n) else {
                continue 'each;
            };
            let Some(&(sk, sv)) = root.iter().find(|&&(x, _)| str_of(g, x) == Some(name)) else {
                continue 'each;
            };
            let Node::NdArray(a) = g.node(sv) else {
                continue 'each;
            };
            let Some(d) = g.dtype_of(a.dtype) else {
                continue 'each;
            };
            if a.shape.len() != 1 || first.is_some_and(|f| f != d) || !used.insert(sv) {
                continue 'each;
            }
            first = Some(d);
            bytes += a.data.len() as u64;
            parts.push((sk, sv));
        }
        let Some(d) = first else { continue };
        let need = shape
            .iter()
            .try_fold(1u64, |a, &b| a.checked_mul(b))
            .and_then(|n| n.checked_mul(d.dtype.itemsize() as u64));
        if need != Some(bytes) {
            continue;
        }
        out.push(Merged {
            key: key.to_string(),
            shape,
            slices: parts,
        });
    }
    out
}

/// The array nodes `paddle.load` (default options) turns into Tensors: a uint16 one is then
/// a bfloat16 Tensor (L-DTYPE), any other uint16 array stays a uint16 ndarray.
fn loaded_as_tensors(g: &Graph, merged: &[Merged]) -> HashSet<NodeId> {
    let mut out = HashSet::new();
    let array_of = |id: NodeId| match g.node(id) {
        Node::NdArray(_) => Some(id),
        Node::StaticTensor { array } => Some(*array),
        _ => None,
    };
    // L-TABLE: only the ndarrays the name table names.
    if let Some(root) = items(g, g.root) {
        if let Some(t) = find_key(g, root, TABLE_KEY) {
            for &(tk, _) in items(g, t).unwrap_or(&[]) {
                let Some(k) = str_of(g, tk) else { continue };
                if let Some(m) = merged.iter().find(|m| m.key == k) {
                    out.extend(m.slices.iter().map(|&(_, a)| a));
                } else if let Some(a) = find_key(g, root, k).and_then(array_of) {
                    out.insert(a);
                }
            }
            return out;
        }
    }
    let varbase = |id: NodeId| -> Option<NodeId> {
        match g.node(id) {
            Node::DynTensor { array, .. } => array_of(*array),
            Node::Tuple(t) if t.len() == 2 && str_of(g, t[0]).is_some() => array_of(t[1]),
            _ => None,
        }
    };
    // `_parse_every_object`'s walk: dict values, lists, tuples, sets.
    let walk = |visit: &mut dyn FnMut(NodeId) -> bool| {
        let mut seen = HashSet::new();
        let mut stack = vec![g.root];
        while let Some(id) = stack.pop() {
            if !visit(id) || !seen.insert(id) {
                continue;
            }
            match g.node(id) {
                Node::Dict(p) | Node::OrderedDict(p) => stack.extend(p.iter().map(|&(_, v)| v)),
                Node::List(v) | Node::Tuple(v) | Node::Set(v) => stack.extend(v.iter().copied()),
                _ => {}
            }
        }
    };
    let mut tuple_mode = false;
    walk(&mut |id| {
        if varbase(id).is_some() {
            tuple_mode = true;
        }
        !tuple_mode
    });
    walk(&mut |id| {
        if tuple_mode {
            if let Some(a) = varbase(id) {
                out.insert(a);
                return false;
            }
        } else if let Some(a) = array_of(id) {
            out.insert(a);
            return false;
        }
        true
    });
    for m in merged {
        if !tuple_mode {
            out.extend(m.slices.iter().map(|&(_, a)| a));
        }
    }
    out
}

fn key_component(g: &Graph, k: NodeId, index: usize) -> String {
    match g.node(k) {
        Node::Str(s) => s.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Bool(b) => if *b { "True" } else { "False" }.into(),
        Node::None => "None".into(),
        _ => index.to_string(),
    }
}

fn join(path: &str, c: &str) -> String {
    if path.is_empty() {
        c.to_string()
    } else {
        format!("{path}.{c}")
    }
}

use crate::paddle::object::{hex, unhex};

fn s(v: Option<&J>) -> Result<&str, String> {
    v.and_then(J::as_str)
        .ok_or_else(|| "expected a string".to_string())
}

fn flavour_label(f: Flavour) -> &'static str {
    f.label()
}

fn flavour_from(s: &str) -> Option<Flavour> {
    match s {
        "numpy1" => Some(Flavour::Numpy1),
        "numpy2" => Some(Flavour::Numpy2),
        _ => None,
    }
}

enum Item {
    /// A node, its path and its depth below the root.
    Node(NodeId, String, usize),
    Merged(usize),
}

/// Splits a decoded pickle into named arrays and a skeleton.
pub fn extract<'g>(g: &'g Graph<'_>) -> Result<Extracted<'g>, String> {
    // Reachable nodes, kept in their id order, renumbered densely.
    let mut reach = vec![false; g.nodes.len()];
    let mut stack = vec![g.root];
    while let Some(id) = stack.pop() {
        let Some(r) = reach.get_mut(id as usize) else {
            return Err(format!("node {id} does not exist"));
        };
        if *r {
            continue;
        }
        *r = true;
        stack.extend(g.children(id));
    }
    let mut remap: HashMap<NodeId, usize> = HashMap::new();
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        let n = remap.len();
        remap.insert(i as NodeId, n);
    }
    let merged = merges(g);
    let tensors = loaded_as_tensors(g, &merged);
    // Nodes from which an array is reachable (for the non-tensor entries).
    let mut parents: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        for c in g.children(i as NodeId) {
            parents.entry(c).or_default().push(i as NodeId);
        }
    }
    let mut has_array: HashSet<NodeId> = HashSet::new();
    let mut st: Vec<NodeId> = (0..g.nodes.len() as NodeId)
        .filter(|&i| reach[i as usize] && matches!(g.node(i), Node::NdArray(_)))
        .collect();
    while let Some(id) = st.pop() {
        if has_array.insert(id) {
            st.extend(parents.get(&id).into_iter().flatten().copied());
        }
    }

    // Names, in the pickle's order.
    let slice_keys: HashMap<NodeId, usize> = merged
        .iter()
        .enumerate()
        .flat_map(|(i, m)| m.slices.iter().map(move |&(k, _)| (k, i)))
        .collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut unique = |want: String| -> String {
        let want = if want.is_empty() {
            "tensor".to_string()
        } else {
            want
        };
        if used.insert(want.clone()) {
            return want;
        }
        let mut i = 2;
        loop {
            let n = format!("{want}#{i}");
            if used.insert(n.clone()) {
                return n;
            }
            i += 1;
        }
    };
    // (array node or merged index, name), primary names first seen.
    let mut order: Vec<(Result<NodeId, usize>, String)> = Vec::new();
    let mut primary: HashMap<NodeId, String> = HashMap::new();
    let mut merged_name: Vec<Option<String>> = vec![None; merged.len()];
    let mut table: Vec<(String, String)> = Vec::new();
    let mut non_tensor: Vec<String> = Vec::new();
    // A container shared by several paths is walked again under each (as paddle.load's
    // value repeats it), except inside itself (a cycle), and within a budget.
    let mut chain: Vec<NodeId> = Vec::new();
    let mut budget: u64 = 8 * g.nodes.len() as u64 + 1_000_000;
    let mut stack = vec![Item::Node(g.root, String::new(), 0)];
    while let Some(item) = stack.pop() {
        let (id, path, depth) = match item {
            Item::Merged(i) => {
                let name = unique(merged[i].key.clone());
                merged_name[i] = Some(name.clone());
                order.push((Err(i), name));
                continue;
            }
            Item::Node(id, path, depth) => (id, path, depth),
        };
        chain.truncate(depth);
        if chain.contains(&id) {
            continue;
        }
        if budget == 0 {
            return Err("shared containers repeat arrays past pdsave's budget".into());
        }
        budget -= 1;
        if !has_array.contains(&id) {
            non_tensor.push(if path.is_empty() {
                "(the whole object)".into()
            } else {
                path
            });
            continue;
        }
        let mut array = |a: NodeId, path: String| {
            let name = unique(path);
            primary.entry(a).or_insert_with(|| name.clone());
            order.push((Ok(a), name.clone()));
            name
        };
        match g.node(id) {
            Node::NdArray(_) => {
                array(id, path);
            }
            Node::StaticTensor { array: a } => {
                array(*a, path);
            }
            Node::DynTensor { name, array: a } => {
                let n = array(*a, path);
                // An empty name makes Paddle generate one (L-NAME): none in the table.
                if let Some(pn) = str_of(g, *name).filter(|s| !s.is_empty()) {
                    table.push((n, pn.to_string()));
                }
            }
            // A `(name, array)` tuple: paddle.load's Tensor (L-TUPLE) at the tuple's place.
            Node::Tuple(v)
                if v.len() == 2
                    && str_of(g, v[0]).is_some()
                    && matches!(g.node(v[1]), Node::NdArray(_) | Node::StaticTensor { .. }) =>
            {
                let a = match g.node(v[1]) {
                    Node::StaticTensor { array } => *array,
                    _ => v[1],
                };
                let n = array(a, path);
                if let Some(pn) = str_of(g, v[0]).filter(|s| !s.is_empty()) {
                    table.push((n, pn.to_string()));
                }
            }
            n @ (Node::Dict(_) | Node::OrderedDict(_)) => {
                chain.push(id);
                let p = match n {
                    Node::Dict(p) | Node::OrderedDict(p) => p,
                    _ => unreachable!(),
                };
                let mut pushed_merged = HashSet::new();
                let mut todo = Vec::new();
                for (i, &(k, v)) in p.iter().enumerate() {
                    if id == g.root {
                        if let Some(&mi) = slice_keys.get(&k) {
                            if pushed_merged.insert(mi) {
                                todo.push(Item::Merged(mi));
                            }
                            continue;
                        }
                    }
                    todo.push(Item::Node(
                        v,
                        join(&path, &key_component(g, k, i)),
                        depth + 1,
                    ));
                }
                stack.extend(todo.into_iter().rev());
            }
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                chain.push(id);
                let todo: Vec<Item> = v
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| Item::Node(x, join(&path, &i.to_string()), depth + 1))
                    .collect();
                stack.extend(todo.into_iter().rev());
            }
            _ => {}
        }
    }
    // Arrays reached only through dict keys (not in a file Paddle writes): named by node.
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        let id = i as NodeId;
        if matches!(g.node(id), Node::NdArray(_))
            && !primary.contains_key(&id)
            && !merged
                .iter()
                .any(|m| m.slices.iter().any(|&(_, a)| a == id))
        {
            let name = unique(format!("array.{i}"));
            primary.insert(id, name.clone());
            order.push((Ok(id), name));
        }
    }

    // The name table (top-level keys whose value is an array).
    if let Some(root) = items(g, g.root) {
        if let Some(t) = find_key(g, root, TABLE_KEY).and_then(|t| items(g, t)) {
            for &(tk, tv) in t {
                let (Some(k), Some(pn)) = (str_of(g, tk), str_of(g, tv)) else {
                    continue;
                };
                let tensor = merged
                    .iter()
                    .position(|m| m.key == k)
                    .and_then(|i| merged_name[i].clone())
                    .or_else(|| {
                        let v = find_key(g, root, k)?;
                        let a = match g.node(v) {
                            Node::StaticTensor { array } => *array,
                            _ => v,
                        };
                        primary.get(&a).cloned()
                    });
                if let Some(t) = tensor {
                    table.push((t, pn.to_string()));
                }
            }
        }
    }

    // Arrays.
    let elem_of = |id: NodeId, d: DType| {
        if d == DType::UInt16 && tensors.contains(&id) {
            DType::BFloat16
        } else {
            d
        }
    };
    let mut arrays = Vec::with_capacity(order.len());
    let mut slice_ref: HashMap<NodeId, (String, u64, u64)> = HashMap::new();
    for (what, name) in &order {
        match *what {
            Ok(id) => {
                let Node::NdArray(a) = g.node(id) else {
                    continue;
                };
                let d = g
                    .dtype_of(a.dtype)
                    .ok_or_else(|| format!("array node {id} has no dtype"))?;
                arrays.push(Array {
                    name: name.clone(),
                    elem: elem_of(id, d.dtype),
                    shape: a.shape.clone(),
                    data: Cow::Borrowed(&a.data[..]),
                    order: d.order,
                    fortran: a.fortran,
                });
            }
            Err(mi) => {
                let m = &merged[mi];
                let mut data = Vec::new();
                let mut elem = DType::UInt8;
                for &(_, s) in &m.slices {
                    let Node::NdArray(a) = g.node(s) else {
                        continue;
                    };
                    let d = g.dtype_of(a.dtype).ok_or("slice without dtype")?;
                    elem = elem_of(s, d.dtype);
                    let lo = data.len() as u64;
                    data.extend_from_slice(&crate::numpy::to_little_endian(
                        d.dtype, d.order, &a.data,
                    ));
                    slice_ref.insert(s, (name.clone(), lo, data.len() as u64));
                }
                arrays.push(Array {
                    name: name.clone(),
                    elem,
                    shape: m.shape.clone(),
                    data: Cow::Owned(data),
                    order: elem.numpy_carrier().native_order(),
                    fortran: false,
                });
            }
        }
    }

    // Skeleton.
    let r = |id: &NodeId| -> Result<J, String> {
        remap
            .get(id)
            .map(|&n| json!(n))
            .ok_or_else(|| format!("node {id} is not reachable"))
    };
    let rs = |v: &[NodeId]| -> Result<J, String> { v.iter().map(r).collect() };
    let rp = |v: &[(NodeId, NodeId)]| -> Result<J, String> {
        let mut out = Vec::with_capacity(v.len() * 2);
        for (k, x) in v {
            out.push(r(k)?);
            out.push(r(x)?);
        }
        Ok(J::Array(out))
    };
    let mut nodes = Vec::with_capacity(remap.len());
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        let id = i as NodeId;
        let n = match g.node(id) {
            Node::None => json!(["none"]),
            Node::Bool(b) => json!(["bool", b]),
            Node::Int(PyInt::Small(v)) => json!(["int", v]),
            Node::Int(PyInt::Big(b)) => json!(["int", b.to_string()]),
            Node::Float(f) => json!(["float", format!("{:016x}", f.to_bits())]),
            Node::Complex(a, b) => json!([
                "complex",
                format!("{:016x}", a.to_bits()),
                format!("{:016x}", b.to_bits())
            ]),
            Node::Str(s) => json!(["str", s]),
            Node::Bytes(b) => json!(["bytes", hex(b)]),
            Node::ByteArray(b) => json!(["bytearray", hex(b)]),
            Node::List(v) => json!(["list", rs(v)?]),
            Node::Tuple(v) => json!(["tuple", rs(v)?]),
            Node::Set(v) => json!(["set", rs(v)?]),
            Node::FrozenSet(v) => json!(["frozenset", rs(v)?]),
            Node::Dict(p) => json!(["dict", rp(p)?]),
            Node::OrderedDict(p) => json!(["odict", rp(p)?]),
            Node::Global(gl) => json!(["global", gl.module, gl.name]),
            Node::Dtype(d) => json!([
                "dtype",
                d.dtype
                    .numpy_descr()
                    .ok_or("a numpy dtype object of a non-numpy dtype")?,
                (d.order as char).to_string()
            ]),
            Node::NdArray(a) => {
                let mut o = json!({
                    "flavour": flavour_label(a.flavour),
                    "dtype": r(&a.dtype)?,
                    "shape": a.shape,
                    "fortran": a.fortran,
                });
                if let Some((t, lo, hi)) = slice_ref.get(&id) {
                    o["tensor"] = json!(t);
                    o["range"] = json!([lo, hi]);
                } else {
                    let t = primary
                        .get(&id)
                        .ok_or_else(|| format!("array node {id} has no tensor"))?;
                    o["tensor"] = json!(t);
                }
                json!(["ndarray", o])
            }
            Node::NpScalar(s) => json!([
                "npscalar",
                flavour_label(s.flavour),
                r(&s.dtype)?,
                hex(&s.data)
            ]),
            Node::DynTensor { name, array } => json!(["dyntensor", r(name)?, r(array)?]),
            Node::StaticTensor { array } => json!(["statictensor", r(array)?]),
            Node::Pending(_) => return Err("the pickle holds an unbuilt object".into()),
        };
        nodes.push(n);
    }
    let root = r(&g.root)?;
    let aliases: Vec<&String> = order
        .iter()
        .filter_map(|(w, n)| match w {
            Ok(id) if primary.get(id) != Some(n) => Some(n),
            _ => None,
        })
        .collect();
    let skeleton = json!({
        "pdsave_skeleton": VERSION,
        "protocol": crate::pickle::EncodeOptions::like(g).protocol, // as reencode writes it (2-4)
        "flavour": g.flavour.map(flavour_label),
        "framed": g.framed,
        "short_strings_distinct": g.short_strings_distinct,
        "root": root,
        "aliases": aliases,
        "nodes": nodes,
    });
    Ok(Extracted {
        arrays,
        skeleton,
        table,
        non_tensor,
    })
}

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
        unhex(s(v)?).ok_or_else(|| "bad hex".to_string())
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
        g.nodes[i] = Node::NdArray(NdArray {
            flavour: fl,
            dtype: dtype_id,
            shape,
            fortran,
            data,
        });
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
    // (found by the `convert` fuzz target: a tampered skeleton keyed a dict by a dict).
    let mut memo: HashMap<NodeId, bool> = HashMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        let keys: Vec<NodeId> = match n {
            Node::Dict(p) | Node::OrderedDict(p) => p.iter().map(|&(k, _)| k).collect(),
            Node::Set(v) | Node::FrozenSet(v) => v.clone(),
            _ => continue,
        };
        for k in keys {
            if !hashable(&g, k, &mut memo) {
                return Err(format!(
                    "node {i}: a key or set item (node {k}) is not hashable"
                ));
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
