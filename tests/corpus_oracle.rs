//! Corpus cases made from oracle-diff mismatches (scripts/oracle-case.py): pdsave's
//! reference `paddle.save` of the recorded object writes exactly the bytes real Paddle wrote.

use std::path::Path;

use pdsave::conformance::corpus::load_corpus;
use pdsave::conformance::corpus::CaseFormat;
use pdsave::numpy::Flavour;
use pdsave::paddle::object::ObjGraph;
use pdsave::paddle::save::{save, SaveOptions, Saved};
use pdsave::pickle::{encode, EncodeOptions};

#[test]
fn reference_save_writes_paddles_bytes_for_recorded_objects() {
    let cases = load_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")).unwrap();
    let mut checked = 0;
    for c in cases
        .iter()
        .filter(|c| c.meta.object.is_some() && c.format == CaseFormat::Pickle)
    {
        let obj = ObjGraph::from_json(c.meta.object.as_ref().unwrap()).unwrap();
        let p = c.meta.writer.protocol.unwrap();
        let flavour = if c
            .meta
            .writer
            .numpy
            .as_deref()
            .unwrap_or("2")
            .starts_with('1')
        {
            Flavour::Numpy1
        } else {
            Flavour::Numpy2
        };
        let Saved::Pickle(g) = save(
            &obj,
            &SaveOptions {
                protocol: p,
                flavour,
                ..SaveOptions::default()
            },
        )
        .unwrap() else {
            panic!()
        };
        let ours = encode(
            &g,
            &EncodeOptions {
                protocol: p as u8,
                flavour: None,
            },
        )
        .unwrap();
        let theirs = std::fs::read(&c.entry).unwrap();
        assert_eq!(ours, theirs, "{}", c.id);
        checked += 1;
    }
    assert!(checked >= 7, "{checked}");
}
