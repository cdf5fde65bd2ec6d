//! The CPython-exact pickler: writes a [`Graph`] as the bytes CPython 3's C pickler
//! (`_pickle.Pickler`) writes for the same objects, protocols 2-4.
//!
//! It follows the pickler's structure: every `save` starts at an opcode boundary where a
//! protocol-4 frame of 64 KiB or more is committed; payloads of 64 KiB or more are
//! written outside frames; every non-atomic object is memoized in the order it is saved;
//! batches of 1000 with the C pickler's quirks (exact dicts and sets close a full batch
//! with an empty `MARK … SETITEMS`/`ADDITEMS`, exact lists do not; OrderedDict items go
//! through the generic iterator path, whose last batch of one is a plain SETITEM).
//! Object identity that CPython shares implicitly is modelled for the objects the reduce
//! forms create, and for graph nodes that are such objects unless the file shows they were
//! not (`Graph::short_strings_distinct`): one-character latin-1 strings,
//! empty and one-byte bytes, module-name strings, the `'latin1'` constant of
//! protocol 2 bytes, the `'data'` constant of Paddle's static-tensor reduce, globals.
//!
//! Older writers (spec/pickle.md P-HIST) are followed as the graph's [`Dialect`] records
//! them: numpy <= 1.18's int dtype flags (unless a numpy flavour is asked for), Python 2's
//! `pickle.py` at protocol 2 (byte strings, longs, iterator batching), CPython 3.6's
//! protocol-4 frames that hold payloads of 64 KiB and more.

use std::collections::HashMap;
use std::io::Write;

mod objects;

use super::ops::Op;
use super::{Dialect, Graph, NodeId, PickleError, PyInt, Sym};
use crate::numpy::Flavour;

const FRAME_TARGET: usize = 64 * 1024;
const BATCH: usize = 1000;
/// Deepest nesting the encoder follows (CPython's default recursion limit is 1000).
pub const MAX_DEPTH: usize = 1000;

/// How to write a graph.
#[derive(Clone, Copy, Debug)]
pub struct EncodeOptions {
    /// Pickle protocol, 2 to 4 (what `paddle.save` accepts).
    pub protocol: u8,
    /// numpy module spelling for `_reconstruct`/`scalar`; `None` keeps each node's own.
    pub flavour: Option<Flavour>,
}

impl EncodeOptions {
    /// The protocol and numpy flavour found in a decoded file.
    pub fn like(g: &Graph) -> Self {
        EncodeOptions {
            protocol: g.protocol.clamp(2, 4),
            flavour: None,
        }
    }
}

/// Encodes to a new buffer, as CPython's C pickler would write the same objects.
///
/// ```
/// use pdsave::pickle::{decode, encode, EncodeOptions};
/// let bytes = std::fs::read("corpus/cases/y_p3_proto2_linear_state_dict/model.pdparams").unwrap();
/// let g = decode(&bytes).unwrap();
/// // Files Paddle wrote re-encode byte for byte.
/// assert_eq!(encode(&g, &EncodeOptions::like(&g)).unwrap(), bytes);
/// ```
pub fn encode(g: &Graph, opts: &EncodeOptions) -> Result<Vec<u8>, PickleError> {
    let mut v = Vec::new();
    encode_to(g, opts, &mut v)?;
    Ok(v)
}

