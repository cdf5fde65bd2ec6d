//! One test per rule of spec/rules.md (S- save, L- load, A- non-unique case, W- workaround),
//! on objects given in the JSON form of spec/object.md. Byte-level agreement with real
//! Paddle is checked by the corpus tests and by `oracle-diff`; these pin each rule.

use serde_json::{json, Value as J};

use pdsave::numpy::Flavour;
use pdsave::paddle::classify::classify_object;
use pdsave::paddle::object::ObjGraph;
use pdsave::paddle::save::{is_state_dict, save, SaveError, SaveOptions, Saved};
use pdsave::paddle::{load_graph, LoadOptions};
use pdsave::pickle::{decode, encode, EncodeOptions, Graph, Node};
use pdsave::view::view;

fn obj(j: J) -> ObjGraph {
    ObjGraph::from_json(&j).unwrap()
}

fn opts(protocol: i64) -> SaveOptions {
    SaveOptions {
        protocol,
        flavour: Flavour::Numpy2,
        ..SaveOptions::default()
    }
}

fn saved(x: &ObjGraph, p: i64) -> Result<Graph<'_>, SaveError> {
    match save(x, &opts(p))? {
        Saved::Pickle(g) => Ok(g),
        Saved::Program => panic!("program"),
    }
}

/// save → bytes → load → view.
fn round(x: &ObjGraph, p: i64, lo: LoadOptions) -> J {
    let g = saved(x, p).unwrap();
    let b = encode(
        &g,
        &EncodeOptions {
            protocol: p as u8,
            flavour: None,
        },
    )
    .unwrap();
    view(&load_graph(&decode(&b).unwrap(), lo)).unwrap()
}

fn dflt() -> LoadOptions {
    LoadOptions::default()
}

fn numpy() -> LoadOptions {
    LoadOptions {
        return_numpy: true,
        keep_name_table: false,
        ..Default::default()
    }
}

fn tensor(kind: &str, name: &str) -> J {
    json!({"t": "tensor", "kind": kind, "dtype": "float32", "shape": [2], "hex": "0000803f00000040", "name": name})
}

fn ndarray(dtype: &str, hex: &str, n: u64) -> J {
    json!({"t": "ndarray", "dtype": dtype, "shape": [n], "hex": hex})
}

fn s(v: &str) -> J {
    json!({"t": "str", "v": v})
}

fn rules(x: &ObjGraph, p: i64) -> Vec<&'static str> {
    classify_object(x, &opts(p))
        .into_iter()
        .map(|f| f.rule.as_str())
        .collect()
}

// ---- S: paddle.save ----

#[test]
fn s_proto_only_protocols_2_to_4() {
    let x = obj(json!({"t": "list", "items": []}));
    for p in [0, 1, 5] {
        assert_eq!(saved(&x, p).unwrap_err().class.as_str(), "ValueError");
    }
    for p in [2, 3, 4] {
        assert!(saved(&x, p).is_ok());
    }
}

#[test]
fn s_detect_state_dict_as_paddle_does() {
    // Values that are tensors, or dicts without Paddle types: a state dict.
    assert!(is_state_dict(&obj(
        json!({"t": "dict", "items": [[s("w"), tensor("parameter", "w0")]]})
    ))
    .unwrap());
    assert!(is_state_dict(&obj(json!({"t": "dict", "items": [[s("a"), {"t": "dict", "items": [[s("x"), {"t": "int", "v": "1"}]]}]]}))).unwrap());
    assert!(is_state_dict(&obj(json!({"t": "dict", "items": []}))).unwrap());
    // A plain value, or a nested dict holding a tensor: not a state dict.
    assert!(!is_state_dict(&obj(
        json!({"t": "dict", "items": [[s("epoch"), {"t": "int", "v": "1"}]]})
    ))
    .unwrap());
    assert!(!is_state_dict(&obj(json!({"t": "dict", "items": [[s("m"), {"t": "dict", "items": [[s("w"), tensor("dynamic", "t")]]}]]}))).unwrap());
    assert!(!is_state_dict(&obj(
        json!({"t": "list", "items": [tensor("dynamic", "t")]})
    ))
    .unwrap());
}

