//! `pdsave validate`: runs an implementation under test over the corpus and classifies each
//! answer. The implementation is one persistent subprocess speaking JSON lines (spec/validate.md):
//! request `{"case", "path", "kind", "format", "options": {"return_numpy", "keep_name_table",
//! "safetensors"}}`,
//! answer a load view, `{"rejected": reason}` or `{"skipped": reason}`. It is restarted after a
//! crash; no answer within the timeout is a timeout. A plain mode runs `CMD PATH` per case and
//! reads only the exit status (0 accept, else reject).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value as J};

use super::corpus::{Case, Kind};
use crate::paddle::LoadOptions;

/// What an implementation said about one case under one option set.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    View(J),
    Rejected(String),
    Skipped(String),
    Crash(String),
    Timeout,
}

/// The verdict for one case under one option set.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Pass,
    /// A view that differs from the expected one (the first difference).
    Fail(String),
    /// An `n_` case answered with a result.
    WronglyAccepted,
    /// A case that must load was rejected (the reason).
    WronglyRejected(String),
    Skipped(String),
    Crash(String),
    Timeout,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::WronglyAccepted => "wrongly accepted",
            Outcome::WronglyRejected(_) => "wrongly rejected",
            Outcome::Skipped(_) => "skipped",
            Outcome::Crash(_) => "crash",
            Outcome::Timeout => "timeout",
        }
    }
    pub fn symbol(&self) -> &'static str {
        match self {
            Outcome::Pass => "✓",
            Outcome::Fail(_) => "✗",
            Outcome::WronglyAccepted => "A",
            Outcome::WronglyRejected(_) => "R",
            Outcome::Skipped(_) => "–",
            Outcome::Crash(_) => "C",
            Outcome::Timeout => "T",
        }
    }
    pub fn detail(&self) -> String {
        match self {
            Outcome::Fail(d)
            | Outcome::WronglyRejected(d)
            | Outcome::Skipped(d)
            | Outcome::Crash(d) => d.clone(),
            _ => String::new(),
        }
    }
}

/// An implementation under test.
pub trait Implementation {
    fn name(&self) -> &str;
    fn ask(&mut self, case: &Case, opts: LoadOptions) -> Answer;
    /// Only accept/reject, one option set (plain mode).
    fn plain(&self) -> bool {
        false
    }
}

/// pdsave's own reference, in process.
pub struct Reference;

impl Implementation for Reference {
    fn name(&self) -> &str {
        "pdsave"
    }
    fn ask(&mut self, case: &Case, opts: LoadOptions) -> Answer {
        // The rules of the release whose views the case holds (its writer's).
        let opts = LoadOptions {
            paddle: case.reader,
            ..opts
        };
        // Mapped and borrowed, as `pdsave view` reads (no copy of array payloads).
        crate::paddle::path::with_loaded(&case.entry, opts, false, |r| match crate::view::view(r) {
            Ok(v) => Answer::View(v),
            Err(e) => Answer::Rejected(e.to_string()),
        })
    }
}

/// A persistent subprocess speaking JSON lines.
pub struct Subprocess {
    name: String,
    cmd: String,
    timeout: Duration,
    proc: Option<(Child, ChildStdin, Receiver<String>)>,
}

impl Subprocess {
    pub fn new(name: &str, cmd: &str, timeout: Duration) -> Self {
        Subprocess {
            name: name.into(),
            cmd: cmd.into(),
            timeout,
            proc: None,
        }
    }

    fn start(&mut self) -> std::io::Result<()> {
        // Its own process group, so a timeout kills the adapter and not only `sh`.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        self.proc = Some((child, stdin, rx));
        Ok(())
    }

