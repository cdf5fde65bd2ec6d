//! Regressions found by the fuzz targets (fuzz/, see fuzz/README.md), and the resource
//! bounds the fuzzers check, as documented limits: allocation proportional to the input,
//! typed errors quickly. Each crash input also lives in `corpus/cases/n_fuzz_*` when it
//! is something pdsave must reject.
//!
//! Timing assertions are generous guards against exponential or quadratic work (the real
//! times are milliseconds), not benchmarks.

use std::time::{Duration, Instant};

use pdsave::paddle::classify::classify_graph;
use pdsave::paddle::file::load_file_bytes;
use pdsave::paddle::{load_graph, load_pickle, LoadError, LoadOptions};
use pdsave::pickle::decode;
use pdsave::view::view;

const QUICK: Duration = Duration::from_secs(20);

fn quick<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() < QUICK, "{what} took {:?}", t.elapsed());
    r
}

fn corpus_input(case: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/cases")
        .join(case)
        .join("input.bin");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn too_large<T: std::fmt::Debug>(r: Result<T, LoadError>) {
    match r {
        Err(LoadError::TooLarge(_)) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

// ---- memo fan-out: shared references must not make load, view or check explode ----------

/// `levels` levels of `x = [x, x]` starting from None: 2^levels leaves in 8 bytes a level.
fn doubling_lists(levels: usize) -> Vec<u8> {
    let mut b = b"\x80\x04N".to_vec();
    for _ in 0..levels {
        b.extend_from_slice(b"q\x00(h\x00h\x00l"); // BINPUT 0; MARK; BINGET 0 twice; LIST
    }
    b.push(b'.');
    b
}

#[test]
fn forty_levels_of_shared_lists_are_too_large_for_load_and_check() {
    let b = doubling_lists(40);
    quick("load", || {
        too_large(load_pickle(&b, LoadOptions::default()));
        for (_, lo) in LoadOptions::SETS {
            assert!(view(&load_file_bytes(&b, lo)).is_err());
        }
    });
    // fuzz: classify_graph walked every one of the 2^40 paths (paddle_load target, timeout).
    let g = decode(&b).unwrap();
    let findings = quick("classify", || classify_graph(&g));
    assert!(findings.iter().any(|f| f.rule == "A-LARGE"), "{findings:?}");
}

#[test]
fn a_list_referenced_a_million_times_is_too_large() {
    // x = list(range(16)); root = [x] * 2^20 through BINGET: 2 MiB of input.
    let mut b = b"\x80\x04](".to_vec();
    for i in 0..16u8 {
        b.extend_from_slice(&[b'K', i]);
    }
    b.extend_from_slice(b"eq\x00](");
    for _ in 0..(1 << 20) {
        b.extend_from_slice(b"h\x00");
    }
    b.extend_from_slice(b"e.");
    let g = decode(&b).unwrap();
    assert_eq!(g.nodes.len(), 18);
    quick("load", || too_large(load_graph(&g, LoadOptions::default())));
    quick("classify", || classify_graph(&g));
}

#[test]
fn a_big_str_shared_half_a_million_times_is_too_large() {
    // fuzz (found while checking the fan-out bound): the view copied a 1 MiB str for each
    // of 2^19 BINGETs of a 2 MiB file (512 GiB). The budget counts data bytes too.
    let s = vec![b'a'; 1 << 20];
    for latin1 in [false, true] {
        let mut b = b"\x80\x04".to_vec();
        // BINUNICODE borrows from the input; BINSTRING (latin-1) is an owned copy.
        b.push(if latin1 { b'T' } else { b'X' });
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(&s);
        b.extend_from_slice(b"q\x00](");
        for _ in 0..(1 << 19) {
            b.extend_from_slice(b"h\x00");
        }
        b.extend_from_slice(b"e.");
        quick("view", || {
            let r = load_file_bytes(&b, LoadOptions::default());
            too_large(r);
        });
    }
}

#[test]
fn a_big_array_shared_many_times_is_too_large() {
    // The same budget for ndarray payloads (the view hashes each reference) and for a
    // dynamic tensor `(name, array)` shared many times.
    let mut arr = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01J\x00\x00\x04\x00\x85cnumpy\ndtype\nX\x02\x00\x00\x00u1\x89\x88\x87R(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89B\x00\x00\x04\x00".to_vec();
    arr.extend(std::iter::repeat_n(7u8, 1 << 18));
    arr.extend_from_slice(b"tbq\x00](");
    for _ in 0..(1 << 16) {
        arr.extend_from_slice(b"h\x00");
    }
    arr.extend_from_slice(b"e.");
    let g = decode(&arr).unwrap();
    quick("load", || too_large(load_graph(&g, LoadOptions::default())));
    // A moderate sharing of the same array still loads.
    let n = arr.len();
    let few: Vec<u8> = arr[..n - 2 - 2 * (1 << 16)]
        .iter()
        .copied()
        .chain(b"h\x00h\x00h\x00e.".iter().copied())
        .collect();
    let g = decode(&few).unwrap();
    let v = view(&load_graph(
        &g,
        LoadOptions {
            return_numpy: true,
            keep_name_table: false,
        },
    ))
    .unwrap();
    assert_eq!(v["result"]["items"].as_array().unwrap().len(), 3);
}

#[test]
fn a_self_referencing_list_is_a_recursion_error_for_load_and_check() {
    // fuzz paddle_load (timeout): x = ['shared-string', x, {'k': x}] made classify_graph
    // walk 2^1000 paths; Python's load stops at the first RecursionError, so does check.
    let b = corpus_input("n_fuzz_cyclic_list");
    let g = decode(&b).unwrap();
    let findings = quick("classify", || classify_graph(&g));
    assert!(findings.iter().any(|f| f.rule == "A-DEEP"), "{findings:?}");
    for (_, lo) in LoadOptions::SETS {
        let v = quick("view", || view(&load_file_bytes(&b, lo)).unwrap());
        assert_eq!(v["error"], "RecursionError");
    }
}

#[test]
fn finding_paths_stay_short_under_deep_nesting_with_long_keys() {
    // 900 nested dicts, each keyed by a 4 KiB str and holding a bytes value (an A-ITER
    // finding per level): without a cap, 900 paths of up to 3.6 MB each.
    let key = vec![b'k'; 4096];
    let mut b = b"\x80\x04".to_vec();
    let levels = 900;
    for _ in 0..levels {
        b.extend_from_slice(b"}(\x8c\x01bC\x00X"); // EMPTY_DICT MARK 'b' b'' then the key
        b.extend_from_slice(&(key.len() as u32).to_le_bytes());
        b.extend_from_slice(&key);
    }
    b.push(b'N');
    b.extend(std::iter::repeat_n(b'u', levels)); // SETITEMS: {'b': b'', key: inner}
    b.push(b'.');
    let g = decode(&b).unwrap();
    let findings = quick("classify", || classify_graph(&g));
    let iter = findings.iter().filter(|f| f.rule == "A-ITER").count();
    assert_eq!(iter, levels);
    assert!(findings.iter().all(|f| f.path.len() < 2048));
}

#[test]
fn nesting_a_million_deep_is_a_recursion_error_for_view_and_check() {
    let n = 1_000_000;
    let mut b = vec![0x80, 2];
    b.extend(std::iter::repeat_n(b']', n));
    b.extend(std::iter::repeat_n(b'a', n - 1));
    b.push(b'.');
    let v = quick("view", || {
        view(&load_file_bytes(&b, LoadOptions::default())).unwrap()
    });
    assert_eq!(v["error"], "RecursionError");
    let g = decode(&b).unwrap();
    let findings = quick("classify", || classify_graph(&g));
    assert!(findings.iter().any(|f| f.rule == "A-DEEP"));
}
