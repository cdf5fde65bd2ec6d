//! `pdsave check PATH` as a library function (spec/check.md): safety — every global a
//! pickle references, and whether it is Paddle's own — and the non-unique decodings
//! `paddle.load` will meet, with their workarounds; an exit class (clean, findings, error).
//!
//! A file is what [`crate::source::sniff`] says it is; a pickle is scanned for globals and
//! decoded, and its non-unique decodings come from its load plan. A prefix (`jit.save` /
//! `save_inference_model`) or a 1.x directory is checked file by file (program, params,
//! `.pdiparams.info` pickle, per-variable files; other files of a model directory are
//! scanned too, as a hub scans an upload), and then loaded as a whole as
//! `paddle.load(path)` would. The human form is [`render`].

mod archive;
mod large;
mod render;

use archive::{analyse_archive, npy_object_pickle, polyglot};

use std::path::Path;

use serde::Serialize;

pub use render::{render, render_with};

use crate::paddle::classify::{classify_graph, combined_params_finding, Finding};
use crate::paddle::file::python_class;
use crate::paddle::outcome::Release;
use crate::paddle::LoadOptions;
use crate::pickle::globals::{classify, scan_globals_at, scan_globals_in, GlobalScan, Verdict};
use crate::pickle::{self, PickleError, Sym};
use crate::rules::Rule;
use crate::source::{self, Form, Format, Kind, Source};

/// Offsets listed per distinct global (the count is always exact).
pub const MAX_OFFSETS: usize = 1000;

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
    pub format: Format,
    pub protocol: Option<u8>,
    pub error: Option<String>,
}

