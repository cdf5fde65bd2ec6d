//! `pdsave convert` on real corpus files: every pickle Paddle wrote goes to safetensors and
//! back byte-identically; the safetensors (read with the `safetensors` crate) and `.npz`
//! (read with the `zip` crate and numpy's `.npy` layout) outputs hold what real Paddle's
//! `paddle.load` gave for the file (expected.default.json, values.json); refusals are typed;
//! insta snapshots of the CLI's human output.

use pdsave::dtype::DType;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use pdsave::convert::{convert, ConvertError, ConvertOptions, Format};
use safetensors::tensor::Dtype;
use serde_json::Value as J;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(p: &str) -> PathBuf {
    root().join("corpus/cases").join(p)
}

/// A directory of the test's own under the system temporary directory, removed with
/// everything in it when dropped (also when the test fails).
fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pdsave-convert-test-")
        .tempdir()
        .unwrap()
}

fn json(p: &Path) -> J {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn sha(b: &[u8]) -> String {
    pdsave::view::sha256_hex(b)
}

/// (case id, entry path) of every pickle Paddle wrote (y_/i_ cases of format `pickle`).
fn paddle_pickles() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = std::fs::read_dir(root().join("corpus/cases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("y_") || n.starts_with("i_"))
        .collect();
    ids.sort();
    for id in ids {
        let meta = json(&corpus(&id).join("case.json"));
        // Another release wrote the same bytes: its files are checked in that case.
        if meta["format"] == "pickle" && meta["same_files_as"].is_null() {
            if let Some(e) = meta["entry"].as_str() {
                out.push((id.clone(), corpus(&id).join(e)));
            }
        }
    }
    out
}

fn run(input: &Path, output: &Path) -> Result<pdsave::convert::Report, ConvertError> {
    convert(input, output, &ConvertOptions::default())
}

/// Arrays of a load view by pdsave's names: dotted paths, the root array `tensor`.
fn leaves(node: &J, path: &str, acc: &mut Vec<(String, J)>) {
    let join = |c: &str| {
        if path.is_empty() {
            c.to_string()
        } else {
            format!("{path}.{c}")
        }
    };
    match node["t"].as_str().unwrap_or("") {
        "tensor" | "ndarray" => acc.push((
            if path.is_empty() {
                "tensor".into()
            } else {
                path.into()
            },
            node.clone(),
        )),
        "dict" | "odict" => {
            for (i, kv) in node["items"].as_array().unwrap().iter().enumerate() {
                let k = &kv[0];
                let c = match k["t"].as_str() {
                    Some("str") | Some("int") => k["v"].as_str().unwrap().to_string(),
                    _ => i.to_string(),
                };
                leaves(&kv[1], &join(&c), acc);
            }
        }
        "list" | "tuple" | "set" => {
            for (i, v) in node["items"].as_array().unwrap().iter().enumerate() {
                leaves(v, &join(&i.to_string()), acc);
            }
        }
        _ => {}
    }
}

fn view_leaves(case: &str) -> Option<Vec<(String, J)>> {
    let v = json(&corpus(case).join("expected.default.json"));
    let r = v.get("result")?;
    let mut acc = Vec::new();
    leaves(r, "", &mut acc);
    Some(acc)
}

/// The safetensors dtype (and extra trailing dimension) for a load view's dtype name.
fn st_for_view(kind: &str, dtype: &str) -> (Dtype, bool) {
    match (kind, dtype) {
        ("tensor", "bfloat16") => (Dtype::BF16, false),
        (_, "uint16") => (Dtype::U16, false),
        (_, "complex128") => (Dtype::F64, true),
        (_, d) => (
            match d {
                "bool" => Dtype::BOOL,
                "int8" => Dtype::I8,
                "int16" => Dtype::I16,
                "int32" => Dtype::I32,
                "int64" => Dtype::I64,
                "uint8" => Dtype::U8,
                "uint32" => Dtype::U32,
                "uint64" => Dtype::U64,
                "float16" => Dtype::F16,
                "float32" => Dtype::F32,
                "float64" => Dtype::F64,
                "complex64" => Dtype::C64,
                other => panic!("view dtype {other}"),
            },
            false,
        ),
    }
}

#[test]
fn every_paddle_pickle_round_trips_byte_identically() {
    let scratch = tmp();
    let cases = paddle_pickles();
    assert!(cases.len() >= 300, "{} pickle cases", cases.len());
    let mut same = 0;
    let mut differ = Vec::new();
    for (id, src) in &cases {
        let st = scratch.path().join(format!("{id}.safetensors"));
        let back = scratch.path().join(format!("{id}.pdparams"));
        let r = run(src, &st).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(r.exact, Some(true), "{id}");
        let r2 = run(&st, &back).unwrap_or_else(|e| panic!("{id} back: {e}"));
        assert_eq!(r2.exact, Some(true), "{id}");
        if std::fs::read(src).unwrap() == std::fs::read(&back).unwrap() {
            same += 1;
        } else {
            differ.push(id.clone());
        }
        let _ = std::fs::remove_file(&st);
        let _ = std::fs::remove_file(&back);
    }
    eprintln!(
        "convert round trip: {same} of {} Paddle pickles byte-identical",
        cases.len()
    );
    assert!(differ.is_empty(), "not byte-identical: {differ:?}");
}

#[test]
fn safetensors_hold_what_paddle_load_gave() {
    let scratch = tmp();
    let mut checked = 0;
    for (id, src) in paddle_pickles() {
        let Some(want) = view_leaves(&id) else {
            continue;
        };
        let out = scratch.path().join(format!("{id}.view.safetensors"));
        run(&src, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        for (name, leaf) in &want {
            let t = st
                .tensor(name)
                .unwrap_or_else(|_| panic!("{id}: no tensor {name:?} in {:?}", st.names()));
            let (dtype, pair) =
                st_for_view(leaf["t"].as_str().unwrap(), leaf["dtype"].as_str().unwrap());
            assert_eq!(t.dtype(), dtype, "{id} {name}");
            let mut shape: Vec<u64> = serde_json::from_value(leaf["shape"].clone()).unwrap();
            if pair {
                shape.push(2);
            }
            let got: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
            assert_eq!(got, shape, "{id} {name}");
            assert_eq!(
                sha(t.data()),
                leaf["sha256"].as_str().unwrap(),
                "{id} {name}"
            );
            checked += 1;
        }
        // Tensor names from the load view are in the name table metadata.
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = meta.metadata().clone().unwrap_or_default();
        assert!(meta.contains_key("pdsave.pickle"), "{id}");
        for (name, leaf) in &want {
            if let Some(n) = leaf.get("name").and_then(J::as_str) {
                let table: J = meta
                    .get("StructuredToParameterName@@")
                    .map(|t| serde_json::from_str(t).unwrap())
                    .unwrap_or(J::Null);
                // A tensor saved with an empty name is named `eager_tmp_<N>` by Paddle.
                let got = table[name].as_str();
                if n.starts_with("eager_tmp_") {
                    assert!(
                        got.is_none_or(|g| g.starts_with("eager_tmp_")),
                        "{id} {name}"
                    );
                } else {
                    assert_eq!(got, Some(n), "{id} {name}");
                }
            }
        }
        let _ = std::fs::remove_file(&out);
    }
    assert!(checked > 700, "{checked} arrays checked");
}

/// One `.npy` member: dtype descriptor, shape and its C-order little-endian bytes.
fn read_npy(b: &[u8]) -> (String, Vec<u64>, Vec<u8>) {
    assert_eq!(&b[..6], b"\x93NUMPY");
    let (hl, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        v => panic!("npy version {v}"),
    };
    assert_eq!((start + hl) % 64, 0, "data aligned to 64 bytes");
    let h = std::str::from_utf8(&b[start..start + hl]).unwrap();
    assert!(h.ends_with('\n'));
    let field = |k: &str| {
        let i = h.find(&format!("'{k}': ")).unwrap() + k.len() + 4;
        &h[i..]
    };
    let descr = field("descr")[1..].split('\'').next().unwrap().to_string();
    let fortran = field("fortran_order").starts_with("True");
    let dims = field("shape");
    let dims = &dims[1..dims.find(')').unwrap()];
    let shape: Vec<u64> = dims
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let d = pdsave::dtype::DType::from_numpy_descr(&descr[1..]).unwrap();
    let data = &b[start + hl..];
    let le = pdsave::numpy::to_little_endian(d, descr.as_bytes()[0], data);
    let c = if fortran {
        pdsave::numpy::fortran_to_c(&shape, d.itemsize(), &le)
    } else {
        le.into_owned()
    };
    (descr, shape, c)
}

fn read_npz(p: &Path) -> HashMap<String, (String, Vec<u64>, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut out = HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        assert_eq!(f.compression(), zip::CompressionMethod::Stored);
        let name = f.name().strip_suffix(".npy").unwrap().to_string();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        out.insert(name, read_npy(&b));
    }
    out
}

#[test]
fn npz_holds_what_paddle_load_gave() {
    let scratch = tmp();
    let mut checked = 0;
    for (id, src) in paddle_pickles() {
        let Some(want) = view_leaves(&id) else {
            continue;
        };
        let out = scratch.path().join(format!("{id}.npz"));
        run(&src, &out).unwrap();
        let z = read_npz(&out);
        for (name, leaf) in &want {
            let (descr, shape, data) = z
                .get(name)
                .unwrap_or_else(|| panic!("{id}: no {name:?} in the npz"));
            let view_dtype = leaf["dtype"].as_str().unwrap();
            let np = pdsave::dtype::DType::from_numpy_descr(&descr[1..])
                .unwrap()
                .name();
            assert!(
                np == view_dtype || (view_dtype == "bfloat16" && np == "uint16"),
                "{id} {name}: {descr} for {view_dtype}"
            );
            let want_shape: Vec<u64> = serde_json::from_value(leaf["shape"].clone()).unwrap();
            assert_eq!(shape, &want_shape, "{id} {name}");
            assert_eq!(sha(data), leaf["sha256"].as_str().unwrap(), "{id} {name}");
            checked += 1;
        }
        let _ = std::fs::remove_file(&out);
    }
    assert!(checked > 700, "{checked} arrays checked");
}

/// Prefix and directory cases whose weights Paddle itself read (values.json), whether or
/// not the newest `paddle.load` raises on the path (convert reads the model, not the view);
/// except custom model/params file names, which a PATH alone does not name.
fn model_cases() -> Vec<(String, PathBuf, J)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("corpus/cases")).unwrap() {
        let id = e.unwrap().file_name().to_string_lossy().into_owned();
        let meta = json(&corpus(&id).join("case.json"));
        let fmt = meta["format"].as_str().unwrap_or("");
        if !(fmt == "program+params" || fmt == "directory") || meta["values"].is_null() {
            continue;
        }
        if id.ends_with("dir_filenames") || !meta["same_files_as"].is_null() {
            continue;
        }
        let values = json(&corpus(&id).join(meta["values"].as_str().unwrap()));
        out.push((
            id.clone(),
            corpus(&id).join(meta["entry"].as_str().unwrap()),
            values,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn model_weights_are_paddles_values() {
    let scratch = tmp();
    let cases = model_cases();
    assert!(cases.len() >= 10, "{} model cases", cases.len());
    for (id, src, values) in cases {
        let out = scratch.path().join(format!("{id}.model.safetensors"));
        let r = run(&src, &out).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(matches!(r.input_format, Format::Prefix | Format::Directory));
        let bytes = std::fs::read(&out).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let table: J =
            serde_json::from_str(&meta.metadata().as_ref().unwrap()["StructuredToParameterName@@"])
                .unwrap();
        let values = values.as_array().unwrap();
        assert_eq!(st.len(), values.len(), "{id}");
        let has_info = with_info(&src);
        for v in values {
            let var = v["name"].as_str().unwrap();
            let name = match v["structured_name"].as_str() {
                Some(s) if has_info => s,
                _ => var,
            };
            let t = st
                .tensor(name)
                .unwrap_or_else(|_| panic!("{id}: no {name} in {:?}", st.names()));
            let (dtype, _) = st_for_view("tensor", v["dtype"].as_str().unwrap());
            assert_eq!(t.dtype(), dtype, "{id} {name}");
            let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
            assert_eq!(t.shape(), &shape[..], "{id} {name}");
            assert_eq!(sha(t.data()), v["sha256"].as_str().unwrap(), "{id} {name}");
            assert_eq!(table[name].as_str(), Some(var), "{id} {name}");
        }
        // On to a .pdparams: a plain state dict (no pickle skeleton), named by the table.
        let pd = scratch.path().join(format!("{id}.model.pdparams"));
        let r = run(&out, &pd).unwrap();
        assert_eq!(r.exact, Some(false));
        let data = std::fs::read(&pd).unwrap();
        let view = pdsave::view::view(&pdsave::paddle::file::load_file_bytes(
            &data,
            Default::default(),
        ))
        .unwrap();
        let mut got = Vec::new();
        leaves(&view["result"], "", &mut got);
        assert_eq!(got.len(), values.len(), "{id}");
        for (k, leaf) in got {
            let t = st.tensor(&k).unwrap();
            assert_eq!(leaf["t"], "tensor", "{id} {k}");
            assert_eq!(leaf["name"].as_str(), table[&k].as_str(), "{id} {k}");
            assert_eq!(leaf["sha256"].as_str().unwrap(), sha(t.data()), "{id} {k}");
        }
        let _ = std::fs::remove_file(&out);
        let _ = std::fs::remove_file(&pd);
    }
}

fn with_info(prefix: &Path) -> bool {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".pdiparams.info");
    Path::new(&s).is_file()
}

/// A safetensors file written by someone else (the `safetensors` crate, no metadata).
fn foreign(path: &Path) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    let tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = vec![
        (
            "encoder.weight".into(),
            Dtype::F32,
            vec![2, 3],
            (0..6u32)
                .flat_map(|i| (i as f32 * 0.5).to_le_bytes())
                .collect(),
        ),
        (
            "encoder.bias".into(),
            Dtype::BF16,
            vec![3],
            vec![0x80, 0x3f, 0x00, 0x40, 0x40, 0x40],
        ),
        (
            "steps".into(),
            Dtype::I64,
            vec![],
            7i64.to_le_bytes().to_vec(),
        ),
        ("mask".into(), Dtype::U16, vec![2], vec![1, 0, 255, 255]),
        ("empty".into(), Dtype::F16, vec![0, 4], vec![]),
    ];
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
    tensors
}

#[test]
fn foreign_safetensors_become_the_state_dict_paddle_save_writes() {
    use pdsave::paddle::object::{Array, Obj, ObjGraph, Tensor, TensorKind};
    use pdsave::paddle::save::{save, SaveOptions, Saved};
    let scratch = tmp();
    let src = scratch.path().join("foreign.safetensors");
    let tensors = foreign(&src);
    for protocol in [4u8, 2] {
        let out = scratch.path().join(format!("foreign{protocol}.pdparams"));
        let opts = ConvertOptions {
            protocol,
            ..ConvertOptions::default()
        };
        let r = convert(&src, &out, &opts).unwrap();
        assert_eq!(r.exact, Some(false));
        assert!(r.notes.iter().any(|n| n.contains("mask")), "{:?}", r.notes);
        // The reference saver on the same dict, in the file's order (by data offset).
        let bytes = std::fs::read(&src).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let mut obj = ObjGraph::default();
        let root = obj.add(Obj::None);
        let mut items = Vec::new();
        for name in meta.offset_keys() {
            let t = st.tensor(&name).unwrap();
            let shape: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
            let k = obj.add(Obj::Str(name.clone()));
            let v = match t.dtype() {
                Dtype::U16 => Obj::NdArray(Array {
                    dtype: pdsave::dtype::DType::UInt16,
                    order: b'<',
                    shape,
                    fortran: false,
                    data: t.data().to_vec(),
                }),
                d => Obj::Tensor(Tensor {
                    kind: TensorKind::Parameter,
                    dtype: match d {
                        Dtype::F32 => DType::Float32,
                        Dtype::BF16 => DType::BFloat16,
                        Dtype::I64 => DType::Int64,
                        Dtype::F16 => DType::Float16,
                        _ => unreachable!(),
                    },
                    shape,
                    data: t.data().to_vec(),
                    name: Some(name.clone()),
                    stop_gradient: false,
                }),
            };
            let v = obj.add(v);
            items.push((k, v));
        }
        obj.objs[root] = Obj::Dict(items);
        let Saved::Pickle(g) = save(
            &obj,
            &SaveOptions {
                protocol: protocol as i64,
                ..SaveOptions::default()
            },
        )
        .unwrap() else {
            panic!()
        };
        let want = pdsave::pickle::encode(
            &g,
            &pdsave::pickle::EncodeOptions {
                protocol,
                flavour: None,
            },
        )
        .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), want, "protocol {protocol}");
        // paddle.load's view: tensors named by their keys, bf16 kept, uint16 an ndarray.
        let view = pdsave::view::view(&pdsave::paddle::file::load_file_bytes(
            &want,
            Default::default(),
        ))
        .unwrap();
        let mut got = Vec::new();
        leaves(&view["result"], "", &mut got);
        assert_eq!(got.len(), tensors.len());
        for (name, d, shape, data) in &tensors {
            let leaf = &got.iter().find(|(k, _)| k == name).unwrap().1;
            let kind = if *d == Dtype::U16 {
                "ndarray"
            } else {
                "tensor"
            };
            assert_eq!(leaf["t"], kind, "{name}");
            assert_eq!(st_for_view(kind, leaf["dtype"].as_str().unwrap()).0, *d);
            assert_eq!(leaf["shape"], serde_json::json!(shape));
            assert_eq!(leaf["sha256"].as_str().unwrap(), sha(data));
            if kind == "tensor" {
                assert_eq!(leaf["name"].as_str(), Some(name.as_str()));
            }
        }
    }
}

