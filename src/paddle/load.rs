//! What `paddle.load` returns, as a view over the decoded graph and its [`Plan`]: no second
//! tree is built. [`Loaded::root`] gives the loaded object as an [`Item`]; containers
//! iterate their items, each made by the plan's fate for it (a Tensor, an ndarray, a value
//! as `pickle.load` made it). Payloads are borrowed from the graph (and so from the file).

use std::borrow::Cow;

pub use super::outcome::{LoadError, LoadOptions};
use super::plan::{Fate, Form, Plan, Region, RootItem, RootValue};
use super::walk::Step;
use crate::dtype::DType;
use crate::pickle::{self, DtypeNode, Graph, Node, NodeId, PyInt};

/// Which array an [`ArrayRef`] is: one node of the graph, or a merged big parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayId {
    Node(NodeId),
    Merged(usize),
}

/// An ndarray's element bytes and layout, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArrayRef<'a> {
    pub id: ArrayId,
    pub dtype: DType,
    /// `<`, `>`, `|` or `=` from the pickled dtype.
    pub order: u8,
    pub shape: &'a [u64],
    pub fortran: bool,
    /// Element bytes in the array's memory order (C or Fortran) and byte order.
    pub data: &'a [u8],
}

impl<'a> ArrayRef<'a> {
    /// The ndarray node `id` of a graph (its dtype node resolved).
    pub fn of(g: &'a Graph<'_>, id: NodeId) -> Option<ArrayRef<'a>> {
        match g.node(id) {
            Node::NdArray(a) => {
                let d = g.dtype_of(a.dtype)?;
                Some(ArrayRef {
                    id: ArrayId::Node(id),
                    dtype: d.dtype,
                    order: d.order,
                    shape: &a.shape,
                    fortran: a.fortran,
                    data: &a.data,
                })
            }
            _ => None,
        }
    }

    /// Element bytes in C order, little-endian (the bytes the view hashes).
    pub fn c_order_le(&self) -> Cow<'a, [u8]> {
        crate::numpy::c_order_le(self.dtype, self.order, self.shape, self.fortran, self.data)
    }
    pub fn numel(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// One object of the loaded value.
#[derive(Clone, Copy, Debug)]
pub enum Item<'l> {
    None,
    Bool(bool),
    Int(&'l PyInt),
    Float(f64),
    Complex(f64, f64),
    Str(&'l str),
    /// A str with lone surrogates, as `surrogatepass` UTF-8 ([`crate::pickle::Node::WStr`]).
    WStr(&'l [u8]),
    Bytes(&'l [u8]),
    ByteArray(&'l [u8]),
    List(Seq<'l>),
    Tuple(Seq<'l>),
    Set(Seq<'l>),
    FrozenSet(Seq<'l>),
    Dict(Map<'l>),
    OrderedDict(Map<'l>),
    NdArray(ArrayRef<'l>),
    NpScalar {
        dtype: DtypeNode,
        data: &'l [u8],
    },
    /// A numpy dtype object (loads fine, but has no node in the load view).
    Dtype(DtypeNode),
    /// A `paddle.Tensor`; `name` is `None` where Paddle generates one (L-NAME).
    Tensor {
        dtype: DType,
        array: ArrayRef<'l>,
        name: Option<&'l str>,
    },
    /// A `paddle.static.Program` (a ProgramDesc file without ops, L-FILE).
    Program,
}

impl Item<'_> {
    /// Python type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Item::None => "NoneType",
            Item::Bool(_) => "bool",
            Item::Int(_) => "int",
            Item::Float(_) => "float",
            Item::Complex(..) => "complex",
            Item::Str(_) | Item::WStr(_) => "str",
            Item::Bytes(_) => "bytes",
            Item::ByteArray(_) => "bytearray",
            Item::List(_) => "list",
            Item::Tuple(_) => "tuple",
            Item::Dict(_) => "dict",
            Item::OrderedDict(_) => "OrderedDict",
            Item::Set(_) => "set",
            Item::FrozenSet(_) => "frozenset",
            Item::NdArray(_) => "numpy.ndarray",
            Item::NpScalar { .. } => "numpy scalar",
            Item::Dtype(_) => "numpy.dtype",
            Item::Tensor { .. } => "paddle.Tensor",
            Item::Program => "paddle.static.Program",
        }
    }
}

/// The items of a list, tuple, set or frozenset.
#[derive(Clone, Copy, Debug)]
pub struct Seq<'l> {
    l: &'l Loaded<'l>,
    items: SeqItems<'l>,
    fate: Fate,
}

#[derive(Clone, Copy, Debug)]
enum SeqItems<'l> {
    Nodes(&'l [NodeId]),
    /// A dynamic tensor shown as the tuple `(name, ndarray)`.
    Pair(NodeId, NodeId),
}

impl<'l> Seq<'l> {
    pub fn len(&self) -> usize {
        match self.items {
            SeqItems::Nodes(v) => v.len(),
            SeqItems::Pair(..) => 2,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The items, in order.
    pub fn iter(&self) -> SeqIter<'l> {
        SeqIter { seq: *self, i: 0 }
    }
}

/// The items of a [`Seq`], made as they are reached.
pub struct SeqIter<'l> {
    seq: Seq<'l>,
    i: usize,
}

impl<'l> Iterator for SeqIter<'l> {
    type Item = Item<'l>;
    fn next(&mut self) -> Option<Item<'l>> {
        let (id, step) = match self.seq.items {
            SeqItems::Nodes(v) => (*v.get(self.i)?, Step::Item(self.i)),
            SeqItems::Pair(n, _) if self.i == 0 => (n, Step::TensorName),
            SeqItems::Pair(_, a) if self.i == 1 => (a, Step::TensorArray),
            SeqItems::Pair(..) => return None,
        };
        self.i += 1;
        let l = self.seq.l;
        Some(l.item(id, l.plan.child_region(self.seq.fate, step)))
    }
}

/// The items of a dict or OrderedDict.
#[derive(Clone, Copy, Debug)]
pub struct Map<'l> {
    l: &'l Loaded<'l>,
    items: MapItems<'l>,
}

#[derive(Clone, Copy, Debug)]
enum MapItems<'l> {
    Nodes(&'l [(NodeId, NodeId)], Fate),
    /// The root dict as the rules leave it (L-UNPACK, L-TABLE).
    Root(&'l [RootItem]),
}

impl<'l> Map<'l> {
    /// The (key, value) pairs, in order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (Item<'l>, Item<'l>)> + 'l> {
        let l = self.l;
        match self.items {
            MapItems::Nodes(p, fate) => {
                Box::new(p.iter().enumerate().map(move |(index, &(k, v))| {
                    let kr = l.plan.child_region(fate, Step::Key { index });
                    let vr = l.plan.child_region(fate, Step::Value { key: k, index });
                    (l.item(k, kr), l.item(v, vr))
                }))
            }
            MapItems::Root(items) => {
                let skip = (!l.opts.keep_name_table)
                    .then_some(l.plan.table_item)
                    .flatten();
                Box::new(
                    items
                        .iter()
                        .enumerate()
                        .filter(move |(i, _)| Some(*i) != skip)
                        .map(move |(_, it)| (l.item(it.key, Region::AsIs), l.root_value(it))),
                )
            }
        }
    }
    pub fn len(&self) -> usize {
        match self.items {
            MapItems::Nodes(p, _) => p.len(),
            MapItems::Root(items) => {
                let dropped = !self.l.opts.keep_name_table && self.l.plan.table_item.is_some();
                items.len() - dropped as usize
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A graph held or borrowed.
#[derive(Debug)]
enum GraphRef<'g> {
    Owned(Graph<'g>),
    Borrowed(&'g Graph<'g>),
}

/// What `paddle.load` returned: a graph, its plan and the options; [`Loaded::root`] walks it.
#[derive(Debug)]
pub struct Loaded<'g> {
    graph: GraphRef<'g>,
    plan: Plan,
    opts: LoadOptions,
}

impl<'g> Loaded<'g> {
    /// The load of a graph `paddle.load` got in `form`: `Err` where `paddle.load` raises
    /// (or pdsave refuses) with these options.
    pub fn new(g: Graph<'g>, form: Form, opts: LoadOptions) -> Result<Loaded<'g>, LoadError> {
        Self::with(GraphRef::Owned(g), form, opts)
    }

    /// [`Loaded::new`] on a borrowed graph.
    pub fn borrowed(
        g: &'g Graph<'g>,
        form: Form,
        opts: LoadOptions,
    ) -> Result<Loaded<'g>, LoadError> {
        Self::with(GraphRef::Borrowed(g), form, opts)
    }

    fn with(graph: GraphRef<'g>, form: Form, opts: LoadOptions) -> Result<Loaded<'g>, LoadError> {
        let g = match &graph {
            GraphRef::Owned(g) => g,
            GraphRef::Borrowed(g) => *g,
        };
        let plan = Plan::new(g, form);
        plan.outcome(opts)?;
        Ok(Loaded { graph, plan, opts })
    }

    pub fn graph(&self) -> &Graph<'g> {
        match &self.graph {
            GraphRef::Owned(g) => g,
            GraphRef::Borrowed(g) => g,
        }
    }
    pub fn plan(&self) -> &Plan {
        &self.plan
    }
    pub fn options(&self) -> LoadOptions {
        self.opts
    }

    /// The loaded object.
    pub fn root(&self) -> Item<'_> {
        if self.plan.mode == super::plan::Mode::Program {
            return Item::Program;
        }
        let g = self.graph();
        match &self.plan.root_items {
            Some(items) => {
                let map = Map {
                    l: self.shorten(),
                    items: MapItems::Root(items),
                };
                match g.node(g.root) {
                    Node::OrderedDict(_) => Item::OrderedDict(map),
                    _ => Item::Dict(map),
                }
            }
            None => self.shorten().item(g.root, self.plan.root_region()),
        }
    }

    /// `&Loaded<'g>` as `&Loaded<'l>` for a shorter `'l` (the graph is covariant).
    fn shorten<'l>(&'l self) -> &'l Loaded<'l> {
        self
    }
}

impl<'l> Loaded<'l> {
    fn array(&'l self, id: NodeId) -> Option<ArrayRef<'l>> {
        ArrayRef::of(self.graph(), id)
    }

    fn merged(&'l self, m: usize) -> ArrayRef<'l> {
        let mg = &self.plan.merges[m];
        ArrayRef {
            id: ArrayId::Merged(m),
            dtype: mg.dtype,
            order: mg.dtype.native_order(),
            shape: &mg.shape,
            fortran: false,
            data: &mg.data,
        }
    }

    fn name(&'l self, name: Option<NodeId>) -> Option<&'l str> {
        match name.map(|n| self.graph().node(n)) {
            // L-NAME: an empty name makes Paddle generate one.
            Some(Node::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn tensor(
        &'l self,
        dtype: Option<DType>,
        array: ArrayRef<'l>,
        name: Option<&'l str>,
    ) -> Item<'l> {
        match dtype {
            Some(dtype) if !self.opts.return_numpy => Item::Tensor { dtype, array, name },
            // With return_numpy (or where to_tensor raises, which the outcome reports).
            _ => Item::NdArray(array),
        }
    }

    fn root_value(&'l self, it: &RootItem) -> Item<'l> {
        match it.value {
            RootValue::Node(v) => self.item(v, self.plan.root_item_region(it)),
            RootValue::Merged(m) => match self.plan.merged_fate(m) {
                Some((name, dtype)) => self.tensor(dtype, self.merged(m), self.name(name)),
                None => Item::NdArray(self.merged(m)),
            },
        }
    }

    /// The object node `id` becomes, met in `region`.
    fn item(&'l self, id: NodeId, region: Region) -> Item<'l> {
        let g = self.graph();
        let fate = self.plan.fate(g, id, region);
        if let Fate::Tensor { array, name, dtype } = fate {
            if let Some(a) = self.array(array) {
                return self.tensor(dtype, a, self.name(name));
            }
        }
        let seq = |items| Seq {
            l: self,
            items,
            fate,
        };
        let map = |p| Map {
            l: self,
            items: MapItems::Nodes(p, fate),
        };
        match g.node(id) {
            Node::None => Item::None,
            Node::Bool(b) => Item::Bool(*b),
            Node::Int(v) => Item::Int(v),
            Node::Float(v) => Item::Float(*v),
            Node::Complex(r, i) => Item::Complex(*r, *i),
            Node::Str(s) => Item::Str(s),
            Node::WStr(b) => Item::WStr(b),
            Node::Bytes(b) => Item::Bytes(b),
            Node::ByteArray(b) => Item::ByteArray(b),
            Node::List(v) => Item::List(seq(SeqItems::Nodes(v))),
            Node::Tuple(v) => Item::Tuple(seq(SeqItems::Nodes(v))),
            Node::Set(v) => Item::Set(seq(SeqItems::Nodes(v))),
            Node::FrozenSet(v) => Item::FrozenSet(seq(SeqItems::Nodes(v))),
            Node::Dict(p) => Item::Dict(map(p)),
            Node::OrderedDict(p) => Item::OrderedDict(map(p)),
            Node::DynTensor { name, array } => Item::Tuple(seq(SeqItems::Pair(*name, *array))),
            Node::StaticTensor { array } => self.array(*array).map_or(Item::None, Item::NdArray),
            Node::NdArray(_) => self.array(id).map_or(Item::None, Item::NdArray),
            Node::NpScalar(s) => match g.dtype_of(s.dtype) {
                Some(dtype) => Item::NpScalar {
                    dtype,
                    data: &s.data,
                },
                None => Item::None,
            },
            Node::Dtype(d) => Item::Dtype(*d),
            // The plan refuses values holding these (Unrepresentable): never reached.
            Node::Global(_) | Node::Pending(_) | Node::Object { .. } => Item::None,
        }
    }
}

/// Loads a decoded graph (`pickle.load`'s result, L- rules applied), borrowing it.
pub fn load_graph<'g>(g: &'g Graph<'g>, opts: LoadOptions) -> Result<Loaded<'g>, LoadError> {
    Loaded::borrowed(g, Form::Pickle, opts)
}

/// Decodes and loads a pickle.
pub fn load_pickle(data: &[u8], opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
    Loaded::new(pickle::decode(data)?, Form::Pickle, opts)
}
