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
    for release in Release::ALL {
        let path = root().join(format!("corpus/versions/reads/{}.jsonl", release.name()));
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
                ..Default::default()
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
                failures.push(format!("{release} reading {id}: {d}"));
            }
            checked += 1;
        }
        counts.insert(release.name(), (checked, crashed));
    }
    for (r, (n, c)) in &counts {
        eprintln!("Paddle {r}: {n} files read as pdsave --paddle {r} says; {c} without a view");
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
        for (set, lo) in LoadOptions::SETS {
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
