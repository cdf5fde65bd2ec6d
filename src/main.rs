//! The `pdsave` command line: the subcommands and their options, each with its own help
//! (exit codes and an example in the long help); the work is the library's, run by
//! `cli::run`.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Read, check, compare and convert PaddlePaddle save files, without Python and without
/// ever executing a pickle.
#[derive(Parser)]
#[command(
    name = "pdsave",
    version,
    about = "Read, check, compare and convert PaddlePaddle save files without Python",
    long_about = "Read, check, compare and convert PaddlePaddle save files (paddle.save \
pickles, jit.save / save_inference_model prefixes, 1.x directories, tensor streams, \
safetensors) without Python and without ever executing a pickle.\n\nPATH is what \
paddle.load takes: a file, a prefix (dir/model for model.pdmodel or model.json + \
model.pdiparams) or a directory; `-` reads standard input. `pdsave help COMMAND` \
explains each command; `pdsave man` prints the manual.",
    after_help = "Start with `pdsave inspect PATH`; `pdsave help COMMAND` explains each command."
)]
pub struct Cli {
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// Print no notes, warnings or progress on standard error (errors still are).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// Several PATHs, or trees of them.
#[derive(Args, Clone, Debug)]
pub struct Paths {
    /// Files, prefixes or model directories; `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read each PATH that is a directory as a tree: every Paddle file and model under
    /// it, found by content (not by name), one summary line each.
    #[arg(short, long)]
    pub recursive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    Safetensors,
    Npz,
    Pdparams,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// What a file, prefix or directory holds: format, writer, variables, values, program
    #[command(
        long_about = "What a file, prefix or directory holds: its format, the save API that \
wrote it, the pickle protocol and numpy flavour, the program (IR, feeds, fetches, ops), every \
stored array (key path, parameter name, dtype as stored and as loaded, shape, size; with \
--stats min/max/mean/NaN), the other entries' values (epoch = 100), and the decoding \
warnings `pdsave check` explains.",
        after_long_help = "Exit codes: 0 read; 1 the PATH cannot be read (the reason on \
stderr; with --json an error object on stdout); with several PATHs, 1 if any cannot.\n\n\
Example:\n  pdsave inspect --stats model.pdparams\n  pdsave inspect -r models/"
    )]
    Inspect {
        #[command(flatten)]
        paths: Paths,
        /// Print the report as JSON (JSON lines with several PATHs).
        #[arg(long)]
        json: bool,
        /// Also min/max/mean/NaN count of every array (reads every byte).
        #[arg(long)]
        stats: bool,
    },
    /// Is it safe, and will paddle.load give back what was saved?
    #[command(
        long_about = "Safety and decoding: every global the pickle references, with its \
offsets and whether it is Paddle's own or would run code; and the non-unique decodings \
paddle.load will meet, each with the workaround that restores the object.",
        after_long_help = "Exit codes: 0 clean; 1 findings; 2 the PATH cannot be read (not \
a Paddle file, broken); with several PATHs the largest.\n\nExample:\n  pdsave check \
upload.pdparams\n  pdsave check -r --json uploads/ > report.jsonl"
    )]
    Check {
        #[command(flatten)]
        paths: Paths,
        /// Print the report as JSON (JSON lines with several PATHs).
        #[arg(long)]
        json: bool,
    },
    /// What paddle.load returns (or raises), as the JSON load view
    #[command(
        long_about = "The load view: JSON describing what paddle.load(PATH, …) returns or \
raises. Top level: {\"view\": 1, \"result\": NODE} or {\"view\": 1, \"error\": \
\"<Python exception class>\"}. A NODE has \"t\": none, bool (v), int (v: decimal \
string), float (v: number or \"nan\"/\"inf\"/\"-inf\"), complex (re, im), str (v), \
bytes / bytearray (hex), list / tuple / set / frozenset (items), dict / odict (items: [key, \
value] pairs in order), ndarray (dtype, shape, sha256), npscalar (dtype, hex), tensor \
(dtype, shape, name: null where Paddle generates one, sha256 of the elements in C order, \
little-endian). With several PATHs, one JSON line each with its \"path\".",
        after_long_help = "Exit codes: 0 a view was printed (a Python error is a view too); \
1 pdsave refuses the input (unsafe or unsupported: the reason on stderr).\n\nExample:\n  \
pdsave view --return-numpy model.pdparams"
    )]
    View {
        #[command(flatten)]
        paths: Paths,
        /// As paddle.load(path, return_numpy=True).
        #[arg(long)]
        return_numpy: bool,
        /// As paddle.load(path, keep_name_table=True).
        #[arg(long)]
        keep_name_table: bool,
        /// As paddle.load(path, safetensors=True): read the file as safetensors.
        #[arg(long)]
        safetensors: bool,
        /// Whose paddle.load: a release (2.6.2, 3.0.0 … 3.3.1) or a series (2, 3); prefixes
        /// and 1.x directories load differently in 2.6.2.
        #[arg(long, default_value = "3.3.1", value_name = "VERSION", value_parser = parse_release)]
        paddle: pdsave::paddle::outcome::Release,
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
    },
    /// Convert between Paddle files and safetensors / .npz
    #[command(
        long_about = "Convert: a pickle → .safetensors or .npz (back to the same pickle bytes \
through pdsave's metadata); a .safetensors → .pdparams; a model prefix, 1.x directory or \
tensor stream → .safetensors or .npz. The output is written to a temporary file beside it \
and renamed into place.",
        after_long_help = "Exit codes: 0 written; 2 refused (the reason on stderr).\n\n\
Example:\n  pdsave convert model.pdparams model.safetensors\n  pdsave convert \
model.safetensors back.pdparams"
    )]
    Convert {
        /// What to convert (a file, prefix or directory).
        input: PathBuf,
        /// Where to write; the format comes from its extension unless --to says.
        output: PathBuf,
        /// Output format instead of OUT's extension.
        #[arg(long, value_enum)]
        to: Option<OutFormat>,
        /// Pickle protocol of a state dict written from a safetensors file without pdsave
        /// metadata.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(2..=4))]
        protocol: u8,
        /// numpy of that pickle's module paths (1: numpy.core, 2: numpy._core).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
        numpy: u8,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What differs between two checkpoints, of any forms
    #[command(
        long_about = "Compare two checkpoints of any forms (a .pdparams and its .safetensors \
conversion, a prefix and a state dict): entries only in A or only in B, dtype/shape changes, \
and for common tensors whether they are equal or their largest absolute and relative \
difference and how many elements differ; other values compared too.",
        after_long_help = "Exit codes: 0 identical content; 1 differences; 2 a PATH cannot be \
read.\n\nExample:\n  pdsave diff epoch10.pdparams epoch20.pdparams\n  pdsave diff --names \
model.pdparams inference/model"
    )]
    Diff {
        /// The first checkpoint.
        a: PathBuf,
        /// The second checkpoint.
        b: PathBuf,
        /// Match tensors by Paddle parameter name (linear_0.w_0) instead of key.
        #[arg(long)]
        names: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The value of one entry: a tensor's elements, or any other value
    #[command(
        long_about = "The value of one entry, found by its key path as inspect prints it \
(fc.weight, opt.LR_Scheduler.last_epoch): a tensor's elements as numpy prints them, or \
any other value as Python would repr it.",
        after_long_help = "Exit codes: 0 shown; 1 no such key or the PATH cannot be read.\n\n\
Example:\n  pdsave show model.pdparams fc.weight --limit 20\n  pdsave show adam.pdopt \
LR_Scheduler"
    )]
    Show {
        /// The checkpoint.
        path: PathBuf,
        /// The entry's key path (a prefix of several entries shows them all).
        key: String,
        /// Print every element when there are at most N; else the edges of each axis.
        #[arg(long, default_value_t = 1000, value_name = "N")]
        limit: u64,
        /// Print every element.
        #[arg(long)]
        all: bool,
        /// As loaded with return_numpy=True (ndarrays, not Tensors).
        #[arg(long)]
        return_numpy: bool,
    },
    /// The opcodes of a pickle: offset, opcode, argument, memo slot
    #[command(
        after_long_help = "Exit codes: 0 listed; 1 malformed (listed up to the \
error).\n\nExample:\n  pdsave disasm model.pdparams | head"
    )]
    Disasm {
        /// The pickle file.
        file: PathBuf,
    },
    /// Decode a file and encode it again (byte-identical for files Paddle wrote)
    #[command(
        after_long_help = "Exit codes: 0 written; 1 not written (the reason on \
stderr).\n\nExample:\n  pdsave reencode model.pdparams -o copy.pdparams && cmp \
model.pdparams copy.pdparams"
    )]
    Reencode {
        /// The file: a pickle, a tensor stream or .pdiparams, a SelectedRows, a ProgramDesc,
        /// or a safetensors file (its tensors and metadata laid out as the safetensors
        /// library lays them out).
        file: PathBuf,
        /// Where to write the re-encoded file.
        #[arg(short, long)]
        output: PathBuf,
        /// Write this protocol instead of the file's (pickles only).
        #[arg(long, value_parser = clap::value_parser!(u8).range(2..=4))]
        protocol: Option<u8>,
    },
    /// Write what paddle.save writes for a save-side object given as JSON
    #[command(
        long_about = "Write what paddle.save writes for a save-side object described as \
JSON: the load view's nodes for plain values, plus ndarray (dtype, shape, hex of the bytes \
in memory order, order \"C\"/\"F\", byteorder), npscalar (dtype, hex), tensor (kind: \
dynamic / parameter / static, dtype, shape, hex in C order little-endian, name, \
stop_gradient), layer, program; an object met again is {\"t\": \"ref\", \"id\": …} \
after its first appearance carries \"id\".",
        after_long_help = "Exit codes: 0 written; 1 paddle.save would raise (the exception \
on stderr) or the JSON is invalid.\n\nExample:\n  echo '{\"t\": \"dict\", \"items\": []}' \
| pdsave save - -o empty.pdparams"
    )]
    Save {
        /// The object as JSON (`-` for standard input).
        object: PathBuf,
        /// Where to write the pickle.
        #[arg(short, long)]
        output: PathBuf,
        /// paddle.save's protocol (2, 3 or 4; others raise ValueError as Paddle does).
        #[arg(long, default_value_t = 4)]
        protocol: i64,
        /// numpy of the simulated saving environment.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
        numpy: u8,
    },
    /// Validate implementations (Paddle releases, converters, scanners) against the corpus
    #[command(
        long_about = "Run implementations over the conformance corpus and compare their \
answers with the expected views. An adapter reads JSON lines {\"case\", \"path\", \
\"kind\", \"options\"} on stdin and answers one line each: a load view, \
{\"rejected\": reason} or {\"skipped\": reason}. With --plain the command is run as \
`COMMAND PATH` per case and exit status 0 accepts.",
        after_long_help = "Exit codes: 0 every answer as expected (or as the failure list \
says); 1 unexpected results.\n\nExample:\n  pdsave validate --impl pdsave --impl \
\"paddle=python adapters/paddle/adapter.py\""
    )]
    Validate {
        /// `NAME=COMMAND` of a persistent JSON-lines adapter, or `pdsave` for the in-process
        /// reference. Repeat for a results matrix.
        #[arg(long = "impl", required = true, value_name = "NAME=COMMAND")]
        imps: Vec<String>,
        /// Plain mode: run `COMMAND PATH` per case; exit status 0 accepts, anything else
        /// rejects.
        #[arg(long)]
        plain: bool,
        /// The corpus directory.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Known failures (one implementation only): a listed case that now passes fails the
        /// run.
        #[arg(long, value_name = "FILE")]
        failure_list: Option<PathBuf>,
        /// Rewrite the failure list to the failures of this run.
        #[arg(long)]
        fix: bool,
        /// Write report.md and report.html into this directory.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Seconds an implementation may take per answer.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Only cases whose id contains this.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Print a shell completion script
    #[command(after_long_help = "Example:\n  pdsave completions bash > \
~/.local/share/bash-completion/completions/pdsave")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(after_long_help = "Example:\n  pdsave man > pdsave.1 && man ./pdsave.1")]
    Man,
}

fn main() -> ExitCode {
    // Ctrl-C or SIGTERM during a write: remove its temporary, leave the output as it was.
    let _ = ctrlc::set_handler(|| {
        pdsave::write::on_signal();
        std::process::exit(130);
    });
    cli::run(Cli::parse())
}

/// `--paddle VERSION`: a release pdsave knows the rules of.
fn parse_release(s: &str) -> Result<pdsave::paddle::outcome::Release, String> {
    use pdsave::paddle::outcome::Release;
    Release::parse(s).ok_or_else(|| {
        let all: Vec<_> = Release::ALL.iter().map(|r| r.name()).collect();
        format!(
            "not a Paddle release pdsave knows: {s} (one of {})",
            all.join(", ")
        )
    })
}
