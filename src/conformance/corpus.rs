//! The conformance corpus on disk: `corpus/cases/<id>/case.json` with the files real Paddle
//! wrote and `expected.<option set>.json` views. Kinds, named as in JSONTestSuite: `y_` must
//! load to the expected view, `n_` must be rejected, `i_` are non-unique or
//! implementation-defined cases (expected: what real Paddle gives), see corpus/README.md.

use std::path::{Path, PathBuf};

use serde_json::Value as J;

/// What a case expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Y,
    N,
    I,
}

/// One corpus case.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: String,
    pub kind: Kind,
    pub dir: PathBuf,
    /// What `paddle.load` is given: a file, a prefix, or the case directory.
    pub entry: PathBuf,
    pub format: String,
    /// Spec rule ids the case exercises.
    pub rules: Vec<String>,
    pub tags: Vec<String>,
    /// Expected views by option-set name (`default`, `return_numpy`, `keep_name_table`).
    pub expected: Vec<(String, J)>,
    /// The top-level dict's key order is implementation-defined (prefix and directory
    /// loads): views are compared with the items sorted.
    pub unordered: bool,
    pub meta: J,
}

/// Reads every case under `root` (the corpus directory, holding `cases/`).
pub fn load_corpus(root: &Path) -> Result<Vec<Case>, String> {
    let cases_dir = if root.join("cases").is_dir() {
        root.join("cases")
    } else {
        root.to_path_buf()
    };
    let rd = std::fs::read_dir(&cases_dir).map_err(|e| format!("{}: {e}", cases_dir.display()))?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let dir = e.path();
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let meta: J = serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e}", dir.join("case.json").display()))?;
        let id = meta["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.file_name().to_string_lossy().into_owned());
        let kind = match id.as_bytes().first() {
            Some(b'n') => Kind::N,
            Some(b'i') => Kind::I,
            _ => Kind::Y,
        };
        let entry_name = meta["entry"].as_str().unwrap_or(".");
        let entry = if entry_name == "." {
            dir.clone()
        } else {
            dir.join(entry_name)
        };
        let strs = |k: &str| -> Vec<String> {
            meta[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut expected = Vec::new();
        for name in ["default", "return_numpy", "keep_name_table"] {
            if let Ok(t) = std::fs::read_to_string(dir.join(format!("expected.{name}.json"))) {
                let v: J = serde_json::from_str(&t)
                    .map_err(|e| format!("{}: expected.{name}.json: {e}", dir.display()))?;
                expected.push((name.to_string(), v));
            }
        }
        out.push(Case {
            id,
            kind,
            entry,
            format: meta["format"].as_str().unwrap_or("").to_string(),
            rules: strs("rules"),
            tags: strs("tags"),
            expected,
            unordered: meta["dict_order"] == "implementation-defined",
            dir,
            meta,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}
