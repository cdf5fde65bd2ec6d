//! A distributed checkpoint's `.metadata` file (rule K-META): the pickle of Paddle's
//! `Metadata` dataclass, decoded with the checkpoint allowlist
//! ([`crate::pickle::decode_checkpoint_metadata`]: the classes exist only there, each built
//! by NEWOBJ and BUILD with exactly its fields), then read into typed values: every field
//! of the type Paddle writes, or an error naming the field.

use crate::names::{DCP_METADATA_FIELDS, DCP_TENSOR_INDEX_FIELDS, DCP_TENSOR_METADATA_FIELDS};
use crate::pickle::{CheckpointClass, Graph, Node, NodeId, PickleError, PyInt, Sym};

/// One `LocalTensorMetadata`: where a rank's piece of a tensor sits in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorMeta {
    pub global_offset: Vec<u64>,
    pub local_shape: Vec<u64>,
    /// Paddle's dtype name (`float32`, `bfloat16`): 3.x only.
    pub dtype: Option<String>,
    /// The tensor's whole shape as the writer saw it: 3.x only.
    pub global_shape: Option<Vec<u64>>,
    /// `flattened_range` when `is_flattened`: the piece is elements `[start, stop)` (C
    /// order) of the block `local_shape` at `global_offset`.
    pub flattened: Option<(u64, u64)>,
}

/// One `LocalTensorIndex` → file entry of `storage_metadata`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageEntry {
    pub key: String,
    pub global_offset: Vec<u64>,
    pub local_shape: Option<Vec<u64>>,
    pub flattened: Option<(u64, u64)>,
    /// `replica_id` (3.x with `save_replicas`): only `None` and 0 are read.
    pub replica: Option<i64>,
    pub file: String,
}

/// The whole metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The module of the classes (Paddle 2.6's or 3.x's).
    pub module: &'static str,
    /// `state_dict_metadata`, in its order: the order of the loaded state dict.
    pub tensors: Vec<(String, Vec<TensorMeta>)>,
    pub storage: Vec<StorageEntry>,
    /// `flat_mapping`: flat key → the nested keys it came from, when written.
    pub flat_mapping: Option<Vec<(String, Vec<String>)>>,
}

/// Why a metadata file cannot be read: what, and where in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetadataError {
    #[error("{0}")]
    Pickle(#[from] PickleError),
    #[error("{at}: {reason}")]
    Shape { at: String, reason: String },
}

/// An object's module and its fields by name.
type Fields<'g> = (&'static str, Vec<(&'g str, NodeId)>);

struct Reader<'g, 'a> {
    g: &'g Graph<'a>,
}

fn shape_err(at: &str, reason: impl Into<String>) -> MetadataError {
    MetadataError::Shape {
        at: at.to_string(),
        reason: reason.into(),
    }
}

impl<'g, 'a> Reader<'g, 'a> {
    fn node(&self, id: NodeId) -> &'g Node<'a> {
        self.g.node(id)
    }

    /// The fields of an object of `class`, by name (absent ones: a release that predates
    /// them).
    fn object(
        &self,
        id: NodeId,
        class: CheckpointClass,
        at: &str,
    ) -> Result<Fields<'g>, MetadataError> {
        match self.node(id) {
            Node::Object { class: c, state } if c.sym == Sym::Checkpoint(class) => {
                let Node::Dict(items) = self.node(*state) else {
                    return Err(shape_err(at, "object state is not a dict"));
                };
                let mut out = Vec::with_capacity(items.len());
                for &(k, v) in items {
                    let Node::Str(k) = self.node(k) else {
                        return Err(shape_err(at, "field name is not a str"));
                    };
                    out.push((k.as_ref(), v));
                }
                Ok((c.module, out))
            }
            other => Err(shape_err(
                at,
                format!(
                    "expected a {}, found {}",
                    class_name(class),
                    other.type_name()
                ),
            )),
        }
    }

    fn ints(&self, id: NodeId, at: &str) -> Result<Vec<u64>, MetadataError> {
        let Node::Tuple(v) = self.node(id) else {
            return Err(shape_err(
                at,
                format!(
                    "expected a tuple of ints, found {}",
                    self.node(id).type_name()
                ),
            ));
        };
        v.iter()
            .map(|&x| match self.node(x) {
                Node::Int(PyInt::Small(i)) if *i >= 0 => Ok(*i as u64),
                _ => Err(shape_err(at, "expected non-negative ints")),
            })
            .collect()
    }

    fn opt_ints(&self, id: Option<NodeId>, at: &str) -> Result<Option<Vec<u64>>, MetadataError> {
        match id.map(|i| self.node(i)) {
            None | Some(Node::None) => Ok(None),
            Some(_) => self.ints(id.unwrap_or(0), at).map(Some),
        }
    }

    fn str(&self, id: NodeId, at: &str) -> Result<String, MetadataError> {
        match self.node(id) {
            Node::Str(s) => Ok(s.to_string()),
            other => Err(shape_err(
                at,
                format!("expected a str, found {}", other.type_name()),
            )),
        }
    }

    fn bool(&self, id: Option<NodeId>, at: &str) -> Result<bool, MetadataError> {
        match id.map(|i| self.node(i)) {
            None => Ok(false),
            Some(Node::Bool(b)) => Ok(*b),
            Some(other) => Err(shape_err(
                at,
                format!("expected a bool, found {}", other.type_name()),
            )),
        }
    }

    fn flat_range(
        &self,
        flat: bool,
        range: Option<NodeId>,
        at: &str,
    ) -> Result<Option<(u64, u64)>, MetadataError> {
        let r = self.opt_ints(range, at)?;
        match (flat, r.as_deref()) {
            (false, _) => Ok(None),
            (true, Some(&[a, b])) if a <= b => Ok(Some((a, b))),
            (true, _) => Err(shape_err(
                at,
                "is_flattened without a (start, stop) flattened_range",
            )),
        }
    }

    fn tensor_meta(&self, id: NodeId, at: &str) -> Result<TensorMeta, MetadataError> {
        let (_, f) = self.object(id, CheckpointClass::LocalTensorMetadata, at)?;
        let get = |name: &str| f.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let field = |name: &str| format!("{at}.{name}");
        let [off, shape, dtype, gshape, flat, range] = DCP_TENSOR_METADATA_FIELDS else {
            return Err(shape_err(at, "field table"));
        };
        Ok(TensorMeta {
            global_offset: self.ints(get(off).unwrap_or(0), &field(off))?,
            local_shape: self.ints(get(shape).unwrap_or(0), &field(shape))?,
            dtype: match get(dtype) {
                Some(d) => Some(self.str(d, &field(dtype))?),
                None => None,
            },
            global_shape: self.opt_ints(get(gshape), &field(gshape))?,
            flattened: self.flat_range(
                self.bool(get(flat), &field(flat))?,
                get(range),
                &field(range),
            )?,
        })
    }

    fn storage_entry(&self, k: NodeId, v: NodeId, at: &str) -> Result<StorageEntry, MetadataError> {
        let (_, f) = self.object(k, CheckpointClass::LocalTensorIndex, at)?;
        let get = |name: &str| f.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let field = |name: &str| format!("{at}.{name}");
        let [key, off, flat, range, replica, shape] = DCP_TENSOR_INDEX_FIELDS else {
            return Err(shape_err(at, "field table"));
        };
        let replica = match get(replica).map(|r| self.node(r)) {
            None | Some(Node::None) => None,
            Some(Node::Int(PyInt::Small(i))) => Some(*i),
            Some(other) => {
                return Err(shape_err(
                    &field(replica),
                    format!("expected an int, found {}", other.type_name()),
                ))
            }
        };
        Ok(StorageEntry {
            key: self.str(get(key).unwrap_or(0), &field(key))?,
            global_offset: self.ints(get(off).unwrap_or(0), &field(off))?,
            local_shape: self.opt_ints(get(shape), &field(shape))?,
            flattened: self.flat_range(
                self.bool(get(flat), &field(flat))?,
                get(range),
                &field(range),
            )?,
            replica,
            file: self.str(v, &format!("{at} (its file)"))?,
        })
    }
}

