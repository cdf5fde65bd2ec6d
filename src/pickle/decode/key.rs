//! Python's hashing semantics for dict keys and set items: a normalised [`Key`] so that
//! equal keys compare equal (`1 == 1.0 == True`, equal numpy scalars, NaN only itself).

use num_bigint::{BigInt, Sign};

use super::Vm;
use crate::dtype::DType;
use crate::numpy::Flavour;
use crate::pickle::ops::Instr;
use crate::pickle::{DtypeNode, Node, NodeId, PickleError, PyInt};

/// A hashable Python value, normalised so that equal keys compare equal (1 == 1.0 == True).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Key {
    None,
    /// An int (bool, equal float, numpy scalar) that fits in an i64: no allocation.
    Small(i64),
    /// A larger int (never one that fits: [`int_key`] normalises).
    Int(Box<BigInt>),
    Float(u64),
    Complex(u64, u64),
    Str(String),
    /// A str with lone surrogates, by its `surrogatepass` bytes (never equal to a [`Key::Str`]).
    WStr(Vec<u8>),
    Bytes(Vec<u8>),
    Tuple(Vec<Key>),
    FrozenSet(Vec<Key>),
    /// An allowlisted global, by what it names: every GLOBAL of `builtins.eval` (or
    /// `__builtin__.eval`, which Python 3 maps to it) is the same object.
    Global(&'static str, &'static str),
    /// A numpy dtype: equal dtypes are equal keys (`np.dtype('<f4') == np.dtype('=f4')`).
    Dtype(DType, u8),
    /// Objects equal only to themselves (NaN).
    Identity(NodeId),
}

/// The key of an int: [`Key::Small`] when it fits in an i64.
pub(super) fn int_key(b: impl Into<BigInt>) -> Key {
    let b = b.into();
    match i64::try_from(&b) {
        Ok(v) => Key::Small(v),
        Err(_) => Key::Int(Box::new(b)),
    }
}

pub(super) fn float_key(v: f64) -> Key {
    if v.is_nan() {
        // NaN is equal only to itself; the caller passes identity separately.
        return Key::Float(f64::NAN.to_bits());
    }
    if v.is_finite() && v == v.trunc() {
        if v.abs() < 9.0e15 {
            return Key::Small(v as i64);
        }
        if let Some(b) = big_from_integral_f64(v) {
            return int_key(b);
        }
    }
    Key::Float(v.to_bits())
}

pub(super) fn big_from_integral_f64(v: f64) -> Option<BigInt> {
    let bits = v.to_bits();
    let sign = if bits >> 63 == 1 {
        Sign::Minus
    } else {
        Sign::Plus
    };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    if exp == 0x7ff {
        return None;
    }
    let mant = (bits & ((1u64 << 52) - 1)) | if exp == 0 { 0 } else { 1u64 << 52 };
    let e = if exp == 0 { -1074 } else { exp - 1075 };
    let m = BigInt::from(mant);
    let mag = if e >= 0 {
        m << (e as usize)
    } else {
        m >> ((-e) as usize)
    };
    Some(if sign == Sign::Minus { -mag } else { mag })
}

