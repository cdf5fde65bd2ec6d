//! `oracle-diff --cases N --seed S`: generated save-side objects, saved and loaded by
//! pdsave's reference and by real Paddle (the oracle adapter); bytes and views compared.
//! Prints each mismatch with a Python snippet and ends with `N passed, M failed`.

use std::process::ExitCode;

use clap::Parser;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use pdsave::conformance::oracle::{compare, reference_answer, Oracle};
use pdsave::gen;
use pdsave::paddle::snippet::python_snippet;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 300)]
    cases: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Python of a venv with paddlepaddle.
    #[arg(long, default_value = ".venv/paddle3/bin/python")]
    python: String,
    #[arg(long, default_value = "adapters/oracle/oracle.py")]
    script: String,
    /// Directory to write mismatching cases into (object JSON + snippet).
    #[arg(long)]
    save_failures: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let mut oracle = match Oracle::start(&a.python, &a.script) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "oracle-diff: cannot start the oracle ({} {}): {e}",
                a.python, a.script
            );
            return ExitCode::from(2);
        }
    };
    let flavour = oracle.flavour();
    eprintln!("oracle: {}", oracle.info);
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&a.seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strat = (gen::object(), gen::protocol());
    let (mut passed, mut failed) = (0u64, 0u64);
    let t0 = std::time::Instant::now();
    for i in 0..a.cases {
        let Ok(tree) = strat.new_tree(&mut runner) else {
            continue;
        };
        let (obj, proto) = tree.current();
        let theirs = match oracle.ask(&obj, proto) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("oracle died at case {i}: {e}; restarting");
                failed += 1;
                oracle = match Oracle::start(&a.python, &a.script) {
                    Ok(o) => o,
                    Err(_) => break,
                };
                continue;
            }
        };
        let ours = reference_answer(&obj, proto, flavour);
        match compare(&ours, &theirs) {
            None => passed += 1,
            Some(why) => {
                failed += 1;
                println!("--- case {i} (seed {}, protocol {proto}): {why}", a.seed);
                println!("{}", python_snippet(&obj, proto, "case.pdparams"));
                if let Some(dir) = &a.save_failures {
                    let _ = std::fs::create_dir_all(dir);
                    let j = serde_json::json!({"object": obj.to_json(), "protocol": proto, "why": why, "oracle": theirs});
                    let _ = std::fs::write(
                        dir.join(format!("case-{}-{i}.json", a.seed)),
                        j.to_string(),
                    );
                }
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{:.1} oracle cases/s",
        (passed + failed) as f64 / secs.max(1e-9)
    );
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
