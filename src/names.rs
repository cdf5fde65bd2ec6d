//! The names Paddle reserves in its files, defined once: dict keys `paddle.save` writes into
//! a state dict (S-TABLE, S-SPLIT) and the file names of its model formats (L-PATH).

/// The name table of a state dict: `{structured name: parameter name}` (S-TABLE, L-TABLE).
pub const NAME_TABLE: &str = "StructuredToParameterName@@";
/// The split big parameters of a protocol 2/3 state dict (S-SPLIT, L-UNPACK).
pub const UNPACK_INFO: &str = "UnpackBigParamInfor@@";
/// The keys of one entry of [`UNPACK_INFO`].
pub const UNPACK_SHAPE: &str = "OriginShape";
pub const UNPACK_SLICES: &str = "slices";
/// A split slice's key: `key@@.i`.
pub const SLICE_MARK: &str = "@@.";

/// `jit.save` / `save_inference_model` prefix files: `PREFIX.pdmodel` (ProgramDesc) or
/// `PREFIX.json` (PIR), `PREFIX.pdiparams` (combined records) and the structured names.
pub const PROGRAM_SUFFIX: &str = ".pdmodel";
pub const PIR_PROGRAM_SUFFIX: &str = ".json";
pub const PARAMS_SUFFIX: &str = ".pdiparams";
pub const INFO_SUFFIX: &str = ".pdiparams.info";
/// The `structured_name` field of a `.pdiparams.info` entry.
pub const STRUCTURED_NAME: &str = "structured_name";

/// A 1.x model directory's program (`save_inference_model`); `__model__.json` is what
/// Paddle 3's PIR `separate_parameters` writes.
pub const MODEL_FILE: &str = "__model__";
pub const PIR_MODEL_FILE: &str = "__model__.json";

/// The prefix suffixes and directory file names a model's program may have, in the order
/// pdsave looks for them.
pub const PROGRAM_SUFFIXES: [&str; 2] = [PROGRAM_SUFFIX, PIR_PROGRAM_SUFFIX];
pub const MODEL_FILES: [&str; 2] = [MODEL_FILE, PIR_MODEL_FILE];
