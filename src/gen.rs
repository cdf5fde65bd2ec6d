//! proptest generators of save-side objects as users build them (state dicts, optimizer
//! states, nested containers with shared references, every dtype, edge scalars), weighted
//! so the non-unique cases of `spec/rules.md` and their neighbours come up often.
//!
//! Restrictions, so that the object has one meaning in real Python: dict keys are unique
//! str or int; set items are distinct small ints (their iteration order is then their
//! order here, whatever the hash seed); bool arrays hold 0/1.

use crate::dtype::DType;
use num_bigint::BigInt;
use proptest::prelude::*;

use crate::paddle::object::{Array, Obj, ObjGraph, ObjId, Tensor, TensorKind};
use crate::pickle::PyInt;

/// A generated tree; `Ref` points at an earlier finished object (no cycles).
#[derive(Clone, Debug)]
pub enum GNode {
    Leaf(Obj),
    List(Vec<GNode>),
    Tuple(Vec<GNode>),
    Dict(Vec<(Obj, GNode)>),
    ODict(Vec<(Obj, GNode)>),
    Set(Vec<u8>),
    FrozenSet(Vec<u8>),
    Ref(usize),
}

impl GNode {
    /// Builds the object graph, resolving `Ref`s to earlier finished objects.
    pub fn build(&self) -> ObjGraph {
        let mut g = ObjGraph::default();
        let mut done: Vec<ObjId> = Vec::new();
        let root = Self::go(self, &mut g, &mut done);
        g.root = root;
        g
    }

    fn go(n: &GNode, g: &mut ObjGraph, done: &mut Vec<ObjId>) -> ObjId {
        let id = match n {
            GNode::Leaf(o) => g.add(o.clone()),
            GNode::Ref(k) => {
                return match done.len() {
                    0 => g.add(Obj::None),
                    len => done[k % len],
                }
            }
            GNode::List(v) | GNode::Tuple(v) => {
                let items = v.iter().map(|x| Self::go(x, g, done)).collect();
                g.add(if matches!(n, GNode::List(_)) {
                    Obj::List(items)
                } else {
                    Obj::Tuple(items)
                })
            }
            GNode::Dict(p) | GNode::ODict(p) => {
                let mut seen: Vec<&Obj> = Vec::new();
                let mut items = Vec::new();
                for (k, v) in p {
                    if seen.contains(&k) {
                        continue;
                    }
                    seen.push(k);
                    let kid = g.add(k.clone());
                    items.push((kid, Self::go(v, g, done)));
                }
                g.add(if matches!(n, GNode::Dict(_)) {
                    Obj::Dict(items)
                } else {
                    Obj::OrderedDict(items)
                })
            }
            GNode::Set(v) | GNode::FrozenSet(v) => {
                let mut v = v.clone();
                v.sort();
                v.dedup();
                let items = v
                    .iter()
                    .map(|&i| g.add(Obj::Int(PyInt::Small(i as i64))))
                    .collect();
                g.add(if matches!(n, GNode::Set(_)) {
                    Obj::Set(items)
                } else {
                    Obj::FrozenSet(items)
                })
            }
        };
        done.push(id);
        id
    }
}

fn shape() -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        2 => Just(vec![]),
        1 => Just(vec![0, 3]),
        1 => Just(vec![0]),
        6 => prop::collection::vec(1u64..4, 1..3),
    ]
}

fn data(n: usize, bool_like: bool) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), n).prop_map(move |mut v| {
        if bool_like {
            v.iter_mut().for_each(|b| *b &= 1);
        }
        v
    })
}

/// A numpy dtype, weighted toward the ones with load-side rules (uint16/32/64).
pub fn numpy_dtype() -> impl Strategy<Value = DType> {
    prop_oneof![
        6 => Just(DType::Float32),
        2 => Just(DType::Int64),
        2 => Just(DType::UInt16),
        1 => Just(DType::UInt32),
        1 => Just(DType::UInt64),
        4 => prop::sample::select(DType::numpy_dtypes().collect::<Vec<_>>()),
    ]
}

