//! Typed ids: the rule ids of `spec/` ([`Rule`]), the workarounds ([`Workaround`]) and the
//! Python exception classes Paddle raises ([`PyExc`]). Each serializes to the string the spec
//! and the outputs use (`"A-FAQ2"`, `"W-NUMPY"`, `"ValueError"`) and parses back from it, so
//! decisions are made on variants, never on text.

/// An enum of string ids: `as_str`, `Display`, `FromStr`, `Serialize`, `Deserialize`, `ALL`.
macro_rules! string_ids {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            /// Every id, in the spec's order.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// The id as the spec writes it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)* }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)*
                    _ => Err(format!("unknown {} {s:?}", stringify!($name))),
                }
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_ids! {
    /// A rule of `spec/`: S- save (rules.md), L- load (rules.md), A- non-unique decoding
    /// (rules.md), P- pickle (pickle.md), I- inspect (inspect.md), C- check (check.md),
    /// T- binary formats (formats.md), D- deviations of real Paddle (deviations.md),
    /// H- harness properties (harness.md).
    pub enum Rule {
        SProto = "S-PROTO",
        SDetect = "S-DETECT",
        STable = "S-TABLE",
        SSplit = "S-SPLIT",
        SWalk = "S-WALK",
        SDyn = "S-DYN",
        SStatic = "S-STATIC",
        SStaticEmpty = "S-STATIC-EMPTY",
        SLayer = "S-LAYER",
        SBf16 = "S-BF16",
        SStaticSd = "S-STATIC-SD",
        SProgram = "S-PROGRAM",
        LFile = "L-FILE",
        LPath = "L-PATH",
        LUnpack = "L-UNPACK",
        LTable = "L-TABLE",
        LTuple = "L-TUPLE",
        LNdarray = "L-NDARRAY",
        LNumpy = "L-NUMPY",
        LDtype = "L-DTYPE",
        LIter = "L-ITER",
        LName = "L-NAME",
        LDepth = "L-DEPTH",
        LSafetensors = "L-SAFETENSORS",
        KMeta = "K-META",
        KView = "K-VIEW",
        KPieces = "K-PIECES",
        KStrict = "K-STRICT",
        XView = "X-VIEW",
        XShards = "X-SHARDS",
        AFaq1 = "A-FAQ1",
        AFaq2 = "A-FAQ2",
        AFaq3 = "A-FAQ3",
        ANdarray = "A-NDARRAY",
        ABf16 = "A-BF16",
        AUint = "A-UINT",
        AIter = "A-ITER",
        ALarge = "A-LARGE",
        ADeep = "A-DEEP",
        AOdict = "A-ODICT",
        AGrad = "A-GRAD",
        ASplit = "A-SPLIT",
        ASaveIter = "A-SAVE-ITER",
        ASaveLayer = "A-SAVE-LAYER",
        ASave = "A-SAVE",
        AStaticEmpty = "A-STATIC-EMPTY",
        PProto = "P-PROTO",
        PFrame = "P-FRAME",
        PMemo = "P-MEMO",
        PId = "P-ID",
        PAllow = "P-ALLOW",
        PShape = "P-SHAPE",
        PNumpy = "P-NUMPY",
        PHist = "P-HIST",
        VPrefix = "V-PREFIX",
        VDir = "V-DIR",
        VProgram = "V-PROGRAM",
        VNext = "V-NEXT",
        PStr = "P-STR",
        PLatin1 = "P-LATIN1",
        PBytes2 = "P-BYTES2",
        PLimit = "P-LIMIT",
        PErr = "P-ERR",
        PStop = "P-STOP",
        PEnc = "P-ENC",
        PFix = "P-FIX",
        PDisasm = "P-DISASM",
        IRead = "I-READ",
        IReport = "I-REPORT",
        IStats = "I-STATS",
        IHuman = "I-HUMAN",
        CFormat = "C-FORMAT",
        CGlobals = "C-GLOBALS",
        CVerdict = "C-VERDICT",
        CEval = "C-EVAL",
        CFindings = "C-FINDINGS",
        CExit = "C-EXIT",
        CArchive = "C-ARCHIVE",
        COutput = "C-OUTPUT",
        TDense = "T-DENSE",
        TDesc = "T-DESC",
        TLod = "T-LOD",
        TData = "T-DATA",
        TSr = "T-SR",
        TCombined = "T-COMBINED",
        TProgram = "T-PROGRAM",
        D1 = "D-1",
        D2 = "D-2",
        D3 = "D-3",
        D4 = "D-4",
        D5 = "D-5",
        D6 = "D-6",
        D7 = "D-7",
        D8 = "D-8",
        D9 = "D-9",
        D10 = "D-10",
        D11 = "D-11",
        D12 = "D-12",
        D13 = "D-13",
        D14 = "D-14",
        D15 = "D-15",
        D16 = "D-16",
        H1 = "H-1",
        H2 = "H-2",
        H3 = "H-3",
        H4 = "H-4",
        H5 = "H-5",
    }
}

