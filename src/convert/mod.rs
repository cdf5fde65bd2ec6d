//! `pdsave convert IN OUT`: Paddle save files ↔ safetensors, and → `.npz` (spec/convert.md).
//!
//! Every input becomes a list of [`Array`]s (the payloads, borrowed from the memory-mapped
//! input where their bytes can be used as they are) plus, for a pickle, a skeleton of the
//! pickle graph that lets [`safetensors`] give the same pickle bytes back. Writers take the
//! arrays as views: no second full copy of the payloads is built.

pub mod large;
pub mod model;
pub mod npz;
pub mod safetensors;
pub mod skeleton;

use crate::dtype::DType;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::source::{Form, Kind, Source};

/// Metadata key of the pickle skeleton in a safetensors file.
pub const SKELETON_KEY: &str = "pdsave.pickle";
/// Metadata key of the parameter-name table (tensor name → Paddle parameter name), as JSON.
pub const TABLE_KEY: &str = crate::names::NAME_TABLE;

/// One array to write, in the layout its source holds it.
#[derive(Clone, Debug)]
pub struct NamedArray<'a> {
    pub name: String,
    pub elem: DType,
    pub shape: Vec<u64>,
    /// Element bytes in `order` byte order and Fortran or C memory order.
    pub data: Cow<'a, [u8]>,
    /// `<`, `>` or `|` (numpy's byte-order character).
    pub order: u8,
    pub fortran: bool,
}

impl NamedArray<'_> {
    pub fn numel(&self) -> u64 {
        self.shape.iter().product()
    }
    /// Element bytes in C order, little-endian.
    pub fn c_order_le(&self) -> Cow<'_, [u8]> {
        crate::numpy::c_order_le(
            self.elem.numpy_carrier(),
            self.order,
            &self.shape,
            self.fortran,
            &self.data,
        )
    }
}

/// Why a conversion was refused. Each names what and where.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a pickle pdsave accepts: {source}")]
    Pickle {
        path: PathBuf,
        source: crate::pickle::PickleError,
    },
    #[error("{path}: not a safetensors file: {reason}")]
    Safetensors { path: PathBuf, reason: String },
    #[error("{path}: the pdsave metadata ({SKELETON_KEY}) is invalid: {reason}")]
    Skeleton { path: PathBuf, reason: String },
    #[error("{path}: tensor {name:?}: {reason}")]
    Tensor {
        path: PathBuf,
        name: String,
        reason: String,
    },
    #[error("{path}: cannot read the model: {reason}")]
    Model { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// File formats `convert` reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A `paddle.save` pickle (`.pdparams`, `.pdopt`, any other name).
    Pickle,
    Safetensors,
    Npz,
    /// A `.pdmodel`/`.json` + `.pdiparams` prefix.
    Prefix,
    /// A 1.x directory (`__model__` + one file per variable, or only variable files).
    Directory,
    /// A DenseTensor stream (`paddle.save(t, path, use_binary_format=True)`).
    Tensor,
    /// A distributed checkpoint directory (`save_state_dict`).
    Checkpoint,
    /// A sharded state dict's index (`save_pretrained`).
    Index,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Pickle => "pickle",
            Format::Safetensors => "safetensors",
            Format::Npz => "npz",
            Format::Prefix => "prefix",
            Format::Directory => "directory",
            Format::Tensor => "tensor stream",
            Format::Checkpoint => "distributed checkpoint",
            Format::Index => "sharded state dict",
        }
    }
    /// `--to` values.
    pub fn parse_output(s: &str) -> Option<Format> {
        match s {
            "safetensors" => Some(Format::Safetensors),
            "npz" => Some(Format::Npz),
            "pdparams" | "pickle" => Some(Format::Pickle),
            _ => None,
        }
    }
}

/// How to convert.
#[derive(Clone, Debug)]
pub struct ConvertOptions {
    /// The output format; `None`: from OUT's extension.
    pub to: Option<Format>,
    /// Pickle protocol for a state dict written from a safetensors file without pdsave
    /// metadata (2-4; 4 is `paddle.save`'s default).
    pub protocol: u8,
    /// numpy flavour of that pickle (module path of `_reconstruct`).
    pub flavour: crate::numpy::Flavour,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            to: None,
            protocol: 4,
            flavour: crate::numpy::Flavour::Numpy2,
        }
    }
}

