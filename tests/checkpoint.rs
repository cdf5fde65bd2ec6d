//! The checkpoints of large models (spec/checkpoint.md) on the corpus real Paddle wrote:
//! distributed checkpoints, sharded state dicts and `safetensors=True` files view as real
//! Paddle's load gives (K-VIEW, X-VIEW, L-SAFETENSORS); `convert` writes the full tensors
//! byte for byte as real Paddle holds them; every hand-broken copy is refused naming its
//! key or file (K-STRICT, X-SHARDS); the metadata's classes are allowed only in `.metadata`
//! files (K-META); `reencode` of Paddle-written safetensors files is byte-identical.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pdsave::conformance::corpus::{load_corpus, Case, CaseFormat, Kind};
use pdsave::convert::{convert, ConvertOptions};
use pdsave::paddle::LoadOptions;
use serde_json::Value as J;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<Case> {
    load_corpus(&root().join("corpus"))
        .unwrap()
        .into_iter()
        .filter(|c| {
            matches!(
                c.format,
                CaseFormat::Checkpoint | CaseFormat::Index | CaseFormat::Safetensors
            )
        })
        .collect()
}

fn case(id: &str) -> Case {
    cases().into_iter().find(|c| c.id == id).unwrap()
}

/// A directory of the test's own under the system temporary directory, removed with
/// everything in it when dropped (also when the test fails).
fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pdsave-ckpt-test-")
        .tempdir()
        .unwrap()
}

fn view(path: &Path, opts: LoadOptions) -> Result<J, String> {
    pdsave::paddle::path::with_loaded(path, opts, false, |r| {
        pdsave::view::view(r).map_err(|e| e.to_string())
    })
}

fn opts(set: &str) -> LoadOptions {
    LoadOptions::SETS
        .iter()
        .find(|(n, _)| *n == set)
        .map(|(_, o)| *o)
        .unwrap()
}

fn pdsave(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_pdsave"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn every_checkpoint_index_and_safetensors_case_views_as_real_paddle_loads_it() {
    let cs = cases();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for c in cs.iter().filter(|c| c.kind != Kind::N) {
        for (set, expected) in &c.expected {
            let got = view(&c.entry, opts(set)).unwrap_or_else(|e| panic!("{}@{set}: {e}", c.id));
            assert_eq!(pdsave::view::diff(&got, expected), None, "{}@{set}", c.id);
            *seen.entry(c.format.label()).or_insert(0) += 1;
        }
    }
    // 1, 2 and 4 ranks, 2.6 and 3.x, PaddleFormers shards, safetensors saves.
    assert!(seen["checkpoint"] >= 16, "{seen:?}");
    assert!(seen["index"] >= 4, "{seen:?}");
    assert!(seen["safetensors"] >= 10, "{seen:?}");
}

#[test]
fn an_index_reads_the_same_through_its_directory() {
    let c = case("y_p3_pf_index_safetensors");
    let dir = c.entry.parent().unwrap();
    let (_, e) = c.expected.iter().find(|(n, _)| n == "default").unwrap();
    assert_eq!(
        pdsave::view::diff(&view(dir, opts("default")).unwrap(), e),
        None
    );
}

