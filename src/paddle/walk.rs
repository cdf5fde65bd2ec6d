//! The one traversal of a pickle graph that every consumer uses (the load plan, the view,
//! `check`'s classifier, `inspect`, `convert`): depth first, in the order Python iterates
//! the loaded object (a dict's key before its value, items in order), with an explicit
//! [`Policy`] — revisit shared nodes under each path that reaches them (as the loaded
//! Python value repeats them) or walk each once, a depth limit, a budget — and the path
//! from the root kept for the visitor ([`Walk::path`]). Iterative: no native recursion.

use crate::pickle::{Graph, Node, NodeId};

/// Whether a node reached again is walked again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revisit {
    /// Under every path (the loaded value repeats shared objects); cycles are bounded by the
    /// depth limit and the budget.
    Always,
    /// Under every path, except inside itself (a cycle is not followed).
    Acyclic,
    /// Once: a node already walked is skipped.
    Never,
}

/// How a walk goes.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub revisit: Revisit,
    /// Deepest level entered (the root is 0); a node deeper stops the walk with
    /// [`Stop::TooDeep`].
    pub max_depth: usize,
    /// Cost units the walk may spend ([`cost`] per node entered); past it, [`Stop::Budget`].
    pub budget: Option<u64>,
}

/// Deepest nesting followed before Paddle's recursive walks would raise RecursionError
/// (rule L-DEPTH).
pub const MAX_DEPTH: usize = 1000;

/// Bytes of data that count as one more unit of cost.
pub const BYTES_PER_UNIT: u64 = 64;

/// What entering a node once costs: one, plus one per 64 bytes of the data it holds (the
/// view copies strs and bytes and hashes arrays each time a shared node is reached).
pub fn cost(n: &Node) -> u64 {
    let len = match n {
        Node::Str(s) => s.len(),
        Node::WStr(b) => b.len(),
        Node::Bytes(b) | Node::ByteArray(b) => b.len(),
        Node::NdArray(a) => a.data.len(),
        Node::NpScalar(s) => s.data.len(),
        _ => 0,
    };
    1 + len as u64 / BYTES_PER_UNIT
}

/// How many children a node refers to (the references [`child_at`] yields).
fn references(n: &Node) -> u64 {
    let k = match n {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.len(),
        Node::Dict(p) | Node::OrderedDict(p) => 2 * p.len(),
        Node::DynTensor { .. } => 2,
        Node::StaticTensor { .. } | Node::NdArray(_) | Node::NpScalar(_) => 1,
        _ => 0,
    };
    k as u64
}

/// The budget of a walk over the whole loaded value (P-LIMIT): eight times the graph's own
/// cost (each node and its data counted once, and each reference to a child, as the file
/// spells each out) plus a million. Shared references (the memo) may repeat a value, but
/// not blow a small file up into gigabytes of view; a list of four million `None`s (one
/// node, Python's singleton, referenced four million times) is no blow-up.
pub fn value_budget(g: &Graph) -> u64 {
    let own: u64 = g.nodes.iter().map(|n| cost(n) + references(n)).sum();
    own.saturating_mul(8).saturating_add(1_000_000)
}

impl Policy {
    /// The loaded value as Python holds it: every path, [`MAX_DEPTH`], [`value_budget`].
    pub fn value(g: &Graph) -> Policy {
        Policy {
            revisit: Revisit::Always,
            max_depth: MAX_DEPTH,
            budget: Some(value_budget(g)),
        }
    }
    /// Each node once (a listing of what the file stores), [`MAX_DEPTH`], no budget.
    pub fn once() -> Policy {
        Policy {
            revisit: Revisit::Never,
            max_depth: MAX_DEPTH,
            budget: None,
        }
    }
}

/// How a node was reached from its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The root.
    Root,
    /// The value under the key node `key` (a dict's `index`-th item).
    Value {
        key: NodeId,
        index: usize,
    },
    /// The key node itself of a dict's `index`-th item.
    Key {
        index: usize,
    },
    /// The `index`-th item of a list, tuple, set or frozenset.
    Item(usize),
    /// A dynamic tensor's name or array, a static tensor's array.
    TensorName,
    TensorArray,
    /// An ndarray's or numpy scalar's dtype object.
    Dtype,
}