/// What `pdsave check` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub path: String,
    /// What the PATH is ([`crate::source::sniff`]; `unreadable` when it cannot be read).
    pub format: Format,
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
    format: Format,
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
    let mut index: std::collections::HashMap<(Option<&str>, Option<&str>, bool), usize> =
        Default::default();
    for r in &scan.globals {
        // A global in Paddle's shape and the same global used otherwise are two entries.
        let key = (r.module.as_deref(), r.name.as_deref(), r.in_shape());
        let i = match index.get(&key) {
            Some(&i) => i,
            None => {
                let (mut verdict, mut meaning) = classify(r);
                let mut own = verdict == Verdict::PaddleOwn;
                if own && is_eval(r.allowed) {
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
        e.rule(),
        match file {
            Some(f) => format!("{f} byte {o}"),
            None => format!("byte {o}"),
        },
        format!(
            "unsafe or unsupported pickle: {e}\n    why: {}",
            e.explain()
        ),
    ))
}

/// Checks one file. `file` names it inside a prefix or directory (then only its safety is
/// checked: `paddle.load(path)` does not return its objects as they are).
fn analyse(f: &source::File, file: Option<&str>) -> Analysis {
    let alone = file.is_none();
    let mut a = Analysis {
        format: Format::File(f.kind),
        protocol: None,
        globals: vec![],
        findings: vec![],
        error: None,
        notes: vec![],
    };
    match f.kind {
        Kind::Pickle { protocol } => analyse_pickle(f, file, protocol, f.allowlist(), &mut a),
        Kind::SelectedRows | Kind::TensorStream => {}
        Kind::CombinedParams { records } => {
            // A combined .pdiparams holds unnamed records of which paddle.load(file) gives
            // the first; through the prefix, the program names them.
            if alone {
                a.findings.push(combined_params_finding(records));
            }
        }
        Kind::ProgramDesc | Kind::PirJson | Kind::Safetensors => {
            // Nothing here runs code; paddle.load(file) itself may raise (a program).
            if alone {
                if let Err(e @ crate::paddle::LoadError::Python { .. }) =
                    crate::paddle::file::load_file_bytes(f, Default::default())
                {
                    a.notes.push(format!("paddle.load(file) fails: {e}"));
                }
            }
        }
        Kind::Empty => a.error = Some("an empty file (paddle.load raises EOFError)".into()),
        Kind::Zip | Kind::Tar | Kind::Gzip => {
            let name = file
                .map(str::to_owned)
                .unwrap_or_else(|| f.path.display().to_string());
            let (_, inner) = analyse_archive(f, f.kind, &name, file, 0);
            a.globals = inner.globals;
            a.findings = inner.findings;
            a.notes = inner.notes;
            a.error = inner.error;
            polyglot(f, file, &mut a);
        }
        Kind::Npy => match npy_object_pickle(f) {
            // An object array: its data is a pickle (np.load(allow_pickle=True) runs it).
            Some(at) => analyse_pickle(&f[at..], file, None, pickle::Allowlist::Paddle, &mut a),
            None => a.error = Some(format!("{}, not a Paddle save file", f.kind.describe())),
        },
        k @ (Kind::Text | Kind::Unknown) => {
            a.error = Some(format!("{}, not a Paddle save file", k.describe()))
        }
    }
    a
}

/// A pickle: every global it references, its decoding, and (alone) the decodings
/// `paddle.load` will meet; then whatever follows its STOP.
fn analyse_pickle(
    data: &[u8],
    file: Option<&str>,
    protocol: Option<u8>,
    allow: pickle::Allowlist,
    a: &mut Analysis,
) {
    // A checkpoint's `.metadata` file is read with its dataclasses allowlisted (K-META).
    let scan = scan_globals_in(data, allow);
    a.protocol = protocol.or(scan.protocol);
    let decoded = pickle::decode_in(data, &pickle::Limits::default(), allow);
    let e = decoded.as_ref().err();
    let (globals, mut findings) = safety(&scan, e, file);
    a.globals = globals;
    match &decoded {
        Ok(g) => {
            a.protocol = Some(g.protocol);
            if file.is_none() {
                findings.extend(classify_graph(g));
            }
            huge_ints(g, file, &mut findings);
        }
        Err(PickleError::Frame { .. }) => {}
        Err(e) => match python_class(e) {
            // Python's unpickler fails on these bytes too: malformed, not refused.
            Some(_) => a.error = Some(format!("malformed pickle: {e}")),
            None => findings.extend(refusal(e, &scan, file)),
        },
    }
    frame_findings(&scan, file, &mut a.globals, &mut findings);
    let end = match &decoded {
        Ok(g) => Some(g.consumed),
        Err(_) => scan.stop.map(|s| s + 1),
    };
    if let Some(end) = end {
        after_stop(data, end, file, &mut a.globals, &mut findings);
    }
    a.findings = findings;
}

/// Integers past CPython's `int_max_str_digits` (P-LIMIT): `str()` of them raises, and
/// printing one in decimal takes time quadratic in its size (CVE-2020-10735).
fn huge_ints(g: &pickle::Graph, file: Option<&str>, findings: &mut Vec<Finding>) {
    let n = g
        .nodes
        .iter()
        .filter(|n| matches!(n, pickle::Node::Int(i) if crate::view::too_many_digits(i)))
        .count();
    if n > 0 {
        findings.push(finding(
            Rule::PLimit,
            at_of(file, 0),
            format!(
                "{n} integer{} of more than {} decimal digits: CPython's str() raises ValueError on {}, and printing such an int takes time quadratic in its size (CVE-2020-10735)",
                if n == 1 { "" } else { "s" },
                crate::view::MAX_INT_DIGITS,
                if n == 1 { "it" } else { "them" }
            ),
        ));
    }
}

fn at_of(file: Option<&str>, o: usize) -> String {
    match file {
        Some(f) => format!("{f} byte {o}"),
        None => format!("byte {o}"),
    }
}

/// A frame violation (P-FRAME): DANGER, with the globals of its other reading.
fn frame_findings(
    scan: &GlobalScan,
    file: Option<&str>,
    globals: &mut Vec<GlobalEntry>,
    findings: &mut Vec<Finding>,
) {
    let Some(e) = &scan.frame else { return };
    let o = e.offset().unwrap_or(0);
    findings.push(finding(
        Rule::PFrame,
        at_of(file, o),
        format!("DANGER: {e}: pickle.py refuses this file, while CPython's C unpickler up to 3.13 (which paddle.load uses) reads on across the frame, and a scanner that follows pickletools sees other opcodes than an unpickler may run"),
    ));
    if scan.hidden.is_empty() {
        return;
    }
    let hidden = GlobalScan {
        globals: scan.hidden.clone(),
        ..Default::default()
    };
    let (entries, _) = safety(&hidden, None, file);
    for mut g in entries {
        let dotted = g.dotted();
        g.paddle_own = false;
        if g.verdict == Verdict::PaddleOwn {
            g.verdict = Verdict::Unsafe;
        }
        g.meaning = format!("hidden by the frame: what CPython 3.11's C unpickler imports when it reads the file from a BytesIO (a line straddling the frame's end is read again from there): {}", g.meaning);
        findings.push(finding(
            Rule::PFrame,
            at_of(file, g.offsets[0]),
            format!("DANGER: global {dotted} hidden by the frame (imported by paddle.load of a BytesIO, not seen by a sequential reader)"),
        ));
        globals.push(g);
    }
}

/// Further pickles reported one by one at most.
const MAX_AFTER_STOP: usize = 100;

/// Everything after the first pickle's STOP (P-STOP): further pickles (their globals are
/// checked like the first's) and trailing bytes. `paddle.load` reads only the first pickle.
fn after_stop(
    data: &[u8],
    mut pos: usize,
    file: Option<&str>,
    globals: &mut Vec<GlobalEntry>,
    findings: &mut Vec<Finding>,
) {
    let mut pickles = 0usize;
    while pos < data.len() {
        let s = scan_globals_at(data, pos, pickle::Allowlist::Paddle);
        match s.stop {
            Some(stop) if s.error.is_none() => {
                pickles += 1;
                if pickles <= MAX_AFTER_STOP {
                    findings.push(finding(
                        Rule::PStop,
                        at_of(file, pos),
                        format!(
                            "another pickle after the STOP ({} bytes, {} global{}): paddle.load reads only the first, but a second pickle.load on the file (or another tool) runs it",
                            stop + 1 - pos,
                            s.globals.len(),
                            if s.globals.len() == 1 { "" } else { "s" }
                        ),
                    ));
                }
                let (entries, mut f) = safety(&s, None, file);
                merge(globals, entries);
                findings.append(&mut f);
                frame_findings(&s, file, globals, findings);
                pos = stop + 1;
            }
            _ => {
                let (entries, mut f) = safety(&s, None, file);
                merge(globals, entries);
                findings.append(&mut f);
                findings.push(finding(
                    Rule::PStop,
                    at_of(file, pos),
                    format!(
                        "{} bytes after the pickle's STOP that are no complete pickle{}: paddle.load ignores them; a Paddle file has none",
                        data.len() - pos,
                        match &s.error {
                            Some(e) => format!(" ({e})"),
                            None => String::new(),
                        }
                    ),
                ));
                break;
            }
        }
    }
    if pickles > MAX_AFTER_STOP {
        findings.push(finding(
            Rule::PStop,
            at_of(file, data.len()),
            format!("{pickles} pickles after the first in all (the first {MAX_AFTER_STOP} listed)"),
        ));
    }
}

/// Adds entries, one per distinct (file, module, name, verdict): counts and offsets add up.
fn merge(into: &mut Vec<GlobalEntry>, entries: Vec<GlobalEntry>) {
    for e in entries {
        match into.iter_mut().find(|g| {
            (&g.file, &g.module, &g.name, g.verdict) == (&e.file, &e.module, &e.name, e.verdict)
        }) {
            Some(g) => {
                g.count += e.count;
                let room = MAX_OFFSETS.saturating_sub(g.offsets.len());
                g.offsets.extend(e.offsets.into_iter().take(room));
                for v in e.via {
                    if !g.via.contains(&v) {
                        g.via.push(v);
                    }
                }
            }
            None => into.push(e),
        }
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

/// An analysis of nothing but an error (none when `error` is empty).
fn failed(error: String) -> Analysis {
    Analysis {
        format: Format::Unreadable,
        protocol: None,
        globals: vec![],
        findings: vec![],
        error: (!error.is_empty()).then_some(error),
        notes: vec![],
    }
}

/// Checks a file's bytes already in memory (`path` only names it in the report).
pub fn check_bytes(path: &Path, data: &[u8]) -> Report {
    let f = source::File {
        path: path.to_path_buf(),
        kind: source::sniff(data),
        data: crate::mapped::Mapped::from_vec(data.to_vec()),
    };
    report(path, vec![], analyse(&f, None))
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
    let src = match Source::open(path, false) {
        Ok(s) => s,
        Err(source::SourceError::NotFound(_)) => {
            return report(
                path,
                vec![],
                failed("no such file, prefix or directory".into()),
            );
        }
        Err(e) => return report(path, vec![], failed(format!("cannot read: {e}"))),
    };
    check_source(&src)
}

/// [`check`] of a resolved PATH (standard input included).
pub fn check_source(src: &Source) -> Report {
    let path = src.path.as_path();
    if let Form::File(f) = &src.form {
        if f.kind.is_archive() {
            let name = path.display().to_string();
            let (files, mut a) = analyse_archive(f, f.kind, &name, None, 0);
            polyglot(f, None, &mut a);
            if !a.findings.is_empty() {
                a.error = None;
            }
            return report(path, files, a);
        }
        return report(path, vec![], analyse(f, None));
    }
    if let Form::Files(files) = &src.form {
        if let Err(e) = source::not_a_model(path, files.len()) {
            return report(path, vec![], failed(e.to_string()));
        }
    }
    let mut checks = Vec::new();
    let mut globals = Vec::new();
    let mut findings = Vec::new();
    let mut error = None;
    let mut one = |name: String, a: Analysis| {
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
    };
    let mut used = std::collections::HashSet::new();
    let mut files = src.files();
    if let Form::Files(_) = &src.form {
        // Listed by name (paddle.load reads them in `os.walk` order, which the filesystem sets).
        files.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let index_file = match &src.form {
        Form::Index { index, .. } => Some(index.path.clone()),
        _ => None,
    };
    for (name, f) in files {
        let a = match f {
            // A sharded state dict's index is JSON, already read as the source's form.
            Ok(f) if Some(&f.path) == index_file.as_ref() => Analysis {
                format: Format::Index,
                ..failed(String::new())
            },
            Ok(f) => {
                used.insert(f.path.clone());
                analyse(f, Some(&name))
            }
            Err(e) => failed(format!("cannot read: {e}")),
        };
        one(name, a);
    }
    // Files of a model directory that paddle.load does not read: scanned all the same (a
    // pickle among them is checked), but not being a Paddle file is no error there.
    if let Form::Model { .. } = &src.form {
        match source::list_files(path) {
            Ok(all) => {
                let mut stray: Vec<_> =
                    all.into_iter().filter(|(_, p)| !used.contains(p)).collect();
                stray.sort();
                for (name, p) in stray {
                    let mut a = match source::File::open(&p, false) {
                        Ok(f) => analyse(&f, Some(&name)),
                        Err(e) => failed(format!("cannot read: {e}")),
                    };
                    if a.globals.is_empty() && a.findings.is_empty() && a.error.is_some() {
                        a.error = None;
                        a.notes.push("not read by paddle.load".into());
                    }
                    one(name, a);
                }
            }
            Err(e) => {
                error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    // The whole, as paddle.load(path) reads it (names from the program, .info, files); a
    // checkpoint or an index: its pieces and shards (K-STRICT, X-SHARDS).
    let mut notes = vec![];
    if let Some(f) = large::findings(src) {
        findings.extend(f);
    } else if let Err(e) = crate::paddle::path::load(src, Default::default()) {
        // A model is broken when no release loads it (its parameters missing, cut short or
        // not what its program declares): an error, not a clean model with a note. One that
        // only some releases load (a legacy program Paddle 3 refuses, V-PROGRAM) is a note.
        let loads_in = Release::ALL.into_iter().find(|&r| {
            let opts = LoadOptions {
                paddle: r,
                ..Default::default()
            };
            crate::paddle::path::load(src, opts).is_ok()
        });
        match (&src.form, loads_in) {
            (Form::Prefix { .. } | Form::Model { .. }, None) => {
                error
                    .get_or_insert_with(|| format!("a broken model: paddle.load(path) fails: {e}"));
            }
            // The error says which release loads it (`--paddle`).
            _ => notes.push(format!("paddle.load(path) fails: {e}")),
        }
    }
    let a = Analysis {
        format: src.format(),
        protocol: None,
        globals,
        findings,
        error,
        notes,
    };
    report(path, checks, a)
}
