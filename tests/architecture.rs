//! The structure spec/README.md ("Architecture") promises, checked on the source tree: each
//! Paddle name defined in one place, no file over 800 lines, the layers below the view not
//! importing it, every file starting with a doc comment saying its job.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            (name, text)
        })
        .collect()
}

/// The code of a file without its comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.trim_start() {
            t if t.starts_with("//") => "",
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn paddle_names_are_defined_once() {
    for lit in [
        "\"UnpackBigParamInfor@@\"",
        "\"StructuredToParameterName@@\"",
        "\".pdiparams.info\"",
        "\"__model__\"",
        "\".pdiparams\"",
        "\".pdmodel\"",
        "\".metadata\"",
        "\".distcp\"",
        "\".index.json\"",
        "\"weight_map\"",
        "\"paddle.distributed.flex_checkpoint.dcp.metadata\"",
    ] {
        let files: Vec<String> = src()
            .into_iter()
            .filter(|(_, t)| code(t).contains(lit))
            .map(|(n, _)| n)
            .collect();
        assert_eq!(files, ["names.rs"], "{lit} outside names.rs");
    }
}

#[test]
fn no_file_is_over_800_lines() {
    for (name, text) in src() {
        let n = text.lines().count();
        assert!(n <= 800, "src/{name} has {n} lines");
    }
}

#[test]
fn nothing_below_the_view_imports_it() {
    let below = [
        "paddle/",
        "pickle/",
        "program/",
        "tensor_stream.rs",
        "numpy.rs",
        "dtype.rs",
        "source/",
        "write.rs",
    ];
    for (name, text) in src() {
        if below.iter().any(|b| name.starts_with(b)) {
            let c = code(&text);
            for up in [
                "crate::view",
                "crate::check",
                "crate::inspect",
                "crate::convert",
                "crate::conformance",
            ] {
                assert!(!c.contains(up), "src/{name} imports {up}, a layer above it");
            }
        }
    }
}

#[test]
fn every_file_says_its_job() {
    for (name, text) in src() {
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        // framework.proto's generated module is included, not written.
        assert!(
            first.starts_with("//!"),
            "src/{name} does not start with a doc comment"
        );
    }
}

#[test]
fn the_library_builds_without_cli_and_harness_crates() {
    let toml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps = toml
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for c in ["clap", "indicatif", "anstream", "proptest"] {
        let line = deps
            .lines()
            .find(|l| l.starts_with(&format!("{c} ")))
            .unwrap_or_else(|| panic!("{c} missing"));
        assert!(
            line.contains("optional = true"),
            "{c} is not optional: {line}"
        );
    }
}

#[test]
fn rust_version_is_what_the_locked_dependencies_need() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let toml = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let ours = toml
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap();
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(root)
        .output()
        .unwrap();
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ver = |s: &str| -> Vec<u64> { s.split('.').map(|x| x.parse().unwrap_or(0)).collect() };
    let need = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["rust_version"].as_str())
        .max_by_key(|v| ver(v))
        .unwrap()
        .to_string();
    assert_eq!(
        ver(&ours)[..2],
        ver(&need)[..2],
        "rust-version {ours}, the dependencies need {need}"
    );
}
