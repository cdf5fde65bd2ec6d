//! The classifier of non-unique decodings: which A- cases of `spec/rules.md` apply to a
//! save-side object or to a pickle file, where (a path inside the object), and the
//! workaround (W-) that restores the object.
//!
//! On a file the dynamic-tensor form `tuple(((name, array),))` and a user's plain
//! `(name, array)` tuple are different opcodes, and so are Paddle's `eval` static tensor
//! and a plain ndarray: the classifier sees exactly what `paddle.load` will confuse.

use crate::dtype::DType;
use crate::rules::{PyExc, Rule, Workaround};
use serde::Serialize;

use super::object::{Obj, ObjGraph, ObjId, TensorKind};
use super::save::{is_state_dict, save, SaveOptions, Saved};
use crate::pickle::{Graph, Node, NodeId};

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id in `spec/rules.md` (A-…).
    pub rule: Rule,
    /// Where, as a Python-like path from the saved object (`obj['w'][0]`).
    pub path: String,
    pub message: String,
    /// Workaround rule id (W-…), if one restores the object.
    pub workaround: Option<Workaround>,
    /// Visible in the load view (a decoding that differs from the object), or only an
    /// information loss the view does not show (stop_gradient, Parameter).
    pub visible: bool,
}

fn f(
    rule: Rule,
    path: &str,
    message: impl Into<String>,
    workaround: Option<Workaround>,
) -> Finding {
    Finding {
        rule,
        path: path.to_string(),
        message: message.into(),
        workaround,
        visible: true,
    }
}

#[derive(Default)]
struct Scan {
    dyn_tensors: Vec<String>,
    user_tuples: Vec<String>,
    statics: Vec<String>,
    /// (path, dtype, big-endian) of plain ndarrays reachable by load's walk.
    arrays: Vec<(String, DType, bool)>,
    /// (path, dtype, big-endian) of arrays inside user tuples and static tensors.
    tuple_arrays: Vec<(String, DType, bool)>,
    static_arrays: Vec<(String, DType, bool)>,
    iter_errors: Vec<(String, &'static str)>,
    too_deep: bool,
    /// Nodes the walk may still visit (shared references are walked each time, as load
    /// walks them): 0 means the walk stopped early.
    left: u64,
}

/// Longest path kept in a finding; deeper paths end in `…` (bounds memory on deep nesting).
const MAX_PATH: usize = 256;

/// `path` followed by one step, or `path…` once `path` is already long.
fn step(path: &str, seg: std::fmt::Arguments) -> String {
    if path.len() >= MAX_PATH {
        if path.ends_with('…') {
            return path.to_string();
        }
        return format!("{path}…");
    }
    format!("{path}[{seg}]")
}

fn key_text(g: &Graph, k: NodeId) -> String {
    match g.node(k) {
        Node::Str(s) if s.len() > MAX_PATH => {
            let cut = (0..=MAX_PATH)
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(0);
            format!("{:?}…", &s[..cut])
        }
        Node::Str(s) => format!("{s:?}"),
        Node::Int(i) => i.to_string(),
        other => format!("<{}>", other.type_name()),
    }
}

fn arr_info(g: &Graph, id: NodeId) -> Option<(DType, bool)> {
    match g.node(id) {
        Node::NdArray(a) => g
            .dtype_of(a.dtype)
            .map(|d| (d.dtype, d.order == b'>' && d.dtype.itemsize() > 1)),
        Node::StaticTensor { array } => arr_info(g, *array),
        _ => None,
    }
}

fn is_user_tuple(g: &Graph, id: NodeId) -> bool {
    matches!(g.node(id), Node::Tuple(t) if t.len() == 2
        && matches!(g.node(t[0]), Node::Str(_))
        && matches!(g.node(t[1]), Node::NdArray(_) | Node::StaticTensor { .. }))
}

impl Scan {
    /// Walks as `_contain_x` and `_parse_every_object` do.
    fn walk(&mut self, g: &Graph, id: NodeId, path: &str, depth: usize) {
        crate::deep(|| self.walk_inner(g, id, path, depth))
    }

