//! `pdsave._native`: the Python bindings of the pdsave library (PyO3, abi3 for CPython ≥ 3.9).
//!
//! Thin on purpose: every Paddle rule stays in the library. [`load`] walks the library's
//! loaded value (`pdsave::paddle::path::load` → `Loaded::root()` → `Item`) into Python
//! objects (`value.rs`); [`save`] turns the flat node list `pdsave/_save.py` makes of a
//! Python object into the library's `ObjGraph` and writes what `paddle.save` writes
//! (`objects.rs`); [`check_json`] / [`inspect_json`] hand over the reports' `--json` form,
//! which `pdsave/_reports.py` types. Errors are made by the Python side's `hooks.error`, so
//! the exception classes (`UnsafePickleError`, Python's own) are defined once, in Python.

mod objects;
mod value;

use std::path::PathBuf;
use std::sync::Arc;

use pdsave::paddle::outcome::Release;
use pdsave::paddle::{path, LoadError, LoadOptions};
use pdsave::pickle::{Category, PickleError};
use pdsave::source::Source;
use pyo3::prelude::*;

/// The library's load options for `pdsave.load`'s arguments (`safetensors=True`:
/// paddle.load's safetensors mode, rule L-SAFETENSORS).
/// `paddle` names the release whose rules apply (spec/versions.md): `"3.3.1"`, a series
/// (`"2"`, `"3.2"`), or None for the newest.
fn load_options(
    return_numpy: bool,
    keep_name_table: bool,
    safetensors: bool,
    paddle: Option<&str>,
) -> PyResult<LoadOptions> {
    let paddle = match paddle {
        None => Release::NEWEST,
        Some(v) => Release::parse(v).ok_or_else(|| {
            let known: Vec<&str> = Release::ALL.iter().map(|r| r.name()).collect();
            pyo3::exceptions::PyValueError::new_err(format!(
                "paddle={v:?} is not a release pdsave knows ({})",
                known.join(", ")
            ))
        })?,
    };
    Ok(LoadOptions {
        return_numpy,
        keep_name_table,
        safetensors,
        paddle,
    })
}

/// The exception for a load that gives no value, made by `hooks.error(kind, class,
/// message, offset, global, rule)`: kind `python` (paddle.load raises `class`), `refused`
/// (an unsafe or unsupported pickle: `UnsafePickleError`), `limit` (past pdsave's limits:
/// also an `UnsafePickleError`), `unsupported` (a value pdsave.load cannot make).
pub(crate) fn load_error(hooks: &Bound<'_, PyAny>, e: &LoadError) -> PyErr {
    let (kind, class, offset, global, rule): (&str, Option<&str>, _, _, _) = match e {
        LoadError::Python { class, .. } => ("python", Some(class.as_str()), None, None, None),
        LoadError::Pickle(p) => {
            let (kind, class) = match p.classify() {
                Category::Malformed(c) => ("python", Some(c.as_str())),
                Category::Refused => ("refused", None),
                Category::Limit => ("limit", None),
                Category::Encode => ("python", Some("RuntimeError")),
            };
            (
                kind,
                class,
                p.offset(),
                global_of(p),
                Some(p.rule().as_str()),
            )
        }
        LoadError::Unrepresentable(_) => ("unsupported", None, None, None, None),
        LoadError::TooLarge(_) => ("limit", None, None, None, Some("P-LIMIT")),
        // A checkpoint or sharded state dict pdsave refuses (a missing shard, pieces that
        // overlap, a shard outside the index's directory: spec/checkpoint.md): ValueError
        // naming the file and the keys.
        LoadError::Refused { .. } => ("python", Some("ValueError"), None, None, None),
        // paddle.load kills the interpreter here (a SIGSEGV in Paddle's C++): there is no
        // exception to match, so say what Paddle would do.
        LoadError::Crash(_) => ("unsupported", None, None, None, None),
    };
    let message = match e {
        LoadError::Python { message, .. } => message.clone(),
        e => e.to_string(),
    };
    match hooks.call_method1("error", (kind, class, message, offset, global, rule)) {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// `module.name` of the global a refusal names.
fn global_of(p: &PickleError) -> Option<String> {
    match p {
        PickleError::ForbiddenGlobal { module, name, .. } => Some(format!("{module}.{name}")),
        PickleError::BadCall { module, name, .. } => Some(format!("{module}.{name}")),
        _ => None,
    }
}

/// `pdsave.load`'s work: resolve PATH, load it by Paddle's rules, build the Python value.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // one per keyword of pdsave.load
#[pyo3(signature = (path, return_numpy, keep_name_table, safetensors, paddle, copy, align, hooks))]
fn load(
    py: Python<'_>,
    path: PathBuf,
    return_numpy: bool,
    keep_name_table: bool,
    safetensors: bool,
    paddle: Option<&str>,
    copy: bool,
    align: bool,
    hooks: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let opts = load_options(return_numpy, keep_name_table, safetensors, paddle)?;
    // A copy reads every byte: populate the maps up front.
    let source = py.detach(|| Source::open(&path, copy));
    let source = match source {
        Ok(s) => Arc::new(s),
        Err(e) => return Err(load_error(hooks, &e.into())),
    };
    let loaded = path::load(&source, opts);
    match &loaded {
        Ok(l) => value::Builder::new(py, hooks, &source, copy, align)?.value(l),
        Err(e) => Err(load_error(hooks, e)),
    }
}

/// `pdsave check PATH --json`.
#[pyfunction]
fn check_json(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    let r = py.detach(|| pdsave::check::check(&path));
    serde_json::to_string(&r).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
}

/// `pdsave inspect PATH [--stats] --json` as `(True, json)`, or `(False, message)` where
/// inspect cannot read PATH.
#[pyfunction]
fn inspect_json(py: Python<'_>, path: PathBuf, stats: bool) -> PyResult<(bool, String)> {
    let opts = pdsave::inspect::Options { stats };
    let r = py.detach(|| pdsave::inspect::inspect_with(&path, opts, &|_| {}));
    Ok(match r {
        Ok(r) => (
            true,
            serde_json::to_string(&r)
                .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?,
        ),
        Err(e) => (false, e),
    })
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(check_json, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_json, m)?)?;
    m.add_function(wrap_pyfunction!(objects::save, m)?)?;
    m.add_function(wrap_pyfunction!(objects::classify, m)?)?;
    m.add_class::<value::MappedArray>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The releases whose paddle.load pdsave follows (`pdsave.load(paddle=...)`).
    let releases: Vec<&str> = Release::ALL.iter().map(|r| r.name()).collect();
    m.add("RELEASES", releases)?;
    Ok(())
}
