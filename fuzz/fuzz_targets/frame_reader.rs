//! Differential: pdsave's opcode reader (`pickle::ops::Reader`, strict framing) against a
//! model, written here from `pickle.py` (CPython 3.11), of its `_Unframer` and of the
//! argument each opcode reads (`pickletools`' opcode table). Both split the same bytes into
//! the same instructions with the same arguments, and stop at the same point for the same
//! reason: a frame violation ("pickle exhausted before end of frame", "beginning of a new
//! frame before end of current frame"), an unknown opcode, or input that ends (the model
//! takes a short read from the file as the C unpickler does, "pickle data was truncated").
#![no_main]

use libfuzzer_sys::fuzz_target;
use pdsave::pickle::ops::{Arg, Framing, Op, Reader};
use pdsave::pickle::PickleError;

/// How an instruction sequence ends.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum End {
    Stop,
    /// `_Unframer`: a read that starts in a frame and does not end in it.
    Exhausted,
    /// `load_frame`: a FRAME while the current frame has bytes left.
    NewFrame,
    Unknown,
    /// The file ends (EOF before an opcode, a short read, a line without `\n`).
    Eof,
    /// A bad argument (negative length, GET/PUT not an int, frame > sys.maxsize).
    BadArg,
}

/// One instruction: offset, opcode byte, the argument's bytes (lines without `\n`; for
/// GLOBAL/INST both lines joined by `\n`; fixed-width integers as little-endian bytes).
type Ins = (usize, u8, Vec<u8>);

/// `pickle.py`'s `_Unframer` over `data`, with positions kept as file offsets (a frame's
/// bytes are `data[start..end]`, what `file_read(frame_size)` returned).
struct Unframer<'a> {
    data: &'a [u8],
    /// The file's position.
    file: usize,
    /// The current frame: (position in it, its end), both file offsets.
    frame: Option<(usize, usize)>,
    /// The current frame claimed more bytes than the file holds.
    cut: bool,
}

impl Unframer<'_> {
    fn pos(&self) -> usize {
        self.frame.map(|f| f.0).unwrap_or(self.file)
    }
    fn file_read(&mut self, n: usize) -> Result<Vec<u8>, End> {
        let end = self.file.checked_add(n).ok_or(End::Eof)?;
        if end > self.data.len() {
            return Err(End::Eof);
        }
        let v = self.data[self.file..end].to_vec();
        self.file = end;
        Ok(v)
    }
    fn read(&mut self, n: usize) -> Result<Vec<u8>, End> {
        if let Some((p, e)) = self.frame {
            let avail = e - p;
            if avail == 0 && n != 0 {
                self.frame = None;
                return self.file_read(n);
            }
            if avail < n {
                return Err(if self.cut { End::Eof } else { End::Exhausted });
            }
            self.frame = Some((p + n, e));
            return Ok(self.data[p..p + n].to_vec());
        }
        self.file_read(n)
    }
    fn readline(&mut self) -> Result<Vec<u8>, End> {
        if let Some((p, e)) = self.frame {
            if p == e {
                self.frame = None;
            } else {
                return match self.data[p..e].iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.frame = Some((p + i + 1, e));
                        Ok(self.data[p..p + i].to_vec())
                    }
                    None if self.cut => Err(End::Eof),
                    None => Err(End::Exhausted),
                };
            }
        }
        match self.data[self.file..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let v = self.data[self.file..self.file + i].to_vec();
                self.file += i + 1;
                Ok(v)
            }
            None => Err(End::Eof),
        }
    }
    fn load_frame(&mut self, size: u64) -> Result<(), End> {
        if size > i64::MAX as u64 {
            return Err(End::BadArg);
        }
        if let Some((p, e)) = self.frame {
            if p != e {
                return Err(End::NewFrame);
            }
        }
        // io.BytesIO(self.file_read(frame_size)): whatever the file still has.
        let want = self.file.saturating_add(size as usize);
        let end = want.min(self.data.len());
        self.cut = want > self.data.len();
        self.frame = Some((self.file, end));
        self.file = end;
        Ok(())
    }
}

/// The argument kinds of pickletools' opcode table.
enum A {
    None,
    Fixed(usize),
    /// A length prefix of n bytes (signed: a negative length is an error), then the data.
    Counted(usize, bool),
    Line,
    Lines2,
    /// A decimal line parsed as a Python int (GET, PUT).
    IntLine,
    Frame,
}