/// (key, dtype, shape, sha256) of each item of an expected view.
fn items(v: &J) -> Vec<(String, String, J, String)> {
    v["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            (
                kv[0]["v"].as_str().unwrap().to_string(),
                kv[1]["dtype"].as_str().unwrap().to_string(),
                kv[1]["shape"].clone(),
                kv[1]["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn convert_writes_real_paddles_full_tensors_byte_for_byte() {
    let scratch = tmp();
    let mut n = 0;
    for c in cases().iter().filter(|c| {
        c.kind == Kind::Y && matches!(c.format, CaseFormat::Checkpoint | CaseFormat::Index)
    }) {
        let (_, expected) = c.expected.iter().find(|(s, _)| s == "default").unwrap();
        let want = items(expected);
        // safetensors: each tensor's bytes hash as real Paddle's full tensor.
        let out = scratch.path().join(format!("{}.safetensors", c.id));
        convert(&c.entry, &out, &ConvertOptions::default()).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), want.len(), "{}", c.id);
        for (key, dtype, shape, sha) in &want {
            let t = st.tensor(key).unwrap_or_else(|_| panic!("{}: {key}", c.id));
            assert_eq!(pdsave::view::sha256_hex(t.data()), *sha, "{}: {key}", c.id);
            assert_eq!(J::from(t.shape().to_vec()), *shape, "{}: {key}", c.id);
            let d = pdsave::dtype::DType::from_safetensors(t.dtype()).unwrap();
            assert_eq!(d.name(), dtype, "{}: {key}", c.id);
        }
        // .pdparams: paddle.save of the full tensors loads back to the same values.
        let pd = scratch.path().join(format!("{}.pdparams", c.id));
        convert(&c.entry, &pd, &ConvertOptions::default()).unwrap();
        let back = items(&view(&pd, LoadOptions::default()).unwrap());
        let strip = |v: &[(String, String, J, String)]| {
            v.iter()
                .map(|(k, d, s, h)| (k.clone(), d.clone(), s.clone(), h.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&back), strip(&want), "{}", c.id);
        // .npz: one member per key, in order.
        let npz = scratch.path().join(format!("{}.npz", c.id));
        convert(&c.entry, &npz, &ConvertOptions::default()).unwrap();
        let z = zip::ZipArchive::new(std::fs::File::open(&npz).unwrap()).unwrap();
        let names: Vec<String> = z.file_names().map(str::to_string).collect();
        let keys: Vec<String> = want.iter().map(|w| format!("{}.npy", w.0)).collect();
        assert_eq!(names.len(), keys.len(), "{}", c.id);
        n += 1;
    }
    assert!(n >= 9, "{n}");
}

#[test]
fn every_broken_case_is_refused_naming_its_key_or_file() {
    let scratch = tmp();
    let broken: Vec<Case> = cases().into_iter().filter(|c| c.kind == Kind::N).collect();
    assert!(broken.len() >= 11, "{}", broken.len());
    for c in &broken {
        let want = c.meta.reason_contains.as_deref().unwrap();
        let e = view(&c.entry, LoadOptions::default()).expect_err(&c.id);
        assert!(e.contains(want), "{}: {e}", c.id);
        let entry = c.entry.to_str().unwrap();
        let (code, _, err) = pdsave(&["view", entry]);
        assert_eq!(code, 1, "{}: {err}", c.id);
        assert!(err.contains(want), "{}: {err}", c.id);
        // check: findings (exit 1), naming it.
        let (code, out, _) = pdsave(&["check", entry]);
        assert_eq!(code, 1, "{}: {out}", c.id);
        assert!(out.contains(want), "{}: {out}", c.id);
        // convert refuses (exit 2) and leaves nothing behind.
        let out_st = scratch.path().join(format!("{}.safetensors", c.id));
        let (code, _, err) = pdsave(&["convert", entry, out_st.to_str().unwrap()]);
        assert_eq!(code, 2, "{}: {err}", c.id);
        assert!(!out_st.exists(), "{}", c.id);
    }
}

#[test]
fn the_index_findings_name_the_shard_and_the_key() {
    for (id, want) in [
        ("i_p3_index_total_size", "total_size"),
        ("i_p3_index_wrong_shard", "model.embed_tokens.weight"),
        (
            "i_p3_index_missing_shard",
            "model_state-00001-of-00006.pdparams",
        ),
    ] {
        let c = case(id);
        let (code, out, _) = pdsave(&["check", c.entry.to_str().unwrap()]);
        assert_eq!(code, 1, "{id}: {out}");
        assert!(
            out.contains("X-SHARDS") && out.contains(want),
            "{id}: {out}"
        );
    }
}

#[test]
fn paddles_own_checkpoints_and_indexes_check_clean() {
    for c in cases()
        .iter()
        .filter(|c| c.kind == Kind::Y && c.format != CaseFormat::Safetensors)
    {
        let (code, out, err) = pdsave(&["check", c.entry.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {out}{err}", c.id);
    }
    // The metadata file alone: its classes are Paddle's own there.
    let m = case("y_p3_dcp_2rank").entry.join("0.metadata");
    let (code, out, _) = pdsave(&["check", m.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("flex_checkpoint.dcp.metadata.LocalTensorIndex"),
        "{out}"
    );
}

#[test]
fn the_metadata_classes_are_allowed_only_in_metadata_files() {
    let scratch = tmp();
    let m = case("y_p3_dcp_2rank").entry.join("0.metadata");
    let bytes = std::fs::read(&m).unwrap();
    // The same bytes under another name: refused, the class named.
    let e = pdsave::pickle::decode(&bytes).unwrap_err();
    assert!(e.to_string().contains("Metadata"), "{e}");
    let other = scratch.path().join("0.distcp");
    std::fs::write(&other, &bytes).unwrap();
    let (code, out, _) = pdsave(&["check", other.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UNSAFE") || out.contains("P-ALLOW"), "{out}");
    // In a .metadata file: decoded, and re-encoded byte for byte.
    let g = pdsave::pickle::decode_checkpoint_metadata(&bytes).unwrap();
    let again = pdsave::pickle::encode(&g, &pdsave::pickle::EncodeOptions::like(&g)).unwrap();
    assert_eq!(again, bytes);
    // 2.6's module path too.
    let m2 = case("y_p2_dcp_2rank").entry.join("0.metadata");
    let b2 = std::fs::read(&m2).unwrap();
    let md = pdsave::paddle::checkpoint::metadata::parse(&b2).unwrap();
    assert_eq!(md.module, "paddle.distributed.checkpoint.metadata");
    assert!(md
        .tensors
        .iter()
        .all(|(_, m)| m.iter().all(|t| t.dtype.is_none())));
}

#[test]
fn inspect_lists_each_key_with_its_global_shape_and_shards() {
    let c = case("y_p3_dcp_4rank_mesh");
    let r = pdsave::inspect::inspect(&c.entry).unwrap();
    assert_eq!(r.format, pdsave::source::Format::Checkpoint);
    let grid = r.variables.iter().find(|v| v.path == "grid").unwrap();
    assert_eq!(grid.shape, vec![4, 6]);
    assert_eq!(grid.shards.len(), 4);
    let ranks: Vec<Option<u64>> = grid.shards.iter().map(|s| s.rank).collect();
    assert_eq!(ranks, [Some(0), Some(1), Some(2), Some(3)]);
    assert!(grid.shards.iter().all(|s| s.shape == [2, 3]));
    let offsets: Vec<Vec<u64>> = grid
        .shards
        .iter()
        .filter_map(|s| s.offset.clone())
        .collect();
    assert_eq!(offsets, [vec![0, 0], vec![0, 3], vec![2, 0], vec![2, 3]]);
    let (code, out, _) = pdsave(&["inspect", c.entry.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("distributed checkpoint")
            && out.contains("3_0.distcp  rank 3  offset [2, 3]  shape [2, 3]"),
        "{out}"
    );
    // A flattened piece shows its element range.
    let f = case("y_p3_dcp_2rank_flattened");
    let r = pdsave::inspect::inspect(&f.entry).unwrap();
    let w = r.variables.iter().find(|v| v.path == "w").unwrap();
    assert_eq!(w.shards[1].flattened_range, Some((5, 12)));
}

#[test]
fn reencode_of_paddle_written_safetensors_is_byte_identical() {
    let scratch = tmp();
    let mut files: Vec<PathBuf> = vec![];
    for c in cases() {
        let d = c.entry.parent().unwrap().to_path_buf();
        for e in walk(&d) {
            let b = std::fs::read(&e).unwrap();
            if pdsave::source::sniff(&b) == pdsave::source::Kind::Safetensors {
                files.push(e);
            }
        }
    }
    files.sort();
    files.dedup();
    assert!(files.len() >= 10, "{}", files.len());
    for f in &files {
        let out = scratch.path().join("re.safetensors");
        let (code, _, err) =
            pdsave(&["reencode", f.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {err}", f.display());
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(f).unwrap(),
            "{}",
            f.display()
        );
    }
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_streaming_writer_lays_out_files_as_the_safetensors_library() {
    use pdsave::convert::safetensors::{write_stream, Entry};
    use safetensors::tensor::{Dtype, TensorView};
    let scratch = tmp();
    let a: Vec<u8> = (0..24).collect();
    let b: Vec<u8> = (0..6).collect();
    let c: Vec<u8> = (0..8).collect();
    let views = vec![
        ("zeta", TensorView::new(Dtype::F32, vec![2, 3], &a).unwrap()),
        ("alpha", TensorView::new(Dtype::BF16, vec![3], &b).unwrap()),
        ("mid", TensorView::new(Dtype::I64, vec![1], &c).unwrap()),
    ];
    let meta = HashMap::from([("format".to_string(), "np".to_string())]);
    let lib = safetensors::serialize(views, Some(meta)).unwrap();
    let entries = [
        Entry {
            name: "zeta".into(),
            dtype: Dtype::F32,
            shape: vec![2, 3],
            len: 24,
        },
        Entry {
            name: "alpha".into(),
            dtype: Dtype::BF16,
            shape: vec![3],
            len: 6,
        },
        Entry {
            name: "mid".into(),
            dtype: Dtype::I64,
            shape: vec![1],
            len: 8,
        },
    ];
    let out = scratch.path().join("stream.safetensors");
    let data = [&a, &b, &c];
    let md = [("format".to_string(), "np".to_string())];
    // Each tensor in two parts that follow each other.
    write_stream(&out, &entries, Some(&md), |i| {
        let (x, y) = data[i].split_at(1);
        Ok(vec![
            std::borrow::Cow::Borrowed(x),
            std::borrow::Cow::Borrowed(y),
        ])
    })
    .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), lib);
}

#[test]
fn safetensors_mode_keeps_paddles_quirks() {
    // Keys in data-offset order, not saved order; bf16 + return_numpy is TypeError; a
    // zero-size tensor makes the default load ValueError; a pickle is SafetensorError.
    let st = case("y_p3_safetensors_state_dict");
    let v = view(&st.entry, opts("safetensors")).unwrap();
    let keys: Vec<String> = items(&v).into_iter().map(|i| i.0).collect();
    assert_eq!(keys, ["m_ids", "z_last", "a_bf16", "b_u8"]);
    assert_eq!(
        view(&st.entry, opts("safetensors_return_numpy")).unwrap()["error"],
        "TypeError"
    );
    let z = case("y_p3_safetensors_zero_size");
    assert_eq!(
        view(&z.entry, opts("safetensors")).unwrap()["error"],
        "ValueError"
    );
    let p = case("y_p3_safetensors_nested_is_pickle");
    assert_eq!(
        view(&p.entry, opts("safetensors")).unwrap()["error"],
        "SafetensorError"
    );
    assert_eq!(
        view(&p.entry, opts("default")).unwrap()["result"]["t"],
        "dict"
    );
    // inspect/check/convert recognise a safetensors file named .pdparams.
    let named = case("y_p3_safetensors_named_pdparams");
    let (code, out, _) = pdsave(&["inspect", named.entry.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("format:") && l.ends_with("safetensors")),
        "{out}"
    );
    let (code, _, _) = pdsave(&["check", named.entry.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, out, _) = pdsave(&["view", "--safetensors", named.entry.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}
