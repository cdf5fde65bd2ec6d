//! A sharded state dict (PaddleNLP / PaddleFormers `save_pretrained`; spec/checkpoint.md,
//! X-VIEW): the index's `weight_map` read as one state dict, keys in its order, each
//! value what `paddle.load(shard)[key]` gives (shards of a `*.safetensors.index.json` read
//! with `safetensors=True`, as PaddleFormers reads them). A shard that cannot be loaded
//! makes that load's error the result; a key missing from its shard is Python's
//! KeyError. Shards outside the index's directory never reach here (X-SHARDS, refused by
//! the source).

use super::checkpoint::Finding;
use super::load::{LoadError, LoadOptions, Loaded};
use super::values::{dict_graph, state_dict_values, Value};
use crate::names::INDEX_SUFFIX;
use crate::names::SAFETENSORS_SUFFIX;
use crate::rules::{PyExc, Rule};
use crate::source::sharded::Index;
use crate::source::{File, SourceError};

/// Whether an index's shards are safetensors files (`model.safetensors.index.json`).
pub fn safetensors_index(index: &File) -> bool {
    let name = index.path.to_string_lossy();
    name.strip_suffix(INDEX_SUFFIX)
        .is_some_and(|s| s.ends_with(SAFETENSORS_SUFFIX))
}

/// `paddle.load(shard, **opts)` of one shard file.
pub fn load_shard<'a>(f: &'a File, opts: LoadOptions) -> Result<Loaded<'a>, LoadError> {
    if opts.safetensors {
        super::safetensors::load(&f.data, opts)
    } else {
        super::file::load_file_bytes(&f.data, opts)
    }
}

/// One key of an index as its shard holds it.
pub struct Entry<'a> {
    pub key: String,
    pub shard: String,
    /// `None`: the shard or the key in it is missing (a finding says which).
    pub value: Option<Value<'a>>,
}

/// Audits an index without reading payloads (X-SHARDS): every shard exists, loads and
/// holds exactly the keys the index gives it, `total_size` is the sum of the values'
/// bytes. Returns each key's entry and the findings.
pub fn audit<'a>(
    index: &File,
    parsed: &Index,
    shards: &'a [(String, Result<File, SourceError>)],
) -> (Vec<Entry<'a>>, Vec<Finding>) {
    let opts = LoadOptions {
        safetensors: safetensors_index(index),
        ..LoadOptions::default()
    };
    let mut findings = Vec::new();
    let mut values: Vec<Option<Vec<(String, Value<'a>)>>> = Vec::with_capacity(shards.len());
    for (name, f) in shards {
        let v = match f {
            Err(e) => {
                findings.push(Finding {
                    rule: Rule::XShards,
                    key: None,
                    file: Some(name.clone()),
                    message: format!("shard {name}: {e}"),
                });
                None
            }
            Ok(f) => match load_shard(f, opts)
                .map_err(|e| e.to_string())
                .and_then(|l| state_dict_values(&l))
            {
                Ok(v) => Some(v),
                Err(e) => {
                    findings.push(Finding {
                        rule: Rule::XShards,
                        key: None,
                        file: Some(name.clone()),
                        message: format!("shard {name} does not load: {e}"),
                    });
                    None
                }
            },
        };
        values.push(v);
    }
    let mut entries = Vec::with_capacity(parsed.weight_map.len());
    let mut total = 0u64;
    for (key, shard) in &parsed.weight_map {
        let i = shards.iter().position(|(n, _)| n == shard);
        let held = i.and_then(|i| values[i].as_ref());
        let value = held.and_then(|v| v.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
        if held.is_some() && value.is_none() {
            let elsewhere = values
                .iter()
                .zip(shards)
                .find(|(v, _)| v.as_ref().is_some_and(|v| v.iter().any(|(k, _)| k == key)))
                .map(|(_, (n, _))| n.clone());
            findings.push(Finding {
                rule: Rule::XShards,
                key: Some(key.clone()),
                file: Some(shard.clone()),
                message: match elsewhere {
                    Some(o) => {
                        format!("{key:?} is not in {shard}, which the index names: it is in {o}")
                    }
                    None => format!("{key:?} is not in {shard}, which the index names"),
                },
            });
        }
        if let Some(v) = &value {
            total += v.data.len() as u64;
        }
        entries.push(Entry {
            key: key.clone(),
            shard: shard.clone(),
            value,
        });
    }
    for (v, (name, _)) in values.iter().zip(shards) {
        for (k, _) in v.iter().flatten() {
            if !parsed
                .weight_map
                .iter()
                .any(|(key, s)| key == k && s == name)
            {
                findings.push(Finding {
                    rule: Rule::XShards,
                    key: Some(k.clone()),
                    file: Some(name.clone()),
                    message: format!("{name} holds {k:?}, which the index does not give it"),
                });
            }
        }
    }
    if let Some(t) = parsed.total_size {
        if findings.is_empty() && t != total {
            findings.push(Finding {
                rule: Rule::XShards,
                key: None,
                file: None,
                message: format!("metadata.total_size is {t}, but the values hold {total} bytes"),
            });
        }
    }
    (entries, findings)
}

/// The state dict of an index.
pub fn load<'a>(
    index: &File,
    parsed: &Index,
    shards: &'a [(String, Result<File, SourceError>)],
    opts: LoadOptions,
) -> Result<Loaded<'a>, LoadError> {
    let opts = LoadOptions {
        safetensors: opts.safetensors || safetensors_index(index),
        ..opts
    };
    let mut loaded: Vec<Option<Vec<(String, Value<'a>)>>> = vec![None; shards.len()];
    let mut items = Vec::with_capacity(parsed.weight_map.len());
    for (key, shard) in &parsed.weight_map {
        let Some(i) = shards.iter().position(|(n, _)| n == shard) else {
            continue;
        };
        if loaded[i].is_none() {
            let f = shards[i]
                .1
                .as_ref()
                .map_err(|e| LoadError::from(e.clone()))?;
            let l = load_shard(f, opts)?;
            let values = state_dict_values(&l).map_err(|reason| LoadError::Refused {
                path: f.path.display().to_string(),
                reason,
            })?;
            loaded[i] = Some(values);
        }
        let values = loaded[i].as_deref().unwrap_or(&[]);
        let v = values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| LoadError::Python {
                class: PyExc::KeyError,
                message: format!("{key:?} is not in {shard}"),
            })?;
        items.push((key.clone(), v));
    }
    let opts = LoadOptions {
        keep_name_table: false,
        safetensors: false,
        ..opts
    };
    Loaded::new(dict_graph(items), super::plan::Form::Pickle, opts)
}