    fn walk_inner(&mut self, g: &Graph, id: NodeId, path: &str, depth: usize) {
        // Python stops at the first RecursionError; a cycle or a blown budget stops here.
        if self.too_deep || self.left == 0 {
            return;
        }
        self.left -= 1;
        if depth > super::load::MAX_DEPTH {
            self.too_deep = true;
            return;
        }
        match g.node(id) {
            Node::DynTensor { .. } => self.dyn_tensors.push(path.to_string()),
            Node::StaticTensor { array } => {
                self.statics.push(path.to_string());
                if let Some((d, be)) = arr_info(g, *array) {
                    self.static_arrays.push((path.to_string(), d, be));
                }
            }
            Node::NdArray(_) => {
                if let Some((d, be)) = arr_info(g, id) {
                    self.arrays.push((path.to_string(), d, be));
                }
            }
            _ if is_user_tuple(g, id) => {
                self.user_tuples.push(path.to_string());
                if let Node::Tuple(t) = g.node(id) {
                    if let Some((d, be)) = arr_info(g, t[1]) {
                        self.tuple_arrays.push((path.to_string(), d, be));
                    }
                }
            }
            Node::Dict(items) | Node::OrderedDict(items) => {
                for &(k, v) in items {
                    let p = step(path, format_args!("{}", key_text(g, k)));
                    self.walk(g, v, &p, depth + 1);
                }
            }
            Node::List(items) | Node::Tuple(items) | Node::Set(items) => {
                for (i, &v) in items.iter().enumerate() {
                    self.walk(g, v, &step(path, format_args!("{i}")), depth + 1);
                }
            }
            Node::Bytes(_) => self.iter_errors.push((path.to_string(), "bytes")),
            Node::ByteArray(_) => self.iter_errors.push((path.to_string(), "bytearray")),
            Node::FrozenSet(_) => self.iter_errors.push((path.to_string(), "frozenset")),
            _ => {}
        }
    }
}

/// to_tensor's dtype rules on arrays load turns into Tensors. `from_tensor`: the array is
/// how Paddle saved a Tensor (a bfloat16 Tensor is saved as uint16), so uint16 is right.
fn dtype_findings(
    out: &mut Vec<Finding>,
    arrays: &[(String, DType, bool)],
    what: &str,
    from_tensor: bool,
) {
    for (p, d, _) in arrays {
        match d {
            DType::UInt16 if !from_tensor => out.push(f(
                Rule::ABf16,
                p,
                format!("uint16 {what} becomes a bfloat16 Tensor"),
                Some(Workaround::Numpy),
            )),
            DType::UInt32 | DType::UInt64 => out.push(f(
                Rule::AUint,
                p,
                format!("{} {what} makes paddle.load raise ValueError", d.name()),
                Some(Workaround::Numpy),
            )),
            _ => {}
        }
    }
}

/// The non-unique cases in a decoded pickle, as `paddle.load` (dynamic mode) will meet them.
pub fn classify_graph(g: &Graph) -> Vec<Finding> {
    let mut out = Vec::new();
    // L-TABLE: a state dict written by paddle.save's state-dict path.
    if let Node::Dict(items) | Node::OrderedDict(items) = g.node(g.root) {
        let table = items.iter().find(
            |(k, _)| matches!(g.node(*k), Node::Str(s) if s == "StructuredToParameterName@@"),
        );
        if let Some(&(_, t)) = table {
            // Keys of the table, compared as Python values (their repr): one pass each.
            let named: std::collections::HashSet<String> = match g.node(t) {
                Node::Dict(tv) | Node::OrderedDict(tv) => {
                    tv.iter().map(|&(k, _)| key_text(g, k)).collect()
                }
                _ => Default::default(),
            };
            let mut arrays = Vec::new();
            for &(k, v) in items {
                if named.contains(&key_text(g, k)) {
                    if let Some((d, be)) = arr_info(g, v) {
                        arrays.push((format!("obj[{}]", key_text(g, k)), d, be));
                    }
                }
            }
            dtype_findings(&mut out, &arrays, "state-dict entry", true);
            return out;
        }
    }
    // The budget `load_graph` has (without its data term): past it, load refuses.
    let mut s = Scan {
        left: 8 * g.nodes.len() as u64 + 1_000_000,
        ..Scan::default()
    };
    s.walk(g, g.root, "obj", 0);
    if s.left == 0 {
        out.push(f(
            Rule::ALarge,
            "obj",
            "shared references expand past pdsave's budget: paddle.load rebuilds every reference (pdsave view refuses it); findings below are those met first",
            None,
        ));
    }
    if s.too_deep {
        out.push(f(
            Rule::ADeep,
            "obj",
            "nesting deeper than Python's recursion limit: paddle.load raises RecursionError",
            None,
        ));
    }
    for (p, t) in &s.iter_errors {
        out.push(f(
            Rule::AIter,
            p,
            format!("a {t} makes paddle.load raise NotImplementedError"),
            Some(Workaround::Pickle),
        ));
    }
    let tuple_mode = !s.dyn_tensors.is_empty() || !s.user_tuples.is_empty();
    if !s.user_tuples.is_empty() {
        let (rule, why) = if !s.dyn_tensors.is_empty() {
            (Rule::AFaq1, "saved with dynamic Tensors")
        } else if !s.statics.is_empty() {
            (Rule::AFaq2, "saved with a static Tensor")
        } else {
            (Rule::AFaq3, "saved with only ndarrays")
        };
        for p in &s.user_tuples {
            out.push(f(
                rule,
                p,
                format!("a (str, ndarray) tuple {why} becomes a Tensor"),
                Some(Workaround::NoTuple),
            ));
        }
    }
    if tuple_mode {
        // The file holds (str, ndarray) tuples (dynamic Tensors are saved as such), so
        // L-TUPLE applies and a static Tensor's ndarray stays an ndarray.
        for p in &s.statics {
            out.push(f(
                Rule::AFaq2,
                p,
                "a static Tensor saved with dynamic Tensors or (str, ndarray) tuples comes back as an ndarray",
                Some(Workaround::Numpy),
            ));
        }
    } else if !s.statics.is_empty() {
        for (p, _, _) in &s.arrays {
            out.push(f(
                Rule::AFaq2,
                p,
                "an ndarray saved with a static Tensor comes back as a Tensor",
                Some(Workaround::Numpy),
            ));
        }
    } else {
        for (p, _, _) in &s.arrays {
            out.push(f(
                Rule::ANdarray,
                p,
                "an ndarray saved without Tensors comes back as a Tensor",
                Some(Workaround::Numpy),
            ));
        }
    }
    // What load turns into Tensors meets to_tensor's dtype rules.
    if tuple_mode {
        dtype_findings(
            &mut out,
            &s.tuple_arrays,
            "array of a (str, ndarray) tuple",
            false,
        );
    } else {
        dtype_findings(&mut out, &s.arrays, "ndarray", false);
        dtype_findings(&mut out, &s.static_arrays, "static Tensor", true);
    }
    out
}

fn obj_path(g: &ObjGraph, root: ObjId, visit: &mut dyn FnMut(&str, &Obj)) {
    fn go(g: &ObjGraph, id: ObjId, path: &str, depth: usize, visit: &mut dyn FnMut(&str, &Obj)) {
        if depth > 1000 {
            return;
        }
        let o = g.get(id);
        visit(path, o);
        match o {
            Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) | Obj::FrozenSet(v) => {
                for (i, &x) in v.iter().enumerate() {
                    go(g, x, &format!("{path}[{i}]"), depth + 1, visit);
                }
            }
            Obj::Dict(p) | Obj::OrderedDict(p) => {
                for &(k, v) in p {
                    let kt = match g.get(k) {
                        Obj::Str(s) => format!("{s:?}"),
                        Obj::Int(i) => i.to_string(),
                        other => format!("<{:?}>", std::mem::discriminant(other)),
                    };
                    go(g, v, &format!("{path}[{kt}]"), depth + 1, visit);
                }
            }
            _ => {}
        }
    }
    go(g, root, "obj", 0, visit);
}

