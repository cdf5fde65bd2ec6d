//! The load view (`spec/view.md`, pdsave's copy of the shared view contract): JSON describing what
//! `paddle.load` returns or raises, and the comparison that the harness uses on views.
//!
//! The view is a [`serde::Serialize`] over the loaded value ([`Loaded`]): it streams to a
//! writer ([`write_view`]) or builds a JSON value ([`view`]) without a second tree of the
//! object. Each array is hashed once, however many paths reach it, in parallel across
//! arrays, before anything is written.

use std::collections::HashMap;

use serde::ser::{Error as _, SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value as J};

use crate::paddle::load::{ArrayId, ArrayRef, Item, Loaded};
use crate::paddle::LoadError;

/// Version of the view format.
pub const VIEW_VERSION: u64 = 1;

pub use crate::digest::sha256_hex;

/// The arrays of a loaded value, each once, in the order the view meets them first
/// (depth first, keys before values); `Err` if the value holds a numpy dtype object.
fn collect<'l>(
    item: Item<'l>,
    out: &mut Vec<ArrayRef<'l>>,
    seen: &mut HashMap<ArrayId, ()>,
) -> Result<(), LoadError> {
    crate::deep(|| {
        match item {
        Item::List(s) | Item::Tuple(s) | Item::Set(s) | Item::FrozenSet(s) => {
            s.iter().try_for_each(|x| collect(x, out, seen))
        }
        Item::Dict(m) | Item::OrderedDict(m) => m.iter().try_for_each(|(k, v)| {
            collect(k, out, seen)?;
            collect(v, out, seen)
        }),
        Item::NdArray(a) | Item::Tensor { array: a, .. } => {
            if seen.insert(a.id, ()).is_none() {
                out.push(a);
            }
            Ok(())
        }
        Item::Dtype(_) => Err(LoadError::Unrepresentable("numpy.dtype")),
        Item::Int(i) if too_many_digits(i) => Err(LoadError::Unrepresentable(
            "decimal integer of more than 4300 digits (CPython's str() raises ValueError past sys.int_max_str_digits, and printing it would take time quadratic in its size)",
        )),
        _ => Ok(()),
    }
    })
}

/// Longest decimal integer a view prints: CPython's default `sys.int_max_str_digits`.
pub const MAX_INT_DIGITS: usize = 4300;

/// Whether `i` has more than [`MAX_INT_DIGITS`] decimal digits (told from its bit length,
/// printing it only near the limit).
pub fn too_many_digits(i: &crate::pickle::PyInt) -> bool {
    match i {
        crate::pickle::PyInt::Small(_) => false,
        crate::pickle::PyInt::Big(b) => match b.bits() {
            0..=14_000 => false,
            14_301.. => true,
            _ => b.magnitude().to_string().len() > MAX_INT_DIGITS,
        },
    }
}

/// The bytes the view hashes: the total of the value's distinct arrays.
pub fn array_bytes(l: &Loaded) -> u64 {
    let (mut arrays, mut seen) = (Vec::new(), HashMap::new());
    let _ = collect(l.root(), &mut arrays, &mut seen);
    arrays.iter().map(|a| a.data.len() as u64).sum()
}

/// sha256 (hex) of each array's C-order little-endian bytes, in order, hashed in
/// parallel across arrays ([`crate::par::map_by_size`]); `done(bytes)` reports progress.
pub fn hash_arrays(arrays: &[ArrayRef], done: &(dyn Fn(u64) + Sync)) -> Vec<String> {
    // Progress is reported per 16 MiB hashed, so that one big array moves the bar too.
    crate::par::map_by_size(
        arrays,
        |a| a.data.len(),
        |a| crate::digest::sha256_hex_chunked(&a.c_order_le(), 16 << 20, done),
        &|_| {},
    )
}

/// A loaded value ready to serialize as its view: every array hashed.
pub struct Prepared<'l> {
    root: Item<'l>,
    cx: Cx,
}

/// What serializing a view needs besides the value.
struct Cx {
    hashes: HashMap<ArrayId, String>,
    /// The serializer writes JSON text (serde_json's writer), so a str with lone surrogates
    /// is written with `\udXXX` escapes as Python's `json.dumps` writes it; a JSON value
    /// (serde_json::Value cannot hold them) gets U+FFFD in their place.
    raw: bool,
}

impl<'l> Prepared<'l> {
    /// Hashes the value's arrays; `done(bytes)` reports progress. `Err` when the value has
    /// no view (it holds a numpy dtype object).
    pub fn new(l: &'l Loaded<'l>, done: &(dyn Fn(u64) + Sync)) -> Result<Prepared<'l>, LoadError> {
        let root = l.root();
        let (mut arrays, mut seen) = (Vec::new(), HashMap::new());
        collect(root, &mut arrays, &mut seen)?;
        let hashes = hash_arrays(&arrays, done);
        Ok(Prepared {
            root,
            cx: Cx {
                hashes: arrays.iter().map(|a| a.id).zip(hashes).collect(),
                raw: true,
            },
        })
    }
}

impl Serialize for Prepared<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("view", &VIEW_VERSION)?;
        m.serialize_entry("result", &Node(self.root, &self.cx))?;
        m.end()
    }
}

/// The NODE of one loaded object.
struct Node<'a, 'l>(Item<'l>, &'a Cx);

/// A float as VIEW.md writes it: a number, or `"nan"`, `"inf"`, `"-inf"`.
struct Float(f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("nan")
        } else if v.is_infinite() {
            s.serialize_str(if v > 0.0 { "inf" } else { "-inf" })
        } else {
            s.serialize_f64(v)
        }
    }
}

