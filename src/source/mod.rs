//! What a PATH names, resolved once for every command: a file, a `jit.save` /
//! `save_inference_model` prefix, a 1.x model directory or a directory of variable files
//! (`paddle.load`'s path forms, rule L-PATH), with every file memory-mapped and its
//! [`Kind`] sniffed once ([`sniff`]). A new format is one [`Kind`] (its detection in
//! `sniff.rs`) or one [`Form`] here, and every command sees it the same way. The forms of
//! large models' checkpoints (a distributed checkpoint directory, a sharded state dict's
//! index) are found by [`sharded`].

pub mod archive;
pub mod sharded;
pub mod sniff;
pub mod tree;

use std::path::{Path, PathBuf};

pub use sniff::{sniff, Kind};

use crate::mapped::Mapped;
use crate::names::{INFO_SUFFIX, MODEL_FILES, PARAMS_SUFFIX, PROGRAM_SUFFIXES};

/// Directory nesting followed at most.
pub const MAX_DIR_DEPTH: usize = 64;
/// Files listed under one directory at most.
pub const MAX_FILES: usize = 100_000;

/// Why a PATH cannot be read. Each names the path; `paddle.load` raises the Python exception
/// of [`SourceError::python_class`]-like rules (see `paddle::outcome`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// No file, prefix or directory of that name.
    #[error("The ``path`` ({0}) to load model not exists.")]
    NotFound(PathBuf),
    /// `PREFIX.pdmodel` and the directory `PREFIX` both exist.
    #[error("{0}.pdmodel and the directory both exist")]
    Ambiguous(PathBuf),
    /// A file or directory that exists but cannot be read.
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    /// A 1.x directory's program does not parse.
    #[error("{path}: {reason}")]
    Program { path: PathBuf, reason: String },
    /// Directories nested deeper than [`MAX_DIR_DEPTH`], or more than [`MAX_FILES`] files.
    #[error("{path}: {reason}")]
    TooMany { path: PathBuf, reason: String },
    /// A sharded state dict's index that does not parse, or a directory holding several.
    #[error("{path}: {reason}")]
    Index { path: PathBuf, reason: String },
    /// A shard file an index names outside its directory (X-SHARDS).
    #[error("{path}: {reason}")]
    Outside { path: PathBuf, reason: String },
}

/// One mapped file and its kind.
pub struct File {
    pub path: PathBuf,
    pub data: Mapped,
    pub kind: Kind,
}

impl File {
    /// Maps `path` (populated up front when `whole`: the caller reads every byte) and
    /// sniffs it.
    pub fn open(path: &Path, whole: bool) -> std::io::Result<File> {
        let data = if whole {
            Mapped::open_whole(path)?
        } else {
            Mapped::open(path)?
        };
        let kind = sniff(&data);
        Ok(File {
            path: path.to_path_buf(),
            data,
            kind,
        })
    }
}

impl File {
    /// The globals a pickle in this file may use: a distributed checkpoint's metadata
    /// classes only in a `.metadata` file (K-META).
    pub fn allowlist(&self) -> crate::pickle::Allowlist {
        let meta = self
            .path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(crate::names::METADATA_SUFFIX));
        if meta {
            crate::pickle::Allowlist::CheckpointMetadata
        } else {
            crate::pickle::Allowlist::Paddle
        }
    }
}

impl std::ops::Deref for File {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data
    }
}

