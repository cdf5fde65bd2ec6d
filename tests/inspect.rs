//! `pdsave inspect` on real corpus files: insta snapshots of the human output, and the JSON
//! checked structurally against the values Paddle itself read (values.json).

use std::path::Path;

fn corpus(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/cases")
        .join(p)
}

fn render(p: &str) -> String {
    let r = pdsave::inspect::inspect(&corpus(p)).unwrap();
    // Paths in the header depend on the checkout.
    pdsave::inspect::render(&r, false).replace(&corpus("").display().to_string(), "corpus/cases/")
}

#[test]
fn state_dict_pickle() {
    insta::assert_snapshot!(render("y_p3_proto2_linear_state_dict/model.pdparams"));
}

#[test]
fn jit_save_prefix_with_structured_names() {
    insta::assert_snapshot!(render("y_p2_jit_save_prefix/net"));
}

#[test]
fn pir_inference_model_prefix() {
    insta::assert_snapshot!(render("y_p3_pir_save_inference_model_prefix/model"));
}

#[test]
fn lod_tensor_stream() {
    insta::assert_snapshot!(render("y_p3_binary_lod/tensor.pdtensor"));
}

#[test]
fn prefix_json_matches_paddles_own_reading() {
    for case in [
        "y_p2_save_inference_model_prefix",
        "y_p3_pir_save_inference_model_prefix",
        "y_p3_legacy_save_inference_model_prefix",
    ] {
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(corpus(case).join("case.json")).unwrap())
                .unwrap();
        let r =
            pdsave::inspect::inspect(&corpus(case).join(meta["entry"].as_str().unwrap())).unwrap();
        let j = serde_json::to_value(&r).unwrap();
        let values: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(corpus(case).join("values.json")).unwrap(),
        )
        .unwrap();
        let want: Vec<(String, Vec<i64>)> = values
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap().to_string(),
                    serde_json::from_value(v["shape"].clone()).unwrap(),
                )
            })
            .collect();
        let got: Vec<(String, Vec<i64>)> = j["variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap().to_string(),
                    serde_json::from_value(v["shape"].clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{case}");
        assert!(j["program"]["op_counts"].as_object().unwrap().len() > 3);
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes what `paddle.save(obj)` writes (the reference saver) to a file `name` in a
/// temporary directory; the directory goes with the returned `TempDir`.
fn saved(obj: serde_json::Value, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    use pdsave::paddle::save::{save, SaveOptions, Saved};
    let g = pdsave::paddle::object::ObjGraph::from_json(&obj).unwrap();
    let Saved::Pickle(p) = save(&g, &SaveOptions::default()).unwrap() else {
        panic!("not a pickle")
    };
    let bytes = pdsave::pickle::encode(&p, &pdsave::pickle::EncodeOptions::like(&p)).unwrap();
    let dir = tempfile::Builder::new()
        .prefix("pdsave-inspect-")
        .tempdir()
        .unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn stats_follow_the_spec_nan_ignored_inf_counted_bf16_read_as_bfloat16() {
    use pdsave::stats::Num;
    let f: Vec<u8> = [1.5f32, f32::NAN, -2.0, f32::NEG_INFINITY, 0.5]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let i: Vec<u8> = [7i64, -3, 12]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    // bfloat16 bit patterns of 1.0 (0x3f80) and -0.5 (0xbf00).
    let bf: Vec<u8> = [0x3f80u16, 0xbf00]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let t = |name: &str, dtype: &str, shape: usize, data: &[u8]| {
        serde_json::json!([{"t": "str", "v": name},
            {"t": "tensor", "kind": "parameter", "dtype": dtype, "shape": [shape],
             "hex": hex(data), "name": format!("p_{name}"), "stop_gradient": false}])
    };
    let obj = serde_json::json!({"t": "dict", "items": [
        t("f", "float32", 5, &f), t("i", "int64", 3, &i), t("b", "bfloat16", 2, &bf)]});
    let (_dir, path) = saved(obj, "stats.pdparams");
    let r = pdsave::inspect::inspect_with(&path, pdsave::inspect::Options { stats: true }, &|_| {})
        .unwrap();
    let by = |p: &str| r.variables.iter().find(|v| v.path == p).unwrap();
    let sf = by("f").stats.unwrap();
    assert_eq!(sf.min, Some(Num::Float(f64::NEG_INFINITY)));
    assert_eq!(sf.max, Some(Num::Float(1.5)));
    assert_eq!((sf.nan, sf.inf), (1, 1));
    let si = by("i").stats.unwrap();
    assert_eq!((si.min, si.max), (Some(Num::Int(-3)), Some(Num::Int(12))));
    assert_eq!(si.mean, Some(16.0 / 3.0));
    // A state dict stores bfloat16 as uint16 ndarrays (S-BF16); load reads them as bfloat16.
    let b = by("b");
    assert_eq!(
        (b.dtype, b.loads_as),
        (
            Some(pdsave::dtype::DType::UInt16),
            Some(pdsave::dtype::DType::BFloat16)
        )
    );
    let sb = b.stats.unwrap();
    assert_eq!(
        (sb.min, sb.max),
        (Some(Num::Float(-0.5)), Some(Num::Float(1.0)))
    );
    assert_eq!(b.name.as_deref(), Some("p_b"));
    // Without --stats nothing is read beyond the structure.
    let plain = pdsave::inspect::inspect(&path).unwrap();
    assert!(plain.variables.iter().all(|v| v.stats.is_none()));
    assert_eq!(r.writer, plain.writer);
}

#[test]
fn state_dict_with_stats() {
    let r = pdsave::inspect::inspect_with(
        &corpus("y_p3_proto4_bf16_state_dict/model.pdparams"),
        pdsave::inspect::Options { stats: true },
        &|_| {},
    )
    .unwrap();
    insta::assert_snapshot!(pdsave::inspect::render(&r, false)
        .replace(&corpus("").display().to_string(), "corpus/cases/"));
}

#[test]
fn warnings_of_check_are_listed() {
    // FAQ case 1: a Tensor inside a (name, ndarray)-looking tuple (A-TUPLE).
    let r = pdsave::inspect::inspect(&corpus("i_p3_proto4_faq1_tensor_with_tuple/obj.pdparams"))
        .unwrap();
    assert!(!r.warnings.is_empty(), "{r:?}");
    let text = pdsave::inspect::render(&r, false);
    assert!(text.contains("warnings"), "{text}");
    for w in &r.warnings {
        assert!(text.contains(w.rule.as_str()));
    }
}

#[test]
fn cli_colours_only_on_a_terminal_and_json_is_structured() {
    let bin = env!("CARGO_BIN_EXE_pdsave");
    let file = corpus("y_p3_proto4_bf16_state_dict/model.pdparams");
    // Piped: no escape codes, even when a terminal would get them.
    let out = std::process::Command::new(bin)
        .args(["inspect", "--stats"])
        .arg(&file)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    // CLICOLOR_FORCE asks for colours whatever stdout is (anstream's convention).
    let forced = std::process::Command::new(bin)
        .arg("inspect")
        .arg(&file)
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains("\x1b["));
    let out = std::process::Command::new(bin)
        .args(["inspect", "--stats", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["format"], "pickle");
    assert_eq!(j["pickle_protocol"], 4);
    let vars = j["variables"].as_array().unwrap();
    assert!(!vars.is_empty());
    for v in vars {
        assert_eq!(v["loads_as"], "bfloat16", "{v}");
        for k in ["min", "max", "mean", "nan", "inf"] {
            assert!(v["stats"].get(k).is_some(), "{k} in {v}");
        }
        let (mn, mx) = (
            v["stats"]["min"].as_f64().unwrap(),
            v["stats"]["max"].as_f64().unwrap(),
        );
        assert!(mn <= mx);
        assert!(v["name"].as_str().unwrap().starts_with("linear_"));
    }
}
