//! Every `n_` case of the corpus (written by corpus/make_hostile.py, and by the fuzzers) is
//! rejected by pdsave — no result view (refused by the load or by the view) — with a reason naming the global, opcode, offset or
//! field (its case.json `reason_contains`).

use std::path::Path;

use pdsave::conformance::corpus::{load_corpus, Kind};
use pdsave::paddle::path::with_loaded;
use pdsave::paddle::LoadOptions;

#[test]
fn every_n_case_is_rejected_with_its_reason_named() {
    let cases = load_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for c in cases.iter().filter(|c| c.kind == Kind::N) {
        checked += 1;
        // Rejected by the load, or (a value that loads but has no view: an int past the
        // digit limit) by the view.
        let r = with_loaded(&c.entry, LoadOptions::default(), false, |r| {
            let t = r
                .as_ref()
                .map(|l| l.root().type_name())
                .map_err(Clone::clone)?;
            pdsave::view::view(r).map(|_| t)
        });
        match r {
            Ok(t) => failures.push(format!("{}: accepted ({t})", c.id)),
            Err(e) => {
                let want = c.meta.reason_contains.as_deref().unwrap_or("");
                if !e.to_string().contains(want) {
                    failures.push(format!(
                        "{}: reason {:?} does not name {want:?}",
                        c.id,
                        e.to_string()
                    ));
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} n_ cases");
    assert!(failures.is_empty(), "{failures:#?}");
}
