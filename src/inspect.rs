//! `pdsave inspect`: what a Paddle file, prefix or directory holds — format, the save API
//! that wrote it, pickle protocol and numpy flavour, program IR, the variables (path,
//! parameter name, dtype, shape, size, and with `--stats` min/max/mean/NaN count) and the
//! decoding warnings `check` gives — without Paddle's load semantics (an ndarray is listed
//! as an ndarray, a tensor as a tensor). Nothing is copied: arrays are read from the map.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dtype::DType;
use crate::mapped::Mapped;
use crate::paddle::classify::{classify_graph, Finding};
use crate::pickle::{self, Graph, Node, NodeId};
use crate::program::{self, ProgramSummary};
use crate::stats::Stats;
use crate::tensor_stream::{self, DenseTensor};

/// One stored array.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Variable {
    /// Where: a Python-like path inside a pickle (`obj['weight']`) or a structured name.
    pub path: String,
    /// `tensor` (dynamic), `static tensor`, `ndarray`, `numpy scalar`, `record`, `declared`.
    pub kind: &'static str,
    /// The tensor's own (parameter) name: dynamic tensors, name tables, programs.
    pub name: Option<String>,
    /// As stored: numpy's dtype name in pickles, Paddle's in tensor streams.
    /// `""` in JSON for a declared variable whose type has no fixed element size.
    #[serde(serialize_with = "dtype_or_empty")]
    pub dtype: Option<DType>,
    /// The Paddle dtype `paddle.load` gives, where it differs from `dtype` (uint16 arrays
    /// load as bfloat16, rule L-DTYPE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loads_as: Option<DType>,
    pub shape: Vec<i64>,
    pub bytes: u64,
    /// With `--stats`: statistics of the values (as `loads_as` reads them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
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
    /// `pickle`, `tensor stream`, `SelectedRows`, `combined params (.pdiparams)`,
    /// `program`, `prefix`, `directory`.
    pub format: String,
    /// Which save API most likely wrote it.
    pub writer: String,
    pub pickle_protocol: Option<u8>,
    pub numpy: Option<&'static str>,
    pub variables: Vec<Variable>,
    pub program: Option<ProgramInfo>,
    /// What `pdsave check` reports on the decoding (spec/rules.md A-… rules).
    pub warnings: Vec<Finding>,
}

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
            program::ProgramFormat::ProgramDesc => "legacy (ProgramDesc)",
            program::ProgramFormat::PirJson => "PIR (JSON file)",
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
    kind: &'static str,
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
        },
        data: Some((Cow::Borrowed(t.data), dtype)),
    }
}

fn key_text(g: &Graph, k: NodeId) -> String {
    match g.node(k) {
        Node::Str(s) => format!("{s:?}"),
        Node::Int(i) => i.to_string(),
        n => format!("<{}>", n.type_name()),
    }
}

fn array_var<'a>(
    g: &'a Graph,
    id: NodeId,
    path: &str,
    kind: &'static str,
    name: Option<String>,
) -> Option<Found<'a>> {
    let Node::NdArray(a) = g.node(id) else {
        return None;
    };
    let d = g.dtype_of(a.dtype)?;
    let loads = d.dtype.to_tensor();
    let loads_as = loads.filter(|&p| p != d.dtype);
    let data = crate::numpy::to_little_endian(d.dtype, d.order, &a.data);
    Some(Found {
        var: Variable {
            path: path.to_string(),
            kind,
            name,
            dtype: Some(d.dtype),
            loads_as,
            shape: a.shape.iter().map(|&x| x as i64).collect(),
            bytes: a.data.len() as u64,
            stats: None,
        },
        data: Some((data, loads.unwrap_or(d.dtype))),
    })
}

