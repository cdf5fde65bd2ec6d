//! `pdsave check` (spec/check.md): every global a pickle references, with its verdict, and
//! the exit classes. Expected globals come from the bytes written here (offsets counted
//! by hand in the comments) or from CPython itself: `tests/data/check_globals_oracle.jsonl`
//! holds, for every corpus file, the offsets `pickletools.genops` gives for GLOBAL, INST and
//! STACK_GLOBAL and the (module, name) pairs CPython's unpickler asks `find_class` for
//! (a recording `find_class` that imports nothing; `tests/data/check_globals_oracle.py`).
//! Human output is snapshotted (insta) on real Paddle files; JSON is checked structurally.

use pdsave::rules::Rule;
use std::path::Path;
use std::process::Command;

use pdsave::check::{check_bytes, Exit};
use pdsave::pickle::globals::{scan_globals, GlobalScan, Verdict, MAX_NAME};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pdsave(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pdsave"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = vec!["check", "--json"];
    a.extend_from_slice(args);
    let (c, out, err) = pdsave(&a);
    let j = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (c, j)
}

/// (offset, opcode, module.name) of every reference, `?` for an unknown part.
fn refs(s: &GlobalScan) -> Vec<(usize, &'static str, String)> {
    s.globals
        .iter()
        .map(|g| (g.offset, g.opcode, g.dotted()))
        .collect()
}

fn rules(b: &[u8]) -> Vec<(Rule, String)> {
    check_bytes(Path::new("t"), b)
        .findings
        .iter()
        .map(|f| (f.rule, f.path.clone()))
        .collect()
}

// ---- globals against CPython, on every corpus file -----------------------------------------

