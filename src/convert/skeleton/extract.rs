//! [`extract`]: a pickle's arrays, their names and the skeleton of the rest. Which arrays
//! `paddle.load` merges (L-UNPACK) and makes Tensors (a uint16 one is then bfloat16, kept as
//! BF16), and the parameter names, come from the load plan.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{json, Value as J};

use super::{Extracted, NamedArray, VERSION};
use crate::dtype::DType;
use crate::paddle::plan::{key_eq, ndarray_of, varbase_of, Form, Plan, RootValue};
use crate::paddle::walk::{self, Flow, Policy, Revisit, Step};
use crate::pickle::{Graph, Node, NodeId, PyInt};

/// A merged big parameter the skeleton can rebuild: its slices are 1-D arrays of one
/// dtype (so each is a byte range of the merged tensor), used by no other merge.
struct Merged<'p> {
    /// Index in the plan's merges.
    m: usize,
    key: String,
    shape: Vec<u64>,
    /// (slice key node, array node), in order.
    slices: Vec<(NodeId, NodeId)>,
    data: &'p [u8],
}

fn str_of<'x>(g: &'x Graph, id: NodeId) -> Option<&'x str> {
    match g.node(id) {
        Node::Str(s) => Some(s),
        _ => None,
    }
}

fn flavour_label(f: crate::numpy::Flavour) -> &'static str {
    f.label()
}

/// The plan's merges the skeleton rebuilds as one tensor each (others stay separate arrays).
fn merges<'p>(g: &Graph, plan: &'p Plan) -> Vec<Merged<'p>> {
    let Some(root) = (match g.node(g.root) {
        Node::Dict(p) | Node::OrderedDict(p) => Some(p),
        _ => None,
    }) else {
        return vec![];
    };
    let mut used: HashSet<NodeId> = HashSet::new();
    let mut out = Vec::new();
    'each: for (m, mg) in plan.merges.iter().enumerate() {
        let Some(key) = str_of(g, mg.key) else {
            continue;
        };
        let mut slices = Vec::new();
        for &(i, a) in &mg.slices {
            let Node::NdArray(arr) = g.node(a) else {
                continue 'each;
            };
            if arr.shape.len() != 1 || !used.insert(a) {
                continue 'each;
            }
            slices.push((root[i].0, a));
        }
        out.push(Merged {
            m,
            key: key.to_string(),
            shape: mg.shape.clone(),
            slices,
            data: &mg.data,
        });
    }
    out
}

/// The array nodes `paddle.load` (default options) turns into Tensors.
fn tensor_arrays(g: &Graph, plan: &Plan) -> HashSet<NodeId> {
    let mut out = HashSet::new();
    let mut fates = crate::paddle::plan::Fates::new(plan);
    let _ = walk::walk(g, g.root, Policy::once(), |_, at| {
        match fates.enter(g, at) {
            crate::paddle::plan::Fate::Tensor { array, .. } => {
                out.insert(array);
                Flow::Skip
            }
            _ => Flow::Descend,
        }
    });
    out
}