/// How a PATH is read.
pub enum Form {
    File(File),
    /// `PREFIX.pdmodel` (or PIR `PREFIX.json`) + `PREFIX.pdiparams` (+ `.pdiparams.info`).
    Prefix {
        program: File,
        /// `Err`: why `PREFIX.pdiparams` cannot be read (the load raises it).
        params: Result<File, SourceError>,
        info: Option<File>,
    },
    /// A 1.x directory with `__model__` (or `__model__.json`): the program and, for each of
    /// its persistable variables, its file (`Err`: missing or unreadable).
    Model {
        program: File,
        vars: Vec<(String, Result<File, SourceError>)>,
    },
    /// A directory of variable files (`save_params` / `save_persistables`), every file under
    /// it by its relative path, in `os.walk` order; a file that could not be read keeps
    /// its error, raised when loading reaches it.
    Files(Vec<(String, Result<File, SourceError>)>),
    /// A distributed checkpoint directory (`paddle.distributed.save_state_dict`): the
    /// `.metadata` file and the shard files of its id by name (spec/checkpoint.md).
    Checkpoint {
        metadata: File,
        shards: Vec<(String, File)>,
    },
    /// A sharded state dict's index and its shards by the names it gives them (`Err`: the
    /// file is missing, unreadable or outside the index's directory).
    Index {
        index: File,
        parsed: sharded::Index,
        shards: Vec<(String, Result<File, SourceError>)>,
    },
}

/// What a PATH is, as outputs name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    File(Kind),
    Prefix,
    Directory,
    /// A distributed checkpoint directory.
    Checkpoint,
    /// A sharded state dict's index.
    Index,
    /// The PATH could not be read.
    Unreadable,
}

impl Format {
    pub fn is_pickle(self) -> bool {
        matches!(self, Format::File(k) if k.is_pickle())
    }
    pub fn label(self) -> &'static str {
        match self {
            Format::File(k) => k.label(),
            Format::Prefix => "prefix",
            Format::Directory => "directory",
            Format::Checkpoint => "distributed checkpoint",
            Format::Index => "sharded state dict",
            Format::Unreadable => "unreadable",
        }
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

/// A resolved PATH.
pub struct Source {
    /// The PATH as given.
    pub path: PathBuf,
    pub form: Form,
}

pub(crate) fn open_file(p: &Path, whole: bool) -> Result<File, SourceError> {
    File::open(p, whole).map_err(|e| SourceError::Io {
        path: p.to_path_buf(),
        reason: e.to_string(),
    })
}

/// `path` with `suffix` appended to its last component (`dir/model` → `dir/model.pdiparams`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The program file of a prefix, if one exists (`PREFIX.pdmodel`, else `PREFIX.json`).
pub fn prefix_program(path: &Path) -> Option<PathBuf> {
    PROGRAM_SUFFIXES
        .map(|s| with_suffix(path, s))
        .into_iter()
        .find(|p| p.is_file())
}

/// The program file of a 1.x model directory, if one exists.
pub fn model_file(dir: &Path) -> Option<PathBuf> {
    MODEL_FILES
        .map(|f| dir.join(f))
        .into_iter()
        .find(|p| p.is_file())
}

impl Source {
    /// Resolves what `paddle.load(path)` would read (L-PATH): a file, a prefix or a
    /// directory. `whole`: the caller reads every byte (the maps are populated up front).
    /// A PATH that is none of them is the ValueError `paddle.load` raises.
    ///
    /// ```
    /// use pdsave::source::{Form, Kind, Source};
    /// let s = Source::open("corpus/cases/y_p2_jit_save_prefix/net".as_ref(), false).unwrap();
    /// let Form::Prefix { program, .. } = &s.form else { panic!() };
    /// assert_eq!(program.kind, Kind::ProgramDesc);
    /// ```
    pub fn open(path: &Path, whole: bool) -> Result<Source, SourceError> {
        let form = if path.is_file() && sharded::is_index_name(path) {
            let (index, parsed, shards) = sharded::open_index(path, whole)?;
            Form::Index {
                index,
                parsed,
                shards,
            }
        } else if path.is_file() {
            Form::File(open_file(path, whole)?)
        } else {
            let model = prefix_program(path);
            match (model, path.is_dir()) {
                (Some(_), true) => return Err(SourceError::Ambiguous(path.to_path_buf())),
                (None, false) => return Err(SourceError::NotFound(path.to_path_buf())),
                (Some(m), false) => {
                    let info = with_suffix(path, INFO_SUFFIX);
                    Form::Prefix {
                        program: open_file(&m, whole)?,
                        params: open_file(&with_suffix(path, PARAMS_SUFFIX), whole),
                        info: if info.is_file() {
                            Some(open_file(&info, whole)?)
                        } else {
                            None
                        },
                    }
                }
                (None, true) => open_directory(path, whole)?,
            }
        };
        Ok(Source {
            path: path.to_path_buf(),
            form,
        })
    }

