//! Writing a file so that no file is ever lost (every command that writes: `reencode`,
//! `save`, `convert`, `validate --report/--fix`).
//!
//! [`write_file`] refuses an output that is one of the inputs (the same file by device and
//! inode, so also through symbolic and hard links) or a directory, writes a temporary file
//! in the output's directory (`.NAME.pdsave-tmp-PID-N`, created new, never an existing
//! file), flushes and fsyncs it, runs an optional check on the complete file, renames it
//! over the output and fsyncs the directory. On any error the temporary is removed and the
//! output is left as it was. An input is never opened for writing: replacing a memory-mapped
//! input by rename leaves the mapping intact. Every temporary is registered while it exists;
//! [`remove_temporaries`] (the CLI calls it on SIGINT/SIGTERM) removes them. A new output
//! gets the usual permissions (0666 less the umask: 0644); a replaced one keeps its mode.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Why an output was not written. Each names the output.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The output is one of the files being read.
    #[error(
        "{output}: refusing to overwrite {input}, a file being read (write the output elsewhere)"
    )]
    IsInput { output: PathBuf, input: PathBuf },
    /// The output is a directory.
    #[error("{0}: is a directory (name a file to write)")]
    IsDirectory(PathBuf),
    /// Creating, writing, syncing or renaming failed; the output is unchanged.
    #[error("{path}: cannot write: {reason} (nothing was written there)")]
    Io { path: PathBuf, reason: String },
    /// The content could not be produced (or the check of the complete file failed); the
    /// output is unchanged.
    #[error("{path}: {reason} (nothing was written there)")]
    Content { path: PathBuf, reason: String },
}

impl WriteError {
    /// What went wrong, without the output's name.
    pub fn reason(&self) -> String {
        match self {
            WriteError::IsInput { input, .. } => format!(
                "refusing to overwrite {}, a file being read (write the output elsewhere)",
                input.display()
            ),
            WriteError::IsDirectory(_) => "is a directory (name a file to write)".into(),
            WriteError::Io { reason, .. } | WriteError::Content { reason, .. } => {
                format!("{reason} (nothing was written there)")
            }
        }
    }
}

/// Temporaries that exist now (removed by [`remove_temporaries`] on a signal).
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn register(p: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.push(p.to_path_buf());
    }
}

fn unregister(p: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.retain(|q| q != p);
    }
}

/// Set by [`remove_temporaries`]: a signal handler is ending the process.
static ENDING: AtomicBool = AtomicBool::new(false);

/// For a signal handler that then ends the process: removes every temporary still
/// registered ([`remove_temporaries`]). A write that fails from then on (its temporary gone)
/// waits for the handler to end the process instead of reporting an error of its own.
pub fn on_signal() -> usize {
    ENDING.store(true, Ordering::SeqCst);
    remove_temporaries()
}

