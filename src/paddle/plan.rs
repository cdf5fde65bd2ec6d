//! The load plan: `paddle.load`'s rules computed once on a decoded graph (Paddle 3.3.1's
//! `paddle/framework/io.py`, `load` on a file): the big-parameter merge (L-UNPACK), the
//! name-table path (L-TABLE), the tuple-or-ndarray decision (L-TUPLE / L-NDARRAY), the
//! dtype each new Tensor gets (L-DTYPE), the errors Paddle raises (L-ITER, L-DEPTH) and the
//! limits pdsave sets (P-LIMIT). Every consumer reads the plan: the loaded value
//! ([`super::load::Loaded`]), `check`'s classifier, `inspect`, `convert`; none re-derives
//! a rule.
//!
//! A node's fate depends on where the load's walk meets it ([`Region`]): in a walked
//! region `_parse_every_object` converts what it matches and walks containers; dict keys
//! and whatever no walk reaches stay as `pickle.load` made them.

use std::collections::HashMap;

use super::outcome::{LoadError, LoadOptions};
use super::walk::{self, Flow, Policy, Step, Stop};
use crate::dtype::DType;
use crate::names::{NAME_TABLE, UNPACK_INFO, UNPACK_SHAPE, UNPACK_SLICES};
use crate::pickle::{Graph, Node, NodeId};
use crate::rules::PyExc;

/// How `paddle.load` got the object the graph holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `pickle.load` of a file: the L- rules apply.
    Pickle,
    /// A dict of ndarrays made from a prefix or a directory (L-PATH): nothing is converted.
    AsIs,
    /// A tensor stream file (L-FILE): the root array is a Tensor of this dtype.
    Tensor(DType),
    /// A ProgramDesc without ops (L-FILE): `Program.parse_from_string` rebuilds it.
    Program,
}

/// What `paddle.load` does with the root object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// L-TABLE: the root dict's ndarrays the name table names become Tensors; nothing else.
    Table,
    /// `_parse_load_result`: L-TUPLE (`tuple_mode`: every `(str, ndarray)` tuple becomes a
    /// Tensor) or L-NDARRAY (every ndarray becomes a Tensor).
    Parse { tuple_mode: bool },
    /// Nothing is converted ([`Form::AsIs`]).
    AsIs,
    /// The root is a Tensor ([`Form::Tensor`]).
    Tensor(DType),
    /// The root is a `paddle.static.Program` ([`Form::Program`]).
    Program,
}

/// Where the load's walk meets a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// The root object.
    Root,
    /// Reached by `_parse_every_object`: converted if it matches, walked if a container.
    Walked,
    /// The value of the root dict's item `index` under L-TABLE.
    TableItem(usize),
    /// As `pickle.load` made it (dict keys, what no walk reaches, inside a Tensor).
    AsIs,
}

/// What the load makes of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The object `pickle.load` made, its parts as their regions say.
    Keep,
    /// A container `_parse_every_object` walks: its items (dict values) are walked.
    Walk,
    /// The root dict under L-TABLE: its item values are [`Region::TableItem`]s.
    Table,
    /// A `paddle.Tensor` (with `return_numpy`: the array itself): the ndarray node `array`,
    /// the name node (a str) that names it, and its dtype — `None` when `paddle.to_tensor`
    /// raises ValueError on the array's dtype (L-DTYPE).
    Tensor {
        array: NodeId,
        name: Option<NodeId>,
        dtype: Option<DType>,
    },
}

/// A big parameter `paddle.load` merges back (L-UNPACK).
#[derive(Clone, Debug)]
pub struct Merge {
    /// The key node in `UnpackBigParamInfor@@` (the merged entry's key).
    pub key: NodeId,
    pub shape: Vec<u64>,
    pub dtype: DType,
    /// The slices: (root item index, ndarray node), in order.
    pub slices: Vec<(usize, NodeId)>,
    /// The merged elements, C order, little-endian.
    pub data: Vec<u8>,
}

