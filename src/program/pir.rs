//! PIR programs serialized as JSON (Paddle 3's default `.json` for `jit.save`,
//! `static.save_inference_model` and `static.save`): parameters, feed/fetch targets and ops.
//!
//! Structure, as observed in files written by paddlepaddle 3.3.1 (`base_code.version` 4):
//!
//! ```text
//! {"base_code": {"magic": "pir", "trainable": true, "version": 4},
//!  "program": {"regions": [{"#": "region_0", "blocks": [{"#": "block_0", "args": [...],
//!                                                        "ops": [OP, ...]}]}]}}
//! OP     = {"#": NAME, "I": [{"%": id}, ...], "O": [VALUE, ...], "A": [ATTR, ...],
//!           "OA": [ATTR, ...], "regions": [...]?}          (OA only when trainable)
//! VALUE  = {"%": id, "TT": TYPE}
//! TYPE   = {"#": "0.t_dtensor", "D": [{"#": "0.t_f32"}, [dims], "NCHW", [lod], offset]}
//!        | {"#": "0.t_vec", "D": [TYPE, ...]} | {"#": "0.t_f32"} | ...
//! ATTR   = {"N": name, "AT": {"#": "0.a_str", "D": data}}
//! ```
//!
//! Abbreviations (Paddle calls this compression):
//! * op and type/attr names are `DIALECT.name` with the dialect replaced by a number:
//!   0 = `builtin`, 1 = `pd_op`, 2 = `cf`, 3 = `custom_op`, 4 = `dist` (`1.conv2d` is
//!   `pd_op.conv2d`, `0.t_f32` is builtin's f32 type);
//! * `builtin.parameter` is written as the op `"p"` with a positional layout:
//!   `"A": [is_distributed, is_parameter, need_clip, "parameter name"]`, `"O"` a single VALUE
//!   (not an array), `"OA": [persistable, stop_gradient, trainable]` as 0/1 integers, and
//!   `"DA"`/`"QA"` for distributed/quantization attributes.
//!
//! The `.pdiparams` records belong to the `builtin.parameter` ops plus the `pd_op.data` ops
//! whose `persistable` result attribute is true (optimizer state in training programs), sorted
//! by name byte-wise — only those of the program's top-level block: Paddle 3.3.1 does not save
//! a parameter op that sits inside a control-flow region (e.g. a layer created inside a
//! `cond` branch), and its `.pdiparams` has no record for it. Non-persistable `pd_op.data` ops are the feed targets; `pd_op.fetch` ops
//! carry the fetch names.

use crate::dtype::DType;
use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

use super::{OpInfo, ProgramFormat, ProgramSummary, VarInfo, KIND_DENSE_TENSOR};

/// Why a PIR JSON program could not be read. `path` is a JSON-pointer-like location.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PirError {
    #[error("not JSON: {message} (line {line}, column {column})")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not a PIR program: base_code.magic is {found:?}, expected \"pir\"")]
    NotPir { found: Option<String> },
    #[error("{path}: missing field {field:?}")]
    MissingField { path: String, field: &'static str },
    #[error("{path}: expected {expected}")]
    WrongType {
        path: String,
        expected: &'static str,
    },
}

/// Full dialect name for a compressed dialect id.
pub fn dialect_name(id: &str) -> Option<&'static str> {
    match id {
        "0" => Some("builtin"),
        "1" => Some("pd_op"),
        "2" => Some("cf"),
        "3" => Some("custom_op"),
        "4" => Some("dist"),
        _ => None,
    }
}

/// Expands a compressed op/type/attr name (`1.conv2d` → `pd_op.conv2d`, `p` →
/// `builtin.parameter`). Names with an unknown dialect id are returned unchanged.
pub fn decompress_name(name: &str) -> String {
    if name == "p" {
        return "builtin.parameter".to_string();
    }
    match name.split_once('.') {
        Some((d, rest)) => match dialect_name(d) {
            Some(full) => format!("{full}.{rest}"),
            None => name.to_string(),
        },
        None => name.to_string(),
    }
}

/// Element type named by a PIR builtin type id (`t_f32`, with or without the `0.` prefix).
pub fn pir_dtype(type_id: &str) -> Option<DType> {
    let t = type_id.split_once('.').map_or(type_id, |(_, t)| t);
    Some(match t {
        "t_bool" => DType::Bool,
        "t_i8" => DType::Int8,
        "t_ui8" => DType::UInt8,
        "t_i16" => DType::Int16,
        "t_ui16" => DType::UInt16,
        "t_i32" => DType::Int32,
        "t_ui32" => DType::UInt32,
        "t_i64" => DType::Int64,
        "t_ui64" => DType::UInt64,
        "t_f16" => DType::Float16,
        "t_bf16" => DType::BFloat16,
        "t_f32" => DType::Float32,
        "t_f64" => DType::Float64,
        "t_c64" => DType::Complex64,
        "t_c128" => DType::Complex128,
        "t_f8e4m3fn" => DType::Float8E4M3FN,
        "t_f8e5m2" => DType::Float8E5M2,
        _ => return None,
    })
}

