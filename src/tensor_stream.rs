//! Paddle's binary tensor streams: DenseTensor (LoDTensor) and SelectedRows records.
//!
//! These are the bytes written by `paddle.save(t, path, use_binary_format=True)`, by the
//! `save`/`save_combine` operators (1.x per-variable files, combined `.pdiparams`) and read
//! back by `load`/`load_combine`. All integers are little-endian.
//!
//! DenseTensor record:
//! ```text
//! u32  version            must be 0
//! u64  lod_level          number of LoD levels
//!   per level: u64 size_in_bytes, then size/8 u64 offsets (non-decreasing)
//! u32  tensor version     must be 0
//! i32  desc_size          >= 0
//! [desc_size] TensorDesc  protobuf: field 1 data_type (varint), field 2 dims (varint, repeated)
//! [prod(dims) * sizeof(data_type)] raw element bytes, C order
//! ```
//! SelectedRows record:
//! ```text
//! u32 version (0), u64 row_count, row_count × i64 rows, i64 height,
//! then the tensor part only (u32 version, i32 desc_size, desc, data; no LoD header)
//! ```
//! A combined `.pdiparams` file is DenseTensor records back to back, with no count and no
//! names; see [`decode_combined`].
//!
//! Decoding never copies element data: [`DenseTensor::data`], LoD levels and SelectedRows rows
//! are slices of the caller's buffer, so a memory-mapped file of any size costs no extra
//! memory. Every allocation is bounded by the input length (header counts are checked against
//! the remaining bytes first). Every malformed input is a typed [`TensorStreamError`] naming the
//! field and its absolute byte offset (and, in combined files, the record index).

use std::io::{self, Write};

use thiserror::Error;

use crate::dtype::DType;

/// The protobuf `VarType.TensorDesc` of a stream record: element type and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorDesc {
    pub data_type: DType,
    /// Dimensions; never negative in a decoded stream. Empty for a 0-d tensor (one element).
    pub dims: Vec<i64>,
}

impl TensorDesc {
    /// Number of elements (product of dims; 1 for 0-d), or `None` on negative dims or overflow.
    pub fn element_count(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))
    }

    /// Byte length of the element data, or `None` on negative dims or overflow.
    pub fn data_len(&self) -> Option<u64> {
        self.element_count()?
            .checked_mul(self.data_type.itemsize() as u64)
    }

    /// Canonical protobuf encoding, as Paddle's C++ writer emits it: field 1 (data_type) then
    /// one unpacked field-2 varint per dimension.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 10 * (self.dims.len() + 1));
        out.push(0x08);
        // Enum values are encoded as int32 varints (sign-extended to 64 bits).
        put_varint(&mut out, i64::from(self.data_type.proto_code()) as u64);
        for &d in &self.dims {
            out.push(0x10);
            put_varint(&mut out, d as u64);
        }
        out
    }
}

/// One LoD level: a run of little-endian u64 offsets, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LodLevel<'a> {
    bytes: &'a [u8],
}

impl<'a> LodLevel<'a> {
    /// Wraps raw little-endian u64 offsets; `None` unless the length is a multiple of 8.
    pub fn from_le_bytes(bytes: &'a [u8]) -> Option<Self> {
        bytes.len().is_multiple_of(8).then_some(LodLevel { bytes })
    }

    /// The raw bytes (a multiple of 8 long).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of offsets in this level.
    pub fn len(&self) -> usize {
        self.bytes.len() / 8
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The offsets.
    pub fn offsets(&self) -> impl Iterator<Item = u64> + 'a {
        self.bytes.chunks_exact(8).map(le_u64)
    }
}

/// A decoded DenseTensor record. `data` and LoD levels borrow from the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenseTensor<'a> {
    pub lod: Vec<LodLevel<'a>>,
    pub desc: TensorDesc,
    /// Element bytes, C order, little-endian; exactly `desc.data_len()` bytes.
    pub data: &'a [u8],
}

