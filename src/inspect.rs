//! `pdsave inspect`: what a Paddle file, prefix or directory holds — format, the variables
//! (name, dtype, shape, bytes) and, for programs, feeds, fetches and op counts — without
//! Paddle's load semantics (an ndarray is listed as an ndarray, a tensor as a tensor).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pickle::{self, Graph, Node, NodeId};
use crate::program::{self, ProgramSummary};
use crate::tensor_stream::{self, DenseTensor};

/// One stored array.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Variable {
    /// Where: a Python-like path inside a pickle (`obj['weight']`) or a parameter name.
    pub path: String,
    /// `tensor` (dynamic), `static tensor`, `ndarray`, `numpy scalar`, `record`.
    pub kind: &'static str,
    /// The tensor's own name (dynamic tensors, name tables, programs).
    pub name: Option<String>,
    pub dtype: String,
    pub shape: Vec<i64>,
    pub bytes: u64,
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
    /// `pickle`, `tensor stream`, `SelectedRows`, `combined params`, `program`, `prefix`, `directory`.
    pub format: String,
    /// Which save API most likely wrote it.
    pub writer: String,
    pub pickle_protocol: Option<u8>,
    pub numpy: Option<&'static str>,
    pub variables: Vec<Variable>,
    pub program: Option<ProgramInfo>,
}

fn program_info(s: &ProgramSummary) -> ProgramInfo {
    ProgramInfo {
        ir: match s.format {
            program::ProgramFormat::ProgramDesc => "legacy (ProgramDesc)",
            program::ProgramFormat::PirJson => "PIR (JSON)",
        },
        version: s.version,
        feeds: s.feed_targets.clone(),
        fetches: s.fetch_targets.clone(),
        op_counts: s.op_counts.clone(),
        blocks: s.block_count,
    }
}

fn tensor_var(
    path: String,
    kind: &'static str,
    name: Option<String>,
    t: &DenseTensor<'_>,
) -> Variable {
    Variable {
        path,
        kind,
        name,
        dtype: t.desc.data_type.paddle_name().to_string(),
        shape: t.desc.dims.clone(),
        bytes: t.data.len() as u64,
    }
}

fn key_text(g: &Graph, k: NodeId) -> String {
    match g.node(k) {
        Node::Str(s) => format!("{s:?}"),
        Node::Int(i) => i.to_string(),
        n => format!("<{}>", n.type_name()),
    }
}

fn array_var(
    g: &Graph,
    id: NodeId,
    path: &str,
    kind: &'static str,
    name: Option<String>,
) -> Option<Variable> {
    let Node::NdArray(a) = g.node(id) else {
        return None;
    };
    let d = g.dtype_of(a.dtype)?;
    Some(Variable {
        path: path.to_string(),
        kind,
        name,
        dtype: d.dtype.name().to_string(),
        shape: a.shape.iter().map(|&x| x as i64).collect(),
        bytes: a.data.len() as u64,
    })
}

fn walk(
    g: &Graph,
    id: NodeId,
    path: &str,
    out: &mut Vec<Variable>,
    seen: &mut Vec<bool>,
    depth: usize,
) {
    if depth > 200 || seen.get(id as usize).copied().unwrap_or(true) {
        return;
    }
    seen[id as usize] = true;
    match g.node(id) {
        Node::NdArray(_) => out.extend(array_var(g, id, path, "ndarray", None)),
        Node::StaticTensor { array } => {
            out.extend(array_var(g, *array, path, "static tensor", None))
        }
        Node::DynTensor { name, array } => {
            let n = match g.node(*name) {
                Node::Str(s) => Some(s.to_string()),
                _ => None,
            };
            out.extend(array_var(g, *array, path, "tensor", n));
        }
        Node::NpScalar(s) => {
            if let Some(d) = g.dtype_of(s.dtype) {
                out.push(Variable {
                    path: path.to_string(),
                    kind: "numpy scalar",
                    name: None,
                    dtype: d.dtype.name().to_string(),
                    shape: vec![],
                    bytes: s.data.len() as u64,
                });
            }
        }
        Node::Dict(items) | Node::OrderedDict(items) => {
            for &(k, v) in items {
                walk(
                    g,
                    v,
                    &format!("{path}[{}]", key_text(g, k)),
                    out,
                    seen,
                    depth + 1,
                );
            }
        }
        Node::List(items) | Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
            for (i, &v) in items.iter().enumerate() {
                walk(g, v, &format!("{path}[{i}]"), out, seen, depth + 1);
            }
        }
        _ => {}
    }
}

