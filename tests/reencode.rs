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
            let Ok(data) = std::fs::read(&p) else {
                continue;
            };
            let kind = sniff(&data);
            let label = match kind {
                FileKind::Pickle { .. } => "pickle",
                FileKind::TensorStream | FileKind::CombinedParams { .. } => "tensor stream",
                FileKind::SelectedRows => "SelectedRows",
                FileKind::ProgramDesc => "ProgramDesc",
                _ => continue,
            };
            let mut out = Vec::new();
            match pdsave::reencode::reencode(&data, None, &mut out) {
                Ok(_) if out == data => *counts.entry((writer.clone(), label)).or_default() += 1,
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
