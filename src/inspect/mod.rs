//! `pdsave inspect`: what a Paddle file, prefix or directory holds — format, the save API
//! that wrote it, pickle protocol and numpy flavour, program IR, the variables (path,
//! parameter name, dtype, shape, size, and with `--stats` min/max/mean/NaN count) and the
//! decoding warnings `check` gives — as stored (an ndarray is listed as an ndarray, a tensor
//! as a tensor), with the dtype and name `paddle.load` gives each from the load plan.
//! Nothing is copied: arrays are read from the map. The human form is [`render`].

mod archive;
mod large;
mod render;
mod values;

use archive::archive_report;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use render::{human_bytes, render};

use crate::dtype::DType;
use crate::names::{NAME_TABLE, UNPACK_INFO};
use crate::paddle::classify::{classify_plan, combined_params_finding, Finding};
use crate::paddle::plan::{self, Fate, Fates, Form as LoadForm, Mode, Plan};
use crate::paddle::walk::{self, Flow, Policy, Step};
use crate::pickle::{self, Graph, Node};
use crate::program::{self, ProgramSummary};
use crate::rules::Rule;
use crate::source::{self, Form, Format, Kind, Source};
use crate::stats::Stats;
use crate::tensor_stream::{self, DenseTensor};

/// What a variable is, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum VarKind {
    /// A dynamic Tensor (saved as a `(name, ndarray)` tuple).
    #[serde(rename = "tensor")]
    Tensor,
    /// A static-graph Tensor (saved as `eval('data', …)`).
    #[serde(rename = "static tensor")]
    StaticTensor,
    #[serde(rename = "ndarray")]
    Ndarray,
    #[serde(rename = "numpy scalar")]
    NumpyScalar,
    /// A user's `(str, ndarray)` tuple (L-TUPLE may make it a Tensor).
    #[serde(rename = "(str, ndarray) tuple")]
    NameArrayTuple,
    /// A record of a tensor stream, combined params or variable file.
    #[serde(rename = "record")]
    Record,
    /// Declared by a program, without data found.
    #[serde(rename = "declared")]
    Declared,
}

impl VarKind {
    pub fn label(self) -> &'static str {
        match self {
            VarKind::Tensor => "tensor",
            VarKind::StaticTensor => "static tensor",
            VarKind::Ndarray => "ndarray",
            VarKind::NumpyScalar => "numpy scalar",
            VarKind::NameArrayTuple => "(str, ndarray) tuple",
            VarKind::Record => "record",
            VarKind::Declared => "declared",
        }
    }
}

/// One stored array.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Variable {
    /// Where: a Python-like path inside a pickle (`obj['weight']`) or a structured name.
    pub path: String,
    pub kind: VarKind,
    /// The tensor's own (parameter) name: dynamic tensors, name tables, programs.
    pub name: Option<String>,
    /// As stored: numpy's dtype in pickles, Paddle's in tensor streams; `""` in JSON for
    /// a declared variable whose type has no fixed element size.
    #[serde(serialize_with = "dtype_or_empty")]
    pub dtype: Option<DType>,
    /// The Paddle dtype `paddle.load` gives, where it differs from `dtype` (uint16 arrays
    /// that load as Tensors are bfloat16, rule L-DTYPE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loads_as: Option<DType>,
    pub shape: Vec<i64>,
    pub bytes: u64,
    /// With `--stats`: statistics of the values (as `loads_as` reads them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// Where a checkpoint's tensor (or a sharded state dict's value) is stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
}

/// One stored piece of a variable: the file, the rank that wrote it, and where the piece
/// sits in the tensor (a flattened piece: its element range of that block).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShardInfo {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<Vec<u64>>,
    pub shape: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flattened_range: Option<(u64, u64)>,
}

fn dtype_or_empty<S: serde::Serializer>(d: &Option<DType>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.map(DType::name).unwrap_or(""))
}

/// A program's summary as inspect shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProgramInfo {
    pub ir: &'static str,
    pub version: Option<i64>,
    pub feeds: Vec<String>,
    pub fetches: Vec<String>,
    pub op_counts: BTreeMap<String, usize>,
    pub blocks: usize,
}