#[test]
fn globals_match_cpython_on_every_corpus_file() {
    let text =
        std::fs::read_to_string(root().join("tests/data/check_globals_oracle.jsonl")).unwrap();
    let (mut files, mut globals, mut failures) = (0, 0, Vec::new());
    for line in text.lines() {
        let o: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = o["path"].as_str().unwrap();
        let data = std::fs::read(root().join(path)).unwrap();
        let s = scan_globals(&data);
        let want_ops: Vec<(usize, String)> = o["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_u64().unwrap() as usize,
                    p[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let got_ops: Vec<(usize, String)> = s
            .globals
            .iter()
            .map(|g| (g.offset, g.opcode.to_string()))
            .collect();
        if got_ops != want_ops {
            failures.push(format!(
                "{path}: opcodes {got_ops:?}, pickletools {want_ops:?}"
            ));
            continue;
        }
        // CPython resolves them in file order; where its load stops early, the rest are
        // compared on offsets only.
        for (g, n) in s.globals.iter().zip(o["names"].as_array().unwrap()) {
            let want = (n[0].as_str().unwrap(), n[1].as_str().unwrap());
            let got = (
                g.module.as_deref().unwrap_or("?"),
                g.name.as_deref().unwrap_or("?"),
            );
            if got != want {
                failures.push(format!("{path} @{}: {got:?}, CPython {want:?}", g.offset));
            }
        }
        files += 1;
        globals += want_ops.len();
        // Real Paddle files: every global is Paddle's own, and nothing else can run code.
        if path.contains("/y_") || path.contains("/i_") {
            if let Some(g) = s.globals.iter().find(|g| g.allowed.is_none()) {
                failures.push(format!("{path}: {} is not allowlisted", g.dotted()));
            }
            if !s.opcodes.is_empty() {
                failures.push(format!("{path}: {:?}", s.opcodes));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        files >= 400 && globals >= 1000,
        "{files} files, {globals} globals"
    );
}

// ---- hostile pickles written here ----------------------------------------------------------

#[test]
fn every_global_is_listed_where_the_decoder_stops_at_the_first() {
    // 0 GLOBAL os.system, 11 POP, 12 GLOBAL subprocess.Popen, 30 POP, 31 NONE, 32 STOP.
    let b = b"cos\nsystem\n0csubprocess\nPopen\n0N.";
    let s = scan_globals(b);
    assert_eq!(
        refs(&s),
        [
            (0, "GLOBAL", "os.system".to_string()),
            (12, "GLOBAL", "subprocess.Popen".to_string())
        ]
    );
    assert_eq!((s.stop, &s.error, &s.load_error), (Some(32), &None, &None));
    let r = check_bytes(Path::new("t"), b);
    assert!(r
        .globals
        .iter()
        .all(|g| g.verdict == Verdict::Dangerous && !g.paddle_own));
    // One finding per global; the decoder's ForbiddenGlobal at 0 is not repeated.
    assert_eq!(
        rules(b),
        [
            (Rule::PAllow, "byte 0".into()),
            (Rule::PAllow, "byte 12".into())
        ]
    );
    assert_eq!((r.exit, r.exit_code), (Exit::Findings, 1));
}

#[test]
fn stack_global_through_binput_and_latin1_strings() {
    // 0 PROTO 4; 2 SHORT_BINSTRING 'builtins'; 12 BINPUT 1; 14 SHORT_BINSTRING 'exec';
    // 20 BINPUT 2; 22 POP; 23 POP; 24 BINGET 1; 26 BINGET 2; 28 STACK_GLOBAL; 29 STOP.
    let b = b"\x80\x04U\x08builtinsq\x01U\x04execq\x0200h\x01h\x02\x93.";
    let s = scan_globals(b);
    assert_eq!(
        refs(&s),
        [(28, "STACK_GLOBAL", "builtins.exec".to_string())]
    );
    assert_eq!((s.protocol, s.stop), (Some(4), Some(29)));
    let r = check_bytes(Path::new("t"), b);
    assert_eq!(r.globals[0].verdict, Verdict::Dangerous);
    assert!(r.globals[0]
        .meaning
        .contains("would run code on pickle.load"));
    assert_eq!(rules(b), [(Rule::PAllow, "byte 28".into())]);
}

#[test]
fn inst_names_its_global_and_is_an_instantiation() {
    // 0 MARK; 1 STRING 'true'; 9 INST os system; 20 STOP.
    let b = b"(S'true'\nios\nsystem\n.";
    let s = scan_globals(b);
    assert_eq!(refs(&s), [(9, "INST", "os.system".to_string())]);
    assert_eq!(s.opcodes.len(), 1);
    assert_eq!((s.opcodes[0].offset, s.opcodes[0].opcode), (9, "INST"));
    assert!(s.opcodes[0].detail.contains("os.system"));
    // The global, the instantiation, and the decoder's refusal of INST.
    assert_eq!(
        rules(b),
        [
            (Rule::PAllow, "byte 9".into()),
            (Rule::PShape, "byte 9".into()),
            (Rule::PShape, "byte 9".into())
        ]
    );
}

#[test]
fn stack_global_on_values_that_are_not_strings_is_unresolved() {
    // 0 PROTO 4; 2 BININT1 1; 4 BININT1 2; 6 STACK_GLOBAL; 7 STOP.
    let b = b"\x80\x04K\x01K\x02\x93.";
    let s = scan_globals(b);
    assert_eq!(refs(&s), [(6, "STACK_GLOBAL", "?.?".to_string())]);
    assert!(!s.globals[0].resolved());
    let r = check_bytes(Path::new("t"), b);
    assert_eq!(r.globals[0].verdict, Verdict::Unresolved);
    assert_eq!(
        (r.globals[0].module.as_deref(), r.globals[0].name.as_deref()),
        (None, None)
    );
    assert_eq!(r.exit, Exit::Findings);
    assert!(
        r.findings[0].message.starts_with("unresolved global"),
        "{:?}",
        r.findings
    );

    // The module is a str, the name bytes (which STACK_GLOBAL refuses): half resolved.
    // 0 PROTO 4; 2 SHORT_BINUNICODE 'os'; 6 SHORT_BINBYTES b'system'; 14 STACK_GLOBAL.
    let b = b"\x80\x04\x8c\x02osC\x06system\x93.";
    assert_eq!(
        refs(&scan_globals(b)),
        [(14, "STACK_GLOBAL", "os.?".to_string())]
    );
}

#[test]
fn ext_persid_and_run_time_calls_are_findings() {
    // 0 PROTO 2; 2 EXT1 1; 4 STOP.
    let b = b"\x80\x02\x82\x01.";
    let s = scan_globals(b);
    assert!(s.globals.is_empty());
    assert_eq!(
        s.opcodes
            .iter()
            .map(|o| (o.offset, o.opcode))
            .collect::<Vec<_>>(),
        [(2, "EXT1")]
    );
    assert!(s.opcodes[0].detail.contains("extension code 1"));
    // The opcode, and the decoder's refusal (ForbiddenOpcode, P-SHAPE).
    assert_eq!(
        rules(b),
        [
            (Rule::PShape, "byte 2".into()),
            (Rule::PShape, "byte 2".into())
        ]
    );

    // 0 PERSID '1'; 3 STOP.
    let s = scan_globals(b"P1\n.");
    assert_eq!(
        s.opcodes
            .iter()
            .map(|o| (o.offset, o.opcode))
            .collect::<Vec<_>>(),
        [(0, "PERSID")]
    );
    // 0 PROTO 2; 2 NONE; 3 EMPTY_TUPLE; 4 REDUCE (calls None); 5 EMPTY_TUPLE; 6 NEWOBJ; 7 STOP.
    let s = scan_globals(b"\x80\x02N)R)\x81.");
    assert_eq!(
        s.opcodes
            .iter()
            .map(|o| (o.offset, o.opcode))
            .collect::<Vec<_>>(),
        [(4, "REDUCE"), (6, "NEWOBJ")]
    );
    // NEWOBJ on an allowlisted class is no instantiation finding (the decoder refuses it).
    // 0 PROTO 2; 2 GLOBAL builtins set; 16 EMPTY_TUPLE; 17 NEWOBJ; 18 STOP.
    let s = scan_globals(b"\x80\x02cbuiltins\nset\n)\x81.");
    assert_eq!(refs(&s), [(2, "GLOBAL", "builtins.set".to_string())]);
    assert!(s.opcodes.is_empty());
}

#[test]
fn malformed_input_keeps_what_was_found_before() {
    // 0 GLOBAL os.system; 11: 0xff is no opcode.
    let s = scan_globals(b"cos\nsystem\n\xff");
    assert_eq!(refs(&s), [(0, "GLOBAL", "os.system".to_string())]);
    assert_eq!(s.error.as_ref().and_then(|e| e.offset()), Some(11));
    // Cut inside GLOBAL's name line: nothing found, the reader's error at 0.
    let s = scan_globals(b"cos\nsys");
    assert!(s.globals.is_empty());
    assert_eq!(s.error.as_ref().and_then(|e| e.offset()), Some(0));
    // A stack underflow is where pickle.load would stop; the scan goes on past it.
    // 0 POP (empty stack); 1 GLOBAL os.system; 12 STOP.
    let s = scan_globals(b"0cos\nsystem\n.");
    assert_eq!(refs(&s), [(1, "GLOBAL", "os.system".to_string())]);
    assert_eq!(s.load_error.as_ref().and_then(|e| e.offset()), Some(0));
}

#[test]
fn shared_long_names_stay_bounded() {
    // A 1 MiB str memoized once, then 100 000 STACK_GLOBALs on it: names are kept capped
    // and decoded once, not 100 000 times.
    let mut b = b"\x80\x04X".to_vec();
    b.extend_from_slice(&(1u32 << 20).to_le_bytes());
    b.extend(std::iter::repeat_n(b'm', 1 << 20));
    b.extend_from_slice(b"\x94");
    for _ in 0..100_000 {
        b.extend_from_slice(b"h\x00h\x00\x930");
    }
    b.push(b'.');
    let s = scan_globals(&b);
    assert_eq!(s.globals.len(), 100_000);
    let m = s.globals[0].module.as_deref().unwrap();
    assert!(m.len() <= MAX_NAME + 32 && m.ends_with("(1048576 bytes)"));
    let r = check_bytes(Path::new("t"), &b);
    assert_eq!((r.globals.len(), r.globals[0].count), (1, 100_000));
    assert_eq!(r.globals[0].offsets.len(), pdsave::check::MAX_OFFSETS);
}

// ---- eval: safe only in Paddle's exact form ------------------------------------------------

#[test]
fn eval_is_paddles_own_only_when_the_file_decodes() {
    let path = root().join("corpus/cases/y_p3_proto4_static_tensor/tensor.pdtensor");
    let data = std::fs::read(&path).unwrap();
    let r = check_bytes(&path, &data);
    let eval = r
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("eval"))
        .unwrap();
    // pickletools: STACK_GLOBAL at 29, CPython find_class('builtins', 'eval').
    assert_eq!(
        (eval.module.as_deref(), &eval.offsets[..]),
        (Some("builtins"), &[29][..])
    );
    assert!(eval.paddle_own && eval.meaning.contains("static tensor"));
    assert_eq!(r.exit, Exit::Clean);

    // The same file without its STOP: the form is no longer verified. Protocol 4: the
    // FRAME at 2 (pickletools) claims one byte more than is left, before the eval at 29.
    let r = check_bytes(&path, &data[..data.len() - 1]);
    let eval = r
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("eval"))
        .unwrap();
    assert!(
        !eval.paddle_own && eval.verdict == Verdict::Unsafe,
        "{eval:?}"
    );
    assert!(
        eval.meaning.contains("offset 2, before it"),
        "{}",
        eval.meaning
    );
    assert_eq!(r.exit, Exit::Findings);
    assert!(r.error.is_some());
    // Protocol 2 (no frame; GLOBAL __builtin__ eval at 2): the input ends after it.
    let path2 = root().join("corpus/cases/y_p3_proto2_static_tensor/tensor.pdtensor");
    let data2 = std::fs::read(&path2).unwrap();
    let r = check_bytes(&path2, &data2[..data2.len() - 1]);
    let eval = r
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("eval"))
        .unwrap();
    assert!(
        !eval.paddle_own && eval.verdict == Verdict::Unsafe,
        "{eval:?}"
    );
    let end = data2.len() - 1;
    assert!(
        eval.meaning.contains(&format!("offset {end}, after it")),
        "{}",
        eval.meaning
    );

    // eval('1+1'): the decoder's BadCall confirms another form; named, not repeated.
    let path = root().join("corpus/cases/n_eval_expression/input.bin");
    let r = check_bytes(&path, &std::fs::read(&path).unwrap());
    assert_eq!(r.globals.len(), 1);
    let eval = &r.globals[0];
    assert_eq!(
        (eval.offsets[0], eval.verdict, eval.paddle_own),
        (2, Verdict::Dangerous, false)
    );
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!(
        (r.findings[0].rule, r.findings[0].path.as_str()),
        (Rule::PAllow, "byte 2")
    );
}

#[test]
fn allowlisted_globals_outside_their_call_are_findings() {
    // corpus n_newobj_set: GLOBAL builtins set at 2, NEWOBJ at 17 (pickletools): the set
    // type instantiated, not called by REDUCE, is not Paddle's shape.
    let path = root().join("corpus/cases/n_newobj_set/input.bin");
    let r = check_bytes(&path, &std::fs::read(&path).unwrap());
    assert_eq!(r.globals.len(), 1);
    assert!(!r.globals[0].paddle_own);
    assert_eq!(r.globals[0].verdict, Verdict::Unsafe);
    let rules: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.rule, f.path.as_str()))
        .collect();
    assert_eq!(rules, [(Rule::PAllow, "byte 2"), (Rule::PShape, "byte 17")]);
    assert!(r.findings[1].message.contains("NEWOBJ"));
}

