//! Paddle's save/load rules on top of the pickle graph: the load plan ([`plan`]: every L-
//! rule, computed once), the loaded value it gives ([`load`]), the path forms ([`file`],
//! [`path`]), the reference `paddle.save` ([`save`]) and the classifier of non-unique
//! decodings ([`classify`]), all walking the graph the one way [`walk`] does. The
//! checkpoints of large models: distributed checkpoints ([`checkpoint`]), sharded state
//! dicts ([`index`]) and `paddle.load(..., safetensors=True)` ([`safetensors`]), each a
//! state dict of [`values`] loaded by the same plan. Rule ids
//! (S-, L-, A-, W-) refer to `spec/rules.md`.

pub mod checkpoint;
pub mod classify;
pub mod file;
pub mod index;
pub mod load;
pub mod object;
pub mod outcome;
pub mod path;
pub mod plan;
pub mod safetensors;
pub mod save;
pub mod snippet;
pub mod values;
pub mod walk;

pub use load::{load_graph, load_pickle, LoadError, LoadOptions, Loaded};
