//! `pdsave inspect`'s human output: aligned headers and tables, colours on a terminal.

use std::fmt::Write;

use super::Report;
use crate::dtype::DType;
use crate::paint::Paint;

/// A byte count for people: `48 B`, `1.5 KiB`, `12.0 MiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Pads `text` (which may hold colour codes) to `w` visible characters.
fn pad(text: String, visible: usize, w: usize) -> String {
    format!("{text}{}", " ".repeat(w.saturating_sub(visible)))
}

/// The human-readable form; `color` adds ANSI styles (the CLI sets it on a terminal).
pub fn render(r: &Report, color: bool) -> String {
    let p = Paint { on: color };
    let mut s = String::new();
    let _ = writeln!(s, "{}", p.bold(&r.path));
    let _ = writeln!(s, "  format:      {}", r.format.label());
    let _ = writeln!(s, "  written by:  {}", r.writer);
    if let Some(pr) = r.pickle_protocol {
        let _ = writeln!(
            s,
            "  pickle:      protocol {pr}{}",
            r.numpy
                .map(|n| format!(", {n} module paths"))
                .unwrap_or_default()
        );
    }
    if let Some(pg) = &r.program {
        let _ = writeln!(
            s,
            "  program:     {}, version {}, {} block{}",
            pg.ir,
            pg.version.map(|v| v.to_string()).unwrap_or("?".into()),
            pg.blocks,
            if pg.blocks == 1 { "" } else { "s" }
        );
        let _ = writeln!(s, "    feeds:     {}", pg.feeds.join(", "));
        let _ = writeln!(s, "    fetches:   {}", pg.fetches.join(", "));
        let ops: Vec<String> = pg
            .op_counts
            .iter()
            .map(|(k, v)| format!("{k}×{v}"))
            .collect();
        let _ = writeln!(s, "    ops:       {}", ops.join(" "));
    }
    let stats = r.variables.iter().any(|v| v.stats.is_some());
    let rows: Vec<Vec<String>> = r
        .variables
        .iter()
        .map(|v| {
            let stored = v.dtype.map(DType::name).unwrap_or_default();
            let dtype = match v.loads_as {
                Some(l) => format!("{stored}→{l}"),
                None => stored.to_string(),
            };
            let mut row = vec![
                v.path.clone(),
                v.name.clone().unwrap_or_default(),
                v.kind.label().to_string(),
                dtype,
                format!("{:?}", v.shape),
                human_bytes(v.bytes),
            ];
            if stats {
                let (mn, mx, mean, nan) = match &v.stats {
                    Some(st) => (
                        st.min.map(|x| x.to_string()).unwrap_or("-".into()),
                        st.max.map(|x| x.to_string()).unwrap_or("-".into()),
                        st.mean.map(crate::stats::short).unwrap_or("-".into()),
                        st.nan.to_string(),
                    ),
                    None => ("".into(), "".into(), "".into(), "".into()),
                };
                row.extend([mn, mx, mean, nan]);
            }
            row
        })
        .collect();
    let mut head = vec!["path", "name", "kind", "dtype", "shape", "size"];
    if stats {
        head.extend(["min", "max", "mean", "nan"]);
    }
    let right = |c: usize| c >= 5;
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (c, cell) in row.iter().enumerate() {
            w[c] = w[c].max(cell.chars().count().min(if c < 2 { 60 } else { 40 }));
        }
    }
    // Drop the name column when no variable has a name different from its path.
    let names = r
        .variables
        .iter()
        .any(|v| v.name.as_deref().is_some_and(|n| n != v.path));
    let cols: Vec<usize> = (0..head.len()).filter(|&c| c != 1 || names).collect();
    let line = |cells: Vec<(String, usize)>| -> String {
        let mut out = String::new();
        for (i, (text, visible)) in cells.into_iter().enumerate() {
            let c = cols[i];
            if i > 0 {
                out.push_str("  ");
            }
            if right(c) {
                out.push_str(&" ".repeat(w[c].saturating_sub(visible)));
                out.push_str(&text);
            } else {
                out.push_str(&pad(text, visible, w[c]));
            }
        }
        out.trim_end().to_string()
    };
    if !rows.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{}",
            line(
                cols.iter()
                    .map(|&c| (p.dim(head[c]), head[c].chars().count()))
                    .collect()
            )
        );
        for row in &rows {
            let cells = cols
                .iter()
                .map(|&c| {
                    let t = &row[c];
                    let n = t.chars().count();
                    (if c == 3 { p.accent(t) } else { t.clone() }, n)
                })
                .collect();
            let _ = writeln!(s, "{}", line(cells));
        }
    }
    if r.variables.iter().any(|v| !v.shards.is_empty()) {
        let _ = writeln!(s, "\n{}", p.dim("shards (file, rank, offset, local shape)"));
        let kw = r
            .variables
            .iter()
            .map(|v| v.path.chars().count().min(60))
            .max()
            .unwrap_or(0);
        for v in &r.variables {
            for (i, sh) in v.shards.iter().enumerate() {
                let key = if i == 0 {
                    v.path.clone()
                } else {
                    String::new()
                };
                let mut line = format!(
                    "  {}  {}",
                    pad(key.clone(), key.chars().count(), kw),
                    sh.file
                );
                if let Some(rk) = sh.rank {
                    line.push_str(&format!("  rank {rk}"));
                }
                if let Some(o) = &sh.offset {
                    line.push_str(&format!("  offset {o:?}"));
                }
                line.push_str(&format!("  shape {:?}", sh.shape));
                if let Some((a, b)) = sh.flattened_range {
                    line.push_str(&format!("  elements {a}..{b}"));
                }
                let _ = writeln!(s, "{}", line.trim_end());
            }
        }
    }
    let total: u64 = r.variables.iter().map(|v| v.bytes).sum();
    let nan: u64 = r
        .variables
        .iter()
        .filter_map(|v| v.stats.map(|s| s.nan))
        .sum();
    let _ = writeln!(
        s,
        "\n{} variable{}, {}{}",
        r.variables.len(),
        if r.variables.len() == 1 { "" } else { "s" },
        human_bytes(total),
        if stats {
            format!(", {nan} NaN value{}", if nan == 1 { "" } else { "s" })
        } else {
            String::new()
        }
    );
    if !r.values.is_empty() {
        let _ = writeln!(s, "\n{}:", p.bold("values"));
        let w = r
            .values
            .iter()
            .map(|v| v.path.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        for v in &r.values {
            let _ = writeln!(s, "  {:<w$} = {}", v.path, v.value);
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(
            s,
            "\n{} ({}; `pdsave check` explains):",
            p.warn("warnings"),
            r.warnings.len()
        );
        for f in &r.warnings {
            let _ = writeln!(s, "  {} {}: {}", p.warn(f.rule.as_str()), f.path, f.message);
            if let Some(wk) = f.workaround {
                let _ = writeln!(s, "      workaround {wk}: {}", wk.text());
            }
        }
    }
    s
}
