//! Every pickle in corpus/ that real Paddle wrote: pdsave re-encodes it to the same bytes,
//! and `pdsave view` equals real `paddle.load`'s view under the three option sets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as J;

use pdsave::paddle::file::load_file_bytes;
use pdsave::paddle::LoadOptions;
use pdsave::pickle::{decode, encode, EncodeOptions};

fn cases() -> Vec<(PathBuf, J)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cases");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&root).expect("corpus/cases exists") {
        let dir = e.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let case: J = serde_json::from_str(&text).unwrap();
        out.push((dir, case));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn pickle_files(dir: &Path, case: &J) -> Vec<PathBuf> {
    // n_ cases are inputs to reject, not files Paddle wrote.
    if case["format"] != "pickle" || case["kind"] == "n" {
        return vec![];
    }
    let entry = case["entry"].as_str().unwrap_or("");
    vec![dir.join(entry)]
}

#[test]
fn real_paddle_pickles_reencode_byte_identical() {
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (dir, case) in cases() {
        for f in pickle_files(&dir, &case) {
            let Ok(data) = std::fs::read(&f) else {
                continue;
            };
            let g = match decode(&data) {
                Ok(g) => g,
                Err(e) => {
                    failures.push(format!("{}: decode: {e}", f.display()));
                    continue;
                }
            };
            let out = encode(&g, &EncodeOptions::like(&g)).unwrap();
            let key = format!(
                "protocol {} {}",
                g.protocol,
                g.flavour.map(|f| f.label()).unwrap_or("no-numpy")
            );
            let c = counts.entry(key).or_default();
            if out == data[..g.consumed] && g.consumed == data.len() {
                c.0 += 1;
            } else {
                c.1 += 1;
                failures.push(format!("{}: re-encoded bytes differ", f.display()));
            }
        }
    }
    for (k, (ok, bad)) in &counts {
        eprintln!("{k}: {ok} identical, {bad} different");
    }
    assert!(
        counts.values().map(|c| c.0).sum::<u32>() > 0,
        "no pickle in corpus/"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn view_equals_real_paddle_load_on_every_corpus_pickle() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (dir, case) in cases() {
        if case["format"] != "pickle" {
            continue;
        }
        let Ok(data) = std::fs::read(dir.join(case["entry"].as_str().unwrap_or(""))) else {
            continue;
        };
        for (name, lo) in LoadOptions::SETS {
            let Ok(text) = std::fs::read_to_string(dir.join(format!("expected.{name}.json")))
            else {
                continue;
            };
            let expected: J = serde_json::from_str(&text).unwrap();
            let ours = match pdsave::view::view(&load_file_bytes(&data, lo)) {
                Ok(v) => v,
                Err(e) => J::String(format!("pdsave could not view: {e}")),
            };
            checked += 1;
            if let Some(d) = pdsave::view::diff(&ours, &expected) {
                failures.push(format!("{} [{name}]: {d}", dir.display()));
            }
        }
    }
    eprintln!("{checked} views checked");
    assert!(checked > 0, "no expected views in corpus/");
    assert!(failures.is_empty(), "{failures:#?}");
}