impl<'a> Vm<'a, '_> {
    pub(super) fn key(&self, id: NodeId, depth: usize, i: &Instr) -> Result<Key, PickleError> {
        crate::deep(|| self.key_inner(id, depth, i))
    }

    pub(super) fn key_inner(
        &self,
        id: NodeId,
        depth: usize,
        i: &Instr,
    ) -> Result<Key, PickleError> {
        if depth > self.limits.max_depth {
            return Err(PickleError::Limit {
                offset: i.offset,
                what: "nesting depth of a hashed key",
                limit: self.limits.max_depth as u64,
            });
        }
        let unhashable = |n: &Node| PickleError::Unhashable {
            offset: i.offset,
            opcode: i.op.name(),
            found: n.type_name(),
        };
        let n = self.node(id);
        Ok(match n {
            Node::None => Key::None,
            Node::Bool(b) => Key::Small(*b as i64),
            Node::Int(PyInt::Small(v)) => Key::Small(*v),
            Node::Int(v) => int_key(v.to_big()),
            Node::Float(v) if v.is_nan() => Key::Identity(id),
            Node::Float(v) => float_key(*v),
            Node::Complex(re, im) => {
                if *im == 0.0 && !re.is_nan() {
                    float_key(*re)
                } else if re.is_nan() || im.is_nan() {
                    Key::Identity(id)
                } else {
                    Key::Complex((re + 0.0).to_bits(), (im + 0.0).to_bits())
                }
            }
            Node::Str(s) => Key::Str(s.to_string()),
            Node::WStr(b) => Key::WStr(b.to_vec()),
            Node::Bytes(b) => Key::Bytes(b.to_vec()),
            Node::Tuple(items) => {
                let mut v = Vec::with_capacity(items.len());
                for &it in items {
                    v.push(self.key(it, depth + 1, i)?);
                }
                Key::Tuple(v)
            }
            Node::FrozenSet(items) => {
                let mut v = Vec::with_capacity(items.len());
                for &it in items {
                    v.push(self.key(it, depth + 1, i)?);
                }
                v.sort();
                Key::FrozenSet(v)
            }
            Node::NpScalar(s) => match self.g.dtype_of(s.dtype) {
                Some(d) => scalar_key(d, &s.data).unwrap_or(Key::Identity(id)),
                None => Key::Identity(id),
            },
            Node::Global(g) => {
                let c = crate::pickle::global_for(g.sym, 3, Flavour::Numpy2);
                Key::Global(c.module, c.name)
            }
            Node::Dtype(d) => Key::Dtype(
                d.dtype,
                match d.order {
                    _ if d.dtype.itemsize() == 1 => b'|',
                    b'=' => b'<',
                    o => o,
                },
            ),
            other => return Err(unhashable(other)),
        })
    }
}

pub(super) fn scalar_key(d: DtypeNode, data: &[u8]) -> Option<Key> {
    let le = crate::numpy::to_little_endian(d.dtype, d.order, data);
    let b = le.as_ref();
    let arr = |n: usize| -> Option<[u8; 8]> {
        let mut a = [0u8; 8];
        a.get_mut(..n)?.copy_from_slice(b.get(..n)?);
        Some(a)
    };
    Some(match d.dtype {
        DType::Bool => int_key(BigInt::from((*b.first()? != 0) as u8)),
        DType::Int8 => int_key(BigInt::from(*b.first()? as i8)),
        DType::UInt8 => int_key(BigInt::from(*b.first()?)),
        DType::Int16 => int_key(BigInt::from(i16::from_le_bytes(
            arr(2)?[..2].try_into().ok()?,
        ))),
        DType::UInt16 => int_key(BigInt::from(u16::from_le_bytes(
            arr(2)?[..2].try_into().ok()?,
        ))),
        DType::Int32 => int_key(BigInt::from(i32::from_le_bytes(
            arr(4)?[..4].try_into().ok()?,
        ))),
        DType::UInt32 => int_key(BigInt::from(u32::from_le_bytes(
            arr(4)?[..4].try_into().ok()?,
        ))),
        DType::Int64 => int_key(BigInt::from(i64::from_le_bytes(arr(8)?))),
        DType::UInt64 => int_key(BigInt::from(u64::from_le_bytes(arr(8)?))),
        DType::Float32 => float_key(f32::from_le_bytes(arr(4)?[..4].try_into().ok()?) as f64),
        DType::Float64 => float_key(f64::from_le_bytes(arr(8)?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_equal_ints() {
        assert_eq!(float_key(1.0), int_key(BigInt::from(1)));
        assert_eq!(float_key(-0.0), int_key(BigInt::from(0)));
        assert_eq!(
            float_key(1e300),
            int_key(big_from_integral_f64(1e300).unwrap())
        );
        assert_ne!(float_key(1.5), int_key(BigInt::from(1)));
    }
}
