//! Regressions found by the fuzz targets (fuzz/, see fuzz/README.md), and the resource
//! bounds the fuzzers check, as documented limits: allocation proportional to the input,
//! typed errors quickly. Each crash input also lives in `corpus/cases/n_fuzz_*` when it
//! is something pdsave must reject.
//!
//! No timing is asserted (speed belongs in benchmarks): the bounds are that each input
//! ends in a typed error, which an exponential expansion or an unbounded allocation would
//! never reach within the test's run.

use pdsave::dtype::DType;
use pdsave::paddle::classify::classify_graph;
use pdsave::paddle::file::load_file_bytes;
use pdsave::paddle::object::{Obj, ObjGraph, Tensor, TensorKind};
use pdsave::paddle::save::{save, SaveOptions, Saved};
use pdsave::paddle::{load_graph, load_pickle, LoadError, LoadOptions};
use pdsave::pickle::{decode, encode, EncodeOptions, Node, PickleError, PyInt};
use pdsave::program::{parse_program_desc, summarize_program};
use pdsave::rules::Rule;
use pdsave::tensor_stream::{
    decode_combined, decode_dense_tensor, decode_selected_rows, TensorStreamError as E,
};
use pdsave::view::view;

/// Runs one bounded step (named for failure messages).
fn quick<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let _ = what;
    f()
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
    assert!(
        findings.iter().any(|f| f.rule == Rule::ALarge),
        "{findings:?}"
    );
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
fn a_list_of_a_million_and_a_half_nones_is_no_blow_up() {
    // None is one node (Python's singleton) referenced from every item: the budget counts
    // the file's references too, so the list is viewed (paddle.load returns it) and check
    // has no A-LARGE. (Counting nodes only, 2 nodes gave a budget of 1,000,016.)
    let n = 1_500_000;
    let mut b = b"\x80\x04]\x94".to_vec();
    for _ in 0..n / 1000 {
        b.push(b'(');
        b.extend(std::iter::repeat_n(b'N', 1000));
        b.push(b'e');
    }
    b.push(b'.');
    let g = decode(&b).unwrap();
    assert_eq!(g.nodes.len(), 2);
    let v = view(&load_file_bytes(&b, LoadOptions::default())).unwrap();
    let items = v["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), n);
    assert!(items.iter().all(|x| x["t"] == "none"), "{}", items[0]);
    let findings = classify_graph(&g);
    assert!(
        findings.iter().all(|f| f.rule != Rule::ALarge),
        "{findings:?}"
    );
    // inspect lists the first values only, without making an entry for each item first
    // (it held 143 bytes an item: 573 MiB for 4 million).
    let src = pdsave::source::Source::from_bytes("nones.pkl", b.clone());
    let r = pdsave::inspect::inspect_source(&src, Default::default(), &|_| {}).unwrap();
    assert_eq!(r.values.len(), pdsave::inspect::MAX_VALUES);
    assert_eq!(
        (r.values[199].path.as_str(), r.values[199].value.as_str()),
        ("199", "None")
    );
}

#[test]
fn a_key_of_shared_tuples_is_a_limit_not_an_exponential_hash() {
    // fuzz (paddle_load, OOM: 3 GB and 7 s from 1149 bytes): DUP and TUPLE2 double a tuple
    // at two bytes a level, and hashing it as a key followed every path. CPython hashes
    // every path too (it hangs); pdsave's key budget refuses it (P-LIMIT).
    let mut key = b"N".to_vec();
    for _ in 0..40 {
        key.extend_from_slice(b"2\x86"); // DUP; TUPLE2: (x, x)
    }
    let b = [&b"\x80\x04}"[..], &key, b"Ns."].concat();
    let t = std::time::Instant::now();
    let e = decode(&b).unwrap_err();
    assert!(
        matches!(e, PickleError::Limit { offset: 85, limit, .. } if limit == 1_000_000 + 16 * 87),
        "{e:?}"
    );
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    // As a set item too (FROZENSET of it).
    let b = [&b"\x80\x04("[..], &key, b"\x91."].concat();
    assert!(matches!(decode(&b), Err(PickleError::Limit { .. })));
    // SETITEM on a tuple fails before hashing the key, as CPython's does (TypeError: 'tuple'
    // object does not support item assignment): the fuzz input itself.
    let b = [&b"\x80\x04)"[..], &key, b"Ns."].concat();
    assert!(matches!(
        decode(&b),
        Err(PickleError::BadType {
            opcode: "SETITEM",
            expected: "dict",
            found: "tuple",
            ..
        })
    ));
    let art = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/paddle_load_fuzz_shared_tuple_key.pkl"),
    )
    .unwrap();
    assert!(matches!(
        decode(&art),
        Err(PickleError::BadType { offset: 626, .. })
    ));
    for (_, lo) in LoadOptions::SETS {
        let _ = view(&load_file_bytes(&art, lo));
    }
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
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(v["result"]["items"].as_array().unwrap().len(), 3);
}