    /// A source of bytes already in memory (standard input): one file named `name`.
    pub fn from_bytes(name: &str, data: Vec<u8>) -> Source {
        let kind = sniff(&data);
        Source {
            path: PathBuf::from(name),
            form: Form::File(File {
                path: PathBuf::from(name),
                data: Mapped::from_vec(data),
                kind,
            }),
        }
    }

    /// What the PATH is.
    pub fn format(&self) -> Format {
        match &self.form {
            Form::File(f) => Format::File(f.kind),
            Form::Prefix { .. } => Format::Prefix,
            Form::Model { .. } | Form::Files(_) => Format::Directory,
            Form::Checkpoint { .. } => Format::Checkpoint,
            Form::Index { .. } => Format::Index,
        }
    }

    /// Every file of the source with its name (relative to the prefix's or directory's
    /// folder), in the source's order.
    pub fn files(&self) -> Vec<(String, Result<&File, &SourceError>)> {
        let name = |f: &File| {
            let base = match &self.form {
                Form::File(_) => return f.path.display().to_string(),
                Form::Prefix { .. } | Form::Index { .. } if !self.path.is_dir() => {
                    self.path.parent().unwrap_or(Path::new(""))
                }
                _ => self.path.as_path(),
            };
            relative(base, &f.path)
        };
        match &self.form {
            Form::File(f) => vec![(name(f), Ok(f))],
            Form::Prefix {
                program,
                params,
                info,
            } => {
                let mut v = vec![(name(program), Ok(program))];
                let pname = relative(
                    self.path.parent().unwrap_or(Path::new("")),
                    &with_suffix(&self.path, PARAMS_SUFFIX),
                );
                v.push((pname, params.as_ref()));
                v.extend(info.iter().map(|f| (name(f), Ok(f))));
                v
            }
            Form::Model { program, vars } => {
                let mut v = vec![(name(program), Ok(program))];
                v.extend(vars.iter().map(|(n, f)| (n.clone(), f.as_ref())));
                v
            }
            Form::Files(files) => files.iter().map(|(n, f)| (n.clone(), f.as_ref())).collect(),
            Form::Checkpoint { metadata, shards } => {
                let mut v = vec![(name(metadata), Ok(metadata))];
                v.extend(shards.iter().map(|(n, f)| (n.clone(), Ok(f))));
                v
            }
            Form::Index { index, shards, .. } => {
                let mut v = vec![(name(index), Ok(index))];
                v.extend(shards.iter().map(|(n, f)| (n.clone(), f.as_ref())));
                v
            }
        }
    }
}

impl Source {
    /// The file of this source that `p` is (the same file by device and inode, through
    /// links), if `p` exists and is one: a writer must not replace it.
    pub fn file_at(&self, p: &Path) -> Option<PathBuf> {
        let target = same_file_id(p)?;
        self.files()
            .into_iter()
            .filter_map(|(_, f)| f.ok())
            .map(|f| f.path.clone())
            .find(|q| same_file_id(q) == Some(target))
    }
}

/// Why a directory of no model and no variable file is not read as one: it is empty, or it
/// holds a model prefix (`DIR/inference.pdmodel` + `.pdiparams`: the user meant the prefix).
/// `Ok` for a directory of other files (`paddle.load` reads each as a variable).
pub fn not_a_model(dir: &Path, files: usize) -> Result<(), SourceError> {
    let bad = |reason: String| SourceError::Io {
        path: dir.to_path_buf(),
        reason,
    };
    if let Some(prefix) = prefix_in(dir) {
        return Err(bad(format!(
            "a directory holding the model prefix {p} ({p}.pdiparams with its program), not a model directory: did you mean {p}?",
            p = prefix.display()
        )));
    }
    if files == 0 {
        return Err(bad(
            "an empty directory: no model (`__model__`, a prefix) and no variable file (paddle.load gives {})".into(),
        ));
    }
    Ok(())
}

/// A prefix directly inside `dir`: `P.pdiparams` next to `P.pdmodel` or `P.json`.
pub fn prefix_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(PARAMS_SUFFIX)?;
            let p = dir.join(stem);
            prefix_program(&p).map(|_| p)
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// (device, inode) of an existing file.
pub fn same_file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.dev(), m.ino()))
}

