//! `pdsave check` on the published bypasses (corpus n_ cases and corpus/scan/, written by
//! corpus/make_hostile.py with their sources) and on every file real Paddle wrote: every
//! hostile file is a finding, every gadget and dotted name is DANGER, frame violations and
//! data after STOP are reported with offsets, and no Paddle-written file is flagged.

use std::path::{Path, PathBuf};

use pdsave::check::{check, Exit, Report};
use pdsave::conformance::corpus::{load_corpus, Kind};
use pdsave::pickle::globals::Verdict;
use pdsave::rules::Rule;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn case(id: &str) -> PathBuf {
    root().join("corpus/cases").join(id).join("input.bin")
}

fn scan_json() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(root().join("corpus/scan/scan.json")).unwrap()).unwrap()
}

/// A temporary path (file or directory), removed when dropped, also when a test fails.
struct Removed(PathBuf);

impl std::ops::Deref for Removed {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Removed {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}

fn global<'r>(r: &'r Report, dotted: &str) -> &'r pdsave::check::GlobalEntry {
    r.globals
        .iter()
        .find(|g| g.dotted() == dotted)
        .unwrap_or_else(|| panic!("{dotted} not in {:#?}", r.globals))
}

#[test]
fn every_hostile_file_is_a_finding() {
    let j = scan_json();
    let mut n = 0;
    for (id, _) in j["n_classes"].as_object().unwrap() {
        // A finding; a malformed file (a size lie CPython's unpickler fails on too) is an error.
        let r = check(&case(id));
        assert_ne!(r.exit, Exit::Clean, "{id}: {r:#?}");
        n += 1;
    }
    for c in j["cases"].as_array().unwrap() {
        let p = root().join("corpus/scan").join(c["file"].as_str().unwrap());
        let r = check(&p);
        let want = if c["expect"] == "clean" {
            Exit::Clean
        } else {
            Exit::Findings
        };
        assert_eq!(r.exit, want, "{}: {r:#?}", c["id"]);
        n += 1;
    }
    assert!(n >= 40, "only {n} hostile files");
}

#[test]
fn published_gadgets_and_dotted_names_are_danger() {
    let cases = [
        ("n_gadget_cprofile_run", "cProfile.run"),
        ("n_gadget_timeit_timeit", "timeit.timeit"),
        ("n_gadget_pip_main", "pip.main"),
        (
            "n_gadget_numpy_testing__private_utils_runstring",
            "numpy.testing._private.utils.runstring",
        ),
        ("n_gadget_dataclasses__create_fn", "dataclasses._create_fn"),
        ("n_gadget_typing__eval_type", "typing._eval_type"),
        ("n_gadget_pydoc_locate", "pydoc.locate"),
        ("n_gadget_pkgutil_resolve_name", "pkgutil.resolve_name"),
        (
            "n_gadget_importlib_import_module",
            "importlib.import_module",
        ),
        ("n_gadget_runpy__run_code", "runpy._run_code"),
        (
            "n_gadget_code_interactiveinterpreter",
            "code.InteractiveInterpreter",
        ),
        (
            "n_gadget_uuid__get_command_stdout",
            "uuid._get_command_stdout",
        ),
        (
            "n_gadget_paddle_utils_download__wget_download",
            "paddle.utils.download._wget_download",
        ),
        (
            "n_gadget_paddle_distributed_fleet_utils_fs_localfs",
            "paddle.distributed.fleet.utils.fs.LocalFS",
        ),
        (
            "n_dotted_builtins_eval_self_exec",
            "builtins.eval.__self__.exec",
        ),
        (
            "n_dotted_numpy_testing_runstring",
            "numpy.testing._private.utils.runstring",
        ),
        ("n_numpy_load_nested", "numpy.load"),
        ("n_numpy_f2py_eval", "numpy.f2py.crackfortran._eval_length"),
    ];
    for (id, dotted) in cases {
        let r = check(&case(id));
        let g = global(&r, dotted);
        assert_eq!(
            (g.verdict, g.paddle_own, g.offsets[0]),
            (Verdict::Dangerous, false, g.offsets[0]),
            "{id}"
        );
        let human = pdsave::check::render(&r);
        assert!(
            human.contains(&format!("DANGER  {dotted}")),
            "{id}: {human}"
        );
    }
    // A dotted name under any module is an attribute walk.
    assert!(pdsave::pickle::gadgets::danger("collections", "OrderedDict.fromkeys.x").is_some());
    assert!(pdsave::pickle::gadgets::danger("collections", "OrderedDict").is_none());
}

