//! The `pdsave` command line: thin wrappers over the library, one subcommand per job.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use pdsave::numpy::Flavour;
use pdsave::paddle::object::ObjGraph;
use pdsave::paddle::save::{save, SaveOptions, Saved};
use pdsave::paddle::LoadOptions;
use pdsave::pickle::{self, EncodeOptions};

/// Writes to stdout; a closed pipe (`pdsave … | head`) ends the program quietly.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($t)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}
macro_rules! outln {
    ($($t:tt)*) => {{
        out!($($t)*);
        out!("\n");
    }};
}

#[derive(Parser)]
#[command(
    name = "pdsave",
    version,
    about = "Read, check and re-encode PaddlePaddle save files without Python"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write what `paddle.save` writes for a save-side object given as JSON (spec/object.md).
    Save {
        /// The object as JSON (`-` for standard input).
        object: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, default_value_t = 4)]
        protocol: i64,
        /// numpy of the simulated saving environment: 1 or 2.
        #[arg(long, default_value_t = 2)]
        numpy: u8,
    },
    /// What a file, prefix or directory holds: format, writer, variables, program summary.
    Inspect {
        path: PathBuf,
        #[arg(long)]
        json: bool,
        /// Also min/max/mean/NaN count of every array (reads every byte).
        #[arg(long)]
        stats: bool,
    },
    /// Report the non-unique decodings paddle.load will meet in a file, and unsafe content.
    /// Exit 0: clean; 1: findings; 2: the file cannot be read.
    Check {
        path: PathBuf,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate implementations against the conformance corpus (spec/validate.md).
    Validate {
        /// `NAME=COMMAND` of a persistent JSON-lines adapter, or `pdsave` for the in-process
        /// reference. Repeat for a results matrix.
        #[arg(long = "impl", required = true)]
        imps: Vec<String>,
        /// Plain mode: run `COMMAND PATH` per case; exit status 0 accepts, anything else rejects.
        #[arg(long)]
        plain: bool,
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Known failures (one implementation only): a listed case that now passes fails the run.
        #[arg(long)]
        failure_list: Option<PathBuf>,
        /// Rewrite the failure list to the failures of this run.
        #[arg(long)]
        fix: bool,
        /// Write report.md and report.html here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Seconds an implementation may take per answer.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Only cases whose id contains this.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Print the load view (JSON, see spec/view.md) of what `paddle.load` gives for a file.
    View {
        path: PathBuf,
        /// As `paddle.load(path, return_numpy=True)`.
        #[arg(long)]
        return_numpy: bool,
        /// As `paddle.load(path, keep_name_table=True)`.
        #[arg(long)]
        keep_name_table: bool,
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
    },
    /// List the opcodes of a pickle (offset, opcode, argument, memo slot).
    Disasm { file: PathBuf },
    /// Decode a pickle and encode it again with the protocol and numpy flavour found in it.
    Reencode {
        file: PathBuf,
        /// Where to write the re-encoded pickle.
        #[arg(short, long)]
        output: PathBuf,
        /// Write this protocol (2-4) instead of the file's.
        #[arg(long)]
        protocol: Option<u8>,
    },
    /// Convert between Paddle files and safetensors / .npz (spec/convert.md): a pickle →
    /// .safetensors or .npz; a .safetensors → .pdparams; a model prefix or 1.x directory →
    /// .safetensors or .npz. Exit 0: written; 2: refused (the reason on stderr).
    Convert {
        input: PathBuf,
        output: PathBuf,
        /// Output format instead of OUT's extension: safetensors, npz or pdparams.
        #[arg(long)]
        to: Option<String>,
        /// Pickle protocol (2-4) of a state dict written from a safetensors file that has no
        /// pdsave metadata.
        #[arg(long, default_value_t = 4)]
        protocol: u8,
        /// numpy of that pickle's module paths: 1 or 2.
        #[arg(long, default_value_t = 2)]
        numpy: u8,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pdsave: {e}");
            ExitCode::from(1)
        }
    }
}

