//! The cross-version matrix (spec/versions.md): for every release and every file of every
//! writer release in the corpus, `pdsave view --paddle RELEASE` equals what that release's
//! real `paddle.load` gave (`corpus/versions/reads/<release>.jsonl`, measured by
//! `scripts/version-matrix.py read`), and the committed matrix is the one those reads give.

use std::collections::BTreeMap;
use std::path::Path;

use pdsave::conformance::corpus::load_corpus;
use pdsave::conformance::validate::sorted_items;
use pdsave::paddle::outcome::Release;
use pdsave::paddle::LoadOptions;
use serde_json::Value as J;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_release_reads_every_writers_files_as_pdsave_says() {
    let cases = load_corpus(&root().join("corpus")).unwrap();
    let by_id: BTreeMap<&str, _> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut failures = Vec::new();
    let mut counts = BTreeMap::new();
    for (release, (set, lo)) in Release::ALL
        .into_iter()
        .flat_map(|r| LoadOptions::SETS.into_iter().map(move |s| (r, s)))
    {
        // `<release>.jsonl`: the default set (every matrix file); `<release>.<set>.jsonl`:
        // the other option sets (pickles and tensor streams).
        let file = match set {
            "default" => format!("{}.jsonl", release.name()),
            s => format!("{}.{s}.jsonl", release.name()),
        };
        let path = root().join("corpus/versions/reads").join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let (mut checked, mut crashed) = (0u32, 0u32);
        for line in text.lines() {
            let rec: J = serde_json::from_str(line).unwrap();
            let id = rec["case"].as_str().unwrap();
            let want = &rec["view"];
            let Some(case) = by_id.get(id) else {
                failures.push(format!("{release} {id}: the case is not in corpus/cases"));
                continue;
            };
            if want.get("view").is_none() {
                // The reader's process died, or Paddle's value has no view (SelectedRows).
                crashed += 1;
                continue;
            }
            let opts = LoadOptions {
                paddle: release,
                ..lo
            };
            let ours = pdsave::paddle::path::with_loaded(&case.entry, opts, false, |r| {
                pdsave::view::view(r)
            });
            let ours = match ours {
                Ok(v) => v,
                Err(e) => J::String(format!("pdsave gives no view: {e}")),
            };
            let (a, b) = if case.unordered {
                (sorted_items(&ours), sorted_items(want))
            } else {
                (ours, want.clone())
            };
            if let Some(d) = pdsave::view::diff(&a, &b) {
                failures.push(format!("{release} reading {id} [{set}]: {d}"));
            }
            checked += 1;
        }
        counts.insert((release.name(), set), (checked, crashed));
    }
    for ((r, set), (n, c)) in &counts {
        eprintln!(
            "Paddle {r} [{set}]: {n} files read as pdsave --paddle {r} says; {c} without a view"
        );
    }
    assert!(
        counts.len() >= 2,
        "reads of at least two releases are committed"
    );
    assert!(
        failures.is_empty(),
        "{} differences: {failures:#?}",
        failures.len()
    );
}