    fn stop(&mut self) {
        if let Some((mut c, _, _)) = self.proc.take() {
            kill_group(c.id());
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Subprocess {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Implementation for Subprocess {
    fn name(&self) -> &str {
        &self.name
    }
    fn ask(&mut self, case: &Case, opts: LoadOptions) -> Answer {
        if self.proc.is_none() {
            if let Err(e) = self.start() {
                return Answer::Crash(format!("cannot start: {e}"));
            }
        }
        let req = json!({
            "case": case.id,
            "path": case.entry.display().to_string(),
            "kind": match case.kind { Kind::Y => "y", Kind::N => "n", Kind::I => "i" },
            "format": case.format.label(),
            "options": {"return_numpy": opts.return_numpy, "keep_name_table": opts.keep_name_table, "safetensors": opts.safetensors},
        });
        let Some((_, stdin, rx)) = self.proc.as_mut() else {
            return Answer::Crash("not running".into());
        };
        if writeln!(stdin, "{req}")
            .and_then(|_| stdin.flush())
            .is_err()
        {
            self.stop();
            return Answer::Crash("the process exited".into());
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let Ok(j) = serde_json::from_str::<J>(&line) else {
                        continue;
                    };
                    return if let Some(r) = j.get("rejected") {
                        Answer::Rejected(r.as_str().unwrap_or("").to_string())
                    } else if let Some(r) = j.get("skipped") {
                        Answer::Skipped(r.as_str().unwrap_or("").to_string())
                    } else {
                        Answer::View(j)
                    };
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.stop();
                    return Answer::Timeout;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.stop();
                    return Answer::Crash("the process exited".into());
                }
            }
        }
    }
}

/// Kills a process group (the adapter and whatever it started).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Plain mode: `CMD PATH` per case, exit status 0 is accept.
pub struct Plain {
    name: String,
    cmd: String,
    timeout: Duration,
}

impl Plain {
    pub fn new(name: &str, cmd: &str, timeout: Duration) -> Self {
        Plain {
            name: name.into(),
            cmd: cmd.into(),
            timeout,
        }
    }
}

impl Implementation for Plain {
    fn name(&self) -> &str {
        &self.name
    }
    fn plain(&self) -> bool {
        true
    }
    fn ask(&mut self, case: &Case, _: LoadOptions) -> Answer {
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("{} \"$1\"", self.cmd))
            .arg("sh")
            .arg(&case.entry)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => return Answer::Crash(e.to_string()),
        };
        let deadline = Instant::now() + self.timeout;
        loop {
            match child.try_wait() {
                Ok(Some(st)) => {
                    return match st.code() {
                        Some(0) => Answer::View(json!({"view": 1, "result": {"t": "accepted"}})),
                        Some(c) => Answer::Rejected(format!("exit status {c}")),
                        None => Answer::Crash(format!("killed by a signal ({st})")),
                    }
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    kill_group(child.id());
                    let _ = child.kill();
                    let _ = child.wait();
                    return Answer::Timeout;
                }
            }
        }
    }
}

/// One verdict.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: String,
    /// Option-set name.
    pub option: String,
    pub outcome: Outcome,
    pub rules: Vec<crate::rules::Rule>,
    pub kind: Kind,
}

impl CaseResult {
    /// The key failure lists use: `id` for the default option set, `id@option` otherwise.
    pub fn key(&self) -> String {
        if self.option == "default" {
            self.case.clone()
        } else {
            format!("{}@{}", self.case, self.option)
        }
    }
}

fn judge(case: &Case, expected: Option<&J>, answer: Answer, plain: bool) -> Outcome {
    let must_reject = case.kind == Kind::N;
    let expect_error = expected.is_some_and(|e| e.get("error").is_some());
    match answer {
        Answer::Skipped(r) => Outcome::Skipped(r),
        Answer::Crash(r) => Outcome::Crash(r),
        Answer::Timeout => Outcome::Timeout,
        Answer::Rejected(r) => {
            if must_reject || expect_error {
                Outcome::Pass
            } else {
                Outcome::WronglyRejected(r)
            }
        }
        Answer::View(v) => {
            let is_error = v.get("error").is_some();
            if must_reject {
                return if is_error {
                    Outcome::Pass
                } else {
                    Outcome::WronglyAccepted
                };
            }
            if plain {
                return if expect_error {
                    Outcome::Fail("accepted a file paddle.load raises on".into())
                } else {
                    Outcome::Pass
                };
            }
            let (v, e) = if case.unordered {
                (sorted_items(&v), expected.map(sorted_items))
            } else {
                (v, expected.cloned())
            };
            match e.as_ref() {
                Some(e) => match crate::view::diff(&v, e) {
                    None => Outcome::Pass,
                    Some(d) => Outcome::Fail(d),
                },
                None => Outcome::Skipped("the case has no expected view".into()),
            }
        }
    }
}

