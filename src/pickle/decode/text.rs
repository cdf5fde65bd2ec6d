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

/// Python's `raw-unicode-escape` decoding (the UNICODE opcode).
pub(crate) fn raw_unicode_escape(s: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i] as char);
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] == b'\\' {
            out.push('\\');
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
        out.push(char::from_u32(v)?);
        i += n;
    }
    Some(out)
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
        assert_eq!(
            raw_unicode_escape(br"\u00fc\\u0041").unwrap(),
            "\u{fc}\\\\u0041"
        );
        assert_eq!(raw_unicode_escape(b"\xe9").unwrap(), "\u{e9}");
    }
}
