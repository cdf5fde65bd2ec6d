//! Digests of payloads: the sha256 the load view gives every array.

use sha2::{Digest, Sha256};

/// sha256 (lowercase hex) of bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// [`sha256_hex`], reporting each `chunk` bytes hashed through `done`.
pub fn sha256_hex_chunked(b: &[u8], chunk: usize, done: &(dyn Fn(u64) + Sync)) -> String {
    let mut h = Sha256::new();
    for c in b.chunks(chunk.max(1)) {
        h.update(c);
        done(c.len() as u64);
    }
    hex::encode(h.finalize())
}
