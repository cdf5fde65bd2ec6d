//! What one file's bytes are, told once, in one documented order (spec/README.md,
//! "Detection"): every command names a file by [`sniff`], so `view`, `check`, `inspect` and
//! `convert` always call one file the same thing.
//!
//! The order: empty → zip (`.npz`, archives) → gzip → tar → npy → safetensors (the header parses and covers the
//! file: its first byte can be 0x80, a pickle's PROTO byte, so the header is read, not one
//! byte) → pickle → SelectedRows → DenseTensor stream(s) → ProgramDesc → PIR JSON → text →
//! unknown. A pickle is what starts with PROTO 2-5, decodes, or references a global;
//! bytes that are UTF-8 text and none of these are text, even where a pickle VM would read
//! their first letter as an opcode.

use crate::pickle::{self, globals};
use crate::{program, tensor_stream};

/// The kind of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Empty,
    /// A zip archive (`.npz`, `.zip`): PK signature.
    Zip,
    /// A tar archive (`*_infer.tar`): `ustar` at byte 257, or a valid old-style header.
    Tar,
    /// A gzip stream (`.tar.gz`, `.tgz`, `.gz`): 1F 8B 08.
    Gzip,
    /// A numpy `.npy` array file (`\x93NUMPY`; an `.npz` member).
    Npy,
    Safetensors,
    /// A pickle (or what only a pickle starts like); `protocol` from PROTO, if any.
    Pickle {
        protocol: Option<u8>,
    },
    /// One SelectedRows record.
    SelectedRows,
    /// One DenseTensor record (trailing bytes, which `paddle.load` ignores, allowed).
    TensorStream,
    /// Several DenseTensor records back to back (a combined `.pdiparams`).
    CombinedParams {
        records: usize,
    },
    /// A legacy `ProgramDesc` (`.pdmodel`, `__model__`).
    ProgramDesc,
    /// A PIR program (`.json`).
    PirJson,
    /// UTF-8 text that is none of the above.
    Text,
    Unknown,
}

impl Kind {
    /// How outputs name the kind.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Empty => "empty file",
            Kind::Zip => "zip archive",
            Kind::Tar => "tar archive",
            Kind::Gzip => "gzip file",
            Kind::Npy => "npy array",
            Kind::Safetensors => "safetensors",
            Kind::Pickle { .. } => "pickle",
            Kind::SelectedRows => "SelectedRows",
            Kind::TensorStream => "tensor stream",
            Kind::CombinedParams { .. } => "combined params",
            Kind::ProgramDesc | Kind::PirJson => "program",
            Kind::Text => "text",
            Kind::Unknown => "unknown",
        }
    }
    /// The kind as a sentence's subject: `an empty file`, `a zip archive`, …
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Empty => "an empty file",
            Kind::Zip => "a zip archive (an .npz or a packed model)",
            Kind::Tar => "a tar archive (a packed model: `pdsave check` and `inspect` read its members)",
            Kind::Gzip => "a gzip file (a packed model: `pdsave check` and `inspect` read its members)",
            Kind::Npy => "a numpy .npy array file",
            Kind::Safetensors => "a safetensors file",
            Kind::Pickle { .. } => "a pickle",
            Kind::SelectedRows => "a SelectedRows record",
            Kind::TensorStream => "a tensor stream",
            Kind::CombinedParams { .. } => "a combined .pdiparams",
            Kind::ProgramDesc => "a ProgramDesc program",
            Kind::PirJson => "a PIR program",
            Kind::Text => "a text file",
            Kind::Unknown => "bytes of no format pdsave knows (not a pickle, tensor stream, program or safetensors file)",
        }
    }
    /// A Paddle format pdsave reads (not empty, zip, text or unknown).
    pub fn is_paddle(self) -> bool {
        !matches!(
            self,
            Kind::Empty
                | Kind::Zip
                | Kind::Tar
                | Kind::Gzip
                | Kind::Npy
                | Kind::Text
                | Kind::Unknown
        )
    }
    pub fn is_pickle(self) -> bool {
        matches!(self, Kind::Pickle { .. })
    }
    /// An archive whose members `check` and `inspect` read (zip, tar, gzip).
    pub fn is_archive(self) -> bool {
        matches!(self, Kind::Zip | Kind::Tar | Kind::Gzip)
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

/// The zip local-file, empty-archive and spanned-archive signatures.
fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") || b.starts_with(b"PK\x07\x08")
}