#[test]
fn s_table_state_dict_saves_ndarrays_and_a_name_table() {
    let x =
        obj(json!({"t": "odict", "items": [[s("weight"), tensor("parameter", "linear_0.w_0")]]}));
    let g = saved(&x, 4).unwrap();
    // An exact dict (not an OrderedDict), key shared with the table's key.
    let Node::Dict(items) = g.node(g.root) else {
        panic!("{:?}", g.node(g.root))
    };
    assert!(matches!(g.node(items[0].1), Node::NdArray(_)));
    assert!(matches!(g.node(items[1].0), Node::Str(k) if k == "StructuredToParameterName@@"));
    let Node::Dict(table) = g.node(items[1].1) else {
        panic!()
    };
    assert_eq!(
        table[0].0, items[0].0,
        "the table reuses the state dict's key object"
    );
    assert!(matches!(g.node(table[0].1), Node::Str(n) if n == "linear_0.w_0"));
}

#[test]
fn s_split_big_parameters_for_protocols_2_and_3() {
    // A hex payload that does not match shape and dtype is refused by the JSON reader.
    let bad = json!({"t": "tensor", "kind": "parameter", "dtype": "float32", "shape": [5], "hex": "00", "name": "p"});
    assert!(ObjGraph::from_json(&bad).is_err());
    let x = obj(json!({"t": "dict", "items": [
        [s("big"), {"t": "tensor", "kind": "parameter", "dtype": "float32", "shape": [5], "hex": "0000803f0000004000004040000080400000a040", "name": "p"}],
        [s("small"), tensor("parameter", "q")],
    ]}));
    let o = SaveOptions {
        protocol: 2,
        big_param_bytes: 8,
        ..opts(2)
    };
    let Saved::Pickle(g) = save(&x, &o).unwrap() else {
        panic!()
    };
    let keys: Vec<String> = match g.node(g.root) {
        Node::Dict(items) => items
            .iter()
            .map(|&(k, _)| match g.node(k) {
                Node::Str(s) => s.to_string(),
                _ => String::new(),
            })
            .collect(),
        _ => panic!(),
    };
    assert_eq!(
        keys,
        [
            "small",
            "StructuredToParameterName@@",
            "big@@.0",
            "big@@.1",
            "big@@.2",
            "UnpackBigParamInfor@@"
        ]
    );
    // L-UNPACK merges them back, at the end of the dict.
    let b = encode(
        &g,
        &EncodeOptions {
            protocol: 2,
            flavour: None,
        },
    )
    .unwrap();
    let v = view(&load_graph(&decode(&b).unwrap(), dflt())).unwrap();
    let items = v["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1][0]["v"], "big");
    assert_eq!(items[1][1]["shape"], json!([5]));
    assert_eq!(items[1][1]["name"], "p");
    // Protocol 4 never splits.
    let o4 = SaveOptions {
        protocol: 4,
        big_param_bytes: 8,
        ..opts(4)
    };
    let Saved::Pickle(g4) = save(&x, &o4).unwrap() else {
        panic!()
    };
    assert!(matches!(g4.node(g4.root), Node::Dict(i) if i.len() == 3));
}

#[test]
fn s_walk_refuses_bytes_and_copies_tuples() {
    for bad in [
        json!({"t": "bytes", "hex": "00"}),
        json!({"t": "bytearray", "hex": ""}),
        json!({"t": "frozenset", "items": []}),
    ] {
        let x = obj(json!({"t": "list", "items": [bad]}));
        assert_eq!(
            saved(&x, 4).unwrap_err().class.as_str(),
            "NotImplementedError"
        );
    }
    // A bytes key is fine (keys are not walked) and a state dict is not walked at all.
    let x = obj(
        json!({"t": "dict", "items": [[{"t": "bytes", "hex": "6b"}, {"t": "list", "items": []}]]}),
    );
    assert!(saved(&x, 4).is_ok());
    // A tuple shared twice in a list is pickled twice: the walk replaced both by copies.
    let x = obj(
        json!({"t": "list", "items": [{"t": "tuple", "items": [{"t": "int", "v": "1"}], "id": "t"}, {"t": "ref", "id": "t"}]}),
    );
    let g = saved(&x, 2).unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    assert_ne!(items[0], items[1]);
    // A list shared twice stays one object.
    let x = obj(
        json!({"t": "list", "items": [{"t": "list", "items": [], "id": "l"}, {"t": "ref", "id": "l"}]}),
    );
    let g = saved(&x, 2).unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    assert_eq!(items[0], items[1]);
}

#[test]
fn s_dyn_and_s_static_tensor_forms() {
    let x = obj(json!({"t": "list", "items": [tensor("dynamic", "t0"), tensor("static", "")]}));
    let g = saved(&x, 3).unwrap();
    let Node::List(items) = g.node(g.root) else {
        panic!()
    };
    assert!(matches!(g.node(items[0]), Node::DynTensor { .. }));
    assert!(matches!(g.node(items[1]), Node::StaticTensor { .. }));
    let b = encode(
        &g,
        &EncodeOptions {
            protocol: 3,
            flavour: None,
        },
    )
    .unwrap();
    let text = String::from_utf8_lossy(&b);
    assert!(text.contains("cbuiltins\ntuple\n") && text.contains("cbuiltins\neval\n"));
    // Protocol 2 spells builtins `__builtin__`.
    let b2 = encode(
        &saved(&x, 2).unwrap(),
        &EncodeOptions {
            protocol: 2,
            flavour: None,
        },
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&b2).contains("c__builtin__\ntuple\n"));
}