/// One written tensor, as reported.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TensorLine {
    pub name: String,
    /// The dtype, in the names every command uses (`float32`, `bfloat16`; how a dtype the
    /// output format lacks is carried, in parentheses).
    pub dtype: String,
    pub shape: Vec<u64>,
}

/// What a conversion did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub input: String,
    pub input_format: Format,
    pub output: String,
    pub output_format: Format,
    pub tensors: Vec<TensorLine>,
    /// Entries that are not arrays: kept in the safetensors metadata skeleton (pickle →
    /// safetensors) or left out (→ npz).
    pub non_tensor_entries: Vec<String>,
    /// Whether converting the output back gives the input's bytes (pickle → safetensors), or
    /// whether the pickle was rebuilt from a pdsave skeleton (safetensors → pickle).
    pub exact: Option<bool>,
    /// Things the user should know (printed on stderr).
    pub notes: Vec<String>,
}

impl Report {
    /// The human summary (stdout); notes are printed apart (stderr).
    pub fn render(&self) -> String {
        let mut s = format!(
            "{} ({}) -> {} ({})\n",
            self.input,
            self.input_format.label(),
            self.output,
            self.output_format.label()
        );
        let w = self.tensors.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let wd = self
            .tensors
            .iter()
            .map(|t| t.dtype.len())
            .max()
            .unwrap_or(0);
        for t in &self.tensors {
            let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
            s.push_str(&format!(
                "  {:w$}  {:wd$}  [{}]\n",
                t.name,
                t.dtype,
                shape.join(", ")
            ));
        }
        s.push_str(&format!(
            "{} tensor{}",
            self.tensors.len(),
            if self.tensors.len() == 1 { "" } else { "s" }
        ));
        // (What an .npz leaves out is said on stderr.)
        if !self.non_tensor_entries.is_empty() && self.output_format != Format::Npz {
            s.push_str(&format!(
                "; non-tensor entries kept in the metadata: {}",
                self.non_tensor_entries.join(", ")
            ));
        }
        s.push('\n');
        match (self.input_format, self.output_format, self.exact) {
            (Format::Pickle, Format::Safetensors, Some(true)) => {
                s.push_str("converting back with `pdsave convert` gives the same pickle bytes\n")
            }
            (Format::Safetensors, Format::Pickle, Some(true)) => {
                s.push_str("pickle rebuilt from the pdsave metadata\n")
            }
            (Format::Safetensors, Format::Pickle, Some(false)) => {
                s.push_str("written as paddle.save(state_dict) writes a dict of tensors\n")
            }
            _ => {}
        }
        s
    }
}

fn ext(p: &Path) -> String {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Creates `output` through a temporary beside it renamed into place when complete
/// ([`crate::write::write_file`]: fsynced, removed on error and on Ctrl-C): what every
/// pdsave writer uses, the Python bindings too.
pub fn write_atomically(
    output: &Path,
    f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), String>,
) -> Result<(), ConvertError> {
    write_checked(output, f, |_| Ok(()))
}

/// [`write_atomically`], with `check` run on the complete temporary file before it is
/// renamed into place: a file `check` refuses is removed and never appears at `output`.
/// (That OUT is no file of IN is checked by [`convert`] on the source, `Source::file_at`.)
pub(crate) fn write_checked(
    output: &Path,
    f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), String>,
    check: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), ConvertError> {
    crate::write::write_file(output, &[], f, check).map_err(|e| ConvertError::Write {
        path: output.to_path_buf(),
        reason: e.reason(),
    })
}

