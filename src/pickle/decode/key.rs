//! Python's hashing semantics for dict keys and set items: a normalised [`Key`] so that
//! equal keys compare equal (`1 == 1.0 == True`, equal numpy scalars, NaN only itself), and
//! the dict and set insertions that use it.

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
    /// An instance of a frozen checkpoint dataclass: equal when class and fields are.
    Object(&'static str, &'static str, Vec<Key>),
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
        let len = match n {
            Node::Str(s) => s.len(),
            Node::WStr(b) | Node::Bytes(b) => b.len(),
            _ => 0,
        };
        let cost = 1 + len as u64 / 64;
        match self.key_left.get().checked_sub(cost) {
            Some(left) => self.key_left.set(left),
            None => {
                return Err(PickleError::Limit {
                    offset: i.offset,
                    what: "cost of hashing keys (shared tuples expand: Python hashes every path)",
                    limit: self.key_limit,
                })
            }
        }
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
            Node::Global(g) if matches!(g.sym, crate::pickle::Sym::Checkpoint(_)) => {
                Key::Global(g.module, g.name)
            }
            Node::Global(g) => {
                let c = crate::pickle::global_for(g.sym, 3, Flavour::Numpy2);
                Key::Global(c.module, c.name)
            }
            // A frozen dataclass hashes by the tuple of its fields (`__hash__` of
            // `@dataclass(frozen=True)`); the others are unhashable.
            Node::Object { class, state } => match (class.sym, self.node(*state)) {
                (crate::pickle::Sym::Checkpoint(c), Node::Dict(fields))
                    if c.frozen(class.module, fields.len()) =>
                {
                    let mut v = Vec::with_capacity(fields.len());
                    for &(_, f) in fields {
                        v.push(self.key(f, depth + 1, i)?);
                    }
                    Key::Object(class.module, class.name, v)
                }
                _ => return Err(unhashable(n)),
            },
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

/// What hashing all the dict keys and set items of a pickle of `len` bytes may cost, in
/// key nodes built (a str or bytes counts one more per 64 bytes): 16 a byte plus a million
/// (P-LIMIT). A key the file spells out costs about what its bytes hold.
pub(super) fn key_budget(len: usize) -> u64 {
    (len as u64).saturating_mul(16).saturating_add(1_000_000)
}

