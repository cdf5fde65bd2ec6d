//! What a load is asked and how it can end: the `paddle.load` options the load view covers
//! and the errors — a Python exception Paddle raises, or pdsave refusing the input.

use crate::pickle::PickleError;
use crate::rules::PyExc;

/// `paddle.load` options covered by the load view, and the release whose rules apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    pub return_numpy: bool,
    pub keep_name_table: bool,
    /// `paddle.load(path, safetensors=True)`: the file is read as safetensors
    /// (`safetensors.paddle.load_file`, or `safetensors.numpy.load_file` with `return_numpy`),
    /// rule L-SAFETENSORS; `keep_name_table` has no effect there.
    pub safetensors: bool,
    /// Whose `paddle.load` (`--paddle`): the newest release unless asked otherwise.
    pub paddle: Release,
}

/// A Paddle release pip installs, whose `paddle.load` pdsave follows (spec/versions.md: what
/// changed in which release, measured by the cross-version matrix). Pickles load the same
/// in all of them; prefixes and 1.x directories do not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    P2_6_2,
    P3_0_0,
    P3_1_0,
    P3_1_1,
    P3_2_0,
    P3_2_1,
    P3_2_2,
    P3_3_0,
    #[default]
    P3_3_1,
}

impl Release {
    /// Every release, oldest first.
    pub const ALL: [Release; 9] = [
        Release::P2_6_2,
        Release::P3_0_0,
        Release::P3_1_0,
        Release::P3_1_1,
        Release::P3_2_0,
        Release::P3_2_1,
        Release::P3_2_2,
        Release::P3_3_0,
        Release::P3_3_1,
    ];
    pub const NEWEST: Release = Release::P3_3_1;

    /// `"3.3.1"`.
    pub fn name(self) -> &'static str {
        match self {
            Release::P2_6_2 => "2.6.2",
            Release::P3_0_0 => "3.0.0",
            Release::P3_1_0 => "3.1.0",
            Release::P3_1_1 => "3.1.1",
            Release::P3_2_0 => "3.2.0",
            Release::P3_2_1 => "3.2.1",
            Release::P3_2_2 => "3.2.2",
            Release::P3_3_0 => "3.3.0",
            Release::P3_3_1 => "3.3.1",
        }
    }

    /// A release by its version (`3.0.0`), or the newest of a series (`3`, `2.6`).
    pub fn parse(s: &str) -> Option<Release> {
        Release::ALL
            .into_iter()
            .rev()
            .find(|r| r.name() == s || r.name().starts_with(&format!("{s}.")))
    }

    /// Paddle 3 builds a `TranslatedLayer` for a legacy program in dygraph mode with its
    /// PIR APIs on, and `_append_scale_to_output` raises TypeError on the first fetch
    /// target (`scale(): argument must be Value, but got Variable`); 2.6.2 loads the
    /// program's parameters as a dict (spec/versions.md V-PROGRAM).
    pub fn translates_with_pir(self) -> bool {
        self >= Release::P3_0_0
    }
}

impl Release {
    /// Whether `paddle.framework.io_utils._reconstruct_dense_tensor_data` exists (the
    /// development branch's static-tensor form, V-NEXT): in no release yet.
    pub fn has_reconstruct_dense_tensor(self) -> bool {
        false
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl LoadOptions {
    /// The option sets the corpus records: default, return_numpy, keep_name_table,
    /// safetensors, safetensors_return_numpy.
    pub const SETS: [(&'static str, LoadOptions); 5] = [
        (
            "default",
            LoadOptions {
                return_numpy: false,
                keep_name_table: false,
                safetensors: false,
                paddle: Release::NEWEST,
            },
        ),
        (
            "return_numpy",
            LoadOptions {
                return_numpy: true,
                keep_name_table: false,
                safetensors: false,
                paddle: Release::NEWEST,
            },
        ),
        (
            "keep_name_table",
            LoadOptions {
                return_numpy: false,
                keep_name_table: true,
                safetensors: false,
                paddle: Release::NEWEST,
            },
        ),
        (
            "safetensors",
            LoadOptions {
                return_numpy: false,
                keep_name_table: false,
                safetensors: true,
                paddle: Release::NEWEST,
            },
        ),
        (
            "safetensors_return_numpy",
            LoadOptions {
                return_numpy: true,
                keep_name_table: false,
                safetensors: true,
                paddle: Release::NEWEST,
            },
        ),
    ];
}

impl LoadOptions {
    /// The option sets that apply to a pickle (or any file `paddle.load` reads without
    /// `safetensors=True`): default, return_numpy, keep_name_table.
    pub fn pickle_sets() -> impl Iterator<Item = (&'static str, LoadOptions)> {
        LoadOptions::SETS
            .into_iter()
            .filter(|(_, o)| !o.safetensors)
    }
}

/// Why a load gives no value.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LoadError {
    /// The bytes are not a pickle pdsave accepts (malformed, or unsafe).
    #[error("{0}")]
    Pickle(#[from] PickleError),
    /// pdsave refuses an input real Paddle would read laxly or not safely (a distributed
    /// checkpoint with a missing shard file, shards that overlap or leave holes, a sharded
    /// state dict naming a file outside its directory): what and where.
    #[error("{reason}")]
    Refused { path: String, reason: String },
    /// `paddle.load` itself raises this Python exception on these bytes.
    #[error("paddle.load raises {class}: {message}")]
    Python { class: PyExc, message: String },
    /// `paddle.load` kills the Python process on these files (a SIGSEGV in Paddle's C++):
    /// there is no exception to show.
    #[error("paddle.load crashes the Python process (SIGSEGV): {0}")]
    Crash(&'static str),
    /// The value has no node in the load view (e.g. a numpy dtype object).
    #[error("a {0} has no node in the load view")]
    Unrepresentable(&'static str),
    /// Shared references would expand past pdsave's budget (in nodes, each counting one
    /// more per 64 bytes of its str, bytes or array data).
    #[error("the loaded value expands to more than {0} nodes")]
    TooLarge(u64),
}

impl LoadError {
    /// What kind of failure: a Python exception `paddle.load` raises (the load view shows
    /// it), or pdsave refusing the input (no view).
    pub fn python_class(&self) -> Option<PyExc> {
        match self {
            LoadError::Python { class, .. } => Some(*class),
            _ => None,
        }
    }
}

impl From<crate::source::SourceError> for LoadError {
    /// What `paddle.load` raises where the PATH cannot be read (L-PATH).
    fn from(e: crate::source::SourceError) -> LoadError {
        use crate::source::SourceError as S;
        if let S::Outside { path, reason } | S::Index { path, reason } = &e {
            return LoadError::Refused {
                path: path.display().to_string(),
                reason: reason.clone(),
            };
        }
        let class = match &e {
            S::NotFound(_) | S::Ambiguous(_) | S::Program { .. } => PyExc::ValueError,
            S::Io { .. } => PyExc::OSError,
            S::TooMany { .. } => PyExc::RecursionError,
            S::Outside { .. } | S::Index { .. } => PyExc::ValueError,
        };
        LoadError::Python {
            class,
            message: e.to_string(),
        }
    }
}