// ---- the command line on real files -------------------------------------------------------

fn human(path: &str) -> String {
    let (c, out, err) = pdsave(&["check", path]);
    format!("{out}{err}exit {c}\n")
}

#[test]
fn human_static_tensor_protocol_4() {
    insta::assert_snapshot!(human(
        "corpus/cases/y_p3_proto4_static_tensor/tensor.pdtensor"
    ));
}

#[test]
fn human_state_dict_protocol_2() {
    insta::assert_snapshot!(human(
        "corpus/cases/y_p3_proto2_linear_state_dict/model.pdparams"
    ));
}

#[test]
fn human_faq1_findings_with_workaround() {
    insta::assert_snapshot!(human(
        "corpus/cases/i_p3_proto4_faq1_tensor_with_tuple/obj.pdparams"
    ));
}

#[test]
fn human_hostile_memo_hidden_global() {
    insta::assert_snapshot!(human("corpus/cases/n_memo_hidden_global/input.bin"));
}

#[test]
fn human_jit_save_prefix() {
    insta::assert_snapshot!(human("corpus/cases/y_p2_jit_save_prefix/net"));
}

#[test]
fn json_hostile_stack_global() {
    let (c, j) = json(&["corpus/cases/n_subprocess_popen/input.bin"]);
    assert_eq!(c, 1);
    assert_eq!(j["format"], "pickle");
    assert_eq!(j["protocol"], 4);
    let g = j["globals"].as_array().unwrap();
    assert_eq!(g.len(), 1);
    // pickletools: STACK_GLOBAL at 23; CPython find_class('subprocess', 'Popen').
    assert_eq!(g[0]["module"], "subprocess");
    assert_eq!(g[0]["name"], "Popen");
    assert_eq!(g[0]["offsets"], serde_json::json!([23]));
    assert_eq!(g[0]["count"], 1);
    assert_eq!(g[0]["via"], serde_json::json!(["STACK_GLOBAL"]));
    assert_eq!(g[0]["paddle_own"], false);
    assert_eq!(g[0]["verdict"], "dangerous");
    assert!(g[0]["meaning"]
        .as_str()
        .unwrap()
        .contains("would run code on pickle.load"));
    assert_eq!(j["findings"][0]["rule"], "P-ALLOW");
    assert_eq!(j["findings"][0]["path"], "byte 23");
    assert_eq!(
        (j["exit"].as_str(), j["exit_code"].as_u64()),
        (Some("findings"), Some(1))
    );
}

