//! Vocab records: what Paddle's `save_combine` writes for a `VOCAB` variable (a tokenizer's
//! `unordered_map<wstring, int32>`, `phi::StringMapToStream`): a `u64` count, then per
//! entry a `u64` byte length, the token's UTF-8 bytes and its `i32` id, little-endian, in
//! the map's iteration order. Bounded by the input: a count or length past the bytes left
//! is an error naming the offset. (A pickle holds a Vocab tensor as the plain dict
//! `get_map_tensor()` gives, which the pickle decoder reads as any dict.)

/// Why bytes are not a Vocab record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabError {
    #[error("vocab record truncated at offset {offset}: {what} needs {needed} bytes")]
    Truncated {
        offset: usize,
        what: &'static str,
        needed: u64,
    },
    #[error("vocab token at offset {offset} is not UTF-8")]
    Utf8 { offset: usize },
}

/// One Vocab record at the start of `b`: the (token, id) entries and the bytes it spans.
///
/// ```
/// let mut b = 1u64.to_le_bytes().to_vec();
/// b.extend(2u64.to_le_bytes());
/// b.extend(b"hi");
/// b.extend(7i32.to_le_bytes());
/// let (entries, n) = pdsave::vocab::decode_vocab(&b).unwrap();
/// assert_eq!((entries, n), (vec![("hi".to_string(), 7)], b.len()));
/// ```
pub fn decode_vocab(b: &[u8]) -> Result<(Vec<(String, i32)>, usize), VocabError> {
    let mut at = 0usize;
    let take = |at: &mut usize,
                n: u64,
                what: &'static str|
     -> Result<std::ops::Range<usize>, VocabError> {
        let left = (b.len() - *at) as u64;
        if n > left {
            return Err(VocabError::Truncated {
                offset: *at,
                what,
                needed: n,
            });
        }
        let r = *at..*at + n as usize;
        *at += n as usize;
        Ok(r)
    };
    let u64_at = |r: std::ops::Range<usize>| u64::from_le_bytes(b[r].try_into().unwrap_or([0; 8]));
    let count = u64_at(take(&mut at, 8, "the entry count")?);
    // Each entry takes at least 12 bytes: the count is bounded by what is left.
    let most = (b.len() - at) as u64 / 12;
    let mut out = Vec::with_capacity(count.min(most) as usize);
    for _ in 0..count {
        let len = u64_at(take(&mut at, 8, "a token length")?);
        let start = at;
        let tok = take(&mut at, len, "a token")?;
        let tok = std::str::from_utf8(&b[tok])
            .map_err(|_| VocabError::Utf8 { offset: start })?
            .to_string();
        let id = take(&mut at, 4, "a token id")?;
        out.push((tok, i32::from_le_bytes(b[id].try_into().unwrap_or([0; 4]))));
    }
    Ok((out, at))
}

/// The record of `entries`, as `StringMapToStream` writes it (in the order given).
pub fn encode_vocab(entries: &[(String, i32)]) -> Vec<u8> {
    let mut out = (entries.len() as u64).to_le_bytes().to_vec();
    for (tok, id) in entries {
        out.extend((tok.len() as u64).to_le_bytes());
        out.extend(tok.as_bytes());
        out.extend(id.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_ones_name_the_offset() {
        let e = vec![
            ("[PAD]".to_string(), 0),
            ("\u{4e16}\u{754c}".to_string(), 2),
        ];
        let b = encode_vocab(&e);
        assert_eq!(decode_vocab(&b), Ok((e, b.len())));
        // A count far past the bytes: refused without allocating for it.
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend(1u64.to_le_bytes());
        assert!(matches!(
            decode_vocab(&huge),
            Err(VocabError::Truncated { offset: 16, .. })
        ));
        let mut bad = 1u64.to_le_bytes().to_vec();
        bad.extend(1u64.to_le_bytes());
        bad.extend([0xff, 0, 0, 0, 0]);
        assert_eq!(decode_vocab(&bad), Err(VocabError::Utf8 { offset: 16 }));
    }
}
