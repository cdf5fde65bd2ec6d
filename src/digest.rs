//! Digests of payloads: the sha256 the load view gives every array.

use sha2::{Digest, Sha256};

/// sha256 (lowercase hex) of bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}