fn walk<'a>(
    g: &'a Graph,
    id: NodeId,
    path: &str,
    out: &mut Vec<Found<'a>>,
    seen: &mut [bool],
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
                out.push(Found {
                    var: Variable {
                        path: path.to_string(),
                        kind: "numpy scalar",
                        name: None,
                        dtype: Some(d.dtype),
                        loads_as: None,
                        shape: vec![],
                        bytes: s.data.len() as u64,
                        stats: None,
                    },
                    data: None,
                });
            }
        }
        Node::Dict(items) | Node::OrderedDict(items) => {
            for &(k, v) in items {
                let p = format!("{path}[{}]", key_text(g, k));
                walk(g, v, &p, out, seen, depth + 1);
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

fn root_str_keys<'g>(g: &'g Graph) -> Vec<(&'g str, NodeId)> {
    match g.node(g.root) {
        Node::Dict(items) | Node::OrderedDict(items) => items
            .iter()
            .filter_map(|&(k, v)| match g.node(k) {
                Node::Str(s) => Some((s.as_ref(), v)),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// Which save API wrote a pickle, from its shape (spec/rules.md S- rules).
fn pickle_writer(g: &Graph, vars: &[Found]) -> &'static str {
    let keys = root_str_keys(g);
    let has = |k: &str| keys.iter().any(|(s, _)| *s == k);
    let any_kind = |k: &str| vars.iter().any(|f| f.var.kind == k);
    if has("UnpackBigParamInfor@@") {
        "paddle.save, protocol 2/3, with a parameter split into slices (UnpackBigParamInfor@@)"
    } else if has("StructuredToParameterName@@") {
        if has("LR_Scheduler") || keys.iter().any(|(s, _)| s.contains("_moment")) {
            "paddle.save of an optimizer state_dict (.pdopt)"
        } else {
            "paddle.save of a state_dict (Tensors saved as ndarrays + name table)"
        }
    } else if has("LR_Scheduler") || has("@LR_DECAY_COUNTER@") {
        "paddle.save of an optimizer state_dict (.pdopt)"
    } else if any_kind("tensor") {
        "paddle.save of dynamic Tensors (saved as (name, ndarray) tuples)"
    } else if any_kind("static tensor") {
        "paddle.save in static mode (Tensors saved as eval('data', …) ndarrays)"
    } else if !vars.is_empty() && vars.iter().all(|f| f.var.kind == "ndarray") {
        "paddle.static.save / paddle.save of ndarrays (a .pdparams or .pdopt of ndarrays)"
    } else {
        "paddle.save of a generic object (or plain pickle)"
    }
}

fn pickle_report<'a>(path: &Path, g: &'a Graph) -> (Report, Vec<Found<'a>>) {
    let mut vars = Vec::new();
    let mut seen = vec![false; g.nodes.len()];
    walk(g, g.root, "obj", &mut vars, &mut seen, 0);
    // The name table maps structured names (state-dict keys) to parameter names.
    let table = root_str_keys(g)
        .into_iter()
        .find(|(k, _)| *k == "StructuredToParameterName@@");
    if let Some((_, t)) = table {
        if let Node::Dict(names) | Node::OrderedDict(names) = g.node(t) {
            let by_path: HashMap<String, &str> = names
                .iter()
                .filter_map(|&(k, n)| match g.node(n) {
                    Node::Str(s) => Some((format!("obj[{}]", key_text(g, k)), s.as_ref())),
                    _ => None,
                })
                .collect();
            for f in vars.iter_mut() {
                if let Some(n) = by_path.get(&f.var.path) {
                    f.var.name = Some(n.to_string());
                }
            }
        }
    }
    let writer = pickle_writer(g, &vars).to_string();
    let report = Report {
        path: path.display().to_string(),
        format: "pickle".into(),
        writer,
        pickle_protocol: Some(g.protocol),
        numpy: g.flavour.map(|f| f.label()),
        variables: vec![],
        program: None,
        warnings: classify_graph(g),
    };
    (report, vars)
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

/// Inspects a file, prefix or directory; `done(bytes)` reports statistics progress.
pub fn inspect_with(
    path: &Path,
    opts: Options,
    done: &(dyn Fn(u64) + Sync),
) -> Result<Report, String> {
    let open = |p: &Path| {
        if opts.stats {
            Mapped::open_whole(p)
        } else {
            Mapped::open(p)
        }
        .map_err(|e| format!("{}: {e}", p.display()))
    };
    let finish = |mut r: Report, found: Vec<Found>| -> Report {
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
            r.variables = found
                .into_iter()
                .zip(stats)
                .map(|(f, s)| Variable { stats: s, ..f.var })
                .collect();
        } else {
            r.variables = found.into_iter().map(|f| f.var).collect();
        }
        r
    };
    let base = |format: &str, writer: &str| Report {
        path: path.display().to_string(),
        format: format.into(),
        writer: writer.into(),
        pickle_protocol: None,
        numpy: None,
        variables: vec![],
        program: None,
        warnings: vec![],
    };
    if path.is_file() {
        let data = open(path)?;
        if let Ok(g) = pickle::decode(&data) {
            let (r, found) = pickle_report(path, &g);
            return Ok(finish(r, found));
        }
        if let Ok(t) = tensor_stream::decode_dense_tensor(&data) {
            let r = base(
                "tensor stream",
                "paddle.save(use_binary_format=True) or a save op",
            );
            let found = vec![tensor_var("tensor".into(), "record", None, &t)];
            return Ok(finish(r, found));
        }
        if let Ok(rows) = tensor_stream::decode_selected_rows(&data) {
            let r = base("SelectedRows", "save op on a SelectedRows variable");
            let label = format!(
                "value ({} rows of height {})",
                rows.row_count(),
                rows.height
            );
            let found = vec![tensor_var(label, "record", None, &rows.value)];
            return Ok(finish(r, found));
        }
        if let Ok(recs) = tensor_stream::decode_combined(&data) {
            let mut r = base(
                "combined params (.pdiparams)",
                "save_combine (names are in the program)",
            );
            if recs.len() > 1 {
                r.warnings
                    .push(crate::paddle::classify::combined_params_finding(recs.len()));
            }
            let found = recs
                .iter()
                .map(|rec| tensor_var(format!("record {}", rec.index), "record", None, &rec.tensor))
                .collect();
            return Ok(finish(r, found));
        }
        if let Ok(s) = program::summarize_program(&data) {
            let mut r = base("program", "jit.save / save_inference_model / static.save");
            r.program = Some(program_info(&s));
            r.variables = s.persistable.iter().map(declared).collect();
            return Ok(r);
        }
        return Err(format!(
            "{}: not a Paddle file pdsave can read",
            path.display()
        ));
    }
    let with = |ext: &str| crate::paddle::path::with_suffix(path, ext);
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
                let r = base("directory", "save_params / save_persistables / save_vars");
                let opened = if opts.stats {
                    crate::paddle::path::open_whole(path)
                } else {
                    crate::paddle::path::open(path)
                };
                let mut found = Vec::new();
                if let Ok(crate::paddle::Value::Dict(items)) = opened
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|o| o.load(Default::default()))
                {
                    for (k, v) in items {
                        if let (crate::paddle::Value::Str(n), crate::paddle::Value::NdArray(a)) =
                            (k, v)
                        {
                            let dtype = a.dtype;
                            found.push(Found {
                                var: Variable {
                                    path: n.to_string(),
                                    kind: "record",
                                    name: Some(n.to_string()),
                                    dtype: Some(dtype),
                                    loads_as: None,
                                    shape: a.shape.iter().map(|&x| x as i64).collect(),
                                    bytes: a.data.len() as u64,
                                    stats: None,
                                },
                                data: Some((a.data, dtype)),
                            });
                        }
                    }
                }
                return Ok(finish(r, found));
            }
        }
    } else {
        return Err(format!(
            "{}: no such file, prefix or directory",
            path.display()
        ));
    };
    let prog = open(&model)?;
    let s = program::summarize_program(&prog).map_err(|e| format!("{}: {e}", model.display()))?;
    let mut r = base(format, writer);
    r.program = Some(program_info(&s));
    let structured: Vec<(String, String)> = Mapped::open(&info)
        .ok()
        .and_then(|b| crate::paddle::path::structured_names(&b).ok())
        .unwrap_or_default();
    let pbytes = params.as_ref().and_then(|p| open(p).ok());
    let records = pbytes
        .as_deref()
        .and_then(|b| tensor_stream::decode_combined(b).ok());
    let files: Vec<Option<Mapped>> = s
        .persistable
        .iter()
        .map(|v| {
            if params.is_none() {
                open(&path.join(&v.name)).ok()
            } else {
                None
            }
        })
        .collect();
    let mut found = Vec::new();
    for (i, v) in s.persistable.iter().enumerate() {
        let rec = records.as_ref().and_then(|r| r.get(i));
        let sep = files[i]
            .as_deref()
            .and_then(|b| tensor_stream::decode_dense_tensor(b).ok());
        let t = rec.map(|r| r.tensor.clone()).or(sep);
        let shown = structured
            .iter()
            .find(|(n, _)| *n == v.name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| v.name.clone());
        found.push(match t {
            Some(t) => tensor_var(shown, "record", Some(v.name.clone()), &t),
            None => Found {
                var: Variable {
                    path: shown,
                    ..declared(v)
                },
                data: None,
            },
        });
    }
    Ok(finish(r, found))
}

