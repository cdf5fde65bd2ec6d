//! The `pdsave` command line on real corpus files: outputs and exit codes as README documents.

use std::path::Path;
use std::process::Command;

fn pdsave(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pdsave"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn view_exit_codes() {
    let (c, out, _) = pdsave(&[
        "view",
        "corpus/cases/y_p3_proto2_linear_state_dict/model.pdparams",
    ]);
    assert_eq!(c, 0);
    assert!(out.contains("\"name\":\"linear_0.w_0\""));
    // An error view is still a view.
    let (c, out, _) = pdsave(&["view", "corpus/cases/n_empty/input.bin"]);
    assert_eq!((c, out.trim()), (0, r#"{"view":1,"error":"EOFError"}"#));
    // A refused pickle has no view.
    let (c, _, err) = pdsave(&["view", "corpus/cases/n_os_system/input.bin"]);
    assert_eq!(c, 1);
    assert!(err.contains("os.system"), "{err}");
    // Usage errors.
    assert_eq!(pdsave(&["view"]).0, 2);
}

#[test]
fn check_exit_codes() {
    assert_eq!(
        pdsave(&[
            "check",
            "corpus/cases/y_p3_proto2_linear_state_dict/model.pdparams"
        ])
        .0,
        0
    );
    let (c, out, _) = pdsave(&[
        "check",
        "corpus/cases/i_p3_proto4_faq1_tensor_with_tuple/obj.pdparams",
    ]);
    assert_eq!(c, 1);
    assert!(out.contains("A-FAQ1"), "{out}");
    let (c, out, _) = pdsave(&[
        "check",
        "--json",
        "corpus/cases/y_p2_save_inference_model_pdiparams/model.pdiparams",
    ]);
    assert_eq!(c, 1);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["findings"][0]["rule"], "L-FILE");
    assert_eq!(pdsave(&["check", "/nonexistent"]).0, 2);
}

#[test]
fn reencode_is_byte_identical() {
    let src = "corpus/cases/y_p2_proto3_convnet_state_dict/model.pdparams";
    let dir = tempfile::Builder::new()
        .prefix("pdsave-cli-")
        .tempdir()
        .unwrap();
    let out = dir.path().join("out.pdparams");
    let (c, _, err) = pdsave(&["reencode", src, "-o", out.to_str().unwrap()]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(src)).unwrap()
    );
}

#[test]
fn validate_filter_and_report() {
    let tmp = tempfile::Builder::new()
        .prefix("pdsave-report-")
        .tempdir()
        .unwrap();
    // A directory that does not exist yet: validate makes it.
    let dir = tmp.path().join("report");
    let (c, out, _) = pdsave(&[
        "validate",
        "--impl",
        "pdsave",
        "--filter",
        "linear",
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(c, 0, "{out}");
    assert!(out.contains("| pdsave |"));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("y_p3_proto2_linear_state_dict"));
}

/// Progress bars and colours are for terminals: with stdout and stderr piped, validate and
/// inspect write no carriage returns and no escape codes.
#[test]
fn no_progress_bar_or_colour_when_piped() {
    let (c, out, err) = pdsave(&[
        "validate",
        "--impl",
        "pdsave",
        "--filter",
        "linear_state_dict",
    ]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(err.contains("answers in"), "{err}");
    for s in [&out, &err] {
        assert!(!s.contains('\r') && !s.contains('\x1b'), "{s:?}");
    }
    let (c, out, err) = pdsave(&[
        "inspect",
        "--stats",
        "corpus/cases/y_p3_proto4_convnet_state_dict/model.pdparams",
    ]);
    assert_eq!(c, 0);
    assert!(err.is_empty(), "{err:?}");
    assert!(!out.contains('\x1b'));
}
