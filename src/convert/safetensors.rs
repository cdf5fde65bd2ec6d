//! safetensors, written and read with the `safetensors` crate: arrays → a `.safetensors`
//! (little-endian, C order, bfloat16 as `BF16`), and a `.safetensors` → a pickle, either the
//! exact pickle of a pdsave skeleton or the state dict `paddle.save` writes for its tensors.

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::tensor::{Dtype, Metadata, TensorInfo};

use super::skeleton::{self, Stored};
use super::{
    ConvertError, ConvertOptions, NamedArray, Report, TensorLine, SKELETON_KEY, TABLE_KEY,
};
use crate::paddle::object::{self, Obj, ObjGraph, Tensor, TensorKind};
use crate::paddle::save::{save, SaveOptions, Saved};
use crate::pickle::{self, EncodeOptions, Graph, Node};

/// The safetensors dtype an array is written as (the dtype table's, [`DType::safetensors`]),
/// and whether a trailing dimension of 2 is added (complex128 as float64 pairs).
fn st_dtype(output: &Path, a: &NamedArray<'_>) -> Result<(Dtype, bool), ConvertError> {
    a.elem.safetensors().ok_or_else(|| ConvertError::Tensor {
        path: output.to_path_buf(),
        name: a.name.clone(),
        reason: format!("safetensors has no {} dtype", a.elem),
    })
}

/// One tensor of a safetensors file to write: its header entry; its bytes (C order,
/// little-endian) come from the writer's `fetch`, one tensor at a time.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Byte length of the data.
    pub len: usize,
}

fn shape_string(s: &[usize]) -> Vec<u64> {
    s.iter().map(|&d| d as u64).collect()
}

/// The header a safetensors file of `entries` has, laid out as the `safetensors` library
/// lays it out (`prepare`): tensors by descending dtype, then name; data offsets in that
/// order; `__metadata__` first (its keys in the order given), the JSON padded with spaces
/// to a multiple of 8 bytes. Returns the header bytes (length prefix included) and the
/// entries' indexes in data order.
pub fn header(entries: &[Entry], metadata: Option<&[(String, String)]>) -> (Vec<u8>, Vec<usize>) {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&entries[a], &entries[b]);
        y.dtype.cmp(&x.dtype).then(x.name.cmp(&y.name))
    });
    let js = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut h = String::from("{");
    if let Some(metadata) = metadata {
        h.push_str("\"__metadata__\":{");
        for (i, (k, v)) in metadata.iter().enumerate() {
            if i > 0 {
                h.push(',');
            }
            h.push_str(&js(k));
            h.push(':');
            h.push_str(&js(v));
        }
        h.push('}');
    }
    let mut offset = 0usize;
    for (n, &i) in order.iter().enumerate() {
        let e = &entries[i];
        if n > 0 || metadata.is_some() {
            h.push(',');
        }
        let info = TensorInfo {
            dtype: e.dtype,
            shape: e.shape.clone(),
            data_offsets: (offset, offset + e.len),
        };
        offset += e.len;
        h.push_str(&js(&e.name));
        h.push(':');
        h.push_str(&serde_json::to_string(&info).unwrap_or_default());
    }
    h.push('}');
    let mut body = h.into_bytes();
    body.resize(body.len().next_multiple_of(8), b' ');
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    (out, order)
}

