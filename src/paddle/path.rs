//! `paddle.load(path)` for the FAQ's three path forms (rule L-PATH), on a resolved
//! [`Source`]: a full file name (L-FILE, [`super::file`]), a prefix of `jit.save` /
//! `save_inference_model` files, a directory of 1.x files.
//!
//! Prefix and directory loading follow the release [`LoadOptions::paddle`] names (spec/
//! versions.md V-PREFIX, V-DIR, V-PROGRAM), as `_legacy_load` walks them: a prefix is
//! `PREFIX.pdmodel` only (a PIR `PREFIX.json` alone is the ValueError "path not exists");
//! a directory is a 1.x model when it holds `__model__`, and then every file whose name
//! contains `model` (`os.walk` order, joined to the directory by its bare name) is parsed
//! as a program; variable files come from the `forward` program, a missing one is the
//! load op's RuntimeError. What loads is a dict of parameter name → ndarray, whatever
//! `return_numpy` says, with structured names from `<prefix>.pdiparams.info` when it
//! exists (Paddle 2.6.2: `_load_state_dict_from_save_inference_model`); Paddle 3 raises
//! TypeError for a legacy program with a fetch target instead (D-6, D-8). A directory
//! without `__model__` loads file by file (`_load_state_dict_from_save_params`).
//!
//! The dict's order is implementation-defined in Paddle (the C++ block's variable map after
//! renaming, or `os.walk`'s listing order, D-13); pdsave gives the records' order (sorted by
//! name) for programs and the directory listing order for per-file directories, and the
//! corpus compares these dicts without regard to order (case.json `dict_order`).

use std::borrow::Cow;
use std::path::Path;

use super::file::record_shape;
use super::load::{LoadError, LoadOptions, Loaded};
use super::plan;
use crate::names::{MODEL_FILE, PROGRAM_SUFFIX, STRUCTURED_NAME};
use crate::pickle::{self, Graph, Node};
use crate::program::{self, NamedTensor};
use crate::rules::PyExc;
use crate::source::{Form, Source, SourceError};
use crate::tensor_stream::DenseTensor;

fn py(class: PyExc, message: impl Into<String>) -> LoadError {
    LoadError::Python {
        class,
        message: message.into(),
    }
}

fn model_error(e: program::ModelError) -> LoadError {
    py(PyExc::ValueError, e.to_string())
}

/// The dict `{name: np.array(tensor)}` a prefix or directory loads as (C order,
/// little-endian; bfloat16 as uint16), as a graph whose arrays borrow the records' bytes.
pub fn dict_graph<'a>(items: Vec<(String, &DenseTensor<'a>)>) -> Graph<'a> {
    let mut g = Graph::new(4);
    let mut pairs = Vec::with_capacity(items.len());
    for (name, t) in items {
        // Tensor streams are little-endian whatever the host (spec/rules.md L-PATH).
        let dtype = t.desc.data_type.numpy_carrier();
        let a = super::file::add_array(&mut g, dtype, record_shape(t), Cow::Borrowed(t.data));
        let k = g.add(Node::Str(Cow::Owned(name)));
        pairs.push((k, a));
    }
    g.root = g.add(Node::Dict(pairs));
    g
}

