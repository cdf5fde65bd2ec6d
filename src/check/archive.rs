//! Archives in `check` (spec/check.md C-ARCHIVE): members read in memory and checked
//! one by one, what makes extracting the archive unsafe, an archive whose own bytes are a
//! pickle (a polyglot), and object-dtype `.npy` members, whose data is a pickle.

use super::{analyse, finding, safety, Analysis, FileCheck};
use crate::pickle::globals::scan_globals;
use crate::rules::Rule;
use crate::source::{self, Format, Kind};

/// An archive (C-ARCHIVE): its members read in memory, never extracted, each checked as
/// the file it is (named `MEMBER`, or `OUTER!MEMBER` inside a member), and what makes
/// extracting it unsafe. `prefix`: how the archive itself is named inside a prefix,
/// directory or another archive.
pub(super) fn analyse_archive(
    data: &[u8],
    kind: Kind,
    name: &str,
    prefix: Option<&str>,
    depth: usize,
) -> (Vec<FileCheck>, Analysis) {
    let arch = source::archive::read(data, kind, name);
    let mut a = Analysis {
        format: Format::File(kind),
        protocol: None,
        globals: vec![],
        findings: vec![],
        error: None,
        notes: vec![],
    };
    let inside = |m: &str| match prefix {
        Some(p) => format!("{p}!{m}"),
        None => m.to_string(),
    };
    for p in &arch.problems {
        let at = match &p.member {
            Some(m) => inside(m),
            None => prefix.unwrap_or(name).to_string(),
        };
        a.findings.push(finding(
            Rule::CArchive,
            at,
            format!("archive: {}", p.message),
        ));
    }
    let mut files = Vec::new();
    let mut paddle = 0;
    for mut m in arch.members {
        if m.entry != source::archive::Entry::File {
            continue;
        }
        let member = inside(&m.name);
        // An .npy of dtype object (an .npz member): its data is a pickle, which
        // np.load(allow_pickle=True) runs.
        if let Some(at) = npy_object_pickle(&m.data) {
            m.data.drain(..at);
        }
        let kind = source::sniff(&m.data);
        paddle += kind.is_paddle() as usize;
        let f = source::File {
            path: std::path::PathBuf::from(&member),
            kind,
            data: crate::mapped::Mapped::from_vec(m.data),
        };
        let mut sub = if kind.is_archive() && depth < source::archive::MAX_NESTING {
            analyse_archive(&f, kind, &m.name, Some(&member), depth + 1).1
        } else {
            analyse(&f, Some(&member))
        };
        if sub.globals.is_empty() && sub.findings.is_empty() && sub.error.is_some() {
            // Not a Paddle file (a README, a config): listed, no error.
            sub.error = None;
            sub.notes.push(format!("{member}: not a Paddle save file"));
        }
        a.globals.extend(sub.globals);
        a.findings.extend(sub.findings);
        a.notes.extend(sub.notes);
        files.push(FileCheck {
            path: member,
            format: sub.format,
            protocol: sub.protocol,
            error: sub.error,
        });
    }
    if paddle == 0 && a.findings.is_empty() {
        a.error = Some(format!(
            "{}, with no Paddle save file among its {} members",
            kind.describe(),
            files.len()
        ));
    }
    (files, a)
}

/// An archive whose own bytes are also a pickle (a polyglot: a tar member named
/// `cos\nsystem\n…` makes the tar's first bytes a GLOBAL): `paddle.load(file)` unpickles
/// the file itself, so what it would import is a finding.
pub(super) fn polyglot(data: &[u8], file: Option<&str>, a: &mut Analysis) {
    let mut scan = scan_globals(data);
    scan.globals.retain(|g| g.importable());
    if scan.globals.is_empty() {
        return;
    }
    scan.opcodes.clear();
    let (entries, findings) = safety(&scan, None, file);
    for f in findings {
        a.findings.push(finding(
            f.rule,
            f.path,
            format!(
                "the archive's own bytes are also a pickle that paddle.load(file) runs: {}",
                f.message
            ),
        ));
    }
    a.globals.extend(entries);
}

/// Where the pickle of an object-dtype `.npy` starts (after its header), if it is one.
pub(super) fn npy_object_pickle(b: &[u8]) -> Option<usize> {
    let rest = b.strip_prefix(b"\x93NUMPY")?;
    let (hl, at): (usize, usize) = match rest {
        [1, _, l0, l1, ..] => (u16::from_le_bytes([*l0, *l1]) as usize, 10),
        [2 | 3, _, l0, l1, l2, l3, ..] => (u32::from_le_bytes([*l0, *l1, *l2, *l3]) as usize, 12),
        _ => return None,
    };
    let header = b.get(at..at.checked_add(hl)?)?;
    let text = String::from_utf8_lossy(header);
    (text.contains("'|O'") || text.contains("'O'")).then_some(at + hl)
}
