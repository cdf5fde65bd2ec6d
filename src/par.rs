//! Work over many arrays on all cores: the largest first, one shared queue, results in
//! input order. Used where each array is processed whole and sequentially (sha256 for the
//! view, summary statistics for inspect), so parallelism is across arrays.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Items smaller than this run on the calling thread before the workers start.
const PARALLEL_MIN: usize = 1 << 20;

/// `f` over `items`, in order. Items of at least 1 MiB (by `size`) are spread over up to
/// `available_parallelism()` threads (at most 8), largest first; `done(bytes)` is called
/// after each item (from any thread) for progress reporting.
pub fn map_by_size<T, R>(
    items: &[T],
    size: impl Fn(&T) -> usize + Sync,
    f: impl Fn(&T) -> R + Sync,
    done: &(dyn Fn(u64) + Sync),
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut big: Vec<usize> = (0..items.len())
        .filter(|&i| size(&items[i]) >= PARALLEL_MIN)
        .collect();
    let mut out: Vec<Option<R>> = Vec::with_capacity(items.len());
    out.resize_with(items.len(), || None);
    if threads < 2 || big.len() < 2 {
        big.clear();
    }
    let run = |i: usize| {
        let r = f(&items[i]);
        done(size(&items[i]) as u64);
        r
    };
    for (i, slot) in out.iter_mut().enumerate() {
        if big.binary_search(&i).is_err() {
            *slot = Some(run(i));
        }
    }
    if !big.is_empty() {
        big.sort_by_key(|&i| std::cmp::Reverse(size(&items[i])));
        let next = AtomicUsize::new(0);
        let work = || {
            let mut mine = Vec::new();
            while let Some(&i) = big.get(next.fetch_add(1, Ordering::Relaxed)) {
                mine.push((i, run(i)));
            }
            mine
        };
        let results: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads.min(big.len())).map(|_| s.spawn(work)).collect();
            let mut all = vec![work()];
            // A worker that panicked left its items undone: they are redone below.
            all.extend(handles.into_iter().filter_map(|h| h.join().ok()));
            all
        });
        for (i, r) in results.into_iter().flatten() {
            out[i] = Some(r);
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| f(&items[i])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_and_progress_counts_every_byte() {
        let sizes: Vec<usize> = vec![3 << 20, 10, 1 << 20, 0, 5 << 20, 7];
        let total = std::sync::atomic::AtomicU64::new(0);
        let out = map_by_size(&sizes, |&s| s, |&s| s * 2, &|b| {
            total.fetch_add(b, Ordering::Relaxed);
        });
        assert_eq!(out, sizes.iter().map(|s| s * 2).collect::<Vec<_>>());
        assert_eq!(total.into_inner(), sizes.iter().sum::<usize>() as u64);
    }
}