impl<'a> DenseTensor<'a> {
    /// Byte length of the encoded record.
    pub fn encoded_len(&self) -> usize {
        let lod: usize = self.lod.iter().map(|l| 8 + l.bytes.len()).sum();
        4 + 8 + lod + tensor_part_len(&self.desc, self.data)
    }

    /// Encodes this record (the inverse of [`decode_dense_tensor`]).
    pub fn encode(&self) -> Result<Vec<u8>, TensorStreamError> {
        check_data_len(&self.desc, self.data)?;
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write_to(&mut out).map_err(|_| TensorStreamError::Io)?;
        Ok(out)
    }

    /// Streams this record into `w` (element data is written straight from the borrowed slice).
    /// Fails with [`io::ErrorKind::InvalidInput`] if `data` does not match `desc`.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        check_data_len(&self.desc, self.data)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        w.write_all(&0u32.to_le_bytes())?;
        w.write_all(&(self.lod.len() as u64).to_le_bytes())?;
        for level in &self.lod {
            w.write_all(&(level.bytes.len() as u64).to_le_bytes())?;
            w.write_all(level.bytes)?;
        }
        write_tensor_part(&self.desc, self.data, w)
    }
}

/// A decoded SelectedRows record. `rows` and the value's data borrow from the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRows<'a> {
    rows: &'a [u8],
    pub height: i64,
    /// The value tensor (its `lod` is always empty: the format has no LoD here).
    pub value: DenseTensor<'a>,
}

impl<'a> SelectedRows<'a> {
    /// Builds a SelectedRows from raw little-endian i64 rows; `None` unless the row bytes are a
    /// multiple of 8 long and `value` has no LoD.
    pub fn new(rows_le: &'a [u8], height: i64, value: DenseTensor<'a>) -> Option<Self> {
        (rows_le.len().is_multiple_of(8) && value.lod.is_empty()).then_some(SelectedRows {
            rows: rows_le,
            height,
            value,
        })
    }

    /// Raw little-endian i64 row indices.
    pub fn rows_bytes(&self) -> &'a [u8] {
        self.rows
    }

    pub fn row_count(&self) -> usize {
        self.rows.len() / 8
    }

    pub fn rows(&self) -> impl Iterator<Item = i64> + 'a {
        self.rows.chunks_exact(8).map(|c| le_u64(c) as i64)
    }

    pub fn encoded_len(&self) -> usize {
        4 + 8 + self.rows.len() + 8 + tensor_part_len(&self.value.desc, self.value.data)
    }

    /// Encodes this record (the inverse of [`decode_selected_rows`]).
    pub fn encode(&self) -> Result<Vec<u8>, TensorStreamError> {
        check_data_len(&self.value.desc, self.value.data)?;
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(self.row_count() as u64).to_le_bytes());
        out.extend_from_slice(self.rows);
        out.extend_from_slice(&self.height.to_le_bytes());
        write_tensor_part(&self.value.desc, self.value.data, &mut out)
            .map_err(|_| TensorStreamError::Io)?;
        Ok(out)
    }
}

/// One record of a combined `.pdiparams` file, with where it sits in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorRecord<'a> {
    /// Position of the record in the combined file (0-based).
    pub index: usize,
    /// Byte offset of the record's first byte.
    pub offset: usize,
    /// Encoded length of the record in bytes.
    pub len: usize,
    pub tensor: DenseTensor<'a>,
}

