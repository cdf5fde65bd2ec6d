//! The results matrix of `pdsave validate`: implementations × cases, grouped by rule, as
//! markdown and as a self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::validate::{CaseResult, Outcome};

const LABELS: [&str; 7] = [
    "pass",
    "fail",
    "wrongly accepted",
    "wrongly rejected",
    "skipped",
    "crash",
    "timeout",
];

fn counts(rs: &[CaseResult]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for r in rs {
        *m.entry(r.outcome.label()).or_insert(0) += 1;
    }
    m
}

fn group_of(r: &CaseResult) -> String {
    if r.rules.is_empty() {
        let k = match r.kind {
            super::corpus::Kind::Y => "y_ (must load)",
            super::corpus::Kind::N => "n_ (must be rejected)",
            super::corpus::Kind::I => "i_ (implementation-defined)",
        };
        k.to_string()
    } else {
        r.rules
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Rows: group → case key → per implementation outcome.
type Matrix<'a> = BTreeMap<String, BTreeMap<String, Vec<Option<&'a Outcome>>>>;

fn matrix(runs: &[(String, Vec<CaseResult>)]) -> Matrix<'_> {
    let mut m: Matrix = BTreeMap::new();
    for (i, (_, rs)) in runs.iter().enumerate() {
        for r in rs {
            let row = m
                .entry(group_of(r))
                .or_default()
                .entry(r.key())
                .or_insert_with(|| vec![None; runs.len()]);
            row[i] = Some(&r.outcome);
        }
    }
    m
}

/// The summary table alone (for README).
pub fn summary_markdown(runs: &[(String, Vec<CaseResult>)]) -> String {
    let mut s = String::from("| implementation | ");
    s.push_str(&LABELS.join(" | "));
    s.push_str(" | total |\n|---|");
    s.push_str(&"---:|".repeat(LABELS.len() + 1));
    s.push('\n');
    for (name, rs) in runs {
        let c = counts(rs);
        let _ = write!(s, "| {name} |");
        for l in LABELS {
            let _ = write!(s, " {} |", c.get(l).copied().unwrap_or(0));
        }
        let _ = writeln!(s, " {} |", rs.len());
    }
    s
}

/// The full report as markdown.
pub fn markdown(runs: &[(String, Vec<CaseResult>)]) -> String {
    let mut s = String::from("# pdsave validate: results\n\n");
    s.push_str(&summary_markdown(runs));
    s.push_str("\n✓ pass · ✗ fail · A wrongly accepted · R wrongly rejected · – skipped · C crash · T timeout\n");
    for (group, rows) in matrix(runs) {
        let _ = writeln!(s, "\n## {group}\n");
        s.push_str("| case |");
        for (name, _) in runs {
            let _ = write!(s, " {name} |");
        }
        s.push_str("\n|---|");
        s.push_str(&":-:|".repeat(runs.len()));
        s.push('\n');
        for (key, cells) in rows {
            let _ = write!(s, "| `{key}` |");
            for c in cells {
                let _ = write!(s, " {} |", c.map(|o| o.symbol()).unwrap_or(" "));
            }
            s.push('\n');
        }
    }
    s
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The full report as one self-contained HTML page.
pub fn html(runs: &[(String, Vec<CaseResult>)]) -> String {
    let mut s = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>pdsave validate</title><style>\
         body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}\
         td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}td.c{text-align:center}\
         .pass{background:#d8f5d8}.fail{background:#f8d0d0}.wrongly.accepted,.acc{background:#f5b0b0}\
         .rej{background:#f8e0b0}.skip{background:#eee}.crash,.timeout{background:#e0b0f0}code{font-size:12px}\
         </style></head><body><h1>pdsave validate: results</h1>",
    );
    s.push_str("<table><tr><th>implementation</th>");
    for l in LABELS {
        let _ = write!(s, "<th>{l}</th>");
    }
    s.push_str("<th>total</th></tr>");
    for (name, rs) in runs {
        let c = counts(rs);
        let _ = write!(s, "<tr><td>{}</td>", esc(name));
        for l in LABELS {
            let _ = write!(s, "<td class=c>{}</td>", c.get(l).copied().unwrap_or(0));
        }
        let _ = write!(s, "<td class=c>{}</td></tr>", rs.len());
    }
    s.push_str("</table>");
    for (group, rows) in matrix(runs) {
        let _ = write!(s, "<h2>{}</h2><table><tr><th>case</th>", esc(&group));
        for (name, _) in runs {
            let _ = write!(s, "<th>{}</th>", esc(name));
        }
        s.push_str("</tr>");
        for (key, cells) in rows {
            let _ = write!(s, "<tr><td><code>{}</code></td>", esc(&key));
            for c in cells {
                let (cls, sym, title) = match c {
                    None => ("", "", String::new()),
                    Some(o) => {
                        let cls = match o {
                            Outcome::Pass => "pass",
                            Outcome::Fail(_) => "fail",
                            Outcome::WronglyAccepted => "acc",
                            Outcome::WronglyRejected(_) => "rej",
                            Outcome::Skipped(_) => "skip",
                            Outcome::Crash(_) => "crash",
                            Outcome::Timeout => "timeout",
                        };
                        (cls, o.symbol(), format!("{}: {}", o.label(), o.detail()))
                    }
                };
                let _ = write!(
                    s,
                    "<td class=\"c {cls}\" title=\"{}\">{sym}</td>",
                    esc(&title)
                );
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>\n");
    s
}