#[test]
fn big_parameter_slices_merge_and_split_back() {
    use pdsave::paddle::object::{Obj, ObjGraph, Tensor, TensorKind};
    use pdsave::paddle::save::{save, SaveOptions, Saved};
    let scratch = tmp();
    let mut obj = ObjGraph::default();
    let root = obj.add(Obj::None);
    let k = obj.add(Obj::Str("fc.weight".into()));
    let data: Vec<u8> = (0..24u16).flat_map(|i| (i * 3).to_le_bytes()).collect();
    let v = obj.add(Obj::Tensor(Tensor {
        kind: TensorKind::Parameter,
        dtype: DType::BFloat16,
        shape: vec![4, 6],
        data: data.clone(),
        name: Some("linear_0.w_0".into()),
        stop_gradient: false,
    }));
    obj.objs[root] = Obj::Dict(vec![(k, v)]);
    let opts = SaveOptions {
        protocol: 2,
        big_param_bytes: 10,
        ..SaveOptions::default()
    };
    let Saved::Pickle(g) = save(&obj, &opts).unwrap() else {
        panic!()
    };
    let bytes = pdsave::pickle::encode(&g, &pdsave::pickle::EncodeOptions::like(&g)).unwrap();
    let src = scratch.path().join("split.pdparams");
    std::fs::write(&src, &bytes).unwrap();
    // The file holds slices fc.weight@@.0 … and UnpackBigParamInfor@@.
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("fc.weight@@.4") && text.contains("UnpackBigParamInfor@@"));
    let st_path = scratch.path().join("split.safetensors");
    run(&src, &st_path).unwrap();
    let st_bytes = std::fs::read(&st_path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&st_bytes).unwrap();
    assert_eq!(st.names(), vec!["fc.weight"]);
    let t = st.tensor("fc.weight").unwrap();
    assert_eq!((t.dtype(), t.shape()), (Dtype::BF16, &[4usize, 6][..]));
    assert_eq!(t.data(), &data[..]);
    let back = scratch.path().join("split.back.pdparams");
    run(&st_path, &back).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), bytes);
}