#[test]
fn eval_pushed_as_a_value_is_danger_not_paddles_static_tensor() {
    // {'k': builtins.eval}: STACK_GLOBAL at 26, never called.
    let r = check(&case("n_eval_as_value"));
    let g = global(&r, "builtins.eval");
    assert_eq!(
        (g.verdict, g.paddle_own, g.offsets.as_slice()),
        (Verdict::Dangerous, false, &[26][..])
    );
    assert!(
        g.meaning.contains("used as a value, never called"),
        "{}",
        g.meaning
    );
    let human = pdsave::check::render(&r);
    assert!(!human.contains("safe "), "{human}");
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == Rule::PAllow && f.path == "byte 26"));
}

#[test]
fn frame_violations_are_danger_with_offsets() {
    // BINBYTES at 11 in the 7-byte frame opened at 2 (ends at 18).
    let r = check(&case("n_frame_binbytes_straddle"));
    let f = r.findings.iter().find(|f| f.rule == Rule::PFrame).unwrap();
    assert_eq!(f.path, "byte 11");
    assert!(
        f.message.starts_with(
            "DANGER: BINBYTES at offset 11 runs past the end of its frame (the FRAME at offset 2 ends at offset 18)"
        ),
        "{}",
        f.message
    );
    // A FRAME at 13 inside the frame opened at 2.
    let r = check(&case("n_frame_in_frame"));
    let f = r.findings.iter().find(|f| f.rule == Rule::PFrame).unwrap();
    assert_eq!(f.path, "byte 13");
    assert!(f
        .message
        .contains("opens a new frame before the end of the current one"));
    // GLOBAL 'foo' | 'os\nsystem': sequential readers see fooos.system, CPython 3.11's C
    // unpickler on a BytesIO imports os.system (read again from the frame's end, 15).
    let r = check(&case("n_frame_line_hides_os_system"));
    assert_eq!(global(&r, "fooos.system").verdict, Verdict::Unsafe);
    let hidden = global(&r, "os.system");
    assert_eq!(
        (hidden.verdict, hidden.offsets.as_slice()),
        (Verdict::Dangerous, &[11][..])
    );
    assert!(hidden.meaning.starts_with("hidden by the frame"));
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == Rule::PFrame && f.message.contains("global os.system hidden")));
}

#[test]
fn a_last_frame_claiming_more_than_the_file_is_truncation_not_a_frame_violation() {
    use pdsave::pickle::ops::Reader;
    use pdsave::pickle::PickleError;
    // PROTO 4; FRAME 3: EMPTY_LIST MEMOIZE MARK; FRAME 100 (the file holds 8 of its bytes):
    // NONE, then a BINUNICODE at 24 that claims 5 bytes where 2 remain. The file is cut
    // short (CPython's C unpickler: "pickle data was truncated" at that FRAME), not a frame
    // smuggling bytes: no P-FRAME danger.
    let mut b = b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00]\x94(".to_vec();
    b.extend_from_slice(b"\x95\x64\x00\x00\x00\x00\x00\x00\x00NX\x05\x00\x00\x00ab");
    let mut reader = Reader::new(&b);
    let mut last = None;
    while let Some(i) = reader.next_instr() {
        if let Err(e) = i {
            last = Some(e);
            break;
        }
    }
    assert_eq!(
        last,
        Some(PickleError::Truncated {
            offset: 24,
            opcode: "BINUNICODE",
            needed: 5,
            available: 2
        })
    );
    assert!(matches!(
        pdsave::pickle::decode(&b),
        Err(PickleError::Truncated {
            offset: 14,
            opcode: "FRAME",
            needed: 100,
            available: 8
        })
    ));
    let r = pdsave::check::check_bytes(Path::new("cut.pkl"), &b);
    assert!(
        r.findings.iter().all(|f| f.rule != Rule::PFrame),
        "{:#?}",
        r.findings
    );
    assert_eq!(r.exit, Exit::Error, "{r:#?}");
    assert_eq!(
        r.error.as_deref(),
        Some("malformed pickle: truncated input at offset 14: FRAME needs 100 bytes, 8 left")
    );
}

