//! `pdsave validate`: pdsave's own reference passes the whole corpus; the runner's
//! outcome classes, restart after crash, timeouts and failure lists work.

use std::path::Path;
use std::time::Duration;

use pdsave::conformance::corpus::{load_corpus, Case, Kind};
use pdsave::conformance::validate::{
    failure_list, read_failure_list, run, unexpected, Outcome, Plain, Reference, Subprocess,
};

fn corpus() -> Vec<Case> {
    load_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")).unwrap()
}

#[test]
fn the_reference_passes_every_case() {
    let cases = corpus();
    assert!(cases.len() > 300, "{}", cases.len());
    let results = run(&mut Reference, &cases, |_, _| {});
    let bad: Vec<String> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .map(|r| format!("{}: {} {}", r.key(), r.outcome.label(), r.outcome.detail()))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(results.len() > 1000);
}

#[test]
fn deviation_cases_keep_paddles_observed_view_and_documented_values() {
    for c in corpus().iter().filter(|c| c.meta.deviation.is_some()) {
        assert!(c.dir.join("paddle.default.json").is_file(), "{}", c.id);
        let values: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(c.dir.join("values.json")).unwrap())
                .unwrap();
        let (_, exp) = c.expected.iter().find(|(n, _)| n == "default").unwrap();
        let items = exp["result"]["items"].as_array().unwrap();
        assert_eq!(items.len(), values.as_array().unwrap().len(), "{}", c.id);
        for v in values.as_array().unwrap() {
            // The documented dict holds each parameter Paddle itself reads from the model.
            let hit = items
                .iter()
                .any(|kv| kv[1]["sha256"] == v["sha256"] && kv[1]["shape"] == v["shape"]);
            assert!(hit, "{}: {} missing", c.id, v["name"]);
        }
    }
}

fn small() -> Vec<Case> {
    let cases = corpus();
    let pick = |id: &str| cases.iter().find(|c| c.id == id).unwrap().clone();
    vec![pick("y_p3_proto2_linear_state_dict"), pick("n_os_system")]
}

#[test]
fn a_process_that_exits_is_a_crash_and_is_restarted() {
    let mut imp = Subprocess::new("dies", "exit 0", Duration::from_secs(5));
    let results = run(&mut imp, &small(), |_, _| {});
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Crash(_))),
        "{results:?}"
    );
}

#[test]
fn a_silent_process_times_out() {
    let mut imp = Subprocess::new("sleeps", "sleep 30", Duration::from_millis(300));
    let results = run(&mut imp, &small()[..1], |_, _| {});
    assert!(results.iter().all(|r| r.outcome == Outcome::Timeout));
}

#[test]
fn rejecting_everything_fails_y_and_passes_n() {
    let mut imp = Subprocess::new(
        "no",
        r#"while read l; do echo '{"rejected": "no"}'; done"#,
        Duration::from_secs(5),
    );
    let results = run(&mut imp, &small(), |_, _| {});
    for r in &results {
        match r.kind {
            Kind::N => assert_eq!(r.outcome, Outcome::Pass),
            _ => assert!(matches!(r.outcome, Outcome::WronglyRejected(_))),
        }
    }
    // Failure lists: listing the failures makes the run expected; a listed pass is flagged.
    let list = tempfile::Builder::new()
        .prefix("pdsave-failures-")
        .tempfile()
        .unwrap();
    let list_path = list.path();
    std::fs::write(list_path, failure_list(&results)).unwrap();
    let listed = read_failure_list(list_path);
    assert_eq!(listed.len(), 3);
    assert_eq!(unexpected(&results, &listed), (vec![], vec![]));
    let mut with_pass = listed.clone();
    with_pass.insert("n_os_system".into());
    assert_eq!(
        unexpected(&results, &with_pass).1,
        vec!["n_os_system".to_string()]
    );
}

#[test]
fn plain_mode_reads_exit_status() {
    let mut accept_all = Plain::new("true", "true", Duration::from_secs(5));
    let results = run(&mut accept_all, &small(), |_, _| {});
    let by: Vec<_> = results
        .iter()
        .map(|r| (r.case.as_str(), r.outcome.label()))
        .collect();
    assert_eq!(
        by,
        [
            ("y_p3_proto2_linear_state_dict", "pass"),
            ("n_os_system", "wrongly accepted")
        ]
    );
}

#[test]
fn a_timeout_kills_the_adapters_children_too() {
    let dir = tempfile::Builder::new()
        .prefix("pdsave-child-")
        .tempdir()
        .unwrap();
    let f = dir.path().join("pid");
    let cmd = format!("sleep 30 & echo $! > {}; wait", f.display());
    let mut imp = Subprocess::new("spawns", &cmd, Duration::from_millis(500));
    let results = run(&mut imp, &small()[..1], |_, _| {});
    assert!(results.iter().all(|r| r.outcome == Outcome::Timeout));
    let pid = std::fs::read_to_string(&f).unwrap().trim().to_string();
    std::thread::sleep(Duration::from_millis(200));
    // Killed and reaped by init: no such process, or a zombie at most.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "child {pid} still runs: {stat}"
    );
}
