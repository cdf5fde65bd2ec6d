//! `pdsave check PATH` as a library function (spec/check.md): safety — every global a
//! pickle references, and whether it is Paddle's own — and the non-unique decodings
//! `paddle.load` will meet, with their workarounds; an exit class (clean, findings, error).
//!
//! A file is read as `paddle.load(file)` reads it: a pickle, else a SelectedRows or
//! DenseTensor stream (a combined `.pdiparams` when it holds several records), else a
//! program. A prefix (`jit.save` / `save_inference_model`) or a 1.x directory is checked
//! file by file (program, params, `.pdiparams.info` pickle, per-variable files), and then
//! loaded as a whole as `paddle.load(path)` would.

use crate::rules::PyExc;
use crate::rules::Rule;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::mapped::Mapped;
use crate::paddle::classify::{classify_graph, Finding};
use crate::paddle::file::python_class;
use crate::pickle::globals::{classify, scan_globals, GlobalScan, Verdict};
use crate::pickle::{self, PickleError, Sym};
use crate::{program, tensor_stream};

/// Offsets listed per distinct global (the count is always exact).
pub const MAX_OFFSETS: usize = 1000;
/// Files checked under one directory at most.
pub const MAX_FILES: usize = 100_000;
/// Directory nesting followed at most.
pub const MAX_DIR_DEPTH: usize = 64;

/// The exit class: 0 clean, 1 findings, 2 error (unreadable, not a Paddle file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Clean,
    Findings,
    Error,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Error => 2,
        }
    }
}

/// One distinct global of one file: every reference to it, and the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GlobalEntry {
    /// The file inside a prefix or directory; absent for a single file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `None` (JSON null) when STACK_GLOBAL's operand is not a string in the file.
    pub module: Option<String>,
    pub name: Option<String>,
    /// Byte offsets of the GLOBAL / INST / STACK_GLOBAL opcodes (at most [`MAX_OFFSETS`]).
    pub offsets: Vec<usize>,
    /// Number of references (opcodes), exact.
    pub count: usize,
    /// The opcodes that reference it.
    pub via: Vec<&'static str>,
    /// On Paddle's allowlist and used as Paddle uses it (for `eval`: the file decodes).
    pub paddle_own: bool,
    pub verdict: Verdict,
    pub meaning: String,
}

impl GlobalEntry {
    /// `module.name`, `?` for an unknown part.
    pub fn dotted(&self) -> String {
        format!(
            "{}.{}",
            self.module.as_deref().unwrap_or("?"),
            self.name.as_deref().unwrap_or("?")
        )
    }
}

/// One file of a prefix or directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    pub path: String,
    pub format: &'static str,
    pub protocol: Option<u8>,
    pub error: Option<String>,
}

/// What `pdsave check` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub path: String,
    /// `pickle`, `tensor stream`, `SelectedRows`, `combined params`, `program`, `prefix`,
    /// `directory` or `unreadable`.
    pub format: &'static str,
    /// Pickle protocol (PROTO's argument) of a pickle.
    pub protocol: Option<u8>,
    /// The files of a prefix or directory (empty for a single file).
    pub files: Vec<FileCheck>,
    pub globals: Vec<GlobalEntry>,
    /// Safety findings (P-ALLOW, P-SHAPE …) and non-unique decodings (A-…, L-FILE).
    pub findings: Vec<Finding>,
    /// Why the path could not be read, when it could not.
    pub error: Option<String>,
    /// What `paddle.load(path)` does that is neither a finding nor an error (it raises on a
    /// program file, say).
    pub notes: Vec<String>,
    pub exit: Exit,
    pub exit_code: u8,
}

/// One file's bytes, analysed.
struct Analysis {
    format: &'static str,
    protocol: Option<u8>,
    globals: Vec<GlobalEntry>,
    findings: Vec<Finding>,
    error: Option<String>,
    notes: Vec<String>,
}

fn finding(rule: Rule, path: String, message: String) -> Finding {
    Finding {
        rule,
        path,
        message,
        workaround: None,
        visible: true,
    }
}

/// The spec rule a decoder refusal falls under (spec/pickle.md).
fn refusal_rule(e: &PickleError) -> Rule {
    use PickleError::*;
    match e {
        ForbiddenGlobal { .. } => Rule::PAllow,
        BadCall { .. } | BadBuild { .. } | ForbiddenOpcode { .. } | BadType { .. } => Rule::PShape,
        Limit { .. } | TooDeep { .. } => Rule::PLimit,
        MemoMissing { .. } => Rule::PMemo,
        _ => Rule::PErr,
    }
}

fn is_eval(s: Option<crate::pickle::Global>) -> bool {
    matches!(s, Some(g) if g.sym == Sym::Eval)
}