/// An ndarray (C or Fortran order; rarely big-endian).
pub fn array() -> impl Strategy<Value = Array> {
    (numpy_dtype(), shape(), any::<bool>(), 0u8..20).prop_flat_map(|(dtype, shape, f, be)| {
        let n = shape.iter().product::<u64>() as usize * dtype.itemsize();
        let fortran = f && shape.len() >= 2;
        let order = if be == 0 && dtype.itemsize() > 1 {
            b'>'
        } else {
            dtype.native_order()
        };
        data(n, dtype == DType::Bool).prop_map(move |data| Array {
            dtype,
            order,
            shape: shape.clone(),
            fortran,
            data,
        })
    })
}

fn paddle_dtype() -> impl Strategy<Value = DType> {
    prop_oneof![
        6 => Just(DType::Float32),
        2 => Just(DType::BFloat16),
        4 => prop::sample::select(vec![
            DType::Bool, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
            DType::UInt8, DType::Float16, DType::Float64, DType::Complex64,
            DType::Complex128,
        ]),
    ]
}

/// A Paddle tensor: dynamic, Parameter or static.
pub fn tensor() -> impl Strategy<Value = Tensor> {
    let kind = prop_oneof![6 => Just(TensorKind::Dynamic), 2 => Just(TensorKind::Parameter), 2 => Just(TensorKind::Static)];
    (
        kind,
        paddle_dtype(),
        shape(),
        0u32..50,
        0u8..4,
        any::<bool>(),
    )
        .prop_flat_map(|(kind, dtype, mut shape, n, naming, sg)| {
            if kind == TensorKind::Parameter && shape.contains(&0) {
                // A Parameter is never empty in Paddle (set_value leaves it uninitialised).
                shape = vec![1];
            }
            let np = dtype.numpy_carrier();
            let len = shape.iter().product::<u64>() as usize * np.itemsize();
            let name = match (kind, naming) {
                (TensorKind::Static, _) => None,
                (TensorKind::Parameter, _) => Some(format!("linear_{n}.w_0")),
                (_, 0) => Some(format!("eager_tmp_{n}")),
                (_, 1) => Some(format!("my_tensor{n}")),
                _ => Some(format!("generated_tensor_{n}")),
            };
            let stop_gradient = match kind {
                TensorKind::Parameter => false,
                TensorKind::Static => true,
                TensorKind::Dynamic => sg,
            };
            data(len, np == DType::Bool).prop_map(move |data| Tensor {
                kind,
                dtype,
                shape: shape.clone(),
                data,
                name: name.clone(),
                stop_gradient,
            })
        })
}

fn int() -> impl Strategy<Value = PyInt> {
    prop_oneof![
        prop::sample::select(vec![
            0i64,
            1,
            255,
            256,
            65535,
            65536,
            -1,
            -256,
            1 << 31,
            -(1 << 31) - 1,
            i64::MAX,
            i64::MIN
        ])
        .prop_map(PyInt::Small),
        any::<i64>().prop_map(PyInt::Small),
        prop::sample::select(vec![
            "9223372036854775808",
            "-18446744073709551616",
            "10000000000000000000000000000000000000000"
        ])
        .prop_map(|s| PyInt::from_big(s.parse::<BigInt>().unwrap_or_default())),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            5e-324
        ]),
        any::<f64>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["", "a", "ü中", "weight", "bias", "data"])
            .prop_map(str::to_string),
        "[a-z_.]{0,12}",
        Just("x".repeat(300)),
    ]
}

/// A plain Python or numpy scalar leaf.
pub fn scalar() -> impl Strategy<Value = Obj> {
    prop_oneof![
        1 => Just(Obj::None),
        1 => any::<bool>().prop_map(Obj::Bool),
        3 => int().prop_map(Obj::Int),
        2 => float().prop_map(Obj::Float),
        1 => (float(), float()).prop_map(|(a, b)| Obj::Complex(a, b)),
        3 => text().prop_map(Obj::Str),
        1 => prop::collection::vec(any::<u8>(), 0..4).prop_map(Obj::Bytes),
        1 => prop::collection::vec(any::<u8>(), 0..4).prop_map(Obj::ByteArray),
        2 => numpy_dtype().prop_flat_map(|d| data(d.itemsize(), d == DType::Bool).prop_map(move |data| Obj::NpScalar { dtype: d, data })),
    ]
}