#[test]
fn edited_tensor_values_go_back_into_the_pickle() {
    let scratch = tmp();
    let src = corpus("y_p3_proto4_linear_state_dict/model.pdparams");
    let st_path = scratch.path().join("edit.safetensors");
    run(&src, &st_path).unwrap();
    let bytes = std::fs::read(&st_path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let zeros: Vec<(String, Vec<u8>, Dtype, Vec<usize>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, vec![0u8; t.data().len()], t.dtype(), t.shape().to_vec()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = zeros
        .iter()
        .map(|(n, b, d, s)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let edited = scratch.path().join("edited.safetensors");
    safetensors::serialize_to_file(views, meta.metadata().clone(), &edited).unwrap();
    let back = scratch.path().join("edited.pdparams");
    run(&edited, &back).unwrap();
    let data = std::fs::read(&back).unwrap();
    let orig = std::fs::read(&src).unwrap();
    assert_eq!(data.len(), orig.len());
    assert_ne!(data, orig);
    let view = pdsave::view::view(&pdsave::paddle::file::load_file_bytes(
        &data,
        Default::default(),
    ))
    .unwrap();
    let mut got = Vec::new();
    leaves(&view["result"], "", &mut got);
    for (_, leaf) in got {
        let n: u64 = leaf["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .product();
        assert_eq!(
            leaf["sha256"].as_str().unwrap(),
            sha(&vec![0u8; n as usize * 4])
        );
    }
}

fn expect_err(input: &Path, output: &Path) -> ConvertError {
    match run(input, output) {
        Ok(_) => panic!("{} → {}: converted", input.display(), output.display()),
        Err(e) => e,
    }
}

#[test]
fn refusals_are_typed_and_name_the_file() {
    let scratch = tmp();
    let out = scratch.path().join("refused.safetensors");
    // Unsafe pickles are refused, never executed.
    let e = expect_err(&corpus("n_os_system/input.bin"), &out);
    assert!(matches!(e, ConvertError::Pickle { .. }), "{e}");
    assert!(
        e.to_string().contains("n_os_system") && e.to_string().contains("os"),
        "{e}"
    );
    // paddle.load cannot tell which file is the program there: neither can convert.
    let e = expect_err(&corpus("y_p2_inference_model_dir_filenames/model"), &out);
    assert!(matches!(e, ConvertError::Model { .. }), "{e}");
    // Unknown output format; a pickle to a pickle.
    let src = corpus("y_p3_proto4_linear_state_dict/model.pdparams");
    let e = expect_err(&src, &scratch.path().join("x.bin"));
    assert!(matches!(e, ConvertError::Unsupported { .. }) && e.to_string().contains("--to"));
    let e = expect_err(&src, &scratch.path().join("x.pdparams"));
    assert!(e.to_string().contains("reencode"), "{e}");
    // A missing input.
    let e = expect_err(&scratch.path().join("does-not-exist"), &out);
    assert!(matches!(e, ConvertError::Unsupported { .. }), "{e}");

    // safetensors: truncated, header length beyond the file, a lying shape.
    let good = scratch.path().join("good.safetensors");
    run(&src, &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let pd = scratch.path().join("out.pdparams");
    let bad = scratch.path().join("bad.safetensors");
    std::fs::write(&bad, &bytes[..bytes.len() - 3]).unwrap();
    assert!(matches!(
        expect_err(&bad, &pd),
        ConvertError::Safetensors { .. }
    ));
    let mut huge = bytes.clone();
    huge[..8].copy_from_slice(&(u64::MAX - 4).to_le_bytes());
    std::fs::write(&bad, &huge).unwrap();
    assert!(matches!(
        expect_err(&bad, &pd),
        ConvertError::Safetensors { .. }
    ));
    std::fs::write(&bad, b"\x02\x00").unwrap();
    assert!(matches!(
        expect_err(&bad, &pd),
        ConvertError::Safetensors { .. }
    ));

    // The skeleton and the tensors must agree.
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let write = |tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
                 meta: HashMap<String, String>| {
        let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
            .iter()
            .map(|(n, d, s, b)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
                )
            })
            .collect();
        safetensors::serialize_to_file(views, Some(meta), &bad).unwrap();
    };
    let orig: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    let meta = meta.metadata().clone().unwrap();
    // A tensor missing.
    write(orig[1..].to_vec(), meta.clone());
    let e = expect_err(&bad, &pd);
    assert!(
        matches!(e, ConvertError::Skeleton { .. }) && e.to_string().contains("not in the file"),
        "{e}"
    );
    // A tensor of another shape or dtype.
    let mut t = orig.clone();
    t[0].2 = vec![t[0].3.len() / 4, 1];
    write(t, meta.clone());
    assert!(expect_err(&bad, &pd).to_string().contains("shape"));
    let mut t = orig.clone();
    t[0].1 = Dtype::I32;
    write(t, meta.clone());
    assert!(expect_err(&bad, &pd).to_string().contains("cannot hold"));
    // A tensor the pickle has no place for.
    let mut t = orig.clone();
    t.push(("extra".into(), Dtype::U8, vec![1], vec![9]));
    write(t, meta.clone());
    let e = expect_err(&bad, &pd);
    assert!(
        matches!(e, ConvertError::Tensor { ref name, .. } if name == "extra"),
        "{e}"
    );
    // A skeleton that is not JSON, or not a skeleton.
    for s in ["{", "{\"pdsave_skeleton\": 99}", "{\"pdsave_skeleton\":1,\"protocol\":4,\"root\":0,\"nodes\":[[\"global\",\"os\",\"system\"]]}"] {
        let mut m = meta.clone();
        m.insert("pdsave.pickle".into(), s.into());
        write(orig.clone(), m);
        assert!(matches!(expect_err(&bad, &pd), ConvertError::Skeleton { .. }), "{s}");
    }
    // float8 has no tensor in pdsave's paddle.save.
    write(
        vec![("f8".into(), Dtype::F8_E4M3, vec![2], vec![1, 2])],
        HashMap::new(),
    );
    let e = expect_err(&bad, &pd);
    assert!(
        matches!(e, ConvertError::Tensor { ref name, .. } if name == "f8"),
        "{e}"
    );
    assert!(!pd.exists(), "a refused conversion leaves no output");
}

#[test]
fn corrupted_safetensors_never_panic() {
    let scratch = tmp();
    let src = corpus("y_p3_proto4_adam_lr_state_dict/adam.pdopt");
    let good = scratch.path().join("fuzz-good.safetensors");
    run(&src, &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let bad = scratch.path().join("fuzz.safetensors");
    let pd = scratch.path().join("fuzz.pdparams");
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut errors = 0;
    for _ in 0..300 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % b.len() as u64) as usize;
            b[i] = (seed >> 32) as u8;
        }
        std::fs::write(&bad, &b).unwrap();
        if run(&bad, &pd).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
}

/// Runs the CLI; the test's own directory `dir` reads `$TMP/` in what it prints.
fn cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pdsave"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let tmpdir = dir.join("").display().to_string();
    let clean = |s: &[u8]| String::from_utf8_lossy(s).replace(&tmpdir, "$TMP/");
    (
        out.status.code().unwrap_or(-1),
        clean(&out.stdout),
        clean(&out.stderr),
    )
}

fn snap(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = cli(dir, args);
    format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}")
}