fn declared(v: &program::VarInfo) -> Variable {
    Variable {
        path: v.name.clone(),
        kind: "declared",
        name: Some(v.name.clone()),
        dtype: v.dtype,
        loads_as: None,
        shape: v.shape.clone(),
        bytes: 0,
        stats: None,
    }
}

/// A byte count for people: `48 B`, `1.5 KiB`, `12.0 MiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Terminal styles, empty when colour is off.
struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint(anstyle::Style::new().bold(), t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint(anstyle::Style::new().dimmed(), t)
    }
    fn warn(&self, t: &str) -> String {
        self.paint(
            anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Yellow.into())),
            t,
        )
    }
    fn accent(&self, t: &str) -> String {
        self.paint(
            anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Cyan.into())),
            t,
        )
    }
}

/// Pads `text` (which may hold colour codes) to `w` visible characters.
fn pad(text: String, visible: usize, w: usize) -> String {
    format!("{text}{}", " ".repeat(w.saturating_sub(visible)))
}

/// The human-readable form; `color` adds ANSI styles (the CLI sets it on a terminal).
pub fn render(r: &Report, color: bool) -> String {
    let p = Paint { on: color };
    let mut s = String::new();
    let _ = writeln!(s, "{}", p.bold(&r.path));
    let _ = writeln!(s, "  format:  {}", r.format);
    let _ = writeln!(s, "  written by: {}", r.writer);
    if let Some(pr) = r.pickle_protocol {
        let _ = writeln!(
            s,
            "  pickle:  protocol {pr}{}",
            r.numpy
                .map(|n| format!(", {n} module paths"))
                .unwrap_or_default()
        );
    }
    if let Some(pg) = &r.program {
        let _ = writeln!(
            s,
            "  program: {} IR, version {}, {} block{}",
            pg.ir,
            pg.version.map(|v| v.to_string()).unwrap_or("?".into()),
            pg.blocks,
            if pg.blocks == 1 { "" } else { "s" }
        );
        let _ = writeln!(s, "    feeds:   {}", pg.feeds.join(", "));
        let _ = writeln!(s, "    fetches: {}", pg.fetches.join(", "));
        let ops: Vec<String> = pg
            .op_counts
            .iter()
            .map(|(k, v)| format!("{k}×{v}"))
            .collect();
        let _ = writeln!(s, "    ops:     {}", ops.join(" "));
    }
    let stats = r.variables.iter().any(|v| v.stats.is_some());
    let rows: Vec<Vec<String>> = r
        .variables
        .iter()
        .map(|v| {
            let stored = v.dtype.map(DType::name).unwrap_or_default();
            let dtype = match v.loads_as {
                Some(l) => format!("{stored}→{l}"),
                None => stored.to_string(),
            };
            let mut row = vec![
                v.path.clone(),
                v.name.clone().unwrap_or_default(),
                v.kind.to_string(),
                dtype,
                format!("{:?}", v.shape),
                human_bytes(v.bytes),
            ];
            if stats {
                let (mn, mx, mean, nan) = match &v.stats {
                    Some(st) => (
                        st.min.map(|x| x.to_string()).unwrap_or("-".into()),
                        st.max.map(|x| x.to_string()).unwrap_or("-".into()),
                        st.mean.map(crate::stats::short).unwrap_or("-".into()),
                        st.nan.to_string(),
                    ),
                    None => ("".into(), "".into(), "".into(), "".into()),
                };
                row.extend([mn, mx, mean, nan]);
            }
            row
        })
        .collect();
    let mut head = vec!["path", "name", "kind", "dtype", "shape", "size"];
    if stats {
        head.extend(["min", "max", "mean", "nan"]);
    }
    let right = |c: usize| c >= 5;
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (c, cell) in row.iter().enumerate() {
            w[c] = w[c].max(cell.chars().count().min(if c < 2 { 60 } else { 40 }));
        }
    }
    // Drop the name column when no variable has a name different from its path.
    let names = r
        .variables
        .iter()
        .any(|v| v.name.as_deref().is_some_and(|n| n != v.path));
    let cols: Vec<usize> = (0..head.len()).filter(|&c| c != 1 || names).collect();
    let line = |cells: Vec<(String, usize)>| -> String {
        let mut out = String::new();
        for (i, (text, visible)) in cells.into_iter().enumerate() {
            let c = cols[i];
            if i > 0 {
                out.push_str("  ");
            }
            if right(c) {
                out.push_str(&" ".repeat(w[c].saturating_sub(visible)));
                out.push_str(&text);
            } else {
                out.push_str(&pad(text, visible, w[c]));
            }
        }
        out.trim_end().to_string()
    };
    if !rows.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{}",
            line(
                cols.iter()
                    .map(|&c| (p.dim(head[c]), head[c].chars().count()))
                    .collect()
            )
        );
        for row in &rows {
            let cells = cols
                .iter()
                .map(|&c| {
                    let t = &row[c];
                    let n = t.chars().count();
                    (if c == 3 { p.accent(t) } else { t.clone() }, n)
                })
                .collect();
            let _ = writeln!(s, "{}", line(cells));
        }
    }
    let total: u64 = r.variables.iter().map(|v| v.bytes).sum();
    let nan: u64 = r
        .variables
        .iter()
        .filter_map(|v| v.stats.map(|s| s.nan))
        .sum();
    let _ = writeln!(
        s,
        "\n{} variable{}, {}{}",
        r.variables.len(),
        if r.variables.len() == 1 { "" } else { "s" },
        human_bytes(total),
        if stats {
            format!(", {nan} NaN values")
        } else {
            String::new()
        }
    );
    if !r.warnings.is_empty() {
        let _ = writeln!(
            s,
            "\n{} ({}; `pdsave check` explains):",
            p.warn("warnings"),
            r.warnings.len()
        );
        for f in &r.warnings {
            let _ = writeln!(s, "  {} {}: {}", p.warn(f.rule.as_str()), f.path, f.message);
            if let Some(wk) = f.workaround {
                let _ = writeln!(s, "      workaround {wk}: {}", wk.text());
            }
        }
    }
    s
}

fn dtype_or_empty<S: serde::Serializer>(d: &Option<DType>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.map(DType::name).unwrap_or(""))
}
