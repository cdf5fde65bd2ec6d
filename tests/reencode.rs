//! `pdsave reencode` on every file Paddle wrote in the corpus (every release, the
//! historical forms, the real-world files): pickles, tensor streams (single records,
//! combined `.pdiparams`, SelectedRows, per-variable files) and ProgramDesc programs come
//! back byte for byte; counts per writer release and kind are printed.

use std::collections::BTreeMap;
use std::path::Path;

use pdsave::conformance::corpus::{load_corpus, Kind};
use pdsave::source::{sniff, Kind as FileKind};

#[test]
fn every_paddle_file_reencodes_byte_identically() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut counts: BTreeMap<(String, &'static str), u32> = BTreeMap::new();
    let mut failures = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    for case in load_corpus(&root).unwrap() {
        if case.kind == Kind::N || case.meta.same_files_as.is_some() {
            continue;
        }
        let writer = case
            .meta
            .writer
            .paddle
            .clone()
            .unwrap_or_else(|| "historical".into());
        for f in &case.meta.files {
            let p = case.dir.join(f);
            // As `pdsave reencode` opens it: a checkpoint's .metadata file with its
            // dataclasses allowlisted (K-META).
            let Ok(file) = pdsave::source::File::open(&p, true) else {
                continue;
            };
            let data: &[u8] = &file;
            let label = match sniff(data) {
                FileKind::Pickle { .. } => "pickle",
                FileKind::TensorStream | FileKind::CombinedParams { .. } => "tensor stream",
                FileKind::SelectedRows => "SelectedRows",
                FileKind::ProgramDesc => "ProgramDesc",
                FileKind::Safetensors => "safetensors",
                _ => continue,
            };
            let out = if label == "safetensors" {
                let o = tmp.path().join("out.safetensors");
                pdsave::convert::safetensors::reencode(&p, data, &o)
                    .map_err(|e| e.to_string())
                    .and_then(|()| std::fs::read(&o).map_err(|e| e.to_string()))
            } else {
                let mut out = Vec::new();
                pdsave::reencode::prepare(data, file.allowlist(), None)
                    .and_then(|r| r.write_to(&mut out))
                    .map(|()| out)
            };
            match out {
                Ok(out) if out == data => *counts.entry((writer.clone(), label)).or_default() += 1,
                Ok(_) => failures.push(format!("{}: re-encoded bytes differ", p.display())),
                Err(e) => failures.push(format!("{}: {e}", p.display())),
            }
        }
    }
    for ((w, k), n) in &counts {
        eprintln!("Paddle {w}: {n} {k} files re-encode byte-identically");
    }
    assert!(counts.len() > 4);
    assert!(failures.is_empty(), "{failures:#?}");
}