#[test]
fn cli_bf16_state_dict_to_safetensors_and_back() {
    let scratch = tmp();
    let st = scratch.path().join("cli-bf16.safetensors");
    let st_s = st.to_str().unwrap();
    insta::assert_snapshot!(snap(
        scratch.path(),
        &[
            "convert",
            "corpus/cases/y_p3_proto4_bf16_state_dict/model.pdparams",
            st_s
        ]
    ));
    let back = scratch.path().join("cli-bf16.pdparams");
    insta::assert_snapshot!(snap(
        scratch.path(),
        &["convert", st_s, back.to_str().unwrap()]
    ));
}

#[test]
fn cli_optimizer_state_to_npz() {
    let scratch = tmp();
    let out = scratch.path().join("cli-adam.npz");
    insta::assert_snapshot!(snap(
        scratch.path(),
        &[
            "convert",
            "corpus/cases/y_p3_proto4_adam_lr_state_dict/adam.pdopt",
            out.to_str().unwrap()
        ]
    ));
}

#[test]
fn cli_jit_save_prefix_to_safetensors() {
    let scratch = tmp();
    let out = scratch.path().join("cli-net.safetensors");
    insta::assert_snapshot!(snap(
        scratch.path(),
        &[
            "convert",
            "corpus/cases/y_p3_legacy_jit_save_prefix/net",
            out.to_str().unwrap()
        ]
    ));
}