/// `paddle.load` of a resolved PATH; arrays borrow from the mapped files.
///
/// ```
/// use pdsave::paddle::{load::Item, outcome::Release, path::load, LoadError, LoadOptions};
/// use pdsave::source::Source;
/// // A jit.save prefix: net.pdmodel + net.pdiparams + net.pdiparams.info.
/// let s = Source::open("corpus/cases/y_p2_jit_save_prefix/net".as_ref(), false).unwrap();
/// // Paddle 3 raises TypeError on a legacy program with fetch targets ...
/// assert!(matches!(load(&s, LoadOptions::default()), Err(LoadError::Python { .. })));
/// // ... Paddle 2.6.2 gives its parameters by structured name.
/// let opts = LoadOptions { paddle: Release::P2_6_2, ..Default::default() };
/// let loaded = load(&s, opts).unwrap();
/// let Item::Dict(items) = loaded.root() else { panic!() };
/// assert!(items.iter().any(|(k, _)| matches!(k, Item::Str("fc.weight"))));
/// ```
pub fn load(source: &Source, opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
    fn dict(g: Graph<'_>, opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
        Loaded::new(g, plan::Form::AsIs, opts)
    }
    match &source.form {
        Form::File(f) if opts.safetensors => super::safetensors::load(f, opts),
        Form::File(f) => super::file::load_file(f, opts),
        Form::Checkpoint { metadata, shards } => {
            let c = super::checkpoint::Checkpoint::open(metadata, shards)?;
            c.load(&source.path, opts)
        }
        Form::Index {
            index,
            parsed,
            shards,
        } => super::index::load(index, parsed, shards, opts),
        Form::Prefix {
            program,
            params,
            info,
        } => {
            // `_build_load_path_and_config` looks for `PREFIX.pdmodel` only.
            if !program.path.to_string_lossy().ends_with(PROGRAM_SUFFIX) {
                return Err(SourceError::NotFound(source.path.clone()).into());
            }
            let summary = program::summarize_program(program).map_err(|e| {
                py(
                    PyExc::ValueError,
                    format!("{}: {e}", program.path.display()),
                )
            })?;
            translated_layer(&summary, &program.path, opts)?;
            let params = match params {
                Ok(p) => p,
                // `_construct_params_and_buffers`: no `PREFIX.pdiparams` (and no `.info`)
                // is an empty state dict (a `paddle.static.save` prefix, V-PREFIX).
                Err(_) if info.is_none() => return dict(dict_graph(vec![]), opts),
                Err(e) => return Err(LoadError::from(e.clone())),
            };
            let named = program::load_inference_model(program, params).map_err(model_error)?;
            dict(dict_graph(prefix_items(&named, info.as_deref())?), opts)
        }
        Form::Model { program, vars } => {
            let is_model = program.path.file_name() == Some(std::ffi::OsStr::new(MODEL_FILE));
            if !is_model {
                // `__model__.json` is not `__model__`: Paddle loads the directory file by file.
                return files_dict(&source.path, opts);
            }
            model_programs(&source.path, opts)?;
            let named = program::load_separate(program, |name| {
                vars.iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, f)| f.as_ref().ok())
                    .map(|f| &f[..])
            })
            .map_err(|e| match e {
                // The `load` op: "Load operator fail to open file …".
                program::ModelError::MissingVariableFile { name } => py(
                    PyExc::RuntimeError,
                    format!(
                        "(Unavailable) Load operator fail to open file {}",
                        source.path.join(name).display()
                    ),
                ),
                e => model_error(e),
            })?;
            dict(
                dict_graph(named.iter().map(|n| (n.name.clone(), n.tensor())).collect()),
                opts,
            )
        }
        Form::Files(files) => files_records(files, opts),
    }
}

/// Paddle 3 in dygraph mode: `_ProgramHolder` appends a `scale` to each fetch target with
/// the PIR API on a legacy Variable: TypeError (V-PROGRAM).
fn translated_layer(
    summary: &program::ProgramSummary,
    path: &Path,
    opts: LoadOptions,
) -> Result<(), LoadError> {
    if opts.paddle.translates_with_pir()
        && summary.format == program::ProgramFormat::ProgramDesc
        && !summary.fetch_targets.is_empty()
    {
        return Err(py(
            PyExc::TypeError,
            format!(
                "{}: (InvalidType) scale(): argument (position 1) must be Value, but got \
                 Variable (Paddle {} builds a TranslatedLayer for a legacy program with \
                 its PIR APIs on; Paddle 2.6.2 loads it: --paddle 2.6.2)",
                path.display(),
                opts.paddle
            ),
        ));
    }
    Ok(())
}

/// `_construct_program_holders(model_path, None)`: every file under the directory whose
/// name contains `model`, in `os.walk` order, opened as `model_path/<name>` and parsed as
/// a program; Paddle 3 raises at the first one with a fetch target.
fn model_programs(dir: &Path, opts: LoadOptions) -> Result<(), LoadError> {
    let files = crate::source::list_files(dir).map_err(LoadError::from)?;
    let mut forward = false;
    for (rel, _) in files {
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if !name.contains("model") {
            continue;
        }
        let p = dir.join(name);
        let bytes = std::fs::read(&p).map_err(|e| {
            py(
                PyExc::FileNotFoundError,
                format!(
                    "[Errno 2] No such file or directory: '{}' ({e})",
                    p.display()
                ),
            )
        })?;
        let summary = program::summarize_program(&bytes)
            .ok()
            .filter(|s| s.block_count > 0)
            .ok_or(LoadError::Crash(
                "in a directory with __model__, every file whose name contains \"model\" is \
                 parsed as a ProgramDesc, and one that is not a program (no block) crashes it",
            ))?;
        translated_layer(&summary, &p, opts)?;
        forward |= name.trim_matches('_') == "model";
    }
    if !forward {
        return Err(py(PyExc::KeyError, "'forward'"));
    }
    Ok(())
}

