//! The library's loaded value ([`Item`] cursor) as Python objects, the types `paddle.load`
//! returns: plain values and containers made here; ndarrays as zero-copy read-only views of
//! the mapped files ([`MappedArray`], numpy's `__array_interface__`) where the bytes lie in a
//! file and are aligned for their dtype (or `align=False`), else aligned copies (filled after the walk, in
//! parallel, without the GIL); numpy scalars, dtypes and Tensors by the Python side's hooks
//! (`hooks.npscalar`, `hooks.tensor`), so paddle / `pdsave.Tensor` are chosen in Python.

use std::collections::HashMap;
use std::sync::Arc;

use pdsave::dtype::DType;
use pdsave::paddle::load::{ArrayId, ArrayRef, Item, Loaded};
use pdsave::pickle::{DtypeNode, PyInt};
use pdsave::source::Source;
use pyo3::prelude::*;
use pyo3::types::{
    PyByteArray, PyBytes, PyComplex, PyDict, PyFloat, PyFrozenSet, PyList, PySet, PyString, PyTuple,
};

/// An array's bytes inside a mapped file, handed to numpy through `__array_interface__`:
/// the ndarray numpy makes keeps this object (and so the maps) alive as its `base`.
#[pyclass(frozen, module = "pdsave._native")]
pub struct MappedArray {
    _owner: Arc<Source>,
    ptr: usize,
    typestr: String,
    shape: Vec<u64>,
    strides: Option<Vec<u64>>,
}

#[pymethods]
impl MappedArray {
    /// numpy's array interface (version 3), read-only data.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("typestr", &self.typestr)?;
        d.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        d.set_item("data", (self.ptr, true))?;
        match &self.strides {
            Some(s) => d.set_item("strides", PyTuple::new(py, s)?)?,
            None => d.set_item("strides", py.None())?,
        }
        Ok(d)
    }
}

/// numpy's type string of an array (`<f4`, `|b1`, `>c16`).
pub fn typestr(dtype: DType, order: u8) -> String {
    let order = match order {
        b'>' => '>',
        _ if dtype.itemsize() == 1 => '|',
        b'|' => '|',
        // `<` and `=` (native: pdsave reads on little-endian hosts).
        _ => '<',
    };
    format!("{order}{}", dtype.carrier_descr())
}

/// Fortran-order strides in bytes.
fn fortran_strides(shape: &[u64], itemsize: usize) -> Vec<u64> {
    let mut s = Vec::with_capacity(shape.len());
    let mut step = itemsize as u64;
    for &d in shape {
        s.push(step);
        step *= d.max(1);
    }
    s
}

/// A copy still to make: `len` bytes from `src` into the new array at `dst`.
#[derive(Clone, Copy)]
struct Job {
    src: usize,
    dst: usize,
    len: usize,
}

/// Builds one loaded value.
pub struct Builder<'py, 'a> {
    py: Python<'py>,
    hooks: Bound<'py, PyAny>,
    asarray: Bound<'py, PyAny>,
    empty: Bound<'py, PyAny>,
    int: Bound<'py, PyAny>,
    odict: Bound<'py, PyAny>,
    source: &'a Arc<Source>,
    /// (start, end) addresses of the source's files.
    files: Vec<(usize, usize)>,
    copy: bool,
    /// Copy arrays whose bytes are not aligned for their dtype (else: unaligned views).
    align: bool,
    arrays: HashMap<ArrayId, (Bound<'py, PyAny>, Option<Job>)>,
}

impl<'py, 'a> Builder<'py, 'a> {
    pub fn new(
        py: Python<'py>,
        hooks: &Bound<'py, PyAny>,
        source: &'a Arc<Source>,
        copy: bool,
        align: bool,
    ) -> PyResult<Self> {
        let np = py.import("numpy")?;
        let files = source
            .files()
            .into_iter()
            .filter_map(|(_, f)| f.ok())
            .map(|f| {
                let start = f.data.as_ptr() as usize;
                (start, start + f.data.len())
            })
            .collect();
        Ok(Builder {
            py,
            hooks: hooks.clone(),
            asarray: np.getattr("asarray")?,
            empty: np.getattr("empty")?,
            int: py.import("builtins")?.getattr("int")?,
            odict: py.import("collections")?.getattr("OrderedDict")?,
            source,
            files,
            copy,
            align,
            arrays: HashMap::new(),
        })
    }

    /// The Python value of `l`, every array filled.
    pub fn value(mut self, l: &Loaded<'_>) -> PyResult<Py<PyAny>> {
        let v = self.item(l.root(), 0)?;
        let jobs: Vec<Job> = self.arrays.values().filter_map(|(_, j)| *j).collect();
        self.py.detach(|| {
            pdsave::par::map_by_size(&jobs, |j| j.len, |j| run(*j), &|_| {});
        });
        Ok(v.unbind())
    }

    fn item(&mut self, it: Item<'_>, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, || self.item_inner(it, depth))
    }

