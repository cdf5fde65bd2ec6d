//! Writes that never lose a file, and broken inputs that are errors (issue #18): every
//! command that writes goes through a temporary renamed into place (src/write.rs), refuses
//! an output that is an input, leaves nothing behind on an error or on Ctrl-C; a broken
//! model is an error with a non-zero exit; a closed stdout or stderr is never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pdsave"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn pdsave(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory for one test, removed when dropped (also when the test fails or
/// panics).
struct TmpDir(PathBuf);

impl std::ops::Deref for TmpDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TmpDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tmp(name: &str) -> TmpDir {
    let d = std::env::temp_dir().join(format!("pdsave-writes-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TmpDir(d)
}

/// A child process killed (SIGKILL, which also ends a stopped one) and reaped when
/// dropped, so that a failing test leaves no process behind.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every file left in `d` (sorted names).
fn files(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SD: &str = "corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams";

#[test]
fn reencode_onto_its_input_is_refused_and_the_input_kept() {
    let d = tmp("self");
    let m = d.join("m.pdparams");
    std::fs::copy(root().join(SD), &m).unwrap();
    let before = std::fs::read(&m).unwrap();
    std::os::unix::fs::symlink("m.pdparams", d.join("link")).unwrap();
    std::fs::hard_link(&m, d.join("hard")).unwrap();
    for out in ["m.pdparams", "link", "hard"] {
        let (c, _, err) = pdsave(&["reencode", s(&m), "-o", s(&d.join(out))]);
        assert_eq!(c, 1, "{out}");
        assert!(
            err.contains(&format!(
                "refusing to overwrite {}, a file being read",
                m.display()
            )),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&m).unwrap(), before);
    assert_eq!(files(&d), ["hard", "link", "m.pdparams"]);
}

#[test]
fn a_failed_reencode_leaves_no_output() {
    let d = tmp("fail");
    let out = d.join("out.pdparams");
    // A protocol pdsave does not write: a usage error, before anything is created.
    let (c, _, err) = pdsave(&["reencode", SD, "-o", s(&out), "--protocol", "7"]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("7 is not in 2..=4"), "{err}");
    // A pickle pdsave refuses: nothing written either.
    let (c, _, _) = pdsave(&[
        "reencode",
        "corpus/cases/n_os_system/input.bin",
        "-o",
        s(&out),
    ]);
    assert_eq!(c, 1);
    // An output in a directory that does not exist.
    let (c, _, err) = pdsave(&["reencode", SD, "-o", s(&d.join("no/such/out"))]);
    assert_eq!(c, 1);
    assert!(err.contains("nothing was written there"), "{err}");
    assert!(files(&d).is_empty(), "{:?}", files(&d));
}

#[test]
fn written_files_have_the_usual_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp("perm");
    let out = d.join("out.pdparams");
    assert_eq!(pdsave(&["reencode", SD, "-o", s(&out)]).0, 0);
    let probe = d.join("probe");
    std::fs::File::create(&probe).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&out),
        mode(&probe),
        "as File::create (0644 under umask 022)"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(root().join(SD)).unwrap()
    );
}

#[test]
fn save_refuses_to_overwrite_its_object_file() {
    let d = tmp("save");
    let obj = d.join("obj.json");
    std::fs::write(&obj, br#"{"t": "int", "v": "1"}"#).unwrap();
    let (c, _, err) = pdsave(&["save", s(&obj), "-o", s(&obj)]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(files(&d), ["obj.json"]);
}

#[test]
fn convert_refuses_the_models_own_files_and_empty_directories() {
    let d = tmp("convert");
    for f in ["net.pdmodel", "net.pdiparams", "net.pdiparams.info"] {
        std::fs::copy(
            root().join("corpus/cases/y_p2_jit_save_prefix").join(f),
            d.join(f),
        )
        .unwrap();
    }
    let params = std::fs::read(d.join("net.pdiparams")).unwrap();
    let (c, _, err) = pdsave(&[
        "convert",
        s(&d.join("net")),
        s(&d.join("net.pdiparams")),
        "--to",
        "safetensors",
    ]);
    assert_eq!(c, 2);
    assert!(
        err.contains("a file of IN: it would be overwritten"),
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("net.pdiparams")).unwrap(), params);
    // A successful convert leaves only its output.
    let (c, _, _) = pdsave(&["convert", s(&d.join("net")), s(&d.join("w.safetensors"))]);
    assert_eq!(c, 0);
    assert_eq!(
        files(&d),
        [
            "net.pdiparams",
            "net.pdiparams.info",
            "net.pdmodel",
            "w.safetensors"
        ]
    );
    // With the usual permissions (the safetensors crate's own writer made them 0600).
    {
        use std::os::unix::fs::PermissionsExt;
        let probe_dir = tmp("convert-probe");
        let probe = probe_dir.join("p");
        std::fs::File::create(&probe).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&d.join("w.safetensors")), mode(&probe));
    }
    let empty = d.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (c, _, err) = pdsave(&["convert", s(&empty), s(&d.join("e.safetensors"))]);
    assert_eq!(c, 2);
    assert!(err.contains("an empty directory"), "{err}");
    assert!(!d.join("e.safetensors").exists());
}

