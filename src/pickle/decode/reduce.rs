//! The numpy, CPython and Paddle reduce forms the VM interprets symbolically: REDUCE on an
//! allowlisted global (`_reconstruct`, `dtype`, `scalar`, Paddle's `tuple(((name, array),))`
//! and `eval('data', {'data': array})`, protocol 2's `_codecs.encode`, …) and BUILD on
//! what they made, each in the exact shape its writer produces; anything else is an error
//! naming module, name and offset.

use std::borrow::Cow;

use num_traits::ToPrimitive;

use super::text::latin1_bytes;
use super::Vm;
use crate::dtype::DType;
use crate::numpy::Flavour;
use crate::pickle::ops::Instr;
use crate::pickle::{
    DtypeNode, Global, NdArray, Node, NodeId, NpScalar, Pending, PickleError, PyInt, Sym,
};

/// A short Python spelling of a scalar argument, for messages.
fn py_repr(n: &Node) -> String {
    match n {
        Node::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Node::Int(v) => v.to_string(),
        Node::None => "None".into(),
        other => other.type_name().into(),
    }
}

impl<'a> Vm<'a, '_> {
    pub(super) fn bytes_like(&self, id: NodeId) -> Option<Cow<'a, [u8]>> {
        match self.node(id) {
            Node::Bytes(b) => Some(b.clone()),
            // Python 2 str payloads, decoded as latin-1 under encoding='latin1'.
            Node::Str(s) => latin1_bytes(s).map(Cow::Owned),
            _ => None,
        }
    }

    pub(super) fn reduce(
        &mut self,
        i: &Instr,
        func: NodeId,
        args: NodeId,
    ) -> Result<NodeId, PickleError> {
        let g: Global = match self.node(func) {
            Node::Global(g) => *g,
            other => {
                return Err(PickleError::BadType {
                    offset: i.offset,
                    opcode: "REDUCE",
                    expected: "an allowlisted global",
                    found: other.type_name(),
                })
            }
        };
        let bad = |reason: &str| PickleError::BadCall {
            offset: i.offset,
            module: g.module,
            name: g.name,
            reason: reason.to_string(),
        };
        let a: Vec<NodeId> = match self.node(args) {
            Node::Tuple(v) => v.clone(),
            _ => return Err(bad("arguments are not a tuple")),
        };
        let nodes: Vec<&Node<'a>> = a.iter().map(|&x| self.node(x)).collect();
        let new = match (g.sym, nodes.as_slice()) {
            (Sym::Reconstruct, [Node::Global(cls), Node::Tuple(zero), b]) => {
                if cls.sym != Sym::NdArrayType {
                    return Err(bad("first argument must be numpy.ndarray"));
                }
                let zero_ok = matches!(zero.as_slice(), [z] if matches!(self.node(*z), Node::Int(PyInt::Small(0))));
                let b_ok = matches!(self.bytes_like(a[2]).as_deref(), Some(b"b"));
                let _ = b;
                if !zero_ok || !b_ok {
                    return Err(bad("expected (numpy.ndarray, (0,), b'b')"));
                }
                let fl = Flavour::from_module(g.module).unwrap_or(Flavour::Numpy1);
                Node::Pending(Pending::Array(fl))
            }
            // numpy >= 1.19 writes `dtype(descr, False, True)`; numpy <= 1.18 wrote the same
            // flags as ints, `(descr, 0, 1)` (numpy PR 15500). Nothing else (P-HIST).
            (Sym::DtypeType, [Node::Str(descr), align, copy]) => {
                let ints = match (align, copy) {
                    (Node::Bool(false), Node::Bool(true)) => false,
                    (Node::Int(PyInt::Small(0)), Node::Int(PyInt::Small(1))) => true,
                    _ => {
                        return Err(bad(&format!(
                            "numpy.dtype({descr:?}, {}, {}): numpy writes the flags (align, copy) \
                             as (False, True), or (0, 1) before numpy 1.19",
                            py_repr(align),
                            py_repr(copy)
                        )))
                    }
                };
                let dt = DType::from_numpy_descr(descr)
                    .ok_or_else(|| bad(&format!("unsupported dtype {descr:?}")))?;
                self.g.dialect.dtype_int_flags |= ints;
                Node::Pending(Pending::Dtype(dt))
            }
            (Sym::Scalar, [Node::Dtype(d), _]) => {
                let data = self
                    .bytes_like(a[1])
                    .ok_or_else(|| bad("scalar data must be bytes"))?;
                if data.len() != d.dtype.itemsize() {
                    return Err(bad(&format!(
                        "scalar of {} needs {} bytes, got {}",
                        d.dtype.name(),
                        d.dtype.itemsize(),
                        data.len()
                    )));
                }
                let fl = Flavour::from_module(g.module).unwrap_or(Flavour::Numpy1);
                Node::NpScalar(NpScalar {
                    flavour: fl,
                    dtype: a[0],
                    data,
                })
            }
            (Sym::Tuple, [Node::Tuple(inner)]) => match inner.as_slice() {
                [name, arr]
                    if matches!(self.node(*name), Node::Str(_))
                        && matches!(self.node(*arr), Node::NdArray(_)) =>
                {
                    Node::DynTensor {
                        name: *name,
                        array: *arr,
                    }
                }
                _ => {
                    return Err(bad(
                        "only Paddle's tensor form tuple(((name, ndarray),)) is allowed",
                    ))
                }
            },
            (Sym::Set, [Node::List(items)]) | (Sym::FrozenSet, [Node::List(items)]) => {
                let items = items.clone();
                let s = self.new_set(g.sym == Sym::FrozenSet, &items, i)?;
                return Ok(s);
            }
            (Sym::ByteArray, [Node::Bytes(b)]) => Node::ByteArray(b.clone()),
            (Sym::ByteArray, []) => Node::ByteArray(Cow::Borrowed(&[])),
            (Sym::Complex, [re, im]) => {
                let f = |n: &Node| match n {
                    Node::Float(v) => Some(*v),
                    Node::Int(v) => Some(match v {
                        PyInt::Small(x) => *x as f64,
                        PyInt::Big(b) => b.to_f64().unwrap_or(f64::INFINITY),
                    }),
                    Node::Bool(b) => Some(*b as u8 as f64),
                    _ => None,
                };
                match (f(re), f(im)) {
                    (Some(r), Some(m)) => Node::Complex(r, m),
                    _ => return Err(bad("complex parts must be numbers")),
                }
            }
            (Sym::Bytes, []) => Node::Bytes(Cow::Borrowed(&[])),
            (Sym::OrderedDict, []) => Node::OrderedDict(Vec::new()),
            (Sym::CodecsEncode, [Node::Str(text), Node::Str(enc)]) => {
                if enc != "latin1" && enc != "latin-1" {
                    return Err(bad("only the 'latin1' encoding is allowed"));
                }
                let b =
                    latin1_bytes(text).ok_or_else(|| bad("text has characters outside latin-1"))?;
                Node::Bytes(Cow::Owned(b))
            }
            (Sym::Eval, [Node::Str(src), Node::Dict(env)]) => {
                let ok = src == "data"
                    && matches!(env.as_slice(), [(k, v)]
                        if matches!(self.node(*k), Node::Str(s) if s == "data")
                        && matches!(self.node(*v), Node::NdArray(_)));
                if !ok {
                    return Err(bad("only Paddle's static-tensor form eval('data', {'data': ndarray}) is allowed"));
                }
                Node::StaticTensor { array: env[0].1 }
            }
            // Paddle's development branch: `reduce_DenseTensor` returns
            // `(_reconstruct_dense_tensor_data, (np.array(tensor),))` (V-NEXT).
            (Sym::ReconstructDenseTensor, [Node::NdArray(_)]) => {
                self.g.dialect.static_tensor_fn = true;
                Node::StaticTensor { array: a[0] }
            }
            (Sym::ReconstructDenseTensor, _) => {
                return Err(bad(
                    "only Paddle's form _reconstruct_dense_tensor_data(ndarray) is allowed",
                ))
            }
            _ => return Err(bad("arguments do not match the allowed form")),
        };
        Ok(self.add(new))
    }

    /// NEWOBJ: `cls.__new__(cls, *args)`, allowed only for Paddle's checkpoint metadata
    /// dataclasses (where the allowlist has them) and with no arguments, as
    /// `copyreg.__newobj__` pickles a dataclass.
    pub(super) fn newobj(
        &mut self,
        i: &Instr,
        cls: NodeId,
        args: NodeId,
    ) -> Result<NodeId, PickleError> {
        let g = match self.node(cls) {
            Node::Global(g) if matches!(g.sym, Sym::Checkpoint(_)) => *g,
            _ => {
                return Err(PickleError::ForbiddenOpcode {
                    offset: i.offset,
                    opcode: "NEWOBJ",
                    reason: "instantiates a class",
                })
            }
        };
        if !matches!(self.node(args), Node::Tuple(a) if a.is_empty()) {
            return Err(PickleError::BadCall {
                offset: i.offset,
                module: g.module,
                name: g.name,
                reason: "NEWOBJ arguments must be () as for a dataclass".into(),
            });
        }
        Ok(self.add(Node::Pending(Pending::Object(g))))
    }

    /// BUILD on a checkpoint dataclass: the state is a dict whose keys are exactly the
    /// class's fields, as a release of Paddle declares them (a prefix of the newest list of
    /// at least the required ones).
    fn build_object(
        &mut self,
        i: &Instr,
        class: Global,
        target: NodeId,
        state: NodeId,
    ) -> Result<(), PickleError> {
        let Sym::Checkpoint(c) = class.sym else {
            return Err(PickleError::BadBuild {
                offset: i.offset,
                target: class.name,
                reason: "not a checkpoint class".into(),
            });
        };
        let bad = |reason: String| PickleError::BadBuild {
            offset: i.offset,
            target: class.name,
            reason,
        };
        let Node::Dict(items) = self.node(state) else {
            return Err(bad(format!(
                "state must be a dict of its fields, found {}",
                self.node(state).type_name()
            )));
        };
        let want = c.fields();
        let mut names = Vec::with_capacity(items.len());
        for &(k, _) in items {
            match self.node(k) {
                Node::Str(s) => names.push(s.to_string()),
                other => return Err(bad(format!("field name is a {}", other.type_name()))),
            }
        }
        let ok = names.len() >= c.required()
            && names.len() <= want.len()
            && names.iter().zip(want).all(|(a, b)| a == b);
        if !ok {
            return Err(bad(format!(
                "fields {names:?} are not {}'s ({want:?}, or a prefix of at least {})",
                class.name,
                c.required()
            )));
        }
        if let Some(slot) = self.g.nodes.get_mut(target as usize) {
            *slot = Node::Object { class, state };
        }
        Ok(())
    }

    pub(super) fn build(
        &mut self,
        i: &Instr,
        target: NodeId,
        state: NodeId,
    ) -> Result<(), PickleError> {
        if let Node::Pending(Pending::Object(class)) = *self.node(target) {
            return self.build_object(i, class, target, state);
        }
        let tname = self.node(target).type_name();
        let bad = |reason: &str| PickleError::BadBuild {
            offset: i.offset,
            target: tname,
            reason: reason.to_string(),
        };
        let st: Vec<NodeId> = match self.node(state) {
            Node::Tuple(v) => v.clone(),
            _ => return Err(bad("state is not a tuple")),
        };
        let built = match *self.node(target) {
            Node::Pending(Pending::Array(fl)) => {
                let s: Vec<&Node> = st.iter().map(|&x| self.node(x)).collect();
                let (shape_id, dtype_id, fortran) = match s.as_slice() {
                    [Node::Int(PyInt::Small(1)), Node::Tuple(_), Node::Dtype(_), Node::Bool(f), _] => {
                        (st[1], st[2], *f)
                    }
                    _ => {
                        return Err(bad(
                            "ndarray state must be (1, shape, dtype, is_fortran, data)",
                        ))
                    }
                };
                let d = self.g.dtype_of(dtype_id).ok_or_else(|| bad("no dtype"))?;
                let mut shape = Vec::new();
                if let Node::Tuple(dims) = self.node(shape_id) {
                    for &x in dims {
                        match self.node(x) {
                            Node::Int(PyInt::Small(v)) if *v >= 0 => shape.push(*v as u64),
                            _ => return Err(bad("shape entries must be non-negative ints")),
                        }
                    }
                }
                // Bytes the decoder made itself move into the array (no second copy).
                let earlier = self.moved.iter().find(|(b, _)| *b == st[4]).map(|m| m.1);
                let data = match self.g.nodes.get_mut(st[4] as usize) {
                    // The same bytes object built an earlier array: copy from that array.
                    _ if earlier.is_some() => match earlier.map(|a| self.g.node(a)) {
                        Some(Node::NdArray(a)) => Cow::Owned(a.data.to_vec()),
                        _ => return Err(bad("array data must be bytes")),
                    },
                    // Small bytes are copied, not moved: they may still be used later in
                    // the pickle (CPython shares one-byte bytes: an array whose data is
                    // b'b' is numpy's `b'b'` constant, the next `_reconstruct`'s argument).
                    Some(Node::Bytes(Cow::Owned(v))) if v.len() >= 4096 => {
                        self.moved.push((st[4], target));
                        Cow::Owned(std::mem::take(v))
                    }
                    _ => self
                        .bytes_like(st[4])
                        .ok_or_else(|| bad("array data must be bytes"))?,
                };
                let count = shape.iter().try_fold(1u64, |acc, &x| acc.checked_mul(x));
                let need = count.and_then(|c| c.checked_mul(d.dtype.itemsize() as u64));
                if need != Some(data.len() as u64) {
                    return Err(PickleError::BadBuild {
                        offset: i.offset,
                        target: "numpy.ndarray",
                        reason: format!(
                            "shape {:?} of {} needs {} bytes, data has {}",
                            shape,
                            d.dtype.name(),
                            need.map(|n| n.to_string())
                                .unwrap_or_else(|| "more than 2^64".into()),
                            data.len()
                        ),
                    });
                }
                Node::NdArray(Box::new(NdArray {
                    flavour: fl,
                    dtype: dtype_id,
                    shape,
                    fortran,
                    data,
                }))
            }
            Node::Pending(Pending::Dtype(dt)) => {
                let s: Vec<&Node> = st.iter().map(|&x| self.node(x)).collect();
                match s.as_slice() {
                    [Node::Int(PyInt::Small(3)), Node::Str(order), Node::None, Node::None, Node::None, Node::Int(PyInt::Small(-1)), Node::Int(PyInt::Small(-1)), Node::Int(PyInt::Small(0))] =>
                    {
                        let o = match order.as_bytes() {
                            [c @ (b'<' | b'>' | b'|' | b'=')] => *c,
                            _ => return Err(bad("byte order must be one of < > | =")),
                        };
                        Node::Dtype(DtypeNode {
                            dtype: dt,
                            order: o,
                        })
                    }
                    _ => {
                        return Err(bad(
                            "dtype state must be (3, order, None, None, None, -1, -1, 0)",
                        ))
                    }
                }
            }
            _ => {
                return Err(bad(
                    "only numpy arrays, dtypes and checkpoint metadata take a state",
                ))
            }
        };
        if let Some(slot) = self.g.nodes.get_mut(target as usize) {
            *slot = built;
        }
        Ok(())
    }
}
