//! The weights of a model on disk, from its resolved [`Source`]: a `.pdmodel`/PIR `.json` +
//! `.pdiparams` prefix (names from `.pdiparams.info` when it exists) or a 1.x directory
//! (`__model__` or `__model__.json` + one file per variable, or only variable files), as
//! named arrays with Paddle's own dtypes (bfloat16 and float8 kept).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use super::{ConvertError, NamedArray, TABLE_KEY};
use crate::dtype::DType;
use crate::program::{self, NamedTensor};
use crate::source::{Form, Source};
use crate::tensor_stream;

/// A model's weights with their name table and what the user should know.
pub struct Weights<'a> {
    pub arrays: Vec<NamedArray<'a>>,
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

/// The records of a prefix or directory, by variable name, and the structured names.
#[allow(clippy::type_complexity)]
fn named<'s>(
    src: &'s Source,
) -> Result<(Vec<NamedTensor<'s>>, Option<Vec<(String, String)>>), ConvertError> {
    let err = |e: program::ModelError| model_err(&src.path, e);
    match &src.form {
        Form::Prefix {
            program,
            params,
            info,
        } => {
            let params = params.as_ref().map_err(|e| model_err(&src.path, e))?;
            let structured = match info {
                Some(b) => Some(
                    crate::paddle::path::structured_names(b).map_err(|e| model_err(&b.path, e))?,
                ),
                None => None,
            };
            Ok((
                program::load_inference_model(program, params).map_err(err)?,
                structured,
            ))
        }
        Form::Model { program, vars } => {
            let named = program::load_separate(program, |name| {
                vars.iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, f)| f.as_ref().ok())
                    .map(|f| &f[..])
            })
            .map_err(err)?;
            Ok((named, None))
        }
        Form::Checkpoint { .. } | Form::Index { .. } => Err(model_err(
            &src.path,
            "a checkpoint is not a model (convert reads it as a state dict)",
        )),
        Form::Files(files) => {
            crate::source::not_a_model(&src.path, files.len())
                .map_err(|e| model_err(&src.path, e))?;
            // Variable files only: every file, named by its path under the directory, sorted.
            let mut sorted: Vec<_> = files.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            let named = sorted
                .into_iter()
                .enumerate()
                .map(|(index, (name, f))| {
                    let f = f.as_ref().map_err(|e| model_err(&src.path.join(name), e))?;
                    let (tensor, len) = tensor_stream::decode_dense_tensor_prefix(f)
                        .map_err(|e| model_err(&f.path, format!("not a tensor file: {e}")))?;
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
                .collect::<Result<_, ConvertError>>()?;
            Ok((named, None))
        }
        Form::File(f) => Err(model_err(&f.path, "not a model prefix or directory")),
    }
}

/// One tensor stream record as an array to write (its own dtype, or [`elem`]'s carrier).
pub fn record_array<'a>(
    name: String,
    t: &tensor_stream::DenseTensor<'a>,
    path: &Path,
) -> Result<NamedArray<'a>, ConvertError> {
    let shape: Vec<u64> = t
        .desc
        .dims
        .iter()
        .map(|&d| u64::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| ConvertError::Tensor {
            path: path.to_path_buf(),
            name: name.clone(),
            reason: format!("negative dimension in {:?}", t.desc.dims),
        })?;
    let e = elem(t.desc.data_type);
    Ok(NamedArray {
        name,
        elem: e,
        shape,
        data: Cow::Borrowed(t.data),
        order: e.numpy_carrier().native_order(),
        fortran: false,
    })
}

/// The weights, named by structured name where `.pdiparams.info` gives one.
pub fn weights(src: &Source) -> Result<Weights<'_>, ConvertError> {
    let (named, structured) = named(src)?;
    if named.is_empty() {
        return Err(model_err(
            &src.path,
            "no variables: not a model, or an empty one",
        ));
    }
    let by_var: HashMap<&str, &str> = structured
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
        if !t.lod.is_empty() {
            lod.push(n.name.clone());
        }
        let name = match (&structured, by_var.get(n.name.as_str())) {
            (Some(_), Some(s)) => s.to_string(),
            (Some(_), None) => {
                unnamed.push(n.name.clone());
                n.name.clone()
            }
            (None, _) => n.name.clone(),
        };
        let a = record_array(name.clone(), &t, &src.path)?;
        if a.elem != t.desc.data_type {
            w.notes
                .push(format!("{name}: {} stored as {}", t.desc.data_type, a.elem));
        }
        w.table.push((name, n.name.clone()));
        w.arrays.push(a);
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
