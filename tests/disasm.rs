//! insta snapshots of `disasm` for representative real-Paddle pickles (spec P-DISASM).

use std::path::Path;

fn disasm_case(case: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/cases")
        .join(case);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let data = std::fs::read(dir.join(meta["entry"].as_str().unwrap())).unwrap();
    let (text, err) = pdsave::pickle::disasm::disasm(&data);
    assert!(err.is_none(), "{err:?}");
    text
}

#[test]
fn linear_state_dict_protocol_2() {
    insta::assert_snapshot!(disasm_case("y_p3_proto2_linear_state_dict"));
}

#[test]
fn linear_state_dict_protocol_4() {
    insta::assert_snapshot!(disasm_case("y_p3_proto4_linear_state_dict"));
}

#[test]
fn dynamic_tensor_protocol_3() {
    insta::assert_snapshot!(disasm_case("y_p3_proto3_tensor"));
}

#[test]
fn static_tensor_protocol_4() {
    insta::assert_snapshot!(disasm_case("y_p3_proto4_static_tensor"));
}

#[test]
fn shared_tensor_protocol_2() {
    insta::assert_snapshot!(disasm_case("y_p3_proto2_shared_tensor"));
}

#[test]
fn malformed_input_lists_up_to_the_error() {
    let (text, err) = pdsave::pickle::disasm::disasm(b"\x80\x02]q\x00(K\x01X\x05\x00\x00\x00ab");
    insta::assert_snapshot!(format!("{text}error: {}", err.unwrap()));
}