/// What `inspect` found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    pub path: String,
    /// What the PATH is ([`crate::source::sniff`]): `pickle`, `tensor stream`,
    /// `SelectedRows`, `combined params`, `program`, `safetensors`, `prefix`, `directory`.
    pub format: Format,
    /// Which save API most likely wrote it.
    pub writer: String,
    pub pickle_protocol: Option<u8>,
    pub numpy: Option<&'static str>,
    pub variables: Vec<Variable>,
    pub program: Option<ProgramInfo>,
    /// The entries that are not arrays, as `paddle.load` gives them (`epoch = 100`), by key
    /// path; at most [`MAX_VALUES`].
    pub values: Vec<ValueEntry>,
    /// What `pdsave check` reports on the decoding (spec/rules.md A-… rules).
    pub warnings: Vec<Finding>,
}

/// A non-array entry: its key path and its value as Python would `repr` it (cut).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ValueEntry {
    pub path: String,
    pub value: String,
}

/// Non-array entries listed at most.
pub const MAX_VALUES: usize = 200;

/// What to compute besides the listing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// min/max/mean/NaN of every array (reads every byte; off, inspect reads only the
    /// structure and stays fast on any size).
    pub stats: bool,
}

fn program_info(s: &ProgramSummary) -> ProgramInfo {
    ProgramInfo {
        ir: match s.format {
            program::ProgramFormat::ProgramDesc => "legacy IR (ProgramDesc)",
            program::ProgramFormat::PirJson => "PIR (JSON)",
        },
        version: s.version,
        feeds: s.feed_targets.clone(),
        fetches: s.fetch_targets.clone(),
        op_counts: s.op_counts.clone(),
        blocks: s.block_count,
    }
}

/// A variable and, for `--stats`, its element bytes (little-endian) and the dtype they
/// are read as.
struct Found<'a> {
    var: Variable,
    data: Option<(Cow<'a, [u8]>, DType)>,
}

fn tensor_var<'a>(
    path: String,
    kind: VarKind,
    name: Option<String>,
    t: &DenseTensor<'a>,
) -> Found<'a> {
    let dtype = t.desc.data_type;
    Found {
        var: Variable {
            path,
            kind,
            name,
            dtype: Some(dtype),
            loads_as: None,
            shape: t.desc.dims.clone(),
            bytes: t.data.len() as u64,
            stats: None,
            shards: vec![],
        },
        data: Some((Cow::Borrowed(t.data), dtype)),
    }
}

fn declared(v: &program::VarInfo) -> Variable {
    Variable {
        path: v.name.clone(),
        kind: VarKind::Declared,
        name: Some(v.name.clone()),
        dtype: v.dtype,
        loads_as: None,
        shape: v.shape.clone(),
        bytes: 0,
        stats: None,
        shards: vec![],
    }
}

/// An ndarray node as a variable; `fate` is what the load makes of the node holding it.
fn array_var<'a>(
    g: &'a Graph,
    array: pickle::NodeId,
    path: String,
    kind: VarKind,
    name: Option<String>,
    fate: Fate,
) -> Option<Found<'a>> {
    let Node::NdArray(a) = g.node(array) else {
        return None;
    };
    let d = g.dtype_of(a.dtype)?;
    let (loads, table_name) = match fate {
        Fate::Tensor { dtype, name, .. } => (dtype, name),
        _ => (None, None),
    };
    let name = name.or_else(|| match table_name.map(|n| g.node(n)) {
        Some(Node::Str(s)) => Some(s.to_string()),
        _ => None,
    });
    let data = crate::numpy::to_little_endian(d.dtype, d.order, &a.data);
    Some(Found {
        var: Variable {
            path,
            kind,
            name,
            dtype: Some(d.dtype),
            loads_as: loads.filter(|&p| p != d.dtype),
            shape: a.shape.iter().map(|&x| x as i64).collect(),
            bytes: a.data.len() as u64,
            stats: None,
            shards: vec![],
        },
        data: Some((data, loads.unwrap_or(d.dtype))),
    })
}