#[test]
fn a_self_referencing_list_is_a_recursion_error_for_load_and_check() {
    // fuzz paddle_load (timeout): x = ['shared-string', x, {'k': x}] made classify_graph
    // walk 2^1000 paths; Python's load stops at the first RecursionError, so does check.
    // The corpus file opens its second FRAME inside the first (refused since P-FRAME is
    // enforced, as pickle.py does); the same pickle without its FRAME opcodes decodes.
    let framed = corpus_input("n_fuzz_cyclic_list");
    assert!(matches!(
        decode(&framed),
        Err(pdsave::pickle::PickleError::Frame { offset: 15, .. })
    ));
    let b = [&framed[..2], &framed[11..15], &framed[24..]].concat();
    let g = decode(&b).unwrap();
    let findings = quick("classify", || classify_graph(&g));
    assert!(
        findings.iter().any(|f| f.rule == Rule::ADeep),
        "{findings:?}"
    );
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
    let iter = findings.iter().filter(|f| f.rule == Rule::AIter).count();
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
    assert!(findings.iter().any(|f| f.rule == Rule::ADeep));
}

// ---- dict keys: Python equality of the objects the decoder builds --------------------------

/// The root dict's length and first value (an int) after decoding; and re-encoding is a
/// fixed point (`encode(decode(encode(g))) == encode(g)`).
fn root_dict_len_and_reencode(b: &[u8]) -> (usize, Option<i64>) {
    let g = decode(b).unwrap();
    let e2 = encode(&g, &EncodeOptions::like(&g)).unwrap();
    let g2 = decode(&e2).unwrap();
    let e3 = encode(&g2, &EncodeOptions::like(&g2)).unwrap();
    assert!(e2 == e3, "re-encoding is not a fixed point");
    match g.node(g.root) {
        Node::Dict(items) => (
            items.len(),
            match g.node(items[0].1) {
                Node::Int(PyInt::Small(v)) => Some(*v),
                _ => None,
            },
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_same_global_twice_is_one_dict_key() {
    // fuzz reencode_identity: two GLOBAL opcodes naming builtins.eval (one spelled
    // __builtin__, which Python 3 maps to builtins) are one object, so one dict key, as
    // in CPython ({eval: 1}). pdsave kept two keys; the encoder then shared the global
    // and the re-decoded dict lost an item, so re-encoding was not a fixed point.
    // Since a global held as a value is refused (P-SHAPE: eval pushed, never called), the
    // dict is refused; equal globals are still one key while it is built (the error comes at
    // STOP, about the one key left).
    let b = b"\x80\x02}(cbuiltins\neval\nNc__builtin__\neval\nK\x01u.";
    match decode(b) {
        Err(pdsave::pickle::PickleError::BadCall {
            name: "eval",
            offset: 41,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn equal_dtypes_are_one_dict_key() {
    // np.dtype('<f4') and np.dtype('=f4') are equal and hash alike: one key.
    let dtype = |order: u8| {
        let mut d =
            b"cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R(K\x03X\x01\x00\x00\x00".to_vec();
        d.push(order);
        d.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb");
        d
    };
    let mut b = b"\x80\x02}(".to_vec();
    b.extend(dtype(b'<'));
    b.push(b'N');
    b.extend(dtype(b'='));
    b.extend_from_slice(b"K\x01u.");
    assert_eq!(root_dict_len_and_reencode(&b), (1, Some(1)));
    // A big-endian dtype is another key.
    let mut b = b"\x80\x02}(".to_vec();
    b.extend(dtype(b'<'));
    b.push(b'N');
    b.extend(dtype(b'>'));
    b.extend_from_slice(b"K\x01u.");
    assert_eq!(root_dict_len_and_reencode(&b).0, 2);
}

// ---- paddle.save: its own keys are dict assignments ------------------------------------------

fn saved_root_keys(x: &ObjGraph, opts: &SaveOptions) -> Vec<String> {
    let Saved::Pickle(g) = save(x, opts).unwrap() else {
        panic!("not a pickle")
    };
    let bytes = encode(
        &g,
        &EncodeOptions {
            protocol: opts.protocol as u8,
            flavour: None,
        },
    )
    .unwrap();
    let g2 = decode(&bytes).unwrap();
    let again = encode(&g2, &EncodeOptions::like(&g2)).unwrap();
    assert!(
        again == bytes,
        "re-encoding the decoded save changes the bytes"
    );
    for (_, lo) in LoadOptions::SETS {
        let (a, b) = (view(&load_graph(&g, lo)), view(&load_graph(&g2, lo)));
        assert_eq!(a.ok(), b.ok());
    }
    let Node::Dict(items) = g.node(g.root) else {
        panic!()
    };
    items
        .iter()
        .map(|&(k, _)| match g.node(k) {
            Node::Str(s) => s.to_string(),
            other => format!("<{}>", other.type_name()),
        })
        .collect()
}

#[test]
fn a_user_key_named_like_the_name_table_is_replaced_not_duplicated() {
    // fuzz roundtrip_structured (fuzz/known-crashes/roundtrip_structured-63a08fdf): a
    // state dict with its own "StructuredToParameterName@@" key was saved with that key
    // twice; Paddle's `save_dict[TABLE] = name_table` replaces the value in place.
    let mut x = ObjGraph::default();
    let none = x.add(Obj::None);
    let e1 = x.add(Obj::Dict(vec![]));
    let table = x.add(Obj::Str("StructuredToParameterName@@".into()));
    let e2 = x.add(Obj::Dict(vec![]));
    x.root = x.add(Obj::OrderedDict(vec![(none, e1), (table, e2)]));
    let opts = SaveOptions {
        protocol: 4,
        ..SaveOptions::default()
    };
    assert_eq!(
        saved_root_keys(&x, &opts),
        ["<NoneType>", "StructuredToParameterName@@"]
    );
}

#[test]
fn split_slices_and_the_unpack_table_replace_equal_user_keys() {
    // Protocol 2/3 split: `saved_obj[part] = slice` and `saved_obj[UNPACK] = info` are
    // assignments too: a user key "w@@.0" or "UnpackBigParamInfor@@" gets the new value.
    let mut x = ObjGraph::default();
    let w = x.add(Obj::Str("w".into()));
    let big = x.add(Obj::Tensor(Tensor {
        kind: TensorKind::Dynamic,
        dtype: DType::UInt8,
        shape: vec![8],
        data: (0..8).collect(),
        name: Some("t".into()),
        stop_gradient: true,
    }));
    let part = x.add(Obj::Str("w@@.0".into()));
    let unpack = x.add(Obj::Str("UnpackBigParamInfor@@".into()));
    let e1 = x.add(Obj::Dict(vec![]));
    let e2 = x.add(Obj::Dict(vec![]));
    x.root = x.add(Obj::Dict(vec![(w, big), (part, e1), (unpack, e2)]));
    let opts = SaveOptions {
        protocol: 2,
        big_param_bytes: 4,
        ..SaveOptions::default()
    };
    assert_eq!(
        saved_root_keys(&x, &opts),
        [
            "w@@.0",
            "UnpackBigParamInfor@@",
            "StructuredToParameterName@@",
            "w@@.1"
        ]
    );
}

// ---- tensor streams: header claims never become allocations -------------------------------

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A TensorDesc: float32 (code 5) with these dims.
fn desc(dims: &[i64]) -> Vec<u8> {
    let mut d = vec![0x08, 5];
    for &x in dims {
        d.push(0x10);
        varint(x as u64, &mut d);
    }
    d
}

/// A DenseTensor record: LoD levels given as (claimed size, offsets), then desc and data.
fn dense(lod: &[(u64, &[u64])], desc: &[u8], data: &[u8]) -> Vec<u8> {
    let mut b = 0u32.to_le_bytes().to_vec();
    b.extend_from_slice(&(lod.len() as u64).to_le_bytes());
    for (size, offsets) in lod {
        b.extend_from_slice(&size.to_le_bytes());
        for o in *offsets {
            b.extend_from_slice(&o.to_le_bytes());
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&(desc.len() as i32).to_le_bytes());
    b.extend_from_slice(desc);
    b.extend_from_slice(data);
    b
}

fn stream_err(b: &[u8]) -> E {
    let e = quick("decode", || decode_dense_tensor(b)).expect_err("accepted");
    // The same bytes through paddle.load's fallbacks: a typed error, not a panic.
    assert!(load_file_bytes(b, LoadOptions::default()).is_err());
    let c = decode_combined(b).expect_err("combined accepted");
    assert_eq!(c.root(), &e);
    e
}

#[test]
fn a_header_claiming_ten_to_the_eighteen_elements_is_truncated() {
    let e = stream_err(&dense(
        &[],
        &desc(&[1_000_000_000, 1_000_000_000]),
        &[0; 16],
    ));
    assert!(
        matches!(e, E::Truncated { what: "tensor data", needed, available: 16, .. } if needed == 4_000_000_000_000_000_000),
        "{e:?}"
    );
}

#[test]
fn negative_and_overflowing_dims_are_typed_errors() {
    let e = stream_err(&dense(&[], &desc(&[2, -3]), &[0; 24]));
    assert!(
        matches!(
            e,
            E::NegativeDim {
                index: 1,
                dim: -3,
                ..
            }
        ),
        "{e:?}"
    );
    let e = stream_err(&dense(&[], &desc(&[i64::MAX, i64::MAX]), &[]));
    assert!(matches!(e, E::ElementCountOverflow { .. }), "{e:?}");
    // A product that overflows before a zero dim is still an overflow.
    let e = stream_err(&dense(&[], &desc(&[i64::MAX, 4, 0]), &[]));
    assert!(matches!(e, E::ElementCountOverflow { .. }), "{e:?}");
}

#[test]
fn lod_lengths_larger_than_the_file_are_typed_errors() {
    let e = stream_err(&dense(&[(1 << 40, &[0, 1])], &desc(&[1]), &[0; 4]));
    assert!(
        matches!(e, E::LodLevelTooLarge { level: 0, size, .. } if size == 1 << 40),
        "{e:?}"
    );
    // A level count of 2^60 with nothing behind it.
    let mut b = 0u32.to_le_bytes().to_vec();
    b.extend_from_slice(&(1u64 << 60).to_le_bytes());
    b.extend_from_slice(&[0; 32]);
    let e = stream_err(&b);
    assert!(
        matches!(e, E::LodLevelCountTooLarge { count, .. } if count == 1 << 60),
        "{e:?}"
    );
    // SelectedRows claiming 2^61 rows.
    let mut b = 0u32.to_le_bytes().to_vec();
    b.extend_from_slice(&(1u64 << 61).to_le_bytes());
    b.extend_from_slice(&[0; 64]);
    let e = decode_selected_rows(&b).unwrap_err();
    assert!(matches!(e, E::RowCountTooLarge { .. }), "{e:?}");
}

#[test]
fn a_desc_size_larger_than_the_file_is_truncated() {
    let mut b = dense(&[], &desc(&[1]), &[0; 4]);
    b[16..20].copy_from_slice(&i32::MAX.to_le_bytes());
    let e = stream_err(&b);
    assert!(
        matches!(
            e,
            E::Truncated {
                what: "TensorDesc",
                ..
            }
        ),
        "{e:?}"
    );
}

// ---- programs ------------------------------------------------------------------------------

#[test]
fn program_length_claims_larger_than_the_file_are_errors() {
    // ProgramDesc.blocks (field 1, length-delimited) claiming 2^40 bytes.
    let mut b = vec![0x0a];
    varint(1 << 40, &mut b);
    b.extend_from_slice(&[0; 16]);
    assert!(quick("parse", || parse_program_desc(&b)).is_err());
    assert!(summarize_program(&b).is_err());
}

#[test]
fn programs_nested_a_million_deep_are_errors_not_stack_overflows() {
    // ProgramDesc: a million nested groups of unknown field 14 (prost's recursion limit).
    let b = vec![0x73u8; 1_000_000];
    assert!(quick("parse", || parse_program_desc(&b)).is_err());
    assert!(summarize_program(&b).is_err());
    // PIR JSON: a million nested arrays (serde_json's recursion limit).
    let mut j = b"{\"program\":".to_vec();
    j.extend(std::iter::repeat_n(b'[', 1_000_000));
    assert!(quick("summarize", || summarize_program(&j)).is_err());
    // Neither is a file paddle.load reads.
    assert!(load_file_bytes(&b, LoadOptions::default()).is_err());
}

/// Found by the serde_pickle_diff campaign: a frozenset (a dict key) built from 0 and then
/// False. CPython keeps the first of two equal items, so it holds the int 0 (checked with
/// `pickle.loads`: `type(...) is int`); serde-pickle keeps False. pdsave must keep 0.
#[test]
fn equal_set_items_keep_the_first_inserted_as_cpython_does() {
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/serde_diff_zero_then_false.pkl"),
    )
    .unwrap();
    let g = decode(&data).unwrap();
    let Node::Dict(items) = g.node(g.root) else {
        panic!()
    };
    let fs = items
        .iter()
        .find_map(|&(k, _)| match g.node(k) {
            Node::FrozenSet(v) => Some(v.clone()),
            _ => None,
        })
        .unwrap();
    let zeros: Vec<&Node> = fs
        .iter()
        .map(|&i| g.node(i))
        .filter(|n| matches!(n, Node::Int(PyInt::Small(0)) | Node::Bool(false)))
        .collect();
    assert_eq!(zeros, vec![&Node::Int(PyInt::Small(0))]);
}

/// `fuzz/known-crashes/serde_pickle_diff-c8fd4740`: a list shared through the memo and
/// appended to after its second reference is one object, as CPython's `pickle.loads` gives:
/// `[(1, 'x', [2, 2]), (1, 'x', [2, 2]), (1, 'x', [2, 2])]`.
#[test]
fn a_list_shared_through_the_memo_and_mutated_after_is_one_object() {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/known-crashes/serde_pickle_diff-c8fd4740"
    ))
    .unwrap();
    let v = view(&load_pickle(
        &b,
        LoadOptions {
            return_numpy: true,
            ..Default::default()
        },
    ))
    .unwrap();
    let two = |v: &serde_json::Value| v["items"][2]["items"].as_array().map(|a| a.len());
    let items = v["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for t in items {
        assert_eq!(t["items"][1]["v"], "x");
        assert_eq!(two(t), Some(2), "{t}");
    }
}

#[test]
fn a_unicode_line_of_a_carriage_return_keeps_it_as_cpython_does() {
    // fuzz serde_pickle_diff (CI smoke, 20 s): protocol-0 UNICODE whose line is "\r".
    // CPython and pdsave give ('\r', ('',)); serde-pickle strips a "\r" before every line's
    // "\n" (its own quirk, which the target now skips).
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/serde_diff_unicode_cr.pkl"),
    )
    .unwrap();
    let v = view(&load_file_bytes(&data, LoadOptions::default())).unwrap();
    assert_eq!(
        v["result"],
        serde_json::json!({"t": "tuple", "items": [
            {"t": "str", "v": "\r"},
            {"t": "tuple", "items": [{"t": "str", "v": ""}]}
        ]})
    );
}

#[test]
fn a_one_byte_array_sharing_numpys_b_constant_decodes() {
    // tests/properties.rs p4 (proptest, protocol 2): a uint8 tensor holding b'b' is saved
    // with its data as the same bytes object as numpy's `_reconstruct(ndarray, (0,), b'b')`
    // constant (CPython shares one-byte bytes); the decoder moved that buffer into the
    // array, so the next array's `_reconstruct` saw b'' and was refused.
    let t = |dtype, shape: Vec<u64>, data: Vec<u8>, name: &str| {
        Obj::Tensor(Tensor {
            kind: TensorKind::Dynamic,
            dtype,
            shape,
            data,
            name: Some(name.into()),
            stop_gradient: true,
        })
    };
    let x = ObjGraph {
        objs: vec![
            Obj::Str("w".into()),
            t(DType::UInt8, vec![1], vec![98], "generated_tensor_30"),
            Obj::Int(pdsave::pickle::PyInt::Small(2)),
            t(DType::Float32, vec![1, 3], vec![0; 12], "my_tensor32"),
            Obj::OrderedDict(vec![(0, 1), (2, 3)]),
        ],
        root: 4,
        uncached: Default::default(),
    };
    let opts = SaveOptions {
        protocol: 2,
        ..SaveOptions::default()
    };
    let Saved::Pickle(g) = save(&x, &opts).unwrap() else {
        panic!()
    };
    let eo = EncodeOptions {
        protocol: 2,
        flavour: None,
    };
    let b = encode(&g, &eo).unwrap();
    let g2 = decode(&b).unwrap();
    assert_eq!(encode(&g2, &EncodeOptions::like(&g2)).unwrap(), b);
}

/// `convert` fuzz target, merged main (2026-12-01): a pickle with an unhashable dict key
/// (a list: CPython raises TypeError on load, L-FILE) converted to safetensors did not
/// convert back ("a key or set item is not hashable"): the rebuilt skeleton now keeps it
/// as the decoder does, and the round trip gives the input's bytes.
#[test]
fn an_unhashable_key_round_trips_through_safetensors() {
    use pdsave::convert::{convert, ConvertOptions};
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.pdparams");
    let bytes = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x02]q\x02K\x01u.";
    std::fs::write(&input, bytes).unwrap();
    let g = decode(bytes).unwrap();
    assert!(g.unhashable.is_some());
    let (st, back) = (
        d.path().join("mid.safetensors"),
        d.path().join("back.pdparams"),
    );
    let opts = ConvertOptions::default();
    convert(&input, &st, &opts).unwrap();
    convert(&st, &back, &opts).unwrap();
    assert_eq!(
        std::fs::read(&back).unwrap(),
        encode(&g, &EncodeOptions::like(&g)).unwrap()
    );
}

/// `reencode_identity` fuzz target, merged main (2026-12-01): a Python 2 pickle whose only
/// byte string is not part of the value re-encoded in Python 2's dialect (LONG1 for a
/// `long` 5), but decoding that output lost the dialect (no STRING opcode left), so the
/// third encoding wrote BININT1. A LONG1 of a value that fits 32 bits, or INT at protocol
/// 2, is Python 2's too: the encoding is canonical again.
#[test]
fn python2_dialect_survives_a_reencoding_without_byte_strings() {
    // PROTO 2; SHORT_BINSTRING 'x'; POP; EMPTY_DICT; BINUNICODE 'a'; LONG1 5; SETITEM; STOP
    let b = b"\x80\x02U\x01x0}X\x01\x00\x00\x00a\x8a\x01\x05s.";
    let g1 = decode(b).unwrap();
    assert!(g1.dialect.python2);
    let e2 = encode(&g1, &EncodeOptions::like(&g1)).unwrap();
    assert!(e2.windows(3).any(|w| w == b"\x8a\x01\x05"), "{e2:?}");
    let g2 = decode(&e2).unwrap();
    assert!(g2.dialect.python2);
    assert_eq!(encode(&g2, &EncodeOptions::like(&g2)).unwrap(), e2);
}