#[test]
fn cli_refusal_exit_code_and_json_report() {
    let scratch = tmp();
    let (code, out, err) = cli(
        scratch.path(),
        &[
            "convert",
            "corpus/cases/n_os_system/input.bin",
            scratch.path().join("r.safetensors").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with("pdsave: convert: corpus/cases/n_os_system/input.bin"),
        "{err}"
    );
    let (code, _, _) = cli(
        scratch.path(),
        &["convert", "x.pdparams", "y", "--to", "tar"],
    );
    assert_eq!(code, 2);
    let (code, out, _) = cli(
        scratch.path(),
        &[
            "convert",
            "--json",
            "corpus/cases/y_p3_pir_save_inference_model_prefix/model",
            scratch.path().join("pir.safetensors").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    let j: J = serde_json::from_str(&out).unwrap();
    assert_eq!(j["input_format"], "prefix");
    assert_eq!(j["output_format"], "safetensors");
    let tensors = j["tensors"].as_array().unwrap();
    let values = json(&corpus("y_p3_pir_save_inference_model_prefix/values.json"));
    assert_eq!(tensors.len(), values.as_array().unwrap().len());
    for t in tensors {
        let v = values
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == t["name"])
            .unwrap();
        assert_eq!(t["shape"], v["shape"]);
    }
}

/// Found by the `convert` fuzz target: a skeleton that keys a dict by a dict. The pickle is
/// rebuilt exactly as the skeleton says (the round trip of a pickle Paddle cannot load back,
/// such as a set holding a Tensor, must be exact: L-FILE); the report says that
/// paddle.load raises TypeError on it, and so does the view.
#[test]
fn fuzz_skeleton_with_an_unhashable_key_converts_and_says_it_does_not_load() {
    let scratch = tmp();
    let input = root().join("tests/data/convert_fuzz_unhashable_key.safetensors");
    let out = scratch.path().join("fuzz_unhashable.pdparams");
    let report = run(&input, &out).unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("unhashable") && n.contains("TypeError")),
        "{:?}",
        report.notes
    );
    let data = std::fs::read(&out).unwrap();
    let e = pdsave::paddle::load_pickle(&data, Default::default()).unwrap_err();
    assert_eq!(e.python_class(), Some(pdsave::rules::PyExc::TypeError));
}

