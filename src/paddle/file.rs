//! `paddle.load` on one file (FAQ path form 1: a full file name, rule L-FILE): a pickle
//! first; when Python's unpickler would raise `UnpicklingError`, Paddle falls back to a
//! SelectedRows stream, then a DenseTensor stream, then a ProgramDesc — which in
//! dynamic-graph mode fails too — and raises ValueError.

use std::borrow::Cow;

use super::load::{LoadError, LoadOptions, Loaded};
use super::plan::Form;
use crate::dtype::DType;
use crate::pickle::{self, DtypeNode, Graph, NdArray, Node, PickleError};
use crate::rules::PyExc;
use crate::tensor_stream::{self, DenseTensor};

/// What CPython's unpickler raises for a pdsave decode error, when pdsave can tell (`None`:
/// pdsave refuses bytes CPython would run or read differently).
pub fn python_class(e: &PickleError) -> Option<PyExc> {
    e.python_class()
}

/// A graph whose root is one ndarray of `dtype` holding `data` (C order, little-endian).
pub fn array_graph<'a>(dtype: DType, shape: Vec<u64>, data: Cow<'a, [u8]>) -> Graph<'a> {
    let mut g = Graph::new(4);
    g.root = add_array(&mut g, dtype, shape, data);
    g
}

/// Adds an ndarray of `dtype` holding `data` (C order, little-endian: tensor streams and
/// safetensors are little-endian whatever the host) and its dtype node to `g`.
pub fn add_array<'a>(
    g: &mut Graph<'a>,
    dtype: DType,
    shape: Vec<u64>,
    data: Cow<'a, [u8]>,
) -> crate::pickle::NodeId {
    let d = g.add(Node::Dtype(DtypeNode {
        dtype,
        order: dtype.native_order(),
    }));
    g.add(Node::NdArray(Box::new(NdArray {
        flavour: crate::numpy::Flavour::Numpy2,
        dtype: d,
        shape,
        fortran: false,
        data,
    })))
}

/// The shape of a tensor stream record (negative dimensions as 0).
pub fn record_shape(t: &DenseTensor<'_>) -> Vec<u64> {
    t.desc.dims.iter().map(|&d| d.max(0) as u64).collect()
}

/// A DenseTensor stream as `paddle.load` returns it: a Tensor of the record's dtype, or with
/// `return_numpy` its `np.array` (bfloat16 as uint16; an empty tensor is
/// `array([], dtype=float64)`).
pub fn tensor_value<'a>(t: &DenseTensor<'a>, opts: LoadOptions) -> Result<Loaded<'a>, LoadError> {
    let dtype = t.desc.data_type;
    if !dtype.is_paddle() {
        return Err(LoadError::Unrepresentable("tensor of this data type"));
    }
    if opts.return_numpy && t.data.is_empty() {
        // `np.array(tensor._copy(place))` of an empty tensor is `array([], dtype=float64)`.
        let g = array_graph(DType::Float64, vec![0], Cow::Borrowed(&[]));
        return Loaded::new(g, Form::AsIs, opts);
    }
    let g = array_graph(
        dtype.numpy_carrier(),
        record_shape(t),
        Cow::Borrowed(t.data),
    );
    Loaded::new(g, Form::Tensor(dtype), opts)
}

/// Whether `data` is a non-pickle format (sniffed) in which no global a Python unpickler
/// could import is named.
fn is_other_format(data: &[u8]) -> bool {
    use crate::source::Kind;
    let kind = crate::source::sniff(data);
    let other = matches!(
        kind,
        Kind::Zip | Kind::Tar | Kind::Gzip | Kind::Npy | Kind::Text
    );
    other
        && !crate::pickle::globals::scan_globals(data)
            .globals
            .iter()
            .any(|g| g.importable())
}

/// `paddle.load(file)` on the bytes of one file; payloads borrow from `data`.
///
/// ```
/// use pdsave::paddle::{file::load_file_bytes, load::Item, LoadOptions};
/// let bytes = std::fs::read("corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams").unwrap();
/// let opts = LoadOptions { return_numpy: true, ..Default::default() };
/// let loaded = load_file_bytes(&bytes, opts).unwrap();
/// let Item::Dict(items) = loaded.root() else { panic!() };
/// assert!(items.iter().all(|(_, v)| matches!(v, Item::NdArray(_))));
/// ```
pub fn load_file_bytes(data: &[u8], opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
    load_file_bytes_in(data, pickle::Allowlist::Paddle, opts)
}

/// `paddle.load` of one file of a source: a distributed checkpoint's `.metadata` file
/// decodes with its dataclasses allowlisted (K-META) — it loads as a `Metadata` object,
/// which the view has no node for.
pub fn load_file(f: &crate::source::File, opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
    load_file_bytes_in(&f.data, f.allowlist(), opts)
}

/// [`load_file_bytes`] with an allowlist.
pub fn load_file_bytes_in(
    data: &[u8],
    allow: pickle::Allowlist,
    opts: LoadOptions,
) -> Result<Loaded<'_>, LoadError> {
    let g = match pickle::decode_in(data, &pickle::Limits::default(), allow) {
        Ok(g) => return Loaded::new(g, Form::Pickle, opts),
        Err(e) => match python_class(&e) {
            Some(PyExc::UnpicklingError) => e,
            Some(class) => {
                return Err(LoadError::Python {
                    class,
                    message: e.to_string(),
                })
            }
            // Bytes sniffed as another format (a zip, tar, gzip, .npy, text) whose pickle
            // reading imports nothing: CPython's unpickler fails on them (a zip's PERSID
            // without persistent_load, a tar member name read as INST's module), so
            // paddle.load goes on to its other formats.
            None if is_other_format(data) => e,
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
    // `Program.parse_from_string` rebuilds a ProgramDesc without ops (what
    // `paddle.save(paddle.static.Program())` writes in legacy mode); in dynamic-graph mode
    // every release fails on one with ops and raises ValueError (corpus y_p*_program,
    // *_pdmodel), as on a PIR JSON program (V-PROGRAM).
    if let Ok(desc) = crate::program::parse_program_desc(data) {
        if !desc.blocks.is_empty() && desc.blocks.iter().all(|b| b.ops.is_empty()) {
            return Loaded::new(Graph::new(4), Form::Program, opts);
        }
    }
    Err(LoadError::Python {
        class: PyExc::ValueError,
        message: format!("`paddle.load` can not parse the file (as a pickle: {g}; as a tensor stream: {tensor_err})"),
    })
}