/// Groups a scan's references into distinct globals with verdicts, and the safety
/// findings. `decode_err` is the decoder's refusal, if the file does not decode: then an
/// `eval` is not in Paddle's checked form.
fn safety(
    scan: &GlobalScan,
    decode_err: Option<&PickleError>,
    file: Option<&str>,
) -> (Vec<GlobalEntry>, Vec<Finding>) {
    let mut entries: Vec<GlobalEntry> = Vec::new();
    let mut index: std::collections::HashMap<(Option<&str>, Option<&str>), usize> =
        Default::default();
    for r in &scan.globals {
        let key = (r.module.as_deref(), r.name.as_deref());
        let i = match index.get(&key) {
            Some(&i) => i,
            None => {
                let (mut verdict, mut meaning) = classify(r);
                let mut own = verdict == Verdict::PaddleOwn;
                if is_eval(r.allowed) {
                    if let Some(e) = decode_err {
                        // Safe only in the exact form the decoder checks: the file must decode.
                        own = false;
                        meaning = if matches!(e, PickleError::BadCall { name: "eval", .. }) {
                            verdict = Verdict::Dangerous;
                            format!("not in Paddle's static-tensor form ({e}): eval runs arbitrary Python code on pickle.load")
                        } else {
                            verdict = Verdict::Unsafe;
                            let o = e.offset().unwrap_or(0);
                            let when = if o >= r.offset {
                                "after it"
                            } else {
                                "before it"
                            };
                            format!("Paddle's static-tensor form unverified: decoding stops at offset {o}, {when} ({e}); in any other form eval runs arbitrary Python code on pickle.load")
                        };
                    }
                }
                entries.push(GlobalEntry {
                    file: file.map(str::to_owned),
                    module: r.module.as_deref().map(str::to_owned),
                    name: r.name.as_deref().map(str::to_owned),
                    offsets: Vec::new(),
                    count: 0,
                    via: Vec::new(),
                    paddle_own: own,
                    verdict,
                    meaning,
                });
                index.insert(key, entries.len() - 1);
                entries.len() - 1
            }
        };
        let e = &mut entries[i];
        e.count += 1;
        if e.offsets.len() < MAX_OFFSETS {
            e.offsets.push(r.offset);
        }
        if !e.via.contains(&r.opcode) {
            e.via.push(r.opcode);
        }
    }
    let at = |o: usize| match file {
        Some(f) => format!("{f} byte {o}"),
        None => format!("byte {o}"),
    };
    let mut findings = Vec::new();
    for e in entries.iter().filter(|e| !e.paddle_own) {
        let refs = if e.count > 1 {
            format!(" ({} references)", e.count)
        } else {
            String::new()
        };
        let what = if e.verdict == Verdict::Unresolved {
            format!("unresolved global {}{refs}", e.dotted())
        } else {
            format!("global {}{refs}", e.dotted())
        };
        findings.push(finding(
            Rule::PAllow,
            at(e.offsets[0]),
            format!("{what}: {}", e.meaning),
        ));
    }
    for u in &scan.opcodes {
        findings.push(finding(
            Rule::PShape,
            at(u.offset),
            format!("{}: {}", u.opcode, u.detail),
        ));
    }
    (entries, findings)
}

/// The decoder's refusal as a finding, unless a safety finding already says it.
fn refusal(e: &PickleError, scan: &GlobalScan, file: Option<&str>) -> Option<Finding> {
    let covered = match e {
        PickleError::ForbiddenGlobal { offset, .. } => scan
            .globals
            .iter()
            .any(|g| g.offset == *offset && g.allowed.is_none()),
        PickleError::BadCall { name: "eval", .. } => true,
        _ => false,
    };
    if covered {
        return None;
    }
    let o = e.offset().unwrap_or(0);
    Some(finding(
        refusal_rule(e),
        match file {
            Some(f) => format!("{f} byte {o}"),
            None => format!("byte {o}"),
        },
        format!("unsafe or unsupported pickle: {e}"),
    ))
}

/// Not a pickle: the stream formats `paddle.load(file)` falls back to, then a program.
fn other_format(data: &[u8], alone: bool) -> Option<(&'static str, Vec<Finding>)> {
    if tensor_stream::decode_selected_rows_prefix(data).is_ok() {
        return Some(("SelectedRows", vec![]));
    }
    if tensor_stream::decode_dense_tensor_prefix(data).is_ok() {
        return Some(match tensor_stream::decode_combined(data) {
            // A combined .pdiparams holds unnamed records of which paddle.load(file) gives
            // the first; through the prefix, the program names them.
            Ok(recs) if recs.len() > 1 => {
                let f = crate::paddle::classify::combined_params_finding(recs.len());
                ("combined params", if alone { vec![f] } else { vec![] })
            }
            _ => ("tensor stream", vec![]),
        });
    }
    match program::summarize_program(data) {
        Ok(s) if s.block_count > 0 => Some(("program", vec![])),
        _ => None,
    }
}