fn key() -> impl Strategy<Value = Obj> {
    prop_oneof![
        4 => prop::sample::select(vec!["w", "b", "weight", "bias", "a", "LR_Scheduler", "epoch", "linear.weight", "x".repeat(300).leak()])
            .prop_map(|s| Obj::Str(s.to_string())),
        1 => (0i64..5).prop_map(|i| Obj::Int(PyInt::Small(i))),
    ]
}

/// A leaf of a generic object: scalars, ndarrays, tensors, the user (str, ndarray) tuple.
pub fn leaf() -> impl Strategy<Value = GNode> {
    prop_oneof![
        5 => scalar().prop_map(GNode::Leaf),
        4 => array().prop_map(|a| GNode::Leaf(Obj::NdArray(a))),
        5 => tensor().prop_map(|t| GNode::Leaf(Obj::Tensor(t))),
        3 => (text(), array()).prop_map(|(s, a)| GNode::Tuple(vec![GNode::Leaf(Obj::Str(s)), GNode::Leaf(Obj::NdArray(a))])),
        1 => any::<usize>().prop_map(GNode::Ref),
        1 => prop::collection::vec(0u8..8, 0..5).prop_map(GNode::Set),
    ]
}

/// Nested containers over [`leaf`].
pub fn tree() -> impl Strategy<Value = GNode> {
    leaf().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 0..5).prop_map(GNode::List),
            2 => prop::collection::vec(inner.clone(), 0..5).prop_map(GNode::Tuple),
            3 => prop::collection::vec((key(), inner.clone()), 0..5).prop_map(GNode::Dict),
            1 => prop::collection::vec((key(), inner.clone()), 0..4).prop_map(GNode::ODict),
            1 => prop::collection::vec(0u8..8, 0..4).prop_map(GNode::FrozenSet),
        ]
    })
}

/// `layer.state_dict()`-like: str keys to tensors; sometimes an OrderedDict.
pub fn state_dict() -> impl Strategy<Value = GNode> {
    (
        prop::collection::vec((key(), tensor()), 0..5),
        any::<bool>(),
    )
        .prop_map(|(items, od)| {
            let items: Vec<(Obj, GNode)> = items
                .into_iter()
                .map(|(k, t)| (k, GNode::Leaf(Obj::Tensor(t))))
                .collect();
            if od {
                GNode::ODict(items)
            } else {
                GNode::Dict(items)
            }
        })
}

/// `optimizer.state_dict()`-like: tensors plus a nested dict of plain values.
pub fn optimizer_state() -> impl Strategy<Value = GNode> {
    (
        prop::collection::vec((key(), tensor()), 0..4),
        prop::collection::vec((key(), scalar()), 0..4),
    )
        .prop_map(|(ts, sched)| {
            let mut items: Vec<(Obj, GNode)> = ts
                .into_iter()
                .map(|(k, t)| (k, GNode::Leaf(Obj::Tensor(t))))
                .collect();
            let sched = sched
                .into_iter()
                .map(|(k, v)| (k, GNode::Leaf(v)))
                .collect();
            items.push((Obj::Str("LR_Scheduler".into()), GNode::Dict(sched)));
            GNode::Dict(items)
        })
}

/// A save-side object as users pass it to `paddle.save`.
pub fn object() -> impl Strategy<Value = ObjGraph> {
    prop_oneof![
        3 => state_dict(),
        1 => optimizer_state(),
        6 => tree(),
    ]
    .prop_map(|g| g.build())
}

/// A protocol `paddle.save` accepts.
pub fn protocol() -> impl Strategy<Value = i64> {
    prop_oneof![Just(2i64), Just(3), Just(4)]
}
