//! safetensors, written and read with the `safetensors` crate: arrays → a `.safetensors`
//! (little-endian, C order, bfloat16 as `BF16`), and a `.safetensors` → a pickle, either the
//! exact pickle of a pdsave skeleton or the state dict `paddle.save` writes for its tensors.

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::tensor::{Dtype, Metadata, TensorInfo, View};

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

/// An array as a safetensors view: its bytes are made little-endian C order when written.
struct StView<'x, 'a> {
    array: &'x NamedArray<'a>,
    dtype: Dtype,
    shape: Vec<usize>,
}

impl View for StView<'_, '_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        self.array.c_order_le()
    }
    fn data_len(&self) -> usize {
        self.array.data.len()
    }
}

/// A view that tells its size but holds no bytes: `safetensors::serialize` of these gives the
/// header alone (the crate's own bytes and order), and the data is then streamed.
struct HeaderOnly<'v, 'a, 'b>(&'v StView<'a, 'b>);

impl View for HeaderOnly<'_, '_, '_> {
    fn dtype(&self) -> Dtype {
        self.0.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&[])
    }
    fn data_len(&self) -> usize {
        self.0.data_len()
    }
}

fn shape_string(s: &[usize]) -> Vec<u64> {
    s.iter().map(|&d| d as u64).collect()
}

/// Writes arrays as a safetensors file (through a sibling temporary file, then renamed).
pub fn write(
    output: &Path,
    arrays: &[NamedArray<'_>],
    metadata: HashMap<String, String>,
    report: &mut Report,
) -> Result<(), ConvertError> {
    let mut views = Vec::with_capacity(arrays.len());
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
        views.push((
            a.name.clone(),
            StView {
                array: a,
                dtype,
                shape,
            },
        ));
    }
    if arrays.iter().any(|a| a.elem == DType::Complex128) {
        report.notes.push(
            "complex128 arrays are stored as F64 with a last dimension of 2 (real, imaginary)"
                .into(),
        );
    }
    // The crate's order (dtype alignment descending, then name) and header, written through
    // pdsave's one writer (its serialize_to_file uses a 0600 temporary no signal removes).
    views.sort_by(|(ln, l), (rn, r)| r.dtype.cmp(&l.dtype).then(ln.cmp(rn)));
    let header = safetensors::serialize(
        views.iter().map(|(n, v)| (n.as_str(), HeaderOnly(v))),
        Some(metadata),
    )
    .map_err(|e| ConvertError::Write {
        path: output.to_path_buf(),
        reason: e.to_string(),
    })?;
    super::write_atomically(output, |w| {
        use std::io::Write;
        w.write_all(&header).map_err(|e| e.to_string())?;
        for (name, v) in &views {
            w.write_all(&v.data()).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(())
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
        None => state_dict(src, &st, &meta, output, opts, report),
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

/// What `paddle.save(state_dict)` writes for a dict of the file's tensors.
fn state_dict(
    src: &Path,
    st: &Read<'_>,
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
    let tensors = st.ordered();
    // With protocol 4 nothing is split (S-SPLIT): the pickle is built with empty payloads
    // and then pointed at the file's bytes; otherwise the payloads are copied.
    let save_opts = SaveOptions {
        protocol: opts.protocol as i64,
        flavour: opts.flavour,
        ..SaveOptions::default()
    };
    let copy = opts.protocol < 4
        && tensors.iter().any(|(_, i)| {
            (i.data_offsets.1 - i.data_offsets.0) as u64 + 16 > save_opts.big_param_bytes
        });
    let mut obj = ObjGraph::default();
    let root = obj.add(Obj::None);
    let mut items = Vec::new();
    let mut plain = Vec::new();
    for (name, info) in &tensors {
        let terr = |reason: String| ConvertError::Tensor {
            path: src.to_path_buf(),
            name: name.clone(),
            reason,
        };
        if name == TABLE_KEY || name == crate::names::UNPACK_INFO {
            return Err(terr("this name is reserved in a Paddle state dict".into()));
        }
        let elem = DType::from_safetensors(info.dtype)
            .ok_or_else(|| terr(format!("dtype {:?} has no Paddle counterpart", info.dtype)))?;
        let shape = shape_string(&info.shape);
        let bytes = if copy {
            st.bytes(info).to_vec()
        } else {
            vec![]
        };
        let pd = match elem {
            DType::BFloat16 => Some(DType::BFloat16),
            DType::Float8E4M3FN | DType::Float8E5M2 => {
                return Err(terr(format!(
                    "dtype {:?}: pdsave's paddle.save has no float8 tensors",
                    info.dtype
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
        let by_name: HashMap<&str, &TensorInfo> =
            tensors.iter().map(|(n, i)| (n.as_str(), *i)).collect();
        let pairs = match g.node(g.root) {
            Node::Dict(p) => p.clone(),
            _ => vec![],
        };
        for (k, v) in pairs {
            let Node::Str(name) = g.node(k) else { continue };
            let Some(info) = by_name.get(name.as_ref()) else {
                continue;
            };
            // The state-dict path holds ndarrays; paddle.save's generic path (a dict with a
            // plain ndarray is not a state dict, S-DETECT) holds `(name, ndarray)` tensors.
            let a = match g.node(v) {
                Node::DynTensor { array, .. } | Node::StaticTensor { array } => *array,
                _ => v,
            };
            if let Some(Node::NdArray(n)) = g.nodes.get_mut(a as usize) {
                n.data = Cow::Borrowed(st.bytes(info));
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