fn pickle_report(path: &Path, g: &Graph) -> Report {
    let mut vars = Vec::new();
    let mut seen = vec![false; g.nodes.len()];
    walk(g, g.root, "obj", &mut vars, &mut seen, 0);
    let mut writer = "paddle.save (generic object)".to_string();
    if let Node::Dict(items) = g.node(g.root) {
        let table = items.iter().find(
            |(k, _)| matches!(g.node(*k), Node::Str(s) if s == "StructuredToParameterName@@"),
        );
        if let Some(&(_, t)) = table {
            writer = "paddle.save (state dict with name table)".into();
            if let Node::Dict(names) = g.node(t) {
                for v in vars.iter_mut() {
                    for &(k, n) in names {
                        if v.path == format!("obj[{}]", key_text(g, k)) {
                            if let Node::Str(s) = g.node(n) {
                                v.name = Some(s.to_string());
                                v.kind = "tensor";
                            }
                        }
                    }
                }
            }
        } else if !vars.is_empty() && vars.iter().all(|v| v.kind == "ndarray") {
            writer = "paddle.static.save or pickle of ndarrays".into();
        }
    }
    Report {
        path: path.display().to_string(),
        format: "pickle".into(),
        writer,
        pickle_protocol: Some(g.protocol),
        numpy: g.flavour.map(|f| f.label()),
        variables: vars,
        program: None,
    }
}

/// Inspects a file, prefix or directory.
pub fn inspect(path: &Path) -> Result<Report, String> {
    let base = |format: &str, writer: &str| Report {
        path: path.display().to_string(),
        format: format.into(),
        writer: writer.into(),
        pickle_protocol: None,
        numpy: None,
        variables: vec![],
        program: None,
    };
    if path.is_file() {
        let data =
            crate::mapped::Mapped::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(g) = pickle::decode(&data) {
            return Ok(pickle_report(path, &g));
        }
        if let Ok(t) = tensor_stream::decode_dense_tensor(&data) {
            let mut r = base(
                "tensor stream",
                "paddle.save(use_binary_format=True) or a save op",
            );
            r.variables
                .push(tensor_var("tensor".into(), "record", None, &t));
            return Ok(r);
        }
        if let Ok(rows) = tensor_stream::decode_selected_rows(&data) {
            let mut r = base("SelectedRows", "save op on a SelectedRows variable");
            r.variables.push(tensor_var(
                format!(
                    "value ({} rows of height {})",
                    rows.row_count(),
                    rows.height
                ),
                "record",
                None,
                &rows.value,
            ));
            return Ok(r);
        }
        if let Ok(recs) = tensor_stream::decode_combined(&data) {
            let mut r = base(
                "combined params (.pdiparams)",
                "save_combine (names are in the program)",
            );
            for rec in &recs {
                r.variables.push(tensor_var(
                    format!("record {}", rec.index),
                    "record",
                    None,
                    &rec.tensor,
                ));
            }
            return Ok(r);
        }
        if let Ok(s) = program::summarize_program(&data) {
            let mut r = base("program", "jit.save / save_inference_model / static.save");
            r.program = Some(program_info(&s));
            for v in &s.persistable {
                r.variables.push(Variable {
                    path: v.name.clone(),
                    kind: "declared",
                    name: Some(v.name.clone()),
                    dtype: v
                        .dtype
                        .map(|d| d.paddle_name().to_string())
                        .unwrap_or_default(),
                    shape: v.shape.clone(),
                    bytes: 0,
                });
            }
            return Ok(r);
        }
        return Err(format!(
            "{}: not a Paddle file pdsave can read",
            path.display()
        ));
    }
    let with = |ext: &str| -> PathBuf {
        let mut s = path.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    let (model, params, info, format, writer) = if let Some(m) = [with(".pdmodel"), with(".json")]
        .into_iter()
        .find(|p| p.is_file())
    {
        (
            m,
            Some(with(".pdiparams")),
            with(".pdiparams.info"),
            "prefix",
            "jit.save / save_inference_model",
        )
    } else if path.is_dir() {
        let m = [path.join("__model__"), path.join("__model__.json")]
            .into_iter()
            .find(|p| p.is_file());
        match m {
            Some(m) => (
                m,
                None,
                PathBuf::new(),
                "directory",
                "1.x save_inference_model (one file per variable)",
            ),
            None => {
                let mut r = base("directory", "save_params / save_persistables / save_vars");
                let opened = crate::paddle::path::open(path);
                if let Ok(crate::paddle::Value::Dict(items)) = opened
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|o| o.load(Default::default()))
                {
                    for (k, v) in items {
                        if let (crate::paddle::Value::Str(n), crate::paddle::Value::NdArray(a)) =
                            (k, v)
                        {
                            r.variables.push(Variable {
                                path: n.to_string(),
                                kind: "record",
                                name: Some(n.to_string()),
                                dtype: a.dtype.name().to_string(),
                                shape: a.shape.iter().map(|&x| x as i64).collect(),
                                bytes: a.data.len() as u64,
                            });
                        }
                    }
                }
                return Ok(r);
            }
        }
    } else {
        return Err(format!(
            "{}: no such file, prefix or directory",
            path.display()
        ));
    };
    let prog =
        crate::mapped::Mapped::open(&model).map_err(|e| format!("{}: {e}", model.display()))?;
    let s = program::summarize_program(&prog).map_err(|e| format!("{}: {e}", model.display()))?;
    let mut r = base(format, writer);
    r.program = Some(program_info(&s));
    let structured: Vec<(String, String)> = crate::mapped::Mapped::open(&info)
        .ok()
        .and_then(|b| crate::paddle::path::structured_names(&b).ok())
        .unwrap_or_default();
    let pbytes = params
        .as_ref()
        .and_then(|p| crate::mapped::Mapped::open(p).ok());
    let records = pbytes
        .as_deref()
        .and_then(|b| tensor_stream::decode_combined(b).ok());
    for (i, v) in s.persistable.iter().enumerate() {
        let rec = records.as_ref().and_then(|r| r.get(i));
        let file = if params.is_none() {
            crate::mapped::Mapped::open(&path.join(&v.name)).ok()
        } else {
            None
        };
        let sep = file
            .as_deref()
            .and_then(|b| tensor_stream::decode_dense_tensor(b).ok());
        let t = rec.map(|r| &r.tensor).or(sep.as_ref());
        let shown = structured
            .iter()
            .find(|(n, _)| *n == v.name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| v.name.clone());
        r.variables.push(match t {
            Some(t) => tensor_var(shown, "record", Some(v.name.clone()), t),
            None => Variable {
                path: shown,
                kind: "declared",
                name: Some(v.name.clone()),
                dtype: v
                    .dtype
                    .map(|d| d.paddle_name().to_string())
                    .unwrap_or_default(),
                shape: v.shape.clone(),
                bytes: 0,
            },
        });
    }
    Ok(r)
}