fn arg_kind(b: u8) -> Option<A> {
    Some(match b {
        b'(' | b'.' | b'0' | b'1' | b'2' | b'N' | b'Q' | b'R' | b'a' | b'b' | b'd' | b'}'
        | b'e' | b'l' | b']' | b'o' | b's' | b't' | b')' | b'u' | 0x81 | 0x85 | 0x86
        | 0x87 | 0x88 | 0x89 | 0x8f | 0x90 | 0x91 | 0x92 | 0x93 | 0x94 | 0x97 | 0x98 => A::None,
        b'J' | b'j' | b'r' | 0x84 => A::Fixed(4),
        b'K' | b'h' | b'q' | 0x80 | 0x82 => A::Fixed(1),
        b'M' | 0x83 => A::Fixed(2),
        b'G' => A::Fixed(8),
        0x95 => A::Frame,
        b'g' | b'p' => A::IntLine,
        b'I' | b'L' | b'F' | b'S' | b'V' | b'P' => A::Line,
        b'c' | b'i' => A::Lines2,
        b'U' | b'C' | 0x8c | 0x8a => A::Counted(1, false),
        b'T' | 0x8b => A::Counted(4, true),
        b'B' | b'X' => A::Counted(4, false),
        0x8d | 0x8e | 0x96 => A::Counted(8, false),
        _ => return None,
    })
}

/// Python's `int(bytes)` for GET/PUT: whitespace around, a sign, ASCII digits with single
/// underscores between them.
fn py_int(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
    let (neg, d) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || d.starts_with('_') || d.ends_with('_') || d.contains("__") {
        return None;
    }
    if !d.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
        return None;
    }
    let v: i64 = d.replace('_', "").parse().ok()?;
    Some(if neg { -v } else { v })
}

fn model(data: &[u8]) -> (Vec<Ins>, End) {
    let mut u = Unframer { data, file: 0, frame: None, cut: false };
    let mut out = Vec::new();
    loop {
        let at = u.pos();
        let key = match u.read(1) {
            Ok(k) => k,
            Err(e) => return (out, e),
        };
        let b = key[0];
        let Some(kind) = arg_kind(b) else {
            return (out, End::Unknown);
        };
        let arg = match kind {
            A::None => Ok(vec![]),
            A::Fixed(n) => u.read(n),
            A::Frame => u.read(8).and_then(|v| {
                let size = u64::from_le_bytes(v.clone().try_into().unwrap());
                u.load_frame(size).map(|_| v)
            }),
            A::Line => u.readline(),
            A::IntLine => u.readline().and_then(|l| match py_int(&l) {
                Some(v) => Ok(v.to_le_bytes().to_vec()),
                None => Err(End::BadArg),
            }),
            A::Lines2 => u.readline().and_then(|m| {
                let n = u.readline()?;
                Ok([m, b"\n".to_vec(), n].concat())
            }),
            A::Counted(w, signed) => u.read(w).and_then(|l| {
                let mut x = [0u8; 8];
                x[..w].copy_from_slice(&l);
                let n = u64::from_le_bytes(x);
                if (signed && n >> 31 == 1) || n > i64::MAX as u64 {
                    return Err(End::BadArg);
                }
                u.read(n as usize)
            }),
        };
        match arg {
            Ok(a) => out.push((at, b, a)),
            Err(e) => return (out, e),
        }
        if b == b'.' {
            return (out, End::Stop);
        }
    }
}

fn mine(data: &[u8]) -> (Vec<Ins>, End) {
    let mut r = Reader::with_framing(data, Framing::Strict);
    let mut out = Vec::new();
    loop {
        let i = match r.next_instr() {
            None => return (out, End::Eof),
            Some(Ok(i)) => i,
            Some(Err(e)) => {
                let end = match e {
                    PickleError::Frame { reason, .. } if reason.starts_with("opens a new frame") => {
                        End::NewFrame
                    }
                    PickleError::Frame { .. } => End::Exhausted,
                    PickleError::UnknownOpcode { .. } => End::Unknown,
                    PickleError::Truncated { .. } => End::Eof,
                    PickleError::BadArgument { .. } => End::BadArg,
                    other => panic!("reader error {other:?}"),
                };
                return (out, end);
            }
        };
        let arg = match (i.op, i.arg) {
            (_, Arg::None) => vec![],
            (Op::GET | Op::PUT, Arg::Int(v)) => v.to_le_bytes().to_vec(),
            (Op::FRAME, Arg::Int(_)) => data[i.offset + 1..i.offset + 9].to_vec(),
            (op, Arg::Int(v)) => {
                let w = match op {
                    Op::BININT | Op::LONG_BINGET | Op::LONG_BINPUT | Op::EXT4 => 4,
                    Op::BININT2 | Op::EXT2 => 2,
                    _ => 1,
                };
                (v as u64).to_le_bytes()[..w].to_vec()
            }
            (_, Arg::Float(f)) => f.to_be_bytes().to_vec(),
            (_, Arg::Bytes(b)) => b.to_vec(),
            (_, Arg::Global(m, n)) => [m, b"\n", n].concat(),
        };
        out.push((i.offset, i.op as u8, arg));
        if i.op == Op::STOP {
            return (out, End::Stop);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (want, want_end) = model(data);
    let (got, got_end) = mine(data);
    assert_eq!(got, want, "instructions differ");
    assert_eq!(got_end, want_end, "the reading ends differently");
});
