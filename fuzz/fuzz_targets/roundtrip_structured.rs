//! Structured round trip: a save-side object built from arbitrary data (at most 64
//! objects, arrays and tensors of at most 3 dims of at most 4, shared references, no
//! cycles) → `paddle.save` reference → pickle encode → decode → `paddle.load` must give the
//! same load view as `load_graph` on the graph `save` returned, for each option set; the
//! encoder's output re-encodes identically; `classify_object` must not panic.
//!
//! Objects follow Python's rules so that they mean one thing: dict keys and set items are
//! hashable and pairwise unequal in Python (1 == 1.0 == True; NaN only equals itself),
//! array and tensor data have exactly the bytes their shape needs.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use num_bigint::BigInt;
use num_traits::FromPrimitive;
use pdsave::dtype::DType;

use pdsave::numpy::Flavour;
use pdsave::paddle::classify::{classify_graph, classify_object};
use pdsave::paddle::object::{Array, Obj, ObjGraph, ObjId, Tensor, TensorKind};
use pdsave::paddle::save::{save, SaveOptions, Saved};
use pdsave::paddle::{load_graph, LoadOptions};
use pdsave::pickle::{decode, encode, EncodeOptions, PyInt};
use pdsave::view::{diff, view};

const MAX_OBJS: usize = 64;
const MAX_ITEMS: usize = 8;
/// Largest tree the object may expand to (shared references counted each time).
const MAX_EXPANDED: u64 = 4096;

const PADDLE_DTYPES: [DType; 12] = [
    DType::Bool,
    DType::Int8,
    DType::Int16,
    DType::Int32,
    DType::Int64,
    DType::UInt8,
    DType::Float16,
    DType::BFloat16,
    DType::Float32,
    DType::Float64,
    DType::Complex64,
    DType::Complex128,
];

/// Python-equality key of a hashable object; `None` when unhashable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum K {
    None,
    Num(BigInt),
    Float(u64),
    Complex(u64, u64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<K>),
    FrozenSet(Vec<K>),
    /// NaN: equal only to itself.
    Identity(ObjId),
}

fn real_key(id: ObjId, f: f64) -> K {
    if f.is_nan() {
        K::Identity(id)
    } else if f.is_finite() && f.fract() == 0.0 {
        K::Num(BigInt::from_f64(f).unwrap_or_default())
    } else {
        K::Float(f.to_bits())
    }
}

fn key(g: &ObjGraph, id: ObjId) -> Option<K> {
    Some(match g.get(id) {
        Obj::None => K::None,
        Obj::Bool(b) => K::Num(BigInt::from(*b as u8)),
        Obj::Int(i) => K::Num(i.to_big()),
        Obj::Float(f) => real_key(id, *f),
        Obj::Complex(r, i) if *i == 0.0 => real_key(id, *r),
        Obj::Complex(r, i) if r.is_nan() || i.is_nan() => K::Identity(id),
        Obj::Complex(r, i) => K::Complex(r.to_bits(), i.to_bits()),
        Obj::Str(s) => K::Str(s.clone()),
        Obj::Bytes(b) => K::Bytes(b.clone()),
        Obj::Tuple(v) => K::Tuple(v.iter().map(|&i| key(g, i)).collect::<Option<_>>()?),
        Obj::FrozenSet(v) => {
            let mut k: Vec<K> = v.iter().map(|&i| key(g, i)).collect::<Option<_>>()?;
            k.sort();
            K::FrozenSet(k)
        }
        _ => return None,
    })
}

fn small_string(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(0..=12)?;
    let mut s = String::new();
    for _ in 0..n {
        s.push(match u.int_in_range(0..=9)? {
            0 => char::arbitrary(u)?,
            1 => *u.choose(&['é', 'ÿ', '中', '\0', '@', '.'])?,
            _ => (b'a' + u.int_in_range(0..=25)?) as char,
        });
    }
    if u.ratio(1, 16)? {
        s = u
            .choose(&[
                "StructuredToParameterName@@",
                "UnpackBigParamInfor@@",
                "slices",
                "OriginShape",
                "w@@.0",
                "w",
            ])?
            .to_string();
    }
    Ok(s)
}

fn bytes(u: &mut Unstructured, n: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    let avail = u.len().min(n);
    u.fill_buffer(&mut v[..avail])?;
    Ok(v)
}

