//! The commands on one input: their full human or JSON output, errors naming the file.

use std::path::Path;
use std::process::ExitCode;

use pdsave::paddle::LoadOptions;
use pdsave::pickle::{self, EncodeOptions};

use super::{shown, Input, Out};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub fn inspect(input: &Input, as_json: bool, stats: bool, out: &Out) -> Result<ExitCode, String> {
    let opts = pdsave::inspect::Options { stats };
    let r = input.source(stats).and_then(|src| {
        let bar = if stats {
            let total = pdsave::inspect::inspect_source(&src, Default::default(), &|_| {})
                .map(|r| r.variables.iter().map(|v| v.bytes).sum())
                .unwrap_or(0);
            out.progress(total, "stats")
        } else {
            indicatif::ProgressBar::hidden()
        };
        let r = pdsave::inspect::inspect_source(&src, opts, &|b| bar.inc(b));
        bar.finish_and_clear();
        r
    });
    match r {
        Ok(r) if as_json => out.line(&json(&r)),
        Ok(r) => out.text(&pdsave::inspect::render(&r, out.color)),
        Err(e) => {
            if as_json {
                out.line(&json(
                    &serde_json::json!({"path": input.name(), "error": e}),
                ));
            }
            out.error(&e);
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check_report(input: &Input) -> pdsave::check::Report {
    match input {
        Input::Path(p) => pdsave::check::check(p),
        Input::Stdin => match input.source(false) {
            Ok(src) => pdsave::check::check_source(&src),
            Err(e) => pdsave::check::check_bytes(Path::new("-"), e.as_bytes()),
        },
    }
}

pub fn check(input: &Input, as_json: bool, out: &Out) -> Result<ExitCode, String> {
    let r = check_report(input);
    if as_json {
        out.line(&json(&r));
    } else {
        out.text(&pdsave::check::render_with(&r, &out.paint()));
    }
    if let Some(e) = &r.error {
        out.error(&format!("{}: {e}", input.name()));
    }
    Ok(ExitCode::from(r.exit_code))
}

pub fn view(input: &Input, opts: LoadOptions, pretty: bool, out: &Out) -> Result<ExitCode, String> {
    let name = input.name();
    // paddle.load's own error for a PATH that is not there is a view.
    let src: Result<pdsave::source::Source, pdsave::paddle::LoadError> = match input {
        Input::Path(p) => pdsave::source::Source::open(p, true).map_err(Into::into),
        Input::Stdin => Ok(input.source(true)?),
    };
    let loaded = src
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|s| pdsave::paddle::path::load(s, opts));
    if let Err(e @ pdsave::paddle::LoadError::Python { .. }) = &loaded {
        out.note(&format!("{name}: {e}"));
    }
    let bar = match &loaded {
        Ok(l) => out.progress(pdsave::view::array_bytes(l), "sha256"),
        Err(_) => indicatif::ProgressBar::hidden(),
    };
    let done = |b| bar.inc(b);
    let rejected = |e: pdsave::paddle::LoadError| format!("{name}: rejected: {e}");
    if pretty {
        let v = pdsave::view::view_with(&loaded, &done).map_err(rejected)?;
        bar.finish_and_clear();
        out.line(&serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        // Streamed: the JSON of millions of items is never held (a rejection comes before
        // the first byte, when the view is prepared).
        out.stream(|w| {
            let r = pdsave::view::write_view(&loaded, &mut *w, &done).map_err(rejected)?;
            bar.finish_and_clear();
            match r {
                // The view's own error (serde's "data" errors), not stdout's.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    Err(format!("{name}: writing the view: {e}"))
                }
                r => Ok(r.and_then(|()| w.write_all(b"\n"))),
            }
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
pub fn convert(
    input: &Path,
    output: &Path,
    to: Option<pdsave::convert::Format>,
    protocol: u8,
    numpy: u8,
    as_json: bool,
    out: &Out,
) -> Result<ExitCode, String> {
    let opts = pdsave::convert::ConvertOptions {
        to,
        protocol,
        flavour: if numpy == 1 {
            pdsave::numpy::Flavour::Numpy1
        } else {
            pdsave::numpy::Flavour::Numpy2
        },
    };
    match pdsave::convert::convert(input, output, &opts) {
        Ok(report) => {
            for n in &report.notes {
                out.note(n);
            }
            if as_json {
                out.line(&json(&report));
            } else {
                out.text(&report.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            out.error(&format!("convert: {e}"));
            Ok(ExitCode::from(2))
        }
    }
}

pub fn diff(a: &Path, b: &Path, names: bool, as_json: bool, out: &Out) -> Result<ExitCode, String> {
    let open = |p: &Path| pdsave::open(p).map_err(|e| format!("{}: {e}", shown(p)));
    let (ca, cb) = match (open(a), open(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            out.error(&e);
            return Ok(ExitCode::from(2));
        }
    };
    let r = pdsave::diff::diff(
        &ca,
        &cb,
        (&shown(a), &shown(b)),
        pdsave::diff::DiffOptions { by_name: names },
    );
    if as_json {
        out.line(&json(&r));
    } else {
        out.text(&pdsave::diff::render(&r));
    }
    Ok(ExitCode::from(if r.identical { 0 } else { 1 }))
}

/// `obj["a"][0]` (a Python-like path) as the key path `a.0`.
fn key_path(key: &str) -> String {
    let Some(rest) = key.strip_prefix("obj") else {
        return key.to_string();
    };
    let mut parts = Vec::new();
    for seg in rest.split('[').skip(1) {
        let seg = seg.trim_end_matches(']');
        let seg = seg
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| seg.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(seg);
        parts.push(seg.to_string());
    }
    parts.join(".")
}

pub fn show(
    path: &Path,
    key: &str,
    limit: u64,
    return_numpy: bool,
    out: &Out,
) -> Result<ExitCode, String> {
    use pdsave::checkpoint::EntryValue;
    let opts = LoadOptions {
        return_numpy,
        ..Default::default()
    };
    let ckpt =
        pdsave::checkpoint::open_with(path, opts).map_err(|e| format!("{}: {e}", shown(path)))?;
    let key = key_path(key);
    let entries = ckpt.entries();
    let exact: Vec<_> = entries.iter().filter(|e| e.key == key).collect();
    let under: Vec<_> = entries
        .iter()
        .filter(|e| key.is_empty() || e.key.starts_with(&format!("{key}.")))
        .collect();
    let limit = pdsave::show::Limit {
        threshold: limit,
        edge: 3,
    };
    let shown_entry = |e: &pdsave::checkpoint::Entry, full: bool| -> String {
        match e.value {
            EntryValue::Array {
                dtype,
                is_tensor,
                name,
                array,
            } => {
                let head = format!(
                    "{} {}  {} {:?}{}",
                    if is_tensor { "tensor" } else { "ndarray" },
                    e.key,
                    dtype,
                    array.shape,
                    name.map(|n| format!("  name={n}")).unwrap_or_default()
                );
                if !full {
                    return head;
                }
                // The bytes as the loaded dtype reads them (bfloat16 from uint16 bits).
                let text = pdsave::show::array_text(dtype, array.shape, &array.c_order_le(), limit);
                format!("{head}\n{text}")
            }
            EntryValue::Value(ref v) => format!("{} = {}", e.key, pdsave::show::repr(v, 1 << 16)),
        }
    };
    match (exact.as_slice(), under.is_empty()) {
        ([e], _) => out.line(&shown_entry(e, true)),
        ([], false) => {
            for e in &under {
                out.line(&shown_entry(e, false));
            }
        }
        _ => {
            let near: Vec<&str> = entries
                .iter()
                .map(|e| e.key.as_str())
                .filter(|k| k.contains(key.rsplit('.').next().unwrap_or(&key)))
                .take(5)
                .collect();
            let hint = if near.is_empty() {
                format!(" (`pdsave inspect {}` lists the keys)", shown(path))
            } else {
                format!(" (did you mean {}?)", near.join(", "))
            };
            return Err(format!("{}: no entry {key:?}{hint}", shown(path)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn disasm(file: &Path, out: &Out) -> Result<ExitCode, String> {
    let data = pdsave::mapped::Mapped::open(file).map_err(|e| format!("{}: {e}", shown(file)))?;
    let (text, err) = pickle::disasm::disasm(&data);
    out.text(&text);
    if let Some(e) = err {
        return Err(format!("{}: {e}", shown(file)));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn reencode(file: &Path, output: &Path, protocol: Option<u8>) -> Result<ExitCode, String> {
    let data =
        pdsave::source::File::open(file, true).map_err(|e| format!("{}: {e}", shown(file)))?;
    if data.kind == pdsave::source::Kind::Safetensors {
        if protocol.is_some() {
            return Err(format!(
                "{}: --protocol is for pickles; this is a safetensors file",
                shown(file)
            ));
        }
        pdsave::convert::safetensors::reencode(file, &data, output).map_err(|e| e.to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    // Every format pdsave decodes and re-encodes exactly (pickles, tensor streams,
    // ProgramDesc), decoded before the output is created; a checkpoint's .metadata file
    // decodes with its dataclasses allowlisted (K-META).
    let prepared = pdsave::reencode::prepare(&data, data.allowlist(), protocol)
        .map_err(|e| format!("{}: {e}", shown(file)))?;
    // Through a temporary renamed into place (pdsave::write): the mapped input is never
    // truncated, a failure leaves no output.
    pdsave::write::write_file(output, &[file], |w| prepared.write_to(w), |_| Ok(()))
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

pub fn save(object: &Path, output: &Path, protocol: i64, numpy: u8) -> Result<ExitCode, String> {
    use pdsave::paddle::object::ObjGraph;
    use pdsave::paddle::save::{save, SaveOptions, Saved};
    let text = if object.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("-: {e}"))?;
        s
    } else {
        std::fs::read_to_string(object).map_err(|e| format!("{}: {e}", shown(object)))?
    };
    let j: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", shown(object)))?;
    let obj = ObjGraph::from_json(&j).map_err(|e| format!("{}: {e}", shown(object)))?;
    let opts = SaveOptions {
        protocol,
        flavour: if numpy == 1 {
            pdsave::numpy::Flavour::Numpy1
        } else {
            pdsave::numpy::Flavour::Numpy2
        },
        ..SaveOptions::default()
    };
    match save(&obj, &opts).map_err(|e| {
        format!(
            "{}: paddle.save raises {}: {}",
            shown(object),
            e.class,
            e.message
        )
    })? {
        Saved::Pickle(g) => {
            let eo = EncodeOptions {
                protocol: protocol as u8,
                flavour: None,
            };
            pdsave::write::write_file(
                output,
                &[object],
                |w| pickle::encode_to(&g, &eo, w).map_err(|e| e.to_string()),
                |_| Ok(()),
            )
            .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Saved::Program => Err(format!(
            "{}: a Program is saved as a program, not a pickle",
            shown(object)
        )),
    }
}