/// What IN is: the PATH resolved ([`Source::open`]) and its files sniffed — a model file or
/// its `.pdiparams` stands for the prefix they share.
pub fn input_format(input: &Path) -> Result<(Format, Source), ConvertError> {
    let unsupported = |reason: String| ConvertError::Unsupported {
        path: input.to_path_buf(),
        reason,
    };
    let src = Source::open(input, false).map_err(|e| {
        unsupported(match e {
            crate::source::SourceError::NotFound(_) => {
                "no such file, directory or model prefix (PREFIX.pdmodel or PREFIX.json with PREFIX.pdiparams)".into()
            }
            e => e.to_string(),
        })
    })?;
    let kind = match &src.form {
        Form::File(f) => f.kind,
        Form::Prefix { .. } => return Ok((Format::Prefix, src)),
        Form::Model { .. } | Form::Files(_) => return Ok((Format::Directory, src)),
        Form::Checkpoint { .. } => return Ok((Format::Checkpoint, src)),
        Form::Index { .. } => return Ok((Format::Index, src)),
    };
    let format = match kind {
        Kind::Pickle { .. } => Format::Pickle,
        Kind::Safetensors => Format::Safetensors,
        // Bytes of no known kind named as safetensors: read as such, to say what is wrong.
        Kind::Unknown | Kind::Text if ext(input) == "safetensors" => Format::Safetensors,
        Kind::Zip => Format::Npz,
        Kind::TensorStream => Format::Tensor,
        Kind::ProgramDesc | Kind::PirJson | Kind::CombinedParams { .. } => {
            // A model file or its parameters: the prefix they share.
            let prefix = input.with_extension("");
            if crate::source::prefix_program(&prefix).is_none() {
                return Err(unsupported(format!(
                    "a lone {} file: convert its model's prefix ({}), which names the records",
                    kind.label(),
                    prefix.display()
                )));
            }
            let src = Source::open(&prefix, false).map_err(|e| unsupported(e.to_string()))?;
            return Ok((Format::Prefix, src));
        }
        k => {
            return Err(unsupported(format!(
                "{}: convert reads pickles, tensor streams, safetensors files and models",
                k.describe()
            )))
        }
    };
    Ok((format, src))
}

/// The one file of a file source.
fn file_of(src: &Source) -> (&PathBuf, &[u8]) {
    match &src.form {
        Form::File(f) => (&f.path, &f.data),
        _ => (&src.path, &[]),
    }
}

/// The output format: `--to`, else OUT's extension.
pub fn output_format(output: &Path, to: Option<Format>) -> Result<Format, ConvertError> {
    if let Some(f) = to {
        return Ok(f);
    }
    match ext(output).as_str() {
        "safetensors" => Ok(Format::Safetensors),
        "npz" => Ok(Format::Npz),
        "pdparams" | "pdopt" | "pdtensor" | "pkl" | "pickle" => Ok(Format::Pickle),
        e => Err(ConvertError::Unsupported {
            path: output.to_path_buf(),
            reason: format!(
                "cannot tell the output format from the extension {e:?}: use .safetensors, .npz or .pdparams, or --to"
            ),
        }),
    }
}