#[test]
fn data_after_stop_is_checked() {
    let sd =
        std::fs::read(root().join("corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams"))
            .unwrap();
    let r = check(&root().join("corpus/scan/s_second_pickle_os_system.bin"));
    let os = global(&r, "os.system");
    assert_eq!(
        (os.verdict, os.offsets.as_slice()),
        (Verdict::Dangerous, &[sd.len()][..])
    );
    let stop = r.findings.iter().find(|f| f.rule == Rule::PStop).unwrap();
    assert_eq!(stop.path, format!("byte {}", sd.len()));
    assert!(stop
        .message
        .starts_with("another pickle after the STOP (23 bytes, 1 global)"));
    let r = check(&root().join("corpus/scan/s_trailing_junk.bin"));
    let stop: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == Rule::PStop)
        .collect();
    assert_eq!(stop.len(), 1, "{:?}", r.findings);
    assert!(stop[0]
        .message
        .starts_with("80 bytes after the pickle's STOP that are no complete pickle"));
    assert_eq!(r.exit, Exit::Findings);
    // view shows what paddle.load returns: the first pickle.
    let v = pdsave::view::view(&pdsave::paddle::file::load_file_bytes(
        &std::fs::read(root().join("corpus/scan/s_second_pickle_os_system.bin")).unwrap(),
        Default::default(),
    ))
    .unwrap();
    assert_eq!(v["result"]["t"], "dict");
}

#[test]
fn no_file_paddle_wrote_is_flagged() {
    let safety = [
        Rule::PAllow,
        Rule::PShape,
        Rule::PFrame,
        Rule::PStop,
        Rule::CArchive,
    ];
    let mut n = 0;
    for c in load_corpus(&root().join("corpus")).unwrap() {
        if c.kind == Kind::N || c.meta.writer.paddle.is_none() || !c.entry.exists() {
            continue;
        }
        let r = check(&c.entry);
        n += 1;
        let bad: Vec<_> = r
            .findings
            .iter()
            .filter(|f| safety.contains(&f.rule))
            .collect();
        assert!(bad.is_empty(), "{}: {bad:#?}", c.id);
        assert!(
            r.globals.iter().all(|g| g.paddle_own),
            "{}: {:#?}",
            c.id,
            r.globals
        );
    }
    assert!(n > 300, "only {n} Paddle-written cases");
}