/// gzip's magic and its one compression method (deflate).
fn is_gzip(b: &[u8]) -> bool {
    b.starts_with(&[0x1f, 0x8b, 0x08])
}

/// A tar header: POSIX/GNU `ustar` magic at byte 257, or (old v7 tar) a 512-byte header
/// whose checksum field matches its bytes and whose name is set.
fn is_tar(b: &[u8]) -> bool {
    let Some(h) = b.get(..512) else { return false };
    if &h[257..262] == b"ustar" {
        return true;
    }
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|c| *c == b' ')
        .take_while(|c| (b'0'..=b'7').contains(c))
        .collect();
    let Some(want) = std::str::from_utf8(&digits)
        .ok()
        .filter(|d| !d.is_empty())
        .and_then(|d| u32::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if (148..156).contains(&i) {
                32
            } else {
                c as u32
            }
        })
        .sum();
    h[0] != 0 && sum == want
}

/// A safetensors header: a length that stays in the file, then a JSON object whose entries
/// are `__metadata__` or tensors (`dtype`, `shape`, `data_offsets`). Whether sizes and
/// offsets agree with the data is the reader's check: a file cut short is a broken
/// safetensors file, not another kind.
fn is_safetensors(b: &[u8]) -> bool {
    let Some(n) = b
        .get(..8)
        .map(|h| u64::from_le_bytes(h.try_into().unwrap_or([0; 8])))
    else {
        return false;
    };
    let Some(header) = usize::try_from(n)
        .ok()
        .and_then(|n| b.get(8..8usize.checked_add(n)?))
    else {
        return false;
    };
    if header.first() != Some(&b'{') {
        return false;
    }
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(header) {
        Ok(m) => m.iter().all(|(k, v)| {
            k == "__metadata__" || (v.get("dtype").is_some() && v.get("data_offsets").is_some())
        }),
        Err(_) => false,
    }
}

/// Whether the bytes are a pickle, by the rules of the module doc.
fn pickle_protocol(b: &[u8]) -> Option<Option<u8>> {
    if let [0x80, p, ..] = b {
        if (2..=5).contains(p) {
            return Some(Some(*p));
        }
    }
    if pickle::decode(b).is_ok() {
        return Some(None);
    }
    let scan = globals::scan_globals(b);
    let text = std::str::from_utf8(b).is_ok();
    if !scan.globals.is_empty() || (!text && !scan.opcodes.is_empty()) {
        return Some(scan.protocol);
    }
    None
}

/// The kind of a file's bytes.
///
/// ```
/// use pdsave::source::{sniff, Kind};
/// let b = std::fs::read("corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams").unwrap();
/// assert_eq!(sniff(&b), Kind::Pickle { protocol: Some(4) });
/// assert_eq!(sniff(b"PK\x03\x04rest of a zip"), Kind::Zip);
/// assert_eq!(sniff(b"obj = 1\n"), Kind::Text);
/// ```
pub fn sniff(b: &[u8]) -> Kind {
    if b.is_empty() {
        return Kind::Empty;
    }
    if is_zip(b) {
        return Kind::Zip;
    }
    if is_gzip(b) {
        return Kind::Gzip;
    }
    if is_tar(b) {
        return Kind::Tar;
    }
    if b.starts_with(b"\x93NUMPY") {
        return Kind::Npy;
    }
    if is_safetensors(b) {
        return Kind::Safetensors;
    }
    if let Some(protocol) = pickle_protocol(b) {
        return Kind::Pickle { protocol };
    }
    if tensor_stream::decode_selected_rows_prefix(b).is_ok() {
        return Kind::SelectedRows;
    }
    if tensor_stream::decode_dense_tensor_prefix(b).is_ok() {
        return match tensor_stream::decode_combined(b) {
            Ok(recs) if recs.len() > 1 => Kind::CombinedParams {
                records: recs.len(),
            },
            _ => Kind::TensorStream,
        };
    }
    match program::summarize_program(b) {
        Ok(s) if s.block_count > 0 => {
            return match s.format {
                program::ProgramFormat::ProgramDesc => Kind::ProgramDesc,
                program::ProgramFormat::PirJson => Kind::PirJson,
            }
        }
        _ => {}
    }
    if std::str::from_utf8(b).is_ok() {
        return Kind::Text;
    }
    Kind::Unknown
}