/// Writes a safetensors file through the atomic writer, streaming: the header from the
/// entries, then each tensor's bytes as `fetch(i)` gives them, in parts that follow each
/// other (one tensor in memory at a time at most; borrowed bytes are written straight
/// from where they are).
pub fn write_stream<'s>(
    output: &Path,
    entries: &[Entry],
    metadata: Option<&[(String, String)]>,
    mut fetch: impl FnMut(usize) -> Result<Vec<Cow<'s, [u8]>>, String>,
) -> Result<(), ConvertError> {
    let (head, order) = header(entries, metadata);
    super::write_atomically(output, |w| {
        use std::io::Write;
        w.write_all(&head).map_err(|e| e.to_string())?;
        for i in order {
            let parts = fetch(i)?;
            let n: usize = parts.iter().map(|p| p.len()).sum();
            if n != entries[i].len {
                return Err(format!(
                    "tensor {:?}: {n} bytes, its header says {}",
                    entries[i].name, entries[i].len
                ));
            }
            for p in &parts {
                write_payload(w, p).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}

/// Bytes at or above this size borrowed from an input's map are copied file to file in
/// the kernel ([`crate::mapped::write_borrowed`]); smaller ones go through the buffer.
pub const DIRECT_COPY: usize = 1 << 16;

/// Writes one payload: a large one borrowed from a mapped input without touching its
/// pages, the rest through the buffer.
pub fn write_payload(
    w: &mut std::io::BufWriter<std::fs::File>,
    data: &[u8],
) -> std::io::Result<()> {
    use std::io::Write;
    if data.len() < DIRECT_COPY {
        return w.write_all(data);
    }
    w.flush()?;
    crate::mapped::write_borrowed(w.get_mut(), data)
}

/// Metadata in a deterministic order: sorted by key.
pub fn sorted(metadata: HashMap<String, String>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = metadata.into_iter().collect();
    v.sort();
    v
}

/// Writes arrays as a safetensors file (through a sibling temporary file, then renamed),
/// metadata keys sorted.
pub fn write(
    output: &Path,
    arrays: &[NamedArray<'_>],
    metadata: HashMap<String, String>,
    report: &mut Report,
) -> Result<(), ConvertError> {
    let mut entries = Vec::with_capacity(arrays.len());
    for a in arrays {
        let (dtype, pair) = st_dtype(output, a)?;
        let mut shape: Vec<usize> = a
            .shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<_, _>>()
            .map_err(|_| ConvertError::Tensor {
                path: output.to_path_buf(),
                name: a.name.clone(),
                reason: "shape does not fit this machine".into(),
            })?;
        if pair {
            shape.push(2);
        }
        report.tensors.push(TensorLine {
            name: a.name.clone(),
            dtype: if pair {
                format!("{} (float64 pairs)", a.elem)
            } else {
                a.elem.name().to_string()
            },
            shape: shape_string(&shape),
        });
        entries.push(Entry {
            name: a.name.clone(),
            dtype,
            shape,
            len: a.data.len(),
        });
    }
    if arrays.iter().any(|a| a.elem == DType::Complex128) {
        report.notes.push(
            "complex128 arrays are stored as F64 with a last dimension of 2 (real, imaginary)"
                .into(),
        );
    }
    write_stream(output, &entries, Some(&sorted(metadata)), |i| {
        Ok(vec![arrays[i].c_order_le()])
    })
}

/// A parsed safetensors file: its header and the bytes it indexes.
pub struct Read<'a> {
    pub metadata: Metadata,
    /// The tensor data area (after the header).
    pub data: &'a [u8],
}

impl<'a> Read<'a> {
    /// Tensors in file order (by data offset, then name: empty tensors share offsets).
    pub fn ordered(&self) -> Vec<(String, &TensorInfo)> {
        let mut v: Vec<(String, &TensorInfo)> = self.metadata.tensors().into_iter().collect();
        v.sort_by(|a, b| (a.1.data_offsets, &a.0).cmp(&(b.1.data_offsets, &b.0)));
        v
    }
    pub fn bytes(&self, info: &TensorInfo) -> &'a [u8] {
        let (s, e) = info.data_offsets;
        self.data.get(s..e).unwrap_or(&[])
    }
}

/// Parses a safetensors file's header; sizes are checked against the file's length by the
/// crate (offsets contiguous, each tensor's byte size = its shape × dtype, header ≤ 100 MB).
pub fn read<'a>(path: &Path, data: &'a [u8]) -> Result<Read<'a>, ConvertError> {
    let (n, metadata) =
        safetensors::SafeTensors::read_metadata(data).map_err(|e| ConvertError::Safetensors {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let start = n
        .checked_add(8)
        .filter(|&s| s <= data.len())
        .ok_or_else(|| ConvertError::Safetensors {
            path: path.to_path_buf(),
            reason: "header longer than the file".into(),
        })?;
    Ok(Read {
        metadata,
        data: &data[start..],
    })
}

/// The tensors of a safetensors file as arrays, in file order.
pub fn arrays<'a>(path: &Path, st: &Read<'a>) -> Result<Vec<NamedArray<'a>>, ConvertError> {
    st.ordered()
        .into_iter()
        .map(|(name, info)| {
            let elem = DType::from_safetensors(info.dtype).ok_or_else(|| ConvertError::Tensor {
                path: path.to_path_buf(),
                name: name.clone(),
                reason: format!("dtype {:?} has no numpy or Paddle counterpart", info.dtype),
            })?;
            Ok(NamedArray {
                name,
                elem,
                shape: shape_string(&info.shape),
                data: Cow::Borrowed(st.bytes(info)),
                order: elem.numpy_carrier().native_order(),
                fortran: false,
            })
        })
        .collect()
}

fn table(meta: &HashMap<String, String>) -> HashMap<String, String> {
    let Some(t) = meta.get(TABLE_KEY) else {
        return HashMap::new();
    };
    match serde_json::from_str::<serde_json::Value>(t) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect(),
        _ => HashMap::new(),
    }
}

