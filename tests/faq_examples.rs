//! The FAQ's code examples (shared/seed/paddle-save-load-faq.txt), replayed with the
//! reference codec. spec/faq.md says where an example does not work as written.

use pdsave::rules::Rule;
use serde_json::{json, Value as J};

use pdsave::numpy::Flavour;
use pdsave::paddle::object::ObjGraph;
use pdsave::paddle::save::{save, SaveOptions, Saved};
use pdsave::paddle::{load_graph, LoadOptions};
use pdsave::pickle::{decode, encode, EncodeOptions};
use pdsave::view::view;

fn param(name: &str, shape: &[u64]) -> J {
    let n: u64 = shape.iter().product();
    json!({"t": "tensor", "kind": "parameter", "dtype": "float32", "shape": shape, "hex": "00".repeat(4 * n as usize), "name": name})
}

/// paddle.save then paddle.load (protocol 4, the default), as views.
fn save_load(j: J) -> J {
    let x = ObjGraph::from_json(&j).unwrap();
    let opts = SaveOptions {
        protocol: 4,
        flavour: Flavour::Numpy2,
        ..SaveOptions::default()
    };
    let Saved::Pickle(g) = save(&x, &opts).unwrap() else {
        panic!()
    };
    let b = encode(
        &g,
        &EncodeOptions {
            protocol: 4,
            flavour: None,
        },
    )
    .unwrap();
    view(&load_graph(&decode(&b).unwrap(), LoadOptions::default())).unwrap()
}

fn keys(v: &J) -> Vec<String> {
    v["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| kv[0]["v"].as_str().unwrap().to_string())
        .collect()
}

/// FAQ "增量训练": Embedding state dict and Adam state dict saved and loaded.
#[test]
fn faq_incremental_training() {
    let emb = json!({"t": "dict", "items": [[{"t": "str", "v": "weight"}, param("embedding_0.w_0", &[10, 10])]]});
    let v = save_load(emb);
    assert_eq!(keys(&v), ["weight"]);
    assert_eq!(v["result"]["items"][0][1]["name"], "embedding_0.w_0");
    assert_eq!(v["result"]["items"][0][1]["shape"], json!([10, 10]));
    // Adam before its first step: only the scheduler's state, a state dict of plain values.
    let adam = json!({"t": "dict", "items": [[{"t": "str", "v": "LR_Scheduler"}, {"t": "dict", "items": [
        [{"t": "str", "v": "last_epoch"}, {"t": "int", "v": "0"}],
        [{"t": "str", "v": "last_lr"}, {"t": "float", "v": 0.0}],
    ]}]]});
    let v = save_load(adam.clone());
    let x = ObjGraph::from_json(&adam).unwrap();
    assert!(pdsave::view::diff(&v, &x.ideal_view(false)).is_none());
    // The example then calls emb.set_state_dict(para_state_dict): that name is never
    // defined (the loaded dict is `load_layer_state_dict`), see spec/faq.md F-1.
}

/// FAQ "单独 load 某一个变量" 1: modify a value of a Linear state dict.
#[test]
fn faq_modify_one_variable() {
    let sd = json!({"t": "dict", "items": [
        [{"t": "str", "v": "weight"}, param("linear_0.w_0", &[3, 4])],
        [{"t": "str", "v": "bias"}, param("linear_0.b_0", &[4])],
    ]});
    let v = save_load(sd);
    // The keys are the structured names; "fc_0.b_0" (the example's key) is not one of them,
    // and not even the bias' parameter name: `layer_param["fc_0.b_0"] = 10` adds a new
    // key and leaves the bias untouched (spec/faq.md F-2).
    assert_eq!(keys(&v), ["weight", "bias"]);
    assert_eq!(v["result"]["items"][1][1]["name"], "linear_0.b_0");
    assert!(!keys(&v).contains(&"fc_0.b_0".to_string()));
}

/// FAQ "单独 load 某一个变量" 2: save one Parameter, load it back as a Tensor.
#[test]
fn faq_save_one_tensor() {
    let v = save_load(param("linear_0.b_0", &[4]));
    assert_eq!(v["result"]["t"], "tensor");
    assert_eq!(v["result"]["name"], "linear_0.b_0");
    assert_eq!(v["result"]["shape"], json!([4]));
}

/// FAQ "save 与 load 的结果不一致": its three cases are the classifier's A-FAQ1..3, and
/// its recommendation return_numpy=True is W-NUMPY (tests/rules.rs covers each).
#[test]
fn faq_non_unique_cases_are_classified() {
    use pdsave::paddle::classify::classify_object;
    let tuple = json!({"t": "tuple", "items": [{"t": "str", "v": "n"}, {"t": "ndarray", "dtype": "float32", "shape": [1], "hex": "0000803f"}]});
    let dyn_t = json!({"t": "tensor", "kind": "dynamic", "dtype": "float32", "shape": [1], "hex": "0000803f", "name": "t"});
    let static_t = json!({"t": "tensor", "kind": "static", "dtype": "float32", "shape": [1], "hex": "0000803f"});
    let nd = json!({"t": "ndarray", "dtype": "float32", "shape": [1], "hex": "0000803f"});
    let opts = SaveOptions::default();
    for (items, rule) in [
        (vec![dyn_t, tuple.clone()], Rule::AFaq1),
        (vec![static_t, nd.clone()], Rule::AFaq2),
        (vec![nd, tuple], Rule::AFaq3),
    ] {
        let x = ObjGraph::from_json(&json!({"t": "list", "items": items})).unwrap();
        let rules: Vec<_> = classify_object(&x, &opts)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(rules, [rule]);
    }
}
