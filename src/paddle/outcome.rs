//! What a load is asked and how it can end: the `paddle.load` options the load view covers
//! and the errors — a Python exception Paddle raises, or pdsave refusing the input.

use crate::pickle::PickleError;
use crate::rules::PyExc;

/// `paddle.load` options covered by the load view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    pub return_numpy: bool,
    pub keep_name_table: bool,
    /// `paddle.load(path, safetensors=True)`: the file is read as safetensors
    /// (`safetensors.paddle.load_file`, or `safetensors.numpy.load_file` with `return_numpy`),
    /// rule L-SAFETENSORS; `keep_name_table` has no effect there.
    pub safetensors: bool,
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
            },
        ),
        (
            "return_numpy",
            LoadOptions {
                return_numpy: true,
                keep_name_table: false,
                safetensors: false,
            },
        ),
        (
            "keep_name_table",
            LoadOptions {
                return_numpy: false,
                keep_name_table: true,
                safetensors: false,
            },
        ),
        (
            "safetensors",
            LoadOptions {
                return_numpy: false,
                keep_name_table: false,
                safetensors: true,
            },
        ),
        (
            "safetensors_return_numpy",
            LoadOptions {
                return_numpy: true,
                keep_name_table: false,
                safetensors: true,
            },
        ),
    ];
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