#[test]
fn s_static_empty_loses_dtype_and_shape() {
    let x = obj(
        json!({"t": "list", "items": [{"t": "tensor", "kind": "static", "dtype": "int64", "shape": [0, 3], "hex": ""}]}),
    );
    let v = round(&x, 4, numpy());
    assert_eq!(v["result"]["items"][0]["dtype"], "float64");
    assert_eq!(v["result"]["items"][0]["shape"], json!([0]));
}

#[test]
fn s_layer_is_refused() {
    let x = obj(
        json!({"t": "dict", "items": [[s("model"), {"t": "layer"}], [s("epoch"), {"t": "int", "v": "3"}]]}),
    );
    let e = saved(&x, 4).unwrap_err();
    assert_eq!(e.class.as_str(), "ValueError");
    assert!(e.message.contains("Layer"));
}

#[test]
fn s_bf16_tensors_are_saved_as_uint16() {
    let x = obj(
        json!({"t": "list", "items": [{"t": "tensor", "kind": "dynamic", "dtype": "bfloat16", "shape": [1], "hex": "803f", "name": "b"}]}),
    );
    assert_eq!(
        round(&x, 4, numpy())["result"]["items"][0]["dtype"],
        "uint16"
    );
    assert_eq!(
        round(&x, 4, dflt())["result"]["items"][0]["dtype"],
        "bfloat16"
    );
}

#[test]
fn s_static_tensor_in_a_state_dict_raises() {
    let x = obj(json!({"t": "dict", "items": [[s("w"), tensor("static", "")]]}));
    assert_eq!(saved(&x, 4).unwrap_err().class.as_str(), "RuntimeError");
}

#[test]
fn s_program_is_not_a_pickle() {
    assert!(matches!(
        save(&obj(json!({"t": "program"})), &opts(4)).unwrap(),
        Saved::Program
    ));
}

// ---- L: paddle.load ----