fn shape(u: &mut Unstructured) -> Result<Vec<u64>> {
    let nd = u.int_in_range(0..=3)?;
    (0..nd).map(|_| u.int_in_range(0..=4u64)).collect()
}

fn array(u: &mut Unstructured) -> Result<Array> {
    let dtype = *u.choose(&DType::numpy_dtypes().collect::<Vec<_>>())?;
    let shape = shape(u)?;
    let n = shape.iter().product::<u64>() as usize * dtype.itemsize();
    let order = if dtype.itemsize() > 1 && u.ratio(1, 8)? {
        b'>'
    } else {
        dtype.native_order()
    };
    let fortran = shape.len() >= 2 && bool::arbitrary(u)?;
    let mut data = bytes(u, n)?;
    if dtype == DType::Bool {
        data.iter_mut().for_each(|b| *b &= 1);
    }
    Ok(Array {
        dtype,
        order,
        shape,
        fortran,
        data,
    })
}

fn tensor(u: &mut Unstructured) -> Result<Tensor> {
    let kind = *u.choose(&[
        TensorKind::Dynamic,
        TensorKind::Parameter,
        TensorKind::Static,
    ])?;
    let dtype = *u.choose(&PADDLE_DTYPES)?;
    let shape = shape(u)?;
    let n = shape.iter().product::<u64>() as usize * dtype.numpy_carrier().itemsize();
    let mut data = bytes(u, n)?;
    if dtype == DType::Bool {
        data.iter_mut().for_each(|b| *b &= 1);
    }
    let name = match kind {
        TensorKind::Static => None,
        _ => Some(small_string(u)?),
    };
    let stop_gradient = match kind {
        TensorKind::Parameter => false,
        TensorKind::Static => true,
        TensorKind::Dynamic => bool::arbitrary(u)?,
    };
    Ok(Tensor {
        kind,
        dtype,
        shape,
        data,
        name,
        stop_gradient,
    })
}

fn float(u: &mut Unstructured) -> Result<f64> {
    Ok(match u.int_in_range(0..=5)? {
        0 => *u.choose(&[
            0.0,
            -0.0,
            1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            0.5,
        ])?,
        _ => f64::arbitrary(u)?,
    })
}

fn int(u: &mut Unstructured) -> Result<PyInt> {
    Ok(match u.int_in_range(0..=5)? {
        0 => {
            let n = u.int_in_range(9..=24)?;
            let b = bytes(u, n)?;
            PyInt::from_big(BigInt::from_signed_bytes_le(&b))
        }
        1 => PyInt::Small(*u.choose(&[
            0,
            1,
            -1,
            255,
            256,
            65535,
            65536,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ])?),
        _ => PyInt::Small(i64::arbitrary(u)?),
    })
}

/// Distinct hashable items among `candidates` (Python equality).
fn distinct_hashables(g: &ObjGraph, candidates: Vec<ObjId>) -> Vec<ObjId> {
    let mut seen: Vec<K> = Vec::new();
    let mut out = Vec::new();
    for c in candidates {
        if let Some(k) = key(g, c) {
            if !seen.contains(&k) {
                seen.push(k);
                out.push(c);
            }
        }
    }
    out
}

fn refs(u: &mut Unstructured, below: usize) -> Result<Vec<ObjId>> {
    if below == 0 {
        return Ok(vec![]);
    }
    let n = u.int_in_range(0..=MAX_ITEMS)?;
    (0..n).map(|_| u.int_in_range(0..=below - 1)).collect()
}

