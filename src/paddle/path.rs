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

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::file::load_file_bytes;
use super::load::{LoadError, LoadOptions};
use super::value::{ArrayView, PaddleDType, Value};
use crate::pickle::{self, Node};
use crate::program::{self, NamedTensor};
use crate::tensor_stream::DenseTensor;

fn py(class: &'static str, message: impl Into<String>) -> LoadError {
    LoadError::Python {
        class,
        message: message.into(),
    }
}

fn read(p: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(p).map_err(|e| py("OSError", format!("{}: {e}", p.display())))
}

/// `np.array(tensor)` of a DenseTensor: C order, little-endian; bfloat16 as uint16.
pub fn tensor_ndarray(t: &DenseTensor<'_>) -> Result<Value<'static>, LoadError> {
    let dtype = PaddleDType::from_name(t.desc.data_type.paddle_name())
        .ok_or(LoadError::Unrepresentable("tensor of this data type"))?
        .to_numpy();
    let shape = t.desc.dims.iter().map(|&d| d.max(0) as u64).collect();
    Ok(Value::NdArray(ArrayView {
        dtype,
        order: dtype.native_order(),
        shape,
        fortran: false,
        data: Cow::Owned(t.data.to_vec()),
    }))
}

fn dict(items: Vec<(String, Value<'static>)>) -> Value<'static> {
    Value::Dict(
        items
            .into_iter()
            .map(|(k, v)| (Value::Str(Cow::Owned(k)), v))
            .collect(),
    )
}

fn model_error(e: program::ModelError) -> LoadError {
    py("ValueError", e.to_string())
}

/// Loads a path as `paddle.load` does (dynamic-graph mode).
pub fn load_path(path: &Path, opts: LoadOptions) -> Result<Value<'static>, LoadError> {
    if path.is_file() {
        let data = read(path)?;
        return load_file_bytes(&data, opts).map(Value::into_owned);
    }
    let with = |ext: &str| -> PathBuf {
        let mut s = path.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    // `_build_load_path_and_config`: `.pdmodel`, or (pdsave's extension to PIR) `.json`.
    let model = [with(".pdmodel"), with(".json")]
        .into_iter()
        .find(|p| p.is_file());
    let dir = path.is_dir();
    match (model, dir) {
        (Some(_), true) => Err(py(
            "ValueError",
            format!("{}.pdmodel and the directory both exist", path.display()),
        )),
        (None, false) => Err(py(
            "ValueError",
            format!(
                "The ``path`` ({}) to load model not exists.",
                path.display()
            ),
        )),
        (Some(m), false) => load_prefix(&m, &with(".pdiparams"), &with(".pdiparams.info")),
        (None, true) => load_directory(path),
    }
}

/// `jit.save` / `save_inference_model` prefix: program + combined params (+ `.info`).
fn load_prefix(model: &Path, params: &Path, info: &Path) -> Result<Value<'static>, LoadError> {
    let program = read(model)?;
    let params = read(params)?;
    let named = program::load_inference_model(&program, &params).map_err(model_error)?;
    let mut items = to_items(&named)?;
    if info.is_file() {
        let info = read(info)?;
        let names = structured_names(&info)?;
        for (name, _) in items.iter_mut() {
            let s = names
                .iter()
                .find(|(v, _)| v == name)
                .map(|(_, s)| s.clone());
            *name = s.ok_or_else(|| {
                py(
                    "AssertionError",
                    format!("Cannot find saved variable ({name})'s structured name"),
                )
            })?;
        }
    }
    Ok(dict(items))
}

fn to_items(named: &[NamedTensor<'_>]) -> Result<Vec<(String, Value<'static>)>, LoadError> {
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
            "KeyError",
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
fn load_directory(dir: &Path) -> Result<Value<'static>, LoadError> {
    // `__model__` (1.x); `__model__.json` is what Paddle 3's PIR `separate_parameters` writes
    // (pdsave's extension: Paddle 3.3.1 itself raises ValueError there, D-7).
    let model = [dir.join("__model__"), dir.join("__model__.json")]
        .into_iter()
        .find(|p| p.is_file());
    if let Some(model) = model {
        let program = read(&model)?;
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let summary =
            program::summarize_program(&program).map_err(|e| py("ValueError", e.to_string()))?;
        for v in &summary.persistable {
            let p = dir.join(&v.name);
            if let Ok(b) = std::fs::read(&p) {
                files.push((v.name.clone(), b));
            }
        }
        let named = program::load_separate(&program, |name| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.as_slice())
        })
        .map_err(model_error)?;
        return Ok(dict(to_items(&named)?));
    }
    let mut items = Vec::new();
    walk(dir, dir, &mut items, 0)?;
    Ok(dict(items))
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, Value<'static>)>,
    depth: usize,
) -> Result<(), LoadError> {
    if depth > 64 {
        return Err(py("RecursionError", "directory nested too deeply"));
    }
    let rd =
        std::fs::read_dir(dir).map_err(|e| py("OSError", format!("{}: {e}", dir.display())))?;
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
        let data = read(&p)?;
        // The `load` op reads one DenseTensor and fails on anything else.
        let (t, _) = crate::tensor_stream::decode_dense_tensor_prefix(&data)
            .map_err(|e| py("ValueError", format!("{name}: not a tensor file: {e}")))?;
        out.push((name, tensor_ndarray(&t)?));
    }
    for s in subdirs {
        walk(root, &s, out, depth + 1)?;
    }
    Ok(())
}
