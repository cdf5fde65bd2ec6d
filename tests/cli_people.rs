//! The people-facing CLI (diff, show, several PATHs, trees, stdin, help, completions, man,
//! exit codes) on real corpus files; human output snapshotted (insta), JSON checked by
//! structure, the README's command table checked against `--help`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn pdsave_in(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pdsave"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(b) = stdin {
        child.stdin.take().unwrap().write_all(b).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn pdsave(args: &[&str]) -> (i32, String, String) {
    pdsave_in(args, None)
}

fn snap(args: &[&str]) -> String {
    let (c, out, err) = pdsave(args);
    format!("exit {c}\n--- stdout\n{out}--- stderr\n{err}")
}

const LINEAR: &str = "corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams";
const CONVNET: &str = "corpus/cases/y_p3_proto4_convnet_state_dict/model.pdparams";
const ADAM: &str = "corpus/cases/y_p3_proto4_adam_lr_state_dict/adam.pdopt";

/// A directory of the test's own under the system temporary directory, removed with
/// everything in it when dropped (also when the test fails).
fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pdsave-cli-people-")
        .tempdir()
        .unwrap()
}

/// A state dict of one float32 tensor `w` holding `values`, written by `pdsave save` into
/// `dir`.
fn saved(dir: &std::path::Path, name: &str, values: &[f32]) -> String {
    let hex: String = values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect();
    let obj = serde_json::json!({"t": "dict", "items": [
        [{"t": "str", "v": "w"}, {"t": "tensor", "kind": "parameter", "dtype": "float32",
          "shape": [values.len()], "hex": hex, "name": "linear_0.w_0", "stop_gradient": false}],
        [{"t": "str", "v": "epoch"}, {"t": "int", "v": name.len().to_string()}]]});
    let j = dir.join(format!("{name}.json"));
    std::fs::write(&j, obj.to_string()).unwrap();
    let out = dir.join(format!("{name}.pdparams"));
    let (c, _, err) = pdsave(&["save", j.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(c, 0, "{err}");
    out.to_str().unwrap().to_string()
}

#[test]
fn diff_exit_codes_and_reports() {
    let scratch = tmp();
    // A .pdparams and its .safetensors conversion hold the same content.
    let st = scratch.path().join("convnet.safetensors");
    assert_eq!(pdsave(&["convert", CONVNET, st.to_str().unwrap()]).0, 0);
    let (c, out, _) = pdsave(&["diff", CONVNET, st.to_str().unwrap()]);
    assert_eq!(c, 0, "{out}");
    assert!(out.contains("identical"), "{out}");
    // Different keys.
    let (c, out, _) = pdsave(&["diff", LINEAR, CONVNET]);
    assert_eq!(c, 1);
    assert!(
        out.contains("- weight") && out.contains("+ fc.weight"),
        "{out}"
    );
    // Different values: counted, largest differences given; a non-tensor value too.
    let a = saved(scratch.path(), "a", &[1.0, 2.0, 3.0, 4.0]);
    let b = saved(scratch.path(), "bb", &[1.0, 2.5, 3.0, -4.0]);
    let (c, out, _) = pdsave(&["diff", "--json", &a, &b]);
    assert_eq!(c, 1);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &j["tensors"][0];
    assert_eq!(
        (t["key"].as_str(), t["differing"].as_u64()),
        (Some("w"), Some(2))
    );
    assert_eq!(t["max_abs"].as_f64(), Some(8.0));
    assert_eq!(t["max_rel"].as_f64(), Some(2.0));
    assert_eq!(j["values"][0]["key"], "epoch");
    // By parameter name: the same tensor under another key matches.
    let (c, _, _) = pdsave(&["diff", "--names", &a, &a]);
    assert_eq!(c, 0);
    // A PATH that cannot be read: exit 2, the file named.
    let (c, _, err) = pdsave(&["diff", LINEAR, "corpus/cases/none/such"]);
    assert_eq!(c, 2);
    assert!(err.contains("corpus/cases/none/such"), "{err}");
    insta::assert_snapshot!(
        snap(&["diff", &a, &b]).replace(&*scratch.path().join("").to_string_lossy(), "$TMP/")
    );
}

#[test]
fn show_tensors_values_and_missing_keys() {
    insta::assert_snapshot!(snap(&["show", CONVNET, "conv.weight"]));
    insta::assert_snapshot!(snap(&["show", ADAM, "LR_Scheduler"]));
    let (c, out, _) = pdsave(&["show", ADAM, "LR_Scheduler.last_epoch"]);
    assert_eq!((c, out.trim()), (0, "LR_Scheduler.last_epoch = 1"));
    // A Python-like path works too.
    let (c, out, _) = pdsave(&["show", LINEAR, "obj[\"bias\"]"]);
    assert_eq!(c, 0);
    assert!(out.starts_with("tensor bias  float32 [4]"), "{out}");
    // --limit: only the edges of each axis.
    let (c, out, _) = pdsave(&["show", CONVNET, "fc.weight", "--limit", "10"]);
    assert_eq!(c, 0);
    assert!(out.contains("..."), "{out}");
    let (c, out, _) = pdsave(&["show", CONVNET, "fc.weight", "--all"]);
    assert_eq!(c, 0);
    assert!(!out.contains("..."), "{out}");
    // A key that is not there: exit 1, a hint.
    let (c, _, err) = pdsave(&["show", CONVNET, "fc.wieght"]);
    assert_eq!(c, 1);
    assert!(err.contains("no entry \"fc.wieght\""), "{err}");
}

#[test]
fn many_paths_and_trees_one_line_each() {
    let (c, out, _) = pdsave(&["check", LINEAR, "corpus/cases/n_os_system/input.bin"]);
    assert_eq!(c, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].ends_with("model.pdparams: clean"), "{out}");
    assert!(lines[1].contains("DANGER"), "{out}");
    // An unreadable file among them: exit 2, the largest.
    let (c, _, _) = pdsave(&["check", LINEAR, "corpus/cases/n_text/input.bin"]);
    assert_eq!(c, 2);
    // A tree, by content: the prefix counts once, the case.json files are skipped.
    let (c, out, err) = pdsave(&["inspect", "-r", "corpus/cases/y_p2_jit_save_prefix"]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("net: prefix"), "{out}");
    assert!(err.contains("skipped"), "{err}");
    // JSON lines.
    let (c, out, _) = pdsave(&[
        "check",
        "--json",
        "-r",
        "corpus/cases/y_p3_proto4_linear_state_dict",
        "corpus/cases/n_os_system",
    ]);
    assert_eq!(c, 1);
    let js: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(js.len(), 2);
    assert_eq!(js[1]["exit_code"], 1);
    // view: one line each, with its path; a refused file says so.
    let (c, out, _) = pdsave(&["view", LINEAR, "corpus/cases/n_os_system/input.bin"]);
    assert_eq!(c, 1);
    let js: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        (js[0]["path"].as_str(), js[0]["result"]["t"].as_str()),
        (Some(LINEAR), Some("dict"))
    );
    assert!(js[1]["rejected"].as_str().unwrap().contains("os.system"));
    // inspect of several: an error is a line, exit 1.
    let (c, out, _) = pdsave(&["inspect", LINEAR, "corpus/cases/n_empty/input.bin"]);
    assert_eq!(c, 1);
    assert!(
        out.contains("n_empty/input.bin: error: an empty file"),
        "{out}"
    );
}