/// Found by the `convert` fuzz target: a pickle whose PROTO says 0. Its skeleton recorded
/// protocol 0, which the way back refuses; it records what `reencode` writes (2-4).
#[test]
fn fuzz_protocol0_pickle_round_trips_as_reencode_writes_it() {
    let scratch = tmp();
    let input = root().join("tests/data/convert_fuzz_proto0.pdparams");
    let data = std::fs::read(&input).unwrap();
    let g = pdsave::pickle::decode(&data).unwrap();
    let want = pdsave::pickle::encode(&g, &pdsave::pickle::EncodeOptions::like(&g)).unwrap();
    let (st, back) = (
        scratch.path().join("fuzz_proto0.safetensors"),
        scratch.path().join("fuzz_proto0.pdparams"),
    );
    run(&input, &st).unwrap();
    run(&st, &back).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), want);
}

/// Found by the `convert` fuzz target: a tampered skeleton that rebuilds a tensor tuple
/// the decoder refuses. What convert writes from a skeleton is decoded before it is put in
/// place; this one is refused and leaves no output.
#[test]
fn fuzz_skeleton_rebuilding_an_undecodable_pickle_is_refused() {
    let scratch = tmp();
    let input = root().join("tests/data/convert_fuzz_bad_tensor_tuple.safetensors");
    let out = scratch.path().join("fuzz_bad_tuple.pdparams");
    let _ = std::fs::remove_file(&out);
    let e = run(&input, &out).unwrap_err();
    assert!(e.to_string().contains("does not decode"), "{e}");
    assert!(!out.exists());
}