/// The arrays a pickle stores, each once, in the pickle's order, with what the load plan
/// makes of each; `Err` when the listing stopped early (nesting past the limit).
fn pickle_vars<'a>(g: &'a Graph, plan: &Plan) -> (Vec<Found<'a>>, Option<walk::Stop>) {
    let mut out = Vec::new();
    let mut fates = Fates::new(plan);
    let r = walk::walk(g, g.root, Policy::once(), |w, at| {
        let fate = fates.enter(g, at);
        if matches!(at.step, Step::Key { .. }) {
            return Flow::Skip;
        }
        let path = || walk::dotted_path(g, w.path());
        if let (Node::Tuple(_), Some((name, array))) = (g.node(at.id), plan::varbase_of(g, at.id)) {
            // A user's (str, ndarray) tuple: listed at its place, as load may make it a Tensor.
            let n = match g.node(name) {
                Node::Str(s) => Some(s.to_string()),
                _ => None,
            };
            out.extend(array_var(
                g,
                array,
                path(),
                VarKind::NameArrayTuple,
                n,
                fate,
            ));
            return Flow::Skip;
        }
        match g.node(at.id) {
            Node::NdArray(_) => {
                out.extend(array_var(g, at.id, path(), VarKind::Ndarray, None, fate));
                Flow::Skip
            }
            Node::StaticTensor { array } => {
                out.extend(array_var(
                    g,
                    *array,
                    path(),
                    VarKind::StaticTensor,
                    None,
                    fate,
                ));
                Flow::Skip
            }
            Node::DynTensor { name, array } => {
                let n = match g.node(*name) {
                    Node::Str(s) => Some(s.to_string()),
                    _ => None,
                };
                out.extend(array_var(g, *array, path(), VarKind::Tensor, n, fate));
                Flow::Skip
            }
            Node::NpScalar(s) => {
                if let Some(d) = g.dtype_of(s.dtype) {
                    out.push(Found {
                        var: Variable {
                            path: path(),
                            kind: VarKind::NumpyScalar,
                            name: None,
                            dtype: Some(d.dtype),
                            loads_as: None,
                            shape: vec![],
                            bytes: s.data.len() as u64,
                            stats: None,
                            shards: vec![],
                        },
                        data: None,
                    });
                }
                Flow::Skip
            }
            Node::Dict(_)
            | Node::OrderedDict(_)
            | Node::List(_)
            | Node::Tuple(_)
            | Node::Set(_)
            | Node::FrozenSet(_) => Flow::Descend,
            _ => Flow::Skip,
        }
    });
    (out, r.err())
}