/// A parsed PIR program document (kept as JSON; see [`summarize_pir_value`]).
pub fn parse_pir(bytes: &[u8]) -> Result<Value, PirError> {
    serde_json::from_slice(bytes).map_err(|e| PirError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Parses and summarizes a PIR JSON program.
pub fn summarize_pir(bytes: &[u8]) -> Result<ProgramSummary, PirError> {
    summarize_pir_value(&parse_pir(bytes)?)
}

fn field<'v>(v: &'v Value, path: &str, name: &'static str) -> Result<&'v Value, PirError> {
    v.get(name).ok_or_else(|| PirError::MissingField {
        path: path.to_string(),
        field: name,
    })
}

fn array<'v>(v: &'v Value, path: &str) -> Result<&'v Vec<Value>, PirError> {
    v.as_array().ok_or_else(|| PirError::WrongType {
        path: path.to_string(),
        expected: "an array",
    })
}

fn string<'v>(v: &'v Value, path: &str) -> Result<&'v str, PirError> {
    v.as_str().ok_or_else(|| PirError::WrongType {
        path: path.to_string(),
        expected: "a string",
    })
}

/// A 0/1 integer or a bool, as the parameter op's positional flags are written.
fn flag(v: Option<&Value>, default: bool) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().map_or(default, |i| i != 0),
        _ => default,
    }
}

/// Dtype and shape of a value's `TT` (dense tensor types only).
fn value_type(value: &Value) -> (Option<DType>, Vec<i64>) {
    let Some(tt) = value.get("TT") else {
        return (None, Vec::new());
    };
    let is_dense = tt
        .get("#")
        .and_then(Value::as_str)
        .is_some_and(|s| s.ends_with("t_dtensor"));
    let data = tt.get("D").and_then(Value::as_array);
    match (is_dense, data) {
        (true, Some(d)) => {
            let dtype = d
                .first()
                .and_then(|e| e.get("#"))
                .and_then(Value::as_str)
                .and_then(pir_dtype);
            let shape = d
                .get(1)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            (dtype, shape)
        }
        _ => (None, Vec::new()),
    }
}

/// Looks up a named attribute (`{"N": name, "AT": {...}}`) in an attribute list.
fn named_attr<'v>(list: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    list?
        .as_array()?
        .iter()
        .find(|a| a.get("N").and_then(Value::as_str) == Some(name))?
        .get("AT")
}

/// The payload of an attribute, unwrapping `a_array` of one element (`persistable` is written
/// as an array of one `a_bool`).
fn attr_bool(attr: Option<&Value>) -> Option<bool> {
    let d = attr?.get("D")?;
    match d {
        Value::Bool(b) => Some(*b),
        Value::Array(items) => items.first()?.get("D")?.as_bool(),
        _ => None,
    }
}

fn value_ids(list: Option<&Value>) -> Vec<String> {
    let items: Vec<&Value> = match list {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|v| match v.get("%").and_then(Value::as_i64) {
            Some(id) => format!("%{id}"),
            None => "%?".to_string(),
        })
        .collect()
}

struct Walk {
    params: BTreeMap<String, VarInfo>,
    feeds: Vec<String>,
    fetches: Vec<(i64, usize, String)>,
    ops: Vec<OpInfo>,
    op_counts: BTreeMap<String, usize>,
    blocks: usize,
}

impl Walk {
    /// Walks a region; `top` is true for the program's own regions (whose blocks hold the
    /// saved parameters) and false for regions nested in ops (control flow).
    fn region(&mut self, region: &Value, path: &str, top: bool) -> Result<(), PirError> {
        let blocks = array(field(region, path, "blocks")?, &format!("{path}/blocks"))?;
        for (bi, block) in blocks.iter().enumerate() {
            let bpath = format!("{path}/blocks/{bi}");
            let block_index = self.blocks;
            self.blocks += 1;
            let ops = array(field(block, &bpath, "ops")?, &format!("{bpath}/ops"))?;
            for (oi, op) in ops.iter().enumerate() {
                self.op(op, &format!("{bpath}/ops/{oi}"), block_index, top)?;
            }
        }
        Ok(())
    }

