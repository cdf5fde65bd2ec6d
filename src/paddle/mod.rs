//! Paddle's save/load rules on top of the pickle graph: the reference `paddle.load`
//! ([`load`]), the reference `paddle.save` ([`save`]) and the classifier of non-unique
//! decodings ([`classify`]). Rule ids (S-, L-, A-, W-) refer to `spec/rules.md`.

pub mod classify;
pub mod file;
pub mod load;
pub mod object;
pub mod path;
pub mod save;
pub mod snippet;
pub mod value;

pub use load::{load_graph, load_pickle, LoadError, LoadOptions};
pub use value::{ArrayView, Value};