/// Which save API wrote a pickle, from its shape (spec/rules.md S- rules).
fn pickle_writer(g: &Graph, plan: &Plan, vars: &[Found]) -> &'static str {
    let keys: Vec<&str> = match g.node(g.root) {
        Node::Dict(items) | Node::OrderedDict(items) => items
            .iter()
            .filter_map(|&(k, _)| match g.node(k) {
                Node::Str(s) => Some(s.as_ref()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    let has = |k: &str| keys.contains(&k);
    let any_kind = |k: VarKind| vars.iter().any(|f| f.var.kind == k);
    if has(UNPACK_INFO) {
        "paddle.save, protocol 2/3, with a parameter split into slices (UnpackBigParamInfor@@)"
    } else if plan.mode == Mode::Table || has(NAME_TABLE) {
        if has("LR_Scheduler") || keys.iter().any(|s| s.contains("_moment")) {
            "paddle.save of an optimizer state_dict (.pdopt)"
        } else {
            "paddle.save of a state_dict (Tensors saved as ndarrays + name table)"
        }
    } else if has("LR_Scheduler") || has("@LR_DECAY_COUNTER@") {
        "paddle.save of an optimizer state_dict (.pdopt)"
    } else if any_kind(VarKind::Tensor) {
        "paddle.save of dynamic Tensors (saved as (name, ndarray) tuples)"
    } else if any_kind(VarKind::StaticTensor) {
        "paddle.save in static mode (Tensors saved as eval('data', …) ndarrays)"
    } else if !vars.is_empty() && vars.iter().all(|f| f.var.kind == VarKind::Ndarray) {
        "paddle.static.save / paddle.save of ndarrays (a .pdparams or .pdopt of ndarrays)"
    } else {
        "paddle.save of a generic object (or plain pickle)"
    }
}

/// Inspects a file, prefix or directory (no statistics).
///
/// ```
/// let r = pdsave::inspect::inspect(
///     "corpus/cases/y_p3_proto2_linear_state_dict/model.pdparams".as_ref(),
/// )
/// .unwrap();
/// assert_eq!(r.pickle_protocol, Some(2));
/// assert_eq!(r.variables[0].name.as_deref(), Some("linear_0.w_0"));
/// print!("{}", pdsave::inspect::render(&r, false));
/// ```
pub fn inspect(path: &Path) -> Result<Report, String> {
    inspect_with(path, Options::default(), &|_| {})
}

/// The bytes `--stats` would read: a quick pass over the structure only.
pub fn stats_bytes(path: &Path) -> u64 {
    inspect(path)
        .map(|r| r.variables.iter().map(|v| v.bytes).sum())
        .unwrap_or(0)
}

fn base(path: &Path, format: Format, writer: &str) -> Report {
    Report {
        path: path.display().to_string(),
        format,
        writer: writer.into(),
        pickle_protocol: None,
        numpy: None,
        variables: vec![],
        program: None,
        values: vec![],
        warnings: vec![],
    }
}

/// Inspects a file, prefix or directory; `done(bytes)` reports statistics progress.
pub fn inspect_with(
    path: &Path,
    opts: Options,
    done: &(dyn Fn(u64) + Sync),
) -> Result<Report, String> {
    let src = Source::open(path, opts.stats).map_err(|e| match e {
        source::SourceError::NotFound(p) => {
            format!("{}: no such file, prefix or directory", p.display())
        }
        e => e.to_string(),
    })?;
    inspect_source(&src, opts, done)
}

/// [`inspect_with`] of a resolved PATH (standard input included); open it with
/// `Source::open(path, opts.stats)` so that `--stats` reads populated maps.
pub fn inspect_source(
    src: &Source,
    opts: Options,
    done: &(dyn Fn(u64) + Sync),
) -> Result<Report, String> {
    let path = src.path.as_path();
    let (report, found) = match &src.form {
        Form::Checkpoint { metadata, shards } => large::checkpoint(path, metadata, shards, opts)?,
        Form::Index {
            index,
            parsed,
            shards,
        } => large::index(path, index, parsed, shards)?,
        Form::File(f) if f.kind.is_archive() => return Ok(archive_report(path, f, opts, done)),
        Form::File(f) => return one_file(path, f, opts, done),
        Form::Prefix {
            program,
            params,
            info,
        } => {
            let s = summary(program)?;
            // A prefix whose parameters are missing or cut short is a broken model: an
            // error, not rows of declared variables with no data.
            let pfile = crate::source::with_suffix(path, crate::names::PARAMS_SUFFIX);
            let pbytes = params.as_ref().map_err(|e| {
                format!(
                    "{}: the model's parameters {} cannot be read: {e}",
                    path.display(),
                    pfile.display()
                )
            })?;
            crate::program::load_inference_model(program, pbytes).map_err(|e| {
                format!(
                    "{}: a broken model: its parameters {} do not hold the {} variables the program declares: {e}",
                    path.display(),
                    pfile.display(),
                    s.persistable.len()
                )
            })?;
            let mut r = base(path, Format::Prefix, "jit.save / save_inference_model");
            r.program = Some(program_info(&s));
            let structured: Vec<(String, String)> = info
                .as_ref()
                .and_then(|b| crate::paddle::path::structured_names(b).ok())
                .unwrap_or_default();
            let records = params
                .as_ref()
                .ok()
                .and_then(|b| tensor_stream::decode_combined(b).ok());
            let found = s
                .persistable
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let shown = structured
                        .iter()
                        .find(|(n, _)| *n == v.name)
                        .map(|(_, s)| s.clone())
                        .unwrap_or_else(|| v.name.clone());
                    match records.as_ref().and_then(|r| r.get(i)) {
                        Some(rec) => {
                            tensor_var(shown, VarKind::Record, Some(v.name.clone()), &rec.tensor)
                        }
                        None => Found {
                            var: Variable {
                                path: shown,
                                ..declared(v)
                            },
                            data: None,
                        },
                    }
                })
                .collect();
            (r, found)
        }
        Form::Model { program, vars } => {
            let s = summary(program)?;
            crate::program::load_separate(program, |name| {
                vars.iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, f)| f.as_ref().ok())
                    .map(|f| &f[..])
            })
            .map_err(|e| format!("{}: a broken model directory: {e}", path.display()))?;
            let mut r = base(
                path,
                Format::Directory,
                "1.x save_inference_model (one file per variable)",
            );
            r.program = Some(program_info(&s));
            let found = s
                .persistable
                .iter()
                .map(|v| {
                    let t = vars
                        .iter()
                        .find(|(n, _)| *n == v.name)
                        .and_then(|(_, f)| f.as_ref().ok())
                        .and_then(|f| tensor_stream::decode_dense_tensor(f).ok());
                    match t {
                        Some(t) => {
                            tensor_var(v.name.clone(), VarKind::Record, Some(v.name.clone()), &t)
                        }
                        None => Found {
                            var: declared(v),
                            data: None,
                        },
                    }
                })
                .collect();
            (r, found)
        }
        Form::Files(files) => {
            crate::source::not_a_model(path, files.len()).map_err(|e| e.to_string())?;
            let mut r = base(
                path,
                Format::Directory,
                "save_params / save_persistables / save_vars",
            );
            let mut found = Vec::new();
            for (name, f) in files {
                match f
                    .as_ref()
                    .ok()
                    .and_then(|f| tensor_stream::decode_dense_tensor_prefix(f).ok())
                {
                    Some((t, _)) => {
                        found.push(tensor_var(name.clone(), VarKind::Record, Some(name.clone()), &t))
                    }
                    None => r.warnings.push(Finding {
                        rule: Rule::LPath,
                        path: name.clone(),
                        message: format!(
                            "not a tensor file ({}): paddle.load of the directory raises ValueError",
                            f.as_ref().map_or("unreadable", |f| f.kind.label())
                        ),
                        workaround: None,
                        visible: true,
                    }),
                }
            }
            (r, found)
        }
    };
    Ok(finish(report, found, opts, done))
}

