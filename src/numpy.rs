//! numpy's pickle reduce forms: the two module spellings (numpy 1.x / 2.x), byte orders and
//! memory orders of array payloads. The dtypes themselves are in [`crate::dtype`].
//!
//! What numpy writes (verified against numpy 1.26.4 and 2.4.6):
//! - ndarray: `_reconstruct(numpy.ndarray, (0,), b'b')`, then BUILD with
//!   `(1, shape, dtype, is_fortran, raw_bytes)`;
//! - dtype: `numpy.dtype(descr, False, True)`, then BUILD with
//!   `(3, byteorder, None, None, None, -1, -1, 0)`;
//! - scalar: `scalar(dtype, raw_bytes)`.
//!
//! `_reconstruct` and `scalar` live in `numpy.core.multiarray` (numpy 1.x) or
//! `numpy._core.multiarray` (numpy 2.x); `ndarray` and `dtype` in `numpy` for both. numpy
//! 1.16.0 alone spelled them `numpy.core._multiarray_umath` (fixed in 1.16.1, numpy PR
//! 12842). numpy up to 1.18 wrote the dtype's flags as ints, `dtype(descr, 0, 1)` (numpy PR
//! 15500, in 1.19, made them bools): [`crate::pickle::Dialect`] records it.

use crate::dtype::DType;

/// Which numpy wrote the file, as told by the module path of `_reconstruct`/`scalar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Flavour {
    /// `numpy.core.multiarray` (numpy < 2).
    Numpy1,
    /// `numpy._core.multiarray` (numpy >= 2).
    Numpy2,
    /// `numpy.core._multiarray_umath` (numpy 1.16.0 only).
    Numpy1160,
}

impl Flavour {
    /// The module that holds `_reconstruct` and `scalar`.
    pub fn multiarray(self) -> &'static str {
        match self {
            Flavour::Numpy1 => "numpy.core.multiarray",
            Flavour::Numpy2 => "numpy._core.multiarray",
            Flavour::Numpy1160 => "numpy.core._multiarray_umath",
        }
    }
    /// The flavour whose `_reconstruct`/`scalar` live in `module`.
    pub fn from_module(module: &str) -> Option<Flavour> {
        [Flavour::Numpy1, Flavour::Numpy2, Flavour::Numpy1160]
            .into_iter()
            .find(|f| f.multiarray() == module)
    }
    /// Short label used by the CLI.
    pub fn label(self) -> &'static str {
        match self {
            Flavour::Numpy1 => "numpy1",
            Flavour::Numpy2 => "numpy2",
            Flavour::Numpy1160 => "numpy1.16.0",
        }
    }
}

/// Bytes in little-endian element order: borrowed when already so, swapped otherwise.
pub fn to_little_endian(dtype: DType, order: u8, data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let unit = dtype.swap_unit();
    if order != b'>' || unit == 1 {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut v = data.to_vec();
    for c in v.chunks_exact_mut(unit) {
        c.reverse();
    }
    std::borrow::Cow::Owned(v)
}

/// An array's element bytes in C order, little-endian (borrowed when they already are).
pub fn c_order_le<'a>(
    dtype: DType,
    order: u8,
    shape: &[u64],
    fortran: bool,
    data: &'a [u8],
) -> std::borrow::Cow<'a, [u8]> {
    let le = to_little_endian(dtype, order, data);
    if fortran && shape.len() > 1 {
        std::borrow::Cow::Owned(fortran_to_c(shape, dtype.itemsize(), &le))
    } else {
        le
    }
}

/// Reorders Fortran-ordered element bytes into C order (zeros when `data` is short).
pub fn fortran_to_c(shape: &[u64], itemsize: usize, data: &[u8]) -> Vec<u8> {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    if n == 0 || data.len() < n * itemsize {
        return vec![0u8; n * itemsize];
    }
    reorder(shape, itemsize, data, true)
}

/// Reorders C-ordered element bytes into Fortran order (`data` as is when its length does
/// not match the shape).
pub fn c_to_fortran(shape: &[u64], itemsize: usize, data: &[u8]) -> Vec<u8> {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    if n == 0 || data.len() != n * itemsize {
        return data.to_vec();
    }
    reorder(shape, itemsize, data, false)
}

/// Walks the elements in C order (last axis fastest) and moves each between its C and its
/// Fortran position (first axis fastest); `to_c`: from Fortran order to C order.
fn reorder(shape: &[u64], itemsize: usize, data: &[u8], to_c: bool) -> Vec<u8> {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    let mut out = vec![0u8; n * itemsize];
    let nd = shape.len();
    let mut fstride = vec![1usize; nd];
    for i in 1..nd {
        fstride[i] = fstride[i - 1] * shape[i - 1] as usize;
    }
    let mut idx = vec![0usize; nd];
    for c in 0..n {
        let f: usize = idx.iter().zip(&fstride).map(|(a, b)| a * b).sum();
        let (from, to) = if to_c { (f, c) } else { (c, f) };
        out[to * itemsize..(to + 1) * itemsize]
            .copy_from_slice(&data[from * itemsize..(from + 1) * itemsize]);
        for ax in (0..nd).rev() {
            idx[ax] += 1;
            if idx[ax] < shape[ax] as usize {
                break;
            }
            idx[ax] = 0;
        }
    }
    out
}
