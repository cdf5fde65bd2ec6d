//! Hostile and malformed pickles: each is refused with the exact typed error, naming the
//! global, opcode and byte offset (spec/pickle.md, rules P-ALLOW, P-SHAPE, P-LIMIT).

use pdsave::paddle::{load_pickle, LoadError, LoadOptions};
use pdsave::pickle::{decode, encode, EncodeOptions, Node, PickleError};

fn err(b: &[u8]) -> PickleError {
    match decode(b) {
        Err(e) => e,
        Ok(g) => panic!("accepted: root {:?}", g.node(g.root)),
    }
}

#[test]
fn os_system_global_is_refused_with_offset() {
    // The classic: cos\nsystem\n(S'echo pwned'\ntR.
    let b = b"cos\nsystem\n(S'echo pwned'\ntR.";
    assert_eq!(
        err(b),
        PickleError::ForbiddenGlobal {
            offset: 0,
            module: "os".into(),
            name: "system".into()
        }
    );
}

#[test]
fn posix_system_after_proto_is_refused() {
    let b = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";
    assert_eq!(
        err(b),
        PickleError::ForbiddenGlobal {
            offset: 2,
            module: "posix".into(),
            name: "system".into()
        }
    );
}

#[test]
fn subprocess_via_stack_global_with_memoized_names_is_refused() {
    // Module and name come from the memo (a trick that hides them from static scanners).
    let mut b = b"\x80\x04\x8c\nsubprocess\x94\x8c\x05Popen\x94".to_vec();
    b.extend_from_slice(b"0h\x00h\x01\x93."); // POP, BINGET 0, BINGET 1, STACK_GLOBAL
    let off = b.len() - 2;
    assert_eq!(
        err(&b),
        PickleError::ForbiddenGlobal {
            offset: off,
            module: "subprocess".into(),
            name: "Popen".into()
        }
    );
}

#[test]
fn eval_in_any_other_shape_is_refused() {
    // eval('1+1')
    let b = b"\x80\x02c__builtin__\neval\nX\x03\x00\x00\x001+1\x85R.";
    match err(b) {
        PickleError::BadCall {
            offset,
            module,
            name,
            ..
        } => assert_eq!((offset, module, name), (29, "__builtin__", "eval")),
        e => panic!("{e}"),
    }
    // eval('data', {'data': 5}): Paddle's shape, but not an ndarray.
    let b = b"\x80\x03cbuiltins\neval\nX\x04\x00\x00\x00data}X\x04\x00\x00\x00dataK\x05s\x86R.";
    match err(b) {
        PickleError::BadCall {
            module: "builtins",
            name: "eval",
            reason,
            ..
        } => assert!(reason.contains("static-tensor"), "{reason}"),
        e => panic!("{e}"),
    }
    // eval('__import__("os")', {'data': ...}) with another source string.
    let b = b"\x80\x03cbuiltins\neval\nX\x05\x00\x00\x00data2}\x86R.";
    assert!(matches!(err(b), PickleError::BadCall { name: "eval", .. }));
}

#[test]
fn build_on_an_allowed_global_is_refused() {
    let b = b"\x80\x02cnumpy\nndarray\n}b.";
    match err(b) {
        PickleError::BadBuild { offset, target, .. } => {
            assert_eq!((offset, target), (18, "global"))
        }
        e => panic!("{e}"),
    }
}

#[test]
fn reduce_on_a_non_global_is_refused() {
    // (list)() : REDUCE whose callable is a list.
    let b = b"\x80\x02])R.";
    assert_eq!(
        err(b),
        PickleError::BadType {
            offset: 4,
            opcode: "REDUCE",
            expected: "an allowlisted global",
            found: "list"
        }
    );
}

#[test]
fn instantiating_opcodes_and_persistent_ids_are_refused() {
    assert!(matches!(
        err(b"\x80\x02cbuiltins\nset\n)\x81."),
        PickleError::ForbiddenOpcode {
            opcode: "NEWOBJ",
            offset: 17,
            ..
        }
    ));
    assert!(matches!(
        err(b"(ibuiltins\nset\n."),
        PickleError::ForbiddenOpcode {
            opcode: "INST",
            offset: 1,
            ..
        }
    ));
    assert!(matches!(
        err(b"Pfoo\n."),
        PickleError::ForbiddenOpcode {
            opcode: "PERSID",
            offset: 0,
            ..
        }
    ));
    assert!(matches!(
        err(b"\x80\x02\x82\x01."),
        PickleError::ForbiddenOpcode {
            opcode: "EXT1",
            offset: 2,
            ..
        }
    ));
    assert!(matches!(
        err(b"\x80\x05\x97."),
        PickleError::ForbiddenOpcode {
            opcode: "NEXT_BUFFER",
            offset: 2,
            ..
        }
    ));
}

