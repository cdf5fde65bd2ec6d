//! Every Paddle file and model under a directory tree, by content, not by name (`-r DIR`,
//! as a model hub scans an upload): a 1.x model directory (`__model__`) counts once, a
//! `jit.save` / `save_inference_model` prefix once (its program, parameters and names
//! belong to it), and every other file whose kind [`sniff`](super::sniff) says is Paddle's
//! (or could hide a pickle: zip archives) on its own. Empty, text and unknown files are
//! skipped and counted.

use std::path::{Path, PathBuf};

use super::{list_files, model_file, prefix_program, sniff, with_suffix, Kind, SourceError};
use crate::mapped::Mapped;
use crate::names::{INFO_SUFFIX, PARAMS_SUFFIX, PROGRAM_SUFFIXES};

/// What a tree holds.
#[derive(Debug, Default)]
pub struct Tree {
    /// The PATHs to read (files, prefixes, model directories), in path order.
    pub paths: Vec<PathBuf>,
    /// Files skipped: not a Paddle kind (with their kind).
    pub skipped: Vec<(PathBuf, Kind)>,
}

/// Finds the PATHs under `dir`.
pub fn scan(dir: &Path) -> Result<Tree, SourceError> {
    let mut files: Vec<PathBuf> = list_files(dir)?.into_iter().map(|(_, p)| p).collect();
    files.sort();
    let mut tree = Tree::default();
    let mut taken: std::collections::HashSet<PathBuf> = Default::default();
    // Model directories: the directory stands for its files.
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        if model_file(d).is_some() {
            tree.paths.push(d.clone());
            taken.extend(files.iter().filter(|f| f.parent() == Some(d)).cloned());
        }
    }
    // Prefixes: a program file with its parameters beside it.
    for f in &files {
        if taken.contains(f) {
            continue;
        }
        let s = f.to_string_lossy();
        let Some(prefix) = PROGRAM_SUFFIXES
            .iter()
            .find_map(|suf| s.strip_suffix(suf))
            .map(PathBuf::from)
        else {
            continue;
        };
        let params = with_suffix(&prefix, PARAMS_SUFFIX);
        if params.is_file() && prefix_program(&prefix).as_deref() == Some(f.as_path()) {
            taken.insert(f.clone());
            taken.insert(params);
            taken.insert(with_suffix(&prefix, INFO_SUFFIX));
            tree.paths.push(prefix);
        }
    }
    for f in files {
        if taken.contains(&f) {
            continue;
        }
        let kind = match Mapped::open(&f) {
            Ok(m) => sniff(&m),
            Err(_) => Kind::Unknown,
        };
        if kind.is_paddle() || kind == Kind::Zip {
            tree.paths.push(f);
        } else {
            tree.skipped.push((f, kind));
        }
    }
    tree.paths.sort();
    Ok(tree)
}