#[test]
fn standard_input_is_a_file() {
    let b = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(LINEAR)).unwrap();
    let (c, out, _) = pdsave_in(&["view", "-"], Some(&b));
    assert_eq!(c, 0);
    assert!(out.contains("linear_0.w_0"), "{out}");
    let (c, out, _) = pdsave_in(&["check", "-"], Some(&b));
    assert_eq!(c, 0, "{out}");
    let (c, out, _) = pdsave_in(&["inspect", "--json", "-"], Some(&b));
    assert_eq!(c, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["variables"][0]["path"], "weight");
}

#[test]
fn inspect_shows_values_and_json_errors() {
    let (c, out, _) = pdsave(&[
        "inspect",
        "corpus/cases/y_p3_proto4_nested_model_opt_epoch/model.pdparams",
    ]);
    assert_eq!(c, 0);
    assert!(out.contains("values:\n  epoch = 100"), "{out}");
    let (c, out, err) = pdsave(&["inspect", "--json", "corpus/cases/n_os_system/input.bin"]);
    assert_eq!(c, 1);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(j["error"].as_str().unwrap().contains("os.system"), "{out}");
    assert!(err.contains("n_os_system"), "{err}");
}

#[test]
fn usage_errors_version_completions_and_man() {
    assert_eq!(pdsave(&["save", "--numpy", "3", "x", "-o", "y"]).0, 2);
    assert_eq!(pdsave(&["convert", "--protocol", "5", "a", "b"]).0, 2);
    assert_eq!(pdsave(&["convert", "--to", "zip", "a", "b"]).0, 2);
    let (c, out, _) = pdsave(&["--version"]);
    assert_eq!(
        (c, out.trim()),
        (0, concat!("pdsave ", env!("CARGO_PKG_VERSION")))
    );
    for shell in ["bash", "zsh", "fish"] {
        let (c, out, _) = pdsave(&["completions", shell]);
        assert_eq!(c, 0);
        assert!(out.contains("diff") && out.contains("inspect"), "{shell}");
    }
    let (c, out, _) = pdsave(&["man"]);
    assert_eq!(c, 0);
    assert!(
        out.starts_with(".ie") || out.contains(".TH pdsave"),
        "{}",
        &out[..200.min(out.len())]
    );
}

