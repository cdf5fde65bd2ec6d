//! Paddle programs: ProgramDesc protobuf and PIR JSON (placeholder).