    fn op(&mut self, op: &Value, path: &str, block: usize, top: bool) -> Result<(), PirError> {
        let raw_name = string(field(op, path, "#")?, &format!("{path}/#"))?;
        let name = decompress_name(raw_name);
        *self.op_counts.entry(name.clone()).or_default() += 1;
        let outputs = value_ids(op.get("O"));
        if raw_name == "p" {
            let attrs = array(field(op, path, "A")?, &format!("{path}/A"))?;
            let pname =
                attrs
                    .iter()
                    .rev()
                    .find_map(Value::as_str)
                    .ok_or_else(|| PirError::WrongType {
                        path: format!("{path}/A"),
                        expected: "a parameter name string",
                    })?;
            let oa = op.get("OA").and_then(Value::as_array);
            let persistable = flag(oa.and_then(|a| a.first()), true);
            let (dtype, shape) = op.get("O").map(value_type).unwrap_or((None, Vec::new()));
            if persistable && top {
                self.params.entry(pname.to_string()).or_insert(VarInfo {
                    name: pname.to_string(),
                    dtype,
                    shape,
                    kind: KIND_DENSE_TENSOR,
                    persistable,
                    is_parameter: flag(attrs.get(1), true),
                    block,
                });
            }
        } else if name == "pd_op.data" || name == "pd_op.feed" || name.ends_with(".fetch") {
            let attr_name = named_attr(op.get("A"), "name")
                .and_then(|a| a.get("D"))
                .and_then(Value::as_str)
                .ok_or_else(|| PirError::MissingField {
                    path: format!("{path}/A"),
                    field: "name",
                })?
                .to_string();
            if name.ends_with(".fetch") {
                let col = named_attr(op.get("A"), "col")
                    .and_then(|a| a.get("D"))
                    .and_then(Value::as_i64);
                self.fetches
                    .push((col.unwrap_or(i64::MAX), self.ops.len(), attr_name));
            } else if attr_bool(named_attr(op.get("OA"), "persistable")) == Some(true) {
                if !top {
                    // Like nested parameter ops, not saved with the program's parameters.
                    self.push_op(op, name, outputs, block);
                    return self.nested(op, path);
                }
                let first = op
                    .get("O")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first());
                let (mut dtype, shape) = first.map(value_type).unwrap_or((None, Vec::new()));
                if dtype.is_none() {
                    dtype = named_attr(op.get("A"), "dtype")
                        .and_then(|a| a.get("D"))
                        .and_then(Value::as_str)
                        .and_then(DType::from_name);
                }
                self.params.entry(attr_name.clone()).or_insert(VarInfo {
                    name: attr_name,
                    dtype,
                    shape,
                    kind: KIND_DENSE_TENSOR,
                    persistable: true,
                    is_parameter: false,
                    block,
                });
            } else {
                self.feeds.push(attr_name);
            }
        }
        self.push_op(op, name, outputs, block);
        self.nested(op, path)
    }

    fn push_op(&mut self, op: &Value, name: String, outputs: Vec<String>, block: usize) {
        self.ops.push(OpInfo {
            block,
            op_type: name,
            inputs: vec![(String::new(), value_ids(op.get("I")))],
            outputs: vec![(String::new(), outputs)],
        });
    }

    /// Walks the regions of a control-flow op (`pd_op.if`, `pd_op.while`, ...).
    fn nested(&mut self, op: &Value, path: &str) -> Result<(), PirError> {
        if let Some(regions) = op.get("regions") {
            let rpath = format!("{path}/regions");
            for (ri, region) in array(regions, &rpath)?.iter().enumerate() {
                self.region(region, &format!("{rpath}/{ri}"), false)?;
            }
        }
        Ok(())
    }
}

/// Summarizes a parsed PIR program document.
pub fn summarize_pir_value(doc: &Value) -> Result<ProgramSummary, PirError> {
    if !doc.is_object() {
        return Err(PirError::WrongType {
            path: String::new(),
            expected: "an object",
        });
    }
    let base = field(doc, "", "base_code")?;
    let magic = base.get("magic").and_then(Value::as_str);
    if magic != Some("pir") {
        return Err(PirError::NotPir {
            found: magic.map(str::to_string),
        });
    }
    let version = base.get("version").and_then(Value::as_i64);
    let program = field(doc, "", "program")?;
    let regions = array(field(program, "/program", "regions")?, "/program/regions")?;
    let mut w = Walk {
        params: BTreeMap::new(),
        feeds: Vec::new(),
        fetches: Vec::new(),
        ops: Vec::new(),
        op_counts: BTreeMap::new(),
        blocks: 0,
    };
    for (ri, region) in regions.iter().enumerate() {
        w.region(region, &format!("/program/regions/{ri}"), true)?;
    }
    w.fetches.sort();
    Ok(ProgramSummary {
        format: ProgramFormat::PirJson,
        version,
        persistable: w.params.into_values().collect(),
        feed_targets: w.feeds,
        fetch_targets: w.fetches.into_iter().map(|f| f.2).collect(),
        ops: w.ops,
        op_counts: w.op_counts,
        op_versions: Vec::new(),
        block_count: w.blocks,
        reencodes_identically: None,
    })
}
