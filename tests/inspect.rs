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
    pdsave::inspect::render(&r).replace(&corpus("").display().to_string(), "corpus/cases/")
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