#[test]
fn ctrl_c_during_a_write_leaves_no_temporary_and_no_output() {
    // An 8 MiB bytes object. The write is caught in the act: once its temporary appears the
    // process is stopped (SIGSTOP), sent the signal, and continued; the signal's handler
    // then runs while the rest is still being written and synced.
    let d = tmp("sigint");
    let input = d.join("big.pkl");
    let n: u64 = 8 << 20;
    let mut b = b"\x80\x04\x8e".to_vec();
    b.extend_from_slice(&n.to_le_bytes());
    b.resize(b.len() + n as usize, 7);
    b.push(b'.');
    std::fs::write(&input, &b).unwrap();
    drop(b);
    let out = d.join("out.pkl");
    // What CPython writes for it: PROTO 4, BINBYTES (a 4-byte length under 4 GiB), the
    // bytes, MEMOIZE, STOP.
    let complete = n + 9;
    let kill = |args: &[&str]| {
        assert!(Command::new("kill").args(args).status().unwrap().success());
    };
    let temporary = || files(&d).iter().any(|f| f.contains(".pdsave-tmp-"));
    for signal in ["-INT", "-TERM"] {
        let mut interrupted = false;
        for _ in 0..20 {
            let mut child = Reaped(
                bin()
                    .args(["reencode", s(&input), "-o", s(&out)])
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            let pid = child.0.id().to_string();
            // Wait for the temporary to appear, then stop the process.
            let start = std::time::Instant::now();
            while !temporary()
                && child.0.try_wait().unwrap().is_none()
                && start.elapsed().as_secs() < 20
            {
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
            if temporary() {
                kill(&["-STOP", &pid]);
                // Still there once stopped: interrupt (else it finished meanwhile).
                if temporary() {
                    kill(&[signal, &pid]);
                }
                kill(&["-CONT", &pid]);
            }
            let status = child.0.wait().unwrap();
            assert!(
                !temporary(),
                "{signal}: a temporary is left: {:?}",
                files(&d)
            );
            if status.success() {
                // Finished first: the output is complete.
                assert_eq!(std::fs::metadata(&out).unwrap().len(), complete, "{signal}");
                std::fs::remove_file(&out).unwrap();
                continue;
            }
            assert_eq!(status.code(), Some(130), "{signal}");
            match std::fs::metadata(&out) {
                // Renamed into place just before the handler ran: complete.
                Ok(m) => {
                    assert_eq!(m.len(), complete, "{signal}");
                    std::fs::remove_file(&out).unwrap();
                }
                Err(_) => {
                    assert_eq!(files(&d), ["big.pkl"], "{signal}");
                    interrupted = true;
                    break;
                }
            }
        }
        assert!(
            interrupted,
            "{signal}: no write was interrupted in 20 attempts"
        );
    }
}

#[test]
fn a_closed_stdout_or_stderr_is_no_panic() {
    for args in [
        &["view", "missing"][..],
        &["check", "missing"][..],
        &["inspect", "missing"][..],
        &["view", SD][..],
        &["check", SD][..],
        &["disasm", SD][..],
    ] {
        let (r, w) = std::io::pipe().unwrap();
        drop(r);
        let status = bin()
            .args(args)
            .stdout(w.try_clone().unwrap())
            .stderr(w)
            .status()
            .unwrap();
        assert_ne!(status.code(), Some(101), "{args:?} panicked");
    }
}

#[test]
fn broken_models_are_errors() {
    let d = tmp("broken");
    let src = root().join("corpus/cases/y_p2_jit_save_prefix");
    let model = |name: &str, params: Option<usize>| {
        let m = d.join(name);
        std::fs::create_dir_all(&m).unwrap();
        for f in ["net.pdmodel", "net.pdiparams.info"] {
            std::fs::copy(src.join(f), m.join(f)).unwrap();
        }
        if let Some(n) = params {
            let p = std::fs::read(src.join("net.pdiparams")).unwrap();
            std::fs::write(m.join("net.pdiparams"), &p[..n.min(p.len())]).unwrap();
        }
        m
    };
    // .pdiparams missing; cut short (to 100 of 708 bytes).
    for (m, what) in [
        (model("missing", None), "cannot be read"),
        (model("short", Some(100)), "a broken model"),
    ] {
        let prefix = m.join("net");
        let (c, out, err) = pdsave(&["inspect", s(&prefix)]);
        assert_eq!(c, 1, "{out}");
        assert!(err.contains(what), "{err}");
        assert!(!out.contains("declared"), "{out}");
        let (c, _, err) = pdsave(&["check", s(&prefix)]);
        assert_eq!(c, 2, "{err}");
    }
    // A directory holding a prefix: the hint names it.
    let whole = model("whole", Some(usize::MAX));
    for cmd in ["inspect", "check"] {
        let (c, _, err) = pdsave(&[cmd, s(&whole)]);
        assert_ne!(c, 0, "{cmd}");
        assert!(
            err.contains(&format!("did you mean {}?", whole.join("net").display())),
            "{cmd}: {err}"
        );
    }
    // An empty directory and an empty file.
    let empty = d.join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(pdsave(&["inspect", s(&empty)]).0, 1);
    assert_eq!(pdsave(&["check", s(&empty)]).0, 2);
    let e = d.join("empty.pdparams");
    std::fs::write(&e, b"").unwrap();
    assert_eq!(pdsave(&["inspect", s(&e)]).0, 1);
    assert_eq!(pdsave(&["check", s(&e)]).0, 2);
    // view still shows what paddle.load gives: {} for the empty directory (Paddle 3.3.1).
    let (c, out, _) = pdsave(&["view", s(&empty)]);
    assert_eq!(
        (c, out.trim()),
        (0, r#"{"view":1,"result":{"t":"dict","items":[]}}"#)
    );
}
