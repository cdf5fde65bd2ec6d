//! The one dtype table: every element type pdsave meets — in numpy pickles, Paddle tensors,
//! tensor streams and programs (`VarType.Type` codes), safetensors files — as one [`DType`],
//! with its numpy descriptor, Paddle name, proto code, safetensors dtype and item size in one
//! row of [`TABLE`], and what it loads as (rule L-DTYPE) as a method.
//!
//! Adding a dtype is one variant and one row; every format reads its names from here.

use safetensors::Dtype as St;

/// An element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float16,
    Float32,
    Float64,
    Complex64,
    Complex128,
    /// Paddle's bfloat16 (numpy has no dtype for it: `Tensor.numpy()` gives uint16).
    BFloat16,
    Float8E4M3FN,
    Float8E5M2,
    /// `SIZE_T` (code 19): C++ `size_t`, 8 bytes on every platform Paddle ships for.
    SizeT,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub dtype: DType,
    /// numpy's `dtype.name` and Paddle's dtype name (`paddle.float32` without the prefix):
    /// they agree wherever both exist.
    pub name: &'static str,
    /// numpy has this dtype.
    pub numpy: bool,
    /// The descriptor numpy pickles (`numpy.dtype('f4', …)`): of the dtype itself, or for a
    /// dtype numpy lacks, of the numpy dtype that carries its bytes ([`DType::numpy_carrier`]).
    pub descr: &'static str,
    /// Paddle has Tensors of this dtype (what `paddle.to_tensor` / the load view can hold).
    pub paddle: bool,
    /// `VarType.Type` code in a TensorDesc or a program.
    pub proto_code: i32,
    /// The safetensors dtype, and whether a trailing dimension of 2 is added (complex128 as
    /// pairs of float64: safetensors has no complex128).
    pub safetensors: Option<(St, bool)>,
    /// Bytes per element.
    pub itemsize: usize,
    /// The unit a byte swap reverses (complex: each half).
    pub swap_unit: usize,
}

#[allow(clippy::too_many_arguments)] // one argument per column of the table
const fn row(
    dtype: DType,
    name: &'static str,
    numpy: bool,
    descr: &'static str,
    paddle: bool,
    proto_code: i32,
    safetensors: Option<(St, bool)>,
    itemsize: usize,
    swap_unit: usize,
) -> Row {
    Row {
        dtype,
        name,
        numpy,
        descr,
        paddle,
        proto_code,
        safetensors,
        itemsize,
        swap_unit,
    }
}

use DType as D;

/// Every dtype, in the order of [`DType`]'s variants (`TABLE[d as usize].dtype == d`).
#[rustfmt::skip]
pub const TABLE: [Row; 18] = [
    //   dtype            name           numpy descr  paddle proto safetensors         size unit
    row(D::Bool,         "bool",          true,  "b1", true,  0, Some((St::BOOL, false)), 1, 1),
    row(D::Int8,         "int8",          true,  "i1", true, 21, Some((St::I8, false)),   1, 1),
    row(D::Int16,        "int16",         true,  "i2", true,  1, Some((St::I16, false)),  2, 2),
    row(D::Int32,        "int32",         true,  "i4", true,  2, Some((St::I32, false)),  4, 4),
    row(D::Int64,        "int64",         true,  "i8", true,  3, Some((St::I64, false)),  8, 8),
    row(D::UInt8,        "uint8",         true,  "u1", true, 20, Some((St::U8, false)),   1, 1),
    row(D::UInt16,       "uint16",        true,  "u2", false, 36, Some((St::U16, false)),  2, 2),
    row(D::UInt32,       "uint32",        true,  "u4", false, 37, Some((St::U32, false)),  4, 4),
    row(D::UInt64,       "uint64",        true,  "u8", false, 38, Some((St::U64, false)),  8, 8),
    row(D::Float16,      "float16",       true,  "f2", true,  4, Some((St::F16, false)),  2, 2),
    row(D::Float32,      "float32",       true,  "f4", true,  5, Some((St::F32, false)),  4, 4),
    row(D::Float64,      "float64",       true,  "f8", true,  6, Some((St::F64, false)),  8, 8),
    row(D::Complex64,    "complex64",     true,  "c8", true, 23, Some((St::C64, false)),  8, 4),
    row(D::Complex128,   "complex128",    true,  "c16",true, 24, Some((St::F64, true)),  16, 8),
    row(D::BFloat16,     "bfloat16",      false, "u2",          true, 22, Some((St::BF16, false)), 2, 2),
    row(D::Float8E4M3FN, "float8_e4m3fn", false, "u1",        false, 32, Some((St::F8_E4M3, false)), 1, 1),
    row(D::Float8E5M2,   "float8_e5m2",   false, "u1",        false, 33, Some((St::F8_E5M2, false)), 1, 1),
    row(D::SizeT,        "size_t",        false, "u8",        false, 19, None,                    8, 8),
];

impl DType {
    /// Every dtype.
    pub const ALL: [DType; 18] = {
        let mut all = [DType::Bool; 18];
        let mut i = 0;
        while i < 18 {
            all[i] = TABLE[i].dtype;
            i += 1;
        }
        all
    };

