//! Raw bytes → programs: `summarize_program` (legacy ProgramDesc protobuf or PIR JSON,
//! detected by content), and ProgramDesc parse → encode → parse: the same message back,
//! and the encoder canonical (encoding it again gives the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pdsave::program::{encode_program_desc, parse_program_desc, summarize_program};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = summarize_program(data) {
        let _ = s.parameter_names();
    }
    if let Ok(p) = parse_program_desc(data) {
        let enc = encode_program_desc(&p);
        let back = parse_program_desc(&enc).expect("re-encoded ProgramDesc parses");
        // Compared through Debug text: a NaN float attribute is != itself under PartialEq.
        assert!(
            format!("{back:?}") == format!("{p:?}"),
            "ProgramDesc changes on re-encoding"
        );
        assert_eq!(
            encode_program_desc(&back),
            enc,
            "ProgramDesc encoding is not canonical"
        );
        let s = pdsave::program::summarize_program_desc(&p);
        let _ = s.parameter_names();
    }
    if let Ok(v) = pdsave::program::pir::parse_pir(data) {
        let _ = pdsave::program::pir::summarize_pir_value(&v);
    }
});
