//! `paddle.load(path)` for the FAQ's three path forms: a full file name (L-FILE), a prefix
//! of `jit.save` / `save_inference_model` files, a directory of 1.x files.

use std::path::Path;

use super::file::load_file_bytes;
use super::load::{LoadError, LoadOptions};
use super::value::Value;

/// Loads a path as `paddle.load` does (dynamic-graph mode).
pub fn load_path(path: &Path, opts: LoadOptions) -> Result<Value<'static>, LoadError> {
    if path.is_file() {
        let data = std::fs::read(path).map_err(|e| LoadError::Python {
            class: "OSError",
            message: e.to_string(),
        })?;
        return load_file_bytes(&data, opts).map(Value::into_owned);
    }
    Err(LoadError::Python {
        class: "ValueError",
        message: format!(
            "{} is not a file (prefix and directory loading: not yet)",
            path.display()
        ),
    })
}
