//! Conformance machinery: the real-Paddle differential oracle ([`oracle`]) and the
//! corpus runner that validates third-party implementations.

pub mod oracle;