string_ids! {
    /// A workaround (spec/rules.md W-): what restores an object a decoding does not give back.
    pub enum Workaround {
        Numpy = "W-NUMPY",
        NoTuple = "W-NOTUPLE",
        Dict = "W-DICT",
        Odict = "W-ODICT",
        Proto4 = "W-PROTO4",
        Convert = "W-CONVERT",
        StateDict = "W-STATEDICT",
        Pickle = "W-PICKLE",
        Prefix = "W-PREFIX",
    }
}

impl Workaround {
    /// What the workaround asks the user to do.
    pub fn text(self) -> &'static str {
        match self {
            Workaround::Numpy => "load with paddle.load(path, return_numpy=True) and convert to Tensors yourself",
            Workaround::NoTuple => "do not save (str, ndarray) tuples: save a list or a dict instead",
            Workaround::Dict => "save the extra information next to the tensor, e.g. {'tensor': t, 'stop_gradient': t.stop_gradient}",
            Workaround::Odict => "rebuild it with collections.OrderedDict(paddle.load(path)): the order is kept",
            Workaround::Proto4 => "save with protocol=4, which never splits parameters",
            Workaround::Convert => "convert the value before saving (bytes → np.frombuffer(b, np.uint8), tensor → tensor.numpy())",
            Workaround::StateDict => "save layer.state_dict() instead of the Layer",
            Workaround::Pickle => "read the file with pickle.load(f, encoding='latin1') instead of paddle.load",
            Workaround::Prefix => "load the model's prefix (paddle.load('dir/model')) so the program names the records",
        }
    }
}

string_ids! {
    /// A Python exception class `paddle.save` / `paddle.load` raises (the view's `error`).
    pub enum PyExc {
        AssertionError = "AssertionError",
        AttributeError = "AttributeError",
        EOFError = "EOFError",
        FileNotFoundError = "FileNotFoundError",
        IndexError = "IndexError",
        KeyError = "KeyError",
        NotImplementedError = "NotImplementedError",
        OSError = "OSError",
        RecursionError = "RecursionError",
        RuntimeError = "RuntimeError",
        SafetensorError = "SafetensorError",
        TypeError = "TypeError",
        UnicodeDecodeError = "UnicodeDecodeError",
        UnpicklingError = "UnpicklingError",
        ValueError = "ValueError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_strings() {
        for r in Rule::ALL {
            assert_eq!(r.as_str().parse::<Rule>(), Ok(*r));
        }
        for w in Workaround::ALL {
            assert_eq!(w.as_str().parse::<Workaround>(), Ok(*w));
            assert!(!w.text().is_empty());
        }
        for e in PyExc::ALL {
            assert_eq!(e.as_str().parse::<PyExc>(), Ok(*e));
        }
        assert!("A-NOPE".parse::<Rule>().is_err());
    }

    /// Every rule id written in spec/ is a variant, and every variant is in spec/.
    #[test]
    fn rules_are_the_spec_ids() {
        let mut spec = String::new();
        for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/spec")).unwrap() {
            spec.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
        for r in Rule::ALL {
            assert!(spec.contains(r.as_str()), "{r} is not in spec/");
        }
        for w in Workaround::ALL {
            assert!(spec.contains(w.as_str()), "{w} is not in spec/");
        }
    }
}
