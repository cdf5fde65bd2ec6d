//! Where the CLI writes: stdout (a closed pipe ends the program quietly, exit 0), stderr
//! (notes and errors, never a panic when it is closed; notes and progress off with `-q`),
//! colours and progress bars.

use std::io::{IsTerminal, Write};

/// The output settings of one run.
pub struct Out {
    pub color: bool,
    pub quiet: bool,
}

impl Out {
    pub fn new(color: bool, quiet: bool) -> Out {
        Out { color, quiet }
    }

    /// Writes to stdout; a closed pipe (`pdsave … | head`) ends the program quietly.
    pub fn bytes(&self, b: &[u8]) {
        let mut o = std::io::stdout().lock();
        if let Err(e) = o.write_all(b).and_then(|()| o.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            self.error(&format!("writing standard output: {e}"));
            std::process::exit(1);
        }
    }
    /// Streams to stdout through `write` (a buffer of 64 KiB, never the whole output); a
    /// closed pipe ends the program quietly, as [`Out::bytes`]. `write`'s own error (the
    /// output it could not make) is returned; stdout's errors end the program.
    pub fn stream<E>(
        &self,
        write: impl FnOnce(&mut dyn Write) -> Result<std::io::Result<()>, E>,
    ) -> Result<(), E> {
        let mut o = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let r = write(&mut o)?.and_then(|()| o.flush());
        if let Err(e) = r {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            self.error(&format!("writing standard output: {e}"));
            std::process::exit(1);
        }
        Ok(())
    }
    pub fn text(&self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub fn line(&self, s: &str) {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(b'\n');
        self.bytes(&v);
    }

    /// `pdsave: MESSAGE` on stderr (ignored if stderr is closed).
    pub fn error(&self, msg: &str) {
        let _ = writeln!(std::io::stderr().lock(), "pdsave: {msg}");
    }
    /// `pdsave: note: MESSAGE` on stderr, unless `-q`.
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "pdsave: note: {msg}");
        }
    }

    /// A progress bar on stderr for long work (`total` bytes): drawn only on a terminal,
    /// without `-q`, and for work worth it (64 MiB and more).
    pub fn progress(&self, total: u64, what: &str) -> indicatif::ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() || total < 64 << 20 {
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

    /// A progress bar counting items (validate's cases), on a terminal without `-q`.
    pub fn counter(&self, total: u64, what: &str) -> indicatif::ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} cases eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_string());
        bar
    }

    pub fn paint(&self) -> pdsave::paint::Paint {
        pdsave::paint::Paint { on: self.color }
    }
}
