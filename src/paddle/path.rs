//! `paddle.load(path)` for the FAQ's three path forms (rule L-PATH), on a resolved
//! [`Source`]: a full file name (L-FILE, [`super::file`]), a prefix of `jit.save` /
//! `save_inference_model` files, a directory of 1.x files.
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
use std::path::Path;

use super::file::{load_file_bytes, record_shape};
use super::load::{LoadError, LoadOptions, Loaded};
use super::plan;
use crate::names::STRUCTURED_NAME;
use crate::pickle::{self, DtypeNode, Graph, NdArray, Node};
use crate::program::{self, NamedTensor};
use crate::rules::PyExc;
use crate::source::{Form, Source};
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
        let dtype = t.desc.data_type.numpy_carrier();
        let d = g.add(Node::Dtype(DtypeNode {
            dtype,
            // Tensor streams are little-endian whatever the host (spec/rules.md L-PATH).
            order: dtype.native_order(),
        }));
        let a = g.add(Node::NdArray(Box::new(NdArray {
            flavour: crate::numpy::Flavour::Numpy2,
            dtype: d,
            shape: record_shape(t),
            fortran: false,
            data: Cow::Borrowed(t.data),
        })));
        let k = g.add(Node::Str(Cow::Owned(name)));
        pairs.push((k, a));
    }
    g.root = g.add(Node::Dict(pairs));
    g
}

/// `paddle.load` of a resolved PATH; arrays borrow from the mapped files.
///
/// ```
/// use pdsave::paddle::{load::Item, path::load};
/// use pdsave::source::Source;
/// // A jit.save prefix: net.pdmodel + net.pdiparams + net.pdiparams.info.
/// let s = Source::open("corpus/cases/y_p2_jit_save_prefix/net".as_ref(), false).unwrap();
/// let loaded = load(&s, Default::default()).unwrap();
/// let Item::Dict(items) = loaded.root() else { panic!() };
/// assert!(items.iter().any(|(k, _)| matches!(k, Item::Str("fc.weight"))));
/// ```
pub fn load(source: &Source, opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
    fn dict(g: Graph<'_>, opts: LoadOptions) -> Result<Loaded<'_>, LoadError> {
        Loaded::new(g, plan::Form::AsIs, opts)
    }
    match &source.form {
        Form::File(f) => load_file_bytes(f, opts),
        Form::Prefix {
            program,
            params,
            info,
        } => {
            let params = params.as_ref().map_err(|e| LoadError::from(e.clone()))?;
            let named = program::load_inference_model(program, params).map_err(model_error)?;
            dict(dict_graph(prefix_items(&named, info.as_deref())?), opts)
        }
        Form::Model { program, vars } => {
            let named = program::load_separate(program, |name| {
                vars.iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, f)| f.as_ref().ok())
                    .map(|f| &f[..])
            })
            .map_err(model_error)?;
            dict(
                dict_graph(named.iter().map(|n| (n.name.clone(), n.tensor())).collect()),
                opts,
            )
        }
        Form::Files(files) => {
            let mut records = Vec::with_capacity(files.len());
            for (name, f) in files {
                let f = f.as_ref().map_err(|e| LoadError::from(e.clone()))?;
                // The `load` op reads one DenseTensor and fails on anything else.
                let (t, _) = crate::tensor_stream::decode_dense_tensor_prefix(f).map_err(|e| {
                    py(PyExc::ValueError, format!("{name}: not a tensor file: {e}"))
                })?;
                records.push((name.clone(), t));
            }
            dict(
                dict_graph(records.iter().map(|(n, t)| (n.clone(), t)).collect()),
                opts,
            )
        }
    }
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
