//! `check` of the checkpoints of large models, after each of their files is checked for
//! safety: a distributed checkpoint's plan (a missing shard file, pieces that overlap or
//! leave a hole, dtypes or shapes that disagree: K-STRICT) and a sharded state dict's
//! shards (missing, outside the directory, a key not in the shard the index names,
//! `total_size`: X-SHARDS). No payload is read.

use super::Finding;
use crate::paddle::checkpoint::{Checkpoint, Finding as KFinding};
use crate::source::{Form, Source};

fn finding(f: KFinding) -> Finding {
    let path = match (&f.key, &f.file) {
        (Some(k), Some(file)) => format!("{file} [{k:?}]"),
        (Some(k), None) => format!("[{k:?}]"),
        (None, Some(file)) => file.clone(),
        (None, None) => String::new(),
    };
    Finding {
        rule: f.rule,
        path,
        message: f.message,
        workaround: None,
        visible: true,
    }
}

/// The findings of a checkpoint or an index as a whole; `None` for other sources.
pub(super) fn findings(src: &Source) -> Option<Vec<Finding>> {
    match &src.form {
        Form::Checkpoint { metadata, shards } => Some(match Checkpoint::open(metadata, shards) {
            Ok(c) => c.findings.into_iter().map(finding).collect(),
            // The metadata does not decode: the per-file check says why (a global, a
            // field); said once more as the reason the checkpoint is unreadable.
            Err(e) => vec![Finding {
                rule: crate::rules::Rule::KMeta,
                path: metadata
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                message: e.to_string(),
                workaround: None,
                visible: true,
            }],
        }),
        Form::Index {
            index,
            parsed,
            shards,
        } => {
            let (_, f) = crate::paddle::index::audit(index, parsed, shards);
            Some(f.into_iter().map(finding).collect())
        }
        _ => None,
    }
}