/// Why a tensor stream could not be decoded (or encoded). Offsets are absolute byte positions
/// in the buffer given to the decoder.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TensorStreamError {
    #[error("truncated {what} at byte {offset}: need {needed} bytes, only {available} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: u64,
        available: usize,
    },
    #[error("unsupported {what} {version} at byte {offset} (Paddle only defines 0)")]
    UnsupportedVersion {
        what: &'static str,
        offset: usize,
        version: u32,
    },
    #[error("LoD level count {count} at byte {offset} exceeds what the {available} remaining bytes can hold")]
    LodLevelCountTooLarge {
        offset: usize,
        count: u64,
        available: usize,
    },
    #[error("LoD level {level} at byte {offset}: size {size} is not a multiple of 8")]
    LodLevelSizeNotMultipleOf8 {
        level: usize,
        offset: usize,
        size: u64,
    },
    #[error(
        "LoD level {level} at byte {offset}: size {size} exceeds the {available} remaining bytes"
    )]
    LodLevelTooLarge {
        level: usize,
        offset: usize,
        size: u64,
        available: usize,
    },
    #[error("LoD level {level} offset #{index} at byte {offset} is {value}, less than the previous {previous}")]
    LodOffsetsOutOfOrder {
        level: usize,
        index: usize,
        offset: usize,
        previous: u64,
        value: u64,
    },
    #[error("negative TensorDesc size {size} at byte {offset}")]
    NegativeDescSize { offset: usize, size: i32 },
    #[error("TensorDesc at byte {offset} does not parse: {reason}")]
    DescMalformed { offset: usize, reason: &'static str },
    #[error("TensorDesc at byte {offset} has no data_type (field 1)")]
    DescMissingDataType { offset: usize },
    #[error("TensorDesc at byte {offset}: unknown field {field} (wire type {wire_type})")]
    DescUnknownField {
        offset: usize,
        field: u64,
        wire_type: u8,
    },
    #[error("TensorDesc at byte {offset}: data_type {code} is not a fixed-size element type")]
    UnknownDataType { offset: usize, code: i64 },
    #[error("TensorDesc at byte {offset}: dimension #{index} is negative ({dim})")]
    NegativeDim {
        offset: usize,
        index: usize,
        dim: i64,
    },
    #[error("TensorDesc at byte {offset}: element count of dims {dims:?} overflows")]
    ElementCountOverflow { offset: usize, dims: Vec<i64> },
    #[error("SelectedRows row count {count} at byte {offset} exceeds what the {available} remaining bytes can hold")]
    RowCountTooLarge {
        offset: usize,
        count: u64,
        available: usize,
    },
    #[error("{remaining} unexpected trailing bytes at byte {offset}")]
    TrailingBytes { offset: usize, remaining: usize },
    #[error("record {index} (starting at byte {offset}): {source}")]
    InRecord {
        index: usize,
        offset: usize,
        source: Box<TensorStreamError>,
    },
    #[error(
        "cannot encode: dims {dims:?} of {data_type:?} need {expected:?} data bytes, got {actual}"
    )]
    DataLengthMismatch {
        data_type: DType,
        dims: Vec<i64>,
        expected: Option<u64>,
        actual: usize,
    },
    #[error("I/O error while encoding")]
    Io,
}

impl TensorStreamError {
    /// The innermost error (unwraps [`TensorStreamError::InRecord`]).
    pub fn root(&self) -> &TensorStreamError {
        match self {
            TensorStreamError::InRecord { source, .. } => source.root(),
            other => other,
        }
    }
}

/// Decodes exactly one DenseTensor record that spans all of `bytes`.
///
/// ```
/// let b = std::fs::read("corpus/cases/y_p3_binary_lod/tensor.pdtensor").unwrap();
/// let t = pdsave::tensor_stream::decode_dense_tensor(&b).unwrap();
/// assert_eq!(t.desc.dims, vec![6, 2]);
/// assert_eq!(t.data.len(), 6 * 2 * 4); // borrowed from `b`, not copied
/// ```
pub fn decode_dense_tensor(bytes: &[u8]) -> Result<DenseTensor<'_>, TensorStreamError> {
    let (t, used) = decode_dense_tensor_prefix(bytes)?;
    no_trailing(bytes, used)?;
    Ok(t)
}