/// Encodes to a writer, streaming: array payloads are written from the graph's buffers.
pub fn encode_to<W: Write>(g: &Graph, opts: &EncodeOptions, out: W) -> Result<(), PickleError> {
    if !(2..=4).contains(&opts.protocol) {
        return Err(PickleError::Encode(format!(
            "protocol {} is not one of 2, 3, 4",
            opts.protocol
        )));
    }
    // CPython raises TypeError at an unhashable key wherever it is; the encoder writes only
    // what the value holds, so one outside it would vanish and the output load (L-FILE).
    if let Some(u) = g.unhashable {
        if !g
            .reachable()
            .get(u.container as usize)
            .copied()
            .unwrap_or(false)
        {
            return Err(PickleError::Encode(format!(
                "the unhashable {} key or set item at byte {} is in an object the loaded value \
                 does not hold: re-encoding would drop it, and the output would load where \
                 this file raises TypeError",
                u.found, u.offset
            )));
        }
    }
    let mut e = Enc {
        g,
        proto: opts.protocol,
        flavour: opts.flavour,
        out,
        framing: false,
        buf: Vec::with_capacity(FRAME_TARGET * 2),
        memo: HashMap::new(),
        next: 0,
        py2: g.dialect.python2 && opts.protocol == 2,
        int_flags: g.dialect.dtype_int_flags && opts.flavour.is_none(),
        big_in_frames: g.dialect.large_in_frames && opts.protocol >= 4,
        dialect: &g.dialect,
    };
    e.buf.extend_from_slice(&[Op::PROTO as u8, opts.protocol]);
    if e.proto >= 4 {
        e.flush()?;
        e.framing = true;
    }
    e.save_node(g.root, 0)?;
    e.write(&[Op::STOP as u8])?;
    if e.framing {
        e.commit()?;
    }
    e.flush()?;
    Ok(())
}

