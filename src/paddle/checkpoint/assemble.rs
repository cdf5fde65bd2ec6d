//! Placing a checkpoint's pieces in a tensor at its global shape (rule K-PIECES): each
//! piece is the elements `[start, stop)`, in C order, of a block (`local_shape` at
//! `global_offset`); an unflattened piece is its whole block. Coverage is decided on the
//! pieces' geometry alone (no payload is read): pieces that overlap, run past the tensor
//! or leave a hole are named.

/// Where one piece goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub offset: Vec<u64>,
    pub block: Vec<u64>,
    /// Elements of the block, C order: `[start, stop)`.
    pub range: (u64, u64),
}

impl Piece {
    /// How many elements the piece holds.
    pub fn len(&self) -> u64 {
        self.range.1 - self.range.0
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether the piece is its whole block.
    pub fn whole_block(&self) -> bool {
        self.range == (0, numel(&self.block))
    }
}

/// Elements of a shape (1 for a 0-d tensor), saturating.
pub fn numel(shape: &[u64]) -> u64 {
    shape.iter().fold(1u64, |a, &b| a.saturating_mul(b))
}

/// Why pieces do not make a tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cover {
    /// Piece `i` reaches past the tensor's shape, or its range past its block.
    OutOfBounds(usize),
    /// Pieces `i` and `j` share elements.
    Overlap(usize, usize),
    /// This many elements are in no piece.
    Hole(u64),
}

fn boxes_meet(a: &Piece, b: &Piece) -> bool {
    a.offset
        .iter()
        .zip(&a.block)
        .zip(b.offset.iter().zip(&b.block))
        .all(|((&ao, &al), (&bo, &bl))| ao < bo + bl && bo < ao + al)
}

/// Checks that the pieces tile `shape` exactly.
pub fn coverage(shape: &[u64], pieces: &[&Piece]) -> Result<(), Cover> {
    for (i, p) in pieces.iter().enumerate() {
        let fits = p.offset.len() == shape.len()
            && p.block.len() == shape.len()
            && p.offset
                .iter()
                .zip(&p.block)
                .zip(shape)
                .all(|((&o, &l), &s)| o.checked_add(l).is_some_and(|e| e <= s))
            && p.range.0 <= p.range.1
            && p.range.1 <= numel(&p.block);
        if !fits {
            return Err(Cover::OutOfBounds(i));
        }
    }
    for i in 0..pieces.len() {
        for j in i + 1..pieces.len() {
            let (a, b) = (pieces[i], pieces[j]);
            if a.is_empty() || b.is_empty() || !boxes_meet(a, b) {
                continue;
            }
            let same_block = a.offset == b.offset && a.block == b.block;
            if !same_block || (a.range.0 < b.range.1 && b.range.0 < a.range.1) {
                return Err(Cover::Overlap(i, j));
            }
        }
    }
    let covered: u64 = pieces.iter().map(|p| p.len()).sum();
    let total = numel(shape);
    if covered < total {
        return Err(Cover::Hole(total - covered));
    }
    Ok(())
}

/// Where a piece starts in the tensor's C order, when its elements are one run of it: its
/// block spans whole rows of every dimension after the first one it splits (and is one
/// wide before it), so any range of the block is contiguous in the tensor.
pub fn contiguous_start(shape: &[u64], p: &Piece) -> Option<u64> {
    let nd = shape.len();
    let k = (0..nd).find(|&d| p.block[d] != 1).unwrap_or(nd);
    if (k + 1..nd).any(|d| p.block[d] != shape[d] || p.offset[d] != 0) {
        return None;
    }
    let at = shape
        .iter()
        .zip(&p.offset)
        .fold(0u64, |at, (&s, &o)| at * s + o);
    Some(at + p.range.0)
}

