//! What `paddle.load` returns, as a tree of Python values borrowed from the pickle graph.

use crate::dtype::DType;
use std::borrow::Cow;

use crate::pickle::{DtypeNode, PyInt};

/// An ndarray's element bytes and layout, borrowed where possible.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayView<'g> {
    pub dtype: DType,
    /// `<`, `>`, `|` or `=` from the pickled dtype.
    pub order: u8,
    pub shape: Vec<u64>,
    pub fortran: bool,
    pub data: Cow<'g, [u8]>,
}

impl ArrayView<'_> {
    /// Element bytes in C order, little-endian (the bytes the view hashes).
    pub fn c_order_le(&self) -> Cow<'_, [u8]> {
        let le = crate::numpy::to_little_endian(self.dtype, self.order, &self.data);
        if self.fortran && self.shape.len() > 1 {
            Cow::Owned(crate::numpy::fortran_to_c(
                &self.shape,
                self.dtype.itemsize(),
                &le,
            ))
        } else {
            le
        }
    }
    pub fn numel(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// A loaded Python value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'g> {
    None,
    Bool(bool),
    Int(PyInt),
    Float(f64),
    Complex(f64, f64),
    Str(Cow<'g, str>),
    Bytes(Cow<'g, [u8]>),
    ByteArray(Cow<'g, [u8]>),
    List(Vec<Value<'g>>),
    Tuple(Vec<Value<'g>>),
    Dict(Vec<(Value<'g>, Value<'g>)>),
    OrderedDict(Vec<(Value<'g>, Value<'g>)>),
    Set(Vec<Value<'g>>),
    FrozenSet(Vec<Value<'g>>),
    NdArray(ArrayView<'g>),
    NpScalar {
        dtype: DtypeNode,
        data: Cow<'g, [u8]>,
    },
    /// A numpy dtype object (loads fine, but has no node in the load view).
    Dtype(DtypeNode),
    /// A `paddle.Tensor`; `name` is `None` where Paddle generated one.
    Tensor {
        dtype: DType,
        array: ArrayView<'g>,
        name: Option<String>,
    },
    Program,
}

impl Value<'_> {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Complex(..) => "complex",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::OrderedDict(_) => "OrderedDict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::NdArray(_) => "numpy.ndarray",
            Value::NpScalar { .. } => "numpy scalar",
            Value::Dtype(_) => "numpy.dtype",
            Value::Tensor { .. } => "paddle.Tensor",
            Value::Program => "paddle.static.Program",
        }
    }
}

impl ArrayView<'_> {
    pub fn into_owned(self) -> ArrayView<'static> {
        ArrayView {
            dtype: self.dtype,
            order: self.order,
            shape: self.shape,
            fortran: self.fortran,
            data: Cow::Owned(self.data.into_owned()),
        }
    }
}

impl Value<'_> {
    /// The same value holding its own copies of borrowed bytes.
    pub fn into_owned(self) -> Value<'static> {
        let list = |v: Vec<Value<'_>>| v.into_iter().map(Value::into_owned).collect();
        let pairs = |v: Vec<(Value<'_>, Value<'_>)>| {
            v.into_iter()
                .map(|(k, x)| (k.into_owned(), x.into_owned()))
                .collect()
        };
        match self {
            Value::None => Value::None,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Complex(r, i) => Value::Complex(r, i),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::ByteArray(b) => Value::ByteArray(Cow::Owned(b.into_owned())),
            Value::List(v) => Value::List(list(v)),
            Value::Tuple(v) => Value::Tuple(list(v)),
            Value::Dict(p) => Value::Dict(pairs(p)),
            Value::OrderedDict(p) => Value::OrderedDict(pairs(p)),
            Value::Set(v) => Value::Set(list(v)),
            Value::FrozenSet(v) => Value::FrozenSet(list(v)),
            Value::NdArray(a) => Value::NdArray(a.into_owned()),
            Value::NpScalar { dtype, data } => Value::NpScalar {
                dtype,
                data: Cow::Owned(data.into_owned()),
            },
            Value::Dtype(d) => Value::Dtype(d),
            Value::Tensor { dtype, array, name } => Value::Tensor {
                dtype,
                array: array.into_owned(),
                name,
            },
            Value::Program => Value::Program,
        }
    }
}
