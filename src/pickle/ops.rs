//! Pickle opcodes (protocols 0-5) and an explicit, zero-copy opcode reader.
//!
//! The reader only splits the byte stream into `(offset, opcode, argument)`; it gives
//! no meaning to them. Both the VM ([`super::decode`]) and the disassembler use it.

use super::PickleError;

macro_rules! opcodes {
    ($($name:ident = $byte:expr,)*) => {
        /// A pickle opcode byte.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Op { $($name = $byte,)* }

        impl Op {
            /// The opcode for a byte, if the byte is one.
            pub fn from_byte(b: u8) -> Option<Op> {
                match b { $($byte => Some(Op::$name),)* _ => None }
            }
            /// The name pickletools gives the opcode.
            pub fn name(self) -> &'static str {
                match self { $(Op::$name => stringify!($name),)* }
            }
        }
    };
}

opcodes! {
    MARK = b'(', STOP = b'.', POP = b'0', POP_MARK = b'1', DUP = b'2', FLOAT = b'F',
    INT = b'I', BININT = b'J', BININT1 = b'K', LONG = b'L', BININT2 = b'M', NONE = b'N',
    PERSID = b'P', BINPERSID = b'Q', REDUCE = b'R', STRING = b'S', BINSTRING = b'T',
    SHORT_BINSTRING = b'U', UNICODE = b'V', BINUNICODE = b'X', APPEND = b'a', BUILD = b'b',
    GLOBAL = b'c', DICT = b'd', EMPTY_DICT = b'}', APPENDS = b'e', GET = b'g', BINGET = b'h',
    INST = b'i', LONG_BINGET = b'j', LIST = b'l', EMPTY_LIST = b']', OBJ = b'o', PUT = b'p',
    BINPUT = b'q', LONG_BINPUT = b'r', SETITEM = b's', TUPLE = b't', EMPTY_TUPLE = b')',
    SETITEMS = b'u', BINFLOAT = b'G',
    PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85,
    TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
    BINBYTES = b'B', SHORT_BINBYTES = b'C',
    SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
    ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94,
    FRAME = 0x95,
    BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98,
}

/// The argument an opcode carries in the stream, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arg<'a> {
    None,
    /// A fixed-width or text integer (BININT*, PROTO, memo indices, FRAME length, INT/GET/PUT text).
    Int(i64),
    /// The raw payload of a length-prefixed or newline-terminated argument.
    Bytes(&'a [u8]),
    /// GLOBAL/INST: module and name lines.
    Global(&'a [u8], &'a [u8]),
    /// BINFLOAT.
    Float(f64),
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug)]
pub struct Instr<'a> {
    pub offset: usize,
    pub op: Op,
    pub arg: Arg<'a>,
}

/// How a [`Reader`] treats FRAME opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Exactly as `pickle.py`'s `_Unframer` (and CPython's C unpickler since gh-154848): an
    /// opcode or argument that starts inside a frame must end inside it, and a FRAME may only
    /// open when the current frame is used up. Anything else is [`PickleError::Frame`].
    Strict,
    /// FRAME is advisory, read straight through (`pickletools.genops`, and the C unpickler
    /// of CPython up to 3.13 that `paddle.load` uses): what a lenient unpickler executes.
    Advisory,
    /// CPython 3.11's C unpickler on a `BytesIO` (what `paddle.load` does with a buffer): an
    /// n-byte argument is read straight through, but a line argument (GLOBAL, INST,
    /// UNICODE, …) that starts inside a frame and does not end in it is read again from
    /// the frame's end, dropping the part inside the frame (`c` `foo` | `os\nsystem\n`
    /// imports `os.system`, where a sequential reader sees `fooos.system`).
    LineAtFrameEnd,
}

/// The frame being read (strict framing): where it was opened and where it ends.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Offset of the FRAME opcode.
    at: usize,
    /// One past its last byte (clamped to the input, as `_Unframer` reads what is there).
    end: usize,
    /// The frame claimed more than the input holds: a read past `end` is the input cut
    /// short (the C unpickler's "pickle data was truncated"), not a frame violation.
    cut: bool,
}

