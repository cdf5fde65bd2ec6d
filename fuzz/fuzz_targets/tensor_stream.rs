//! Raw bytes → DenseTensor / SelectedRows streams and combined `.pdiparams`, plus
//! re-encoding of what decodes: decode(encode(t)) == t, and the encoder is canonical
//! (encoding that again gives the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pdsave::tensor_stream::{
    decode_combined, decode_dense_tensor, decode_dense_tensor_prefix, decode_selected_rows,
    decode_selected_rows_prefix, encode_combined, DenseTensor,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = decode_dense_tensor(data) {
        let enc = t.encode().expect("a decoded DenseTensor re-encodes");
        assert_eq!(enc.len(), t.encoded_len());
        let back = decode_dense_tensor(&enc).expect("re-encoded DenseTensor decodes");
        assert_eq!(back, t);
        assert_eq!(
            back.encode().unwrap(),
            enc,
            "DenseTensor encoding is not canonical"
        );
    }
    if let Ok((t, used)) = decode_dense_tensor_prefix(data) {
        assert!(used <= data.len());
        assert!(t.data.len() <= data.len());
    }
    if let Ok(s) = decode_selected_rows(data) {
        let enc = s.encode().expect("a decoded SelectedRows re-encodes");
        assert_eq!(enc.len(), s.encoded_len());
        let back = decode_selected_rows(&enc).expect("re-encoded SelectedRows decodes");
        assert_eq!(back, s);
        assert_eq!(
            back.encode().unwrap(),
            enc,
            "SelectedRows encoding is not canonical"
        );
        let _: Vec<i64> = s.rows().collect();
    }
    let _ = decode_selected_rows_prefix(data);
    if let Ok(records) = decode_combined(data) {
        let mut end = 0;
        for r in &records {
            assert_eq!(r.offset, end);
            end += r.len;
        }
        assert_eq!(end, data.len());
        let tensors: Vec<DenseTensor> = records.iter().map(|r| r.tensor.clone()).collect();
        let enc = encode_combined(&tensors).expect("decoded records re-encode");
        let back = decode_combined(&enc).expect("re-encoded .pdiparams decodes");
        let back: Vec<DenseTensor> = back.into_iter().map(|r| r.tensor).collect();
        assert_eq!(back, tensors);
        assert_eq!(encode_combined(&back).unwrap(), enc);
    }
});
