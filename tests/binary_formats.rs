//! Binary formats against real Paddle files: tensor streams, combined `.pdiparams`,
//! ProgramDesc protobuf and PIR JSON programs.

use std::path::{Path, PathBuf};

use pdsave::program::{self, load_inference_model, summarize_program};
use pdsave::tensor_stream::{self as ts, decode_combined, decode_dense_tensor, DataType};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn sha256_hex(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    d.iter().map(|x| format!("{x:02x}")).collect()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn dev_root() -> Option<PathBuf> {
    std::env::var_os("PDSAVE_SAMPLES").map(PathBuf::from)
}

#[test]
fn dev_samples() {
    let Some(root) = dev_root() else { return };
    // tensor streams with meta.json
    for ver in ["p2", "p3"] {
        let dir = root.join("ts").join(ver);
        let meta: Value = serde_json::from_slice(&read(&dir.join("meta.json"))).unwrap();
        for (name, m) in meta.as_object().unwrap() {
            let Some(sha) = m.get("sha") else { continue };
            let bytes = read(&dir.join(format!("{name}.pdtensor")));
            let t = decode_dense_tensor(&bytes).unwrap_or_else(|e| panic!("{ver}/{name}: {e}"));
            assert_eq!(sha256_hex(t.data), sha.as_str().unwrap(), "{ver}/{name}");
            assert_eq!(t.encode().unwrap(), bytes, "{ver}/{name}");
            eprintln!("{ver}/{name}: {:?} {:?}", t.desc.data_type, t.desc.dims);
        }
        let bytes = read(&dir.join("lod.pdtensor"));
        let t = decode_dense_tensor(&bytes).unwrap();
        let lod: Vec<Vec<u64>> = t.lod.iter().map(|l| l.offsets().collect()).collect();
        eprintln!("lod {lod:?}");
        assert_eq!(t.encode().unwrap(), bytes);
        let bytes = read(&dir.join("sr.pdsr"));
        let sr = ts::decode_selected_rows(&bytes).unwrap();
        eprintln!("sr rows {:?} height {}", sr.rows().collect::<Vec<_>>(), sr.height);
        assert_eq!(sr.encode().unwrap(), bytes);
    }
    // models with truth.json
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.file_name().unwrap() != "truth.json" {
                continue;
            }
            let dir = p.parent().unwrap();
            let truth: Value = serde_json::from_slice(&read(&p)).unwrap();
            let prog_path = if dir.join("model.json").exists() {
                dir.join("model.json")
            } else {
                dir.join("model.pdmodel")
            };
            let prog = read(&prog_path);
            let params = read(&dir.join("model.pdiparams"));
            let s = summarize_program(&prog).unwrap();
            eprintln!(
                "{}: {:?} v{:?} feeds {:?} fetch {:?} reenc {:?} ops {:?}",
                prog_path.display(),
                s.format,
                s.version,
                s.feed_targets,
                s.fetch_targets,
                s.reencodes_identically,
                s.op_counts
            );
            let named = load_inference_model(&prog, &params).unwrap();
            let tp = truth["params"].as_array().unwrap();
            assert_eq!(named.len(), tp.len());
            for (n, t) in named.iter().zip(tp) {
                assert_eq!(n.name, t["name"].as_str().unwrap());
                assert_eq!(sha256_hex(n.record.tensor.data), t["sha256"].as_str().unwrap(), "{}", n.name);
                assert!(n.matches_declaration(), "{} {:?} {:?}", n.name, n.declared, n.record.tensor.desc);
            }
            let recs = decode_combined(&params).unwrap();
            let tensors: Vec<_> = recs.into_iter().map(|r| r.tensor).collect();
            assert_eq!(ts::encode_combined(&tensors).unwrap(), params);
            let feeds: Vec<&str> = truth["feeds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            assert_eq!(s.feed_targets, feeds);
        }
    }
    // programs without params
    for p in ["prog/p2/ssave/model.pdmodel", "prog/p3old/ssave/model.pdmodel", "prog/p3/ssave/model.json"] {
        let s = summarize_program(&read(&root.join(p))).unwrap();
        eprintln!("{p}: {} persistable, reenc {:?}, {:?}", s.persistable.len(), s.reencodes_identically, s.parameter_names());
    }
    let _ = (DataType::Bool, program::ProgramFormat::PirJson);
}
