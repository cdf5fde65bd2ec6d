//! The load view (`../shared/VIEW.md`, restated in `spec/view.md`): JSON describing what
//! `paddle.load` returns or raises, and the comparison that the harness uses on views.

use serde_json::{json, Map, Value as J};
use sha2::{Digest, Sha256};

use crate::paddle::value::ArrayView;
use crate::paddle::{LoadError, Value};

/// Version of the view format.
pub const VIEW_VERSION: u64 = 1;

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// sha256 (lowercase hex) of bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

fn float(v: f64) -> J {
    if v.is_nan() {
        J::from("nan")
    } else if v.is_infinite() {
        J::from(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        serde_json::Number::from_f64(v)
            .map(J::Number)
            .unwrap_or(J::Null)
    }
}

fn items(v: &[Value], hs: &mut Hashes) -> Result<J, LoadError> {
    Ok(J::Array(
        v.iter().map(|x| build(x, hs)).collect::<Result<_, _>>()?,
    ))
}

fn pairs(v: &[(Value, Value)], hs: &mut Hashes) -> Result<J, LoadError> {
    Ok(J::Array(
        v.iter()
            .map(|(k, x)| Ok(J::Array(vec![build(k, hs)?, build(x, hs)?])))
            .collect::<Result<_, LoadError>>()?,
    ))
}

fn shape(s: &[u64]) -> J {
    J::Array(s.iter().map(|&d| J::from(d)).collect())
}

/// The NODE for one loaded value. Arrays are hashed first, in parallel (see [`hash_arrays`]).
pub fn node(v: &Value) -> Result<J, LoadError> {
    node_with(v, &|_| {})
}

/// [`node`], reporting the bytes hashed so far through `done` (a progress bar).
pub fn node_with(v: &Value, done: &(dyn Fn(u64) + Sync)) -> Result<J, LoadError> {
    let mut arrays = Vec::new();
    collect_arrays(v, &mut arrays);
    let mut hashes = hash_arrays(&arrays, done).into_iter();
    build(v, &mut hashes)
}

/// The bytes [`node`] will hash: the total of the value's arrays.
pub fn array_bytes(v: &Value) -> u64 {
    let mut arrays = Vec::new();
    collect_arrays(v, &mut arrays);
    arrays.iter().map(|a| a.data.len() as u64).sum()
}

/// The arrays of a value in the order [`build`] meets them (depth-first, keys first).
fn collect_arrays<'v, 'g>(v: &'v Value<'g>, out: &mut Vec<&'v ArrayView<'g>>) {
    match v {
        Value::List(i) | Value::Tuple(i) | Value::Set(i) | Value::FrozenSet(i) => {
            i.iter().for_each(|x| collect_arrays(x, out))
        }
        Value::Dict(i) | Value::OrderedDict(i) => i.iter().for_each(|(k, x)| {
            collect_arrays(k, out);
            collect_arrays(x, out);
        }),
        Value::NdArray(a) | Value::Tensor { array: a, .. } => out.push(a),
        _ => {}
    }
}

/// sha256 (hex) of each array's C-order little-endian bytes, in order, hashed in
/// parallel across arrays ([`crate::par::map_by_size`]); `done(bytes)` reports progress.
pub fn hash_arrays(arrays: &[&ArrayView], done: &(dyn Fn(u64) + Sync)) -> Vec<String> {
    crate::par::map_by_size(
        arrays,
        |a| a.data.len(),
        |a| sha256_hex(&a.c_order_le()),
        done,
    )
}

type Hashes = std::vec::IntoIter<String>;

fn build(v: &Value, hs: &mut Hashes) -> Result<J, LoadError> {
    Ok(match v {
        Value::None => json!({"t": "none"}),
        Value::Bool(b) => json!({"t": "bool", "v": b}),
        Value::Int(i) => json!({"t": "int", "v": i.to_string()}),
        Value::Float(f) => json!({"t": "float", "v": float(*f)}),
        Value::Complex(r, i) => json!({"t": "complex", "re": float(*r), "im": float(*i)}),
        Value::Str(s) => json!({"t": "str", "v": s}),
        Value::Bytes(b) => json!({"t": "bytes", "hex": hex(b)}),
        Value::ByteArray(b) => json!({"t": "bytearray", "hex": hex(b)}),
        Value::List(i) => json!({"t": "list", "items": items(i, hs)?}),
        Value::Tuple(i) => json!({"t": "tuple", "items": items(i, hs)?}),
        Value::Dict(i) => json!({"t": "dict", "items": pairs(i, hs)?}),
        Value::OrderedDict(i) => json!({"t": "odict", "items": pairs(i, hs)?}),
        Value::Set(i) => json!({"t": "set", "items": items(i, hs)?}),
        Value::FrozenSet(i) => json!({"t": "frozenset", "items": items(i, hs)?}),
        Value::NdArray(a) => json!({
            "t": "ndarray", "dtype": a.dtype.name(), "shape": shape(&a.shape),
            "sha256": next_hash(hs)?,
        }),
        Value::NpScalar { dtype, data } => {
            let le = crate::numpy::to_little_endian(dtype.dtype, dtype.order, data);
            json!({"t": "npscalar", "dtype": dtype.dtype.name(), "hex": hex(&le)})
        }
        Value::Tensor { dtype, array, name } => {
            let name = name
                .as_deref()
                .filter(|n| !n.starts_with("generated_tensor"));
            json!({
                "t": "tensor", "dtype": dtype.name(), "shape": shape(&array.shape),
                "name": name, "sha256": next_hash(hs)?,
            })
        }
        Value::Program => json!({"t": "program"}),
        Value::Dtype(_) => return Err(LoadError::Unrepresentable("numpy.dtype")),
    })
}

fn next_hash(hs: &mut Hashes) -> Result<String, LoadError> {
    hs.next()
        .ok_or(LoadError::Unrepresentable("array met twice (view bug)"))
}

/// The top-level view of a load result. `Err` only when the result cannot be viewed at
/// all (pdsave refused the bytes, or the value has no node): Python errors are views.
///
/// ```
/// let bytes = std::fs::read("corpus/cases/y_p3_proto4_bf16_state_dict/model.pdparams").unwrap();
/// let r = pdsave::paddle::file::load_file_bytes(&bytes, Default::default());
/// let v = pdsave::view::view(&r).unwrap();
/// // uint16 arrays load as bfloat16 tensors (rule L-DTYPE).
/// assert_eq!(v["result"]["items"][0][1]["dtype"], "bfloat16");
/// ```
pub fn view(r: &Result<Value, LoadError>) -> Result<J, LoadError> {
    view_with(r, &|_| {})
}

/// [`view`] with progress reporting (bytes hashed).
pub fn view_with(
    r: &Result<Value, LoadError>,
    done: &(dyn Fn(u64) + Sync),
) -> Result<J, LoadError> {
    match r {
        Ok(v) => Ok(json!({"view": VIEW_VERSION, "result": node_with(v, done)?})),
        Err(LoadError::Python { class, .. }) => Ok(json!({"view": VIEW_VERSION, "error": class})),
        Err(e) => Err(e.clone()),
    }
}

/// Compares two views by the rules of VIEW.md: floats by bit pattern (any NaN equals any
/// NaN, -0.0 differs from 0.0), sets and frozensets order-insensitive, everything else
/// exact. Returns the JSON path of the first difference.
pub fn diff(a: &J, b: &J) -> Option<String> {
    diff_at(a, b, "$")
}

fn float_bits(v: &J) -> Option<u64> {
    match v {
        J::String(s) if s == "nan" => Some(f64::NAN.to_bits()),
        J::String(s) if s == "inf" => Some(f64::INFINITY.to_bits()),
        J::String(s) if s == "-inf" => Some(f64::NEG_INFINITY.to_bits()),
        J::Number(n) => n.as_f64().map(f64::to_bits),
        _ => None,
    }
}

fn diff_at(a: &J, b: &J, path: &str) -> Option<String> {
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            let t = x.get("t").and_then(J::as_str);
            if t != y.get("t").and_then(J::as_str) || x.len() != y.len() {
                return Some(format!("{path}: {} != {}", short(a), short(b)));
            }
            if matches!(t, Some("float")) {
                let (p, q) = (
                    x.get("v").and_then(float_bits),
                    y.get("v").and_then(float_bits),
                );
                let nan = |o: Option<u64>| o.map(|u| f64::from_bits(u).is_nan()).unwrap_or(false);
                return if p == q || (nan(p) && nan(q)) {
                    None
                } else {
                    Some(format!("{path}: {} != {}", short(a), short(b)))
                };
            }
            if matches!(t, Some("complex")) {
                for k in ["re", "im"] {
                    let f = |m: &Map<String, J>| {
                        m.get(k)
                            .map(|v| json!({"t": "float", "v": v}))
                            .unwrap_or(J::Null)
                    };
                    if let Some(d) = diff_at(&f(x), &f(y), &format!("{path}.{k}")) {
                        return Some(d);
                    }
                }
                return None;
            }
            if matches!(t, Some("set") | Some("frozenset")) {
                let (Some(J::Array(p)), Some(J::Array(q))) = (x.get("items"), y.get("items"))
                else {
                    return Some(format!("{path}: malformed set"));
                };
                if p.len() != q.len() {
                    return Some(format!("{path}: set sizes {} != {}", p.len(), q.len()));
                }
                let mut used = vec![false; q.len()];
                for (i, e) in p.iter().enumerate() {
                    let hit = q
                        .iter()
                        .enumerate()
                        .position(|(j, f)| !used[j] && diff_at(e, f, "").is_none());
                    match hit {
                        Some(j) => used[j] = true,
                        None => {
                            return Some(format!(
                                "{path}.items[{i}]: {} not in the other set",
                                short(e)
                            ))
                        }
                    }
                }
                return None;
            }
            for (k, v) in x {
                if t == Some("tensor") && k == "name" && generated_name_pair(v, y.get(k)) {
                    continue;
                }
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = diff_at(v, w, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}: key {k} missing")),
                }
            }
            None
        }
        (J::Array(x), J::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: lengths {} != {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| diff_at(p, q, &format!("{path}[{i}]")))
        }
        _ => {
            if a == b {
                None
            } else {
                Some(format!("{path}: {} != {}", short(a), short(b)))
            }
        }
    }
}

/// `null` and `eager_tmp_<N>` name the same thing: a name Paddle generated from a
/// process-wide counter (a tensor loaded with an empty saved name), spec rule L-NAME.
fn generated_name_pair(a: &J, b: Option<&J>) -> bool {
    let eager = |v: &J| {
        v.as_str().is_some_and(|s| {
            s.strip_prefix("eager_tmp_")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
        })
    };
    match b {
        Some(b) => (a.is_null() && eager(b)) || (b.is_null() && eager(a)),
        None => false,
    }
}

fn short(v: &J) -> String {
    let s = v.to_string();
    if s.len() > 160 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(160).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}
