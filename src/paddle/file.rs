//! `paddle.load` on one file (FAQ path form 1: a full file name): a pickle first; when
//! Python's unpickler would raise `UnpicklingError`, Paddle falls back to a SelectedRows
//! stream, then a DenseTensor stream, then a ProgramDesc — which in dynamic-graph mode
//! fails too — and raises ValueError (L-FILE).

use crate::dtype::DType;
use crate::rules::PyExc;
use std::borrow::Cow;

use super::load::{load_graph, LoadError, LoadOptions};
use super::value::{ArrayView, Value};
use crate::pickle::{self, PickleError};
use crate::tensor_stream;

/// What CPython's unpickler raises for a pdsave decode error, when pdsave can tell.
pub fn python_class(e: &PickleError) -> Option<PyExc> {
    use PickleError::*;
    Some(match e {
        NoStop { .. } => PyExc::EOFError,
        UnknownOpcode { .. }
        | Truncated { .. }
        | StackUnderflow { .. }
        | NoMark { .. }
        | BadProtocol { .. }
        | BadArgument { .. } => PyExc::UnpicklingError,
        InvalidUtf8 { .. } => PyExc::UnicodeDecodeError,
        _ => return None,
    })
}

/// A DenseTensor stream as `paddle.load` returns it.
pub fn tensor_value(
    t: &tensor_stream::DenseTensor<'_>,
    opts: LoadOptions,
) -> Result<Value<'static>, LoadError> {
    let dtype = DType::from_name(t.desc.data_type.name())
        .ok_or(LoadError::Unrepresentable("tensor of this data type"))?;
    let shape: Vec<u64> = t.desc.dims.iter().map(|&d| d.max(0) as u64).collect();
    let np = dtype.numpy_carrier();
    if opts.return_numpy && t.data.is_empty() {
        // `np.array(tensor._copy(place))` of an empty tensor is `array([], dtype=float64)`.
        let f = crate::dtype::DType::Float64;
        let array = ArrayView {
            dtype: f,
            order: b'<',
            shape: vec![0],
            fortran: false,
            data: Cow::Owned(vec![]),
        };
        return Ok(Value::NdArray(array));
    }
    let array = ArrayView {
        dtype: np,
        order: np.native_order(),
        shape,
        fortran: false,
        data: Cow::Owned(t.data.to_vec()),
    };
    Ok(if opts.return_numpy {
        Value::NdArray(array)
    } else {
        Value::Tensor {
            dtype,
            array,
            name: None,
        }
    })
}

/// `paddle.load(file)` on the bytes of one file, handed to `f` with every payload borrowed
/// (from `data`, or from the decoded graph where the decoder made bytes: protocol 2's
/// latin-1 text): no array is copied.
pub fn with_file_value<R>(
    data: &[u8],
    opts: LoadOptions,
    f: impl FnOnce(&Result<Value<'_>, LoadError>) -> R,
) -> R {
    match pickle::decode(data) {
        Ok(g) => f(&super::load::load_graph_ref(&g, opts)),
        Err(_) => f(&load_file_bytes(data, opts)),
    }
}

/// `paddle.load(file)` on the bytes of one file.
///
/// ```
/// use pdsave::paddle::{file::load_file_bytes, LoadOptions, Value};
/// let bytes = std::fs::read("corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams").unwrap();
/// let opts = LoadOptions { return_numpy: true, ..Default::default() };
/// let Value::Dict(items) = load_file_bytes(&bytes, opts).unwrap() else { panic!() };
/// assert!(items.iter().all(|(_, v)| matches!(v, Value::NdArray(_))));
/// ```
pub fn load_file_bytes(data: &[u8], opts: LoadOptions) -> Result<Value<'_>, LoadError> {
    let g = match pickle::decode(data) {
        Ok(g) => return load_graph(&g, opts),
        Err(e) => match python_class(&e) {
            Some(PyExc::UnpicklingError) => e,
            Some(class) => {
                return Err(LoadError::Python {
                    class,
                    message: e.to_string(),
                })
            }
            None => return Err(LoadError::Pickle(e)),
        },
    };
    if tensor_stream::decode_selected_rows_prefix(data).is_ok() {
        return Err(LoadError::Unrepresentable("SelectedRows"));
    }
    let tensor_err = match tensor_stream::decode_dense_tensor_prefix(data) {
        Ok((t, _)) => return tensor_value(&t, opts),
        Err(e) => e,
    };
    // In dynamic-graph mode, Paddle 2.6.2 and 3.3.1 both fail to rebuild a Program from a
    // ProgramDesc file and raise ValueError (corpus y_p*_program, *_pdmodel): so does pdsave.
    Err(LoadError::Python {
        class: PyExc::ValueError,
        message: format!("`paddle.load` can not parse the file (as a pickle: {g}; as a tensor stream: {tensor_err})"),
    })
}