/// Splits a decoded pickle into named arrays and a skeleton.
pub fn extract<'g>(g: &'g Graph<'_>) -> Result<Extracted<'g>, String> {
    let plan = Plan::new(g, Form::Pickle);
    // Reachable nodes, kept in their id order, renumbered densely.
    let reach = g.reachable();
    let mut remap: HashMap<NodeId, usize> = HashMap::new();
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        let n = remap.len();
        remap.insert(i as NodeId, n);
    }
    let merged = merges(g, &plan);
    let tensors = tensor_arrays(g, &plan);
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
    let mut pushed_merged: HashSet<usize> = HashSet::new();
    // A container shared by several paths is walked again under each (as paddle.load's
    // value repeats it), except inside itself (a cycle), and within a budget.
    let policy = Policy {
        revisit: Revisit::Acyclic,
        max_depth: walk::MAX_DEPTH,
        budget: Some(walk::value_budget(g)),
    };
    let r = walk::walk(g, g.root, policy, |w, at| {
        if matches!(at.step, Step::Key { .. }) {
            return Flow::Skip;
        }
        // The root dict's slices of a merged parameter: the merged tensor, at the first.
        if let (1, Step::Value { key, .. }) = (at.depth, at.step) {
            if let Some(&mi) = slice_keys.get(&key) {
                if pushed_merged.insert(mi) {
                    let name = unique(merged[mi].key.clone());
                    merged_name[mi] = Some(name.clone());
                    order.push((Err(mi), name));
                }
                return Flow::Skip;
            }
        }
        let path = walk::dotted_path(g, w.path());
        if !has_array.contains(&at.id) {
            non_tensor.push(if path.is_empty() {
                "(the whole object)".into()
            } else {
                path
            });
            return Flow::Skip;
        }
        let mut array = |a: NodeId, path: String| {
            let name = unique(path);
            primary.entry(a).or_insert_with(|| name.clone());
            order.push((Ok(a), name.clone()));
            name
        };
        if let Some((name, a)) = varbase_of(g, at.id) {
            // A `(name, array)` tuple: paddle.load's Tensor (L-TUPLE) at the tuple's place.
            let n = array(a, path);
            // An empty name makes Paddle generate one (L-NAME): none in the table.
            if let Some(pn) = str_of(g, name).filter(|s| !s.is_empty()) {
                table.push((n, pn.to_string()));
            }
            return Flow::Skip;
        }
        match g.node(at.id) {
            Node::NdArray(_) | Node::StaticTensor { .. } => {
                if let Some(a) = ndarray_of(g, at.id) {
                    array(a, path);
                }
                Flow::Skip
            }
            Node::DynTensor { .. } => Flow::Skip,
            Node::Dict(_)
            | Node::OrderedDict(_)
            | Node::List(_)
            | Node::Tuple(_)
            | Node::Set(_)
            | Node::FrozenSet(_) => Flow::Descend,
            _ => Flow::Skip,
        }
    });
    match r {
        Err(walk::Stop::Budget { .. }) => {
            return Err("shared containers repeat arrays past pdsave's budget".into())
        }
        Err(walk::Stop::TooDeep { depth }) => {
            return Err(format!("nesting deeper than {} levels", depth - 1))
        }
        Ok(()) => {}
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

    // The name table, in its order, as the load plan matched it (L-TABLE).
    if let (Some(t), Some(items)) = (plan.table_item, plan.root_items.as_ref()) {
        let table_dict = match items[t].value {
            RootValue::Node(v) => match g.node(v) {
                Node::Dict(p) | Node::OrderedDict(p) => Some(p),
                _ => None,
            },
            RootValue::Merged(_) => None,
        };
        for &(tk, tv) in table_dict.into_iter().flatten() {
            let Some(pn) = str_of(g, tv) else { continue };
            let merged_tensor = merged
                .iter()
                .position(|m| key_eq(g, plan.merges[m.m].key, tk))
                .and_then(|i| merged_name[i].clone());
            let tensor = merged_tensor.or_else(|| {
                let (Node::Dict(root) | Node::OrderedDict(root)) = g.node(g.root) else {
                    return None;
                };
                let raw = (0..root.len())
                    .find(|&i| plan.table_names.get(&i) == Some(&tv) && key_eq(g, root[i].0, tk))?;
                primary.get(&ndarray_of(g, root[raw].1)?).cloned()
            });
            if let Some(t) = tensor {
                table.push((t, pn.to_string()));
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
                arrays.push(NamedArray {
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
                let dtype = plan.merges[m.m].dtype;
                let elem = match plan.merged_fate(m.m) {
                    Some(_) if dtype == DType::UInt16 => DType::BFloat16,
                    _ => dtype,
                };
                let mut lo = 0u64;
                for &(_, s) in &m.slices {
                    let Node::NdArray(a) = g.node(s) else {
                        continue;
                    };
                    let hi = lo + a.data.len() as u64;
                    slice_ref.insert(s, (name.clone(), lo, hi));
                    lo = hi;
                }
                arrays.push(NamedArray {
                    name: name.clone(),
                    elem,
                    shape: m.shape.clone(),
                    data: Cow::Owned(m.data.to_vec()),
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
            Node::WStr(b) => json!(["wstr", hex::encode(b)]),
            Node::Bytes(b) => json!(["bytes", hex::encode(b)]),
            Node::ByteArray(b) => json!(["bytearray", hex::encode(b)]),
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
                hex::encode(&s.data)
            ]),
            Node::DynTensor { name, array } => json!(["dyntensor", r(name)?, r(array)?]),
            Node::StaticTensor { array } => json!(["statictensor", r(array)?]),
            Node::Pending(_) => return Err("the pickle holds an unbuilt object".into()),
            Node::Object { class, .. } => {
                return Err(format!(
                    "the pickle holds a {}.{} object (distributed-checkpoint metadata: convert the checkpoint directory)",
                    class.module, class.name
                ))
            }
        };
        nodes.push(n);
    }
    let root = r(&g.root)?;
    // The writer's spelling (P-HIST), by skeleton node, so converting back re-encodes it.
    let d = &g.dialect;
    let ids = |set: &HashSet<NodeId>| -> J {
        let mut v: Vec<J> = set.iter().filter_map(|id| r(id).ok()).collect();
        v.sort_by_key(|j| j.as_u64());
        J::Array(v)
    };
    let dialect = json!({
        "dtype_int_flags": d.dtype_int_flags,
        "python2": d.python2,
        "large_in_frames": d.large_in_frames,
        "static_tensor_fn": d.static_tensor_fn,
        "byte_strs": ids(&d.byte_strs),
        "longs": ids(&d.longs),
    });
    let aliases: Vec<&String> = order
        .iter()
        .filter_map(|(w, n)| match w {
            Ok(id) if primary.get(id) != Some(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut skeleton = json!({
        "pdsave_skeleton": VERSION,
        "protocol": crate::pickle::EncodeOptions::like(g).protocol, // as reencode writes it (2-4)
        "flavour": g.flavour.map(flavour_label),
        "framed": g.framed,
        "short_strings_distinct": g.short_strings_distinct,
        "root": root,
        "aliases": aliases,
        "nodes": nodes,
    });
    // Only when the writer was not CPython 3.7+ with numpy 1.19+ (the skeletons of every
    // other pickle stay as they were).
    if d.dtype_int_flags || d.python2 || d.large_in_frames || d.static_tensor_fn {
        skeleton["dialect"] = dialect;
    }
    Ok(Extracted {
        arrays,
        skeleton,
        table,
        non_tensor,
    })
}
