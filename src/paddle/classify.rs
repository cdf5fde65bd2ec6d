//! The classifier of non-unique decodings: which A- cases of `spec/rules.md` apply to a
//! save-side object or to a pickle file, where (a path inside the object), and the
//! workaround (W-) that restores the object.
//!
//! On a file the dynamic-tensor form `tuple(((name, array),))` and a user's plain
//! `(name, array)` tuple are different opcodes, and so are Paddle's `eval` static tensor
//! and a plain ndarray: the classifier sees exactly what `paddle.load` will confuse.

use super::plan::{
    array_dtype, iter_error, ndarray_of, varbase_of, Fate, Form, Mode, Plan, Region,
};
use super::walk::{self, Flow, Policy, Revisit, Step};
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

/// The sites of a file the classifier looks at: where `_parse_every_object` meets them.
#[derive(Default)]
struct Sites {
    dyn_tensors: Vec<String>,
    user_tuples: Vec<String>,
    statics: Vec<String>,
    /// (path, dtype) of plain ndarrays reachable by load's walk.
    arrays: Vec<(String, DType)>,
    /// (path, dtype) of arrays inside user tuples and static tensors.
    tuple_arrays: Vec<(String, DType)>,
    static_arrays: Vec<(String, DType)>,
    iter_errors: Vec<(String, &'static str)>,
}

/// to_tensor's dtype rules on arrays load turns into Tensors. `from_tensor`: the array is
/// how Paddle saved a Tensor (a bfloat16 Tensor is saved as uint16), so uint16 is right.
fn dtype_findings(
    out: &mut Vec<Finding>,
    arrays: &[(String, DType)],
    what: &str,
    from_tensor: bool,
) {
    for (p, d) in arrays {
        match d {
            DType::UInt16 if !from_tensor => out.push(f(
                Rule::ABf16,
                p,
                format!("uint16 {what} becomes a bfloat16 Tensor"),
                Some(Workaround::Numpy),
            )),
            _ if d.to_tensor().is_none() => out.push(f(
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
    classify_plan(g, &Plan::new(g, Form::Pickle))
}

/// [`classify_graph`] with the graph's load plan already made.
pub fn classify_plan(g: &Graph, plan: &Plan) -> Vec<Finding> {
    // A file no release loads (an unhashable set item or dict key, L-FILE; the development
    // branch's static tensors, V-NEXT): that is the one finding, nothing else is decoded.
    if g.unhashable.is_some() || g.dialect.static_tensor_fn {
        if let Err(e) = plan.outcome(super::outcome::LoadOptions::default()) {
            let (rule, why) = if g.unhashable.is_some() {
                (
                    Rule::LFile,
                    "paddle.save wrote it (a set holding a Tensor, or a Tensor dict key), but \
                     no release can load it back; pdsave reads it (inspect, convert)",
                )
            } else {
                (
                    Rule::VNext,
                    "Paddle's development branch wrote it; no release can load it yet",
                )
            };
            return vec![f(rule, "obj", format!("{e}: {why}"), None)];
        }
    }
    let mut out = Vec::new();
    let dtype_of = |id: NodeId| ndarray_of(g, id).and_then(|a| array_dtype(g, a));
    // L-TABLE: a state dict written by paddle.save's state-dict path.
    if plan.mode == Mode::Table {
        if let Node::Dict(items) | Node::OrderedDict(items) = g.node(g.root) {
            let mut arrays = Vec::new();
            for (i, &(k, v)) in items.iter().enumerate() {
                if plan.table_names.contains_key(&i) {
                    if let Some(d) = dtype_of(v) {
                        arrays.push((format!("obj[{}]", walk::key_text(g, k)), d));
                    }
                }
            }
            dtype_findings(&mut out, &arrays, "state-dict entry", true);
        }
        return out;
    }
    // `_parse_every_object`'s walk, as the plan says it goes.
    let mut s = Sites::default();
    let policy = Policy {
        revisit: Revisit::Always,
        max_depth: walk::MAX_DEPTH,
        budget: Some(walk::value_budget(g)),
    };
    let stop = walk::walk(g, g.root, policy, |w, at| {
        if matches!(at.step, Step::Key { .. }) {
            return Flow::Skip;
        }
        let path = || walk::python_path(g, w.path());
        match g.node(at.id) {
            Node::DynTensor { .. } => s.dyn_tensors.push(path()),
            Node::StaticTensor { array } => {
                s.statics.push(path());
                s.static_arrays
                    .extend(array_dtype(g, *array).map(|d| (path(), d)));
            }
            Node::NdArray(_) => s.arrays.extend(dtype_of(at.id).map(|d| (path(), d))),
            Node::Tuple(t) if varbase_of(g, at.id).is_some() => {
                s.user_tuples.push(path());
                s.tuple_arrays.extend(dtype_of(t[1]).map(|d| (path(), d)));
            }
            n => {
                if let Some(t) = iter_error(n) {
                    s.iter_errors.push((path(), t));
                }
            }
        }
        match plan.fate(g, at.id, Region::Walked) {
            Fate::Walk => Flow::Descend,
            _ => Flow::Skip,
        }
    });
    match stop {
        Err(walk::Stop::Budget { .. }) => out.push(f(
            Rule::ALarge,
            "obj",
            "shared references expand past pdsave's budget: paddle.load rebuilds every reference (pdsave view refuses it); findings below are those met first",
            None,
        )),
        Err(walk::Stop::TooDeep { .. }) => out.push(f(
            Rule::ADeep,
            "obj",
            "nesting deeper than Python's recursion limit: paddle.load raises RecursionError",
            None,
        )),
        Ok(()) => {}
    }
    for (p, t) in &s.iter_errors {
        out.push(f(
            Rule::AIter,
            p,
            format!("a {t} makes paddle.load raise NotImplementedError"),
            Some(Workaround::Pickle),
        ));
    }
    let tuple_mode = matches!(plan.mode, Mode::Parse { tuple_mode: true });
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
    } else {
        let (rule, msg) = if s.statics.is_empty() {
            (
                Rule::ANdarray,
                "an ndarray saved without Tensors comes back as a Tensor",
            )
        } else {
            (
                Rule::AFaq2,
                "an ndarray saved with a static Tensor comes back as a Tensor",
            )
        };
        for (p, _) in &s.arrays {
            out.push(f(rule, p, msg, Some(Workaround::Numpy)));
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
                        |&(k, _)| matches!(g.node(k), Node::Str(s) if s == crate::names::UNPACK_INFO),
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
