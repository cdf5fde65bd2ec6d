//! The unpickler's memo: PUT, BINPUT, LONG_BINPUT and MEMOIZE write a slot, GET and co read
//! it; MEMOIZE writes slot `len()` (the number of filled slots, as CPython's unpickler).
//! Indices are dense in practice (MEMOIZE counts up, picklers number BINPUT from 0), so they
//! are a vector of node ids (4 bytes a slot); an index far past the filled ones (a
//! LONG_BINPUT of 2^32-1) goes to a map, so it costs one entry, not 16 GiB.

use std::collections::HashMap;

use crate::pickle::NodeId;

const EMPTY: NodeId = NodeId::MAX;
/// How far past the dense slots an index may land and still extend them.
const GAP: usize = 1024;

#[derive(Default)]
pub(crate) struct Memo {
    dense: Vec<NodeId>,
    sparse: HashMap<u64, NodeId>,
    filled: u64,
}

impl Memo {
    /// Writes slot `idx`.
    pub(crate) fn put(&mut self, idx: u64, id: NodeId) {
        let i = usize::try_from(idx).unwrap_or(usize::MAX);
        if i < self.dense.len() {
            // A slot the dense part grew over may have been written to the map before.
            let was = self.dense[i] != EMPTY || self.sparse.remove(&idx).is_some();
            self.filled += !was as u64;
            self.dense[i] = id;
        } else if i <= self.dense.len().saturating_add(GAP) {
            let was = self.sparse.remove(&idx).is_some();
            self.filled += !was as u64;
            self.dense.resize(i + 1, EMPTY);
            self.dense[i] = id;
        } else if self.sparse.insert(idx, id).is_none() {
            self.filled += 1;
        }
    }

    /// Reads slot `idx`, if it was written.
    pub(crate) fn get(&self, idx: u64) -> Option<NodeId> {
        let dense = usize::try_from(idx)
            .ok()
            .and_then(|i| self.dense.get(i))
            .filter(|&&id| id != EMPTY);
        dense.copied().or_else(|| self.sparse.get(&idx).copied())
    }

    /// The number of filled slots (where MEMOIZE writes).
    pub(crate) fn len(&self) -> u64 {
        self.filled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_sparse_and_overwrites_count_as_cpython() {
        let mut m = Memo::default();
        m.put(0, 10);
        m.put(5, 11); // a small gap: dense
        m.put(u32::MAX as u64, 12); // far: sparse
        m.put(5, 13); // overwrite: not a new slot
        assert_eq!(m.len(), 3);
        assert_eq!((m.get(0), m.get(1), m.get(5)), (Some(10), None, Some(13)));
        assert_eq!(m.get(u32::MAX as u64), Some(12));
        // MEMOIZE after BINPUT 5: slot len() = 3.
        m.put(m.len(), 14);
        assert_eq!((m.get(3), m.len()), (Some(14), 4));
        assert_eq!(m.dense.len(), 6);
        // A slot written far out, then reached by the dense part: still one slot.
        let mut m = Memo::default();
        m.put(2000, 1);
        for i in 0..2001 {
            m.put(i, 2);
        }
        assert_eq!((m.len(), m.get(2000)), (2001, Some(2)));
        assert!(m.sparse.is_empty());
    }
}
