//! `pdsave diff A B`: what differs between two checkpoints of any forms (a `.pdparams`
//! against its `.safetensors` conversion, a prefix against a state dict, …): entries only in
//! A or only in B, dtype/shape/kind changes, and for common tensors whether they are equal
//! or by how much they differ; other values compared as Python would. Entries are matched
//! by key path, or by Paddle parameter name (`by_name`). One tensor pair is in memory at a
//! time (the payloads are borrowed from the maps).

use std::collections::HashMap;

use serde::Serialize;

use crate::checkpoint::{Checkpoint, Entry, EntryValue};
use crate::dtype::DType;
use crate::paddle::load::ArrayRef;

/// How to match entries.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiffOptions {
    /// Match tensors by their Paddle parameter name instead of their key.
    pub by_name: bool,
}

/// A common tensor.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TensorDiff {
    pub key: String,
    pub dtype: DType,
    pub shape: Vec<u64>,
    /// Every element has the same bits (NaN payloads aside) in both.
    pub equal: bool,
    /// Elements that differ.
    pub differing: u64,
    pub numel: u64,
    /// max |a - b| over the elements (numbers only; `None` for dtypes without arithmetic).
    pub max_abs: Option<f64>,
    /// max |a - b| / |b| over the elements where b ≠ 0.
    pub max_rel: Option<f64>,
}

/// An entry present in both, but not comparable element by element.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Changed {
    pub key: String,
    pub a: String,
    pub b: String,
}

/// What `diff` found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    pub a: String,
    pub b: String,
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    /// dtype, shape or kind (tensor / ndarray / value) changes.
    pub changed: Vec<Changed>,
    /// Common tensors with the same dtype and shape, in A's order.
    pub tensors: Vec<TensorDiff>,
    /// Common values that differ.
    pub values: Vec<Changed>,
    pub identical: bool,
}

fn describe(v: &EntryValue) -> String {
    match v {
        EntryValue::Array {
            dtype,
            is_tensor,
            array,
            ..
        } => format!(
            "{} {dtype} {:?}",
            if *is_tensor { "tensor" } else { "ndarray" },
            array.shape
        ),
        EntryValue::Value(i) => crate::show::repr(i, 80),
    }
}

fn match_key(e: &Entry, by_name: bool) -> String {
    match (&e.value, by_name) {
        (EntryValue::Array { name: Some(n), .. }, true) => n.to_string(),
        _ => e.key.clone(),
    }
}

/// Compares two opened checkpoints.
pub fn diff(a: &Checkpoint, b: &Checkpoint, names: (&str, &str), opts: DiffOptions) -> Report {
    let ea = a.entries();
    let eb = b.entries();
    let index: HashMap<String, usize> = eb
        .iter()
        .enumerate()
        .map(|(i, e)| (match_key(e, opts.by_name), i))
        .collect();
    let mut seen = vec![false; eb.len()];
    let mut r = Report {
        a: names.0.to_string(),
        b: names.1.to_string(),
        only_a: vec![],
        only_b: vec![],
        changed: vec![],
        tensors: vec![],
        values: vec![],
        identical: false,
    };
    for x in &ea {
        let k = match_key(x, opts.by_name);
        let Some(&j) = index.get(&k) else {
            r.only_a.push(k);
            continue;
        };
        seen[j] = true;
        let y = &eb[j];
        match (&x.value, &y.value) {
            (
                EntryValue::Array {
                    dtype: da,
                    is_tensor: ta,
                    array: aa,
                    ..
                },
                EntryValue::Array {
                    dtype: db,
                    is_tensor: tb,
                    array: ab,
                    ..
                },
            ) if da == db && ta == tb && aa.shape == ab.shape => {
                r.tensors.push(compare(k, *da, aa, ab));
            }
            (EntryValue::Value(va), EntryValue::Value(vb)) => {
                let (sa, sb) = (
                    crate::show::repr(va, 1 << 20),
                    crate::show::repr(vb, 1 << 20),
                );
                if sa != sb {
                    r.values.push(Changed {
                        key: k,
                        a: crate::show::repr(va, 80),
                        b: crate::show::repr(vb, 80),
                    });
                }
            }
            (va, vb) => r.changed.push(Changed {
                key: k,
                a: describe(va),
                b: describe(vb),
            }),
        }
    }
    for (j, y) in eb.iter().enumerate() {
        if !seen[j] {
            r.only_b.push(match_key(y, opts.by_name));
        }
    }
    r.identical = r.only_a.is_empty()
        && r.only_b.is_empty()
        && r.changed.is_empty()
        && r.values.is_empty()
        && r.tensors.iter().all(|t| t.equal);
    r
}