/// Decodes one DenseTensor record at the start of `bytes`, returning it and the bytes consumed.
/// (Paddle's own loader ignores whatever follows the record.)
pub fn decode_dense_tensor_prefix(
    bytes: &[u8],
) -> Result<(DenseTensor<'_>, usize), TensorStreamError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let t = read_dense_tensor(&mut r)?;
    Ok((t, r.pos))
}

/// Decodes exactly one SelectedRows record that spans all of `bytes`.
pub fn decode_selected_rows(bytes: &[u8]) -> Result<SelectedRows<'_>, TensorStreamError> {
    let (t, used) = decode_selected_rows_prefix(bytes)?;
    no_trailing(bytes, used)?;
    Ok(t)
}

/// Decodes one SelectedRows record at the start of `bytes`, returning it and the bytes consumed.
pub fn decode_selected_rows_prefix(
    bytes: &[u8],
) -> Result<(SelectedRows<'_>, usize), TensorStreamError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let version_at = r.pos;
    let version = r.u32("SelectedRows version")?;
    if version != 0 {
        return Err(TensorStreamError::UnsupportedVersion {
            what: "SelectedRows version",
            offset: version_at,
            version,
        });
    }
    let count_at = r.pos;
    let count = r.u64("SelectedRows row count")?;
    let available = r.remaining();
    let row_bytes = count
        .checked_mul(8)
        .filter(|&n| n <= available as u64)
        .ok_or(TensorStreamError::RowCountTooLarge {
            offset: count_at,
            count,
            available,
        })?;
    let rows = r.take(row_bytes, "SelectedRows rows")?;
    let height = r.u64("SelectedRows height")? as i64;
    let (desc, data) = read_tensor_part(&mut r)?;
    let value = DenseTensor {
        lod: Vec::new(),
        desc,
        data,
    };
    Ok((
        SelectedRows {
            rows,
            height,
            value,
        },
        r.pos,
    ))
}

/// Decodes a combined parameter file (`.pdiparams`, `save_combine`): DenseTensor records back
/// to back until the end of `bytes`. An empty input is zero records.
pub fn decode_combined(bytes: &[u8]) -> Result<Vec<TensorRecord<'_>>, TensorStreamError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let index = out.len();
        let offset = r.pos;
        let tensor = read_dense_tensor(&mut r).map_err(|e| TensorStreamError::InRecord {
            index,
            offset,
            source: Box::new(e),
        })?;
        out.push(TensorRecord {
            index,
            offset,
            len: r.pos - offset,
            tensor,
        });
    }
    Ok(out)
}

