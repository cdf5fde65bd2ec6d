//! `.npz`: numpy's `savez` format, a zip (stored, not compressed) of one `.npy` per array.
//! Arrays are written as they are held (byte order and Fortran flag kept, no copy);
//! bfloat16 as `<u2` and float8 as `|u1`, numpy having no such dtypes.

use crate::dtype::DType;
use std::io::Write;
use std::path::Path;

use super::{ConvertError, NamedArray, Report, TensorLine};

/// The `.npy` descriptor string of an array as held.
pub fn descr(a: &NamedArray<'_>) -> String {
    let d = a.elem.numpy_carrier();
    let order = match a.order {
        _ if d.itemsize() == 1 => '|',
        b'>' => '>',
        _ => '<',
    };
    format!("{order}{}", d.carrier_descr())
}

/// A `.npy` header (format 1.0, or 2.0 when the header needs more than 65535 bytes), padded
/// so that the data starts at a multiple of 64 bytes as numpy writes it.
pub fn npy_header(descr: &str, fortran: bool, shape: &[u64]) -> Vec<u8> {
    let dims = match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let fo = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {dims}, }}");
    let (prefix, big) = if dict.len() + 11 > 65535 {
        (12, true)
    } else {
        (10, false)
    };
    let total = (prefix + dict.len() + 1).next_multiple_of(64);
    while prefix + dict.len() + 1 < total {
        dict.push(' ');
    }
    dict.push('\n');
    let mut h = b"\x93NUMPY".to_vec();
    if big {
        h.extend_from_slice(&[2, 0]);
        h.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    } else {
        h.extend_from_slice(&[1, 0]);
        h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    }
    h.extend_from_slice(dict.as_bytes());
    h
}

/// One member of an `.npz` to write; its bytes come from the writer's `fetch`.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    /// numpy's descriptor (`<f4`, `<u2` for bfloat16 bit patterns, …).
    pub descr: String,
    pub fortran: bool,
    pub shape: Vec<u64>,
    pub len: u64,
}

/// Writes an `.npz` (member `NAME.npy` per entry, in order, stored) through the atomic
/// writer, streaming: each member's bytes as `fetch(i)` gives them.
pub fn write_stream<'s>(
    output: &Path,
    entries: &[Entry],
    mut fetch: impl FnMut(usize) -> Result<Vec<std::borrow::Cow<'s, [u8]>>, String>,
) -> Result<(), ConvertError> {
    super::write_atomically(output, |w| {
        let mut z = zip::ZipWriter::new(w);
        for (i, a) in entries.iter().enumerate() {
            let header = npy_header(&a.descr, a.fortran, &a.shape);
            let size = header.len() as u64 + a.len;
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(size >= u32::MAX as u64);
            z.start_file(format!("{}.npy", a.name), opts)
                .map_err(|e| format!("{}: {e}", a.name))?;
            z.write_all(&header)
                .map_err(|e| format!("{}: {e}", a.name))?;
            for part in fetch(i)? {
                z.write_all(&part).map_err(|e| format!("{}: {e}", a.name))?;
            }
        }
        z.finish().map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// A tensor's dtype in the report: its own, and the numpy dtype carrying it when numpy
/// has none (`bfloat16 (as uint16)`).
pub fn line_dtype(elem: DType) -> String {
    if elem.numpy_carrier() == elem {
        elem.name().to_string()
    } else {
        format!("{} (as {})", elem, elem.numpy_carrier())
    }
}

/// The notes an `.npz` of these dtypes needs (numpy has no bfloat16 or float8).
pub fn dtype_notes<'n>(items: impl Iterator<Item = (&'n str, DType)>, report: &mut Report) {
    let mut as_u2 = Vec::new();
    let mut as_u1 = Vec::new();
    for (name, elem) in items {
        match elem {
            DType::BFloat16 => as_u2.push(name.to_string()),
            DType::Float8E4M3FN | DType::Float8E5M2 => as_u1.push(name.to_string()),
            _ => {}
        }
    }
    if !as_u2.is_empty() {
        report.notes.push(format!(
            "numpy has no bfloat16: stored as uint16 bit patterns (<u2): {}",
            as_u2.join(", ")
        ));
    }
    if !as_u1.is_empty() {
        report.notes.push(format!(
            "numpy has no float8: stored as uint8 bit patterns (|u1): {}",
            as_u1.join(", ")
        ));
    }
}

/// Writes arrays as an `.npz` (member `NAME.npy` per array, in order).
pub fn write(
    output: &Path,
    arrays: &[NamedArray<'_>],
    report: &mut Report,
) -> Result<(), ConvertError> {
    let mut entries = Vec::with_capacity(arrays.len());
    for a in arrays {
        report.tensors.push(TensorLine {
            name: a.name.clone(),
            dtype: line_dtype(a.elem),
            shape: a.shape.clone(),
        });
        entries.push(Entry {
            name: a.name.clone(),
            descr: descr(a),
            fortran: a.fortran,
            shape: a.shape.clone(),
            len: a.data.len() as u64,
        });
    }
    write_stream(output, &entries, |i| {
        Ok(vec![std::borrow::Cow::Borrowed(&arrays[i].data[..])])
    })?;
    dtype_notes(arrays.iter().map(|a| (a.name.as_str(), a.elem)), report);
    Ok(())
}
