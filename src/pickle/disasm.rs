//! A `pickletools.dis`-like listing: offset, opcode, argument and memo slot per line.

use std::fmt::Write;

use super::ops::{Arg, Op, Reader};
use super::PickleError;

/// Longest argument text shown; longer payloads are summarised.
const SHOW: usize = 48;

fn show_bytes(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b.iter().take(SHOW) {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    if b.len() > SHOW {
        let _ = write!(s, "...({} bytes)", b.len());
    }
    s
}

fn show_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(t) if t.chars().count() <= SHOW => format!("{t:?}"),
        Ok(t) => format!(
            "{:?}...({} bytes)",
            t.chars().take(SHOW).collect::<String>(),
            b.len()
        ),
        Err(_) => format!("b'{}'", show_bytes(b)),
    }
}

/// Lists the opcodes of a pickle up to STOP. On a malformed stream the listing ends with
/// the error, so a partial listing is still useful.
pub fn disasm(data: &[u8]) -> (String, Option<PickleError>) {
    let mut out = String::new();
    let mut r = Reader::new(data);
    let mut memo_len: u64 = 0;
    let mut marks: Vec<usize> = Vec::new();
    while let Some(instr) = r.next_instr() {
        let i = match instr {
            Ok(i) => i,
            Err(e) => return (out, Some(e)),
        };
        let indent = "    ".repeat(marks.len().min(16));
        let arg = match (i.op, i.arg) {
            (Op::MEMOIZE, _) => {
                memo_len += 1;
                format!("(as {})", memo_len - 1)
            }
            (Op::BINPUT | Op::LONG_BINPUT | Op::PUT, Arg::Int(v)) => {
                memo_len += 1;
                v.to_string()
            }
            (_, Arg::None) => String::new(),
            (_, Arg::Int(v)) => v.to_string(),
            (_, Arg::Float(v)) => format!("{v:?}"),
            (
                Op::BINUNICODE | Op::SHORT_BINUNICODE | Op::BINUNICODE8 | Op::UNICODE,
                Arg::Bytes(b),
            ) => show_text(b),
            (Op::LONG1 | Op::LONG4, Arg::Bytes(b)) => {
                if b.is_empty() {
                    "0".into()
                } else if b.len() > 1024 {
                    // Decimal printing is quadratic: a 2^8192-sized int is summarised.
                    format!("({}-byte integer)", b.len())
                } else {
                    num_bigint::BigInt::from_signed_bytes_le(b).to_string()
                }
            }
            (_, Arg::Bytes(b)) => format!("b'{}'", show_bytes(b)),
            (_, Arg::Global(m, n)) => format!(
                "'{} {}'",
                String::from_utf8_lossy(m),
                String::from_utf8_lossy(n)
            ),
        };
        match i.op {
            Op::MARK => marks.push(i.offset),
            Op::TUPLE
            | Op::LIST
            | Op::DICT
            | Op::APPENDS
            | Op::SETITEMS
            | Op::ADDITEMS
            | Op::FROZENSET
            | Op::POP_MARK => {
                marks.pop();
            }
            _ => {}
        }
        let indent = if matches!(i.op, Op::MARK) {
            indent
        } else {
            "    ".repeat(marks.len().min(16))
        };
        let line = format!("{:>8}: {}{:<16} {}", i.offset, indent, i.op.name(), arg);
        let _ = writeln!(out, "{}", line.trim_end());
        if i.op == Op::STOP {
            return (out, None);
        }
    }
    let e = PickleError::NoStop { offset: data.len() };
    (out, Some(e))
}
