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

/// A distributed checkpoint (`paddle.distributed.save_state_dict`): `{id}.metadata` and
/// one `{rank}_{id}.distcp` per rank (or `{rank}_{id}.safetensors` when saved with
/// `safetensors=True`); `flex-ckpt.auto_generated.metadata` is the metadata Paddle 3 makes
/// for a directory of plain safetensors files.
pub const METADATA_SUFFIX: &str = ".metadata";
pub const DISTCP_SUFFIX: &str = ".distcp";
pub const SAFETENSORS_SUFFIX: &str = ".safetensors";
/// The modules of the metadata dataclasses: Paddle 2.6 and Paddle 3.x.
pub const DCP_MODULE_2: &str = "paddle.distributed.checkpoint.metadata";
pub const DCP_MODULE_3: &str = "paddle.distributed.flex_checkpoint.dcp.metadata";
/// The dataclasses' fields, in declaration order of the newest release (3.3.1); older
/// releases write a prefix (2.6.2: the first two of each, `Metadata` without
/// `flat_mapping`).
pub const DCP_METADATA_FIELDS: &[&str] =
    &["state_dict_metadata", "storage_metadata", "flat_mapping"];
pub const DCP_TENSOR_METADATA_FIELDS: &[&str] = &[
    "global_offset",
    "local_shape",
    "dtype",
    "global_shape",
    "is_flattened",
    "flattened_range",
];
pub const DCP_TENSOR_INDEX_FIELDS: &[&str] = &[
    "tensor_key",
    "global_offset",
    "is_flattened",
    "flattened_range",
    "replica_id",
    "local_shape",
];

/// A sharded state dict's index (PaddleNLP / PaddleFormers `save_pretrained`):
/// `model_state.pdparams.index.json`, `model.safetensors.index.json`, … holding
/// `{"metadata": {"total_size": N}, "weight_map": {key: shard file}}`.
pub const INDEX_SUFFIX: &str = ".index.json";
pub const INDEX_WEIGHT_MAP: &str = "weight_map";
pub const INDEX_METADATA: &str = "metadata";
pub const INDEX_TOTAL_SIZE: &str = "total_size";
