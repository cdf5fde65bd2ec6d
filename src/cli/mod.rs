//! Runs a parsed command line: resolves the PATHs (several, trees, standard input), calls
//! the library and prints — one summary line per file when there are several. Nothing here
//! panics on a closed stdout or stderr.

mod many;
mod out;
mod single;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{Cli, Cmd, Color, OutFormat, Paths};
pub use out::Out;

/// One input to read: a PATH, or standard input.
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
        }
    }
    /// The resolved source (standard input is read whole).
    pub fn source(&self, whole: bool) -> Result<pdsave::source::Source, String> {
        match self {
            Input::Path(p) => pdsave::source::Source::open(p, whole).map_err(|e| match e {
                pdsave::source::SourceError::NotFound(_) => {
                    format!("{}: no such file, prefix or directory", p.display())
                }
                e => e.to_string(),
            }),
            Input::Stdin => {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)
                    .map_err(|e| format!("-: {e}"))?;
                Ok(pdsave::source::Source::from_bytes("-", v))
            }
        }
    }
}

/// The inputs of `paths`, trees expanded with `-r`; `(inputs, several)`.
fn inputs(paths: &Paths, out: &Out) -> Result<(Vec<Input>, bool), String> {
    let mut v = Vec::new();
    for p in &paths.paths {
        if p.as_os_str() == "-" {
            v.push(Input::Stdin);
        } else if paths.recursive && p.is_dir() {
            let t = pdsave::source::tree::scan(p).map_err(|e| e.to_string())?;
            if !t.skipped.is_empty() {
                out.note(&format!(
                    "{}: {} file{} of no Paddle format skipped",
                    p.display(),
                    t.skipped.len(),
                    if t.skipped.len() == 1 { "" } else { "s" }
                ));
            }
            v.extend(t.paths.into_iter().map(Input::Path));
        } else {
            v.push(Input::Path(p.clone()));
        }
    }
    let several = v.len() > 1 || paths.recursive;
    Ok((v, several))
}

/// Runs the command line; the exit code its help documents.
pub fn run(cli: Cli) -> ExitCode {
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    };
    let out = Out::new(color, cli.quiet);
    match dispatch(cli.cmd, &out) {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            ExitCode::from(1)
        }
    }
}

fn dispatch(cmd: Cmd, out: &Out) -> Result<ExitCode, String> {
    match cmd {
        Cmd::Inspect { paths, json, stats } => {
            let (ins, several) = inputs(&paths, out)?;
            if several {
                return Ok(many::inspect(&ins, json, stats, out));
            }
            single::inspect(&ins[0], json, stats, out)
        }
        Cmd::Check { paths, json } => {
            let (ins, several) = inputs(&paths, out)?;
            if several {
                return Ok(many::check(&ins, json, out));
            }
            single::check(&ins[0], json, out)
        }
        Cmd::View {
            paths,
            return_numpy,
            keep_name_table,
            safetensors,
            paddle,
            pretty,
        } => {
            let opts = pdsave::paddle::LoadOptions {
                return_numpy,
                keep_name_table,
                safetensors,
                paddle,
            };
            let (ins, several) = inputs(&paths, out)?;
            if several {
                return Ok(many::view(&ins, opts, out));
            }
            single::view(&ins[0], opts, pretty, out)
        }
        Cmd::Convert {
            input,
            output,
            to,
            protocol,
            numpy,
            json,
        } => single::convert(
            &input,
            &output,
            to.map(format_of),
            protocol,
            numpy,
            json,
            out,
        ),
        Cmd::Diff { a, b, names, json } => single::diff(&a, &b, names, json, out),
        Cmd::Show {
            path,
            key,
            limit,
            all,
            return_numpy,
        } => single::show(
            &path,
            &key,
            if all { u64::MAX } else { limit },
            return_numpy,
            out,
        ),
        Cmd::Disasm { file } => single::disasm(&file, out),
        Cmd::Reencode {
            file,
            output,
            protocol,
        } => single::reencode(&file, &output, protocol),
        Cmd::Save {
            object,
            output,
            protocol,
            numpy,
        } => single::save(&object, &output, protocol, numpy),
        Cmd::Validate {
            imps,
            plain,
            corpus,
            failure_list,
            fix,
            report,
            timeout,
            filter,
        } => many::validate(
            &imps,
            plain,
            &corpus,
            failure_list.as_deref(),
            fix,
            report.as_deref(),
            timeout,
            filter.as_deref(),
            out,
        ),
        Cmd::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "pdsave", &mut buf);
            out.bytes(&buf);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(|e| e.to_string())?;
            out.bytes(&buf);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn format_of(f: OutFormat) -> pdsave::convert::Format {
    match f {
        OutFormat::Safetensors => pdsave::convert::Format::Safetensors,
        OutFormat::Npz => pdsave::convert::Format::Npz,
        OutFormat::Pdparams => pdsave::convert::Format::Pickle,
    }
}

/// `path` for messages.
pub fn shown(p: &Path) -> String {
    p.display().to_string()
}