/// A safetensors file → a pickle.
pub fn to_pickle(
    src: &Path,
    data: &[u8],
    output: &Path,
    opts: &ConvertOptions,
    report: &mut Report,
) -> Result<(), ConvertError> {
    let st = read(src, data)?;
    let meta = st.metadata.metadata().clone().unwrap_or_default();
    match meta.get(SKELETON_KEY) {
        Some(s) => from_skeleton(src, &st, s, output, report),
        None => {
            let mut items = Vec::new();
            for (name, info) in st.ordered() {
                let elem =
                    DType::from_safetensors(info.dtype).ok_or_else(|| ConvertError::Tensor {
                        path: src.to_path_buf(),
                        name: name.clone(),
                        reason: format!("dtype {:?} has no Paddle counterpart", info.dtype),
                    })?;
                items.push(Item {
                    name,
                    elem,
                    shape: shape_string(&info.shape),
                    data: Cow::Borrowed(st.bytes(info)),
                });
            }
            state_dict(src, items, &meta, output, opts, report)
        }
    }
}

/// The pickle graph a pdsave-written safetensors file holds (its skeleton and tensors), or
/// `None` for a safetensors file without pdsave metadata. The graph borrows the tensors.
pub fn skeleton_graph<'a>(src: &Path, data: &'a [u8]) -> Result<Option<Graph<'a>>, ConvertError> {
    let st = read(src, data)?;
    let meta = st.metadata.metadata().clone().unwrap_or_default();
    let Some(skel) = meta.get(SKELETON_KEY) else {
        return Ok(None);
    };
    let mut report = Report {
        input: src.display().to_string(),
        input_format: super::Format::Safetensors,
        output: String::new(),
        output_format: super::Format::Pickle,
        tensors: vec![],
        non_tensor_entries: vec![],
        exact: None,
        notes: vec![],
    };
    rebuild_graph(src, &st, skel, &mut report).map(Some)
}

