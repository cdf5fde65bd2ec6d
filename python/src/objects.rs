//! Python objects on the save side: the flat node list `pdsave/_save.py` makes of what a
//! user passes to `pdsave.save` (identity kept: a node per distinct Python object) becomes
//! the library's `ObjGraph` (spec/object.md); [`save`] writes what `paddle.save` writes for
//! it, through a temporary file renamed into place; [`classify`] runs the library's
//! classifier and the load-back check `pdsave.testing` reports.
//!
//! A node is a tuple `(tag, ...)`; containers name their items by index in the list:
//! `("none",)`, `("bool", b)`, `("int", i)`, `("float", f)`, `("complex", re, im)`,
//! `("str", s, uncached)`, `("bytes", b, uncached)` (uncached: an empty or one-character
//! object that is not CPython's cached one, P-ID), `("bytearray", b)`, `("list"|"tuple"|"set"|"frozenset",
//! [i…])`, `("dict"|"odict", [(k, v)…])`, `("ndarray", dtype, byteorder, shape, fortran,
//! address, nbytes)`, `("npscalar", dtype, bytes)`, `("tensor", kind, dtype, shape,
//! address, nbytes, name, stop_gradient)`, `("layer",)`, `("program",)`. An address is the
//! data of an array the caller keeps alive for the call (C or Fortran order as said).

use std::path::PathBuf;

use pdsave::dtype::DType;
use pdsave::numpy::Flavour;
use pdsave::paddle::classify::classify_object;
use pdsave::paddle::object::{Array, Obj, ObjGraph, Tensor, TensorKind};
use pdsave::paddle::save::{save as paddle_save, SaveOptions, Saved};
use pdsave::pickle::{self, EncodeOptions, PyInt};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

fn bad(msg: impl Into<String>) -> PyErr {
    PyTypeError::new_err(msg.into())
}

fn dtype(name: &str) -> PyResult<DType> {
    DType::from_name(name).ok_or_else(|| bad(format!("pdsave.save: unknown dtype {name:?}")))
}

/// `nbytes` at `address`, copied.
fn bytes_at(address: usize, nbytes: usize) -> Vec<u8> {
    if nbytes == 0 {
        return Vec::new();
    }
    // SAFETY: the caller (pdsave/_save.py) passes the data address and size of an ndarray
    // it holds for the whole call; the GIL is held, so no Python code frees it meanwhile.
    unsafe { std::slice::from_raw_parts(address as *const u8, nbytes) }.to_vec()
}

fn ids(v: &Bound<'_, PyAny>, n: usize) -> PyResult<Vec<usize>> {
    let v: Vec<usize> = v.extract()?;
    match v.iter().find(|&&i| i >= n) {
        Some(i) => Err(bad(format!("pdsave.save: node {i} out of range"))),
        None => Ok(v),
    }
}

fn pairs(v: &Bound<'_, PyAny>, n: usize) -> PyResult<Vec<(usize, usize)>> {
    let v: Vec<(usize, usize)> = v.extract()?;
    match v.iter().find(|&&(k, x)| k >= n || x >= n) {
        Some(_) => Err(bad("pdsave.save: node out of range")),
        None => Ok(v),
    }
}

fn check_size(dt: DType, shape: &[u64], nbytes: usize) -> PyResult<()> {
    let want = shape
        .iter()
        .try_fold(dt.itemsize() as u64, |a, &d| a.checked_mul(d));
    if want != Some(nbytes as u64) {
        return Err(bad(format!(
            "pdsave.save: {nbytes} bytes for a {dt} array of shape {shape:?}"
        )));
    }
    Ok(())
}

/// The object graph of the node list.
fn graph(nodes: &Bound<'_, PyList>, root: usize) -> PyResult<ObjGraph> {
    let n = nodes.len();
    if root >= n {
        return Err(bad("pdsave.save: root out of range"));
    }
    let mut g = ObjGraph::default();
    for node in nodes.iter() {
        let t = node.cast::<PyTuple>()?;
        let tag: String = t.get_item(0)?.extract()?;
        let at = |i: usize| t.get_item(i);
        let o = match tag.as_str() {
            "none" => Obj::None,
            "bool" => Obj::Bool(at(1)?.extract()?),
            "int" => {
                let v = at(1)?;
                match v.extract::<i64>() {
                    Ok(i) => Obj::Int(PyInt::Small(i)),
                    Err(_) => {
                        let s = v.str()?.to_string();
                        Obj::Int(PyInt::from_big(s.parse().map_err(|_| bad("bad int"))?))
                    }
                }
            }
            "float" => Obj::Float(at(1)?.extract()?),
            "complex" => Obj::Complex(at(1)?.extract()?, at(2)?.extract()?),
            "str" | "bytes" => {
                if t.len() > 2 && at(2)?.extract::<bool>()? {
                    // Not CPython's cached short object: pickled by its own identity.
                    g.uncached.insert(g.objs.len());
                }
                match tag.as_str() {
                    "str" => Obj::Str(at(1)?.extract()?),
                    _ => Obj::Bytes(at(1)?.extract()?),
                }
            }
            "bytearray" => Obj::ByteArray(at(1)?.extract()?),
            "list" => Obj::List(ids(&at(1)?, n)?),
            "tuple" => Obj::Tuple(ids(&at(1)?, n)?),
            "set" => Obj::Set(ids(&at(1)?, n)?),
            "frozenset" => Obj::FrozenSet(ids(&at(1)?, n)?),
            "dict" => Obj::Dict(pairs(&at(1)?, n)?),
            "odict" => Obj::OrderedDict(pairs(&at(1)?, n)?),
            "ndarray" => {
                let dt = dtype(&at(1)?.extract::<String>()?)?;
                let order: String = at(2)?.extract()?;
                let shape: Vec<u64> = at(3)?.extract()?;
                let (addr, nbytes): (usize, usize) = (at(5)?.extract()?, at(6)?.extract()?);
                check_size(dt, &shape, nbytes)?;
                Obj::NdArray(Array {
                    dtype: dt,
                    order: match order.as_str() {
                        ">" => b'>',
                        _ => dt.native_order(),
                    },
                    shape,
                    fortran: at(4)?.extract()?,
                    data: bytes_at(addr, nbytes),
                })
            }
            "npscalar" => {
                let dt = dtype(&at(1)?.extract::<String>()?)?;
                let data: Vec<u8> = at(2)?.extract()?;
                check_size(dt, &[], data.len())?;
                Obj::NpScalar { dtype: dt, data }
            }
            "tensor" => {
                let kind = match at(1)?.extract::<String>()?.as_str() {
                    "dynamic" => TensorKind::Dynamic,
                    "parameter" => TensorKind::Parameter,
                    "static" => TensorKind::Static,
                    k => return Err(bad(format!("pdsave.save: unknown tensor kind {k:?}"))),
                };
                let dt = dtype(&at(2)?.extract::<String>()?)?;
                let shape: Vec<u64> = at(3)?.extract()?;
                let (addr, nbytes): (usize, usize) = (at(4)?.extract()?, at(5)?.extract()?);
                check_size(dt, &shape, nbytes)?;
                Obj::Tensor(Tensor {
                    kind,
                    dtype: dt,
                    shape,
                    data: bytes_at(addr, nbytes),
                    name: at(6)?.extract()?,
                    stop_gradient: at(7)?.extract()?,
                })
            }
            "layer" => Obj::Layer,
            "program" => Obj::Program,
            t => return Err(bad(format!("pdsave.save: unknown node {t:?}"))),
        };
        g.add(o);
    }
    g.root = root;
    Ok(g)
}