#[test]
fn l_table_names_tensors_and_drops_the_table() {
    let x = obj(
        json!({"t": "dict", "items": [[s("weight"), tensor("parameter", "linear_0.w_0")], [s("sched"), {"t": "dict", "items": [[s("lr"), {"t": "float", "v": 0.1}]]}]]}),
    );
    let v = round(&x, 4, dflt());
    assert_eq!(v["result"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(v["result"]["items"][0][1]["name"], "linear_0.w_0");
    let k = round(
        &x,
        4,
        LoadOptions {
            return_numpy: false,
            keep_name_table: true,
            ..Default::default()
        },
    );
    assert_eq!(
        k["result"]["items"][2][0]["v"],
        "StructuredToParameterName@@"
    );
    assert_eq!(
        round(&x, 4, numpy())["result"]["items"][0][1]["t"],
        "ndarray"
    );
}

#[test]
fn l_tuple_every_str_ndarray_tuple_becomes_a_tensor() {
    let x = obj(
        json!({"t": "list", "items": [tensor("dynamic", "t0"), {"t": "tuple", "items": [s("mine"), ndarray("int8", "01", 1)]}, ndarray("int8", "02", 1)]}),
    );
    let v = round(&x, 4, dflt());
    let items = v["result"]["items"].as_array().unwrap();
    assert_eq!(items[0]["t"], "tensor");
    assert_eq!(items[1]["t"], "tensor");
    assert_eq!(items[1]["name"], "mine");
    assert_eq!(items[2]["t"], "ndarray");
}

#[test]
fn l_ndarray_every_ndarray_becomes_a_tensor_without_tuples() {
    let x = obj(
        json!({"t": "dict", "items": [[s("a"), ndarray("int8", "01", 1)], [s("n"), {"t": "int", "v": "1"}]]}),
    );
    let v = round(&x, 4, dflt());
    assert_eq!(v["result"]["items"][0][1]["t"], "tensor");
    assert_eq!(v["result"]["items"][0][1]["name"], J::Null);
}

#[test]
fn l_numpy_keeps_ndarrays() {
    let x = obj(json!({"t": "list", "items": [ndarray("int8", "01", 1), tensor("dynamic", "t")]}));
    let v = round(&x, 4, numpy());
    assert_eq!(v["result"]["items"][0]["t"], "ndarray");
    assert_eq!(v["result"]["items"][1]["t"], "ndarray");
}

#[test]
fn l_dtype_uint16_is_bfloat16_and_uint32_fails() {
    let v = round(&obj(ndarray("uint16", "803f", 1)), 4, dflt());
    assert_eq!(v["result"]["dtype"], "bfloat16");
    for d in ["uint32", "uint64"] {
        let n = if d == "uint32" { 4 } else { 8 };
        let x = obj(ndarray(d, &"00".repeat(n), 1));
        assert_eq!(round(&x, 4, dflt())["error"], "ValueError");
        assert_eq!(round(&x, 4, numpy())["result"]["dtype"], d);
    }
    // Big-endian arrays come out of numpy's unpickler in native order: they load.
    let be = obj(
        json!({"t": "ndarray", "dtype": "int32", "shape": [1], "byteorder": ">", "hex": "00000001"}),
    );
    let v = round(&be, 4, dflt());
    assert_eq!(
        v["result"]["sha256"],
        pdsave::view::sha256_hex(&[1, 0, 0, 0])
    );
}

#[test]
fn l_iter_bytes_in_a_walked_value_raise() {
    // pdsave never writes this (paddle.save refuses it), but a foreign pickle can hold it.
    let b = b"\x80\x04]C\x01x\x94a.";
    let r = pdsave::paddle::load_pickle(b, dflt());
    assert!(matches!(
        r,
        Err(pdsave::paddle::LoadError::Python {
            class: pdsave::rules::PyExc::NotImplementedError,
            ..
        })
    ));
}

#[test]
fn l_name_empty_saved_name_is_generated() {
    let x = obj(json!({"t": "tuple", "items": [s(""), ndarray("int8", "01", 1)]}));
    assert_eq!(round(&x, 4, dflt())["result"]["name"], J::Null);
}

#[test]
fn l_file_fallbacks_and_eof() {
    use pdsave::paddle::file::load_file_bytes;
    assert_eq!(
        view(&load_file_bytes(b"", dflt())).unwrap()["error"],
        "EOFError"
    );
    assert_eq!(
        view(&load_file_bytes(b"\xffgarbage", dflt())).unwrap()["error"],
        "ValueError"
    );
}

#[test]
fn l_depth_deep_nesting_is_a_recursion_error() {
    let mut j = json!({"t": "none"});
    for _ in 0..1100 {
        // Built by hand: json! would re-serialize the whole nest at every level.
        let mut m = serde_json::Map::new();
        m.insert("t".into(), J::from("list"));
        m.insert("items".into(), J::Array(vec![j]));
        j = J::Object(m);
    }
    let x = obj(j);
    let g = saved(&x, 4);
    // paddle.save itself recurses: RecursionError there too.
    assert_eq!(g.unwrap_err().class.as_str(), "RecursionError");
}

// ---- A and W: the classifier and its workarounds ----

#[test]
fn a_faq1_dynamic_tensor_with_user_tuple() {
    let x = obj(
        json!({"t": "list", "items": [tensor("dynamic", "t"), {"t": "tuple", "items": [s("n"), ndarray("int8", "01", 1)]}]}),
    );
    assert_eq!(rules(&x, 4), ["A-FAQ1"]);
}

#[test]
fn a_faq2_static_tensor_with_ndarray_or_tuple() {
    let with_nd =
        obj(json!({"t": "list", "items": [tensor("static", ""), ndarray("int8", "01", 1)]}));
    assert_eq!(rules(&with_nd, 4), ["A-FAQ2"]);
    assert_eq!(
        round(&with_nd, 4, dflt())["result"]["items"][1]["t"],
        "tensor"
    );
    let with_tuple = obj(
        json!({"t": "list", "items": [tensor("static", ""), {"t": "tuple", "items": [s("n"), ndarray("int8", "01", 1)]}]}),
    );
    assert_eq!(rules(&with_tuple, 4), ["A-FAQ2", "A-FAQ2"]);
    assert_eq!(
        round(&with_tuple, 4, dflt())["result"]["items"][0]["t"],
        "ndarray"
    );
}

#[test]
fn a_faq3_only_ndarrays_with_a_tuple() {
    let x = obj(
        json!({"t": "list", "items": [ndarray("int8", "01", 1), {"t": "tuple", "items": [s("n"), ndarray("int8", "01", 1)]}]}),
    );
    assert_eq!(rules(&x, 4), ["A-FAQ3"]);
}

#[test]
fn a_ndarray_bf16_uint_findings() {
    assert_eq!(rules(&obj(ndarray("int8", "01", 1)), 4), ["A-NDARRAY"]);
    assert_eq!(
        rules(&obj(ndarray("uint16", "0100", 1)), 4),
        ["A-NDARRAY", "A-BF16"]
    );
    assert_eq!(
        rules(&obj(ndarray("uint32", "01000000", 1)), 4),
        ["A-NDARRAY", "A-UINT"]
    );
}

#[test]
fn a_odict_grad_split_save_and_static_empty() {
    let od = obj(json!({"t": "odict", "items": [[s("w"), tensor("dynamic", "t")]]}));
    assert_eq!(rules(&od, 4), ["A-ODICT"]);
    let grad = obj(json!({"t": "list", "items": [tensor("parameter", "p")]}));
    let f = classify_object(&grad, &opts(4));
    assert!(f
        .iter()
        .any(|f| f.rule == pdsave::rules::Rule::AGrad && !f.visible));
    let layer = obj(json!({"t": "list", "items": [{"t": "layer"}]}));
    assert_eq!(rules(&layer, 4), ["A-SAVE-LAYER"]);
    let bytes = obj(json!({"t": "list", "items": [{"t": "bytes", "hex": ""}]}));
    assert_eq!(rules(&bytes, 4), ["A-SAVE-ITER"]);
    let se = obj(
        json!({"t": "list", "items": [{"t": "tensor", "kind": "static", "dtype": "int64", "shape": [0], "hex": ""}]}),
    );
    assert!(rules(&se, 4).contains(&"A-STATIC-EMPTY"));
}

#[test]
fn w_numpy_restores_ndarrays() {
    let x = obj(
        json!({"t": "list", "items": [ndarray("uint32", "01000000", 1), ndarray("uint16", "0100", 1)]}),
    );
    let v = round(&x, 4, numpy());
    assert!(pdsave::view::diff(&v, &x.ideal_view(true)).is_none());
}

#[test]
fn w_notuple_restores_user_data() {
    // The tuple saved as a list keeps both the name and the ndarray.
    let x = obj(
        json!({"t": "list", "items": [tensor("dynamic", "t"), {"t": "list", "items": [s("n"), ndarray("int8", "01", 1)]}]}),
    );
    assert!(rules(&x, 4).is_empty());
    assert!(pdsave::view::diff(&round(&x, 4, dflt()), &x.ideal_view(false)).is_none());
}

#[test]
fn w_dict_keeps_stop_gradient() {
    let x = obj(
        json!({"t": "dict", "items": [[s("t"), tensor("dynamic", "t")], [s("stop_gradient"), {"t": "bool", "v": false}]]}),
    );
    let v = round(&x, 4, dflt());
    assert_eq!(v["result"]["items"][1][1], json!({"t": "bool", "v": false}));
}

#[test]
fn w_odict_proto4_convert_statedict_pickle() {
    // W-ODICT: the loaded dict keeps the OrderedDict's order.
    let od = obj(
        json!({"t": "odict", "items": [[s("b"), tensor("dynamic", "x")], [s("a"), tensor("dynamic", "y")]]}),
    );
    let v = round(&od, 4, dflt());
    assert_eq!(v["result"]["items"][0][0]["v"], "b");
    // W-CONVERT: bytes as a uint8 ndarray save fine.
    let conv = obj(json!({"t": "list", "items": [ndarray("uint8", "00", 1)]}));
    assert!(saved(&conv, 4).is_ok());
    // W-STATEDICT: a Layer's state dict (tensors by name) saves.
    let sd = obj(json!({"t": "dict", "items": [[s("weight"), tensor("parameter", "w")]]}));
    assert!(rules(&sd, 4).iter().all(|r| *r == "A-GRAD"));
    // W-PICKLE: a file load refuses (A-ITER) still decodes with the pickle decoder.
    assert!(decode(b"\x80\x04]C\x01x\x94a.").is_ok());
}
