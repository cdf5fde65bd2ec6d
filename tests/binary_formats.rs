//! Binary formats against real Paddle files: DenseTensor/SelectedRows streams, combined
//! `.pdiparams`, ProgramDesc protobuf and PIR JSON programs, plus structural-error and
//! hostile-input tests built by mutating real files.
//!
//! Inputs: every case of the committed corpus (`corpus/cases/*/case.json`) whose `format` is
//! `tensor_stream`, `program+params`, `program` or `directory`, and the small samples in
//! `tests/data/binary/` (same layout; see its README). Expected values come from the cases'
//! `values.json`, written by real Paddle; no Python runs here.

use pdsave::dtype::DType;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pdsave::program::{
    self, load_inference_model, load_with_names, parse_program_desc, summarize_program, ModelError,
    ProgramError, ProgramFormat,
};
use pdsave::tensor_stream::{
    decode_combined, decode_dense_tensor, decode_dense_tensor_prefix, decode_selected_rows,
    encode_combined, DenseTensor, TensorStreamError as E,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

struct Case {
    id: String,
    dir: PathBuf,
    meta: Value,
    values: Vec<Value>,
}

impl Case {
    fn format(&self) -> &str {
        self.meta["format"].as_str().unwrap_or("")
    }
    fn entry(&self) -> PathBuf {
        self.dir.join(self.meta["entry"].as_str().expect("entry"))
    }
}

fn cases_in(dir: &Path) -> Vec<Case> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        let cj = d.join("case.json");
        if !cj.exists() {
            continue;
        }
        let meta: Value = serde_json::from_slice(&read(&cj)).expect("case.json");
        // Another release wrote the same bytes: its files are checked in that case.
        if meta.get("same_files_as").is_some_and(|v| !v.is_null()) {
            continue;
        }
        let values = match meta.get("values").and_then(Value::as_str) {
            Some(v) => serde_json::from_slice::<Value>(&read(&d.join(v)))
                .expect("values.json")
                .as_array()
                .cloned()
                .unwrap_or_default(),
            None if d.join("values.json").exists() => {
                serde_json::from_slice::<Value>(&read(&d.join("values.json")))
                    .expect("values.json")
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        let id = meta["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| d.display().to_string());
        out.push(Case {
            id,
            dir: d,
            meta,
            values,
        });
    }
    out
}

/// Corpus cases plus the local samples, filtered by format. `PDSAVE_CORPUS` overrides the
/// corpus directory (e.g. a freshly generated one).
fn cases(format: &str) -> Vec<Case> {
    let corpus = std::env::var_os("PDSAVE_CORPUS")
        .map_or_else(|| root().join("corpus/cases"), PathBuf::from);
    let mut all = cases_in(&corpus);
    all.extend(cases_in(&root().join("tests/data/binary")));
    all.into_iter().filter(|c| c.format() == format).collect()
}

fn local(id: &str, file: &str) -> Vec<u8> {
    read(&root().join("tests/data/binary").join(id).join(file))
}

/// Normalizes a dtype string from values.json ("float32", "paddle.float32", "VarType.FP32").
fn dtype_of(s: &str) -> DType {
    let s = s.trim_start_matches("paddle.");
    if let Some(d) = DType::from_name(s) {
        return d;
    }
    let legacy = match s.trim_start_matches("VarType.") {
        "BOOL" => "bool",
        "INT8" => "int8",
        "INT16" => "int16",
        "INT32" => "int32",
        "INT64" => "int64",
        "UINT8" => "uint8",
        "FP16" => "float16",
        "BF16" => "bfloat16",
        "FP32" => "float32",
        "FP64" => "float64",
        "COMPLEX64" => "complex64",
        "COMPLEX128" => "complex128",
        other => panic!("unknown dtype in values.json: {other}"),
    };
    DType::from_name(legacy).expect("dtype")
}

fn shape_of(v: &Value) -> Vec<i64> {
    v["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_i64().expect("dim"))
        .collect()
}

/// Asserts a decoded tensor equals a values.json entry (dtype, shape, sha256 of the data).
fn check_value(label: &str, t: &DenseTensor<'_>, v: &Value) {
    assert_eq!(
        t.desc.data_type,
        dtype_of(v["dtype"].as_str().expect("dtype")),
        "{label}: dtype"
    );
    assert_eq!(t.desc.dims, shape_of(v), "{label}: shape");
    assert_eq!(
        sha256_hex(t.data),
        v["sha256"].as_str().expect("sha256"),
        "{label}: sha256"
    );
    if let Some(lod) = v.get("lod") {
        let want: Vec<Vec<u64>> = serde_json::from_value(lod.clone()).expect("lod");
        let got: Vec<Vec<u64>> = t.lod.iter().map(|l| l.offsets().collect()).collect();
        assert_eq!(got, want, "{label}: lod");
    }
}

/// The data slice must point into the input buffer (borrowed, not copied).
fn assert_borrowed(input: &[u8], data: &[u8]) {
    let r = input.as_ptr_range();
    let d = data.as_ptr_range();
    assert!(
        data.is_empty() || (r.start <= d.start && d.end <= r.end),
        "data was copied"
    );
}

fn program_file(prefix: &Path) -> PathBuf {
    let json = prefix.with_extension("json");
    let name = prefix.file_name().unwrap().to_string_lossy().to_string();
    let json = if json.file_name().unwrap().to_string_lossy() == format!("{name}.json") {
        json
    } else {
        prefix.parent().unwrap().join(format!("{name}.json"))
    };
    if json.exists() {
        json
    } else {
        prefix.parent().unwrap().join(format!("{name}.pdmodel"))
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let name = prefix.file_name().unwrap().to_string_lossy().to_string();
    prefix.parent().unwrap().join(format!("{name}{suffix}"))
}

/// Checks a program file: it summarizes, and a legacy ProgramDesc re-encodes byte-identically.
fn check_program(label: &str, bytes: &[u8]) -> program::ProgramSummary {
    let s = summarize_program(bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
    match s.format {
        ProgramFormat::ProgramDesc => {
            assert_eq!(
                s.reencodes_identically,
                Some(true),
                "{label}: .pdmodel re-encoding differs"
            );
            let desc = parse_program_desc(bytes).unwrap();
            assert_eq!(program::encode_program_desc(&desc), bytes, "{label}");
        }
        ProgramFormat::PirJson => assert!(s.version.is_some(), "{label}: PIR version"),
    }
    s
}

/// Names of the .pdiparams.info pickle (legacy jit.save): the keys of its dict, in order.
fn info_names(bytes: &[u8]) -> Vec<String> {
    let v = serde_pickle::value_from_slice(bytes, serde_pickle::DeOptions::new()).expect("pickle");
    match v {
        serde_pickle::Value::Dict(d) => d
            .keys()
            .map(|k| match k {
                serde_pickle::HashableValue::String(s) => s.clone(),
                other => panic!("info key {other:?}"),
            })
            .collect(),
        other => panic!("info is not a dict: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// real files: decode = Paddle's values, re-encode = input bytes

#[test]
fn tensor_stream_cases_decode_and_reencode() {
    let cs = cases("tensor_stream");
    assert!(
        cs.len() >= 5,
        "expected tensor_stream cases, found {}",
        cs.len()
    );
    let (mut single, mut combined, mut rows, mut rejected) = (0, 0, 0, 0);
    for c in &cs {
        let bytes = read(&c.entry());
        let label = &c.id;
        if c.meta.get("expect").and_then(Value::as_str) == Some("reject") {
            // hostile corpus cases: must be refused, with the reason the case names
            let want = c
                .meta
                .get("reason_contains")
                .and_then(Value::as_str)
                .unwrap_or("");
            let e = decode_dense_tensor(&bytes).expect_err(label);
            assert!(e.to_string().contains(want), "{label}: {e} lacks {want:?}");
            let e = decode_combined(&bytes).expect_err(label);
            assert!(e.to_string().contains(want), "{label}: {e} lacks {want:?}");
            rejected += 1;
            continue;
        }
        if c.values.first().is_some_and(|v| v.get("rows").is_some()) {
            let sr = decode_selected_rows(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
            let v = &c.values[0];
            let want_rows: Vec<i64> = serde_json::from_value(v["rows"].clone()).unwrap();
            assert_eq!(sr.rows().collect::<Vec<_>>(), want_rows, "{label}");
            assert_eq!(sr.height, v["height"].as_i64().unwrap(), "{label}");
            check_value(label, &sr.value, v);
            assert_borrowed(&bytes, sr.value.data);
            assert_eq!(sr.encode().unwrap(), bytes, "{label}: re-encode");
            rows += 1;
            continue;
        }
        let records = decode_combined(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(records.len(), c.values.len(), "{label}: record count");
        for (r, v) in records.iter().zip(&c.values) {
            check_value(&format!("{label}#{}", r.index), &r.tensor, v);
            assert_borrowed(&bytes, r.tensor.data);
        }
        let tensors: Vec<DenseTensor<'_>> = records.iter().map(|r| r.tensor.clone()).collect();
        assert_eq!(
            encode_combined(&tensors).unwrap(),
            bytes,
            "{label}: re-encode"
        );
        if records.len() == 1 {
            let t = decode_dense_tensor(&bytes).unwrap();
            assert_eq!(t.encode().unwrap(), bytes, "{label}");
            single += 1;
        } else {
            combined += 1;
        }
    }
    eprintln!("tensor_stream: {single} single, {combined} combined, {rows} SelectedRows, {rejected} rejected");
}

#[test]
fn program_params_cases_load_inference_model() {
    let cs = cases("program+params");
    assert!(
        cs.len() >= 3,
        "expected program+params cases, found {}",
        cs.len()
    );
    let (mut pir, mut legacy, mut with_info) = (0, 0, 0);
    for c in &cs {
        let label = &c.id;
        let prefix = c.entry();
        let prog = read(&program_file(&prefix));
        let params = read(&with_suffix(&prefix, ".pdiparams"));
        let s = check_program(label, &prog);
        match s.format {
            ProgramFormat::PirJson => pir += 1,
            ProgramFormat::ProgramDesc => legacy += 1,
        }
        let named = load_inference_model(&prog, &params).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(named.len(), c.values.len(), "{label}: parameter count");
        for (n, v) in named.iter().zip(&c.values) {
            assert_eq!(
                n.name,
                v["name"].as_str().unwrap(),
                "{label}: parameter order"
            );
            check_value(&format!("{label}/{}", n.name), n.tensor(), v);
            assert!(
                n.matches_declaration(),
                "{label}/{}: {:?} vs {:?}",
                n.name,
                n.declared,
                n.tensor().desc
            );
            assert_borrowed(&params, n.tensor().data);
        }
        let tensors: Vec<DenseTensor<'_>> = named.iter().map(|n| n.record.tensor.clone()).collect();
        assert_eq!(
            encode_combined(&tensors).unwrap(),
            params,
            "{label}: .pdiparams re-encode"
        );
        if let Some(feeds) = c.meta.get("feeds").and_then(Value::as_array) {
            let feeds: Vec<&str> = feeds.iter().filter_map(Value::as_str).collect();
            assert_eq!(s.feed_targets, feeds, "{label}: feeds");
        }
        let info = with_suffix(&prefix, ".pdiparams.info");
        if info.exists() {
            let names = info_names(&read(&info));
            assert_eq!(names, s.parameter_names(), "{label}: .pdiparams.info order");
            let by_info = load_with_names(&names, &params).unwrap();
            assert_eq!(by_info.len(), named.len());
            with_info += 1;
        }
    }
    eprintln!("program+params: {pir} PIR, {legacy} legacy, {with_info} with .pdiparams.info");
}

#[test]
fn program_cases_summarize_and_reencode() {
    let cs = cases("program");
    let (mut pir, mut legacy) = (0, 0);
    for c in &cs {
        let bytes = read(&c.entry());
        let s = check_program(&c.id, &bytes);
        assert!(!s.ops.is_empty(), "{}: no ops", c.id);
        assert_eq!(s.op_counts.values().sum::<usize>(), s.ops.len());
        match s.format {
            ProgramFormat::PirJson => pir += 1,
            ProgramFormat::ProgramDesc => legacy += 1,
        }
    }
    eprintln!("program: {pir} PIR, {legacy} legacy");
}

/// `paddle.static.save` writes the program next to `.pdparams`/`.pdopt` pickles; the program's
/// persistable variables (PIR: parameters + persistable `pd_op.data`) must be exactly the
/// pickles' keys, with the same dtypes and shapes.
#[test]
fn static_save_program_persistables_match_pickled_state() {
    let mut checked = 0;
    for c in cases("program") {
        let Some(base) = c.id.rsplit_once('_').map(|(b, _)| b.to_string()) else {
            continue;
        };
        if !base.ends_with("static_save") {
            continue;
        }
        let parent = c.dir.parent().unwrap();
        let mut state: Vec<Value> = Vec::new();
        for sfx in ["pdparams", "pdopt"] {
            let sib = cases_in(parent)
                .into_iter()
                .find(|s| s.id == format!("{base}_{sfx}"));
            state.extend(sib.map(|s| s.values).unwrap_or_default());
        }
        if state.is_empty() {
            continue;
        }
        state.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let s = summarize_program(&read(&c.entry())).unwrap();
        let names: Vec<&str> = state.iter().map(|v| v["name"].as_str().unwrap()).collect();
        assert_eq!(s.parameter_names(), names, "{}", c.id);
        for (decl, v) in s.persistable.iter().zip(&state) {
            assert_eq!(
                decl.dtype,
                Some(dtype_of(v["dtype"].as_str().unwrap())),
                "{}/{}",
                c.id,
                decl.name
            );
            assert_eq!(decl.shape, shape_of(v), "{}/{}", c.id, decl.name);
        }
        checked += 1;
    }
    eprintln!("static.save programs checked against their pickles: {checked}");
}

#[test]
fn directory_cases_per_variable_files() {
    let cs = cases("directory");
    let (mut files, mut dirs, mut with_program) = (0, 0, 0);
    for c in &cs {
        let dir = c.entry();
        let label = &c.id;
        dirs += 1;
        let per_file = c
            .values
            .iter()
            .all(|v| v["name"].as_str().is_some_and(|n| dir.join(n).is_file()));
        if per_file {
            for v in &c.values {
                let name = v["name"].as_str().unwrap();
                let bytes = read(&dir.join(name));
                let t =
                    decode_dense_tensor(&bytes).unwrap_or_else(|e| panic!("{label}/{name}: {e}"));
                check_value(&format!("{label}/{name}"), &t, v);
                assert_eq!(t.encode().unwrap(), bytes, "{label}/{name}: re-encode");
                files += 1;
            }
            for model in ["__model__", "__model__.json"] {
                let p = dir.join(model);
                if p.exists() {
                    let s = check_program(&format!("{label}/{model}"), &read(&p));
                    let want: BTreeSet<&str> =
                        c.values.iter().filter_map(|v| v["name"].as_str()).collect();
                    let got = s.parameter_names();
                    let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
                    assert_eq!(got, want, "{label}: program persistables vs files");
                    let files: Vec<(String, Vec<u8>)> = c
                        .values
                        .iter()
                        .filter_map(|v| v["name"].as_str())
                        .map(|n| (n.to_string(), read(&dir.join(n))))
                        .collect();
                    let named = program::load_separate(&read(&p), |name| {
                        files
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, b)| b.as_slice())
                    })
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                    for (n, v) in named.iter().zip(&c.values) {
                        assert_eq!(n.name, v["name"].as_str().unwrap(), "{label}");
                        check_value(&format!("{label}/{}", n.name), n.tensor(), v);
                        assert!(n.matches_declaration(), "{label}/{}", n.name);
                    }
                    let missing = program::load_separate(&read(&p), |_| None).unwrap_err();
                    assert!(
                        matches!(missing, ModelError::MissingVariableFile { .. }),
                        "{missing}"
                    );
                    with_program += 1;
                }
            }
        } else {
            // model_filename / params_filename inside the directory: find the program and the
            // combined file by content.
            let mut prog = None;
            let mut params = None;
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                let b = read(&p);
                if decode_combined(&b).is_ok_and(|r| r.len() == c.values.len()) {
                    params = Some(b);
                } else if summarize_program(&b).is_ok() {
                    prog = Some(b);
                }
            }
            let (prog, params) = (prog.expect("program file"), params.expect("params file"));
            check_program(label, &prog);
            let named =
                load_inference_model(&prog, &params).unwrap_or_else(|e| panic!("{label}: {e}"));
            for (n, v) in named.iter().zip(&c.values) {
                assert_eq!(n.name, v["name"].as_str().unwrap(), "{label}");
                check_value(&format!("{label}/{}", n.name), n.tensor(), v);
            }
            files += named.len();
        }
    }
    eprintln!("directory: {dirs} directories ({with_program} with __model__), {files} variables");
}

#[test]
fn parameter_order_is_bytewise_and_pir_skips_subblock_parameters() {
    let order = ["B9", "Zeta", "_under", "a.b-c", "alpha", "été"];
    let p3 = summarize_program(&local("p3_cond_names", "model.json")).unwrap();
    assert_eq!(p3.parameter_names(), order);
    // The parameter created inside the cond branch is an op of a nested region; Paddle 3.3.1
    // writes no record for it.
    assert!(p3
        .ops
        .iter()
        .any(|o| o.op_type == "builtin.parameter" && o.block > 0));
    assert_eq!(
        decode_combined(&local("p3_cond_names", "model.pdiparams"))
            .unwrap()
            .len(),
        6
    );
    let p2 = summarize_program(&local("p2_cond_names", "model.pdmodel")).unwrap();
    let mut with_sub = order.to_vec();
    with_sub.insert(5, "in_true_w");
    assert_eq!(p2.parameter_names(), with_sub);
    assert!(p2.block_count > 1);
    let dt = summarize_program(&local("p3_dtype_buffers", "model.json")).unwrap();
    let names = dt.parameter_names();
    let i10 = names.iter().position(|n| n == "eager_tmp_10").unwrap();
    let i2 = names.iter().position(|n| n == "eager_tmp_2").unwrap();
    assert!(i10 < i2, "byte-wise, not natural, order");
}

#[test]
fn summaries_name_feeds_fetches_and_ops() {
    let p3 = summarize_program(&local("p3_cond_names", "model.json")).unwrap();
    assert_eq!(p3.format, ProgramFormat::PirJson);
    assert_eq!(p3.version, Some(4));
    assert_eq!(p3.feed_targets, ["inp"]);
    assert_eq!(p3.fetch_targets, ["fetch_name_0"]);
    assert_eq!(p3.op_counts.get("pd_op.if"), Some(&1));
    assert_eq!(p3.op_counts.get("builtin.parameter"), Some(&7));
    let p = &p3.persistable[0];
    assert_eq!(
        (p.name.as_str(), p.dtype, p.shape.as_slice()),
        ("B9", Some(DType::Float32), &[3i64][..])
    );

    let p2 = summarize_program(&local("p2_cond_names", "model.pdmodel")).unwrap();
    assert_eq!(p2.format, ProgramFormat::ProgramDesc);
    assert_eq!(p2.version, Some(2006002));
    assert_eq!(p2.feed_targets, ["inp"]);
    assert_eq!(p2.fetch_targets.len(), 1);
    assert_eq!(p2.op_counts.get("conditional_block"), Some(&2));
    assert!(!p2.op_versions.is_empty());
    let feed = p2.ops.iter().find(|o| o.op_type == "feed").unwrap();
    assert_eq!(
        feed.outputs,
        vec![("Out".to_string(), vec!["inp".to_string()])]
    );
    let zeta = p2.persistable.iter().find(|v| v.name == "Zeta").unwrap();
    // (save_inference_model's pruned program does not keep is_parameter)
    assert_eq!(
        (zeta.dtype, zeta.shape.as_slice(), zeta.persistable),
        (Some(DType::Float32), &[4i64, 3][..], true)
    );
}

#[test]
fn every_element_type_round_trips() {
    // one combined PIR .pdiparams with 12 element types, plus float8 streams
    let params = local("p3_dtype_buffers", "model.pdiparams");
    let seen: BTreeSet<DType> = decode_combined(&params)
        .unwrap()
        .iter()
        .map(|r| r.tensor.desc.data_type)
        .collect();
    assert_eq!(seen.len(), 12, "{seen:?}");
    for id in ["p3_float8_e4m3fn", "p3_float8_e5m2"] {
        let bytes = local(id, "tensor.pdtensor");
        let t = decode_dense_tensor(&bytes).unwrap();
        assert_eq!(t.desc.data_type.itemsize(), 1);
        assert_eq!(t.data.len(), 24);
    }
    for d in DType::ALL {
        assert_eq!(DType::from_proto_code(i64::from(d.proto_code())), Some(d));
        assert_eq!(DType::from_name(d.name()), Some(d));
        // a synthetic record of each type round-trips through encode/decode
        let data = vec![0xA5u8; 3 * d.itemsize()];
        let t = DenseTensor {
            lod: vec![],
            desc: pdsave::tensor_stream::TensorDesc {
                data_type: d,
                dims: vec![3],
            },
            data: &data,
        };
        let enc = t.encode().unwrap();
        assert_eq!(decode_dense_tensor(&enc).unwrap(), t);
    }
}

// ---------------------------------------------------------------------------------------------
// structural errors, built by mutating real files

/// Layout of tests/data/binary/p3_lod2/tensor.pdtensor (int64 [10, 2], LoD [[0,2,5],[0,1,3,6,8,10]]).
mod lod2 {
    pub const LOD_COUNT: usize = 4;
    pub const LEVEL0_SIZE: usize = 12;
    pub const LEVEL1_SIZE: usize = 44;
    pub const LEVEL1_OFFSETS: usize = 52;
    pub const TENSOR_VERSION: usize = 100;
    pub const DESC_SIZE: usize = 104;
    pub const DESC: usize = 108;
    pub const DATA: usize = 114;
    pub const LEN: usize = 274;
}

fn lod2() -> Vec<u8> {
    let b = local("p3_lod2", "tensor.pdtensor");
    assert_eq!(b.len(), lod2::LEN);
    assert_eq!(
        &b[lod2::DESC..lod2::DATA],
        &[0x08, 0x03, 0x10, 0x0a, 0x10, 0x02]
    );
    b
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The lod2 file with its TensorDesc replaced (desc size updated, data kept).
fn with_desc(desc: &[u8]) -> Vec<u8> {
    let b = lod2();
    let mut out = b[..lod2::DESC_SIZE].to_vec();
    out.extend_from_slice(&(desc.len() as i32).to_le_bytes());
    out.extend_from_slice(desc);
    out.extend_from_slice(&b[lod2::DATA..]);
    out
}

fn err(bytes: &[u8]) -> E {
    decode_dense_tensor(bytes).expect_err("must not decode")
}

#[test]
fn error_unknown_versions() {
    let mut b = lod2();
    b[0] = 1;
    assert_eq!(
        err(&b),
        E::UnsupportedVersion {
            what: "DenseTensor version",
            offset: 0,
            version: 1
        }
    );
    let mut b = lod2();
    put_u32(&mut b, lod2::TENSOR_VERSION, 7);
    assert_eq!(
        err(&b),
        E::UnsupportedVersion {
            what: "tensor version",
            offset: 100,
            version: 7
        }
    );
    let mut sr = local("p3_selected_rows", "rows.pdtensor");
    sr[0] = 2;
    assert_eq!(
        decode_selected_rows(&sr).unwrap_err(),
        E::UnsupportedVersion {
            what: "SelectedRows version",
            offset: 0,
            version: 2
        }
    );
}

#[test]
fn error_truncations() {
    let b = lod2();
    // data shorter than dims say
    assert_eq!(
        err(&b[..200]),
        E::Truncated {
            what: "tensor data",
            offset: lod2::DATA,
            needed: 160,
            available: 86
        }
    );
    assert_eq!(
        err(&b[..2]),
        E::Truncated {
            what: "DenseTensor version",
            offset: 0,
            needed: 4,
            available: 2
        }
    );
    assert_eq!(
        err(&b[..lod2::DESC + 3]),
        E::Truncated {
            what: "TensorDesc",
            offset: 108,
            needed: 6,
            available: 3
        }
    );
    assert_eq!(
        err(&b[..60]),
        E::LodLevelTooLarge {
            level: 1,
            offset: lod2::LEVEL1_SIZE,
            size: 48,
            available: 8
        }
    );
    // every proper prefix fails, and none panics
    for n in 0..b.len() {
        assert!(decode_dense_tensor(&b[..n]).is_err(), "prefix {n} decoded");
    }
    // a desc size larger than the file
    let mut b = lod2();
    put_u32(&mut b, lod2::DESC_SIZE, 1000);
    assert_eq!(
        err(&b),
        E::Truncated {
            what: "TensorDesc",
            offset: 108,
            needed: 1000,
            available: 166
        }
    );
}

#[test]
fn error_lod_levels() {
    // level size not a multiple of 8
    let mut b = lod2();
    put_u64(&mut b, lod2::LEVEL0_SIZE, 23);
    assert_eq!(
        err(&b),
        E::LodLevelSizeNotMultipleOf8 {
            level: 0,
            offset: 12,
            size: 23
        }
    );
    // level larger than the remaining file
    let mut b = lod2();
    put_u64(&mut b, lod2::LEVEL0_SIZE, 8 * 1000);
    assert_eq!(
        err(&b),
        E::LodLevelTooLarge {
            level: 0,
            offset: 12,
            size: 8000,
            available: 254
        }
    );
    let mut b = lod2();
    put_u64(&mut b, lod2::LEVEL0_SIZE, u64::MAX - 7);
    assert!(matches!(err(&b), E::LodLevelTooLarge { level: 0, .. }));
    // level count no file could hold (must fail before allocating anything for it)
    let mut b = lod2();
    put_u64(&mut b, lod2::LOD_COUNT, u64::MAX);
    assert_eq!(
        err(&b),
        E::LodLevelCountTooLarge {
            offset: 4,
            count: u64::MAX,
            available: 262
        }
    );
    // offsets out of order: level 1 [0,1,3,6,8,10] -> [0,1,6,3,8,10]
    let mut b = lod2();
    put_u64(&mut b, lod2::LEVEL1_OFFSETS + 16, 6);
    put_u64(&mut b, lod2::LEVEL1_OFFSETS + 24, 3);
    assert_eq!(
        err(&b),
        E::LodOffsetsOutOfOrder {
            level: 1,
            index: 3,
            offset: lod2::LEVEL1_OFFSETS + 24,
            previous: 6,
            value: 3
        }
    );
}

#[test]
fn error_tensor_desc() {
    let mut b = lod2();
    put_u32(&mut b, lod2::DESC_SIZE, (-1i32) as u32);
    assert_eq!(
        err(&b),
        E::NegativeDescSize {
            offset: 104,
            size: -1
        }
    );
    // does not parse: truncated varint, wrong wire type, field 0
    assert_eq!(
        err(&with_desc(&[0x08, 0x83])),
        E::DescMalformed {
            offset: 110,
            reason: "truncated varint"
        }
    );
    assert_eq!(
        err(&with_desc(&[0x0d, 0x03, 0x00, 0x00, 0x00])),
        E::DescMalformed {
            offset: 108,
            reason: "known field with the wrong wire type"
        }
    );
    assert_eq!(
        err(&with_desc(&[0x00, 0x00])),
        E::DescMalformed {
            offset: 108,
            reason: "field number 0"
        }
    );
    assert_eq!(
        err(&with_desc(&[
            0x08, 0x03, 0x10, 0x0a, 0x10, 0x02, 0x18, 0x01
        ])),
        E::DescUnknownField {
            offset: 114,
            field: 3,
            wire_type: 0
        }
    );
    assert_eq!(
        err(&with_desc(&[0x10, 0x0a, 0x10, 0x02])),
        E::DescMissingDataType { offset: 108 }
    );
    // DENSE_TENSOR (7) is a variable kind, not an element type
    assert_eq!(
        err(&with_desc(&[0x08, 0x07, 0x10, 0x0a, 0x10, 0x02])),
        E::UnknownDataType {
            offset: 109,
            code: 7
        }
    );
    // negative dim: -1 as a 10-byte varint
    let mut neg = vec![0x08, 0x03, 0x10];
    neg.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(
        err(&with_desc(&neg)),
        E::NegativeDim {
            offset: 111,
            index: 0,
            dim: -1
        }
    );
    // dims whose product overflows u64: [2^40, 2^40]
    let mut big = vec![0x08, 0x03];
    for _ in 0..2 {
        big.push(0x10);
        big.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    }
    assert_eq!(
        err(&with_desc(&big)),
        E::ElementCountOverflow {
            offset: 108,
            dims: vec![1 << 40, 1 << 40]
        }
    );
    // product fits but the bytes are not there
    let mut huge = vec![0x08, 0x03, 0x10];
    huge.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    assert!(matches!(
        err(&with_desc(&huge)),
        E::Truncated {
            what: "tensor data",
            ..
        }
    ));
    // packed dims are valid protobuf: decoded, re-encoded canonically (unpacked)
    let packed = with_desc(&[0x08, 0x03, 0x12, 0x02, 0x0a, 0x02]);
    let t = decode_dense_tensor(&packed).unwrap();
    assert_eq!(t.desc.dims, vec![10, 2]);
    assert_eq!(t.encode().unwrap(), lod2());
}

#[test]
fn error_trailing_bytes_and_prefix_decoding() {
    let mut b = lod2();
    b.push(0);
    assert_eq!(
        err(&b),
        E::TrailingBytes {
            offset: 274,
            remaining: 1
        }
    );
    let (t, used) = decode_dense_tensor_prefix(&b).unwrap();
    assert_eq!(used, 274);
    assert_eq!(t.desc.dims, vec![10, 2]);
}

#[test]
fn error_selected_rows() {
    let sr = local("p3_selected_rows", "rows.pdtensor");
    let mut b = sr.clone();
    put_u64(&mut b, 4, u64::MAX / 2);
    assert_eq!(
        decode_selected_rows(&b).unwrap_err(),
        E::RowCountTooLarge {
            offset: 4,
            count: u64::MAX / 2,
            available: sr.len() - 12
        }
    );
    for n in 0..sr.len() {
        assert!(
            decode_selected_rows(&sr[..n]).is_err(),
            "prefix {n} decoded"
        );
    }
}

#[test]
fn error_combined_names_record_index() {
    let one = lod2();
    let mut three = [one.clone(), one.clone(), one.clone()].concat();
    assert_eq!(decode_combined(&three).unwrap().len(), 3);
    three[2 * lod2::LEN] = 9;
    let e = decode_combined(&three).unwrap_err();
    assert_eq!(
        e,
        E::InRecord {
            index: 2,
            offset: 548,
            source: Box::new(E::UnsupportedVersion {
                what: "DenseTensor version",
                offset: 548,
                version: 9
            })
        }
    );
    assert!(matches!(e.root(), E::UnsupportedVersion { .. }));
    let e = decode_combined(&three[..2 * lod2::LEN + 50]).unwrap_err();
    assert!(
        matches!(
            e,
            E::InRecord {
                index: 2,
                offset: 548,
                ..
            }
        ),
        "{e}"
    );
    assert!(decode_combined(&[]).unwrap().is_empty());
}

#[test]
fn error_encode_rejects_inconsistent_tensor() {
    let b = lod2();
    let mut t = decode_dense_tensor(&b).unwrap();
    t.data = &t.data[1..];
    assert!(matches!(
        t.encode(),
        Err(E::DataLengthMismatch { actual: 159, .. })
    ));
    assert!(matches!(
        encode_combined(&[t]),
        Err(E::InRecord { index: 0, .. })
    ));
}

#[test]
fn error_model_count_mismatch_and_bad_programs() {
    let prog = local("p2_cond_names", "model.pdmodel");
    let params = local("p2_cond_names", "model.pdiparams");
    let records = decode_combined(&params).unwrap();
    let last = records.last().unwrap().offset;
    assert_eq!(
        load_inference_model(&prog, &params[..last]),
        Err(ModelError::CountMismatch {
            names: 7,
            records: 6
        })
    );
    let json = local("p3_cond_names", "model.json");
    let jparams = local("p3_cond_names", "model.pdiparams");
    let doubled = [jparams.clone(), jparams.clone()].concat();
    assert_eq!(
        load_inference_model(&json, &doubled),
        Err(ModelError::CountMismatch {
            names: 6,
            records: 12
        })
    );
    // broken params are reported as such
    assert!(matches!(
        load_inference_model(&prog, &params[..params.len() - 1]),
        Err(ModelError::Params(E::InRecord { index: 6, .. }))
    ));
    // a truncated ProgramDesc
    assert!(matches!(
        summarize_program(&prog[..prog.len() / 2]),
        Err(ProgramError::Protobuf(_))
    ));
    // PIR JSON: not JSON, not PIR, structure missing
    use pdsave::program::pir::PirError;
    assert!(matches!(
        summarize_program(b"{\"base_code\": "),
        Err(ProgramError::Pir(PirError::Json { .. }))
    ));
    assert_eq!(
        summarize_program(br#"{"base_code": {"magic": "xyz"}, "program": {}}"#),
        Err(ProgramError::Pir(PirError::NotPir {
            found: Some("xyz".into())
        }))
    );
    assert_eq!(
        summarize_program(br#"{"base_code": {"magic": "pir", "version": 4}}"#),
        Err(ProgramError::Pir(PirError::MissingField {
            path: String::new(),
            field: "program"
        }))
    );
    assert_eq!(
        summarize_program(br##"{"base_code": {"magic": "pir"}, "program": {"regions": [{"blocks": [{"ops": [{"#": "p", "A": 3}]}]}]}}"##),
        Err(ProgramError::Pir(PirError::WrongType {
            path: "/program/regions/0/blocks/0/ops/0/A".into(),
            expected: "an array"
        }))
    );
}

// ---------------------------------------------------------------------------------------------
// hostile input: no panic, whatever the bytes

#[test]
fn mutated_inputs_never_panic() {
    let streams = [
        lod2(),
        local("p3_selected_rows", "rows.pdtensor"),
        local("p3_cond_names", "model.pdiparams"),
    ];
    for base in &streams {
        for i in 0..base.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut b = base.clone();
                b[i] ^= x;
                let _ = decode_dense_tensor(&b);
                let _ = decode_selected_rows(&b);
                let _ = decode_combined(&b);
            }
            let _ = decode_combined(&base[..i]);
            let _ = decode_selected_rows(&base[i..]);
        }
    }
    let prog = local("p2_cond_names", "model.pdmodel");
    for i in (0..prog.len()).step_by(7) {
        let mut b = prog.clone();
        b[i] ^= 0xff;
        let _ = summarize_program(&b);
        let _ = summarize_program(&prog[..i]);
    }
    let json = local("p3_cond_names", "model.json");
    for i in (0..json.len()).step_by(5) {
        let mut b = json.clone();
        b[i] = b'0';
        let _ = summarize_program(&b);
        let _ = summarize_program(&json[..i]);
    }
}
