//! The multi-file forms of large models' checkpoints, found once for every command
//! (spec/checkpoint.md): a distributed checkpoint directory (`save_state_dict`:
//! `{id}.metadata` + `{rank}_{id}.distcp`), and a sharded state dict's index
//! (`*.pdparams.index.json` / `*.safetensors.index.json`, or the directory holding one).
//!
//! A shard named by an index is opened only when it stays in the index's directory: no
//! absolute path, no `..`, no symlink that resolves outside it (X-SHARDS). A checkpoint's
//! shards are the files of the directory's listing whose names say they are shards of the
//! metadata's id, so no name from inside the metadata ever reaches the file system.

use std::path::{Path, PathBuf};

use super::{open_file, File, SourceError};
use crate::names::{
    DISTCP_SUFFIX, INDEX_METADATA, INDEX_SUFFIX, INDEX_TOTAL_SIZE, INDEX_WEIGHT_MAP,
    METADATA_SUFFIX, SAFETENSORS_SUFFIX,
};

/// The largest index file read (PaddleFormers' indexes of 100B-parameter models are a few
/// MiB).
pub const MAX_INDEX_BYTES: u64 = 256 << 20;

/// A sharded state dict's index, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// `weight_map`, in file order: (key, shard file name as written).
    pub weight_map: Vec<(String, String)>,
    /// `metadata.total_size`, when present.
    pub total_size: Option<u64>,
}

/// The `.metadata` files of a directory, sorted by name.
pub fn metadata_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && name_of(p).ends_with(METADATA_SUFFIX))
        .collect();
    v.sort();
    v
}

/// The `*.index.json` files of a directory, sorted by name.
pub fn index_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_index_name(p))
        .collect();
    v.sort();
    v
}

/// Whether a file name is an index's (`*.index.json`).
pub fn is_index_name(p: &Path) -> bool {
    name_of(p).ends_with(INDEX_SUFFIX)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The checkpoint id of a metadata file: `3.metadata` → `Some(3)`.
pub fn metadata_id(p: &Path) -> Option<u64> {
    name_of(p).strip_suffix(METADATA_SUFFIX)?.parse().ok()
}

/// `(rank, id)` of a shard file name `{rank}_{id}.distcp` (or `.safetensors`).
pub fn shard_rank_id(name: &str) -> Option<(u64, u64)> {
    let stem = name
        .strip_suffix(DISTCP_SUFFIX)
        .or_else(|| name.strip_suffix(SAFETENSORS_SUFFIX))?;
    let (r, i) = stem.split_once('_')?;
    Some((r.parse().ok()?, i.parse().ok()?))
}

/// A checkpoint directory: its metadata (the newest id when there are several, as
/// `load_state_dict` picks) and the shard files of that id, by name, sorted by rank.
pub fn open_checkpoint(
    dir: &Path,
    whole: bool,
) -> Result<(File, Vec<(String, File)>), SourceError> {
    let metas = metadata_files(dir);
    let meta = metas
        .iter()
        .max_by_key(|p| (metadata_id(p), name_of(p)))
        .ok_or_else(|| SourceError::NotFound(dir.to_path_buf()))?;
    let id = metadata_id(meta);
    let mut shards = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| SourceError::Io {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    for e in rd.flatten() {
        let p = e.path();
        let name = name_of(&p);
        let ours = match (shard_rank_id(&name), id) {
            (Some((_, i)), Some(id)) => i == id,
            // A metadata file without an id (`flex-ckpt.auto_generated.metadata`): every
            // shard-named file.
            (Some(_), None) => true,
            (None, _) => false,
        };
        if ours && p.is_file() {
            shards.push((name, open_file(&p, whole)?));
        }
    }
    shards.sort_by_key(|(n, _)| (shard_rank_id(n), n.clone()));
    Ok((open_file(meta, whole)?, shards))
}

/// Parses an index's JSON: `weight_map` (required, every value a str) and
/// `metadata.total_size` (optional).
pub fn parse_index(path: &Path, bytes: &[u8]) -> Result<Index, SourceError> {
    let bad = |reason: String| SourceError::Index {
        path: path.to_path_buf(),
        reason,
    };
    let j: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let map = j
        .get(INDEX_WEIGHT_MAP)
        .and_then(|m| m.as_object())
        .ok_or_else(|| bad(format!("no {INDEX_WEIGHT_MAP:?} object")))?;
    let mut weight_map = Vec::with_capacity(map.len());
    for (k, v) in map {
        let f = v
            .as_str()
            .ok_or_else(|| bad(format!("{INDEX_WEIGHT_MAP}[{k:?}] is not a file name")))?;
        weight_map.push((k.clone(), f.to_string()));
    }
    let total_size = match j.get(INDEX_METADATA).and_then(|m| m.get(INDEX_TOTAL_SIZE)) {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            bad(format!(
                "{INDEX_METADATA}.{INDEX_TOTAL_SIZE} is not a byte count"
            ))
        })?),
    };
    Ok(Index {
        weight_map,
        total_size,
    })
}

/// Where a shard name leads, if it stays in `dir` (X-SHARDS): relative, no `..`, and,
/// when it exists, resolving (through symlinks) inside `dir`.
pub fn shard_path(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let rel = Path::new(name);
    if name.is_empty() || rel.is_absolute() || name.starts_with('/') || name.contains('\\') {
        return Err(format!("{name:?} is not a file name relative to the index"));
    }
    if rel
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(format!(
            "{name:?} leaves the index's directory (outside it)"
        ));
    }
    let p = dir.join(rel);
    if let (Ok(real), Ok(root)) = (p.canonicalize(), dir.canonicalize()) {
        if !real.starts_with(&root) {
            return Err(format!(
                "{name:?} is a link to {}, outside the index's directory",
                real.display()
            ));
        }
    }
    Ok(p)
}

/// An index (the file, or the directory holding exactly one) and its shards, each opened
/// once, in the order `weight_map` first names them.
#[allow(clippy::type_complexity)]
pub fn open_index(
    path: &Path,
    whole: bool,
) -> Result<(File, Index, Vec<(String, Result<File, SourceError>)>), SourceError> {
    let file = open_file(path, whole)?;
    if file.data.len() as u64 > MAX_INDEX_BYTES {
        return Err(SourceError::TooMany {
            path: path.to_path_buf(),
            reason: format!("an index larger than {MAX_INDEX_BYTES} bytes"),
        });
    }
    let index = parse_index(path, &file)?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let mut shards: Vec<(String, Result<File, SourceError>)> = Vec::new();
    for (_, name) in &index.weight_map {
        if shards.iter().any(|(n, _)| n == name) {
            continue;
        }
        let f = match shard_path(&dir, name) {
            // What `paddle.load` of a missing shard raises (ValueError: path not exists).
            Ok(p) if !p.exists() => Err(SourceError::NotFound(p)),
            Ok(p) => open_file(&p, whole),
            Err(reason) => Err(SourceError::Outside {
                path: path.to_path_buf(),
                reason,
            }),
        };
        shards.push((name.clone(), f));
    }
    Ok((file, index, shards))
}