/// Removes every temporary still registered. Returns how many were removed.
pub fn remove_temporaries() -> usize {
    let list = match TEMPORARIES.lock() {
        Ok(mut t) => std::mem::take(&mut *t),
        Err(p) => std::mem::take(&mut *p.into_inner()),
    };
    list.iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

/// The temporaries registered now (tests).
pub fn temporaries() -> Vec<PathBuf> {
    TEMPORARIES.lock().map(|t| t.clone()).unwrap_or_default()
}

/// (device, inode) of an existing file, following links.
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// Refuses `output` when it is one of `inputs` (same device and inode) or a directory.
pub fn refuse_inputs(output: &Path, inputs: &[&Path]) -> Result<(), WriteError> {
    if output.is_dir() {
        return Err(WriteError::IsDirectory(output.to_path_buf()));
    }
    let Some(id) = file_id(output) else {
        return Ok(());
    };
    match inputs.iter().find(|i| file_id(i) == Some(id)) {
        Some(i) => Err(WriteError::IsInput {
            output: output.to_path_buf(),
            input: i.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// The directory an output goes in (`.` for a bare file name).
fn dir_of(output: &Path) -> PathBuf {
    match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh temporary beside `output`, created (exclusively) and registered.
fn create_temporary(output: &Path) -> Result<(PathBuf, File), WriteError> {
    let io = |reason: String| WriteError::Io {
        path: output.to_path_buf(),
        reason,
    };
    let name = output
        .file_name()
        .ok_or_else(|| io("not a file name".into()))?
        .to_string_lossy()
        .into_owned();
    let dir = dir_of(output);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.pdsave-tmp-{}-{n}", std::process::id()));
        // Registered before it exists: a signal in between finds nothing to remove.
        register(&tmp);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => unregister(&tmp),
            Err(e) => {
                unregister(&tmp);
                return Err(io(e.to_string()));
            }
        }
    }
    Err(io("no free temporary name".into()))
}

/// Writes `output` through a temporary beside it (see the module doc). `inputs`: the files
/// being read, which the output must not be. `write` produces the content; `check` runs on
/// the complete temporary before it is renamed into place (a file it refuses never
/// appears at `output`).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("a.txt");
/// pdsave::write::write_file(&out, &[], |w| {
///     use std::io::Write;
///     w.write_all(b"hello").map_err(|e| e.to_string())
/// }, |_| Ok(())).unwrap();
/// assert_eq!(std::fs::read(&out).unwrap(), b"hello");
/// // The output is refused as an input, and nothing changes.
/// let e = pdsave::write::write_file(&out, &[&out], |_| Ok(()), |_| Ok(())).unwrap_err();
/// assert!(e.to_string().contains("refusing to overwrite"));
/// assert_eq!(std::fs::read(&out).unwrap(), b"hello");
/// ```
pub fn write_file(
    output: &Path,
    inputs: &[&Path],
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), String>,
    check: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), WriteError> {
    refuse_inputs(output, inputs)?;
    let (tmp, file) = create_temporary(output)?;
    let r = fill(output, &tmp, file, write, check);
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
        // Interrupted: the handler removed the temporary under us and exits with its own
        // status (130); an error here would race it to exit with 1.
        while ENDING.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    unregister(&tmp);
    r
}

fn fill(
    output: &Path,
    tmp: &Path,
    file: File,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), String>,
    check: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), WriteError> {
    let io = |e: std::io::Error| WriteError::Io {
        path: output.to_path_buf(),
        reason: e.to_string(),
    };
    let content = |reason: String| WriteError::Content {
        path: output.to_path_buf(),
        reason,
    };
    let mut w = BufWriter::with_capacity(1 << 20, file);
    write(&mut w).map_err(content)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    // An output that exists keeps its permissions; a new one has the usual 0666 & !umask.
    if let Ok(m) = std::fs::metadata(output) {
        let _ = file.set_permissions(m.permissions());
    }
    file.sync_all().map_err(io)?;
    drop(file);
    check(tmp).map_err(content)?;
    std::fs::rename(tmp, output).map_err(io)?;
    if let Ok(d) = File::open(dir_of(output)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`write_file`] of bytes already in memory (reports, failure lists).
pub fn write_bytes(output: &Path, inputs: &[&Path], bytes: &[u8]) -> Result<(), WriteError> {
    write_file(
        output,
        inputs,
        |w| w.write_all(bytes).map_err(|e| e.to_string()),
        |_| Ok(()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry is process-wide: these tests take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// A fresh directory, removed when dropped (also when the test fails).
    struct Dir(PathBuf);

    impl std::ops::Deref for Dir {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("pdsave-write-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn leftovers(d: &Path) -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("pdsave-tmp"))
            .collect()
    }

    #[test]
    fn a_failed_write_leaves_the_output_as_it_was_and_no_temporary() {
        let _g = SERIAL.lock();
        let d = dir("fail");
        let out = d.join("out.bin");
        std::fs::write(&out, b"old").unwrap();
        let e = write_file(
            &out,
            &[],
            |w| {
                w.write_all(b"half").unwrap();
                Err("boom".into())
            },
            |_| Ok(()),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: boom (nothing was written there)", out.display())
        );
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        assert!(leftovers(&d).is_empty());
        // A new output that fails is not created at all (no 0-byte file).
        let new = d.join("new.bin");
        assert!(write_file(&new, &[], |_| Err("no".into()), |_| Ok(())).is_err());
        assert!(!new.exists());
        // The check refuses the complete file: same.
        assert!(write_bytes(&new, &[], b"x").is_ok());
        assert!(write_file(&new, &[], |_| Ok(()), |_| Err("bad".into())).is_err());
        assert_eq!(std::fs::read(&new).unwrap(), b"x");
        assert!(leftovers(&d).is_empty() && temporaries().is_empty());
    }

    #[test]
    fn inputs_through_links_and_directories_are_refused() {
        let _g = SERIAL.lock();
        let d = dir("links");
        let input = d.join("in.bin");
        std::fs::write(&input, b"data").unwrap();
        let sym = d.join("sym.bin");
        std::os::unix::fs::symlink(&input, &sym).unwrap();
        let hard = d.join("hard.bin");
        std::fs::hard_link(&input, &hard).unwrap();
        for out in [&input, &sym, &hard] {
            let e = write_bytes(out, &[&input], b"new").unwrap_err();
            assert!(matches!(e, WriteError::IsInput { .. }), "{e}");
        }
        assert_eq!(std::fs::read(&input).unwrap(), b"data");
        assert!(matches!(
            write_bytes(&d, &[], b"x").unwrap_err(),
            WriteError::IsDirectory(_)
        ));
    }

    #[test]
    fn new_files_get_the_usual_permissions_and_replaced_ones_keep_theirs() {
        let _g = SERIAL.lock();
        use std::os::unix::fs::PermissionsExt;
        let d = dir("perm");
        let out = d.join("o");
        write_bytes(&out, &[], b"1").unwrap();
        // What File::create gives under this umask (0644 under the usual 022).
        let probe = d.join("probe");
        File::create(&probe).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), mode(&probe));
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_bytes(&out, &[], b"2").unwrap();
        assert_eq!(
            (mode(&out), std::fs::read(&out).unwrap()),
            (0o600, b"2".to_vec())
        );
    }

    #[test]
    fn registered_temporaries_are_removed_on_request() {
        let _g = SERIAL.lock();
        let d = dir("signal");
        let out = d.join("o");
        let seen = std::cell::Cell::new(None);
        let r = write_file(
            &out,
            &[],
            |w| {
                w.write_all(b"partial").unwrap();
                w.flush().unwrap();
                // What a SIGINT handler does mid-write.
                let t: Vec<_> = temporaries()
                    .into_iter()
                    .filter(|p| p.starts_with(&*d))
                    .collect();
                assert_eq!(t.len(), 1);
                assert!(t[0].exists());
                seen.set(Some(t[0].clone()));
                assert!(remove_temporaries() >= 1);
                Err("interrupted".into())
            },
            |_| Ok(()),
        );
        assert!(r.is_err());
        assert!(!seen.take().unwrap().exists() && !out.exists());
    }
}