#[test]
fn colour_on_demand_and_none_when_piped() {
    let (_, out, _) = pdsave(&[
        "--color",
        "always",
        "check",
        "corpus/cases/n_os_system/input.bin",
    ]);
    assert!(out.contains("\u{1b}["), "{out}");
    let (_, out, _) = pdsave(&["check", "corpus/cases/n_os_system/input.bin"]);
    assert!(!out.contains("\u{1b}["), "{out}");
    let (_, out, _) = pdsave(&["--color", "never", "inspect", LINEAR]);
    assert!(!out.contains("\u{1b}["), "{out}");
}

#[test]
fn a_closed_pipe_is_no_panic() {
    // stdout and stderr closed before pdsave writes: it must not panic (exit 101).
    let child = Command::new(env!("CARGO_BIN_EXE_pdsave"))
        .args(["view", "corpus/cases/none/such"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(101));
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} view {LINEAR} 2>&1 | (exit 0); {} inspect {LINEAR} | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_pdsave"),
            env!("CARGO_BIN_EXE_pdsave")
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn every_subcommand_has_help_with_exit_codes_and_an_example() {
    let (_, top, _) = pdsave(&["--help"]);
    let subs: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|s| s != "help")
        .collect();
    assert_eq!(
        subs[..6],
        ["inspect", "check", "view", "convert", "diff", "show"],
        "the order a user meets them"
    );
    for s in &subs {
        let (c, help, _) = pdsave(&["help", s]);
        assert_eq!(c, 0);
        assert!(help.contains("Example:"), "{s} has no example");
        if !["completions", "man"].contains(&s.as_str()) {
            assert!(help.contains("Exit codes:"), "{s} has no exit codes");
        }
        assert!(
            !help.contains("spec/"),
            "{s}'s help points at a file an installed binary lacks"
        );
        // Every argument and option described (in the short help, beside it or below it).
        let (_, short, _) = pdsave(&[s.as_str(), "-h"]);
        let lines: Vec<&str> = short.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let item = line.starts_with("  ")
                && !line.starts_with("   ")
                && (t.starts_with('-') || t.starts_with('<'));
            if item {
                let beside = t.split("  ").filter(|p| !p.trim().is_empty()).count() >= 2;
                let below = lines
                    .get(i + 1)
                    .is_some_and(|n| n.starts_with("          ") && !n.trim().is_empty());
                assert!(beside || below, "{s}: {t:?} has no description");
            }
        }
        insta::assert_snapshot!(format!("help_{s}"), help);
    }
    // README's command table names exactly these subcommands.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table: Vec<String> = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Commands"))
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| `pdsave "))
        .filter_map(|l| {
            l.trim_start_matches("| `pdsave ")
                .split([' ', '`'])
                .next()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(table, subs, "README's command table and --help differ");
}