/// Identity of a pickled object, for the memo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Node(NodeId),
    /// Empty (u32::MAX) or one-character latin-1 str: CPython singletons.
    Char(u32),
    /// Empty (256) or one-byte bytes: CPython singletons.
    Byte(u16),
    Global(&'static str, &'static str),
    /// A module-name string; `true` for builtins' functions (`eval.__module__` is not the
    /// same object as the `__module__` of builtin types such as `tuple`).
    Module(&'static str, bool),
    /// Constant strings from code objects (interned): `'latin1'`, `'data'`.
    Const(&'static str),
    /// Python 2: the empty (256) or a one-character byte string (singletons).
    Char8(u16),
}

/// A value to save that the graph does not hold as a node (parts of reduce forms).
enum V<'x> {
    Node(NodeId),
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'x str, Option<Key>),
    /// A fresh str of these bytes read as latin-1 (`str(b, 'latin1')`), written without
    /// building the str: protocol 2's bytes payloads can be gigabytes.
    Latin1(&'x [u8]),
    Bytes(&'x [u8], Option<Key>),
    /// A Python 2 `str` of these bytes (SHORT_BINSTRING / BINSTRING).
    Str8(&'x [u8], Option<Key>),
    /// A Python 2 `str` made fresh even with one character (`PyString_FromFormat`).
    Fresh8(&'x [u8]),
    Global(Sym),
    /// A fresh tuple.
    Tuple(Vec<V<'x>>),
    /// A fresh tuple of ints (shapes).
    Ints(&'x [u64]),
    /// A fresh list of nodes (protocol < 4 set/frozenset reduce argument).
    List(&'x [NodeId]),
    /// A fresh one-item dict (Paddle's `{'data': array}`).
    Dict1(Box<V<'x>>, Box<V<'x>>),
}

struct Enc<'g, 'a, W: Write> {
    g: &'g Graph<'a>,
    proto: u8,
    flavour: Option<Flavour>,
    out: W,
    framing: bool,
    /// The current frame (protocol 4) or an output buffer.
    buf: Vec<u8>,
    memo: HashMap<Key, u32>,
    next: u32,
    /// Python 2's `pickle.py` (protocol 2 of a [`Dialect::python2`] graph).
    py2: bool,
    /// numpy <= 1.18's `dtype(descr, 0, 1)`.
    int_flags: bool,
    /// CPython 3.6: large payloads stay inside frames.
    big_in_frames: bool,
    dialect: &'g Dialect,
}

fn str_key(s: &str, default: Option<Key>) -> Option<Key> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (None, _) => Some(Key::Char(u32::MAX)),
        (Some(c), None) if (c as u32) < 256 => Some(Key::Char(c as u32)),
        _ => default,
    }
}

/// Python 2 byte strings: CPython 2 caches the empty and one-character `str`.
fn str8_key(b: &[u8], default: Option<Key>) -> Option<Key> {
    match b {
        [] => Some(Key::Char8(256)),
        [c] => Some(Key::Char8(*c as u16)),
        _ => default,
    }
}

fn bytes_key(b: &[u8], default: Option<Key>) -> Option<Key> {
    match b {
        [] => Some(Key::Byte(256)),
        [c] => Some(Key::Byte(*c as u16)),
        _ => default,
    }
}

fn io(e: std::io::Error) -> PickleError {
    PickleError::Io(e.to_string())
}

impl<'g, 'a, W: Write> Enc<'g, 'a, W> {
    fn write(&mut self, b: &[u8]) -> Result<(), PickleError> {
        self.buf.extend_from_slice(b);
        if !self.framing && self.buf.len() >= FRAME_TARGET {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), PickleError> {
        self.out.write_all(&self.buf).map_err(io)?;
        self.buf.clear();
        Ok(())
    }

    /// Writes the current frame with its FRAME header (frames under 4 bytes get none).
    fn commit(&mut self) -> Result<(), PickleError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.buf.len() >= 4 {
            let mut h = [0u8; 9];
            h[0] = Op::FRAME as u8;
            h[1..].copy_from_slice(&(self.buf.len() as u64).to_le_bytes());
            self.out.write_all(&h).map_err(io)?;
        }
        self.flush()
    }

    /// The start of every `save`: a frame of 64 KiB or more is committed.
    fn boundary(&mut self) -> Result<(), PickleError> {
        if self.framing && self.buf.len() >= FRAME_TARGET {
            self.commit()?;
        }
        Ok(())
    }

    fn write_large(&mut self, header: &[u8], payload: &[u8]) -> Result<(), PickleError> {
        if self.big_in_frames {
            // CPython 3.6 wrote every payload into the current frame.
            self.buf.extend_from_slice(header);
            self.buf.extend_from_slice(payload);
            return Ok(());
        }
        if self.framing {
            self.commit()?;
        } else {
            self.flush()?;
        }
        self.out.write_all(header).map_err(io)?;
        self.out.write_all(payload).map_err(io)
    }

    fn memoize(&mut self, key: Option<Key>) -> Result<(), PickleError> {
        let idx = self.next;
        self.next += 1;
        if let Some(k) = key {
            self.memo.insert(k, idx);
        }
        if self.proto >= 4 {
            self.write(&[Op::MEMOIZE as u8])
        } else if idx < 256 {
            self.write(&[Op::BINPUT as u8, idx as u8])
        } else {
            let mut b = vec![Op::LONG_BINPUT as u8];
            b.extend_from_slice(&idx.to_le_bytes());
            self.write(&b)
        }
    }

    /// Writes a GET if the object is memoized already.
    fn get(&mut self, key: Option<Key>) -> Result<bool, PickleError> {
        let Some(idx) = key.and_then(|k| self.memo.get(&k).copied()) else {
            return Ok(false);
        };
        if idx < 256 {
            self.write(&[Op::BINGET as u8, idx as u8])?;
        } else {
            let mut b = vec![Op::LONG_BINGET as u8];
            b.extend_from_slice(&idx.to_le_bytes());
            self.write(&b)?;
        }
        Ok(true)
    }

    /// An int node: Python 2 wrote a `long` as LONG1 whatever its value, and an `int` that
    /// does not fit 32 bits as INT text.
    fn save_int_node(&mut self, id: NodeId, v: &PyInt) -> Result<(), PickleError> {
        if !self.py2 {
            return self.save_int(v);
        }
        let fits = matches!(v, PyInt::Small(x) if i32::try_from(*x).is_ok());
        if self.dialect.longs.contains(&id) {
            self.boundary()?;
            let enc = match v {
                PyInt::Small(0) => vec![],
                _ => v.to_big().to_signed_bytes_le(),
            };
            return self.write_long(&enc);
        }
        if !fits {
            self.boundary()?;
            return self.write(format!("I{v}\n").as_bytes());
        }
        self.save_int(v)
    }

    fn write_long(&mut self, enc: &[u8]) -> Result<(), PickleError> {
        if enc.len() < 256 {
            let mut b = vec![Op::LONG1 as u8, enc.len() as u8];
            b.extend_from_slice(enc);
            self.write(&b)
        } else {
            let mut b = vec![Op::LONG4 as u8];
            b.extend_from_slice(&(enc.len() as i32).to_le_bytes());
            b.extend_from_slice(enc);
            self.write(&b)
        }
    }

    /// A Python 2 `str` (bytes): SHORT_BINSTRING below 256 bytes, else BINSTRING.
    fn save_str8(&mut self, b: &[u8], key: Option<Key>) -> Result<(), PickleError> {
        self.boundary()?;
        if self.get(key)? {
            return Ok(());
        }
        if b.len() < 256 {
            self.write(&[Op::SHORT_BINSTRING as u8, b.len() as u8])?;
            self.write(b)?;
        } else {
            let n = i32::try_from(b.len())
                .map_err(|_| PickleError::Encode("Python 2 str over 2 GiB".into()))?;
            let mut h = vec![Op::BINSTRING as u8];
            h.extend_from_slice(&n.to_le_bytes());
            if b.len() >= FRAME_TARGET {
                self.flush()?;
                self.out.write_all(&h).map_err(io)?;
                self.out.write_all(b).map_err(io)?;
            } else {
                self.write(&h)?;
                self.write(b)?;
            }
        }
        self.memoize(key)
    }

    fn save_int(&mut self, v: &PyInt) -> Result<(), PickleError> {
        self.boundary()?;
        if let PyInt::Small(x) = *v {
            if (0..=0xff).contains(&x) {
                return self.write(&[Op::BININT1 as u8, x as u8]);
            }
            if (0..=0xffff).contains(&x) {
                let b = (x as u16).to_le_bytes();
                return self.write(&[Op::BININT2 as u8, b[0], b[1]]);
            }
            if (-0x8000_0000..=0x7fff_ffff).contains(&x) {
                let mut b = vec![Op::BININT as u8];
                b.extend_from_slice(&(x as i32).to_le_bytes());
                return self.write(&b);
            }
        }
        let enc = v.to_big().to_signed_bytes_le();
        self.write_long(&enc)
    }

    fn save_float(&mut self, v: f64) -> Result<(), PickleError> {
        self.boundary()?;
        let mut b = vec![Op::BINFLOAT as u8];
        b.extend_from_slice(&v.to_be_bytes());
        self.write(&b)
    }

    /// `save_str(str(b, 'latin1'))`, streaming the UTF-8 in chunks (each byte from 0x80 up
    /// is two bytes of UTF-8). Protocols 2 and 3 only (where bytes go through latin-1).
    fn save_latin1(&mut self, b: &[u8]) -> Result<(), PickleError> {
        let key = match b {
            [] => Some(Key::Char(u32::MAX)),
            [c] => Some(Key::Char(*c as u32)),
            _ => None,
        };
        self.boundary()?;
        if self.get(key)? {
            return Ok(());
        }
        let n = b.len() as u64 + b.iter().map(|&c| (c >> 7) as u64).sum::<u64>();
        let n = u32::try_from(n)
            .map_err(|_| PickleError::Encode("str over 4 GiB needs protocol 4".into()))?;
        let mut h = vec![Op::BINUNICODE as u8];
        h.extend_from_slice(&n.to_le_bytes());
        const CHUNK: usize = 1 << 16;
        let mut buf = vec![0u8; 2 * CHUNK.min(b.len())];
        let convert = |part: &[u8], buf: &mut [u8]| -> usize {
            let mut j = 0;
            for &c in part {
                // Branch-free: both bytes written, the second kept only for c >= 0x80.
                buf[j] = if c < 0x80 { c } else { 0xC0 | (c >> 6) };
                buf[j + 1] = 0x80 | (c & 0x3F);
                j += 1 + (c >> 7) as usize;
            }
            j
        };
        if n as usize >= FRAME_TARGET {
            if self.framing {
                self.commit()?;
            } else {
                self.flush()?;
            }
            self.out.write_all(&h).map_err(io)?;
            for part in b.chunks(CHUNK) {
                let len = convert(part, &mut buf);
                self.out.write_all(&buf[..len]).map_err(io)?;
            }
        } else {
            self.write(&h)?;
            let mut text = vec![0u8; 2 * b.len()];
            let len = convert(b, &mut text);
            text.truncate(len);
            self.write(&text)?;
        }
        self.memoize(key)
    }

    fn save_str(&mut self, s: &str, key: Option<Key>) -> Result<(), PickleError> {
        self.save_str_bytes(s.as_bytes(), key)
    }

    /// A str from its (`surrogatepass`) UTF-8 bytes.
    pub(super) fn save_str_bytes(&mut self, b: &[u8], key: Option<Key>) -> Result<(), PickleError> {
        self.boundary()?;
        if self.get(key)? {
            return Ok(());
        }
        let n = b.len();
        if n <= 0xff && self.proto >= 4 {
            self.write(&[Op::SHORT_BINUNICODE as u8, n as u8])?;
            self.write(b)?;
        } else if n > 0xffff_ffff && self.proto >= 4 {
            let mut h = vec![Op::BINUNICODE8 as u8];
            h.extend_from_slice(&(n as u64).to_le_bytes());
            self.write_large(&h, b)?;
        } else if n > 0xffff_ffff {
            return Err(PickleError::Encode(
                "str over 4 GiB needs protocol 4".into(),
            ));
        } else {
            let mut h = vec![Op::BINUNICODE as u8];
            h.extend_from_slice(&(n as u32).to_le_bytes());
            if n >= FRAME_TARGET {
                self.write_large(&h, b)?;
            } else {
                self.write(&h)?;
                self.write(b)?;
            }
        }
        self.memoize(key)
    }

    fn save_bytes(&mut self, b: &[u8], key: Option<Key>) -> Result<(), PickleError> {
        self.boundary()?;
        if self.get(key)? {
            return Ok(());
        }
        if self.proto < 3 {
            if b.is_empty() {
                self.save_reduce(Sym::Bytes, V::Tuple(vec![]), key, None)?;
            } else {
                let args = V::Tuple(vec![
                    V::Latin1(b),
                    V::Str("latin1", Some(Key::Const("latin1"))),
                ]);
                // (the text is fresh: `str(obj, 'latin1')`; one-char results are CPython singletons)
                self.save_reduce(Sym::CodecsEncode, args, key, None)?;
            }
            return Ok(());
        }
        let n = b.len();
        if n <= 0xff {
            self.write(&[Op::SHORT_BINBYTES as u8, n as u8])?;
            self.write(b)?;
        } else if n > 0xffff_ffff && self.proto >= 4 {
            let mut h = vec![Op::BINBYTES8 as u8];
            h.extend_from_slice(&(n as u64).to_le_bytes());
            self.write_large(&h, b)?;
        } else if n > 0xffff_ffff {
            return Err(PickleError::Encode(
                "bytes over 4 GiB need protocol 4".into(),
            ));
        } else {
            let mut h = vec![Op::BINBYTES as u8];
            h.extend_from_slice(&(n as u32).to_le_bytes());
            if n >= FRAME_TARGET {
                self.write_large(&h, b)?;
            } else {
                self.write(&h)?;
                self.write(b)?;
            }
        }
        self.memoize(key)
    }
}