/// `_load_state_dict_from_save_params` on a directory holding `__model__.json`: every file
/// is loaded as a tensor, and the JSON program never is one (its first byte `{` is not a
/// tensor version 0): ValueError, in every release (D-7).
fn files_dict(dir: &Path, _opts: LoadOptions) -> Result<Loaded<'static>, LoadError> {
    Err(py(
        PyExc::ValueError,
        format!(
            "{}: (InvalidArgument) Deserialize to tensor failed, maybe the loaded file is not \
             a paddle model (paddle.load reads a directory without __model__ file by file)",
            dir.join(crate::names::PIR_MODEL_FILE).display()
        ),
    ))
}

fn files_records(
    files: &[(String, Result<crate::source::File, SourceError>)],
    opts: LoadOptions,
) -> Result<Loaded<'_>, LoadError> {
    let mut records = Vec::with_capacity(files.len());
    for (name, f) in files {
        let f = f.as_ref().map_err(|e| LoadError::from(e.clone()))?;
        // The `load` op reads one DenseTensor and fails on anything else.
        let (t, _) = crate::tensor_stream::decode_dense_tensor_prefix(f)
            .map_err(|e| py(PyExc::ValueError, format!("{name}: not a tensor file: {e}")))?;
        records.push((name.clone(), t));
    }
    Loaded::new(
        dict_graph(records.iter().map(|(n, t)| (n.clone(), t)).collect()),
        plan::Form::AsIs,
        opts,
    )
}

/// Resolves and loads a path as `paddle.load(path)` does, handing the result to `f` (the
/// loaded value borrows the maps, which live for the call).
pub fn with_loaded<R>(
    path: &Path,
    opts: LoadOptions,
    whole: bool,
    f: impl FnOnce(&Result<Loaded<'_>, LoadError>) -> R,
) -> R {
    match Source::open(path, whole) {
        Ok(s) => f(&load(&s, opts)),
        Err(e) => f(&Err(e.into())),
    }
}

/// The prefix's records named by variable name, or by structured name from
/// `<prefix>.pdiparams.info` when it exists (AssertionError for a variable it lacks).
fn prefix_items<'n, 'a>(
    named: &'n [NamedTensor<'a>],
    info: Option<&[u8]>,
) -> Result<Vec<(String, &'n DenseTensor<'a>)>, LoadError> {
    let mut items: Vec<(String, &DenseTensor)> =
        named.iter().map(|n| (n.name.clone(), n.tensor())).collect();
    if let Some(info) = info {
        let names = structured_names(info)?;
        for (name, _) in items.iter_mut() {
            let s = names
                .iter()
                .find(|(v, _)| v == name)
                .map(|(_, s)| s.clone());
            *name = s.ok_or_else(|| {
                py(
                    PyExc::AssertionError,
                    format!("Cannot find saved variable ({name})'s structured name"),
                )
            })?;
        }
    }
    Ok(items)
}

/// `<prefix>.pdiparams.info`: a pickle `{var_name: {'structured_name': str, ...}}`.
pub fn structured_names(info: &[u8]) -> Result<Vec<(String, String)>, LoadError> {
    let g = pickle::decode(info)?;
    let bad = || {
        py(
            PyExc::KeyError,
            "the .pdiparams.info file is not a {name: {'structured_name': ...}} dict",
        )
    };
    let (Node::Dict(items) | Node::OrderedDict(items)) = g.node(g.root) else {
        return Err(bad());
    };
    let mut out = Vec::new();
    for &(k, v) in items {
        let Node::Str(var) = g.node(k) else {
            return Err(bad());
        };
        let (Node::Dict(fields) | Node::OrderedDict(fields)) = g.node(v) else {
            return Err(bad());
        };
        let s = fields
            .iter()
            .find_map(|&(fk, fv)| match (g.node(fk), g.node(fv)) {
                (Node::Str(n), Node::Str(s)) if n == STRUCTURED_NAME => Some(s.to_string()),
                _ => None,
            });
        out.push((var.to_string(), s.ok_or_else(bad)?));
    }
    Ok(out)
}