/// A view whose top-level dict items are sorted by key (for `Case::unordered`).
pub fn sorted_items(v: &J) -> J {
    let mut v = v.clone();
    if let Some(items) = v.pointer_mut("/result/items").and_then(J::as_array_mut) {
        items.sort_by_key(|kv| kv.get(0).map(|k| k.to_string()).unwrap_or_default());
    }
    v
}

/// Runs one implementation over the cases. `progress` is called after each answer.
///
/// ```
/// use pdsave::conformance::{corpus::load_corpus, validate};
/// let mut cases = load_corpus("corpus".as_ref()).unwrap();
/// cases.retain(|c| c.id.contains("linear_state_dict"));
/// let results = validate::run(&mut validate::Reference, &cases, |_, _| {});
/// assert!(!results.is_empty());
/// ```
pub fn run(
    imp: &mut dyn Implementation,
    cases: &[Case],
    mut progress: impl FnMut(usize, usize),
) -> Vec<CaseResult> {
    let mut out = Vec::new();
    let total = cases.len();
    for (i, case) in cases.iter().enumerate() {
        // `paddle.save` raised: there is no file to load (the case documents the save error).
        if case.format == super::corpus::CaseFormat::SaveError {
            progress(i + 1, total);
            continue;
        }
        let sets: Vec<(String, Option<J>)> = if case.kind == Kind::N || imp.plain() {
            vec![(
                "default".into(),
                case.expected
                    .iter()
                    .find(|(n, _)| n == "default")
                    .map(|(_, v)| v.clone()),
            )]
        } else {
            case.expected
                .iter()
                .map(|(n, v)| (n.clone(), Some(v.clone())))
                .collect()
        };
        for (name, expected) in sets {
            let lo = LoadOptions::SETS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, o)| *o)
                .unwrap_or_default();
            let answer = imp.ask(case, lo);
            let outcome = judge(case, expected.as_ref(), answer, imp.plain());
            out.push(CaseResult {
                case: case.id.clone(),
                option: name,
                outcome,
                rules: case.rules.clone(),
                kind: case.kind,
            });
        }
        progress(i + 1, total);
    }
    out
}

/// A failure list (protobuf conformance style): one key per line, `#` comments.
pub fn read_failure_list(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Unexpected results against a failure list: failures not listed, and listed keys that pass.
pub fn unexpected(results: &[CaseResult], listed: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let mut new_failures = Vec::new();
    let mut now_passing = Vec::new();
    for r in results {
        let failed = !matches!(r.outcome, Outcome::Pass | Outcome::Skipped(_));
        let key = r.key();
        match (failed, listed.contains(&key)) {
            (true, false) => new_failures.push(format!(
                "{key}: {} {}",
                r.outcome.label(),
                r.outcome.detail()
            )),
            (false, true) => now_passing.push(key),
            _ => {}
        }
    }
    (new_failures, now_passing)
}

/// The failure list that makes these results expected.
pub fn failure_list(results: &[CaseResult]) -> String {
    let mut s = String::from("# Known failures: one case (or case@option) per line. Written by `pdsave validate --fix`.\n");
    for r in results {
        if !matches!(r.outcome, Outcome::Pass | Outcome::Skipped(_)) {
            s.push_str(&format!("{}  # {}\n", r.key(), r.outcome.label()));
        }
    }
    s
}