/// The human-readable form.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}: {} written by {}", r.path, r.format, r.writer);
    if let Some(p) = r.pickle_protocol {
        let _ = writeln!(
            s,
            "pickle protocol {p}{}",
            r.numpy.map(|n| format!(", {n}")).unwrap_or_default()
        );
    }
    if let Some(p) = &r.program {
        let _ = writeln!(
            s,
            "program: {} IR, version {}, {} block(s)",
            p.ir,
            p.version.map(|v| v.to_string()).unwrap_or("?".into()),
            p.blocks
        );
        let _ = writeln!(s, "  feeds:   {}", p.feeds.join(", "));
        let _ = writeln!(s, "  fetches: {}", p.fetches.join(", "));
        let ops: Vec<String> = p
            .op_counts
            .iter()
            .map(|(k, v)| format!("{k}×{v}"))
            .collect();
        let _ = writeln!(s, "  ops:     {}", ops.join(" "));
    }
    let w = r
        .variables
        .iter()
        .map(|v| v.path.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    let _ = writeln!(
        s,
        "{:<w$}  {:<13}  {:<10}  {:<16}  {:>10}  name",
        "path", "kind", "dtype", "shape", "bytes"
    );
    let mut total = 0;
    for v in &r.variables {
        total += v.bytes;
        let shape = format!("{:?}", v.shape);
        let _ = writeln!(
            s,
            "{:<w$}  {:<13}  {:<10}  {:<16}  {:>10}  {}",
            v.path,
            v.kind,
            v.dtype,
            shape,
            v.bytes,
            v.name.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(s, "{} arrays, {} bytes", r.variables.len(), total);
    s
}
