//! Paddle's save/load rules on top of the pickle graph: the load plan ([`plan`]: every L-
//! rule, computed once), the loaded value it gives ([`load`]), the path forms ([`file`],
//! [`path`]), the reference `paddle.save` ([`save`]) and the classifier of non-unique
//! decodings ([`classify`]), all walking the graph the one way [`walk`] does. Rule ids
//! (S-, L-, A-, W-) refer to `spec/rules.md`.

pub mod classify;
pub mod file;
pub mod load;
pub mod object;
pub mod outcome;
pub mod path;
pub mod plan;
pub mod save;
pub mod snippet;
pub mod walk;

pub use load::{load_graph, load_pickle, LoadError, LoadOptions, Loaded};
