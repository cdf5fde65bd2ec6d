//! The text codecs of the string opcodes: latin-1 (protocol 2's bytes as text), UTF-8
//! (validated with SIMD), `escape_decode` (STRING) and `raw-unicode-escape` (UNICODE).

pub(super) fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Bytes of a latin-1 str (each char < 256), as numpy and `_codecs.encode(s, 'latin1')` do.
/// Protocol 2 stores array payloads this way (gigabytes), so this is one branch-free pass
/// over the UTF-8: a char below 256 is one ASCII byte or a 0xC2/0xC3 lead byte followed
/// by a continuation byte; any byte from 0xC4 up starts a char outside latin-1.
pub(super) fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.iter().fold(0u8, |acc, &c| acc | (c >= 0xC4) as u8) != 0 {
        return None;
    }
    let mut out = vec![0u8; b.len()];
    let mut j = 0;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied().unwrap_or(0);
        let two = ((c & 0x03) << 6) | (next & 0x3F);
        // A continuation byte writes a value that the next lead or ASCII byte overwrites
        // (j does not move past it); `out` has room since j <= i.
        out[j] = if c < 0x80 { c } else { two };
        j += ((c & 0xC0) != 0x80) as usize;
    }
    out.truncate(j);
    Some(out)
}

/// UTF-8 validation of str payloads: SIMD (simdutf8), since protocol 2 array payloads are
/// multi-gigabyte strs full of non-ASCII characters, where the scalar check crawls.
pub(super) fn from_utf8(b: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(b).ok()
}

/// Python's `codecs.escape_decode` (the STRING opcode's quoting).
pub(crate) fn escape_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *s.get(i)?;
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let h = s.get(i..i + 2)?;
                let v = u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// A decoded str: valid UTF-8, or code points with lone surrogates kept as
/// `surrogatepass` UTF-8 (each surrogate three bytes `ED A0..BF 80..BF`), which Rust's
/// `str` cannot hold.
pub(crate) enum PyText {
    Str(String),
    Surrogates(Vec<u8>),
}

impl PyText {
    /// The text with each lone surrogate as U+FFFD (for messages and names).
    pub(crate) fn lossy(&self) -> String {
        match self {
            PyText::Str(s) => s.clone(),
            PyText::Surrogates(b) => lossy(b),
        }
    }
}

/// Whether `b` is `surrogatepass` UTF-8 (CPython's decoding of BINUNICODE & co): UTF-8 in
/// which the encodings of U+D800..U+DFFF are allowed, each on its own.
pub fn is_surrogatepass(b: &[u8]) -> bool {
    let mut rest = b;
    loop {
        match std::str::from_utf8(rest) {
            Ok(_) => return true,
            Err(e) => {
                let at = e.valid_up_to();
                match rest.get(at..at + 3) {
                    Some([0xED, 0xA0..=0xBF, 0x80..=0xBF]) => rest = &rest[at + 3..],
                    _ => return false,
                }
            }
        }
    }
}

/// `surrogatepass` UTF-8 as text, each lone surrogate replaced by U+FFFD.
pub(crate) fn lossy(b: &[u8]) -> String {
    surrogate_runs(b)
        .map(|r| match r {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => std::borrow::Cow::Borrowed("\u{fffd}"),
        })
        .collect()
}

/// Splits `surrogatepass` UTF-8 into runs of valid text and lone surrogates (code points).
pub fn surrogate_runs(b: &[u8]) -> impl Iterator<Item = Result<&str, u16>> {
    let mut rest = b;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let at = match std::str::from_utf8(rest) {
            Ok(s) => {
                rest = &[];
                return Some(Ok(s));
            }
            Err(e) => e.valid_up_to(),
        };
        if at > 0 {
            let s = std::str::from_utf8(&rest[..at]).unwrap_or_default();
            rest = &rest[at..];
            return Some(Ok(s));
        }
        let cp = match rest {
            [a, b, c, ..] => {
                (((*a as u16) & 0x0F) << 12) | (((*b as u16) & 0x3F) << 6) | ((*c as u16) & 0x3F)
            }
            _ => 0xFFFD,
        };
        rest = rest.get(3..).unwrap_or(&[]);
        Some(Err(cp))
    })
}

fn push_cp(out: &mut Vec<u8>, cp: u32) {
    let mut buf = [0u8; 4];
    match char::from_u32(cp) {
        Some(c) => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        // A surrogate: its three-byte form, as `surrogatepass` encodes it.
        None => out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

/// Python's `raw-unicode-escape` decoding (the UNICODE opcode); `\uD800` gives a lone
/// surrogate, as in CPython.
pub(crate) fn raw_unicode_escape(s: &[u8]) -> Option<PyText> {
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut surrogates = false;
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            push_cp(&mut out, s[i] as u32);
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] == b'\\' {
            out.push(b'\\');
            i += 1;
        }
        if (i - start) % 2 == 0 || i >= s.len() || (s[i] != b'u' && s[i] != b'U') {
            continue;
        }
        out.pop();
        let n = if s[i] == b'u' { 4 } else { 8 };
        i += 1;
        let h = s.get(i..i + n)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        if v > 0x10FFFF {
            return None;
        }
        surrogates |= (0xD800..0xE000).contains(&v);
        push_cp(&mut out, v);
        i += n;
    }
    Some(if surrogates {
        PyText::Surrogates(out)
    } else {
        PyText::Str(String::from_utf8(out).ok()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_decode_matches_python() {
        assert_eq!(escape_decode(br"a\x41\101\n\\\q").unwrap(), b"aAA\n\\\\q");
        assert!(escape_decode(br"\x4").is_none());
    }

    #[test]
    fn raw_unicode_escape_matches_python() {
        let s = |b: &[u8]| match raw_unicode_escape(b) {
            Some(PyText::Str(s)) => s,
            _ => panic!(),
        };
        assert_eq!(s(br"\u00fc\\u0041"), "\u{fc}\\\\u0041");
        assert_eq!(s(b"\xe9"), "\u{e9}");
        // CPython: b'w\\ud800'.decode('raw_unicode_escape') == 'w\ud800'.
        assert!(matches!(raw_unicode_escape(br"w\ud800"),
            Some(PyText::Surrogates(b)) if b == b"w\xed\xa0\x80"));
    }

    #[test]
    fn surrogatepass_accepts_lone_surrogates_only() {
        assert!(is_surrogatepass(b"w\xed\xa0\x80"));
        assert!(is_surrogatepass(b"\xed\xb0\x80\xed\xa0\x80x"));
        assert!(!is_surrogatepass(b"\xff"));
        assert!(!is_surrogatepass(b"\xed\xa0"));
        assert_eq!(lossy(b"w\xed\xa0\x80!"), "w\u{fffd}!");
        let runs: Vec<_> = surrogate_runs(b"w\xed\xa0\x80!").collect();
        assert_eq!(runs, vec![Ok("w"), Err(0xD800), Ok("!")]);
    }
}