/// The value of one item of the root dict as loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootValue {
    Node(NodeId),
    /// [`Plan::merges`]`[i]`.
    Merged(usize),
}

/// One item of the root dict as `paddle.load` returns it.
#[derive(Clone, Copy, Debug)]
pub struct RootItem {
    pub key: NodeId,
    pub value: RootValue,
    /// The item's index in the graph's root dict (a merged item: the one it replaces, or
    /// `None` when appended).
    pub raw: Option<usize>,
}

/// When a planned exception is raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Always,
    /// Only where Tensors are made (not with `return_numpy`).
    Tensors,
}

/// `paddle.load`'s rules for one graph.
#[derive(Clone, Debug)]
pub struct Plan {
    pub mode: Mode,
    /// The root dict's items after L-UNPACK (all of them: the name table is dropped by the
    /// loaded value unless `keep_name_table`), when the root is a dict the rules touch.
    pub root_items: Option<Vec<RootItem>>,
    /// The root item index of the name table (L-TABLE).
    pub table_item: Option<usize>,
    /// L-TABLE: graph root item index → the name node the table gives its ndarray.
    pub table_names: HashMap<usize, NodeId>,
    /// L-TABLE: merge index → the name node the table gives the merged parameter.
    pub merged_names: HashMap<usize, NodeId>,
    pub merges: Vec<Merge>,
    /// Why the whole-value walk stopped (P-LIMIT, L-DEPTH), if it did.
    pub stop: Option<Stop>,
    raised: Vec<(When, LoadError)>,
    /// The pickle calls `paddle.framework.io_utils._reconstruct_dense_tensor_data`, which
    /// no release has yet: `pickle.load` raises AttributeError (V-NEXT).
    next_form: bool,
}

fn py(class: PyExc, message: impl Into<String>) -> LoadError {
    LoadError::Python {
        class,
        message: message.into(),
    }
}

fn items<'x>(g: &'x Graph, id: NodeId) -> Option<&'x [(NodeId, NodeId)]> {
    match g.node(id) {
        Node::Dict(p) | Node::OrderedDict(p) => Some(p),
        _ => None,
    }
}

/// Python equality for the keys a state dict uses.
pub fn key_eq(g: &Graph, a: NodeId, b: NodeId) -> bool {
    match (g.node(a), g.node(b)) {
        (Node::Str(x), Node::Str(y)) => x == y,
        (Node::Int(x), Node::Int(y)) => x == y,
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::Int(x), Node::Bool(y)) | (Node::Bool(y), Node::Int(x)) => {
            x.as_i64() == Some(*y as i64)
        }
        (Node::None, Node::None) => true,
        (Node::Float(x), Node::Float(y)) => x == y,
        (Node::Tuple(x), Node::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| key_eq(g, *p, *q))
        }
        _ => false,
    }
}

fn is_str(g: &Graph, id: NodeId, s: &str) -> bool {
    matches!(g.node(id), Node::Str(x) if x == s)
}

/// The ndarray node of what loads as an ndarray (`isinstance(x, np.ndarray)`): an array or
/// a static tensor (`eval` gives the array).
pub fn ndarray_of(g: &Graph, id: NodeId) -> Option<NodeId> {
    match g.node(id) {
        Node::NdArray(_) => Some(id),
        Node::StaticTensor { array } => Some(*array),
        _ => None,
    }
}

/// `_transformed_from_varbase`: a `(str, ndarray)` tuple (a dynamic tensor's form, or a
/// user's tuple of that shape): (name node, array node).
pub fn varbase_of(g: &Graph, id: NodeId) -> Option<(NodeId, NodeId)> {
    match g.node(id) {
        Node::DynTensor { name, array } => Some((*name, ndarray_of(g, *array)?)),
        Node::Tuple(t) if t.len() == 2 && matches!(g.node(t[0]), Node::Str(_)) => {
            Some((t[0], ndarray_of(g, t[1])?))
        }
        _ => None,
    }
}