/// Dicts and sets: Python's replace-on-equal-key through the index of hashed keys.
impl<'a> Vm<'a, '_> {
    /// The hash key of a dict key or set item; `None` for an unhashable one, which CPython's
    /// unpickler raises TypeError on (no code runs): the graph records it
    /// ([`Graph::unhashable`]) and keeps the item, so the file still decodes.
    fn key_or_unhashable(
        &mut self,
        item: NodeId,
        container: NodeId,
        i: &Instr,
    ) -> Result<Option<Key>, PickleError> {
        match self.key(item, 0, i) {
            Ok(k) => Ok(Some(k)),
            Err(PickleError::Unhashable { offset, found, .. }) => {
                self.g.unhashable.get_or_insert(crate::pickle::Unhashable {
                    offset,
                    found,
                    container,
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Inserts into a dict node with Python's semantics: an equal key keeps its place and
    /// its first key object, the value is replaced.
    pub(super) fn dict_set(
        &mut self,
        d: NodeId,
        k: NodeId,
        v: NodeId,
        i: &Instr,
    ) -> Result<(), PickleError> {
        // Not a dict: Python's SETITEM fails before it hashes the key.
        let len = match self.g.get(d) {
            Some(Node::Dict(items) | Node::OrderedDict(items)) => items.len(),
            Some(other) => {
                return Err(PickleError::BadType {
                    offset: i.offset,
                    opcode: i.op.name(),
                    expected: "dict",
                    found: other.type_name(),
                })
            }
            None => {
                return Err(PickleError::StackUnderflow {
                    offset: i.offset,
                    opcode: i.op.name(),
                })
            }
        };
        let key = self.key_or_unhashable(k, d, i)?;
        // An unhashable key (CPython raises TypeError there) is kept but never indexed.
        let pos = match &key {
            Some(key) => self.index_lookup(d, key, len, i),
            None => None,
        };
        let items = match self.g.nodes.get_mut(d as usize) {
            Some(Node::Dict(items)) | Some(Node::OrderedDict(items)) => items,
            Some(other) => {
                return Err(PickleError::BadType {
                    offset: i.offset,
                    opcode: i.op.name(),
                    expected: "dict",
                    found: other.type_name(),
                })
            }
            None => {
                return Err(PickleError::StackUnderflow {
                    offset: i.offset,
                    opcode: i.op.name(),
                })
            }
        };
        match pos {
            Some(p) => {
                if let Some(slot) = items.get_mut(p) {
                    slot.1 = v;
                }
            }
            None => items.push((k, v)),
        }
        Ok(())
    }

    /// The position of a key equal to `key` in container `c` (a dict's keys, a set's
    /// items); when there is none, `key` is recorded at position `len` (the caller appends).
    pub(super) fn index_lookup(
        &mut self,
        c: NodeId,
        key: &Key,
        len: usize,
        i: &Instr,
    ) -> Option<usize> {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(key);
        let mut table = self.index.remove(&c).unwrap_or_default();
        let found = table
            .find(h, |&(hh, pos)| {
                hh == h && self.key_at(c, pos as usize, i).as_ref() == Some(key)
            })
            .map(|&(_, p)| p as usize);
        if found.is_none() {
            table.insert_unique(h, (h, len as u32), |&(hh, _)| hh);
        }
        self.index.insert(c, table);
        found
    }

    /// The key of the item at `pos` of a dict or set.
    pub(super) fn key_at(&self, c: NodeId, pos: usize, i: &Instr) -> Option<Key> {
        let k = match self.g.get(c)? {
            Node::Dict(p) | Node::OrderedDict(p) => p.get(pos)?.0,
            Node::Set(v) | Node::FrozenSet(v) => *v.get(pos)?,
            _ => return None,
        };
        self.key(k, 0, i).ok()
    }

    pub(super) fn set_add(
        &mut self,
        s: NodeId,
        item: NodeId,
        i: &Instr,
    ) -> Result<(), PickleError> {
        let key = self.key_or_unhashable(item, s, i)?;
        let len = match self.g.get(s) {
            Some(Node::Set(items) | Node::FrozenSet(items)) => items.len(),
            _ => 0,
        };
        let found = match &key {
            Some(key) => self.index_lookup(s, key, len, i),
            None => None,
        };
        if found.is_some() {
            return Ok(());
        }
        match self.g.nodes.get_mut(s as usize) {
            Some(Node::Set(items)) | Some(Node::FrozenSet(items)) => {
                items.push(item);
                Ok(())
            }
            Some(other) => Err(PickleError::BadType {
                offset: i.offset,
                opcode: i.op.name(),
                expected: "set",
                found: other.type_name(),
            }),
            None => Err(PickleError::StackUnderflow {
                offset: i.offset,
                opcode: i.op.name(),
            }),
        }
    }

    pub(super) fn new_set(
        &mut self,
        frozen: bool,
        items: &[NodeId],
        i: &Instr,
    ) -> Result<NodeId, PickleError> {
        let id = self.add(if frozen {
            Node::FrozenSet(Vec::new())
        } else {
            Node::Set(Vec::new())
        });
        for &it in items {
            self.set_add(id, it, i)?;
        }
        Ok(id)
    }

    pub(super) fn new_dict(&mut self, items: &[NodeId], i: &Instr) -> Result<NodeId, PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(PickleError::BadArgument {
                offset: i.offset,
                opcode: i.op.name(),
                reason: "odd number of items",
            });
        }
        let id = self.add(Node::Dict(Vec::new()));
        for kv in items.chunks_exact(2) {
            self.dict_set(id, kv[0], kv[1], i)?;
        }
        Ok(id)
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