struct Items<'a, 'l>(crate::paddle::load::Seq<'l>, &'a Cx);
struct Pairs<'a, 'l>(crate::paddle::load::Map<'l>, &'a Cx);

/// A str with lone surrogates (`surrogatepass` UTF-8) as a JSON string.
struct WStr<'a>(&'a [u8], bool);

impl Serialize for WStr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::pickle::surrogate_runs;
        if !self.1 {
            return s.serialize_str(&crate::pickle::decode::lossy_text(self.0));
        }
        let mut text = String::from("\"");
        for r in surrogate_runs(self.0) {
            match r {
                Ok(run) => {
                    let q = serde_json::to_string(run).map_err(S::Error::custom)?;
                    text.push_str(&q[1..q.len() - 1]);
                }
                Err(cp) => text.push_str(&format!("\\u{cp:04x}")),
            }
        }
        text.push('"');
        let raw = serde_json::value::RawValue::from_string(text).map_err(S::Error::custom)?;
        raw.serialize(s)
    }
}

impl Serialize for Items<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.0.len()))?;
        for x in self.0.iter() {
            q.serialize_element(&Node(x, self.1))?;
        }
        q.end()
    }
}

impl Serialize for Pairs<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            q.serialize_element(&(Node(k, self.1), Node(v, self.1)))?;
        }
        q.end()
    }
}

struct Shape<'a>(&'a [u64]);

impl Serialize for Shape<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0)
    }
}

impl Serialize for Node<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hs = self.1;
        let hash = |a: &ArrayRef| {
            hs.hashes
                .get(&a.id)
                .ok_or_else(|| S::Error::custom("array not hashed (view bug)"))
        };
        crate::deep(|| {
            macro_rules! obj {
                ($($k:literal => $v:expr),* $(,)?) => {{
                    let mut m = s.serialize_map(None)?;
                    $(m.serialize_entry($k, &$v)?;)*
                    m.end()
                }};
            }
            match self.0 {
                Item::None => obj!("t" => "none"),
                Item::Program => obj!("t" => "program"),
                Item::Bool(b) => obj!("t" => "bool", "v" => b),
                Item::Int(i) => obj!("t" => "int", "v" => i.to_string()),
                Item::Float(f) => obj!("t" => "float", "v" => Float(f)),
                Item::Complex(r, i) => obj!("t" => "complex", "re" => Float(r), "im" => Float(i)),
                Item::Str(v) => obj!("t" => "str", "v" => v),
                Item::WStr(b) => obj!("t" => "str", "v" => WStr(b, hs.raw)),
                Item::Bytes(b) => obj!("t" => "bytes", "hex" => hex::encode(b)),
                Item::ByteArray(b) => obj!("t" => "bytearray", "hex" => hex::encode(b)),
                Item::List(q) => obj!("t" => "list", "items" => Items(q, hs)),
                Item::Tuple(q) => obj!("t" => "tuple", "items" => Items(q, hs)),
                Item::Set(q) => obj!("t" => "set", "items" => Items(q, hs)),
                Item::FrozenSet(q) => obj!("t" => "frozenset", "items" => Items(q, hs)),
                Item::Dict(p) => obj!("t" => "dict", "items" => Pairs(p, hs)),
                Item::OrderedDict(p) => obj!("t" => "odict", "items" => Pairs(p, hs)),
                Item::NdArray(a) => obj!(
                    "t" => "ndarray", "dtype" => a.dtype.name(), "shape" => Shape(a.shape),
                    "sha256" => hash(&a)?,
                ),
                Item::NpScalar { dtype, data } => {
                    let le = crate::numpy::to_little_endian(dtype.dtype, dtype.order, data);
                    obj!("t" => "npscalar", "dtype" => dtype.dtype.name(), "hex" => hex::encode(&le))
                }
                Item::Tensor { dtype, array, name } => {
                    // L-NAME: a name Paddle generated is null in the view.
                    let name = name.filter(|n| !n.starts_with("generated_tensor"));
                    obj!(
                        "t" => "tensor", "dtype" => dtype.name(), "shape" => Shape(array.shape),
                        "name" => name, "sha256" => hash(&array)?,
                    )
                }
                Item::Dtype(_) => Err(S::Error::custom(
                    "a numpy.dtype has no node in the load view",
                )),
            }
        })
    }
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
pub fn view(r: &Result<Loaded, LoadError>) -> Result<J, LoadError> {
    view_with(r, &|_| {})
}

/// [`view`] with progress reporting (bytes hashed).
pub fn view_with(
    r: &Result<Loaded, LoadError>,
    done: &(dyn Fn(u64) + Sync),
) -> Result<J, LoadError> {
    match r {
        Ok(l) => {
            let mut p = Prepared::new(l, done)?;
            p.cx.raw = false;
            serde_json::to_value(&p).map_err(|_| LoadError::Unrepresentable("value"))
        }
        Err(LoadError::Python { class, .. }) => Ok(json!({"view": VIEW_VERSION, "error": class})),
        Err(e) => Err(e.clone()),
    }
}

/// Writes the view of a load result to `w` as compact JSON, streaming (no JSON tree is
/// built); the same bytes as `view(r)?.to_string()`.
pub fn write_view(
    r: &Result<Loaded, LoadError>,
    w: impl std::io::Write,
    done: &(dyn Fn(u64) + Sync),
) -> Result<Result<(), std::io::Error>, LoadError> {
    match r {
        Ok(l) => {
            let p = Prepared::new(l, done)?;
            Ok(serde_json::to_writer(w, &p).map_err(std::io::Error::from))
        }
        Err(LoadError::Python { class, .. }) => Ok(serde_json::to_writer(
            w,
            &json!({"view": VIEW_VERSION, "error": class}),
        )
        .map_err(std::io::Error::from)),
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