/// `p` relative to `base`, with `/` separators.
fn relative(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A 1.x directory: `__model__` + one file per variable, or (no `__model__`) every file
/// loaded as a tensor named by its relative path, in directory-listing order (`os.walk`).
fn open_directory(dir: &Path, whole: bool) -> Result<Form, SourceError> {
    // `__model__` (1.x); `__model__.json` is what Paddle 3's PIR `separate_parameters` writes
    // (pdsave's extension: Paddle 3.3.1 itself raises ValueError there, D-7).
    if let Some(model) = model_file(dir) {
        let program = open_file(&model, whole)?;
        let summary =
            crate::program::summarize_program(&program).map_err(|e| SourceError::Program {
                path: model.clone(),
                reason: e.to_string(),
            })?;
        let vars = summary
            .persistable
            .iter()
            .map(|v| (v.name.clone(), open_file(&dir.join(&v.name), whole)))
            .collect();
        return Ok(Form::Model { program, vars });
    }
    if !sharded::metadata_files(dir).is_empty() {
        let (metadata, shards) = sharded::open_checkpoint(dir, whole)?;
        return Ok(Form::Checkpoint { metadata, shards });
    }
    match sharded::index_files(dir).as_slice() {
        [] => {}
        [one] => {
            let (index, parsed, shards) = sharded::open_index(one, whole)?;
            return Ok(Form::Index {
                index,
                parsed,
                shards,
            });
        }
        several => {
            return Err(SourceError::Index {
                path: dir.to_path_buf(),
                reason: format!(
                    "{} indexes of sharded state dicts ({}): name the one to read",
                    several.len(),
                    several
                        .iter()
                        .map(|p| relative(dir, p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        }
    }
    let files = list_files(dir)?
        .into_iter()
        .map(|(name, p)| {
            let f = open_file(&p, whole);
            (name, f)
        })
        .collect();
    Ok(Form::Files(files))
}

/// The files under `dir` by relative path, in `os.walk` order (a directory's files in
/// listing order, then its subdirectories); as `os.walk`, a symlink to a directory is a
/// directory that is not entered.
pub fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, SourceError> {
    let mut out = Vec::new();
    walk_dir(dir, dir, &mut out, 0)?;
    Ok(out)
}

fn walk_dir(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
    depth: usize,
) -> Result<(), SourceError> {
    if depth > MAX_DIR_DEPTH {
        return Err(SourceError::TooMany {
            path: dir.to_path_buf(),
            reason: format!("directories nested deeper than {MAX_DIR_DEPTH}"),
        });
    }
    let rd = std::fs::read_dir(dir).map_err(|e| SourceError::Io {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut subdirs = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !e.file_type().map(|t| t.is_symlink()).unwrap_or(true) {
                subdirs.push(p);
            }
        } else {
            if out.len() >= MAX_FILES {
                return Err(SourceError::TooMany {
                    path: root.to_path_buf(),
                    reason: format!("more than {MAX_FILES} files"),
                });
            }
            out.push((relative(root, &p), p));
        }
    }
    for s in subdirs {
        walk_dir(root, &s, out, depth + 1)?;
    }
    Ok(())
}