/// The numpy dtype of an ndarray node.
pub fn array_dtype(g: &Graph, array: NodeId) -> Option<DType> {
    match g.node(array) {
        Node::NdArray(a) => g.dtype_of(a.dtype).map(|d| d.dtype),
        _ => None,
    }
}

impl Plan {
    /// The plan for a graph `paddle.load` got in `form`.
    pub fn new(g: &Graph, form: Form) -> Plan {
        let mut p = Plan {
            mode: match form {
                Form::Pickle => Mode::Parse { tuple_mode: false },
                Form::AsIs => Mode::AsIs,
                Form::Tensor(d) => Mode::Tensor(d),
                Form::Program => Mode::Program,
            },
            root_items: None,
            table_item: None,
            table_names: HashMap::new(),
            merged_names: HashMap::new(),
            merges: vec![],
            stop: None,
            raised: vec![],
            next_form: form == Form::Pickle && g.dialect.static_tensor_fn,
        };
        // `pickle.load` raises TypeError on an unhashable set item or dict key (L-FILE):
        // what `paddle.save` writes for a set holding a Tensor, or a Tensor dict key.
        if let (Form::Pickle, Some(crate::pickle::Unhashable { offset, found, .. })) =
            (form, g.unhashable)
        {
            let found = if found == "tuple" {
                "numpy.ndarray"
            } else {
                found
            };
            p.raised.push((
                When::Always,
                py(
                    PyExc::TypeError,
                    format!("unhashable type: '{found}' (a set item or dict key at byte {offset})"),
                ),
            ));
            return p;
        }
        if let Err(e) = p.check_value(g) {
            p.raised.push((When::Always, e));
            return p;
        }
        if form == Form::Pickle {
            if let Err(e) = p.pickle_rules(g) {
                p.raised.push((When::Always, e));
            }
        }
        p
    }