/// Encodes tensors as a combined parameter file (the inverse of [`decode_combined`]).
pub fn encode_combined(tensors: &[DenseTensor<'_>]) -> Result<Vec<u8>, TensorStreamError> {
    let total = tensors.iter().map(|t| t.encoded_len()).sum();
    let mut out = Vec::with_capacity(total);
    for (index, t) in tensors.iter().enumerate() {
        let offset = out.len();
        let in_record = |e| TensorStreamError::InRecord {
            index,
            offset,
            source: Box::new(e),
        };
        check_data_len(&t.desc, t.data).map_err(in_record)?;
        t.write_to(&mut out)
            .map_err(|_| in_record(TensorStreamError::Io))?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], TensorStreamError> {
        let available = self.remaining();
        let err = TensorStreamError::Truncated {
            what,
            offset: self.pos,
            needed: n,
            available,
        };
        let n = usize::try_from(n).map_err(|_| err.clone())?;
        let end = self.pos.checked_add(n).ok_or_else(|| err.clone())?;
        let s = self.buf.get(self.pos..end).ok_or(err)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], TensorStreamError> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, TensorStreamError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, TensorStreamError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, TensorStreamError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
}

/// Little-endian u64 from (at most) the first 8 bytes of `c`; callers pass 8-byte chunks.
fn le_u64(c: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    for (d, s) in a.iter_mut().zip(c) {
        *d = *s;
    }
    u64::from_le_bytes(a)
}

fn no_trailing(bytes: &[u8], used: usize) -> Result<(), TensorStreamError> {
    let remaining = bytes.len().saturating_sub(used);
    if remaining > 0 {
        return Err(TensorStreamError::TrailingBytes {
            offset: used,
            remaining,
        });
    }
    Ok(())
}

fn read_dense_tensor<'a>(r: &mut Reader<'a>) -> Result<DenseTensor<'a>, TensorStreamError> {
    let version_at = r.pos;
    let version = r.u32("DenseTensor version")?;
    if version != 0 {
        return Err(TensorStreamError::UnsupportedVersion {
            what: "DenseTensor version",
            offset: version_at,
            version,
        });
    }
    let count_at = r.pos;
    let count = r.u64("LoD level count")?;
    let available = r.remaining();
    // Each level needs at least its 8-byte size field.
    if count > (available / 8) as u64 {
        return Err(TensorStreamError::LodLevelCountTooLarge {
            offset: count_at,
            count,
            available,
        });
    }
    let mut lod = Vec::with_capacity(count as usize);
    for level in 0..count as usize {
        let size_at = r.pos;
        let size = r.u64("LoD level size")?;
        if size % 8 != 0 {
            return Err(TensorStreamError::LodLevelSizeNotMultipleOf8 {
                level,
                offset: size_at,
                size,
            });
        }
        let available = r.remaining();
        if size > available as u64 {
            return Err(TensorStreamError::LodLevelTooLarge {
                level,
                offset: size_at,
                size,
                available,
            });
        }
        let start = r.pos;
        let bytes = r.take(size, "LoD level offsets")?;
        let mut previous = 0u64;
        for (index, value) in bytes.chunks_exact(8).map(le_u64).enumerate() {
            if index > 0 && value < previous {
                return Err(TensorStreamError::LodOffsetsOutOfOrder {
                    level,
                    index,
                    offset: start + index * 8,
                    previous,
                    value,
                });
            }
            previous = value;
        }
        lod.push(LodLevel { bytes });
    }
    let (desc, data) = read_tensor_part(r)?;
    Ok(DenseTensor { lod, desc, data })
}

/// Reads the part shared by DenseTensor and SelectedRows: version, desc, data.
fn read_tensor_part<'a>(r: &mut Reader<'a>) -> Result<(TensorDesc, &'a [u8]), TensorStreamError> {
    let version_at = r.pos;
    let version = r.u32("tensor version")?;
    if version != 0 {
        return Err(TensorStreamError::UnsupportedVersion {
            what: "tensor version",
            offset: version_at,
            version,
        });
    }
    let size_at = r.pos;
    let size = r.i32("TensorDesc size")?;
    if size < 0 {
        return Err(TensorStreamError::NegativeDescSize {
            offset: size_at,
            size,
        });
    }
    let desc_at = r.pos;
    let desc_bytes = r.take(size as u64, "TensorDesc")?;
    let desc = parse_tensor_desc(desc_bytes, desc_at)?;
    let len = desc
        .data_len()
        .ok_or_else(|| TensorStreamError::ElementCountOverflow {
            offset: desc_at,
            dims: desc.dims.clone(),
        })?;
    let data = r.take(len, "tensor data")?;
    Ok((desc, data))
}

fn tensor_part_len(desc: &TensorDesc, data: &[u8]) -> usize {
    4 + 4 + desc.encode().len() + data.len()
}

fn check_data_len(desc: &TensorDesc, data: &[u8]) -> Result<(), TensorStreamError> {
    let expected = desc.data_len();
    if expected != Some(data.len() as u64) {
        return Err(TensorStreamError::DataLengthMismatch {
            data_type: desc.data_type,
            dims: desc.dims.clone(),
            expected,
            actual: data.len(),
        });
    }
    Ok(())
}