/// Converts IN to OUT, the formats told by the extensions (or `opts.to`).
///
/// ```
/// use pdsave::convert::{convert, ConvertOptions};
/// let src = std::path::Path::new("corpus/cases/y_p3_proto4_bf16_state_dict/model.pdparams");
/// let dir = tempfile::tempdir().unwrap();
/// let (st, back) = (dir.path().join("bf16.safetensors"), dir.path().join("bf16.pdparams"));
/// convert(src, &st, &ConvertOptions::default()).unwrap();
/// // bfloat16 stays BF16 in safetensors, under the state-dict key.
/// let bytes = std::fs::read(&st).unwrap();
/// let t = safetensors::SafeTensors::deserialize(&bytes).unwrap();
/// assert_eq!(t.tensor("weight").unwrap().dtype(), safetensors::Dtype::BF16);
/// // And back, byte for byte.
/// convert(&st, &back, &ConvertOptions::default()).unwrap();
/// assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(src).unwrap());
/// ```
pub fn convert(input: &Path, output: &Path, opts: &ConvertOptions) -> Result<Report, ConvertError> {
    let (from, src) = input_format(input)?;
    let to = output_format(output, opts.to)?;
    if let Some(f) = src.file_at(output) {
        return Err(ConvertError::Unsupported {
            path: output.to_path_buf(),
            reason: format!(
                "OUT is {}, a file of IN: it would be overwritten",
                f.display()
            ),
        });
    }
    let unsupported = |reason: &str| ConvertError::Unsupported {
        path: input.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut report = Report {
        input: input.display().to_string(),
        input_format: from,
        output: output.display().to_string(),
        output_format: to,
        tensors: vec![],
        non_tensor_entries: vec![],
        exact: None,
        notes: vec![],
    };
    match (from, to) {
        (Format::Pickle, Format::Safetensors | Format::Npz) => {
            let (path, data) = file_of(&src);
            let g = crate::pickle::decode(data).map_err(|source| ConvertError::Pickle {
                path: path.clone(),
                source,
            })?;
            if g.consumed < data.len() {
                report.notes.push(format!(
                    "{} bytes after the pickle's STOP are not converted",
                    data.len() - g.consumed
                ));
            }
            let ex = skeleton::extract(&g).map_err(|reason| ConvertError::Unsupported {
                path: path.clone(),
                reason,
            })?;
            report.non_tensor_entries = ex.non_tensor.clone();
            if to == Format::Safetensors {
                let meta = ex.metadata();
                safetensors::write(output, &ex.arrays, meta, &mut report)?;
                report.exact = Some(g.consumed == data.len());
            } else {
                npz::write(output, &ex.arrays, &mut report)?;
                if !ex.non_tensor.is_empty() {
                    report.notes.push(format!(
                        "not arrays, left out of the .npz: {}",
                        ex.non_tensor.join(", ")
                    ));
                }
            }
            Ok(report)
        }
        (Format::Safetensors, Format::Pickle) => {
            let (path, data) = file_of(&src);
            safetensors::to_pickle(path, data, output, opts, &mut report)?;
            Ok(report)
        }
        (Format::Safetensors, Format::Npz) => {
            let (path, data) = file_of(&src);
            let st = safetensors::read(path, data)?;
            let arrays = safetensors::arrays(path, &st)?;
            npz::write(output, &arrays, &mut report)?;
            Ok(report)
        }
        (Format::Tensor, Format::Safetensors | Format::Npz) => {
            let (path, data) = file_of(&src);
            let (t, _) = crate::tensor_stream::decode_dense_tensor_prefix(data).map_err(|e| {
                ConvertError::Tensor {
                    path: path.clone(),
                    name: "tensor".into(),
                    reason: e.to_string(),
                }
            })?;
            let arrays = vec![model::record_array("tensor".into(), &t, path)?];
            if to == Format::Safetensors {
                safetensors::write(output, &arrays, HashMap::new(), &mut report)?;
            } else {
                npz::write(output, &arrays, &mut report)?;
            }
            Ok(report)
        }
        (Format::Prefix | Format::Directory, Format::Safetensors | Format::Npz) => {
            let w = model::weights(&src)?;
            report.notes.extend(w.notes.iter().cloned());
            if to == Format::Safetensors {
                safetensors::write(output, &w.arrays, w.metadata(), &mut report)?;
            } else {
                npz::write(output, &w.arrays, &mut report)?;
            }
            Ok(report)
        }
        (Format::Checkpoint | Format::Index, Format::Safetensors | Format::Npz | Format::Pickle) => {
            large::convert(&src, output, to, opts, &mut report)?;
            if to == Format::Pickle {
                report.exact = Some(false);
            }
            Ok(report)
        }
        (Format::Pickle, Format::Pickle) => Err(unsupported(
            "pickle to pickle is not a conversion (see `pdsave reencode`)",
        )),
        (Format::Safetensors, Format::Safetensors) => {
            Err(unsupported("safetensors to safetensors is not a conversion"))
        }
        (Format::Prefix | Format::Directory, Format::Pickle) => Err(unsupported(
            "a model's weights convert to .safetensors or .npz (and that .safetensors to .pdparams)",
        )),
        (_, Format::Prefix | Format::Directory | Format::Tensor | Format::Checkpoint | Format::Index)
        | (Format::Npz | Format::Tensor, _) => {
            Err(unsupported("pdsave does not read or write this format pair"))
        }
    }
}

/// `pdsave convert`: parses the command line's options, then [`convert`].
pub fn run_cli(
    input: &Path,
    output: &Path,
    to: Option<&str>,
    protocol: u8,
    numpy: u8,
) -> Result<Report, ConvertError> {
    let bad = |reason: String| ConvertError::Unsupported {
        path: output.to_path_buf(),
        reason,
    };
    let to = match to {
        None => None,
        Some(t) => Some(
            Format::parse_output(t)
                .ok_or_else(|| bad(format!("--to {t:?}: expected safetensors, npz or pdparams")))?,
        ),
    };
    if !(2..=4).contains(&protocol) {
        return Err(bad(format!("--protocol {protocol}: expected 2, 3 or 4")));
    }
    let flavour = match numpy {
        1 => crate::numpy::Flavour::Numpy1,
        2 => crate::numpy::Flavour::Numpy2,
        n => return Err(bad(format!("--numpy {n}: expected 1 or 2"))),
    };
    convert(
        input,
        output,
        &ConvertOptions {
            to,
            protocol,
            flavour,
        },
    )
}