/// Python's `int(line)` in base 10, as GET and PUT read their argument: ASCII whitespace
/// around, a sign, digits with single underscores between them (PEP 515); `None` where
/// Python raises or the value does not fit in an i64 (no memo index that large exists).
pub fn py_int(line: &[u8]) -> Option<i64> {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c');
    let start = line.iter().position(|c| !ws(c))?;
    let end = line.iter().rposition(|c| !ws(c))? + 1;
    let s = &line[start..end];
    let (neg, d) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let ok_digits = !d.is_empty()
        && d.first().is_some_and(u8::is_ascii_digit)
        && d.last().is_some_and(u8::is_ascii_digit)
        && d.iter().all(|c| c.is_ascii_digit() || *c == b'_')
        && !d.windows(2).any(|w| w == b"__");
    if !ok_digits {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d.iter().filter(|c| c.is_ascii_digit()) {
        v = v.checked_mul(10)?.checked_sub((c - b'0') as i64)?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// Splits a pickle into instructions without interpreting them.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    framing: Framing,
    frame: Option<Frame>,
    /// Offset of the instruction being read (for errors).
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader with strict framing (as `pickle.py`).
    pub fn new(data: &'a [u8]) -> Self {
        Self::with_framing(data, Framing::Strict)
    }

    pub fn with_framing(data: &'a [u8], framing: Framing) -> Self {
        Self::at(data, 0, framing)
    }

    /// A reader starting at offset `pos` of `data` (offsets stay offsets in `data`).
    pub fn at(data: &'a [u8], pos: usize, framing: Framing) -> Self {
        Reader {
            data,
            pos: pos.min(data.len()),
            framing,
            frame: None,
            at: 0,
        }
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Where the current frame ends, if one is open and not used up.
    pub fn frame_end(&self) -> Option<usize> {
        self.frame.map(|f| f.end).filter(|&e| e > self.pos)
    }

    /// Before reading `n` bytes (`None`: a line) at `self.pos`: `_Unframer.read` /
    /// `readline`. A used-up frame is left (reading goes on from the file); a read that
    /// starts inside a frame and does not end in it is refused.
    fn unframe(&mut self, n: Option<u64>, op: &'static str) -> Result<(), PickleError> {
        let Some(f) = self.frame else { return Ok(()) };
        let left = f.end.saturating_sub(self.pos);
        if self.framing == Framing::LineAtFrameEnd {
            if left == 0 {
                self.frame = None;
            } else if n.is_none() && !self.data[self.pos..f.end].contains(&b'\n') {
                self.pos = f.end;
                self.frame = None;
            }
            return Ok(());
        }
        if left == 0 {
            if n != Some(0) {
                self.frame = None;
            }
            return Ok(());
        }
        let fits = match n {
            Some(n) => n <= left as u64,
            None => self.data[self.pos..f.end].contains(&b'\n'),
        };
        if fits {
            return Ok(());
        }
        if f.cut {
            let available = (f.end - self.pos) as u64;
            return Err(PickleError::Truncated {
                offset: self.at,
                opcode: op,
                needed: n.unwrap_or(available + 1),
                available,
            });
        }
        Err(PickleError::Frame {
            offset: self.at,
            opcode: op,
            frame: f.at,
            frame_end: f.end,
            reason: "runs past the end of its frame",
        })
    }

    fn take(&mut self, n: usize, op: Op, at: usize) -> Result<&'a [u8], PickleError> {
        self.unframe(Some(n as u64), op.name())?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(PickleError::Truncated {
                offset: at,
                opcode: op.name(),
                needed: n as u64,
                available: (self.data.len() - self.pos) as u64,
            }),
        }
    }

    fn take_u64_len(&mut self, n: u64, op: Op, at: usize) -> Result<&'a [u8], PickleError> {
        self.unframe(Some(n), op.name())?;
        let avail = (self.data.len() - self.pos) as u64;
        if n > avail {
            return Err(PickleError::Truncated {
                offset: at,
                opcode: op.name(),
                needed: n,
                available: avail,
            });
        }
        self.take(n as usize, op, at)
    }

    fn line(&mut self, op: Op, at: usize) -> Result<&'a [u8], PickleError> {
        self.unframe(None, op.name())?;
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(PickleError::Truncated {
                offset: at,
                opcode: op.name(),
                needed: rest.len() as u64 + 1,
                available: rest.len() as u64,
            }),
        }
    }

    fn le(&mut self, n: usize, op: Op, at: usize) -> Result<u64, PickleError> {
        let b = self.take(n, op, at)?;
        let mut v = 0u64;
        for (i, &x) in b.iter().enumerate() {
            v |= (x as u64) << (8 * i);
        }
        Ok(v)
    }

    fn text_int(line: &[u8], op: Op, at: usize) -> Result<i64, PickleError> {
        py_int(line).ok_or(PickleError::BadArgument {
            offset: at,
            opcode: op.name(),
            reason: "not a decimal integer",
        })
    }

    /// `_Unframer.load_frame`: the current frame must be used up; the new one holds what
    /// the input has of its `n` bytes.
    fn open_frame(&mut self, n: u64, at: usize) -> Result<(), PickleError> {
        if n > i64::MAX as u64 {
            return Err(PickleError::BadArgument {
                offset: at,
                opcode: "FRAME",
                reason: "frame size > sys.maxsize",
            });
        }
        if let Some(f) = self.frame.filter(|f| f.end > self.pos) {
            return Err(PickleError::Frame {
                offset: at,
                opcode: "FRAME",
                frame: f.at,
                frame_end: f.end,
                reason: "opens a new frame before the end of the current one",
            });
        }
        let end = self.pos.saturating_add(n.min(usize::MAX as u64) as usize);
        self.frame = Some(Frame {
            at,
            end: end.min(self.data.len()),
            cut: end > self.data.len(),
        });
        Ok(())
    }

    /// The next instruction, or `None` at the end of the input.
    pub fn next_instr(&mut self) -> Option<Result<Instr<'a>, PickleError>> {
        if self.pos >= self.data.len() {
            return None;
        }
        Some(self.read_one())
    }

    fn read_one(&mut self) -> Result<Instr<'a>, PickleError> {
        let at = self.pos;
        self.at = at;
        self.unframe(Some(1), "an opcode")?;
        let byte = self.data[at];
        let op = Op::from_byte(byte).ok_or(PickleError::UnknownOpcode { offset: at, byte })?;
        self.pos += 1;
        use Op::*;
        let arg = match op {
            MARK | STOP | POP | POP_MARK | DUP | NONE | REDUCE | APPEND | BUILD | DICT
            | EMPTY_DICT | APPENDS | LIST | EMPTY_LIST | OBJ | SETITEM | TUPLE | EMPTY_TUPLE
            | SETITEMS | BINPERSID | NEWOBJ | TUPLE1 | TUPLE2 | TUPLE3 | NEWTRUE | NEWFALSE
            | EMPTY_SET | ADDITEMS | FROZENSET | NEWOBJ_EX | STACK_GLOBAL | MEMOIZE
            | NEXT_BUFFER | READONLY_BUFFER => Arg::None,
            BININT => Arg::Int(self.le(4, op, at)? as u32 as i32 as i64),
            BININT1 | BINGET | BINPUT | PROTO | EXT1 => Arg::Int(self.le(1, op, at)? as i64),
            BININT2 | EXT2 => Arg::Int(self.le(2, op, at)? as i64),
            LONG_BINGET | LONG_BINPUT | EXT4 => Arg::Int(self.le(4, op, at)? as i64),
            FRAME => {
                let n = self.le(8, op, at)?;
                match self.framing {
                    Framing::Strict => self.open_frame(n, at)?,
                    Framing::LineAtFrameEnd => {
                        let end = self.pos.saturating_add(n.min(usize::MAX as u64) as usize);
                        self.frame = Some(Frame {
                            at,
                            end: end.min(self.data.len()),
                            cut: false,
                        });
                    }
                    Framing::Advisory => {}
                }
                Arg::Int(n.min(i64::MAX as u64) as i64)
            }
            BINFLOAT => {
                let b = self.take(8, op, at)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Arg::Float(f64::from_be_bytes(a))
            }
            GET | PUT => {
                let l = self.line(op, at)?;
                Arg::Int(Self::text_int(l, op, at)?)
            }
            INT | LONG | FLOAT | STRING | UNICODE | PERSID => Arg::Bytes(self.line(op, at)?),
            GLOBAL | INST => {
                let m = self.line(op, at)?;
                let n = self.line(op, at)?;
                Arg::Global(m, n)
            }
            SHORT_BINSTRING | SHORT_BINBYTES | SHORT_BINUNICODE | LONG1 => {
                let n = self.le(1, op, at)?;
                Arg::Bytes(self.take_u64_len(n, op, at)?)
            }
            BINSTRING => {
                let n = self.le(4, op, at)? as u32 as i32;
                if n < 0 {
                    return Err(PickleError::BadArgument {
                        offset: at,
                        opcode: op.name(),
                        reason: "negative length",
                    });
                }
                Arg::Bytes(self.take_u64_len(n as u64, op, at)?)
            }
            BINBYTES | BINUNICODE => {
                let n = self.le(4, op, at)?;
                Arg::Bytes(self.take_u64_len(n, op, at)?)
            }
            LONG4 => {
                let n = self.le(4, op, at)? as u32 as i32;
                if n < 0 {
                    return Err(PickleError::BadArgument {
                        offset: at,
                        opcode: op.name(),
                        reason: "negative length",
                    });
                }
                Arg::Bytes(self.take_u64_len(n as u64, op, at)?)
            }
            BINUNICODE8 | BINBYTES8 | BYTEARRAY8 => {
                let n = self.le(8, op, at)?;
                if n > i64::MAX as u64 {
                    return Err(PickleError::BadArgument {
                        offset: at,
                        opcode: op.name(),
                        reason: "length exceeds sys.maxsize",
                    });
                }
                Arg::Bytes(self.take_u64_len(n, op, at)?)
            }
        };
        Ok(Instr {
            offset: at,
            op,
            arg,
        })
    }
}