    fn item_inner(&mut self, it: Item<'_>, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match it {
            Item::None => py.None().into_bound(py),
            Item::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
            Item::Int(PyInt::Small(v)) => v.into_pyobject(py)?.into_any(),
            Item::Int(PyInt::Big(b)) => self.int.call1((b.to_string(),))?,
            Item::Float(v) => PyFloat::new(py, v).into_any(),
            Item::Complex(r, i) => PyComplex::from_doubles(py, r, i).into_any(),
            Item::Str(s) => PyString::new(py, s).into_any(),
            // A str with lone surrogates: CPython's unpickler decodes it with surrogatepass.
            Item::WStr(b) => {
                PyBytes::new(py, b).call_method1("decode", ("utf-8", "surrogatepass"))?
            }
            Item::Bytes(b) => PyBytes::new(py, b).into_any(),
            Item::ByteArray(b) => PyByteArray::new(py, b).into_any(),
            Item::List(s) => {
                let l = PyList::empty(py);
                for x in s.iter() {
                    l.append(self.item(x, depth + 1)?)?;
                }
                l.into_any()
            }
            Item::Tuple(s) => {
                let mut v = Vec::with_capacity(s.len());
                for x in s.iter() {
                    v.push(self.item(x, depth + 1)?);
                }
                PyTuple::new(py, v)?.into_any()
            }
            Item::Set(s) => {
                let set = PySet::empty(py)?;
                for x in s.iter() {
                    set.add(self.item(x, depth + 1)?)?;
                }
                set.into_any()
            }
            Item::FrozenSet(s) => {
                let mut v = Vec::with_capacity(s.len());
                for x in s.iter() {
                    v.push(self.item(x, depth + 1)?);
                }
                PyFrozenSet::new(py, v)?.into_any()
            }
            Item::Dict(m) => {
                let d = PyDict::new(py);
                for (k, v) in m.iter() {
                    let k = self.item(k, depth + 1)?;
                    d.set_item(k, self.item(v, depth + 1)?)?;
                }
                d.into_any()
            }
            Item::OrderedDict(m) => {
                let d = self.odict.call0()?;
                for (k, v) in m.iter() {
                    let k = self.item(k, depth + 1)?;
                    d.set_item(k, self.item(v, depth + 1)?)?;
                }
                d
            }
            Item::NdArray(a) => self.array(&a)?,
            Item::NpScalar { dtype, data } => {
                let t = typestr(dtype.dtype, dtype.order);
                self.hooks
                    .call_method1("npscalar", (t, PyBytes::new(py, data)))?
            }
            Item::Dtype(DtypeNode { dtype, order }) => {
                self.hooks.call_method1("dtype", (typestr(dtype, order),))?
            }
            Item::Tensor { dtype, array, name } => {
                let a = self.array(&array)?;
                // The Tensor reads the array now: fill it first.
                if let Some((_, job)) = self.arrays.get_mut(&array.id) {
                    if let Some(j) = job.take() {
                        run(j);
                    }
                }
                self.hooks.call_method1("tensor", (a, dtype.name(), name))?
            }
            // paddle.load gives a paddle.static.Program for a ProgramDesc without ops
            // (L-FILE): a program, not a value pdsave.load builds.
            Item::Program => {
                let e = self.hooks.call_method1(
                    "error",
                    (
                        "unsupported",
                        py.None(),
                        "paddle.load gives a paddle.static.Program for this file (a ProgramDesc \
                         without ops); pdsave.load builds values, not programs: use paddle.load",
                        py.None(),
                        py.None(),
                        "L-FILE",
                    ),
                )?;
                return Err(PyErr::from_value(e));
            }
        })
    }

    /// The ndarray of `a`: one Python object per array of the value (as `pickle.load`
    /// shares an array reached twice).
    fn array(&mut self, a: &ArrayRef<'_>) -> PyResult<Bound<'py, PyAny>> {
        if let Some((o, _)) = self.arrays.get(&a.id) {
            return Ok(o.clone());
        }
        let py = self.py;
        let ts = typestr(a.dtype, a.order);
        let ptr = a.data.as_ptr() as usize;
        let len = a.data.len();
        let in_file = self.files.iter().any(|&(s, e)| ptr >= s && ptr + len <= e);
        let aligned = ptr % a.dtype.swap_unit() == 0 || !self.align;
        let (obj, job) = if in_file && aligned && !self.copy && len > 0 {
            let view = MappedArray {
                _owner: self.source.clone(),
                ptr,
                typestr: ts,
                shape: a.shape.to_vec(),
                strides: a
                    .fortran
                    .then(|| fortran_strides(a.shape, a.dtype.itemsize())),
            };
            (self.asarray.call1((Bound::new(py, view)?,))?, None)
        } else {
            let shape = PyTuple::new(py, a.shape)?;
            let order = if a.fortran { "F" } else { "C" };
            let arr = self.empty.call1((shape, ts, order))?;
            let dst: usize = arr
                .getattr("__array_interface__")?
                .get_item("data")?
                .get_item(0)?
                .extract()?;
            let nbytes: usize = arr.getattr("nbytes")?.extract()?;
            if nbytes != len {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "pdsave: array of {len} bytes for a {} buffer (pdsave bug)",
                    nbytes
                )));
            }
            if !self.copy {
                arr.getattr("flags")?.setattr("writeable", false)?;
            }
            (arr, (len > 0).then_some(Job { src: ptr, dst, len }))
        };
        self.arrays.insert(a.id, (obj.clone(), job));
        Ok(obj)
    }
}

/// Makes one copy.
fn run(j: Job) {
    // SAFETY: `src` is `len` bytes of the loaded value (alive until the build returns);
    // `dst` is the data of a new ndarray of exactly `len` bytes that the builder holds.
    unsafe { std::ptr::copy_nonoverlapping(j.src as *const u8, j.dst as *mut u8, j.len) }
}