/// Checks one file's bytes. `file` names it inside a prefix or directory (then only its
/// safety is checked: `paddle.load(path)` does not return its objects as they are).
fn analyse(data: &[u8], file: Option<&str>) -> Analysis {
    let alone = file.is_none();
    let scan = scan_globals(data);
    let e = match pickle::decode(data) {
        Ok(g) => {
            let (globals, mut findings) = safety(&scan, None, file);
            if alone {
                findings.extend(classify_graph(&g));
            }
            return Analysis {
                format: "pickle",
                protocol: Some(g.protocol),
                globals,
                findings,
                error: None,
                notes: vec![],
            };
        }
        Err(e) => e,
    };
    let pickle_like = !scan.globals.is_empty() || !scan.opcodes.is_empty();
    if python_class(&e) == Some(PyExc::UnpicklingError) && !pickle_like {
        if let Some((format, findings)) = other_format(data, alone) {
            let mut notes = vec![];
            // Streams load (their arrays would be copied for nothing); a program raises.
            if alone && format == "program" {
                if let Err(e @ crate::paddle::LoadError::Python { .. }) =
                    crate::paddle::file::load_file_bytes(data, Default::default())
                {
                    notes.push(format!("paddle.load(file) fails: {e}"));
                }
            }
            return Analysis {
                format,
                protocol: None,
                globals: vec![],
                findings,
                error: None,
                notes,
            };
        }
    }
    let (globals, mut findings) = safety(&scan, Some(&e), file);
    let mut error = None;
    match python_class(&e) {
        // Python's unpickler fails on these bytes too: malformed, not refused.
        Some(_) => {
            let what = if pickle_like || data.first() == Some(&0x80) {
                "malformed pickle"
            } else {
                "not a Paddle file pdsave can read (as a pickle)"
            };
            error = Some(format!("{what}: {e}"));
        }
        None => findings.extend(refusal(&e, &scan, file)),
    }
    let format = if error.is_some() && !pickle_like && data.first() != Some(&0x80) {
        "unreadable"
    } else {
        "pickle"
    };
    Analysis {
        format,
        protocol: scan.protocol,
        globals,
        findings,
        error,
        notes: vec![],
    }
}

fn exit_of(findings: &[Finding], error: bool) -> Exit {
    if !findings.is_empty() {
        Exit::Findings
    } else if error {
        Exit::Error
    } else {
        Exit::Clean
    }
}

fn report(path: &Path, files: Vec<FileCheck>, a: Analysis) -> Report {
    let exit = exit_of(&a.findings, a.error.is_some());
    Report {
        path: path.display().to_string(),
        format: a.format,
        protocol: a.protocol,
        files,
        globals: a.globals,
        findings: a.findings,
        error: a.error,
        notes: a.notes,
        exit,
        exit_code: exit.code(),
    }
}

/// An analysis of nothing but an error.
fn failed(error: String) -> Analysis {
    Analysis {
        format: "unreadable",
        protocol: None,
        globals: vec![],
        findings: vec![],
        error: Some(error),
        notes: vec![],
    }
}

/// Checks a file's bytes already in memory (`path` only names it in the report).
pub fn check_bytes(path: &Path, data: &[u8]) -> Report {
    report(path, vec![], analyse(data, None))
}