#[test]
fn archives_are_read_without_extracting_and_their_tricks_named() {
    let arch = |id: &str, ext: &str| {
        root()
            .join("corpus/cases")
            .join(id)
            .join(format!("input.{ext}"))
    };
    let archive_findings = |r: &Report| -> Vec<(String, String)> {
        r.findings
            .iter()
            .filter(|f| f.rule == Rule::CArchive)
            .map(|f| (f.path.clone(), f.message.clone()))
            .collect()
    };
    let cases = [
        (
            "n_archive_tar_traversal",
            "tar",
            "../evil.pdparams",
            "archive: a name with `..`",
        ),
        (
            "n_archive_zip_traversal",
            "zip",
            "../../evil.pdparams",
            "archive: a name with `..`",
        ),
        (
            "n_archive_tar_symlink",
            "tar",
            "inference/x",
            "archive: a symbolic link to \"/etc/passwd\"",
        ),
        (
            "n_archive_tar_duplicate",
            "tar",
            "inference/inference.pdiparams.info",
            "archive: a name given twice",
        ),
        (
            "n_archive_tgz_lying_member",
            "tar.gz",
            "inference/inference.pdmodel",
            "archive: named as a ProgramDesc program but holds a pickle",
        ),
    ];
    for (id, ext, member, msg) in cases {
        let r = check(&arch(id, ext));
        assert_eq!(r.exit, Exit::Findings, "{id}");
        let f = archive_findings(&r);
        assert_eq!(f.len(), 1, "{id}: {f:?}");
        assert_eq!(f[0].0, member, "{id}");
        assert!(f[0].1.starts_with(msg), "{id}: {}", f[0].1);
        // The real model inside is read member by member.
        assert!(
            r.files
                .iter()
                .any(|m| m.path == "inference/inference.pdiparams"),
            "{id}"
        );
    }
    // The hidden payloads are found in the members.
    let r = check(&arch("n_archive_tgz_lying_member", "tar.gz"));
    let g = global(&r, "os.system");
    assert_eq!(g.file.as_deref(), Some("inference/inference.pdmodel"));
    // A clean archive of a real Paddle model: nothing to report; inspect reads the prefix.
    for f in ["clean_infer_tar.tar", "clean_infer_tgz.tar.gz"] {
        let p = root().join("corpus/scan").join(f);
        let r = check(&p);
        assert_eq!(r.exit, Exit::Clean, "{f}: {:#?}", r.findings);
        let i = pdsave::inspect::inspect_with(&p, Default::default(), &|_| {}).unwrap();
        let names: Vec<_> = i.variables.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(names.len(), 8, "{names:?}");
        assert!(
            names.contains(&"inference/inference:fc.weight"),
            "{names:?}"
        );
    }
    // Nothing was extracted anywhere: the corpus directories hold only the case files.
    for (id, _, _, _) in cases {
        let d = root().join("corpus/cases").join(id);
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 2, "{id}");
    }
}

#[test]
fn files_of_other_formats_are_named_before_any_pickle_reading() {
    use pdsave::source::{sniff, Kind};
    let d = Removed(std::env::temp_dir().join(format!("pdsave-kinds-{}", std::process::id())));
    std::fs::create_dir_all(&d).unwrap();
    // An .npz (a zip of .npy), a text file, a JSON file that is no PIR program.
    let npy = b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    let mut npy = npy.to_vec();
    npy.resize(10 + 0x76 - 1, b' ');
    npy.push(b'\n');
    npy.extend_from_slice(&[0; 4]);
    assert_eq!(sniff(&npy), Kind::Npy);
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("a.npy", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut z, &npy).unwrap();
    let npz = z.finish().unwrap().into_inner();
    for (name, bytes, kind) in [
        ("a.npz", npz.as_slice(), Kind::Zip),
        ("a.txt", &b"obj = 1\nhello\n"[..], Kind::Text),
        ("a.json", &b"{\"a\": 1}"[..], Kind::Text),
        ("a.npy", npy.as_slice(), Kind::Npy),
    ] {
        assert_eq!(sniff(bytes), kind, "{name}");
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        // paddle.load raises ValueError ("can not parse the file", Paddle 3.3.1): an error
        // view, not a refused pickle with a PERSID or OBJ opcode.
        let v = pdsave::view::view(&pdsave::paddle::file::load_file_bytes(
            bytes,
            Default::default(),
        ))
        .unwrap();
        assert_eq!(v["error"], "ValueError", "{name}");
        let r = check(&p);
        assert_eq!(r.exit, Exit::Error, "{name}: {r:#?}");
        assert!(
            r.error
                .as_deref()
                .unwrap()
                .contains("not a Paddle save file")
                || r.error.as_deref().unwrap().contains("no Paddle save file"),
            "{name}: {:?}",
            r.error
        );
    }
    // A tar whose bytes are also a pickle naming os.system is refused, and check says why.
    let p = root().join("corpus/cases/n_archive_tar_polyglot/input.tar");
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(sniff(&bytes), Kind::Tar);
    assert!(pdsave::paddle::file::load_file_bytes(&bytes, Default::default()).is_err());
    let r = check(&p);
    let f = r.findings.iter().find(|f| f.rule == Rule::PAllow).unwrap();
    assert_eq!(f.path, "byte 0");
    assert!(f
        .message
        .starts_with("the archive's own bytes are also a pickle"));
}