fn save_options(protocol: i64, numpy: u8) -> PyResult<SaveOptions> {
    let flavour = match numpy {
        1 => Flavour::Numpy1,
        2 => Flavour::Numpy2,
        n => {
            return Err(PyValueError::new_err(format!(
                "numpy must be 1 or 2, not {n}"
            )))
        }
    };
    Ok(SaveOptions {
        protocol,
        flavour,
        ..SaveOptions::default()
    })
}

/// `pdsave.save`'s work: what `paddle.save(obj, path, protocol)` writes, written to `path`
/// through a temporary file renamed into place (nothing is left behind on an error).
#[pyfunction]
#[pyo3(signature = (nodes, root, path, protocol, numpy, hooks))]
pub fn save(
    py: Python<'_>,
    nodes: &Bound<'_, PyList>,
    root: usize,
    path: PathBuf,
    protocol: i64,
    numpy: u8,
    hooks: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let g = graph(nodes, root)?;
    let opts = save_options(protocol, numpy)?;
    let raise = |class: &str, message: String| -> PyErr {
        match hooks.call_method1(
            "error",
            (
                "python",
                Some(class),
                message,
                None::<usize>,
                None::<String>,
                None::<String>,
            ),
        ) {
            Ok(e) => PyErr::from_value(e),
            Err(e) => e,
        }
    };
    let saved = match paddle_save(&g, &opts) {
        Ok(s) => s,
        Err(e) => return Err(raise(e.class.as_str(), e.message)),
    };
    let Saved::Pickle(pg) = saved else {
        return Err(raise(
            "NotImplementedError",
            "a paddle.static.Program is saved as a program, not a pickle: use paddle.save".into(),
        ));
    };
    let eo = EncodeOptions {
        protocol: protocol as u8,
        flavour: None,
    };
    py.detach(|| {
        pdsave::convert::write_atomically(&path, |w| {
            pickle::encode_to(&pg, &eo, w).map_err(|e| e.to_string())
        })
    })
    .map_err(|e| raise("OSError", e.to_string()))
}

/// The classifier's findings for the object saved with these options, and the load-back
/// check of spec/harness.md H-2 on `path` (a file `paddle.save` wrote for it): JSON
/// `{"findings": [...], "ideal": VIEW, "loaded": VIEW, "diff": null | "where", "snippet":
/// Python source that rebuilds the object and saves it with real Paddle}`.
#[pyfunction]
#[pyo3(signature = (nodes, root, protocol, numpy, path=None))]
pub fn classify(
    nodes: &Bound<'_, PyList>,
    root: usize,
    protocol: i64,
    numpy: u8,
    path: Option<PathBuf>,
) -> PyResult<String> {
    let g = graph(nodes, root)?;
    let opts = save_options(protocol, numpy)?;
    let findings = classify_object(&g, &opts);
    let ideal = g.ideal_view(false);
    let loaded = path.map(|p| {
        pdsave::paddle::path::with_loaded(&p, Default::default(), false, |l| {
            pdsave::view::view(l).unwrap_or_else(|e| {
                // An error view where paddle.load raises; no view for a refused file.
                match e.python_class() {
                    Some(c) => serde_json::json!({"view": 1, "error": c.as_str()}),
                    None => serde_json::json!({"unviewable": e.to_string()}),
                }
            })
        })
    });
    let diff = loaded.as_ref().and_then(|l| pdsave::view::diff(l, &ideal));
    let snippet = pdsave::paddle::snippet::python_snippet(&g, protocol, "case.pdparams");
    let out = serde_json::json!({
        "findings": findings, "ideal": ideal, "loaded": loaded, "diff": diff, "snippet": snippet,
    });
    Ok(out.to_string())
}