fn object(u: &mut Unstructured, g: &ObjGraph, below: usize) -> Result<Obj> {
    Ok(match u.int_in_range(0..=20)? {
        0 => Obj::None,
        1 => Obj::Bool(bool::arbitrary(u)?),
        2 => Obj::Int(int(u)?),
        3 => Obj::Float(float(u)?),
        4 => Obj::Complex(float(u)?, float(u)?),
        5 => Obj::Str(small_string(u)?),
        6 => {
            let n = u.int_in_range(0..=8)?;
            Obj::Bytes(bytes(u, n)?)
        }
        7 => {
            let n = u.int_in_range(0..=8)?;
            Obj::ByteArray(bytes(u, n)?)
        }
        8 | 9 => Obj::List(refs(u, below)?),
        10 | 11 => Obj::Tuple(refs(u, below)?),
        12 | 13 | 14 => {
            let keys = distinct_hashables(g, refs(u, below)?);
            let mut items = Vec::new();
            for k in keys {
                items.push((k, u.int_in_range(0..=below - 1)?));
            }
            if bool::arbitrary(u)? {
                Obj::Dict(items)
            } else {
                Obj::OrderedDict(items)
            }
        }
        15 => Obj::Set(distinct_hashables(g, refs(u, below)?)),
        16 => Obj::FrozenSet(distinct_hashables(g, refs(u, below)?)),
        17 => Obj::NdArray(array(u)?),
        18 => {
            let dtype = *u.choose(&DType::numpy_dtypes().collect::<Vec<_>>())?;
            Obj::NpScalar {
                dtype,
                data: bytes(u, dtype.itemsize())?,
            }
        }
        19 => Obj::Tensor(tensor(u)?),
        _ => u
            .choose(&[Obj::Layer, Obj::Program, Obj::None, Obj::None])?
            .clone(),
    })
}

/// Tree size of the object with shared references expanded, saturating at `cap`.
fn expanded(g: &ObjGraph, cap: u64) -> u64 {
    let mut memo = vec![0u64; g.objs.len()];
    for i in 0..g.objs.len() {
        let kids: Vec<ObjId> = match &g.objs[i] {
            Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) | Obj::FrozenSet(v) => v.clone(),
            Obj::Dict(p) | Obj::OrderedDict(p) => p.iter().flat_map(|&(k, v)| [k, v]).collect(),
            _ => vec![],
        };
        memo[i] = kids
            .iter()
            .fold(1u64, |a, &k| a.saturating_add(memo[k]))
            .min(cap);
    }
    memo[g.root]
}

#[derive(Debug)]
struct Case {
    obj: ObjGraph,
    opts: SaveOptions,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u.int_in_range(1..=MAX_OBJS)?;
        let mut g = ObjGraph::default();
        for i in 0..n {
            let o = object(u, &g, i)?;
            g.add(o);
        }
        // Usually the last object (which holds the most), sometimes another.
        g.root = if u.ratio(7, 8)? {
            n - 1
        } else {
            u.int_in_range(0..=n - 1)?
        };
        let opts = SaveOptions {
            protocol: *u.choose(&[2, 3, 4, 4, 1, 5])?,
            flavour: *u.choose(&[Flavour::Numpy1, Flavour::Numpy2])?,
            big_param_bytes: if u.ratio(1, 4)? {
                u.int_in_range(0..=64)?
            } else {
                SaveOptions::default().big_param_bytes
            },
        };
        Ok(Case { obj: g, opts })
    }
}

fuzz_target!(|case: Case| {
    let Case { obj, opts } = case;
    if expanded(&obj, MAX_EXPANDED + 1) > MAX_EXPANDED {
        return;
    }
    let _ = classify_object(&obj, &opts);
    let saved = match save(&obj, &opts) {
        Ok(Saved::Pickle(g)) => g,
        Ok(Saved::Program) | Err(_) => return,
    };
    let protocol = opts.protocol as u8;
    let bytes = match encode(
        &saved,
        &EncodeOptions {
            protocol,
            flavour: None,
        },
    ) {
        Ok(b) => b,
        Err(e) => panic!("the encoder refuses what paddle.save made: {e}"),
    };
    let decoded = match decode(&bytes) {
        Ok(g) => g,
        Err(e) => panic!("the decoder refuses the encoder's output: {e}"),
    };
    let again = encode(&decoded, &EncodeOptions::like(&decoded)).expect("re-encoding");
    assert!(
        again == bytes,
        "re-encoding the decoded save changes the bytes"
    );
    let _ = classify_graph(&decoded);
    for (name, lo) in LoadOptions::SETS {
        let a = view(&load_graph(&saved, lo));
        let b = view(&load_graph(&decoded, lo));
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert!(
                diff(x, y).is_none(),
                "{name}: {:?}\nsaved:   {x}\ndecoded: {y}",
                diff(x, y)
            ),
            (Err(x), Err(y)) => assert_eq!(
                std::mem::discriminant(x),
                std::mem::discriminant(y),
                "{name}: {x} vs {y}"
            ),
            _ => panic!("{name}: saved graph gives {a:?}, decoded bytes give {b:?}"),
        }
    }
});
