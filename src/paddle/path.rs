//! `paddle.load(path)` for the FAQ's three path forms (rule L-PATH): a full file name
//! (L-FILE), a prefix of `jit.save` / `save_inference_model` files, a directory of 1.x files.
//!
//! Prefix and directory loading implement what the FAQ documents and Paddle 2.6.2 does
//! (`_load_state_dict_from_save_inference_model`, `_load_state_dict_from_save_params`): a
//! dict of parameter name → ndarray, whatever `return_numpy` says; structured names from
//! `<prefix>.pdiparams.info` when it exists. Paddle 3.3.1 raises TypeError (legacy programs)
//! or ValueError (PIR programs) there instead: spec/deviations.md D-6, D-7.
//!
//! The dict's order is implementation-defined in Paddle (the C++ block's variable map after
//! renaming, or `os.walk`'s listing order, D-13); pdsave gives the records' order (sorted by
//! name) for programs and the directory listing order for per-file directories, and the
//! corpus compares these dicts without regard to order (case.json `dict_order`).

use crate::dtype::DType;
use crate::rules::PyExc;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::file::load_file_bytes;
use super::load::{LoadError, LoadOptions};
use super::value::{ArrayView, Value};
use crate::mapped::Mapped;
use crate::pickle::{self, Node};
use crate::program::{self, NamedTensor};
use crate::tensor_stream::DenseTensor;

fn py(class: PyExc, message: impl Into<String>) -> LoadError {
    LoadError::Python {
        class,
        message: message.into(),
    }
}

fn read(p: &Path, whole: bool) -> Result<Mapped, LoadError> {
    if whole {
        Mapped::open_whole(p)
    } else {
        Mapped::open(p)
    }
    .map_err(|e| py(PyExc::OSError, format!("{}: {e}", p.display())))
}

/// `np.array(tensor)` of a DenseTensor: C order, little-endian; bfloat16 as uint16. The
/// array borrows the record's bytes.
pub fn tensor_ndarray<'a>(t: &DenseTensor<'a>) -> Result<Value<'a>, LoadError> {
    let dtype = DType::from_name(t.desc.data_type.name())
        .ok_or(LoadError::Unrepresentable("tensor of this data type"))?
        .numpy_carrier();
    let shape = t.desc.dims.iter().map(|&d| d.max(0) as u64).collect();
    Ok(Value::NdArray(ArrayView {
        dtype,
        // Tensor streams are little-endian whatever the host (spec/rules.md L-PATH).
        order: dtype.native_order(),
        shape,
        fortran: false,
        data: Cow::Borrowed(t.data),
    }))
}

