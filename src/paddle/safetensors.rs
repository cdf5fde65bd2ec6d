//! `paddle.load(path, safetensors=True[, return_numpy=True])` (rule L-SAFETENSORS, Paddle
//! 3.3.1 `paddle/framework/io.py`): the file is read by `safetensors.paddle.load_file` (or
//! `safetensors.numpy.load_file` with `return_numpy`), never as a pickle. Paddle's quirks
//! are kept: the dict's keys come in data-offset order (not the order they were saved
//! in); a bfloat16 tensor with `return_numpy` raises TypeError (numpy has no bfloat16); a
//! zero-size tensor makes the default load raise ValueError (a view of 0 bytes); the
//! Tensors are named by Paddle at load time (null in the view); a file that is not
//! safetensors (a pickle, which `paddle.save(nested_dict, safetensors=True)` silently
//! writes) raises `SafetensorError`.

use std::borrow::Cow;

use ::safetensors::tensor::{Dtype, TensorInfo};

use super::load::{LoadError, LoadOptions, Loaded};
use super::values::{dict_graph, Value};
use crate::dtype::DType;
use crate::rules::PyExc;

fn py(class: PyExc, message: impl Into<String>) -> LoadError {
    LoadError::Python {
        class,
        message: message.into(),
    }
}

/// A safetensors file's tensors, in data-offset order, and its data area.
pub type Tensors<'a> = (Vec<(String, TensorInfo)>, &'a [u8]);

/// The tensors of a safetensors file in data-offset order (then by name: empty tensors
/// share an offset), with the data area; `Err` is the `SafetensorError` the crate (and
/// Python's `safetensors`) raises.
pub fn tensors(data: &[u8]) -> Result<Tensors<'_>, String> {
    let (n, meta) = ::safetensors::SafeTensors::read_metadata(data).map_err(|e| e.to_string())?;
    let start = n
        .checked_add(8)
        .filter(|&s| s <= data.len())
        .ok_or("header longer than the file")?;
    let mut v: Vec<(String, TensorInfo)> = meta
        .tensors()
        .into_iter()
        .map(|(k, i)| (k, i.clone()))
        .collect();
    v.sort_by(|a, b| (a.1.data_offsets, &a.0).cmp(&(b.1.data_offsets, &b.0)));
    Ok((v, &data[start..]))
}

/// `paddle.load(path, safetensors=True, ...)` on a file's bytes.
///
/// ```
/// use pdsave::paddle::{safetensors::load, LoadOptions};
/// let b = std::fs::read("corpus/cases/y_p3_safetensors_no_bf16/model.safetensors").unwrap();
/// let opts = LoadOptions { safetensors: true, ..Default::default() };
/// let v = pdsave::view::view(&load(&b, opts)).unwrap();
/// // Keys in data-offset order: int64 `steps` first (safetensors sorts by alignment).
/// assert_eq!(v["result"]["items"][0][0]["v"], "steps");
/// ```
pub fn load(data: &[u8], opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
    let (infos, area) = tensors(data).map_err(|e| {
        py(
            PyExc::SafetensorError,
            format!("Error while deserializing header: {e}"),
        )
    })?;
    let mut items = Vec::with_capacity(infos.len());
    for (name, info) in infos {
        let dtype = match info.dtype {
            Dtype::BF16 if opts.return_numpy => {
                return Err(py(PyExc::TypeError, "data type 'bfloat16' not understood"))
            }
            Dtype::U16 | Dtype::F8_E4M3 | Dtype::F8_E5M2 => {
                return Err(LoadError::Unrepresentable(
                    "safetensors tensor of this dtype",
                ))
            }
            d => DType::from_safetensors(d).ok_or(LoadError::Unrepresentable(
                "safetensors tensor of this dtype",
            ))?,
        };
        let (s, e) = info.data_offsets;
        let bytes = area.get(s..e).unwrap_or(&[]);
        if bytes.is_empty() && !opts.return_numpy {
            // safetensors.paddle views the empty buffer as the dtype: Paddle refuses it.
            return Err(py(
                PyExc::ValueError,
                format!("{name}: input.strides[0] must be 1 to view uint8 as {dtype}, but got 0"),
            ));
        }
        items.push((
            name,
            Value {
                dtype,
                tensor: !opts.return_numpy,
                name: None,
                shape: info.shape.iter().map(|&d| d as u64).collect(),
                data: Cow::Borrowed(bytes),
            },
        ));
    }
    let opts = LoadOptions {
        keep_name_table: false,
        ..opts
    };
    Loaded::new(dict_graph(items), super::plan::Form::Pickle, opts)
}
