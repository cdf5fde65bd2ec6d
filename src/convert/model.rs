//! The weights of a model on disk: a `.pdmodel`/PIR `.json` + `.pdiparams` prefix (names
//! from `.pdiparams.info` when it exists) or a 1.x directory (`__model__` or
//! `__model__.json` + one file per variable, or only variable files), as named arrays with
//! Paddle's own dtypes (bfloat16 and float8 kept).

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{map, with_suffix, Array, ConvertError, Format, TABLE_KEY};
use crate::mapped::Mapped as Bytes;
use crate::program::{self, NamedTensor};
use crate::tensor_stream::{self};

/// The mapped files of a model.
pub struct Loaded {
    path: PathBuf,
    program: Option<Bytes>,
    params: Option<Bytes>,
    /// Variable name → structured name (`.pdiparams.info`).
    structured: Option<Vec<(String, String)>>,
    /// Per-variable files (directory), by variable name or relative path.
    files: Vec<(String, Bytes)>,
}

/// A model's weights with their name table and what the user should know.
pub struct Weights<'a> {
    pub arrays: Vec<Array<'a>>,
    /// Tensor name → Paddle variable name.
    pub table: Vec<(String, String)>,
    pub notes: Vec<String>,
}

impl Weights<'_> {
    /// The safetensors metadata: the parameter-name table.
    pub fn metadata(&self) -> HashMap<String, String> {
        let t: serde_json::Map<String, serde_json::Value> = self
            .table
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        HashMap::from([(
            TABLE_KEY.to_string(),
            serde_json::Value::Object(t).to_string(),
        )])
    }
}

/// The dtype a record is written as: its own, or for a dtype safetensors and numpy lack
/// (size_t) the numpy dtype that carries its bytes.
fn elem(d: DType) -> DType {
    if d.safetensors().is_some() {
        d
    } else {
        d.numpy_carrier()
    }
}

fn model_err(path: &Path, reason: impl ToString) -> ConvertError {
    ConvertError::Model {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Maps the files of a prefix or a directory.
pub fn load(path: &Path, format: Format) -> Result<Loaded, ConvertError> {
    let mut l = Loaded {
        path: path.to_path_buf(),
        program: None,
        params: None,
        structured: None,
        files: vec![],
    };
    if format == Format::Prefix {
        let model = [".pdmodel", ".json"]
            .iter()
            .map(|e| with_suffix(path, e))
            .find(|p| p.is_file())
            .ok_or_else(|| model_err(path, "no PREFIX.pdmodel or PREFIX.json"))?;
        l.program = Some(map(&model)?);
        l.params = Some(map(&with_suffix(path, ".pdiparams"))?);
        let info = with_suffix(path, ".pdiparams.info");
        if info.is_file() {
            let b = map(&info)?;
            l.structured =
                Some(crate::paddle::path::structured_names(&b).map_err(|e| model_err(&info, e))?);
        }
        return Ok(l);
    }
    let model = [path.join("__model__"), path.join("__model__.json")]
        .into_iter()
        .find(|p| p.is_file());
    if let Some(model) = model {
        let program = map(&model)?;
        let summary = program::summarize_program(&program).map_err(|e| model_err(&model, e))?;
        for v in &summary.persistable {
            let p = path.join(&v.name);
            if p.is_file() {
                l.files.push((v.name.clone(), map(&p)?));
            }
        }
        l.program = Some(program);
        return Ok(l);
    }
    // Variable files only: every file, named by its path under the directory, sorted.
    let mut found = Vec::new();
    walk(path, path, &mut found, 0)?;
    found.sort();
    for (name, p) in found {
        l.files.push((name, map(&p)?));
    }
    Ok(l)
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
    depth: usize,
) -> Result<(), ConvertError> {
    if depth > 64 || out.len() > 1_000_000 {
        return Err(model_err(dir, "directory tree too deep or too large"));
    }
    let rd = std::fs::read_dir(dir).map_err(|source| ConvertError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out, depth + 1)?;
        } else {
            let name = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, p));
        }
    }
    Ok(())
}

impl Loaded {
    fn named(&self) -> Result<Vec<NamedTensor<'_>>, ConvertError> {
        let err = |e: program::ModelError| model_err(&self.path, e);
        if let (Some(program), Some(params)) = (&self.program, &self.params) {
            return program::load_inference_model(program, params).map_err(err);
        }
        if let Some(program) = &self.program {
            let files = &self.files;
            return program::load_separate(program, |name| {
                files.iter().find(|(n, _)| n == name).map(|(_, b)| &b[..])
            })
            .map_err(err);
        }
        self.files
            .iter()
            .enumerate()
            .map(|(index, (name, b))| {
                let (tensor, len) = tensor_stream::decode_dense_tensor_prefix(b).map_err(|e| {
                    model_err(&self.path.join(name), format!("not a tensor file: {e}"))
                })?;
                Ok(NamedTensor {
                    name: name.clone(),
                    record: tensor_stream::TensorRecord {
                        index,
                        offset: 0,
                        len,
                        tensor,
                    },
                    declared: None,
                })
            })
            .collect()
    }

    /// The weights, named by structured name where `.pdiparams.info` gives one.
    pub fn weights(&self) -> Result<Weights<'_>, ConvertError> {
        let named = self.named()?;
        let structured: HashMap<&str, &str> = self
            .structured
            .iter()
            .flatten()
            .map(|(v, s)| (v.as_str(), s.as_str()))
            .collect();
        let mut w = Weights {
            arrays: Vec::with_capacity(named.len()),
            table: Vec::with_capacity(named.len()),
            notes: vec![],
        };
        let mut lod = Vec::new();
        let mut unnamed = Vec::new();
        for n in named {
            let t = n.record.tensor;
            let shape: Vec<u64> = t
                .desc
                .dims
                .iter()
                .map(|&d| u64::try_from(d))
                .collect::<Result<_, _>>()
                .map_err(|_| ConvertError::Tensor {
                    path: self.path.clone(),
                    name: n.name.clone(),
                    reason: format!("negative dimension in {:?}", t.desc.dims),
                })?;
            if !t.lod.is_empty() {
                lod.push(n.name.clone());
            }
            let name = match (&self.structured, structured.get(n.name.as_str())) {
                (Some(_), Some(s)) => s.to_string(),
                (Some(_), None) => {
                    unnamed.push(n.name.clone());
                    n.name.clone()
                }
                (None, _) => n.name.clone(),
            };
            let e = elem(t.desc.data_type);
            if t.desc.data_type == DType::SizeT {
                w.notes.push(format!("{name}: size_t stored as uint64"));
            }
            w.table.push((name.clone(), n.name.clone()));
            w.arrays.push(Array {
                name,
                elem: e,
                shape,
                data: Cow::Borrowed(t.data),
                order: e.numpy_carrier().native_order(),
                fortran: false,
            });
        }
        if !unnamed.is_empty() {
            // paddle.load raises AssertionError here; the variable names are kept instead.
            w.notes.push(format!(
                ".pdiparams.info has no structured name for {}: the variable name is used",
                unnamed.join(", ")
            ));
        }
        if !lod.is_empty() {
            w.notes.push(format!(
                "LoD (sequence offsets) not kept for: {}",
                lod.join(", ")
            ));
        }
        Ok(w)
    }
}
