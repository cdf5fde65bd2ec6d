//! Distributed checkpoints (`paddle.distributed.save_state_dict`; spec/checkpoint.md): the
//! metadata ([`metadata`], K-META), each shard file as `paddle.load` reads it, and the plan
//! that puts every tensor together at its global shape from its pieces ([`assemble`],
//! K-PIECES) — what `paddle.distributed.load_state_dict` fills into one process's state
//! dict of full-shape tensors (K-VIEW). Where Paddle is lax (a missing shard file, pieces
//! that overlap or leave a hole, dtypes or shapes that disagree) the plan has a
//! [`Finding`] naming key and file, and the load is refused (K-STRICT).
//!
//! Planning reads the metadata and the shards' pickle structure (or safetensors headers),
//! never a payload: `inspect` and `check` stay independent of the checkpoint's size.

pub mod assemble;
pub mod metadata;

use std::borrow::Cow;

use assemble::{coverage, numel, place, Cover, Piece};
use metadata::Metadata;

use super::load::{LoadError, LoadOptions, Loaded};
use super::values::{dict_graph, state_dict_values, Value};
use crate::dtype::DType;
use crate::rules::Rule;
use crate::source::sharded::shard_rank_id;
use crate::source::{File, Kind};

/// Something about a checkpoint that makes pdsave refuse it, with where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub key: Option<String>,
    pub file: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

/// One shard file as loaded: its values by key, or why it does not load.
#[derive(Debug)]
pub struct Shard<'a> {
    pub name: String,
    pub rank: Option<u64>,
    pub kind: Kind,
    pub values: Result<Vec<(String, Value<'a>)>, String>,
}

/// One piece of a tensor and the shard that holds it.
#[derive(Clone, Debug)]
pub struct PieceRef {
    pub piece: Piece,
    /// The file the metadata names.
    pub file: String,
    /// Index in [`Checkpoint::shards`], when that file exists.
    pub shard: Option<usize>,
    /// A flattened piece: its shard holds it as a 1-d array of its range.
    pub flat: bool,
}

/// One tensor of the loaded state dict.
#[derive(Clone, Debug)]
pub struct TensorPlan {
    pub key: String,
    /// The dtype (the metadata's, else the shards').
    pub dtype: Option<DType>,
    /// The global shape: each dimension the furthest a piece reaches
    /// (`compute_global_shape`, what `load_merged_state_dict` allocates).
    pub shape: Vec<u64>,
    pub pieces: Vec<PieceRef>,
}

/// A distributed checkpoint, planned.
#[derive(Debug)]
pub struct Checkpoint<'a> {
    pub metadata: Metadata,
    pub shards: Vec<Shard<'a>>,
    pub tensors: Vec<TensorPlan>,
    /// Everything that makes the checkpoint refused, in metadata order.
    pub findings: Vec<Finding>,
}

fn find(rule: Rule, key: Option<&str>, file: Option<&str>, message: String) -> Finding {
    Finding {
        rule,
        key: key.map(str::to_string),
        file: file.map(str::to_string),
        message,
    }
}

/// A shard as `paddle.load(file)` reads it (a `.safetensors` shard: with
/// `safetensors=True`, as `load_state_dict` passes it).
fn load_shard<'a>(name: &str, f: &'a File) -> Shard<'a> {
    let opts = LoadOptions::default();
    let loaded = if f.kind == Kind::Safetensors {
        super::safetensors::load(&f.data, opts)
    } else {
        super::file::load_file_bytes(&f.data, opts)
    };
    Shard {
        name: name.to_string(),
        rank: shard_rank_id(name).map(|(r, _)| r),
        kind: f.kind,
        values: loaded
            .map_err(|e| e.to_string())
            .and_then(|l| state_dict_values(&l)),
    }
}

