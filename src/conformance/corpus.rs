//! The conformance corpus on disk: `corpus/cases/<id>/case.json` with the files real Paddle
//! wrote and `expected.<option set>.json` views. Kinds, named as in JSONTestSuite: `y_` must
//! load to the expected view, `n_` must be rejected, `i_` are non-unique or
//! implementation-defined cases (expected: what real Paddle gives), see corpus/README.md.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as J;

use crate::paddle::LoadOptions;
use crate::rules::Rule;

/// What a case expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Kind {
    #[serde(rename = "y")]
    Y,
    #[serde(rename = "n")]
    N,
    #[serde(rename = "i")]
    I,
}

/// The format of a case's entry, as `generate.py` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseFormat {
    Pickle,
    TensorStream,
    Program,
    #[serde(rename = "program+params")]
    ProgramParams,
    Directory,
    /// A model packed as a tar, .tar.gz or zip archive (paddle.load does not read it).
    Archive,
    /// `paddle.save` raised: there is no file.
    SaveError,
    /// A distributed checkpoint directory (`save_state_dict`): the view is the state dict
    /// `load_state_dict` fills (spec/checkpoint.md).
    Checkpoint,
    /// A sharded state dict's index (`save_pretrained`).
    Index,
    /// A file `paddle.save(..., safetensors=True)` wrote.
    Safetensors,
}

impl CaseFormat {
    /// The format as case.json spells it (sent to adapters).
    pub fn label(self) -> &'static str {
        match self {
            CaseFormat::Pickle => "pickle",
            CaseFormat::TensorStream => "tensor_stream",
            CaseFormat::Program => "program",
            CaseFormat::ProgramParams => "program+params",
            CaseFormat::Directory => "directory",
            CaseFormat::Archive => "archive",
            CaseFormat::SaveError => "save_error",
            CaseFormat::Checkpoint => "checkpoint",
            CaseFormat::Index => "index",
            CaseFormat::Safetensors => "safetensors",
        }
    }
}

/// Who wrote a case's files.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Writer {
    pub api: String,
    pub paddle: Option<String>,
    pub numpy: Option<String>,
    pub python: Option<String>,
    pub protocol: Option<i64>,
    pub pir: Option<bool>,
}

/// A case's `case.json`, typed: an unknown field is an error (a misspelt field must not be
/// silently ignored by the runner).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMeta {
    pub id: String,
    pub kind: Kind,
    /// What `paddle.load` is given, relative to the case directory (`None` or `.`: the
    /// directory itself).
    pub entry: Option<String>,
    pub writer: Writer,
    pub format: CaseFormat,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The Python that wrote the files.
    pub python: Option<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub has_expected: bool,
    /// Spec rule ids the case exercises (each must be one of [`Rule`]).
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The records as Paddle reads them (tensor-stream and params cases), and the Python
    /// that printed them.
    pub values: Option<String>,
    pub values_python: Option<String>,
    /// `n_` cases: `reject`, and words the refusal names.
    pub expect: Option<String>,
    pub reason_contains: Option<String>,
    /// `implementation-defined`: the top-level dict's order is not compared.
    pub dict_order: Option<String>,
    pub save_error: Option<J>,
    /// oracle cases: the save-side object (spec/object.md).
    pub object: Option<J>,
    /// Where the expected view is the documented one, not Paddle's (spec/deviations.md).
    pub deviation: Option<J>,
    /// The case's Paddle files are byte for byte those of this case (another release wrote
    /// the same bytes: the corpus keeps them once, spec/versions.md).
    pub same_files_as: Option<String>,
    pub no_expected_reason: Option<J>,
}

/// One corpus case.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: String,
    pub kind: Kind,
    pub dir: PathBuf,
    /// What `paddle.load` is given: a file, a prefix, or the case directory.
    pub entry: PathBuf,
    pub format: CaseFormat,
    /// Spec rule ids the case exercises.
    pub rules: Vec<Rule>,
    pub tags: Vec<String>,
    /// Expected views by option-set name (`default`, `return_numpy`, `keep_name_table`).
    pub expected: Vec<(String, J)>,
    /// The top-level dict's key order is implementation-defined (prefix and directory
    /// loads): views are compared with the items sorted.
    pub unordered: bool,
    /// Whose `paddle.load` the expected views are: the writer's release (its generator
    /// loaded the files it wrote), the newest for cases without one.
    pub reader: crate::paddle::outcome::Release,
    pub meta: CaseMeta,
}

/// Reads every case under `root` (the corpus directory, holding `cases/`).
pub fn load_corpus(root: &Path) -> Result<Vec<Case>, String> {
    let cases_dir = if root.join("cases").is_dir() {
        root.join("cases")
    } else {
        root.to_path_buf()
    };
    let rd = std::fs::read_dir(&cases_dir).map_err(|e| format!("{}: {e}", cases_dir.display()))?;
    // The real-world files of packages (corpus/wild, spec/validate.md) are cases too.
    let wild = std::fs::read_dir(root.join("wild")).into_iter().flatten();
    let mut out = Vec::new();
    for e in rd.flatten().chain(wild.flatten()) {
        let dir = e.path();
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let meta: CaseMeta = serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e}", dir.join("case.json").display()))?;
        let files_dir = match &meta.same_files_as {
            Some(other) => cases_dir.join(other),
            None => dir.clone(),
        };
        let entry = match meta.entry.as_deref() {
            None | Some(".") => files_dir.clone(),
            Some(e) => files_dir.join(e),
        };
        let reader = meta
            .writer
            .paddle
            .as_deref()
            .and_then(crate::paddle::outcome::Release::parse)
            .unwrap_or_default();
        let mut expected = Vec::new();
        for (name, _) in LoadOptions::SETS {
            if let Ok(t) = std::fs::read_to_string(dir.join(format!("expected.{name}.json"))) {
                let v: J = serde_json::from_str(&t)
                    .map_err(|e| format!("{}: expected.{name}.json: {e}", dir.display()))?;
                expected.push((name.to_string(), v));
            }
        }
        out.push(Case {
            id: meta.id.clone(),
            kind: meta.kind,
            entry,
            format: meta.format,
            rules: meta.rules.clone(),
            tags: meta.tags.clone(),
            expected,
            unordered: meta.dict_order.as_deref() == Some("implementation-defined"),
            reader,
            dir,
            meta,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}