fn dict(items: Vec<(String, Value<'_>)>) -> Value<'_> {
    Value::Dict(
        items
            .into_iter()
            .map(|(k, v)| (Value::Str(Cow::Owned(k)), v))
            .collect(),
    )
}

fn model_error(e: program::ModelError) -> LoadError {
    py(PyExc::ValueError, e.to_string())
}

/// `path` with `suffix` appended to its last component (`dir/model` → `dir/model.pdiparams`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The files behind a path, memory-mapped before anything is decoded, so that the loaded
/// value borrows its array payloads from them (no copy of tensor data).
pub struct Opened {
    form: Form,
}

enum Form {
    File(Mapped),
    /// `jit.save` / `save_inference_model` prefix: program, combined params, `.info`.
    Prefix {
        program: Mapped,
        params: Mapped,
        info: Option<Mapped>,
    },
    /// A 1.x directory with `__model__`: the program and the variable files that exist.
    Model {
        program: Mapped,
        vars: Vec<(String, Mapped)>,
    },
    /// A directory of tensor files, in listing order; a file that could not be read keeps
    /// its error, raised when loading reaches it.
    Files(Vec<(String, Result<Mapped, LoadError>)>),
}

/// Opens what `paddle.load(path)` would read (L-PATH): a file, a prefix or a directory.
///
/// ```
/// use pdsave::paddle::{path::open, Value};
/// // A jit.save prefix: net.pdmodel + net.pdiparams + net.pdiparams.info.
/// let opened = open("corpus/cases/y_p2_jit_save_prefix/net".as_ref()).unwrap();
/// let Ok(Value::Dict(items)) = opened.load(Default::default()) else { panic!() };
/// assert!(items.iter().any(|(k, _)| matches!(k, Value::Str(s) if s == "fc.weight")));
/// ```
pub fn open(path: &Path) -> Result<Opened, LoadError> {
    open_with(path, false)
}

/// [`open`] for a caller that reads every byte (the view hashes every array): the maps
/// are populated up front ([`Mapped::open_whole`]).
pub fn open_whole(path: &Path) -> Result<Opened, LoadError> {
    open_with(path, true)
}

fn open_with(path: &Path, whole: bool) -> Result<Opened, LoadError> {
    if path.is_file() {
        return Ok(Opened {
            form: Form::File(read(path, whole)?),
        });
    }
    let with = |ext: &str| crate::paddle::path::with_suffix(path, ext);
    // `_build_load_path_and_config`: `.pdmodel`, or (pdsave's extension to PIR) `.json`.
    let model = [with(".pdmodel"), with(".json")]
        .into_iter()
        .find(|p| p.is_file());
    let dir = path.is_dir();
    let form = match (model, dir) {
        (Some(_), true) => {
            return Err(py(
                PyExc::ValueError,
                format!("{}.pdmodel and the directory both exist", path.display()),
            ))
        }
        (None, false) => {
            return Err(py(
                PyExc::ValueError,
                format!(
                    "The ``path`` ({}) to load model not exists.",
                    path.display()
                ),
            ))
        }
        (Some(m), false) => {
            let info = with(".pdiparams.info");
            Form::Prefix {
                program: read(&m, whole)?,
                params: read(&with(".pdiparams"), whole)?,
                info: if info.is_file() {
                    Some(read(&info, whole)?)
                } else {
                    None
                },
            }
        }
        (None, true) => open_directory(path, whole)?,
    };
    Ok(Opened { form })
}

impl Opened {
    /// `paddle.load` of the opened path; arrays borrow from the mapped files.
    pub fn load(&self, opts: LoadOptions) -> Result<Value<'_>, LoadError> {
        match &self.form {
            Form::File(data) => load_file_bytes(data, opts),
            Form::Prefix {
                program,
                params,
                info,
            } => load_prefix(program, params, info.as_deref()),
            Form::Model { program, vars } => {
                let named = program::load_separate(program, |name| {
                    vars.iter().find(|(n, _)| n == name).map(|(_, b)| &b[..])
                })
                .map_err(model_error)?;
                Ok(dict(to_items(&named)?))
            }
            Form::Files(files) => {
                let mut items = Vec::with_capacity(files.len());
                for (name, data) in files {
                    let data = data.as_ref().map_err(Clone::clone)?;
                    // The `load` op reads one DenseTensor and fails on anything else.
                    let (t, _) =
                        crate::tensor_stream::decode_dense_tensor_prefix(data).map_err(|e| {
                            py(PyExc::ValueError, format!("{name}: not a tensor file: {e}"))
                        })?;
                    items.push((name.clone(), tensor_ndarray(&t)?));
                }
                Ok(dict(items))
            }
        }
    }
}

impl Opened {
    /// [`Opened::load`], handing the value to `f` with every payload borrowed (see
    /// [`super::file::with_file_value`]): what `pdsave view` uses.
    pub fn with_value<R>(
        &self,
        opts: LoadOptions,
        f: impl FnOnce(&Result<Value<'_>, LoadError>) -> R,
    ) -> R {
        match &self.form {
            Form::File(data) => super::file::with_file_value(data, opts, f),
            _ => f(&self.load(opts)),
        }
    }
}

/// Loads a path as `paddle.load` does (dynamic-graph mode), copying the arrays out of the
/// files; [`open`] + [`Opened::load`] borrows them instead.
pub fn load_path(path: &Path, opts: LoadOptions) -> Result<Value<'static>, LoadError> {
    open(path)?.load(opts).map(Value::into_owned)
}

/// `jit.save` / `save_inference_model` prefix: program + combined params (+ `.info`).
fn load_prefix<'a>(
    program: &[u8],
    params: &'a [u8],
    info: Option<&[u8]>,
) -> Result<Value<'a>, LoadError> {
    let named = program::load_inference_model(program, params).map_err(model_error)?;
    let mut items = to_items(&named)?;
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
    Ok(dict(items))
}

fn to_items<'a>(named: &[NamedTensor<'a>]) -> Result<Vec<(String, Value<'a>)>, LoadError> {
    named
        .iter()
        .map(|n| Ok((n.name.clone(), tensor_ndarray(n.tensor())?)))
        .collect()
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
                (Node::Str(n), Node::Str(s)) if n == "structured_name" => Some(s.to_string()),
                _ => None,
            });
        out.push((var.to_string(), s.ok_or_else(bad)?));
    }
    Ok(out)
}

/// A 1.x directory: `__model__` + one file per variable, or (no `__model__`) every file
/// loaded as a tensor named by its relative path, in directory-listing order (`os.walk`).
fn open_directory(dir: &Path, whole: bool) -> Result<Form, LoadError> {
    // `__model__` (1.x); `__model__.json` is what Paddle 3's PIR `separate_parameters` writes
    // (pdsave's extension: Paddle 3.3.1 itself raises ValueError there, D-7).
    let model = [dir.join("__model__"), dir.join("__model__.json")]
        .into_iter()
        .find(|p| p.is_file());
    if let Some(model) = model {
        let program = read(&model, whole)?;
        let summary = program::summarize_program(&program)
            .map_err(|e| py(PyExc::ValueError, e.to_string()))?;
        let mut vars = Vec::new();
        for v in &summary.persistable {
            if let Ok(b) = read(&dir.join(&v.name), whole) {
                vars.push((v.name.clone(), b));
            }
        }
        return Ok(Form::Model { program, vars });
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files, 0, whole)?;
    Ok(Form::Files(files))
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, Result<Mapped, LoadError>)>,
    depth: usize,
    whole: bool,
) -> Result<(), LoadError> {
    if depth > 64 {
        return Err(py(PyExc::RecursionError, "directory nested too deeply"));
    }
    let rd = std::fs::read_dir(dir)
        .map_err(|e| py(PyExc::OSError, format!("{}: {e}", dir.display())))?;
    let mut subdirs = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            subdirs.push(p);
            continue;
        }
        let name = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        out.push((name, read(&p, whole)));
    }
    for s in subdirs {
        walk(root, &s, out, depth + 1, whole)?;
    }
    Ok(())
}
