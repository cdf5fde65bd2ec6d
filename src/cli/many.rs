//! The commands on many inputs (several PATHs, `-r` trees): one summary line per file, or
//! one JSON line with `--json`; and `validate`, the corpus runner.

use std::path::Path;
use std::process::ExitCode;

use pdsave::paddle::LoadOptions;

use super::{Input, Out};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// One line per input: `PATH: format, writer, N variables, SIZE[, W warnings]`.
pub fn inspect(inputs: &[Input], as_json: bool, stats: bool, out: &Out) -> ExitCode {
    let mut failed = false;
    for input in inputs {
        let r = input.source(stats).and_then(|src| {
            pdsave::inspect::inspect_source(&src, pdsave::inspect::Options { stats }, &|_| {})
        });
        match r {
            Ok(r) if as_json => out.line(&json(&r)),
            Ok(r) => {
                let bytes: u64 = r.variables.iter().map(|v| v.bytes).sum();
                let n = r.variables.len();
                let mut line = format!(
                    "{}: {}, {}, {n} variable{}, {}",
                    r.path,
                    r.format.label(),
                    r.writer,
                    if n == 1 { "" } else { "s" },
                    pdsave::inspect::human_bytes(bytes)
                );
                if !r.warnings.is_empty() {
                    line.push_str(&format!(
                        ", {} warning{}",
                        r.warnings.len(),
                        if r.warnings.len() == 1 { "" } else { "s" }
                    ));
                }
                out.line(&line);
            }
            Err(e) => {
                failed = true;
                if as_json {
                    out.line(&json(
                        &serde_json::json!({"path": input.name(), "error": e}),
                    ));
                } else {
                    out.line(&format!(
                        "{}: error: {}",
                        input.name(),
                        strip(&input.name(), &e)
                    ));
                }
            }
        }
    }
    ExitCode::from(failed as u8)
}

/// `e` without a leading `PATH: ` (the line already names the file).
fn strip<'e>(name: &str, e: &'e str) -> &'e str {
    e.strip_prefix(name)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(e)
}

/// One line per input: `PATH: clean`, `PATH: N findings (RULES)`, `PATH: error: …`; the
/// exit code is the largest of the files' (0 clean, 1 findings, 2 error).
pub fn check(inputs: &[Input], as_json: bool, out: &Out) -> ExitCode {
    let p = out.paint();
    let mut worst = 0u8;
    for input in inputs {
        let r = super::single::check_report(input);
        worst = worst.max(r.exit_code);
        if as_json {
            out.line(&json(&r));
            continue;
        }
        let name = input.name();
        let line = match (r.findings.len(), &r.error) {
            (0, None) => format!("{name}: {}", p.good("clean")),
            (0, Some(e)) => format!("{name}: error: {e}"),
            (n, _) => {
                let mut rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
                rules.dedup();
                let danger = r
                    .globals
                    .iter()
                    .any(|g| g.verdict == pdsave::pickle::globals::Verdict::Dangerous);
                let label = format!("{n} finding{}", if n == 1 { "" } else { "s" });
                let label = if danger {
                    p.danger(&format!("DANGER, {label}"))
                } else {
                    p.warn(&label)
                };
                format!("{name}: {label} ({})", rules.join(", "))
            }
        };
        out.line(&line);
    }
    ExitCode::from(worst)
}

/// One JSON line per input: the view with its `path`, or `{"path", "rejected": reason}`.
pub fn view(inputs: &[Input], opts: LoadOptions, out: &Out) -> ExitCode {
    let mut refused = false;
    for input in inputs {
        let name = input.name();
        let src: Result<pdsave::source::Source, pdsave::paddle::LoadError> = match input {
            Input::Path(p) => pdsave::source::Source::open(p, true).map_err(Into::into),
            Input::Stdin => match input.source(true) {
                Ok(s) => Ok(s),
                Err(e) => {
                    out.line(&json(&serde_json::json!({"path": name, "rejected": e})));
                    refused = true;
                    continue;
                }
            },
        };
        let loaded = src
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|s| pdsave::paddle::path::load(s, opts));
        match pdsave::view::view(&loaded) {
            Ok(mut v) => {
                if let Some(m) = v.as_object_mut() {
                    let mut with = serde_json::Map::new();
                    with.insert("path".into(), name.into());
                    with.extend(std::mem::take(m));
                    *m = with;
                }
                out.line(&v.to_string());
            }
            Err(e) => {
                refused = true;
                out.line(&json(
                    &serde_json::json!({"path": name, "rejected": e.to_string()}),
                ));
            }
        }
    }
    ExitCode::from(refused as u8)
}

#[allow(clippy::too_many_arguments)]
pub fn validate(
    imps: &[String],
    plain: bool,
    corpus: &Path,
    failure_list: Option<&Path>,
    fix: bool,
    report: Option<&Path>,
    timeout: u64,
    filter: Option<&str>,
    out: &Out,
) -> Result<ExitCode, String> {
    use pdsave::conformance::{corpus::load_corpus, report as rep, validate as v};
    let mut cases = load_corpus(corpus)?;
    if let Some(f) = filter {
        cases.retain(|c| c.id.contains(f));
    }
    if failure_list.is_some() && imps.len() != 1 {
        return Err("--failure-list needs exactly one --impl".into());
    }
    let mut runs = Vec::new();
    for spec in imps {
        let (name, cmd) = spec.split_once('=').unwrap_or((spec.as_str(), ""));
        let t = std::time::Duration::from_secs(timeout);
        let mut imp: Box<dyn v::Implementation> = if cmd.is_empty() && name == "pdsave" {
            Box::new(v::Reference)
        } else if cmd.is_empty() {
            return Err(format!("--impl {spec}: expected NAME=COMMAND"));
        } else if plain {
            Box::new(v::Plain::new(name, cmd, t))
        } else {
            Box::new(v::Subprocess::new(name, cmd, t))
        };
        let start = std::time::Instant::now();
        let bar = out.counter(cases.len() as u64, name);
        let results = v::run(imp.as_mut(), &cases, |i, _| bar.set_position(i as u64));
        bar.finish_and_clear();
        out.note(&format!(
            "{name}: {} answers in {:.1} s",
            results.len(),
            start.elapsed().as_secs_f64()
        ));
        runs.push((name.to_string(), results));
    }
    out.text(&rep::summary_markdown(&runs));
    if let Some(dir) = report {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let md = rep::markdown(&runs);
        pdsave::write::write_bytes(&dir.join("report.md"), &[], md.as_bytes())
            .map_err(|e| e.to_string())?;
        let html = rep::html(&runs);
        pdsave::write::write_bytes(&dir.join("report.html"), &[], html.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let listed = failure_list.map(v::read_failure_list).unwrap_or_default();
    let mut bad = false;
    for (name, results) in &runs {
        let (new_failures, now_passing) = v::unexpected(results, &listed);
        for f in &new_failures {
            out.line(&format!("{name}: unexpected {f}"));
        }
        for k in &now_passing {
            out.line(&format!(
                "{name}: {k} is in the failure list but passes now"
            ));
        }
        bad |= !new_failures.is_empty() || !now_passing.is_empty();
        if fix {
            if let Some(p) = failure_list {
                pdsave::write::write_bytes(p, &[], v::failure_list(results).as_bytes())
                    .map_err(|e| e.to_string())?;
                bad = false;
            }
        }
    }
    Ok(ExitCode::from(bad as u8))
}
