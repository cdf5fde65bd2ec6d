//! `cargo bench --bench harness`: throughput of the conformance harness.
//! In-process: generated object → reference save → encode → decode → load (3 option sets)
//! → views, and the classifier. With `PDSAVE_ORACLE_PYTHON` set to a venv's python, also
//! the real-Paddle oracle's cases/s on the same objects.

use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use pdsave::conformance::oracle::{reference_answer, Oracle};
use pdsave::numpy::Flavour;
use pdsave::paddle::classify::classify_object;
use pdsave::paddle::save::SaveOptions;

fn main() {
    let n: usize = std::env::var("PDSAVE_BENCH_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strat = (pdsave::gen::object(), pdsave::gen::protocol());
    let cases: Vec<_> = (0..n)
        .filter_map(|_| strat.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect();

    let t = Instant::now();
    let mut bytes = 0usize;
    for (obj, p) in &cases {
        let a = reference_answer(obj, *p, Flavour::Numpy2);
        bytes += a
            .get("bytes")
            .and_then(|b| b.as_array())
            .map(|b| b.len())
            .unwrap_or(0);
        let _ = classify_object(
            obj,
            &SaveOptions {
                protocol: *p,
                ..SaveOptions::default()
            },
        );
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "in-process: {n} cases in {s:.2} s = {:.0} cases/s ({:.1} MB pickled)",
        n as f64 / s,
        bytes as f64 / 1e6
    );

    if let Ok(py) = std::env::var("PDSAVE_ORACLE_PYTHON") {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/adapters/oracle/oracle.py");
        let mut o = Oracle::start(&py, script).expect("oracle starts");
        let m = n.min(1000);
        let t = Instant::now();
        for (obj, p) in cases.iter().take(m) {
            o.ask(obj, *p).expect("oracle answers");
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "oracle ({}): {m} cases in {s:.2} s = {:.0} cases/s",
            o.info,
            m as f64 / s
        );
    }
}
