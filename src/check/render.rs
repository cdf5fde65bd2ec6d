//! `pdsave check`'s human output.

use super::{GlobalEntry, Report};
use crate::paint::Paint;
use crate::pickle::globals::Verdict;

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
    render_with(r, &Paint { on: false })
}

/// [`render`] with terminal styles (DANGER red, UNSAFE yellow, safe green).
pub fn render_with(r: &Report, p: &Paint) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = match r.protocol {
        Some(p) if r.format.is_pickle() => {
            writeln!(s, "{}: {}, protocol {p}", r.path, r.format.label())
        }
        _ => writeln!(s, "{}: {}", r.path, r.format.label()),
    };
    for f in &r.files {
        let _ = write!(s, "  {}: {}", f.path, f.format.label());
        if let Some(p) = f.protocol.filter(|_| f.format.is_pickle()) {
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
    let pickles = r.format.is_pickle() || r.files.iter().any(|f| f.format.is_pickle());
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
        let refs =
            |e: &GlobalEntry| format!("{} ref{}", e.count, if e.count == 1 { "" } else { "s" });
        let rw = r.globals.iter().map(|e| refs(e).len()).max().unwrap_or(0);
        let ow = r
            .globals
            .iter()
            .map(|e| offsets_text(e).chars().count())
            .max()
            .unwrap_or(0);
        for e in &r.globals {
            let label = match e.verdict {
                _ if e.paddle_own => p.good("safe  "),
                Verdict::Dangerous => p.danger("DANGER"),
                _ => p.warn("UNSAFE"),
            };
            let offsets = offsets_text(e);
            let _ = writeln!(
                s,
                "  {label}  {:<w$}  {:>rw$} at {offsets}{}  {}",
                name(e),
                refs(e),
                " ".repeat(ow - offsets.chars().count()),
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
            let _ = writeln!(s, "{} {}: {}", p.warn(f.rule.as_str()), f.path, f.message);
            if let Some(w) = f.workaround {
                let _ = writeln!(s, "    workaround {w}: {}", w.text());
            }
        }
    }
    s
}