/// Element values as numbers (complex: both parts, one after the other).
fn numbers(dtype: DType, le: &[u8]) -> Option<Vec<f64>> {
    let f =
        |n: usize, g: &dyn Fn(&[u8]) -> f64| -> Vec<f64> { le.chunks_exact(n).map(g).collect() };
    let arr = |c: &[u8]| -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..c.len()].copy_from_slice(c);
        b
    };
    Some(match dtype {
        DType::Bool | DType::UInt8 => f(1, &|c| c[0] as f64),
        DType::Int8 => f(1, &|c| c[0] as i8 as f64),
        DType::Int16 => f(2, &|c| i16::from_le_bytes([c[0], c[1]]) as f64),
        DType::UInt16 => f(2, &|c| u16::from_le_bytes([c[0], c[1]]) as f64),
        DType::Int32 => f(4, &|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
        DType::UInt32 => f(4, &|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
        DType::Int64 => f(8, &|c| i64::from_le_bytes(arr(c)) as f64),
        DType::UInt64 | DType::SizeT => f(8, &|c| u64::from_le_bytes(arr(c)) as f64),
        DType::Float16 => f(2, &|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64()),
        DType::BFloat16 => f(2, &|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64()),
        DType::Float32 | DType::Complex64 => {
            f(4, &|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
        }
        DType::Float64 | DType::Complex128 => f(8, &|c| f64::from_le_bytes(arr(c))),
        DType::Float8E4M3FN | DType::Float8E5M2 => return None,
    })
}

fn compare(key: String, dtype: DType, a: &ArrayRef, b: &ArrayRef) -> TensorDiff {
    let (la, lb) = (a.c_order_le(), b.c_order_le());
    let numel = a.numel();
    let mut d = TensorDiff {
        key,
        dtype,
        shape: a.shape.to_vec(),
        equal: la == lb,
        differing: 0,
        numel,
        max_abs: None,
        max_rel: None,
    };
    if d.equal {
        d.max_abs = numbers(dtype, &[]).map(|_| 0.0);
        d.max_rel = d.max_abs;
        return d;
    }
    let unit = dtype.swap_unit();
    let per = dtype.itemsize() / unit;
    match (numbers(dtype, &la), numbers(dtype, &lb)) {
        (Some(x), Some(y)) => {
            let (mut abs, mut rel) = (0.0f64, 0.0f64);
            let mut differing = 0u64;
            for (ex, ey) in x.chunks(per).zip(y.chunks(per)) {
                let mut diff = false;
                for (&p, &q) in ex.iter().zip(ey) {
                    if p.is_nan() && q.is_nan() {
                        continue;
                    }
                    if p.to_bits() != q.to_bits() {
                        diff = true;
                        let e = (p - q).abs();
                        if e.is_finite() || !(p.is_finite() && q.is_finite()) {
                            abs = abs.max(e);
                        }
                        if q != 0.0 {
                            rel = rel.max(e / q.abs());
                        }
                    }
                }
                differing += diff as u64;
            }
            d.equal = differing == 0;
            d.differing = differing;
            d.max_abs = Some(abs);
            d.max_rel = Some(rel);
        }
        _ => {
            let n = dtype.itemsize();
            d.differing = la
                .chunks(n)
                .zip(lb.chunks(n))
                .filter(|(p, q)| p != q)
                .count() as u64;
        }
    }
    d
}

/// The human report.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "--- {}\n+++ {}", r.a, r.b);
    for k in &r.only_a {
        let _ = writeln!(s, "- {k}");
    }
    for k in &r.only_b {
        let _ = writeln!(s, "+ {k}");
    }
    for c in &r.changed {
        let _ = writeln!(s, "~ {}: {} -> {}", c.key, c.a, c.b);
    }
    for c in &r.values {
        let _ = writeln!(s, "~ {}: {} -> {}", c.key, c.a, c.b);
    }
    let differ: Vec<&TensorDiff> = r.tensors.iter().filter(|t| !t.equal).collect();
    if !differ.is_empty() {
        let w = differ
            .iter()
            .map(|t| t.key.chars().count())
            .max()
            .unwrap_or(0);
        for t in &differ {
            let num = |v: Option<f64>| v.map_or("-".into(), crate::show::float_repr);
            let _ = writeln!(
                s,
                "~ {:<w$}  {} of {} elements differ, max abs {}, max rel {}",
                t.key,
                t.differing,
                t.numel,
                num(t.max_abs),
                num(t.max_rel),
            );
        }
    }
    let equal = r.tensors.len() - differ.len();
    let _ = writeln!(
        s,
        "{}: {} only in A, {} only in B, {} changed, {} of {} common tensors equal",
        if r.identical {
            "identical"
        } else {
            "different"
        },
        r.only_a.len(),
        r.only_b.len(),
        r.changed.len() + r.values.len(),
        equal,
        r.tensors.len(),
    );
    s
}