    /// This dtype's row.
    pub fn row(self) -> &'static Row {
        &TABLE[self as usize]
    }

    /// numpy's and Paddle's name for it (`float32`, `bfloat16`, `size_t`).
    pub fn name(self) -> &'static str {
        self.row().name
    }
    /// By [`DType::name`], with or without the `paddle.` prefix.
    pub fn from_name(s: &str) -> Option<DType> {
        let s = s.strip_prefix("paddle.").unwrap_or(s);
        Self::find(|r| r.name == s)
    }

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        self.row().itemsize
    }
    /// Size of the unit whose bytes a byte swap reverses (complex: each half).
    pub fn swap_unit(self) -> usize {
        self.row().swap_unit
    }

    /// The descriptor string numpy pickles as the first argument of `numpy.dtype`.
    pub fn numpy_descr(self) -> Option<&'static str> {
        Some(self.row().descr).filter(|_| self.is_numpy())
    }
    /// The `.npy` / pickle descriptor of [`DType::numpy_carrier`] (`u2` for bfloat16).
    pub fn carrier_descr(self) -> &'static str {
        self.row().descr
    }
    /// By numpy descriptor (`f4`): the numpy dtypes only.
    pub fn from_numpy_descr(s: &str) -> Option<DType> {
        Self::find(|r| r.numpy && r.descr == s)
    }
    /// numpy has this dtype (it can be an ndarray's in a pickle).
    pub fn is_numpy(self) -> bool {
        self.row().numpy
    }
    /// The numpy dtypes, in table order.
    pub fn numpy_dtypes() -> impl Iterator<Item = DType> {
        Self::ALL.into_iter().filter(|d| d.is_numpy())
    }

    /// Paddle has Tensors of this dtype.
    pub fn is_paddle(self) -> bool {
        self.row().paddle
    }

    /// The `VarType.Type` code (what a TensorDesc or a program stores).
    pub fn proto_code(self) -> i32 {
        self.row().proto_code
    }
    /// By `VarType.Type` code; `None` for codes that are not fixed-size element types
    /// (variable kinds such as DENSE_TENSOR=7, strings, unknown numbers).
    pub fn from_proto_code(code: i64) -> Option<DType> {
        Self::find(|r| i64::from(r.proto_code) == code)
    }

    /// The safetensors dtype, and whether a trailing dimension of 2 is added (complex128).
    pub fn safetensors(self) -> Option<(St, bool)> {
        self.row().safetensors
    }
    /// By safetensors dtype (complex128 is not one: it is read as float64 pairs).
    pub fn from_safetensors(d: St) -> Option<DType> {
        Self::find(|r| r.safetensors == Some((d, false)))
    }

    /// The numpy dtype whose bytes are this dtype's bytes: itself for numpy dtypes;
    /// `Tensor.numpy()` of bfloat16 gives uint16; float8 is carried as uint8, size_t as uint64.
    pub fn numpy_carrier(self) -> DType {
        match self {
            D::BFloat16 => D::UInt16,
            D::Float8E4M3FN | D::Float8E5M2 => D::UInt8,
            D::SizeT => D::UInt64,
            d => d,
        }
    }

    /// L-DTYPE: the Paddle dtype `paddle.to_tensor` gives an ndarray of this numpy dtype —
    /// uint16 is read as bfloat16 (same bits); `None`: it raises ValueError (uint32, uint64).
    pub fn to_tensor(self) -> Option<DType> {
        match self {
            D::UInt16 => Some(D::BFloat16),
            d if d.is_numpy() && d.is_paddle() => Some(d),
            _ => None,
        }
    }

    /// The byte-order character numpy pickles for a native little-endian dtype.
    pub fn native_order(self) -> u8 {
        if self.itemsize() == 1 {
            b'|'
        } else {
            b'<'
        }
    }

    fn find(f: impl Fn(&Row) -> bool) -> Option<DType> {
        TABLE.iter().find(|r| f(r)).map(|r| r.dtype)
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for DType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_variant_order_and_keys_unique() {
        for (i, r) in TABLE.iter().enumerate() {
            assert_eq!(r.dtype as usize, i, "{}", r.name);
            assert_eq!(DType::from_name(r.name), Some(r.dtype));
            assert_eq!(
                DType::from_proto_code(r.proto_code.into()),
                Some(r.dtype),
                "{}",
                r.name
            );
            if r.numpy {
                assert_eq!(DType::from_numpy_descr(r.descr), Some(r.dtype));
            }
            let c = r.dtype.numpy_carrier();
            assert!(c.is_numpy() && c.itemsize() == r.itemsize && c.carrier_descr() == r.descr);
            assert!(r.itemsize % r.swap_unit == 0);
        }
    }

    #[test]
    fn l_dtype_to_tensor() {
        assert_eq!(DType::UInt16.to_tensor(), Some(DType::BFloat16));
        assert_eq!(DType::UInt32.to_tensor(), None);
        assert_eq!(DType::UInt64.to_tensor(), None);
        assert_eq!(DType::Float32.to_tensor(), Some(DType::Float32));
        assert_eq!(DType::BFloat16.numpy_carrier(), DType::UInt16);
        assert_eq!(DType::numpy_dtypes().count(), 14);
    }
}