/// The non-unique cases for a save-side object saved with these options: what
/// `paddle.save` refuses, what it loses, and then what `paddle.load` will confuse.
pub fn classify_object(x: &ObjGraph, opts: &SaveOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let state = is_state_dict(x).unwrap_or(false);
    if state && matches!(x.get(x.root), Obj::OrderedDict(_)) {
        out.push(f(
            Rule::AOdict,
            "obj",
            "an OrderedDict state dict is saved and loaded as a dict",
            Some(Workaround::Odict),
        ));
    }
    obj_path(x, x.root, &mut |p, o| {
        if let Obj::Tensor(t) = o {
            let lossless = t.dtype == crate::dtype::DType::Float64 && t.shape == [0];
            if t.kind == TensorKind::Static && t.data.is_empty() && !state && !lossless {
                out.push(f(
                    Rule::AStaticEmpty,
                    p,
                    "an empty static Tensor is saved as array([], dtype=float64): its dtype and shape are lost",
                    Some(Workaround::Convert),
                ));
            }
            if t.kind == TensorKind::Parameter || !t.stop_gradient {
                out.push(Finding {
                    rule: Rule::AGrad,
                    path: p.to_string(),
                    message: "stop_gradient and Parameter-ness are not saved; the loaded Tensor has stop_gradient=True".into(),
                    workaround: Some(Workaround::Dict),
                    visible: false,
                });
            }
        }
    });
    match save(x, opts) {
        Err(e) => {
            let (rule, w) = match (e.rule, e.class) {
                (_, PyExc::NotImplementedError) => (Rule::ASaveIter, Some(Workaround::Convert)),
                (Rule::SLayer, _) => (Rule::ASaveLayer, Some(Workaround::StateDict)),
                _ => (Rule::ASave, None),
            };
            out.push(f(
                rule,
                "obj",
                format!("paddle.save raises {}: {}", e.class, e.message),
                w,
            ));
        }
        Ok(Saved::Program) => {}
        Ok(Saved::Pickle(g)) => {
            if state && opts.protocol < 4 {
                if let Node::Dict(items) = g.node(g.root) {
                    let split = items.iter().any(
                        |&(k, _)| matches!(g.node(k), Node::Str(s) if s == "UnpackBigParamInfor@@"),
                    );
                    if split {
                        out.push(f(Rule::ASplit, "obj", "a big parameter split for protocol 2/3 is merged back at the end of the dict: key order changes", Some(Workaround::Proto4)));
                    }
                }
            }
            out.extend(classify_graph(&g));
        }
    }
    out
}

/// L-FILE on a combined `.pdiparams` of `records` unnamed records read as one file.
pub fn combined_params_finding(records: usize) -> Finding {
    Finding {
        rule: Rule::LFile,
        path: "file".into(),
        message: format!(
            "a combined .pdiparams of {records} unnamed records: names and order come from the program; paddle.load(file) gives only the first record"
        ),
        workaround: Some(Workaround::Prefix),
        visible: true,
    }
}