#[test]
fn memo_mixing_binput_and_memoize_follows_cpython() {
    // BININT1 1, BINPUT 5, POP, BININT1 2, MEMOIZE (slot = len(memo) = 1), POP,
    // then [BINGET 5, BINGET 1] -> [1, 2].
    let b = b"\x80\x04K\x01q\x050K\x02\x940]h\x05ah\x01a.";
    let g = decode(b).unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    let vals: Vec<_> = items.iter().map(|&i| g.node(i).clone()).collect();
    assert_eq!(
        vals,
        vec![
            Node::Int(pdsave::pickle::PyInt::Small(1)),
            Node::Int(pdsave::pickle::PyInt::Small(2))
        ]
    );
    // Reading a slot never written is an error with the index.
    assert_eq!(
        err(b"\x80\x04K\x01q\x05h\x04."),
        PickleError::MemoMissing {
            offset: 6,
            index: 4
        }
    );
}

#[test]
fn shared_values_stay_one_node() {
    // [x, x] where x = [] via BINPUT/BINGET.
    let g = decode(b"\x80\x02](]q\x01h\x01e.").unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    assert_eq!(items[0], items[1]);
}

#[test]
fn claimed_sizes_larger_than_the_file_are_errors_not_allocations() {
    assert_eq!(
        err(b"\x80\x03B\xff\xff\xff\xffabc."),
        PickleError::Truncated {
            offset: 2,
            opcode: "BINBYTES",
            needed: 0xffff_ffff,
            available: 4
        }
    );
    assert_eq!(
        err(b"\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f."),
        PickleError::Truncated {
            offset: 2,
            opcode: "BINUNICODE8",
            needed: 0x7fff_ffff_ffff_ffff,
            available: 1
        }
    );
    assert_eq!(
        err(b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x01N."),
        PickleError::Truncated {
            offset: 2,
            opcode: "FRAME",
            needed: 1 << 56,
            available: 2
        }
    );
}

/// An ndarray pickle (protocol 2, numpy 1) with the given shape and payload.
fn array_pickle(shape: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut b = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01".to_vec();
    b.extend_from_slice(shape);
    b.extend_from_slice(b"cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C");
    b.push(payload.len() as u8);
    b.extend_from_slice(payload);
    b.extend_from_slice(b"tb.");
    b
}

#[test]
fn an_array_header_claiming_more_than_its_data_is_an_error() {
    // Well-formed: shape (2,) float32, 8 bytes.
    let ok = array_pickle(b"K\x02\x85", &[0u8; 8]);
    assert!(matches!(
        decode(&ok).unwrap().node(decode(&ok).unwrap().root),
        Node::NdArray(_)
    ));
    // shape (3,) but 8 bytes.
    match err(&array_pickle(b"K\x03\x85", &[0u8; 8])) {
        PickleError::BadBuild {
            target: "numpy.ndarray",
            reason,
            ..
        } => assert!(reason.contains("needs 12 bytes, data has 8"), "{reason}"),
        e => panic!("{e}"),
    }
    // shape (10^18, 10^18): the element count overflows.
    let big =
        b"\x8a\x08\x00\x00\x64\xa7\xb3\xb6\xe0\x0d\x8a\x08\x00\x00\x64\xa7\xb3\xb6\xe0\x0d\x86";
    match err(&array_pickle(big, &[0u8; 8])) {
        PickleError::BadBuild { reason, .. } => {
            assert!(reason.contains("more than 2^64"), "{reason}")
        }
        e => panic!("{e}"),
    }
    // Negative dimension.
    match err(&array_pickle(b"J\xff\xff\xff\xff\x85", &[0u8; 8])) {
        PickleError::BadBuild { reason, .. } => {
            assert!(reason.contains("non-negative"), "{reason}")
        }
        e => panic!("{e}"),
    }
}

#[test]
fn truncation_and_garbage_name_their_offset() {
    let good = b"\x80\x03X\x05\x00\x00\x00hello.";
    assert_eq!(
        err(&good[..5]),
        PickleError::Truncated {
            offset: 2,
            opcode: "BINUNICODE",
            needed: 4,
            available: 2
        }
    );
    assert_eq!(
        err(&good[..good.len() - 1]),
        PickleError::NoStop { offset: 12 }
    );
    assert_eq!(err(b""), PickleError::NoStop { offset: 0 });
    assert_eq!(
        err(b"\x80\x02\xff."),
        PickleError::UnknownOpcode {
            offset: 2,
            byte: 0xff
        }
    );
    assert_eq!(
        err(b"\x80\x07N."),
        PickleError::BadProtocol {
            offset: 0,
            protocol: 7
        }
    );
    assert_eq!(
        err(b"\x80\x02a."),
        PickleError::StackUnderflow {
            offset: 2,
            opcode: "APPEND"
        }
    );
    assert_eq!(
        err(b"\x80\x02t."),
        PickleError::NoMark {
            offset: 2,
            opcode: "TUPLE"
        }
    );
    assert_eq!(
        err(b"\x80\x02X\x02\x00\x00\x00\xff\xfe."),
        PickleError::InvalidUtf8 {
            offset: 2,
            opcode: "BINUNICODE"
        }
    );
    // An unhashable dict key is CPython's TypeError, not malformed input: the file decodes
    // (reencode, inspect and convert read it) and paddle.load raises TypeError (L-FILE).
    let g = decode(b"\x80\x02}]K\x01s.").unwrap();
    assert_eq!(
        g.unhashable,
        Some(pdsave::pickle::Unhashable {
            offset: 6,
            found: "list",
            container: 0
        })
    );
    let e = load_pickle(b"\x80\x02}]K\x01s.", LoadOptions::default()).unwrap_err();
    assert_eq!(e.python_class(), Some(pdsave::rules::PyExc::TypeError));
    // Re-encoded as written: the unhashable key is part of the value.
    let re = encode(&g, &EncodeOptions::like(&g)).unwrap();
    assert_eq!(re, b"\x80\x02}q\x00]q\x01K\x01s.");
}

#[test]
fn an_unhashable_key_the_value_does_not_hold_is_not_dropped_by_reencoding() {
    // {[]: 1} is built, popped, and an empty list is the result: CPython raises TypeError
    // at the SETITEM (offset 6) all the same. The encoder writes only what the value holds,
    // so re-encoding would give a file that loads: it refuses (found by fuzzing).
    let b = b"\x80\x02}]K\x01s0].";
    let g = decode(b).unwrap();
    let e = load_pickle(b, LoadOptions::default()).unwrap_err();
    assert_eq!(e.python_class(), Some(pdsave::rules::PyExc::TypeError));
    match encode(&g, &EncodeOptions::like(&g)) {
        Err(PickleError::Encode(m)) => assert!(m.contains("byte 6"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nesting_a_million_deep_decodes_then_fails_cleanly() {
    let n = 1_000_000;
    let mut b = vec![0x80, 2];
    b.extend(std::iter::repeat_n(b']', n));
    b.extend(std::iter::repeat_n(b'a', n - 1));
    b.push(b'.');
    let g = decode(&b).expect("the VM is iterative");
    assert_eq!(g.nodes.len(), n);
    assert!(matches!(
        encode(&g, &EncodeOptions::like(&g)),
        Err(PickleError::TooDeep { .. })
    ));
    match load_pickle(&b, LoadOptions::default()) {
        Err(LoadError::Python {
            class: pdsave::rules::PyExc::RecursionError,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn python2_strings_decode_as_latin1() {
    // STRING, BINSTRING and SHORT_BINSTRING with encoding='latin1'.
    let g = decode(b"(S'caf\\xe9'\nT\x02\x00\x00\x00\xff\x00U\x01\xe9l.").unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    let s: Vec<String> = items
        .iter()
        .map(|&i| match g.node(i) {
            Node::Str(s) => s.to_string(),
            n => panic!("{n:?}"),
        })
        .collect();
    assert_eq!(
        s,
        vec![
            "caf\u{e9}".to_string(),
            "\u{ff}\u{0}".into(),
            "\u{e9}".into()
        ]
    );
}

#[test]
fn python2_array_payload_as_binstring() {
    // A numpy array pickled by Python 2 keeps its raw data in a str (BINSTRING).
    let mut b = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01K\x02\x85cnumpy\ndtype\nU\x02f4\x89\x88\x87R(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T\x08\x00\x00\x00".to_vec();
    b.extend_from_slice(&[0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
    b.extend_from_slice(b"tb.");
    let v = pdsave::view::view(&load_pickle(
        &b,
        LoadOptions {
            return_numpy: true,
            keep_name_table: false,
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(v["result"]["t"], "ndarray");
    assert_eq!(v["result"]["shape"], serde_json::json!([2]));
    assert_eq!(
        v["result"]["sha256"],
        pdsave::view::sha256_hex(&[0, 0, 0x80, 0x3f, 0, 0, 0, 0x40])
    );
}

/// Protocol 2 array data is `_codecs.encode(text, 'latin1')`: the decoder moves that buffer
/// into the array instead of copying it. A bytes object used again (as a second array's
/// data, and as a plain value) must still read back whole.
#[test]
fn protocol2_bytes_shared_between_arrays_and_values_survive_the_move() {
    fn unicode(s: &str) -> Vec<u8> {
        let mut v = vec![b'X'];
        v.extend_from_slice(&(s.len() as u32).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }
    // float32 [1.0, 2.0]: bytes 00 00 80 3f 00 00 00 40, as latin-1 text.
    let data = [0x00u8, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40];
    let text: String = data.iter().map(|&c| c as char).collect();
    let mut p = b"\x80\x02(".to_vec(); // PROTO 2, MARK for the final list
    let array = |p: &mut Vec<u8>, data_op: &[u8]| {
        p.extend_from_slice(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85");
        p.extend_from_slice(&unicode("b"));
        p.extend_from_slice(b"\x87R"); // (ndarray, (0,), 'b') REDUCE
        p.extend_from_slice(b"(K\x01K\x02\x85cnumpy\ndtype\n");
        p.extend_from_slice(&unicode("f4"));
        p.extend_from_slice(b"\x89\x88\x87R(K\x03");
        p.extend_from_slice(&unicode("<"));
        p.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89");
        p.extend_from_slice(data_op);
        p.extend_from_slice(b"tb");
    };
    let mut first = b"c_codecs\nencode\n".to_vec();
    first.extend_from_slice(&unicode(&text));
    first.extend_from_slice(&unicode("latin1"));
    first.extend_from_slice(b"\x86Rq\x10"); // REDUCE, BINPUT 16
    array(&mut p, &first);
    array(&mut p, b"h\x10"); // BINGET 16: the same bytes object
    p.extend_from_slice(b"h\x10l."); // and the bytes themselves; LIST, STOP
    let g = decode(&p).unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!("{:?}", g.node(g.root))
    };
    for &a in &items[..2] {
        let Node::NdArray(arr) = g.node(a) else {
            panic!()
        };
        assert_eq!(&arr.data[..], &data);
    }
    let Node::Bytes(b) = g.node(items[2]) else {
        panic!()
    };
    assert_eq!(&b[..], &data);
    // And it re-encodes to the same bytes.
    assert!(!encode(&g, &EncodeOptions::like(&g)).unwrap().is_empty());
}

/// `numpy.dtype('f4', ALIGN, COPY)` then its BUILD, at protocol 2.
fn dtype_pickle(align: &[u8], copy: &[u8]) -> Vec<u8> {
    let mut b = b"\x80\x02cnumpy\ndtype\nq\x00X\x02\x00\x00\x00f4q\x01".to_vec();
    b.extend_from_slice(align);
    b.extend_from_slice(copy);
    b.extend_from_slice(b"\x87q\x02Rq\x03(K\x03X\x01\x00\x00\x00<q\x04NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x05b.");
    b
}

#[test]
fn dtype_flags_only_as_numpy_wrote_them() {
    // numpy >= 1.19: (False, True); numpy <= 1.18: (0, 1) — both accepted (P-HIST) ...
    for (a, c, ints) in [
        (&b"\x89"[..], &b"\x88"[..], false),
        (b"K\x00", b"K\x01", true),
    ] {
        let bytes = dtype_pickle(a, c);
        let g = decode(&bytes).expect("numpy's own form");
        assert!(matches!(g.node(g.root), Node::Dtype(_)));
        assert_eq!(g.dialect.dtype_int_flags, ints);
        // ... and re-encoded as written.
        let re = encode(&g, &EncodeOptions::like(&g)).unwrap();
        assert_eq!(re, bytes);
    }
    // Any other flags (align=1, copy=0, mixed ints and bools) are not numpy's: refused,
    // naming the flags.
    for (a, c) in [
        (&b"K\x01"[..], &b"K\x01"[..]),
        (b"K\x00", b"K\x00"),
        (b"K\x00", b"\x88"),
        (b"\x89", b"K\x01"),
        (b"K\x02", b"K\x01"),
    ] {
        match err(&dtype_pickle(a, c)) {
            PickleError::BadCall { name, reason, .. } => {
                assert_eq!(name, "dtype");
                assert!(reason.contains("(0, 1) before numpy 1.19"), "{reason}");
            }
            e => panic!("{e:?}"),
        }
    }
}

/// What `inspect` and `check` say about a pickle pdsave does not read: hostile (runs code)
/// or only unfamiliar (numpy's own objects in a form no known writer produces), and what to
/// do about it.
#[test]
fn refusals_say_whether_hostile_or_unfamiliar_and_what_to_do() {
    let hostile = err(b"cos\nsystem\n(S'echo pwned'\ntR.").explain();
    assert!(
        hostile.starts_with("hostile: it calls os.system"),
        "{hostile}"
    );
    let odd = err(&dtype_pickle(b"K\x01", b"K\x01")).explain();
    assert!(odd.starts_with("unfamiliar, not hostile"), "{odd}");
    assert!(
        odd.contains("numpy.dtype") && odd.contains("pdsave disasm"),
        "{odd}"
    );
    let unknown = err(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n.").explain();
    assert!(
        unknown.starts_with("unfamiliar: torch._utils._rebuild_tensor_v2"),
        "{unknown}"
    );
}

// ---- strings: CPython's decoding of every string opcode ------------------------------------

#[test]
fn lone_surrogates_decode_view_and_reencode_as_cpython() {
    // pickle.dumps({'w\ud800': 1}, protocol=4) and protocol=2 (CPython 3.11): BINUNICODE is
    // decoded with 'surrogatepass', so the key is a str; it was a false rejection.
    let p4 = b"\x80\x04\x95\r\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x04w\xed\xa0\x80\x94K\x01s.";
    let p2 = b"\x80\x02}q\x00X\x04\x00\x00\x00w\xed\xa0\x80q\x01K\x01s.";
    for b in [&p4[..], &p2[..]] {
        let g = decode(b).unwrap();
        let Node::Dict(items) = g.node(g.root) else {
            panic!()
        };
        assert_eq!(g.node(items[0].0), &Node::WStr(b"w\xed\xa0\x80"[..].into()));
        // The view as Python's json.dumps writes it.
        let r = load_pickle(b, LoadOptions::default());
        let mut out = Vec::new();
        pdsave::view::write_view(&r, &mut out, &|_| {})
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"view":1,"result":{"t":"dict","items":[[{"t":"str","v":"w\ud800"},{"t":"int","v":"1"}]]}}"#
        );
        // Re-encoding gives CPython's bytes.
        assert_eq!(encode(&g, &EncodeOptions::like(&g)).unwrap(), b);
    }
    // Protocol 0 UNICODE (raw-unicode-escape): pickle.dumps(['w\ud800', '\udc00x'], protocol=0).
    let p0 = b"(lp0\nVw\\ud800\np1\naV\\udc00x\np2\na.";
    let g = decode(p0).unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    assert_eq!(g.node(items[0]), &Node::WStr(b"w\xed\xa0\x80"[..].into()));
    assert_eq!(g.node(items[1]), &Node::WStr(b"\xed\xb0\x80x"[..].into()));
    // Equal surrogate strs are one dict key; a surrogate is not U+FFFD.
    let two = b"\x80\x04}\x94(\x8c\x04w\xed\xa0\x80K\x01\x8c\x04w\xed\xa0\x80K\x02\x8c\x04w\xef\xbf\xbdK\x03u.";
    let g = decode(two).unwrap();
    let Node::Dict(items) = g.node(g.root) else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    // Bytes that are not even surrogatepass UTF-8 stay an error (CPython: UnicodeDecodeError).
    assert!(matches!(
        err(b"\x80\x04\x8c\x02\xff\xfe."),
        PickleError::InvalidUtf8 { offset: 2, .. }
    ));
}
