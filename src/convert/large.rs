//! `pdsave convert` of the checkpoints of large models (spec/convert.md, spec/checkpoint.md):
//! a distributed checkpoint directory or a sharded state dict's index → one `.safetensors`,
//! `.npz` or `.pdparams` holding the full (unsharded) state dict. safetensors and `.npz`
//! are streamed: the header from the plan, then one tensor at a time (borrowed from its
//! shard when one piece is the whole tensor, else put together and dropped once written),
//! so memory stays under the largest tensor plus the writer's buffer.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use super::{npz, safetensors as st, ConvertError, ConvertOptions, Report, TensorLine, TABLE_KEY};
use crate::dtype::DType;
use crate::paddle::checkpoint::Checkpoint;
use crate::paddle::values::{state_dict_values, Value};
use crate::paddle::LoadOptions;
use crate::source::{Form, Source};

/// The state dict to write: a checkpoint's tensors, or an index's values.
enum Dict<'a> {
    Checkpoint(Checkpoint<'a>),
    Values(Vec<(String, Value<'a>)>),
}

struct Meta<'x> {
    name: &'x str,
    dtype: DType,
    tensor: bool,
    shape: &'x [u64],
    param: Option<&'x str>,
}

impl<'a> Dict<'a> {
    fn len(&self) -> usize {
        match self {
            Dict::Checkpoint(c) => c.tensors.len(),
            Dict::Values(v) => v.len(),
        }
    }
    fn meta(&self, i: usize) -> Meta<'_> {
        match self {
            Dict::Checkpoint(c) => {
                let t = &c.tensors[i];
                Meta {
                    name: &t.key,
                    dtype: t.dtype.unwrap_or(DType::UInt8),
                    tensor: true,
                    shape: &t.shape,
                    param: None,
                }
            }
            Dict::Values(v) => Meta {
                name: &v[i].0,
                dtype: v[i].1.dtype,
                tensor: v[i].1.tensor,
                shape: &v[i].1.shape,
                param: v[i].1.name.as_deref(),
            },
        }
    }
    fn bytes(&self, i: usize) -> Result<Cow<'a, [u8]>, String> {
        match self {
            Dict::Checkpoint(c) => c.tensor_bytes(&c.tensors[i]).map_err(|e| e.to_string()),
            Dict::Values(v) => Ok(v[i].1.data.clone()),
        }
    }
    /// The bytes in parts that follow each other: a checkpoint's row pieces straight from
    /// their shards (nothing put together), else the whole tensor.
    fn parts(&self, i: usize) -> Result<Vec<Cow<'a, [u8]>>, String> {
        if let Dict::Checkpoint(c) = self {
            if let Some(p) = c.tensor_parts(&c.tensors[i]) {
                return Ok(p);
            }
            // Put together from pieces read through the maps (read ahead first): their pages
            // are handed back once read, so a checkpoint's memory stays one tensor deep.
            let t = &c.tensors[i];
            let pieces: Vec<&[u8]> = t
                .pieces
                .iter()
                .filter_map(|p| {
                    let s = c.shards.get(p.shard?)?;
                    let v = s.values.as_ref().ok()?.iter().find(|(k, _)| *k == t.key)?;
                    Some(&v.1.data[..])
                })
                .collect();
            pieces.iter().for_each(|b| crate::mapped::prefetch(b));
            let b = self.bytes(i)?;
            pieces.iter().for_each(|b| crate::mapped::release(b));
            return Ok(vec![b]);
        }
        Ok(vec![self.bytes(i)?])
    }
    fn bytes_len(&self, i: usize) -> u64 {
        let m = self.meta(i);
        m.shape.iter().product::<u64>() * m.dtype.itemsize() as u64
    }
}

fn refused(src: &Source, reason: String) -> ConvertError {
    ConvertError::Unsupported {
        path: src.path.clone(),
        reason,
    }
}

