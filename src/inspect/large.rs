//! `inspect` of the checkpoints of large models: a distributed checkpoint directory (every
//! key with its dtype, global shape and shards: file, rank, offset, local shape) and a
//! sharded state dict (every key with its shard). Only the metadata and the shards'
//! structure are read, unless `--stats` asks for the values.

use std::borrow::Cow;
use std::path::Path;

use super::{base, Found, Options, Report, ShardInfo, VarKind, Variable};
use crate::paddle::checkpoint::{assemble::numel, Checkpoint, Finding as KFinding};
use crate::paddle::classify::Finding;
use crate::source::sharded::{shard_rank_id, Index};
use crate::source::{File, Format, SourceError};

fn warning(f: &KFinding) -> Finding {
    Finding {
        rule: f.rule,
        path: f.key.clone().or_else(|| f.file.clone()).unwrap_or_default(),
        message: f.message.clone(),
        workaround: None,
        visible: true,
    }
}

pub(super) fn checkpoint<'a>(
    path: &Path,
    metadata: &File,
    shards: &'a [(String, File)],
    opts: Options,
) -> Result<(Report, Vec<Found<'a>>), String> {
    let c = Checkpoint::open(metadata, shards).map_err(|e| e.to_string())?;
    let ranks: Vec<u64> = c.shards.iter().filter_map(|s| s.rank).collect();
    let mut r = base(
        path,
        Format::Checkpoint,
        &format!(
            "paddle.distributed.save_state_dict ({} shard file{}{}; metadata classes of {})",
            c.shards.len(),
            if c.shards.len() == 1 { "" } else { "s" },
            if ranks.is_empty() {
                String::new()
            } else {
                format!(
                    ", ranks {}",
                    ranks
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            c.metadata.module
        ),
    );
    r.warnings = c.findings.iter().map(warning).collect();
    let mut found = Vec::with_capacity(c.tensors.len());
    for t in &c.tensors {
        let item = t.dtype.map_or(0, |d| d.itemsize()) as u64;
        let shards = t
            .pieces
            .iter()
            .map(|p| ShardInfo {
                file: p.file.clone(),
                rank: shard_rank_id(&p.file).map(|(r, _)| r),
                offset: Some(p.piece.offset.clone()),
                shape: p.piece.block.clone(),
                flattened_range: p.flat.then_some(p.piece.range),
            })
            .collect();
        let data = match (opts.stats && c.findings.is_empty(), t.dtype) {
            (true, Some(d)) => c.tensor_bytes(t).ok().map(|b| (b, d)),
            _ => None,
        };
        found.push(Found {
            var: Variable {
                path: t.key.clone(),
                kind: VarKind::Tensor,
                name: None,
                dtype: t.dtype,
                loads_as: None,
                shape: t.shape.iter().map(|&d| d as i64).collect(),
                bytes: numel(&t.shape) * item,
                stats: None,
                shards,
            },
            data,
        });
    }
    Ok((r, found))
}

pub(super) fn index<'a>(
    path: &Path,
    index: &File,
    parsed: &Index,
    shards: &'a [(String, Result<File, SourceError>)],
) -> Result<(Report, Vec<Found<'a>>), String> {
    let (entries, findings) = crate::paddle::index::audit(index, parsed, shards);
    let mut r = base(
        path,
        Format::Index,
        &format!(
            "save_pretrained (a sharded state dict: {} keys in {} shard file{})",
            parsed.weight_map.len(),
            shards.len(),
            if shards.len() == 1 { "" } else { "s" }
        ),
    );
    r.warnings = findings.iter().map(warning).collect();
    let found = entries
        .into_iter()
        .map(|e| {
            let (dtype, shape, bytes, name, kind) = match &e.value {
                Some(v) => (
                    Some(v.dtype),
                    v.shape.iter().map(|&d| d as i64).collect(),
                    v.data.len() as u64,
                    v.name.clone(),
                    if v.tensor {
                        VarKind::Tensor
                    } else {
                        VarKind::Ndarray
                    },
                ),
                None => (None, vec![], 0, None, VarKind::Declared),
            };
            let data = e.value.as_ref().map(|v| (Cow::clone(&v.data), v.dtype));
            Found {
                var: Variable {
                    path: e.key,
                    kind,
                    name,
                    dtype,
                    loads_as: None,
                    shape,
                    bytes,
                    stats: None,
                    shards: vec![ShardInfo {
                        file: e.shard,
                        rank: None,
                        offset: None,
                        shape: e.value.map(|v| v.shape).unwrap_or_default(),
                        flattened_range: None,
                    }],
                },
                data,
            }
        })
        .collect();
    Ok((r, found))
}