/// Why a walk stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A node deeper than the policy's limit (at `depth`).
    TooDeep { depth: usize },
    /// The budget was spent.
    Budget { budget: u64 },
}

/// What the visitor answers for a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Walk its children.
    Descend,
    /// Do not walk its children.
    Skip,
}

/// One node as the walk meets it.
#[derive(Clone, Copy, Debug)]
pub struct At {
    pub id: NodeId,
    pub depth: usize,
    pub step: Step,
}

/// A walk in progress: the visitor sees the path from the root to the node's parent.
pub struct Walk<'w, 'g> {
    g: &'w Graph<'g>,
    /// (node, how it was reached) from the root down to the node being visited.
    path: Vec<(NodeId, Step)>,
}

impl<'g> Walk<'_, 'g> {
    /// The nodes from the root to the node being visited (inclusive), with how each was
    /// reached.
    pub fn path(&self) -> &[(NodeId, Step)] {
        &self.path
    }
    pub fn graph(&self) -> &Graph<'g> {
        self.g
    }
}

/// The children of a node with how each is reached, in Python's iteration order.
pub fn children(n: &Node) -> Vec<(NodeId, Step)> {
    match n {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| (x, Step::Item(i)))
            .collect(),
        Node::Dict(p) | Node::OrderedDict(p) => p
            .iter()
            .enumerate()
            .flat_map(|(index, &(k, v))| {
                [(k, Step::Key { index }), (v, Step::Value { key: k, index })]
            })
            .collect(),
        Node::DynTensor { name, array } => {
            vec![(*name, Step::TensorName), (*array, Step::TensorArray)]
        }
        Node::StaticTensor { array } => vec![(*array, Step::TensorArray)],
        Node::NdArray(a) => vec![(a.dtype, Step::Dtype)],
        Node::NpScalar(s) => vec![(s.dtype, Step::Dtype)],
        _ => vec![],
    }
}

/// The `i`-th child of a node ([`children`]' order), computed on demand: a walk keeps one
/// index per level, not a list of every child (a list of four million items would cost
/// 128 MB of pending children otherwise).
pub fn child_at(n: &Node, i: usize) -> Option<(NodeId, Step)> {
    match n {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
            v.get(i).map(|&x| (x, Step::Item(i)))
        }
        Node::Dict(p) | Node::OrderedDict(p) => {
            let index = i / 2;
            let &(k, v) = p.get(index)?;
            Some(if i.is_multiple_of(2) {
                (k, Step::Key { index })
            } else {
                (v, Step::Value { key: k, index })
            })
        }
        Node::DynTensor { name, array } => match i {
            0 => Some((*name, Step::TensorName)),
            1 => Some((*array, Step::TensorArray)),
            _ => None,
        },
        Node::StaticTensor { array } => (i == 0).then_some((*array, Step::TensorArray)),
        Node::NdArray(a) => (i == 0).then_some((a.dtype, Step::Dtype)),
        Node::NpScalar(s) => (i == 0).then_some((s.dtype, Step::Dtype)),
        _ => None,
    }
}

/// Walks from `root` (reached by `step`), calling `visit` on each node entered; returns why
/// it stopped early, if it did. The node the visitor sees is the last of [`Walk::path`].
pub fn walk<'g>(
    g: &Graph<'g>,
    root: NodeId,
    policy: Policy,
    mut visit: impl FnMut(&Walk<'_, 'g>, At) -> Flow,
) -> Result<(), Stop> {
    let mut w = Walk { g, path: vec![] };
    let mut left = policy.budget;
    let mut seen = match policy.revisit {
        Revisit::Never => vec![false; g.nodes.len()],
        _ => vec![],
    };
    // Each frame: a node entered and the index of its next child.
    let mut frames: Vec<(NodeId, usize)> = Vec::new();
    let mut next = Some((root, Step::Root));
    loop {
        if let Some((id, step)) = next.take() {
            let depth = frames.len();
            let skip = match policy.revisit {
                Revisit::Never => std::mem::replace(&mut seen[id as usize], true),
                Revisit::Acyclic => w.path.iter().any(|&(p, _)| p == id),
                Revisit::Always => false,
            };
            if !skip {
                if depth > policy.max_depth {
                    return Err(Stop::TooDeep { depth });
                }
                if let Some(l) = left.as_mut() {
                    let c = cost(g.node(id));
                    if *l < c {
                        return Err(Stop::Budget {
                            budget: policy.budget.unwrap_or(0),
                        });
                    }
                    *l -= c;
                }
                w.path.push((id, step));
                if visit(&w, At { id, depth, step }) == Flow::Descend {
                    frames.push((id, 0));
                } else {
                    w.path.pop();
                }
            }
        }
        let Some(top) = frames.last_mut() else {
            return Ok(());
        };
        match child_at(g.node(top.0), top.1) {
            Some(child) => {
                top.1 += 1;
                next = Some(child)
            }
            None => {
                frames.pop();
                w.path.pop();
            }
        }
    }
}

