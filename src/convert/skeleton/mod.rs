//! A pickle graph split into its arrays and a JSON skeleton of everything else
//! ([`extract`]): the arrays get safetensors names (state-dict keys, dotted paths below the
//! top level), the skeleton keeps every other node, with each array's payload replaced by
//! a reference to its tensor. [`rebuild`] turns a skeleton and the tensors back into the
//! same graph, which `pickle::encode` writes as the same bytes.

mod extract;
mod rebuild;

use std::collections::HashMap;

use serde_json::{Map, Value as J};

pub use extract::extract;
pub use rebuild::{c_to_fortran, rebuild, Stored};

use super::{NamedArray, SKELETON_KEY, TABLE_KEY};
use crate::numpy::Flavour;

/// Skeleton format version.
pub const VERSION: u64 = 1;

/// A pickle's arrays, names and skeleton.
#[derive(Debug)]
pub struct Extracted<'g> {
    /// In naming order (the pickle's order); aliases (the same array reached again by
    /// another path) come as arrays of their own that share the data.
    pub arrays: Vec<NamedArray<'g>>,
    pub skeleton: J,
    /// Tensor name → Paddle parameter name (the name table, and dynamic tensors' names).
    pub table: Vec<(String, String)>,
    /// Paths of the entries that hold no array.
    pub non_tensor: Vec<String>,
}

impl Extracted<'_> {
    /// The safetensors `__metadata__`.
    pub fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        m.insert(SKELETON_KEY.to_string(), self.skeleton.to_string());
        if !self.table.is_empty() {
            let t: Map<String, J> = self
                .table
                .iter()
                .map(|(k, v)| (k.clone(), J::String(v.clone())))
                .collect();
            m.insert(TABLE_KEY.to_string(), J::Object(t).to_string());
        }
        m
    }
}

fn s(v: Option<&J>) -> Result<&str, String> {
    v.and_then(J::as_str)
        .ok_or_else(|| "expected a string".to_string())
}

fn flavour_from(s: &str) -> Option<Flavour> {
    match s {
        "numpy1" => Some(Flavour::Numpy1),
        "numpy2" => Some(Flavour::Numpy2),
        "numpy1.16.0" => Some(Flavour::Numpy1160),
        _ => None,
    }
}
