//! Conformance machinery: the real-Paddle differential oracle ([`oracle`]) and the
//! corpus runner that validates third-party implementations.

pub mod corpus;
pub mod oracle;
pub mod report;
pub mod validate;