fn write_tensor_part<W: Write>(desc: &TensorDesc, data: &[u8], w: &mut W) -> io::Result<()> {
    let d = desc.encode();
    w.write_all(&0u32.to_le_bytes())?;
    let size = i32::try_from(d.len()).map_err(io::Error::other)?;
    w.write_all(&size.to_le_bytes())?;
    w.write_all(&d)?;
    w.write_all(data)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a base-128 varint at `*pos`; errors on truncation or more than 10 bytes / 64 bits.
fn get_varint(buf: &[u8], pos: &mut usize, base: usize) -> Result<u64, TensorStreamError> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = *buf.get(*pos).ok_or(TensorStreamError::DescMalformed {
            offset: base + *pos,
            reason: "truncated varint",
        })?;
        *pos += 1;
        if i == 9 && b > 1 {
            return Err(TensorStreamError::DescMalformed {
                offset: base + *pos - 1,
                reason: "varint overflows 64 bits",
            });
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(TensorStreamError::DescMalformed {
        offset: base + *pos,
        reason: "varint longer than 10 bytes",
    })
}

/// Parses a `VarType.TensorDesc` protobuf. Accepts what protobuf accepts for the two known
/// fields (unpacked or packed dims, repeated data_type: last wins); rejects unknown fields,
/// a missing data_type, non-element types, negative dims.
pub fn parse_tensor_desc(buf: &[u8], base: usize) -> Result<TensorDesc, TensorStreamError> {
    let mut pos = 0usize;
    let mut data_type: Option<(i64, usize)> = None;
    let mut dims: Vec<(i64, usize)> = Vec::new();
    while pos < buf.len() {
        let key_at = pos;
        let key = get_varint(buf, &mut pos, base)?;
        let field = key >> 3;
        let wire_type = (key & 7) as u8;
        match (field, wire_type) {
            (1, 0) => {
                let at = pos;
                let v = get_varint(buf, &mut pos, base)?;
                // proto2 enums are int32 on the wire: the upper bits are a sign extension.
                data_type = Some((v as i64, at));
            }
            (2, 0) => {
                let at = pos;
                let v = get_varint(buf, &mut pos, base)?;
                dims.push((v as i64, at));
            }
            (2, 2) => {
                let len = get_varint(buf, &mut pos, base)?;
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|l| pos.checked_add(l))
                    .filter(|&e| e <= buf.len())
                    .ok_or(TensorStreamError::DescMalformed {
                        offset: base + pos,
                        reason: "packed dims run past the end of the TensorDesc",
                    })?;
                let packed = buf.get(..end).unwrap_or_default();
                while pos < end {
                    let at = pos;
                    let v = get_varint(packed, &mut pos, base)?;
                    dims.push((v as i64, at));
                }
            }
            (1 | 2, _) => {
                return Err(TensorStreamError::DescMalformed {
                    offset: base + key_at,
                    reason: "known field with the wrong wire type",
                })
            }
            _ if field == 0 => {
                return Err(TensorStreamError::DescMalformed {
                    offset: base + key_at,
                    reason: "field number 0",
                })
            }
            _ => {
                return Err(TensorStreamError::DescUnknownField {
                    offset: base + key_at,
                    field,
                    wire_type,
                })
            }
        }
    }
    let (code, code_at) =
        data_type.ok_or(TensorStreamError::DescMissingDataType { offset: base })?;
    let data_type = DType::from_proto_code(code).ok_or(TensorStreamError::UnknownDataType {
        offset: base + code_at,
        code,
    })?;
    let mut out = Vec::with_capacity(dims.len());
    for (index, &(dim, at)) in dims.iter().enumerate() {
        if dim < 0 {
            return Err(TensorStreamError::NegativeDim {
                offset: base + at,
                index,
                dim,
            });
        }
        out.push(dim);
    }
    let desc = TensorDesc {
        data_type,
        dims: out,
    };
    if desc.data_len().is_none() {
        return Err(TensorStreamError::ElementCountOverflow {
            offset: base,
            dims: desc.dims,
        });
    }
    Ok(desc)
}