    /// The exception `paddle.load` raises with these options (or pdsave's refusal), if any.
    pub fn outcome(&self, opts: LoadOptions) -> Result<(), LoadError> {
        if self.next_form && !opts.paddle.has_reconstruct_dense_tensor() {
            return Err(py(
                PyExc::AttributeError,
                format!(
                    "Can't get attribute '_reconstruct_dense_tensor_data' on <module \
                     'paddle.framework.io_utils'>: Paddle's development branch writes static \
                     tensors so, and Paddle {} has no such function",
                    opts.paddle
                ),
            ));
        }
        match self
            .raised
            .iter()
            .find(|(w, _)| *w == When::Always || !opts.return_numpy)
        {
            Some((_, e)) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The whole value, as Python holds it, within pdsave's limits: every node the loaded
    /// object reaches is one the load view can show (P-LIMIT, L-DEPTH).
    fn check_value(&mut self, g: &Graph) -> Result<(), LoadError> {
        let mut bad: Option<LoadError> = None;
        let r = walk::walk(g, g.root, Policy::value(g), |_, at| {
            let n = g.node(at.id);
            let what = match n {
                Node::Global(_) => Some("global"),
                Node::Pending(_) => Some("unbuilt object"),
                Node::Object { .. } => Some("distributed-checkpoint metadata object"),
                Node::NdArray(a) if g.dtype_of(a.dtype).is_none() => Some("ndarray without dtype"),
                Node::NpScalar(s) if g.dtype_of(s.dtype).is_none() => {
                    Some("numpy scalar without dtype")
                }
                Node::StaticTensor { array } | Node::DynTensor { array, .. }
                    if !matches!(g.node(*array), Node::NdArray(_)) =>
                {
                    Some(g.node(*array).type_name())
                }
                _ => None,
            };
            if let Some(w) = what {
                bad.get_or_insert(LoadError::Unrepresentable(w));
                return Flow::Skip;
            }
            // A numpy dtype object's parts are not shown (the view refuses the object).
            match n {
                Node::NdArray(_) | Node::NpScalar(_) | Node::Dtype(_) => Flow::Skip,
                _ if bad.is_some() => Flow::Skip,
                _ => Flow::Descend,
            }
        });
        self.stop = r.err();
        match r {
            Err(Stop::Budget { budget }) => return Err(LoadError::TooLarge(budget)),
            Err(Stop::TooDeep { .. }) => {
                return Err(py(
                    PyExc::RecursionError,
                    "maximum recursion depth exceeded",
                ))
            }
            Ok(()) => {}
        }
        bad.map_or(Ok(()), Err)
    }

    fn pickle_rules(&mut self, g: &Graph) -> Result<(), LoadError> {
        if let Some(root) = items(g, g.root) {
            let mut root_items: Vec<RootItem> = root
                .iter()
                .enumerate()
                .map(|(i, &(k, v))| RootItem {
                    key: k,
                    value: RootValue::Node(v),
                    raw: Some(i),
                })
                .collect();
            if let Some(info) = root.iter().position(|&(k, _)| is_str(g, k, UNPACK_INFO)) {
                self.pack_loaded_dict(g, root, info, &mut root_items)?;
                self.root_items = Some(root_items.clone());
            }
            let table = root_items
                .iter()
                .position(|it| is_str(g, it.key, NAME_TABLE));
            if let Some(t) = table {
                self.mode = Mode::Table;
                self.table_item = Some(t);
                self.root_items = Some(root_items.clone());
                return self.name_table(g, &root_items, t);
            }
            if self.root_items.is_some() {
                return self.parse_load_result(g, Some(&root_items));
            }
        }
        self.parse_load_result(g, None)
    }

    /// L-UNPACK: `_pack_loaded_dict` merges `key@@.i` slices listed in
    /// `UnpackBigParamInfor@@`: the merged entry replaces its key's item, or is appended
    /// at the end; slices and the info are removed.
    fn pack_loaded_dict(
        &mut self,
        g: &Graph,
        root: &[(NodeId, NodeId)],
        info: usize,
        out: &mut Vec<RootItem>,
    ) -> Result<(), LoadError> {
        let info_items = items(g, root[info].1)
            .ok_or_else(|| py(PyExc::AttributeError, "UnpackBigParamInfor@@ is not a dict"))?;
        let find = |k: NodeId| root.iter().position(|&(x, _)| key_eq(g, x, k));
        let mut removes: Vec<NodeId> = Vec::new();
        for &(key, spec) in info_items {
            let spec =
                items(g, spec).ok_or_else(|| py(PyExc::TypeError, "slice info is not a dict"))?;
            let get = |name: &'static str| {
                spec.iter()
                    .find(|&&(k, _)| is_str(g, k, name))
                    .map(|&(_, v)| v)
                    .ok_or_else(|| py(PyExc::KeyError, name))
            };
            let slices = match g.node(get(UNPACK_SLICES)?) {
                Node::List(s) | Node::Tuple(s) => s.clone(),
                _ => return Err(py(PyExc::TypeError, "slices is not a list")),
            };
            let shape: Vec<u64> = match g.node(get(UNPACK_SHAPE)?) {
                Node::Tuple(s) | Node::List(s) => s
                    .iter()
                    .map(|&d| match g.node(d) {
                        Node::Int(i) => i.as_i64().filter(|&x| x >= 0).map(|x| x as u64),
                        _ => None,
                    })
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(|| py(PyExc::ValueError, "bad OriginShape"))?,
                _ => return Err(py(PyExc::TypeError, "OriginShape is not a tuple")),
            };
            let mut data: Vec<u8> = Vec::new();
            let mut first: Option<(DType, u8)> = None;
            let mut parts = Vec::new();
            for &s in &slices {
                let i = find(s).ok_or_else(|| py(PyExc::KeyError, "slice missing"))?;
                let Node::NdArray(a) = g.node(root[i].1) else {
                    return Err(py(PyExc::ValueError, "slice is not an ndarray"));
                };
                let d = g
                    .dtype_of(a.dtype)
                    .ok_or(LoadError::Unrepresentable("ndarray without dtype"))?;
                match first {
                    None => first = Some((d.dtype, d.order)),
                    Some(f) if f != (d.dtype, d.order) => {
                        return Err(py(PyExc::ValueError, "slices of different dtypes"));
                    }
                    _ => {}
                }
                data.extend_from_slice(&crate::numpy::c_order_le(
                    d.dtype, d.order, &a.shape, a.fortran, &a.data,
                ));
                parts.push((i, root[i].1));
            }
            let (dtype, _) = first
                .ok_or_else(|| py(PyExc::ValueError, "need at least one array to concatenate"))?;
            let n: Option<u64> = shape.iter().try_fold(1u64, |a, &b| a.checked_mul(b));
            if n.and_then(|n| n.checked_mul(dtype.itemsize() as u64)) != Some(data.len() as u64) {
                return Err(py(
                    PyExc::ValueError,
                    "cannot reshape merged slices to OriginShape",
                ));
            }
            let m = self.merges.len();
            self.merges.push(Merge {
                key,
                shape,
                dtype,
                slices: parts,
                data,
            });
            match out.iter().position(|it| key_eq(g, it.key, key)) {
                Some(i) => out[i].value = RootValue::Merged(m),
                None => out.push(RootItem {
                    key,
                    value: RootValue::Merged(m),
                    raw: None,
                }),
            }
            removes.extend(slices);
        }
        for k in removes {
            if let Some(i) = out.iter().position(|it| key_eq(g, it.key, k)) {
                out.remove(i);
            }
        }
        if let Some(i) = out.iter().position(|it| is_str(g, it.key, UNPACK_INFO)) {
            out.remove(i);
        }
        Ok(())
    }

    /// L-TABLE: each key of the table whose value is an ndarray becomes a Tensor named from
    /// the table; nothing else is walked.
    fn name_table(
        &mut self,
        g: &Graph,
        root_items: &[RootItem],
        t: usize,
    ) -> Result<(), LoadError> {
        let no_items = || py(PyExc::AttributeError, "the name table has no items()");
        let RootValue::Node(table) = root_items[t].value else {
            return Err(no_items());
        };
        let table = items(g, table).ok_or_else(no_items)?;
        for &(key, name) in table {
            let i = root_items
                .iter()
                .position(|it| key_eq(g, it.key, key))
                .ok_or_else(|| py(PyExc::KeyError, "a key of the name table is missing"))?;
            let dtype = match root_items[i].value {
                RootValue::Node(v) => match ndarray_of(g, v) {
                    Some(a) => array_dtype(g, a),
                    None => continue,
                },
                RootValue::Merged(m) => Some(self.merges[m].dtype),
            };
            // Only where Tensors are made (not with return_numpy): the name, the dtype.
            if !matches!(g.node(name), Node::Str(_)) {
                self.raise(
                    When::Tensors,
                    py(PyExc::TypeError, "tensor name must be a str"),
                );
            } else if dtype.and_then(DType::to_tensor).is_none() {
                self.raise(When::Tensors, to_tensor_error(dtype));
            }
            match (root_items[i].value, root_items[i].raw) {
                (RootValue::Merged(m), _) => {
                    self.merged_names.insert(m, name);
                }
                (RootValue::Node(_), Some(raw)) => {
                    self.table_names.insert(raw, name);
                }
                (RootValue::Node(_), None) => {}
            }
        }
        Ok(())
    }

    /// Records an exception: the first of each kind counts ([`Plan::outcome`] takes the
    /// first that applies, in the order the load meets them).
    fn raise(&mut self, when: When, e: LoadError) {
        if !self.raised.iter().any(|(w, _)| *w == when) {
            self.raised.push((when, e));
        }
    }

    /// `_parse_load_result`: L-TUPLE if any `(str, ndarray)` tuple is reachable through
    /// dict values, lists and tuples (`_contain_x`), else L-NDARRAY; then
    /// `_parse_every_object` walks and converts.
    fn parse_load_result(
        &mut self,
        g: &Graph,
        root_items: Option<&[RootItem]>,
    ) -> Result<(), LoadError> {
        // `_contain_x`: dict values, lists, tuples (not sets); stops at the first.
        let mut tuple_mode = false;
        let mut contain = |id: NodeId| {
            let _ = walk::walk(g, id, Policy::value(g), |_, at| {
                if tuple_mode || matches!(at.step, Step::Key { .. }) {
                    return Flow::Skip;
                }
                if varbase_of(g, at.id).is_some() {
                    tuple_mode = true;
                    return Flow::Skip;
                }
                match g.node(at.id) {
                    Node::Dict(_) | Node::OrderedDict(_) | Node::List(_) | Node::Tuple(_) => {
                        Flow::Descend
                    }
                    _ => Flow::Skip,
                }
            });
        };
        match root_items {
            Some(its) => its.iter().for_each(|it| {
                if let RootValue::Node(v) = it.value {
                    contain(v)
                }
            }),
            None => contain(g.root),
        }
        self.mode = Mode::Parse { tuple_mode };
        // `_parse_every_object`: the exceptions in walk order.
        let mut found: Vec<(When, LoadError)> = Vec::new();
        let always = |f: &[(When, LoadError)]| f.iter().any(|(w, _)| *w == When::Always);
        let visit = |this: &Plan, found: &mut Vec<(When, LoadError)>, id: NodeId| {
            let _ = walk::walk(g, id, Policy::value(g), |_, at| {
                if always(found) || matches!(at.step, Step::Key { .. }) {
                    return Flow::Skip;
                }
                match this.fate(g, at.id, Region::Walked) {
                    Fate::Tensor {
                        dtype: None, array, ..
                    } => {
                        found.push((When::Tensors, to_tensor_error(array_dtype(g, array))));
                        Flow::Skip
                    }
                    Fate::Walk => Flow::Descend,
                    _ => {
                        if let Some(t) = iter_error(g.node(at.id)) {
                            found.push((
                                When::Always,
                                py(PyExc::NotImplementedError, format!(
                                    "The iterable objects supported are tuple, list, dict, OrderedDict, string. But received <class '{t}'>."
                                )),
                            ));
                        }
                        Flow::Skip
                    }
                }
            });
        };
        match root_items {
            Some(its) => {
                for it in its {
                    match it.value {
                        RootValue::Node(v) => visit(self, &mut found, v),
                        RootValue::Merged(m) if !tuple_mode && !always(&found) => {
                            let d = self.merges[m].dtype;
                            if d.to_tensor().is_none() {
                                found.push((When::Tensors, to_tensor_error(Some(d))));
                            }
                        }
                        RootValue::Merged(_) => {}
                    }
                }
            }
            None => visit(self, &mut found, g.root),
        }
        for (w, e) in found {
            self.raise(w, e);
        }
        Ok(())
    }

    /// The region of the root object.
    pub fn root_region(&self) -> Region {
        Region::Root
    }

    /// What the load makes of node `id` met in `region` (the graph's own root dict in
    /// table mode: its items are [`Region::TableItem`]s by their index in the graph).
    pub fn fate(&self, g: &Graph, id: NodeId, region: Region) -> Fate {
        let region = match region {
            Region::Root => match self.mode {
                Mode::Table => return Fate::Table,
                Mode::Parse { .. } => Region::Walked,
                Mode::AsIs | Mode::Program => return Fate::Keep,
                Mode::Tensor(d) => {
                    return Fate::Tensor {
                        array: id,
                        name: None,
                        dtype: Some(d),
                    }
                }
            },
            r => r,
        };
        match region {
            Region::Walked => {
                let Mode::Parse { tuple_mode } = self.mode else {
                    return Fate::Keep;
                };
                let hit = if tuple_mode {
                    varbase_of(g, id).map(|(n, a)| (a, Some(n)))
                } else {
                    ndarray_of(g, id).map(|a| (a, None))
                };
                if let Some((array, name)) = hit {
                    let dtype = array_dtype(g, array).and_then(DType::to_tensor);
                    return Fate::Tensor { array, name, dtype };
                }
                match g.node(id) {
                    Node::Dict(_)
                    | Node::OrderedDict(_)
                    | Node::List(_)
                    | Node::Tuple(_)
                    | Node::Set(_)
                    | Node::DynTensor { .. } => Fate::Walk,
                    _ => Fate::Keep,
                }
            }
            Region::TableItem(i) => match (self.table_names.get(&i), ndarray_of(g, id)) {
                (Some(&name), Some(array)) => Fate::Tensor {
                    array,
                    name: Some(name),
                    dtype: array_dtype(g, array).and_then(DType::to_tensor),
                },
                _ => Fate::Keep,
            },
            Region::AsIs | Region::Root => Fate::Keep,
        }
    }

    /// The region of a child reached by `step` from a parent whose fate is `parent`.
    pub fn child_region(&self, parent: Fate, step: Step) -> Region {
        match (parent, step) {
            (Fate::Walk, Step::Key { .. }) | (Fate::Table, Step::Key { .. }) => Region::AsIs,
            (Fate::Walk, _) => Region::Walked,
            (Fate::Table, Step::Value { index, .. }) => Region::TableItem(index),
            _ => Region::AsIs,
        }
    }

    /// The region of a root item's value as loaded ([`Plan::root_items`]; a merged item
    /// has [`Plan::merged_fate`] instead).
    pub fn root_item_region(&self, item: &RootItem) -> Region {
        match (self.mode, item.raw) {
            (Mode::Table, Some(i)) => Region::TableItem(i),
            (Mode::Table, None) => Region::AsIs,
            (Mode::Parse { .. }, _) => Region::Walked,
            _ => Region::AsIs,
        }
    }

    /// What the load makes of merged big parameter `m` (L-UNPACK): a Tensor — named by the
    /// name table under L-TABLE, unnamed under L-NDARRAY — with its dtype (`None`: to_tensor
    /// raises), or (`None`) the ndarray.
    pub fn merged_fate(&self, m: usize) -> Option<(Option<NodeId>, Option<DType>)> {
        let dtype = self.merges[m].dtype.to_tensor();
        match self.mode {
            Mode::Table => self.merged_names.get(&m).map(|&n| (Some(n), dtype)),
            Mode::Parse { tuple_mode: false } => Some((None, dtype)),
            _ => None,
        }
    }
}

/// The ValueError `paddle.to_tensor` raises on an array of this dtype (L-DTYPE).
fn to_tensor_error(d: Option<DType>) -> LoadError {
    py(
        PyExc::ValueError,
        format!(
            "(InvalidArgument) Input object type error or incompatible array data type ({})",
            d.map_or("unknown", DType::name)
        ),
    )
}

/// L-ITER: the iterables `_parse_every_object` refuses (its type name).
pub fn iter_error(n: &Node) -> Option<&'static str> {
    match n {
        Node::Bytes(_) => Some("bytes"),
        Node::ByteArray(_) => Some("bytearray"),
        Node::FrozenSet(_) => Some("frozenset"),
        _ => None,
    }
}

/// The fates along a walk's path: feed it each node [`walk::walk`] enters (in order) and it
/// gives the node's fate, from its parent's fate and the step ([`Plan::child_region`]).
pub struct Fates<'p> {
    plan: &'p Plan,
    stack: Vec<Fate>,
    root: Region,
}

impl<'p> Fates<'p> {
    /// Fates of a walk from the graph's root.
    pub fn new(plan: &'p Plan) -> Self {
        Fates {
            plan,
            stack: vec![],
            root: plan.root_region(),
        }
    }
    /// Fates of a walk from a node met in `region`.
    pub fn from(plan: &'p Plan, region: Region) -> Self {
        Fates {
            plan,
            stack: vec![],
            root: region,
        }
    }
    /// The fate of the node the walk is at.
    pub fn enter(&mut self, g: &Graph, at: walk::At) -> Fate {
        self.stack.truncate(at.depth);
        let region = match self.stack.last() {
            None => self.root,
            Some(&parent) => self.plan.child_region(parent, at.step),
        };
        let fate = self.plan.fate(g, at.id, region);
        self.stack.push(fate);
        fate
    }
}