/// Converts a checkpoint directory or an index (already resolved).
pub fn convert(
    src: &Source,
    output: &Path,
    to: super::Format,
    opts: &ConvertOptions,
    report: &mut Report,
) -> Result<(), ConvertError> {
    let dict = match &src.form {
        Form::Checkpoint { metadata, shards } => {
            let c = Checkpoint::open(metadata, shards).map_err(|e| refused(src, e.to_string()))?;
            if let Some(e) = c.refusal(&src.path) {
                return Err(refused(src, e.to_string()));
            }
            Dict::Checkpoint(c)
        }
        Form::Index {
            index,
            parsed,
            shards,
        } => {
            let l = crate::paddle::index::load(index, parsed, shards, LoadOptions::default())
                .map_err(|e| refused(src, e.to_string()))?;
            Dict::Values(state_dict_values(&l).map_err(|e| refused(src, e))?)
        }
        _ => return Err(refused(src, "not a checkpoint or an index".into())),
    };
    let n = dict.len();
    match to {
        super::Format::Safetensors => {
            let mut entries = Vec::with_capacity(n);
            let mut table = serde_json::Map::new();
            for i in 0..n {
                let m = dict.meta(i);
                let (dtype, pair) = m.dtype.safetensors().ok_or_else(|| ConvertError::Tensor {
                    path: output.to_path_buf(),
                    name: m.name.to_string(),
                    reason: format!("safetensors has no {} dtype", m.dtype),
                })?;
                let mut shape: Vec<usize> = m.shape.iter().map(|&d| d as usize).collect();
                if pair {
                    shape.push(2);
                }
                report.tensors.push(TensorLine {
                    name: m.name.to_string(),
                    dtype: format!("{dtype:?}"),
                    shape: shape.iter().map(|&d| d as u64).collect(),
                });
                if let Some(p) = m.param {
                    table.insert(m.name.to_string(), serde_json::Value::String(p.to_string()));
                }
                entries.push(st::Entry {
                    name: m.name.to_string(),
                    dtype,
                    shape,
                    len: dict.bytes_len(i) as usize,
                });
            }
            // Parameter names (a sharded `.pdparams` state dict's table) ride along, as
            // for a prefix's weights; a checkpoint's tensors have none.
            let meta: Vec<(String, String)> = if table.is_empty() {
                vec![]
            } else {
                vec![(
                    TABLE_KEY.to_string(),
                    serde_json::Value::Object(table).to_string(),
                )]
            };
            let meta = (!meta.is_empty()).then_some(&meta[..]);
            st::write_stream(output, &entries, meta, |i| dict.parts(i))
        }
        super::Format::Npz => {
            let mut entries = Vec::with_capacity(n);
            for i in 0..n {
                let m = dict.meta(i);
                let d = m.dtype.numpy_carrier();
                let order = if d.itemsize() == 1 { '|' } else { '<' };
                let descr = format!("{order}{}", d.carrier_descr());
                report.tensors.push(TensorLine {
                    name: m.name.to_string(),
                    dtype: npz::line_dtype(m.dtype),
                    shape: m.shape.to_vec(),
                });
                entries.push(npz::Entry {
                    name: m.name.to_string(),
                    descr,
                    fortran: false,
                    shape: m.shape.to_vec(),
                    len: dict.bytes_len(i),
                });
            }
            npz::write_stream(output, &entries, |i| dict.parts(i))?;
            npz::dtype_notes(
                (0..n).map(|i| (dict.meta(i).name, dict.meta(i).dtype)),
                report,
            );
            Ok(())
        }
        super::Format::Pickle => {
            // paddle.save(state_dict): the pickle interleaves structure and payloads, so
            // the put-together tensors are all held until it is written.
            let mut items = Vec::with_capacity(n);
            let mut names = serde_json::Map::new();
            for i in 0..n {
                let m = dict.meta(i);
                if let Some(p) = m.param {
                    names.insert(m.name.to_string(), serde_json::Value::String(p.to_string()));
                }
                let elem = if m.tensor {
                    m.dtype
                } else {
                    m.dtype.numpy_carrier()
                };
                items.push(st::Item {
                    name: m.name.to_string(),
                    elem,
                    shape: m.shape.to_vec(),
                    data: dict.bytes(i).map_err(|e| refused(src, e))?,
                });
            }
            let meta = if names.is_empty() {
                HashMap::new()
            } else {
                HashMap::from([(
                    TABLE_KEY.to_string(),
                    serde_json::Value::Object(names).to_string(),
                )])
            };
            st::state_dict(&src.path, items, &meta, output, opts, report)
        }
        _ => Err(refused(
            src,
            "a checkpoint converts to .safetensors, .npz or .pdparams".into(),
        )),
    }
}