/// The report of one file (on disk, or an archive's member).
fn one_file(
    path: &Path,
    f: &source::File,
    opts: Options,
    done: &(dyn Fn(u64) + Sync),
) -> Result<Report, String> {
    if f.kind.is_pickle() {
        // A checkpoint's .metadata file decodes with its dataclasses allowlisted (K-META).
        let g = pickle::decode_in(f, &pickle::Limits::default(), f.allowlist()).map_err(|e| {
            format!(
                "{}: a pickle pdsave does not read: {e}\n  why: {}\n  (`pdsave check` lists \
                 every global it calls)",
                path.display(),
                e.explain()
            )
        })?;
        let (r, found) = pickle_report(path, Format::File(f.kind), &g);
        return Ok(finish(r, found, opts, done));
    }
    let (r, found) = file_report(path, f)?;
    Ok(finish(r, found, opts, done))
}

fn summary(f: &source::File) -> Result<ProgramSummary, String> {
    program::summarize_program(f).map_err(|e| format!("{}: {e}", f.path.display()))
}

/// The report of one file, by its kind.
fn file_report<'a>(path: &Path, f: &'a source::File) -> Result<(Report, Vec<Found<'a>>), String> {
    let format = Format::File(f.kind);
    let r = match f.kind {
        Kind::Pickle { .. } => return Err(format!("{}: a pickle", path.display())),
        Kind::TensorStream => {
            let (t, _) = tensor_stream::decode_dense_tensor_prefix(f).map_err(|e| e.to_string())?;
            let r = base(
                path,
                format,
                "paddle.save(use_binary_format=True) or a save op",
            );
            (
                r,
                vec![tensor_var("tensor".into(), VarKind::Record, None, &t)],
            )
        }
        Kind::SelectedRows => {
            let (rows, _) =
                tensor_stream::decode_selected_rows_prefix(f).map_err(|e| e.to_string())?;
            let r = base(path, format, "save op on a SelectedRows variable");
            let label = format!(
                "value ({} rows of height {})",
                rows.row_count(),
                rows.height
            );
            (
                r,
                vec![tensor_var(label, VarKind::Record, None, &rows.value)],
            )
        }
        Kind::CombinedParams { records } => {
            let recs = tensor_stream::decode_combined(f).map_err(|e| e.to_string())?;
            let mut r = base(path, format, "save_combine (names are in the program)");
            r.warnings.push(combined_params_finding(records));
            let found = recs
                .iter()
                .map(|rec| {
                    tensor_var(
                        format!("record {}", rec.index),
                        VarKind::Record,
                        None,
                        &rec.tensor,
                    )
                })
                .collect();
            (r, found)
        }
        Kind::ProgramDesc | Kind::PirJson => {
            let s = summary(f)?;
            let mut r = base(
                path,
                format,
                "jit.save / save_inference_model / static.save",
            );
            r.program = Some(program_info(&s));
            r.variables = s.persistable.iter().map(declared).collect();
            (r, vec![])
        }
        Kind::Safetensors => {
            let st = safetensors::SafeTensors::deserialize(f).map_err(|e| e.to_string())?;
            let r = base(
                path,
                format,
                "paddle.save(..., safetensors=True) or a safetensors writer",
            );
            let mut found = Vec::new();
            let mut named: Vec<_> = st.tensors();
            named.sort_by_key(|(n, t)| (t.data().as_ptr() as usize, n.clone()));
            for (name, t) in named {
                let dtype = DType::from_safetensors(t.dtype());
                let data: &'a [u8] = slice_in(f, t.data());
                found.push(Found {
                    var: Variable {
                        path: name.clone(),
                        kind: VarKind::Record,
                        name: None,
                        dtype,
                        loads_as: None,
                        shape: t.shape().iter().map(|&d| d as i64).collect(),
                        bytes: data.len() as u64,
                        stats: None,
                        shards: vec![],
                    },
                    data: dtype.map(|d| (Cow::Borrowed(data), d)),
                });
            }
            (r, found)
        }
        k @ (Kind::Empty
        | Kind::Zip
        | Kind::Tar
        | Kind::Gzip
        | Kind::Npy
        | Kind::Text
        | Kind::Unknown) => {
            return Err(format!(
                "{}: {}, not a Paddle save file",
                path.display(),
                k.describe()
            ))
        }
    };
    Ok(r)
}