impl<'a> Checkpoint<'a> {
    /// Reads the metadata and every shard's structure and plans each tensor. `Err`: the
    /// metadata itself does not decode in Paddle's shapes (K-META).
    pub fn open(
        metadata: &File,
        shards: &'a [(String, File)],
    ) -> Result<Checkpoint<'a>, LoadError> {
        let name = metadata
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let md = metadata::parse(&metadata.data).map_err(|e| LoadError::Refused {
            path: metadata.path.display().to_string(),
            reason: format!(
                "not a distributed-checkpoint metadata file pdsave reads ({name}): {e}"
            ),
        })?;
        let shards: Vec<Shard<'a>> = shards.iter().map(|(n, f)| load_shard(n, f)).collect();
        let mut c = Checkpoint {
            metadata: md,
            shards,
            tensors: vec![],
            findings: vec![],
        };
        c.plan();
        Ok(c)
    }

    fn shard_index(&self, file: &str) -> Option<usize> {
        self.shards.iter().position(|s| s.name == file)
    }

    fn value(&self, p: &PieceRef, key: &str) -> Option<&Value<'a>> {
        let s = self.shards.get(p.shard?)?;
        s.values
            .as_ref()
            .ok()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn plan(&mut self) {
        let md = self.metadata.clone();
        let mut f = Vec::new();
        // Shard files that do not load (a hostile global, a broken pickle).
        for s in &self.shards {
            if let Err(e) = &s.values {
                f.push(find(
                    Rule::KStrict,
                    None,
                    Some(&s.name),
                    format!("{}: {e}", s.name),
                ));
            }
        }
        // Files the metadata names that are not there.
        let mut missing: Vec<(String, Vec<String>)> = Vec::new();
        for e in &md.storage {
            if self.shard_index(&e.file).is_none() {
                match missing.iter_mut().find(|(n, _)| *n == e.file) {
                    Some((_, keys)) if !keys.contains(&e.key) => keys.push(e.key.clone()),
                    Some(_) => {}
                    None => missing.push((e.file.clone(), vec![e.key.clone()])),
                }
            }
        }
        for (file, keys) in &missing {
            f.push(find(
                Rule::KStrict,
                keys.first().map(String::as_str),
                Some(file),
                format!(
                    "shard file {file} is missing; it holds {} (Paddle would load those parts as zeros, spec/deviations.md D-15)",
                    keys.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        for e in &md.storage {
            if !md.tensors.iter().any(|(k, _)| *k == e.key) {
                f.push(find(
                    Rule::KStrict,
                    Some(&e.key),
                    Some(&e.file),
                    format!(
                        "{:?} is stored in {} but not in state_dict_metadata",
                        e.key, e.file
                    ),
                ));
            }
        }
        let mut tensors = Vec::new();
        for (key, metas) in &md.tensors {
            tensors.push(self.plan_tensor(key, metas, &mut f));
        }
        self.tensors = tensors;
        self.findings = f;
    }

    fn plan_tensor(
        &self,
        key: &str,
        metas: &[metadata::TensorMeta],
        f: &mut Vec<Finding>,
    ) -> TensorPlan {
        let md = &self.metadata;
        let ndim = metas.first().map(|m| m.local_shape.len()).unwrap_or(0);
        let mut shape = vec![0u64; ndim];
        for m in metas {
            if m.local_shape.len() != ndim || m.global_offset.len() != ndim {
                f.push(find(
                    Rule::KStrict,
                    Some(key),
                    None,
                    format!("{key:?}: pieces of different ranks in state_dict_metadata"),
                ));
                continue;
            }
            for (d, s) in shape.iter_mut().enumerate() {
                *s = (*s).max(m.global_offset[d].saturating_add(m.local_shape[d]));
            }
        }
        for m in metas {
            if let Some(g) = &m.global_shape {
                if *g != shape {
                    f.push(find(
                        Rule::KStrict,
                        Some(key),
                        None,
                        format!(
                        "{key:?}: global_shape {g:?} in the metadata, but its pieces span {shape:?}"
                    ),
                    ));
                    break;
                }
            }
        }
        // The metadata's dtype: every piece must say the same.
        let mut dtype: Option<DType> = None;
        let names: Vec<&str> = metas.iter().filter_map(|m| m.dtype.as_deref()).collect();
        if let Some(first) = names.first() {
            match DType::from_name(first).filter(|d| d.is_paddle()) {
                Some(d) => dtype = Some(d),
                None => f.push(find(
                    Rule::KStrict,
                    Some(key),
                    None,
                    format!("{key:?}: dtype {first:?} is not a Paddle dtype"),
                )),
            }
            if names.iter().any(|n| n != first) {
                f.push(find(
                    Rule::KStrict,
                    Some(key),
                    None,
                    format!("{key:?}: its pieces have dtypes {names:?} in the metadata"),
                ));
            }
        }
        let mut pieces = Vec::new();
        for e in md.storage.iter().filter(|e| e.key == key) {
            if matches!(e.replica, Some(r) if r != 0) {
                continue;
            }
            let meta = metas.iter().find(|m| {
                m.global_offset == e.global_offset
                    && (e.local_shape.is_none() || e.local_shape.as_ref() == Some(&m.local_shape))
                    && m.flattened == e.flattened
            });
            let block = match (&e.local_shape, meta) {
                (Some(s), _) => s.clone(),
                (None, Some(m)) => m.local_shape.clone(),
                (None, None) => {
                    f.push(find(
                        Rule::KStrict,
                        Some(key),
                        Some(&e.file),
                        format!(
                            "{key:?} at offset {:?} in {}: no local shape in the metadata",
                            e.global_offset, e.file
                        ),
                    ));
                    continue;
                }
            };
            let range = e.flattened.unwrap_or((0, numel(&block)));
            pieces.push(PieceRef {
                piece: Piece {
                    offset: e.global_offset.clone(),
                    block,
                    range,
                },
                file: e.file.clone(),
                shard: self.shard_index(&e.file),
                flat: e.flattened.is_some(),
            });
        }
        if pieces.is_empty() {
            f.push(find(
                Rule::KStrict,
                Some(key),
                None,
                format!("{key:?} has no piece in storage_metadata"),
            ));
        }
        let refs: Vec<&Piece> = pieces.iter().map(|p| &p.piece).collect();
        match coverage(&shape, &refs) {
            Ok(()) => {}
            Err(Cover::OutOfBounds(i)) => f.push(find(Rule::KStrict, Some(key), Some(&pieces[i].file), format!(
                "{key:?}: the piece in {} (offset {:?}, shape {:?}) reaches outside the tensor's {shape:?}",
                pieces[i].file, pieces[i].piece.offset, pieces[i].piece.block
            ))),
            Err(Cover::Overlap(i, j)) => f.push(find(Rule::KStrict, Some(key), Some(&pieces[j].file), format!(
                "{key:?}: the pieces in {} (offset {:?}, shape {:?}) and {} (offset {:?}, shape {:?}) overlap",
                pieces[i].file, pieces[i].piece.offset, pieces[i].piece.block,
                pieces[j].file, pieces[j].piece.offset, pieces[j].piece.block
            ))),
            Err(Cover::Hole(n)) => f.push(find(Rule::KStrict, Some(key), None, format!(
                "{key:?}: its pieces leave {n} of its {} elements (shape {shape:?}) in no shard (Paddle leaves them zero)",
                numel(&shape)
            ))),
        }
        // Each piece's array, as its shard holds it.
        for p in &pieces {
            let Some(s) = p.shard.and_then(|i| self.shards.get(i)) else {
                continue;
            };
            if s.values.is_err() {
                continue;
            }
            let Some(v) = self.value(p, key) else {
                f.push(find(
                    Rule::KStrict,
                    Some(key),
                    Some(&p.file),
                    format!("{key:?} is not in {}", p.file),
                ));
                continue;
            };
            let want: Vec<u64> = if p.flat {
                vec![p.piece.len()]
            } else {
                p.piece.block.clone()
            };
            if v.shape != want {
                f.push(find(
                    Rule::KStrict,
                    Some(key),
                    Some(&p.file),
                    format!(
                        "{key:?} in {}: shape {:?}, the metadata says {want:?}",
                        p.file, v.shape
                    ),
                ));
            }
            match dtype {
                Some(d) if d != v.dtype => f.push(find(
                    Rule::KStrict,
                    Some(key),
                    Some(&p.file),
                    format!(
                        "{key:?} in {}: dtype {}, the metadata says {}",
                        p.file, v.dtype, d
                    ),
                )),
                Some(_) => {}
                None => {
                    let first = pieces
                        .iter()
                        .find_map(|q| self.value(q, key))
                        .map(|x| x.dtype);
                    if first.is_some_and(|d| d != v.dtype) {
                        f.push(find(
                            Rule::KStrict,
                            Some(key),
                            Some(&p.file),
                            format!(
                                "{key:?}: its pieces have different dtypes ({} in {})",
                                v.dtype, p.file
                            ),
                        ));
                    }
                }
            }
        }
        let dtype = dtype.or_else(|| {
            pieces
                .iter()
                .find_map(|q| self.value(q, key))
                .map(|v| v.dtype)
        });
        TensorPlan {
            key: key.to_string(),
            dtype,
            shape,
            pieces,
        }
    }

    /// The error a load of this checkpoint gives: the first finding, or all of them.
    pub fn refusal(&self, path: &std::path::Path) -> Option<LoadError> {
        let first = self.findings.first()?;
        let more = self.findings.len() - 1;
        Some(LoadError::Refused {
            path: path.display().to_string(),
            reason: if more == 0 {
                first.message.clone()
            } else {
                format!(
                    "{} (and {more} more: `pdsave check` lists them)",
                    first.message
                )
            },
        })
    }

    /// The C-order bytes of one tensor at its global shape: borrowed from its shard when
    /// one piece is the whole tensor, else put together. The plan must have no findings.
    pub fn tensor_bytes(&self, t: &TensorPlan) -> Result<Cow<'a, [u8]>, LoadError> {
        let dtype = t
            .dtype
            .ok_or(LoadError::Unrepresentable("tensor without a dtype"))?;
        let item = dtype.itemsize();
        if let [p] = t.pieces.as_slice() {
            if p.piece.whole_block() && p.piece.block == t.shape {
                if let Some(v) = self.value(p, &t.key) {
                    return Ok(v.data.clone());
                }
            }
        }
        let n = usize::try_from(numel(&t.shape))
            .ok()
            .and_then(|n| n.checked_mul(item))
            .ok_or(LoadError::TooLarge(numel(&t.shape)))?;
        let mut out = vec![0u8; n];
        for p in &t.pieces {
            if let Some(v) = self.value(p, &t.key) {
                place(&mut out, &t.shape, item, &p.piece, &v.data);
            }
        }
        Ok(Cow::Owned(out))
    }

    /// A tensor's bytes as parts that follow each other in its C order, when each piece
    /// is one run of it (row pieces, flat ranges of the whole tensor): the pieces, sorted,
    /// borrowed from their shards, nothing put together. `None`: it must be put together.
    pub fn tensor_parts(&self, t: &TensorPlan) -> Option<Vec<Cow<'a, [u8]>>> {
        let mut runs = Vec::with_capacity(t.pieces.len());
        for p in &t.pieces {
            let start = assemble::contiguous_start(&t.shape, &p.piece)?;
            runs.push((start, self.value(p, &t.key)?.data.clone()));
        }
        runs.sort_by_key(|(s, _)| *s);
        Some(runs.into_iter().map(|(_, d)| d).collect())
    }

    /// The loaded state dict (K-VIEW): every tensor at its global shape, Paddle-named
    /// (`name` null), in the metadata's order; refused where the plan has findings.
    pub fn load(&self, path: &std::path::Path, opts: LoadOptions) -> Result<Loaded<'a>, LoadError> {
        if let Some(e) = self.refusal(path) {
            return Err(e);
        }
        let mut items = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            let dtype = t
                .dtype
                .ok_or(LoadError::Unrepresentable("tensor without a dtype"))?;
            items.push((
                t.key.clone(),
                Value {
                    dtype,
                    tensor: true,
                    name: None,
                    shape: t.shape.clone(),
                    data: self.tensor_bytes(t)?,
                },
            ));
        }
        let opts = LoadOptions {
            keep_name_table: false,
            safetensors: false,
            ..opts
        };
        Loaded::new(dict_graph(items), super::plan::Form::Pickle, opts)
    }
}
