//! Helpers shared by the fuzz targets (included with `#[path]`).
#![allow(dead_code)]

use pdsave::pickle::{Graph, Node, NodeId};

/// Number of nodes of `g` once shared references are expanded into a tree (what
/// `load_graph` and the view build), saturating at `cap`; cycles and nesting deeper than
/// the load depth limit count as `cap`.
pub fn expanded_size(g: &Graph, cap: u64) -> u64 {
    let mut memo: Vec<Option<u64>> = vec![None; g.nodes.len()];
    let mut on_path = vec![false; g.nodes.len()];
    go(g, g.root, cap, 0, &mut memo, &mut on_path)
}

fn go(
    g: &Graph,
    id: NodeId,
    cap: u64,
    depth: usize,
    memo: &mut [Option<u64>],
    on_path: &mut [bool],
) -> u64 {
    let i = id as usize;
    if i >= memo.len() || depth > 1000 || on_path[i] {
        return cap;
    }
    if let Some(n) = memo[i] {
        return n;
    }
    on_path[i] = true;
    let kids: Vec<NodeId> = match g.node(id) {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.clone(),
        Node::Dict(p) | Node::OrderedDict(p) => p.iter().flat_map(|&(k, v)| [k, v]).collect(),
        Node::DynTensor { name, array } => vec![*name, *array],
        Node::StaticTensor { array } => vec![*array],
        _ => vec![],
    };
    let mut n = 1u64;
    for k in kids {
        n = n
            .saturating_add(go(g, k, cap, depth + 1, memo, on_path))
            .min(cap);
    }
    on_path[i] = false;
    memo[i] = Some(n);
    n
}

/// Whether every node of `g` (reachable from the root or not: an unpickler builds them
/// all) expands to at most `max_nodes` tree nodes and at most `max_depth` levels, with no
/// cycle. Bounds what a naive consumer that copies shared values (serde-pickle) will do.
pub fn all_nodes_bounded(g: &Graph, max_nodes: u64, max_depth: usize) -> bool {
    let mut memo: Vec<Option<(u64, usize)>> = vec![None; g.nodes.len()];
    let mut on_path = vec![false; g.nodes.len()];
    (0..g.nodes.len()).all(|i| {
        matches!(bounded(g, i as NodeId, max_nodes, max_depth, 0, &mut memo, &mut on_path),
            Some((n, h)) if n <= max_nodes && h <= max_depth)
    })
}

fn bounded(
    g: &Graph,
    id: NodeId,
    max_nodes: u64,
    max_depth: usize,
    depth: usize,
    memo: &mut [Option<(u64, usize)>],
    on_path: &mut [bool],
) -> Option<(u64, usize)> {
    let i = id as usize;
    if i >= memo.len() || depth > max_depth || on_path[i] {
        return None;
    }
    if let Some(r) = memo[i] {
        return Some(r);
    }
    on_path[i] = true;
    let kids: Vec<NodeId> = match g.node(id) {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.clone(),
        Node::Dict(p) | Node::OrderedDict(p) => p.iter().flat_map(|&(k, v)| [k, v]).collect(),
        Node::DynTensor { name, array } => vec![*name, *array],
        Node::StaticTensor { array } => vec![*array],
        _ => vec![],
    };
    let (mut n, mut h) = (1u64, 0usize);
    for k in kids {
        let (kn, kh) = bounded(g, k, max_nodes, max_depth, depth + 1, memo, on_path)?;
        n = n.saturating_add(kn);
        h = h.max(kh + 1);
        if n > max_nodes || h > max_depth {
            on_path[i] = false;
            return None;
        }
    }
    on_path[i] = false;
    memo[i] = Some((n, h));
    Some((n, h))
}