/// The real-world files of corpus/wild (PROVENANCE.md): the view of every option set is
/// real Paddle 3.3.1's (expected.*) and, with `--paddle 2.6.2`, real Paddle 2.6.2's
/// (observed.paddle-2.6.2.*); each inspects, and checks clean (exit 0).
#[test]
fn wild_files_view_inspect_and_check_clean() {
    let cases = load_corpus(&root().join("corpus")).unwrap();
    let wild: Vec<_> = cases
        .iter()
        .filter(|c| c.id.starts_with("y_wild_"))
        .collect();
    assert!(wild.len() >= 4, "{} wild cases", wild.len());
    let mut failures = Vec::new();
    for case in wild {
        // Safetensors mode reads safetensors files: none of these is one.
        for (set, lo) in LoadOptions::SETS
            .into_iter()
            .filter(|(_, o)| !o.safetensors)
        {
            for (release, file) in [
                (Release::P3_3_1, format!("expected.{set}.json")),
                (Release::P2_6_2, format!("observed.paddle-2.6.2.{set}.json")),
            ] {
                let want: J =
                    serde_json::from_str(&std::fs::read_to_string(case.dir.join(&file)).unwrap())
                        .unwrap();
                let opts = LoadOptions {
                    paddle: release,
                    ..lo
                };
                let ours = pdsave::paddle::path::with_loaded(&case.entry, opts, false, |r| {
                    pdsave::view::view(r)
                })
                .unwrap_or_else(|e| J::String(e.to_string()));
                let (a, b) = if case.unordered {
                    (sorted_items(&ours), sorted_items(&want))
                } else {
                    (ours, want)
                };
                if let Some(d) = pdsave::view::diff(&a, &b) {
                    failures.push(format!("{} {file}: {d}", case.id));
                }
            }
        }
        if let Err(e) = pdsave::inspect::inspect(&case.entry) {
            failures.push(format!("{}: inspect: {e}", case.id));
        }
        let report = pdsave::check::check(&case.entry);
        if report.exit_code != 0 {
            failures.push(format!("{}: check exits {}", case.id, report.exit_code));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The path-form corner cases of `scripts/path-corners.py`, built the same way, against
/// what real Paddle 2.6.2 and 3.3.1 raised (`corpus/versions/path-corners/<release>.json`):
/// a `static.save` prefix without `.pdiparams` is `{}`, a PIR one ValueError, a zip named
/// `.pdparams` ValueError; a `__model__` directory with a stray file loads in 2.6.2 and is
/// TypeError in 3.3.1, a `sub/model.txt` is 2.6.2's FileNotFoundError, a missing variable
/// file its RuntimeError; a variable directory with a stray file is ValueError.
#[test]
fn path_corner_cases_raise_as_each_release_does() {
    let c = root().join("corpus/cases");
    let scratch = tempfile::Builder::new()
        .prefix("pdsave-corners-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path();
    let mut failures = Vec::new();
    for (release, file) in [(Release::P2_6_2, "2.6.2"), (Release::P3_3_1, "3.3.1")] {
        let want: J = serde_json::from_str(
            &std::fs::read_to_string(
                root().join(format!("corpus/versions/path-corners/{file}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        for fam in ["p2", "p3"] {
            let r = tmp.join(format!("{file}-{fam}"));
            let legacy = |p2: &str, p3: &str| c.join(if fam == "p2" { p2 } else { p3 });
            copy_dir(
                &legacy(
                    "y_p2_static_save_pdmodel",
                    "y_p3_legacy_static_save_pdmodel",
                ),
                &r.join("A"),
            );
            copy_dir(&c.join("y_p3_pir_static_save_json"), &r.join("B"));
            // a zip archive (PK) named .pdparams
            std::fs::write(r.join("c.pdparams"), b"PK\x03\x04\x14\x00\x00\x00\x00\x00").unwrap();
            let inf = legacy(
                "y_p2_inference_model_dir",
                "y_p3_legacy_inference_model_dir",
            )
            .join("model");
            copy_dir(&inf, &r.join("dir_with_stray_readme"));
            std::fs::write(r.join("dir_with_stray_readme/readme.txt"), "hi").unwrap();
            copy_dir(&inf, &r.join("dir_with_sub_model_txt/sub"));
            copy_dir(&inf, &r.join("dir_with_sub_model_txt"));
            std::fs::remove_dir_all(r.join("dir_with_sub_model_txt/sub")).unwrap();
            std::fs::create_dir_all(r.join("dir_with_sub_model_txt/sub")).unwrap();
            std::fs::write(r.join("dir_with_sub_model_txt/sub/model.txt"), "hi").unwrap();
            copy_dir(&inf, &r.join("dir_missing_variable_file"));
            let mut vars: Vec<_> = std::fs::read_dir(&inf)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "__model__")
                .collect();
            vars.sort();
            std::fs::remove_file(r.join("dir_missing_variable_file").join(&vars[0])).unwrap();
            let sv = legacy("y_p2_save_vars_dir", "y_p3_legacy_save_vars_dir").join("model");
            copy_dir(&sv, &r.join("vars_dir_with_stray_readme"));
            std::fs::write(r.join("vars_dir_with_stray_readme/readme.txt"), "hi").unwrap();
            for (name, path) in [
                ("static_save_prefix_without_pdiparams", r.join("A/model")),
                ("pir_static_save_prefix", r.join("B/model")),
                ("zip_named_pdparams", r.join("c.pdparams")),
                ("dir_with_stray_readme", r.join("dir_with_stray_readme")),
                ("dir_with_sub_model_txt", r.join("dir_with_sub_model_txt")),
                (
                    "dir_missing_variable_file",
                    r.join("dir_missing_variable_file"),
                ),
                (
                    "vars_dir_with_stray_readme",
                    r.join("vars_dir_with_stray_readme"),
                ),
            ] {
                let opts = LoadOptions {
                    paddle: release,
                    ..Default::default()
                };
                let ours = pdsave::paddle::path::with_loaded(&path, opts, false, |r| {
                    pdsave::view::view(r)
                });
                let ours = match ours {
                    Ok(v) => match (v.get("error"), v["result"]["items"].as_array()) {
                        (Some(e), _) => format!("error {}", e.as_str().unwrap()),
                        (None, Some(items)) => format!("dict {}", items.len()),
                        _ => "other".to_string(),
                    },
                    Err(e) => format!("no view: {e}"),
                };
                let key = format!("{fam}/{name}");
                if want[&key] != ours.as_str() {
                    failures.push(format!(
                        "Paddle {file} {key}: real {} pdsave {ours}",
                        want[&key]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