fn class_name(c: CheckpointClass) -> &'static str {
    match c {
        CheckpointClass::Metadata => "Metadata",
        CheckpointClass::LocalTensorMetadata => "LocalTensorMetadata",
        CheckpointClass::LocalTensorIndex => "LocalTensorIndex",
    }
}

fn dict_items<'g>(
    g: &'g Graph,
    id: NodeId,
    at: &str,
) -> Result<&'g [(NodeId, NodeId)], MetadataError> {
    match g.node(id) {
        Node::Dict(p) => Ok(p),
        other => Err(shape_err(
            at,
            format!("expected a dict, found {}", other.type_name()),
        )),
    }
}

/// Decodes and reads a `.metadata` file.
pub fn parse(data: &[u8]) -> Result<Metadata, MetadataError> {
    let g = crate::pickle::decode_checkpoint_metadata(data)?;
    read(&g)
}

/// Reads the decoded metadata graph.
pub fn read(g: &Graph) -> Result<Metadata, MetadataError> {
    let r = Reader { g };
    let (module, f) = r.object(g.root, CheckpointClass::Metadata, "Metadata")?;
    let get = |name: &str| f.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let [sdm, sm, fm] = DCP_METADATA_FIELDS else {
        return Err(shape_err("Metadata", "field table"));
    };
    let mut tensors = Vec::new();
    for &(k, v) in dict_items(g, get(sdm).unwrap_or(0), sdm)? {
        let key = r.str(k, &format!("{sdm} key"))?;
        let at = format!("{sdm}[{key:?}]");
        let Node::List(metas) = g.node(v) else {
            return Err(shape_err(&at, "expected a list of LocalTensorMetadata"));
        };
        let metas = metas
            .iter()
            .enumerate()
            .map(|(i, &m)| r.tensor_meta(m, &format!("{at}[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        tensors.push((key, metas));
    }
    let mut storage = Vec::new();
    for (i, &(k, v)) in dict_items(g, get(sm).unwrap_or(0), sm)?.iter().enumerate() {
        storage.push(r.storage_entry(k, v, &format!("{sm} entry {i}"))?);
    }
    let flat_mapping = match get(fm).map(|x| g.node(x)) {
        None | Some(Node::None) => None,
        Some(_) => {
            let mut out = Vec::new();
            for &(k, v) in dict_items(g, get(fm).unwrap_or(0), fm)? {
                let key = r.str(k, &format!("{fm} key"))?;
                let Node::Tuple(parts) = g.node(v) else {
                    return Err(shape_err(
                        &format!("{fm}[{key:?}]"),
                        "expected a tuple of str",
                    ));
                };
                let parts = parts
                    .iter()
                    .map(|&p| r.str(p, &format!("{fm}[{key:?}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push((key, parts));
            }
            Some(out)
        }
    };
    Ok(Metadata {
        module,
        tensors,
        storage,
        flat_mapping,
    })
}