/// `part` (a slice of `whole` the safetensors crate handed out) as a slice of `whole`
/// with `whole`'s lifetime.
fn slice_in<'a>(whole: &'a [u8], part: &[u8]) -> &'a [u8] {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    whole.get(start..start + part.len()).unwrap_or(&[])
}

/// The report of a pickle; the arrays' data borrow from the graph.
fn pickle_report<'a>(path: &Path, format: Format, g: &'a Graph<'_>) -> (Report, Vec<Found<'a>>) {
    let plan = Plan::new(g, LoadForm::Pickle);
    let (found, stop) = pickle_vars(g, &plan);
    let writer = pickle_writer(g, &plan, &found).to_string();
    let mut warnings = classify_plan(g, &plan);
    if let Some(walk::Stop::TooDeep { depth }) = stop {
        warnings.push(Finding {
            rule: Rule::IRead,
            path: "obj".into(),
            message: format!(
                "nesting deeper than {} levels: what lies deeper is not listed",
                depth - 1
            ),
            workaround: None,
            visible: true,
        });
    }
    let report = Report {
        path: path.display().to_string(),
        format,
        writer,
        pickle_protocol: Some(g.protocol),
        numpy: g.flavour.map(|f| f.label()),
        variables: vec![],
        program: None,
        values: values::pickle_values(g),
        warnings,
    };
    (report, found)
}

fn finish(mut r: Report, found: Vec<Found>, opts: Options, done: &(dyn Fn(u64) + Sync)) -> Report {
    if opts.stats {
        let stats = crate::par::map_by_size(
            &found,
            |f| f.data.as_ref().map_or(0, |(d, _)| d.len()),
            |f| {
                f.data
                    .as_ref()
                    .and_then(|(d, dtype)| crate::stats::stats(*dtype, d))
            },
            done,
        );
        r.variables.extend(
            found
                .into_iter()
                .zip(stats)
                .map(|(f, s)| Variable { stats: s, ..f.var }),
        );
    } else {
        r.variables.extend(found.into_iter().map(|f| f.var));
    }
    r
}
