//! Client of the real-Paddle oracle (`adapters/oracle/oracle.py`): one persistent Python
//! process speaking JSON lines, and the comparison of pdsave's reference save/load with it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value as J};

use crate::numpy::Flavour;
use crate::paddle::object::ObjGraph;
use crate::paddle::save::{save, SaveOptions, Saved};
use crate::paddle::{load_graph, LoadOptions};
use crate::pickle::{self, EncodeOptions};

/// A running oracle process.
pub struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u64,
    /// The `ready` line: Paddle and numpy versions.
    pub info: J,
}

impl Oracle {
    /// Starts `python adapters/oracle/oracle.py`.
    pub fn start(python: &str, script: &str) -> std::io::Result<Oracle> {
        let mut child = Command::new(python)
            .arg(script)
            .env("PYTHONHASHSEED", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin"))?;
        let stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| std::io::Error::other("no stdout"))?,
        );
        let mut o = Oracle {
            child,
            stdin,
            stdout,
            next: 0,
            info: J::Null,
        };
        o.info = o.read()?;
        Ok(o)
    }

    fn read(&mut self) -> std::io::Result<J> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("oracle exited"));
        }
        serde_json::from_str(&line).map_err(std::io::Error::other)
    }

    /// The numpy flavour the oracle runs.
    pub fn flavour(&self) -> Flavour {
        match self.info.get("numpy").and_then(J::as_str) {
            Some(v) if v.starts_with('1') => Flavour::Numpy1,
            _ => Flavour::Numpy2,
        }
    }

    /// Asks real Paddle to save and load an object.
    pub fn ask(&mut self, obj: &ObjGraph, protocol: i64) -> std::io::Result<J> {
        self.next += 1;
        let req = json!({"id": self.next, "obj": obj.to_json(), "protocol": protocol});
        writeln!(self.stdin, "{req}")?;
        self.stdin.flush()?;
        self.read()
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// pdsave's own answer in the oracle's shape.
pub fn reference_answer(obj: &ObjGraph, protocol: i64, flavour: Flavour) -> J {
    let opts = SaveOptions {
        protocol,
        flavour,
        ..SaveOptions::default()
    };
    let g = match save(obj, &opts) {
        Err(e) => return json!({"save_error": e.class, "message": e.message}),
        Ok(Saved::Program) => return json!({"save_error": "Program"}),
        Ok(Saved::Pickle(g)) => g,
    };
    let bytes = match pickle::encode(
        &g,
        &EncodeOptions {
            protocol: protocol as u8,
            flavour: None,
        },
    ) {
        Ok(b) => b,
        Err(e) => return json!({"encode_error": e.to_string()}),
    };
    let mut views = serde_json::Map::new();
    for (name, lo) in LoadOptions::pickle_sets() {
        let v = match pickle::decode(&bytes) {
            Ok(g2) => match crate::view::view(&load_graph(&g2, lo)) {
                Ok(v) => v,
                Err(e) => json!({"unviewable": e.to_string()}),
            },
            Err(e) => json!({"unviewable": e.to_string()}),
        };
        views.insert(name.to_string(), v);
    }
    json!({"bytes": bytes, "views": views})
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Compares the reference answer with the oracle's. `None` when they agree.
pub fn compare(ours: &J, theirs: &J) -> Option<String> {
    if let Some(e) = theirs.get("adapter_error") {
        return Some(format!("oracle could not build the object: {e}"));
    }
    match (ours.get("save_error"), theirs.get("save_error")) {
        (Some(a), Some(b)) => {
            return if a == b {
                None
            } else {
                Some(format!("save raises {a} here, {b} in Paddle"))
            }
        }
        (Some(a), None) => return Some(format!("save raises {a} here, Paddle saves")),
        (None, Some(b)) => return Some(format!("Paddle's save raises {b}, pdsave saves")),
        (None, None) => {}
    }
    if let Some(e) = ours.get("encode_error") {
        return Some(format!("pdsave could not encode: {e}"));
    }
    let our_bytes: Vec<u8> = ours
        .get("bytes")
        .and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64().map(|v| v as u8))
                .collect()
        })
        .unwrap_or_default();
    let their_b64 = theirs.get("bytes").and_then(J::as_str).unwrap_or("");
    if b64(&our_bytes) != their_b64 {
        return Some(format!("bytes differ ({} bytes here)", our_bytes.len()));
    }
    for (name, _) in LoadOptions::pickle_sets() {
        let (a, b) = (&ours["views"][name], &theirs["views"][name]);
        if let Some(d) = crate::view::diff(a, b) {
            return Some(format!("view {name}: {d}"));
        }
    }
    None
}