/// Longest path kept in a Python-like path; deeper paths end in `…` (bounds memory on
/// deep nesting).
pub const MAX_PATH: usize = 256;

/// A dict key as a Python-like path component: `"w"` (repr of a str, cut at [`MAX_PATH`]
/// bytes), `3`, or `<type>`.
pub fn key_text(g: &Graph, k: NodeId) -> String {
    match g.node(k) {
        Node::Str(s) if s.len() > MAX_PATH => {
            let cut = (0..=MAX_PATH)
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(0);
            format!("{:?}…", &s[..cut])
        }
        Node::Str(s) => format!("{s:?}"),
        Node::Int(i) => i.to_string(),
        other => format!("<{}>", other.type_name()),
    }
}

/// The Python-like path of the node a walk is at: `obj["w"][0]`, cut with `…` past
/// [`MAX_PATH`] bytes. A key itself is shown as its dict's path with `.keys()[i]`; a tensor's
/// array as the tensor's path.
pub fn python_path(g: &Graph, path: &[(NodeId, Step)]) -> String {
    let mut s = String::from("obj");
    for &(_, step) in path {
        if s.len() >= MAX_PATH {
            s.push('…');
            break;
        }
        match step {
            Step::Root | Step::TensorName | Step::TensorArray | Step::Dtype => {}
            Step::Value { key, .. } => {
                s.push('[');
                s.push_str(&key_text(g, key));
                s.push(']');
            }
            Step::Key { index } => s.push_str(&format!(".keys()[{index}]")),
            Step::Item(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A dict key as a dotted-name component (`convert`'s tensor names): the str itself, an
/// int, `True`/`False`/`None`, else the item's index.
pub fn key_component(g: &Graph, k: NodeId, index: usize) -> String {
    match g.node(k) {
        Node::Str(s) => s.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Bool(b) => if *b { "True" } else { "False" }.into(),
        Node::None => "None".into(),
        _ => index.to_string(),
    }
}

/// The dotted name of the node a walk is at (`layer.0.weight`; the root is `""`).
pub fn dotted_path(g: &Graph, path: &[(NodeId, Step)]) -> String {
    let mut s = String::new();
    for &(_, step) in path {
        let c = match step {
            Step::Value { key, index } => key_component(g, key, index),
            Step::Item(i) => i.to_string(),
            Step::Key { index } => format!("key{index}"),
            _ => continue,
        };
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::decode;

    #[test]
    fn walks_in_python_order_with_paths_and_limits() {
        // pickle.dumps({'a': [1, 2], 'b': 3}, protocol=2)
        let b = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02eX\x01\x00\x00\x00bq\x03K\x03u.";
        let g = decode(b).unwrap();
        let mut seen = vec![];
        walk(&g, g.root, Policy::once(), |w, at| {
            seen.push((python_path(&g, w.path()), at.depth));
            Flow::Descend
        })
        .unwrap();
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "obj",
                "obj.keys()[0]",
                "obj[\"a\"]",
                "obj[\"a\"][0]",
                "obj[\"a\"][1]",
                "obj.keys()[1]",
                "obj[\"b\"]"
            ]
        );
        let deep = Policy {
            max_depth: 1,
            ..Policy::once()
        };
        let r = walk(&g, g.root, deep, |_, _| Flow::Descend);
        assert_eq!(r, Err(Stop::TooDeep { depth: 2 }));
        let tight = Policy {
            budget: Some(3),
            ..Policy::once()
        };
        assert_eq!(
            walk(&g, g.root, tight, |_, _| Flow::Descend),
            Err(Stop::Budget { budget: 3 })
        );
    }
}