#[test]
fn a_huge_int_is_refused_by_view_and_summarised_elsewhere_without_printing_it() {
    // An 8 MiB LONG4 (20 million decimal digits): printing it in decimal took ~46 s.
    let n: usize = 8 << 20;
    let mut b = b"\x80\x02\x8b".to_vec();
    b.extend_from_slice(&(n as i32).to_le_bytes());
    b.resize(b.len() + n, 0x5a);
    b.push(b'.');
    let r = pdsave::paddle::file::load_file_bytes(&b, Default::default());
    let e = pdsave::view::view(&r).unwrap_err();
    assert!(e.to_string().contains("more than 4300 digits"), "{e}");
    let d = Removed(std::env::temp_dir().join(format!("pdsave-long4-{}.pkl", std::process::id())));
    std::fs::write(&d, &b).unwrap();
    let c = check(&d);
    assert!(c
        .findings
        .iter()
        .any(|f| f.rule == Rule::PLimit && f.message.contains("4300")));
    let i = pdsave::inspect::inspect_with(&d, Default::default(), &|_| {}).unwrap();
    let text = pdsave::inspect::render(&i, false);
    assert!(
        text.contains("<int of more than 4300 digits (67108863 bits)>"),
        "{text}"
    );
    let (listing, _) = pdsave::pickle::disasm::disasm(&b);
    assert!(listing.contains("(8388608-byte integer)"));
}

#[test]
fn a_shared_array_is_hashed_once_however_many_paths_reach_it() {
    use pdsave::paddle::object::{Obj, ObjGraph, Tensor, TensorKind};
    use pdsave::paddle::save::{save, SaveOptions, Saved};
    // One 4 MiB tensor reached from 16 list items (memo references in the pickle). (Far
    // more is A-LARGE: paddle.load makes one Tensor per path, pdsave's load budget says no.)
    let t = Obj::Tensor(Tensor {
        kind: TensorKind::Dynamic,
        dtype: pdsave::dtype::DType::Float32,
        shape: vec![1 << 20],
        data: vec![1; 4 << 20],
        name: Some("w".into()),
        stop_gradient: true,
    });
    let x = ObjGraph {
        objs: vec![t, Obj::List(vec![0; 16])],
        root: 1,
        uncached: Default::default(),
    };
    let Saved::Pickle(g) = save(&x, &SaveOptions::default()).unwrap() else {
        panic!()
    };
    let b = pdsave::pickle::encode(&g, &pdsave::pickle::EncodeOptions::like(&g)).unwrap();
    let l = pdsave::paddle::load_pickle(&b, Default::default()).unwrap();
    // The bytes the view hashes: one array's, not 16 times 4 MiB.
    assert_eq!(pdsave::view::array_bytes(&l), 4 << 20);
    let hashed = std::sync::atomic::AtomicU64::new(0);
    let v = pdsave::view::view_with(&Ok(l), &|n| {
        hashed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(hashed.into_inner(), 4 << 20);
    let items = v["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 16);
    assert!(items.iter().all(|t| t["sha256"] == items[0]["sha256"]));
}