#[test]
fn json_protocol_2_static_tensor_lists_paddles_globals() {
    let (c, j) = json(&["corpus/cases/y_p3_proto2_static_tensor/tensor.pdtensor"]);
    assert_eq!(c, 0);
    // pickletools / CPython: GLOBAL at 2, 38, 77, 99, 160.
    let got: Vec<(String, String, u64, bool)> = j["globals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["module"].as_str().unwrap().to_string(),
                g["name"].as_str().unwrap().to_string(),
                g["offsets"][0].as_u64().unwrap(),
                g["paddle_own"].as_bool().unwrap(),
            )
        })
        .collect();
    let want = [
        ("__builtin__", "eval", 2),
        ("numpy._core.multiarray", "_reconstruct", 38),
        ("numpy", "ndarray", 77),
        ("_codecs", "encode", 99),
        ("numpy", "dtype", 160),
    ];
    assert_eq!(
        got,
        want.map(|(m, n, o)| (m.to_string(), n.to_string(), o, true))
    );
    assert_eq!(j["findings"], serde_json::json!([]));
    assert_eq!(
        (j["exit"].as_str(), j["error"].is_null()),
        (Some("clean"), true)
    );
}

#[test]
fn json_prefix_directory_and_combined_params() {
    let (c, j) = json(&["corpus/cases/y_p2_jit_save_prefix/net"]);
    assert_eq!(c, 0, "{j}");
    assert_eq!(j["format"], "prefix");
    let files: Vec<(&str, &str)> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["format"].as_str().unwrap()))
        .collect();
    assert_eq!(
        files,
        [
            ("net.pdmodel", "program"),
            ("net.pdiparams", "combined params"),
            ("net.pdiparams.info", "pickle")
        ]
    );
    // Through the prefix the program names the records: no L-FILE finding.
    assert_eq!(j["findings"], serde_json::json!([]));

    let (c, j) = json(&["corpus/cases/y_p3_legacy_save_vars_dir/model"]);
    assert_eq!((c, j["format"].as_str()), (0, Some("directory")));
    let files = j["files"].as_array().unwrap();
    // case.json: one file per persistable variable (8), each a DenseTensor stream.
    assert_eq!(files.len(), 8);
    assert!(files.iter().all(|f| f["format"] == "tensor stream"));

    let (c, j) = json(&["corpus/cases/y_p3_legacy_jit_save_pdiparams/net.pdiparams"]);
    assert_eq!((c, j["format"].as_str()), (1, Some("combined params")));
    assert_eq!(j["findings"][0]["rule"], "L-FILE");
    assert_eq!(j["findings"][0]["workaround"], "W-PREFIX");
}

#[test]
fn exit_codes() {
    assert_eq!(
        pdsave(&[
            "check",
            "corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams"
        ])
        .0,
        0
    );
    assert_eq!(
        pdsave(&["check", "corpus/cases/n_os_system/input.bin"]).0,
        1
    );
    for unreadable in [
        "corpus/cases/n_empty/input.bin",
        "corpus/cases/n_random_bytes/input.bin",
        "corpus/cases/n_truncated_after_proto/input.bin",
        "/nonexistent",
    ] {
        let (c, j) = json(&[unreadable]);
        assert_eq!(
            (c, j["exit"].as_str()),
            (2, Some("error")),
            "{unreadable}: {j}"
        );
        assert!(j["error"].is_string());
    }
    // A program file: readable, nothing to find; paddle.load(file) raising is a note.
    let (c, j) = json(&["corpus/cases/y_p2_jit_save_prefix/net.pdmodel"]);
    assert_eq!((c, j["format"].as_str()), (0, Some("program")));
    assert!(j["notes"][0].as_str().unwrap().contains("ValueError"));
}
