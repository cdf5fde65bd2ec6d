//! `pdsave reencode`: decode one file with its codec and encode it again, in every format
//! pdsave decodes whose encoder reproduces Paddle's bytes — pickles (with the writer's
//! protocol, numpy flavour and dialect, P-HIST), tensor streams (one DenseTensor, a
//! combined `.pdiparams`, a SelectedRows) and legacy ProgramDesc programs (`.pdmodel`,
//! `__model__`). A PIR JSON program is not re-encoded: its bytes are Paddle's JSON
//! writer's, which pdsave does not model.

use std::io::Write;

use crate::pickle::{self, EncodeOptions};
use crate::source::{sniff, Kind};
use crate::tensor_stream;

/// A decoded file, ready to be written again ([`prepare`]): decoding errors come before
/// any output is created.
pub enum Reencoded<'a> {
    Pickle(pickle::Graph<'a>, EncodeOptions),
    Bytes(Vec<u8>),
}

impl Reencoded<'_> {
    /// Writes the re-encoded file.
    pub fn write_to<W: Write>(&self, mut out: W) -> Result<(), String> {
        match self {
            Reencoded::Pickle(g, opts) => {
                pickle::encode_to(g, opts, out).map_err(|e| e.to_string())
            }
            Reencoded::Bytes(b) => out.write_all(b).map_err(|e| e.to_string()),
        }
    }
}

/// Decodes `data` (a file of kind `sniff(data)`) for re-encoding; `protocol` overrides a
/// pickle's. `allow` is the pickle allowlist of the file's place (a checkpoint's
/// `.metadata` file allows its dataclasses, K-META: [`crate::source::File::allowlist`]).
/// Safetensors files are re-encoded by [`crate::convert::safetensors::reencode`], which
/// streams their data.
pub fn prepare(
    data: &[u8],
    allow: pickle::Allowlist,
    protocol: Option<u8>,
) -> Result<Reencoded<'_>, String> {
    let kind = sniff(data);
    Ok(Reencoded::Bytes(match kind {
        Kind::Pickle { .. } => {
            let g = pickle::decode_in(data, &pickle::Limits::default(), allow)
                .map_err(|e| e.to_string())?;
            let mut opts = EncodeOptions::like(&g);
            if let Some(p) = protocol {
                if !(2..=4).contains(&p) {
                    return Err(format!("protocol {p} is not one of 2, 3, 4"));
                }
                opts.protocol = p;
            }
            return Ok(Reencoded::Pickle(g, opts));
        }
        _ if protocol.is_some() => {
            return Err(format!(
                "--protocol is for pickles; this is a {}",
                kind.label()
            ))
        }
        Kind::TensorStream | Kind::CombinedParams { .. } => {
            let records = tensor_stream::decode_combined(data).map_err(|e| e.to_string())?;
            let tensors: Vec<_> = records.into_iter().map(|r| r.tensor).collect();
            tensor_stream::encode_combined(&tensors).map_err(|e| e.to_string())?
        }
        Kind::SelectedRows => tensor_stream::decode_selected_rows(data)
            .and_then(|sr| sr.encode())
            .map_err(|e| e.to_string())?,
        Kind::ProgramDesc => {
            let desc = crate::program::parse_program_desc(data).map_err(|e| e.to_string())?;
            crate::program::encode_program_desc(&desc)
        }
        other => {
            return Err(format!(
                "reencode reads pickles, tensor streams and ProgramDesc programs; this is a {}",
                other.label()
            ))
        }
    }))
}

/// [`prepare`] and [`Reencoded::write_to`] in one; returns the kind re-encoded.
///
/// ```
/// let f = std::fs::read("corpus/cases/y_p3_binary_float32/tensor.pdtensor").unwrap();
/// let mut out = Vec::new();
/// pdsave::reencode::reencode(&f, None, &mut out).unwrap();
/// assert_eq!(out, f);
/// ```
pub fn reencode<W: Write>(data: &[u8], protocol: Option<u8>, out: W) -> Result<Kind, String> {
    prepare(data, pickle::Allowlist::default(), protocol)?.write_to(out)?;
    Ok(sniff(data))
}
