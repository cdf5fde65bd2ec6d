//! The values of a loaded state dict, borrowed for as long as their file is mapped, and
//! the dict a multi-file load (a distributed checkpoint, a sharded state dict) makes of
//! them: one graph whose arrays borrow the shards' bytes, loaded by the same plan as a
//! `paddle.save` state dict (L-TABLE names each Tensor; a `""` name is one Paddle
//! generates, null in the view).

use std::borrow::Cow;

use super::load::{ArrayId, ArrayRef, Item, Loaded};
use crate::dtype::DType;
use crate::names::NAME_TABLE;
use crate::pickle::{Graph, Node};

/// One value of a state dict: a Tensor or an ndarray.
#[derive(Clone, Debug)]
pub struct Value<'a> {
    /// A Tensor's Paddle dtype, or an ndarray's numpy dtype.
    pub dtype: DType,
    /// A `paddle.Tensor` (else an ndarray).
    pub tensor: bool,
    /// The Tensor's name, `None` where Paddle generates one.
    pub name: Option<String>,
    pub shape: Vec<u64>,
    /// Element bytes, C order, little-endian (bfloat16 as its 16-bit patterns).
    pub data: Cow<'a, [u8]>,
}

/// The bytes of an array of a loaded value, C order and little-endian, borrowed from the
/// file where they already are in that layout.
pub fn array_bytes<'a>(l: &Loaded<'a>, a: &ArrayRef<'_>) -> Cow<'a, [u8]> {
    let plain = !a.fortran && (a.order == a.dtype.native_order() || a.order == b'=');
    if plain {
        if let ArrayId::Node(n) = a.id {
            if let Node::NdArray(x) = l.graph().node(n) {
                return match &x.data {
                    Cow::Borrowed(b) => Cow::Borrowed(b),
                    Cow::Owned(v) => Cow::Owned(v.clone()),
                };
            }
        }
    }
    Cow::Owned(a.c_order_le().into_owned())
}

/// The (key, value) pairs of a loaded dict of Tensors and ndarrays, in order; `Err`
/// names what is not one.
pub fn state_dict_values<'a>(l: &Loaded<'a>) -> Result<Vec<(String, Value<'a>)>, String> {
    let (Item::Dict(m) | Item::OrderedDict(m)) = l.root() else {
        return Err(format!("loads as a {}, not a dict", l.root().type_name()));
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m.iter() {
        let Item::Str(key) = k else {
            return Err(format!("a {} key, not a str", k.type_name()));
        };
        let value = match v {
            Item::Tensor { dtype, array, name } => Value {
                dtype,
                tensor: true,
                name: name
                    .filter(|n| !n.starts_with("generated_tensor"))
                    .map(str::to_string),
                shape: array.shape.to_vec(),
                data: array_bytes(l, &array),
            },
            Item::NdArray(array) => Value {
                dtype: array.dtype,
                tensor: false,
                name: None,
                shape: array.shape.to_vec(),
                data: array_bytes(l, &array),
            },
            other => return Err(format!("{key:?} is a {}, not a tensor", other.type_name())),
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// The dict of `items` as a graph `paddle.load`'s state-dict rules read as those values:
/// each Tensor an ndarray of its numpy carrier named in the name table (`""`: generated),
/// each ndarray left as it is.
pub fn dict_graph(items: Vec<(String, Value<'_>)>) -> Graph<'_> {
    let mut g = Graph::new(4);
    let mut pairs = Vec::with_capacity(items.len() + 1);
    let mut table = Vec::new();
    for (key, v) in items {
        let dtype = if v.tensor {
            v.dtype.numpy_carrier()
        } else {
            v.dtype
        };
        let a = super::file::add_array(&mut g, dtype, v.shape, v.data);
        let k = g.add(Node::Str(Cow::Owned(key)));
        if v.tensor {
            let n = g.add(Node::Str(Cow::Owned(v.name.unwrap_or_default())));
            table.push((k, n));
        }
        pairs.push((k, a));
    }
    let tk = g.add(Node::Str(Cow::Borrowed(NAME_TABLE)));
    let tv = g.add(Node::Dict(table));
    pairs.push((tk, tv));
    g.root = g.add(Node::Dict(pairs));
    g
}