/// `pdsave check PATH`: a file, a prefix or a directory. Never fails: an unreadable path is
/// a report with `exit: error`.
///
/// ```
/// // A pickle that hides os.system behind the memo: named, with its offset, not Paddle's.
/// let r = pdsave::check::check("corpus/cases/n_memo_hidden_global/input.bin".as_ref());
/// let g = &r.globals[0];
/// assert_eq!((g.module.as_deref(), g.name.as_deref()), (Some("os"), Some("system")));
/// assert!(!g.paddle_own);
/// assert_eq!(r.exit_code, 1);
/// // A state dict Paddle wrote: only Paddle's and numpy's own globals, nothing to report.
/// let r = pdsave::check::check(
///     "corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams".as_ref(),
/// );
/// assert!(r.globals.iter().all(|g| g.paddle_own));
/// assert_eq!(r.exit_code, 0);
/// ```
pub fn check(path: &Path) -> Report {
    if path.is_file() {
        return match Mapped::open(path) {
            Ok(m) => check_bytes(path, &m),
            Err(e) => report(path, vec![], failed(format!("cannot read: {e}"))),
        };
    }
    let with = |ext: &str| crate::paddle::path::with_suffix(path, ext);
    let model = [with(".pdmodel"), with(".json")]
        .into_iter()
        .find(|p| p.is_file());
    let (format, files, mut error) = if let Some(m) = model {
        let mut files = vec![m, with(".pdiparams")];
        let info = with(".pdiparams.info");
        if info.is_file() {
            files.push(info);
        }
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        ("prefix", (base, files), None)
    } else if path.is_dir() {
        let (files, err) = list_dir(path);
        ("directory", (path.to_path_buf(), files), err)
    } else {
        let e = "no such file, prefix or directory".to_string();
        return report(path, vec![], failed(e));
    };
    let (root, paths) = files;
    let mut checks = Vec::new();
    let mut globals = Vec::new();
    let mut findings = Vec::new();
    for p in &paths {
        let name = p
            .strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/");
        let a = match Mapped::open(p) {
            Ok(m) => analyse(&m, Some(&name)),
            Err(e) => failed(format!("cannot read: {e}")),
        };
        globals.extend(a.globals);
        findings.extend(a.findings);
        if let Some(e) = &a.error {
            error.get_or_insert_with(|| format!("{name}: {e}"));
        }
        checks.push(FileCheck {
            path: name,
            format: a.format,
            protocol: a.protocol,
            error: a.error,
        });
    }
    // The whole, as paddle.load(path) reads it (names from the program, .info, files).
    let mut notes = vec![];
    if let Err(e) =
        crate::paddle::path::open(path).and_then(|o| o.load(Default::default()).map(drop))
    {
        notes.push(format!("paddle.load(path) fails: {e}"));
    }
    let a = Analysis {
        format,
        protocol: None,
        globals,
        findings,
        error,
        notes,
    };
    report(path, checks, a)
}

/// Regular files under `dir`, sorted by path (symlinked directories are not followed).
fn list_dir(dir: &Path) -> (Vec<PathBuf>, Option<String>) {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), 0usize)];
    let mut error = None;
    while let Some((d, depth)) = todo.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) => {
                error.get_or_insert(format!("{}: {e}", d.display()));
                continue;
            }
        };
        for e in rd.flatten() {
            let p = e.path();
            let dir_entry = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if dir_entry {
                if depth + 1 > MAX_DIR_DEPTH {
                    error.get_or_insert(format!("{}: nested too deeply", p.display()));
                } else {
                    todo.push((p, depth + 1));
                }
            } else if p.is_file() {
                if out.len() >= MAX_FILES {
                    error.get_or_insert(format!("more than {MAX_FILES} files"));
                    break;
                }
                out.push(p);
            }
        }
    }
    out.sort();
    (out, error)
}

/// Offsets as `2, 17, 40, …` (at most four shown).
fn offsets_text(e: &GlobalEntry) -> String {
    let mut s: Vec<String> = e.offsets.iter().take(4).map(|o| o.to_string()).collect();
    if e.count > 4 {
        s.push("…".into());
    }
    s.join(", ")
}

/// The human-readable report (no colours). The error, if any, is not in it: the CLI
/// prints it on stderr.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = match r.protocol {
        Some(p) if r.format == "pickle" => writeln!(s, "{}: {}, protocol {p}", r.path, r.format),
        _ => writeln!(s, "{}: {}", r.path, r.format),
    };
    for f in &r.files {
        let _ = write!(s, "  {}: {}", f.path, f.format);
        if let Some(p) = f.protocol.filter(|_| f.format == "pickle") {
            let _ = write!(s, ", protocol {p}");
        }
        if let Some(e) = &f.error {
            let _ = write!(s, " ({e})");
        }
        s.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    let pickles = r.format == "pickle" || r.files.iter().any(|f| f.format == "pickle");
    if pickles || !r.globals.is_empty() {
        if r.globals.is_empty() {
            s.push_str("globals: none\n");
        } else {
            s.push_str("globals:\n");
        }
        let name = |e: &GlobalEntry| match &e.file {
            Some(f) => format!("{f}: {}", e.dotted()),
            None => e.dotted(),
        };
        let w = r
            .globals
            .iter()
            .map(|e| name(e).chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        for e in &r.globals {
            let label = match e.verdict {
                _ if e.paddle_own => "safe",
                Verdict::Dangerous => "DANGER",
                _ => "UNSAFE",
            };
            let refs = format!("{} ref{}", e.count, if e.count == 1 { "" } else { "s" });
            let _ = writeln!(
                s,
                "  {label:<6}  {:<w$}  {refs:>6} at {}  {}",
                name(e),
                offsets_text(e),
                e.meaning
            );
        }
    }
    if r.findings.is_empty() {
        if r.error.is_none() {
            let _ = writeln!(s, "{}: no findings", r.path);
        }
    } else {
        for f in &r.findings {
            let _ = writeln!(s, "{} {}: {}", f.rule, f.path, f.message);
            if let Some(w) = f.workaround {
                let _ = writeln!(s, "    workaround {w}: {}", w.text());
            }
        }
    }
    s
}