/// Copies a piece's elements (`src`: C order, little-endian, `item` bytes each) into `dst`,
/// the whole tensor of `shape` in C order. The caller checked [`coverage`] and the lengths.
pub fn place(dst: &mut [u8], shape: &[u64], item: usize, p: &Piece, src: &[u8]) {
    let nd = shape.len();
    let last = p.block.last().copied().unwrap_or(1).max(1);
    let mut j = p.range.0;
    while j < p.range.1 {
        // The element's index in the block, then in the tensor.
        let mut rem = j;
        let mut idx = vec![0u64; nd];
        for d in (0..nd).rev() {
            let l = p.block[d].max(1);
            idx[d] = rem % l;
            rem /= l;
        }
        let in_row = if nd == 0 { 1 } else { last - idx[nd - 1] };
        let run = in_row.min(p.range.1 - j);
        let mut at = 0u64;
        for d in 0..nd {
            at = at * shape[d] + p.offset[d] + idx[d];
        }
        let (s, t) = (((j - p.range.0) as usize) * item, (at as usize) * item);
        let n = run as usize * item;
        if let (Some(from), Some(to)) = (src.get(s..s + n), dst.get_mut(t..t + n)) {
            to.copy_from_slice(from);
        }
        j += run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(offset: &[u64], block: &[u64], range: (u64, u64)) -> Piece {
        Piece {
            offset: offset.to_vec(),
            block: block.to_vec(),
            range,
        }
    }

    #[test]
    fn rows_columns_and_flat_ranges_tile_a_tensor() {
        // [2, 3]: rows, then columns, then a flat split 0..4 / 4..6 of the whole block.
        let full: Vec<u8> = (0..6).collect();
        let rows = [
            piece(&[0, 0], &[1, 3], (0, 3)),
            piece(&[1, 0], &[1, 3], (0, 3)),
        ];
        let cols = [
            piece(&[0, 0], &[2, 2], (0, 4)),
            piece(&[0, 2], &[2, 1], (0, 2)),
        ];
        let flat = [
            piece(&[0, 0], &[2, 3], (0, 4)),
            piece(&[0, 0], &[2, 3], (4, 6)),
        ];
        let srcs: [[Vec<u8>; 2]; 3] = [
            [vec![0, 1, 2], vec![3, 4, 5]],
            [vec![0, 1, 3, 4], vec![2, 5]],
            [vec![0, 1, 2, 3], vec![4, 5]],
        ];
        for (ps, src) in [rows, cols, flat].iter().zip(&srcs) {
            assert_eq!(coverage(&[2, 3], &ps.iter().collect::<Vec<_>>()), Ok(()));
            let mut out = vec![9u8; 6];
            for (p, s) in ps.iter().zip(src) {
                place(&mut out, &[2, 3], 1, p, s);
            }
            assert_eq!(out, full);
        }
    }

    #[test]
    fn row_pieces_and_flat_ranges_are_runs_of_the_tensor() {
        let shape = [4, 3];
        assert_eq!(
            contiguous_start(&shape, &piece(&[2, 0], &[2, 3], (0, 6))),
            Some(6)
        );
        assert_eq!(
            contiguous_start(&shape, &piece(&[0, 0], &[4, 3], (5, 12))),
            Some(5)
        );
        // Part of one row is a run too; two rows of two columns are not.
        assert_eq!(
            contiguous_start(&shape, &piece(&[3, 1], &[1, 2], (0, 2))),
            Some(10)
        );
        assert_eq!(
            contiguous_start(&shape, &piece(&[1, 1], &[2, 2], (0, 4))),
            None
        );
        assert_eq!(
            contiguous_start(&shape, &piece(&[0, 1], &[4, 2], (0, 8))),
            None
        );
        assert_eq!(contiguous_start(&[], &piece(&[], &[], (0, 1))), Some(0));
    }

    #[test]
    fn overlaps_holes_and_strays_are_named() {
        let a = piece(&[0, 0], &[2, 3], (0, 4));
        let b = piece(&[0, 0], &[2, 3], (3, 6));
        assert_eq!(coverage(&[2, 3], &[&a, &b]), Err(Cover::Overlap(0, 1)));
        let c = piece(&[0, 0], &[1, 3], (0, 3));
        assert_eq!(coverage(&[2, 3], &[&c]), Err(Cover::Hole(3)));
        let d = piece(&[1, 1], &[1, 3], (0, 3));
        assert_eq!(coverage(&[2, 3], &[&c, &d]), Err(Cover::OutOfBounds(1)));
        // A 0-d tensor is one element.
        let s = piece(&[], &[], (0, 1));
        assert_eq!(coverage(&[], &[&s]), Ok(()));
        let mut out = vec![0u8; 4];
        place(&mut out, &[], 4, &s, &[1, 2, 3, 4]);
        assert_eq!(out, [1, 2, 3, 4]);
    }
}
