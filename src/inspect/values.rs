//! inspect's `values` section: the entries of a pickle that are not arrays, as
//! `paddle.load(path, return_numpy=True)` gives them (epoch, a learning-rate scheduler's
//! state), each as Python's repr cut at 120 characters, at most [`MAX_VALUES`].

use super::{ValueEntry, MAX_VALUES};
use crate::paddle::plan::Form as LoadForm;
use crate::pickle::Graph;

/// The non-array entries of what `paddle.load(path, return_numpy=True)` gives (none when it
/// raises: the warnings say why).
pub(super) fn pickle_values(g: &Graph) -> Vec<ValueEntry> {
    let opts = crate::paddle::LoadOptions {
        return_numpy: true,
        ..Default::default()
    };
    let Ok(l) = crate::paddle::Loaded::borrowed(g, LoadForm::Pickle, opts) else {
        return vec![];
    };
    // The first MAX_VALUES, never every entry: a list of millions of Nones is millions of
    // entries.
    let mut out = Vec::new();
    crate::checkpoint::for_each_entry(&l, |e| {
        if let crate::checkpoint::EntryValue::Value(v) = e.value {
            out.push(ValueEntry {
                path: e.key,
                value: crate::show::repr(&v, 120),
            });
        }
        if out.len() < MAX_VALUES {
            std::ops::ControlFlow::Continue(())
        } else {
            std::ops::ControlFlow::Break(())
        }
    });
    out
}