/// Whether stdout takes colours: a terminal, and NO_COLOR / CLICOLOR / TERM allow them.
fn color_stdout() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// A progress bar on stderr for long work (`total` bytes or items): drawn only on a
/// terminal and for work worth it (64 MiB and more), hidden otherwise.
fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || total < 64 << 20 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    bar
}

/// The file's bytes, memory-mapped (tensor payloads are borrowed from the map, not copied).
fn read(path: &std::path::Path) -> Result<pdsave::mapped::Mapped, String> {
    pdsave::mapped::Mapped::open(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.cmd {
        Cmd::Inspect { path, json, stats } => {
            let opts = pdsave::inspect::Options { stats };
            let bar = if stats {
                progress(pdsave::inspect::stats_bytes(&path), "stats")
            } else {
                indicatif::ProgressBar::hidden()
            };
            let r = pdsave::inspect::inspect_with(&path, opts, &|b| bar.inc(b))?;
            bar.finish_and_clear();
            if json {
                outln!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
            } else {
                out!("{}", pdsave::inspect::render(&r, color_stdout()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Validate {
            imps,
            plain,
            corpus,
            failure_list,
            fix,
            report,
            timeout,
            filter,
        } => validate(
            imps,
            plain,
            &corpus,
            failure_list,
            fix,
            report,
            timeout,
            filter,
        ),
        Cmd::Check { path, json } => check(&path, json),
        Cmd::Save {
            object,
            output,
            protocol,
            numpy,
        } => {
            let text = if object.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| e.to_string())?;
                s
            } else {
                String::from_utf8(read(&object)?.to_vec()).map_err(|e| e.to_string())?
            };
            let j: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", object.display()))?;
            let obj = ObjGraph::from_json(&j).map_err(|e| e.to_string())?;
            let flavour = if numpy == 1 {
                Flavour::Numpy1
            } else {
                Flavour::Numpy2
            };
            let opts = SaveOptions {
                protocol,
                flavour,
                ..SaveOptions::default()
            };
            match save(&obj, &opts).map_err(|e| e.to_string())? {
                Saved::Pickle(g) => {
                    let f = std::fs::File::create(&output)
                        .map_err(|e| format!("{}: {e}", output.display()))?;
                    let eo = EncodeOptions {
                        protocol: protocol as u8,
                        flavour: None,
                    };
                    pickle::encode_to(&g, &eo, std::io::BufWriter::new(f))
                        .map_err(|e| e.to_string())?;
                    Ok(ExitCode::SUCCESS)
                }
                Saved::Program => Err("a Program is saved as a program, not a pickle".into()),
            }
        }
        Cmd::View {
            path,
            return_numpy,
            keep_name_table,
            pretty,
        } => {
            let opts = LoadOptions {
                return_numpy,
                keep_name_table,
            };
            // A file, a prefix or a directory (L-PATH), mapped; arrays borrow from the maps.
            pdsave::paddle::path::with_loaded(&path, opts, true, |r| {
                // A Python exception is a view (printed below); say what raised it. Refused
                // input has no view and is reported once, as the command's error.
                if let Err(e @ pdsave::paddle::LoadError::Python { .. }) = r {
                    eprintln!("pdsave: {}: {e}", path.display());
                }
                let bar = match r {
                    Ok(l) => progress(pdsave::view::array_bytes(l), "sha256"),
                    Err(_) => indicatif::ProgressBar::hidden(),
                };
                let done = |b| bar.inc(b);
                let rejected =
                    |e: pdsave::paddle::LoadError| format!("{}: rejected: {e}", path.display());
                if pretty {
                    let v = pdsave::view::view_with(r, &done).map_err(rejected)?;
                    bar.finish_and_clear();
                    outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                } else {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let written = pdsave::view::write_view(r, &mut out, &done).map_err(rejected)?;
                    bar.finish_and_clear();
                    let written = written.and_then(|()| {
                        use std::io::Write as _;
                        out.write_all(b"\n")?;
                        out.flush()
                    });
                    if let Err(e) = written {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            std::process::exit(0);
                        }
                        return Err(format!("writing the view: {e}"));
                    }
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        Cmd::Disasm { file } => {
            let data = read(&file)?;
            let (text, err) = pickle::disasm::disasm(&data);
            out!("{text}");
            if let Some(e) = err {
                return Err(format!("{}: {e}", file.display()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Convert {
            input,
            output,
            to,
            protocol,
            numpy,
            json,
        } => {
            let r = pdsave::convert::run_cli(&input, &output, to.as_deref(), protocol, numpy);
            match r {
                Ok(report) => {
                    for n in &report.notes {
                        eprintln!("pdsave: note: {n}");
                    }
                    if json {
                        outln!(
                            "{}",
                            serde_json::to_string(&report).map_err(|e| e.to_string())?
                        );
                    } else {
                        out!("{}", report.render());
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("pdsave: convert: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Cmd::Reencode {
            file,
            output,
            protocol,
        } => {
            let data = pdsave::mapped::Mapped::open_whole(&file)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let g = pickle::decode(&data).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut opts = EncodeOptions::like(&g);
            if let Some(p) = protocol {
                opts.protocol = p;
            }
            let f =
                std::fs::File::create(&output).map_err(|e| format!("{}: {e}", output.display()))?;
            let w = std::io::BufWriter::new(f);
            pickle::encode_to(&g, &opts, w).map_err(|e| format!("{}: {e}", output.display()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(path: &std::path::Path, json: bool) -> Result<ExitCode, String> {
    // Safety (every global) and non-unique decodings: the whole of it is pdsave::check.
    let r = pdsave::check::check(path);
    if json {
        outln!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
    } else {
        out!("{}", pdsave::check::render(&r));
    }
    if let Some(e) = &r.error {
        eprintln!("pdsave: {}: {e}", path.display());
    }
    Ok(ExitCode::from(r.exit_code))
}

#[allow(clippy::too_many_arguments)]
fn validate(
    imps: Vec<String>,
    plain: bool,
    corpus: &std::path::Path,
    failure_list: Option<PathBuf>,
    fix: bool,
    report: Option<PathBuf>,
    timeout: u64,
    filter: Option<String>,
) -> Result<ExitCode, String> {
    use pdsave::conformance::{corpus::load_corpus, report as rep, validate as v};
    use std::io::IsTerminal;
    let mut cases = load_corpus(corpus)?;
    if let Some(f) = &filter {
        cases.retain(|c| c.id.contains(f.as_str()));
    }
    if failure_list.is_some() && imps.len() != 1 {
        return Err("--failure-list needs exactly one --impl".into());
    }
    let tty = std::io::stderr().is_terminal();
    let mut runs = Vec::new();
    for spec in &imps {
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
        let bar = if tty {
            indicatif::ProgressBar::new(cases.len() as u64)
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} cases eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(name.to_string());
        let results = v::run(imp.as_mut(), &cases, |i, _| bar.set_position(i as u64));
        bar.finish_and_clear();
        eprintln!(
            "{name}: {} answers in {:.1} s",
            results.len(),
            start.elapsed().as_secs_f64()
        );
        runs.push((name.to_string(), results));
    }
    out!("{}", rep::summary_markdown(&runs));
    if let Some(dir) = &report {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("report.md"), rep::markdown(&runs)).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("report.html"), rep::html(&runs)).map_err(|e| e.to_string())?;
    }
    let listed = failure_list
        .as_ref()
        .map(|p| v::read_failure_list(p))
        .unwrap_or_default();
    let mut bad = false;
    for (name, results) in &runs {
        let (new_failures, now_passing) = v::unexpected(results, &listed);
        for f in &new_failures {
            outln!("{name}: unexpected {f}");
        }
        for k in &now_passing {
            outln!("{name}: {k} is in the failure list but passes now");
        }
        bad |= !new_failures.is_empty() || !now_passing.is_empty();
        if fix {
            if let Some(p) = &failure_list {
                std::fs::write(p, v::failure_list(results)).map_err(|e| e.to_string())?;
                bad = false;
            }
        }
    }
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