/// Rebuilds a skeleton's graph, every tensor checked against what the pickle needs.
fn rebuild_graph<'a>(
    src: &Path,
    st: &Read<'a>,
    skel: &str,
    report: &mut Report,
) -> Result<Graph<'a>, ConvertError> {
    let bad = |reason: String| ConvertError::Skeleton {
        path: src.to_path_buf(),
        reason,
    };
    let j: serde_json::Value = serde_json::from_str(skel).map_err(|e| bad(e.to_string()))?;
    let infos = st.metadata.tensors();
    let mut used: HashSet<String> = HashSet::new();
    let g = skeleton::rebuild(&j, |name, want| {
        let info = infos
            .get(name)
            .ok_or_else(|| format!("tensor {name:?} is not in the file"))?;
        let mut shape = shape_string(&info.shape);
        let ok = match want {
            DType::Complex128 => info.dtype == Dtype::F64 && shape.pop() == Some(2),
            DType::UInt16 => matches!(info.dtype, Dtype::U16 | Dtype::BF16),
            d => d.safetensors().map(|s| s.0) == Some(info.dtype),
        };
        if !ok {
            return Err(format!(
                "tensor {name:?}: dtype {:?} shape {:?} cannot hold the pickle's {} array",
                info.dtype,
                info.shape,
                want.name()
            ));
        }
        if used.insert(name.to_string()) {
            report.tensors.push(TensorLine {
                name: name.to_string(),
                dtype: if info.dtype == Dtype::BF16 {
                    "bfloat16".to_string()
                } else {
                    want.name().to_string()
                },
                shape: shape.clone(),
            });
        }
        Ok(Stored {
            dtype: want,
            shape,
            data: st.bytes(info),
        })
    })
    .map_err(bad)?;
    // Every tensor must have a place in the pickle (aliases repeat an array of it).
    let aliases: HashSet<&str> = j
        .get("aliases")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    for (name, _) in st.ordered() {
        if !used.contains(&name) && !aliases.contains(name.as_str()) {
            return Err(ConvertError::Tensor {
                path: src.to_path_buf(),
                name,
                reason: "not in the pdsave skeleton: the pickle has no place for it".into(),
            });
        }
    }
    // Kept exactly, as the pickle it came from had it (a set holding a Tensor, L-FILE).
    if let Some(u) = g.unhashable {
        report.notes.push(format!(
            "the pickle holds an unhashable dict key or set item (a {}): paddle.load raises \
             TypeError on it, as on the pickle this file was converted from",
            u.found
        ));
    }
    if !aliases.is_empty() {
        report.notes.push(format!(
            "tensors repeating a shared array were not read (the first name of each array is): {}",
            aliases.iter().copied().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(g)
}

fn from_skeleton(
    src: &Path,
    st: &Read<'_>,
    skel: &str,
    output: &Path,
    report: &mut Report,
) -> Result<(), ConvertError> {
    let g = rebuild_graph(src, st, skel, report)?;
    let eo = EncodeOptions::like(&g);
    // A skeleton is untrusted input: what it rebuilds must be a pickle pdsave (and so
    // Python) reads back. The check decodes the written file (fuzz-found: tampered
    // skeletons gave unhashable keys, tensor tuples without a str name).
    super::write_checked(
        output,
        |w| pickle::encode_to(&g, &eo, w).map_err(|e| e.to_string()),
        |tmp| {
            let m = crate::mapped::Mapped::open(tmp).map_err(|e| e.to_string())?;
            pickle::decode(&m)
                .map(|_| ())
                .map_err(|e| format!("the skeleton rebuilds a pickle that does not decode: {e}"))
        },
    )?;
    report.exact = Some(true);
    Ok(())
}

/// One tensor of a state dict to pickle: its dtype (Paddle's, or the numpy one it is
/// carried as), shape and C-order little-endian bytes.
pub struct Item<'a> {
    pub name: String,
    pub elem: DType,
    pub shape: Vec<u64>,
    pub data: Cow<'a, [u8]>,
}

/// What `paddle.save(state_dict)` writes for a dict of tensors (names from the
/// `StructuredToParameterName@@` metadata, else the keys).
pub fn state_dict(
    src: &Path,
    tensors: Vec<Item<'_>>,
    meta: &HashMap<String, String>,
    output: &Path,
    opts: &ConvertOptions,
    report: &mut Report,
) -> Result<(), ConvertError> {
    let names = table(meta);
    let others: Vec<&str> = {
        let mut v: Vec<&str> = meta
            .keys()
            .map(String::as_str)
            .filter(|k| *k != TABLE_KEY)
            .collect();
        v.sort();
        v
    };
    if !others.is_empty() {
        report.notes.push(format!(
            "metadata not carried into the pickle: {}",
            others.join(", ")
        ));
    }
    // With protocol 4 nothing is split (S-SPLIT): the pickle is built with empty payloads
    // and then pointed at the file's bytes; otherwise the payloads are copied.
    let save_opts = SaveOptions {
        protocol: opts.protocol as i64,
        flavour: opts.flavour,
        ..SaveOptions::default()
    };
    let copy = opts.protocol < 4
        && tensors
            .iter()
            .any(|t| t.data.len() as u64 + 16 > save_opts.big_param_bytes);
    let mut obj = ObjGraph::default();
    let root = obj.add(Obj::None);
    let mut items = Vec::new();
    let mut plain = Vec::new();
    for t in &tensors {
        let (name, elem) = (&t.name, t.elem);
        let terr = |reason: String| ConvertError::Tensor {
            path: src.to_path_buf(),
            name: name.clone(),
            reason,
        };
        if name == TABLE_KEY || name == crate::names::UNPACK_INFO {
            return Err(terr("this name is reserved in a Paddle state dict".into()));
        }
        let shape = t.shape.clone();
        let bytes = if copy { t.data.to_vec() } else { vec![] };
        let pd = match elem {
            DType::BFloat16 => Some(DType::BFloat16),
            DType::Float8E4M3FN | DType::Float8E5M2 => {
                return Err(terr(format!(
                    "dtype {elem}: pdsave's paddle.save has no float8 tensors"
                )))
            }
            d => DType::to_tensor(d).filter(|_| d != DType::UInt16),
        };
        let key = obj.add(Obj::Str(name.clone()));
        let value = match pd {
            Some(dtype) => {
                let pname = names.get(name).cloned().unwrap_or_else(|| name.clone());
                report.tensors.push(TensorLine {
                    name: name.clone(),
                    dtype: dtype.name().to_string(),
                    shape: shape.clone(),
                });
                Obj::Tensor(Tensor {
                    kind: TensorKind::Parameter,
                    dtype,
                    shape,
                    data: bytes,
                    name: Some(pname),
                    stop_gradient: false,
                })
            }
            None => {
                let d = elem.numpy_carrier();
                plain.push(name.clone());
                report.tensors.push(TensorLine {
                    name: name.clone(),
                    dtype: format!("{} ndarray", d.name()),
                    shape: shape.clone(),
                });
                Obj::NdArray(object::Array {
                    dtype: d,
                    order: d.native_order(),
                    shape,
                    fortran: false,
                    data: bytes,
                })
            }
        };
        let v = obj.add(value);
        items.push((key, v));
    }
    obj.objs[root] = Obj::Dict(items);
    obj.root = root;
    if !plain.is_empty() {
        report.notes.push(format!(
            "no Paddle tensor dtype, written as numpy arrays: {}",
            plain.join(", ")
        ));
    }
    let saved = save(&obj, &save_opts).map_err(|e| ConvertError::Unsupported {
        path: src.to_path_buf(),
        reason: e.to_string(),
    })?;
    let Saved::Pickle(g) = saved else {
        return Err(ConvertError::Unsupported {
            path: src.to_path_buf(),
            reason: "not a state dict".into(),
        });
    };
    let mut g: pickle::Graph<'_> = g;
    if !copy {
        let by_name: HashMap<&str, &Item<'_>> =
            tensors.iter().map(|t| (t.name.as_str(), t)).collect();
        let pairs = match g.node(g.root) {
            Node::Dict(p) => p.clone(),
            _ => vec![],
        };
        for (k, v) in pairs {
            let Node::Str(name) = g.node(k) else { continue };
            let Some(t) = by_name.get(name.as_ref()) else {
                continue;
            };
            // The state-dict path holds ndarrays; paddle.save's generic path (a dict with a
            // plain ndarray is not a state dict, S-DETECT) holds `(name, ndarray)` tensors.
            let a = match g.node(v) {
                Node::DynTensor { array, .. } | Node::StaticTensor { array } => *array,
                _ => v,
            };
            if let Some(Node::NdArray(n)) = g.nodes.get_mut(a as usize) {
                n.data = Cow::Borrowed(&t.data[..]);
            }
        }
    }
    let eo = EncodeOptions {
        protocol: opts.protocol,
        flavour: None,
    };
    super::write_atomically(output, |w| {
        pickle::encode_to(&g, &eo, w).map_err(|e| e.to_string())
    })?;
    report.exact = Some(false);
    Ok(())
}

/// `pdsave reencode` of a safetensors file: its tensors and `__metadata__` written again
/// by [`write_stream`]. Byte-identical for a file the `safetensors` library wrote (Paddle's
/// `paddle.save(..., safetensors=True)`, PaddleFormers): the same tensor order (descending
/// dtype, then name), offsets, padding, and `__metadata__` keys in the file's own order.
/// (The library writes several metadata keys in its `HashMap`'s order, which varies from
/// run to run; pdsave keeps the order it reads, and `convert` writes keys sorted.)
pub fn reencode(src: &Path, data: &[u8], output: &Path) -> Result<(), ConvertError> {
    if crate::source::same_file_id(output).is_some()
        && crate::source::same_file_id(output) == crate::source::same_file_id(src)
    {
        return Err(ConvertError::Unsupported {
            path: output.to_path_buf(),
            reason: "OUT is the input file: it would be overwritten".into(),
        });
    }
    let st = read(src, data)?;
    let bad = |reason: String| ConvertError::Safetensors {
        path: src.to_path_buf(),
        reason,
    };
    let n = data
        .get(..8)
        .map(|h| u64::from_le_bytes(h.try_into().unwrap_or([0; 8])) as usize)
        .ok_or_else(|| bad("shorter than its length prefix".into()))?;
    let head: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(data.get(8..8 + n).unwrap_or(&[]))
            .map_err(|e| bad(e.to_string()))?;
    let metadata: Option<Vec<(String, String)>> = match head.get("__metadata__") {
        None => None,
        Some(serde_json::Value::Object(m)) => Some(
            m.iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        v.as_str()
                            .ok_or("a metadata value is not a str")?
                            .to_string(),
                    ))
                })
                .collect::<Result<_, &str>>()
                .map_err(|e| bad(e.into()))?,
        ),
        Some(_) => return Err(bad("__metadata__ is not an object".into())),
    };
    let tensors = st.ordered();
    let entries: Vec<Entry> = tensors
        .iter()
        .map(|(name, info)| Entry {
            name: name.clone(),
            dtype: info.dtype,
            shape: info.shape.clone(),
            len: info.data_offsets.1 - info.data_offsets.0,
        })
        .collect();
    write_stream(output, &entries, metadata.as_deref(), |i| {
        Ok(vec![Cow::Borrowed(st.bytes(tensors[i].1))])
    })
}
