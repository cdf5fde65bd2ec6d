//! A checkpoint's contents for Rust code and for `diff` / `show`: [`open`] a PATH (any form
//! `paddle.load` takes, and safetensors files) and walk its entries — what `paddle.load`
//! returns, flattened to dotted key paths (`model.linear.weight`,
//! `opt.LR_Scheduler.last_epoch`), each a tensor (Paddle dtype and name, shape,
//! little-endian bytes or a typed slice) or a plain value. Nothing is copied: tensors borrow
//! the memory-mapped files.
//!
//! ```
//! let ckpt = pdsave::open("corpus/cases/y_p3_proto4_convnet_state_dict/model.pdparams").unwrap();
//! for t in ckpt.tensors() {
//!     println!("{} ({:?}): {} {:?}", t.key, t.name, t.dtype, t.shape());
//! }
//! let w = ckpt.tensor("fc.weight").unwrap();
//! assert_eq!((w.dtype.name(), w.shape()), ("float32", &[32u64, 3][..]));
//! let values: &[f32] = w.as_slice().unwrap();
//! assert_eq!(values.len(), 96);
//! ```

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::path::Path;

use crate::dtype::DType;
use crate::paddle::load::{ArrayId, ArrayRef, Item, Loaded};
use crate::paddle::plan::Form as LoadForm;
use crate::paddle::{LoadError, LoadOptions};
use crate::source::{Form, Kind, Source};

/// What a checkpoint holds: the loaded value, or a safetensors file's tensors.
enum Content<'a> {
    Loaded(Box<Loaded<'a>>),
    /// A safetensors file without pdsave metadata: (name, dtype, shape, bytes), file order.
    Safetensors(Vec<(String, DType, Vec<u64>, &'a [u8])>),
}

self_cell::self_cell!(
    struct Cell {
        owner: Source,
        #[covariant]
        dependent: Content,
    }
);

/// An opened checkpoint.
pub struct Checkpoint {
    cell: Cell,
}

/// Opens a PATH as `paddle.load(path)` reads it (default options).
pub fn open(path: impl AsRef<Path>) -> Result<Checkpoint, LoadError> {
    open_with(path.as_ref(), LoadOptions::default())
}

/// [`open`] with `paddle.load` options. A safetensors file written by `pdsave convert`
/// opens as the pickle it came from (the skeleton in its metadata); any other safetensors
/// file as its tensors, by name.
pub fn open_with(path: &Path, opts: LoadOptions) -> Result<Checkpoint, LoadError> {
    let src = Source::open(path, false)?;
    let cell = Cell::try_new(src, |src| content(src, opts))?;
    Ok(Checkpoint { cell })
}

fn content(src: &Source, opts: LoadOptions) -> Result<Content<'_>, LoadError> {
    if let Form::File(f) = &src.form {
        if f.kind == Kind::Safetensors {
            let bad = |e: crate::convert::ConvertError| LoadError::Python {
                class: crate::rules::PyExc::ValueError,
                message: e.to_string(),
            };
            if let Some(g) = crate::convert::safetensors::skeleton_graph(&f.path, f).map_err(bad)? {
                return Ok(Content::Loaded(Box::new(Loaded::new(
                    g,
                    LoadForm::Pickle,
                    opts,
                )?)));
            }
            let st = crate::convert::safetensors::read(&f.path, f).map_err(bad)?;
            let mut tensors = Vec::new();
            for (name, info) in st.ordered() {
                let dtype = DType::from_safetensors(info.dtype).ok_or(
                    LoadError::Unrepresentable("safetensors tensor of a dtype Paddle lacks"),
                )?;
                let shape = info.shape.iter().map(|&d| d as u64).collect();
                tensors.push((name, dtype, shape, st.bytes(info)));
            }
            return Ok(Content::Safetensors(tensors));
        }
    }
    Ok(Content::Loaded(Box::new(crate::paddle::path::load(
        src, opts,
    )?)))
}

/// A tensor (or an ndarray) of a checkpoint.
#[derive(Clone, Debug)]
pub struct Tensor<'a> {
    /// Its dotted key path.
    pub key: String,
    /// Its Paddle parameter name, where the file gives one.
    pub name: Option<&'a str>,
    /// The dtype it loads as (an ndarray: its numpy dtype).
    pub dtype: DType,
    /// A `paddle.Tensor` (not an ndarray).
    pub is_tensor: bool,
    pub array: ArrayRef<'a>,
}

impl<'a> Tensor<'a> {
    pub fn shape(&self) -> &'a [u64] {
        self.array.shape
    }
    pub fn numel(&self) -> u64 {
        self.array.numel()
    }
    /// The elements in C order, little-endian (borrowed when stored so).
    pub fn le_bytes(&self) -> Cow<'a, [u8]> {
        self.array.c_order_le()
    }
    /// The elements as a typed slice, when stored in C order, little-endian, aligned for
    /// `T`, and `T` is the tensor's element type (`f32` for float32, `half::bf16` for
    /// bfloat16, …); else `None` (copy with [`Tensor::le_bytes`]).
    pub fn as_slice<T: Element>(&self) -> Option<&'a [T]> {
        let c_order = !self.array.fortran || self.array.shape.len() < 2;
        let le = self.array.order != b'>' || self.dtype.swap_unit() == 1;
        if !T::is(self.dtype) || !c_order || !le || cfg!(target_endian = "big") {
            return None;
        }
        bytemuck::try_cast_slice(self.array.data).ok()
    }
}

/// Rust element types a tensor's bytes can be viewed as.
pub trait Element: bytemuck::Pod {
    /// Whether values of `dtype` are stored as `Self`.
    fn is(dtype: DType) -> bool;
}

macro_rules! element {
    ($($t:ty => $($d:ident)|+),* $(,)?) => {
        $(impl Element for $t {
            fn is(dtype: DType) -> bool {
                matches!(dtype, $(DType::$d)|+)
            }
        })*
    };
}

element! {
    u8 => UInt8 | Bool | Float8E4M3FN | Float8E5M2,
    i8 => Int8,
    i16 => Int16,
    u16 => UInt16,
    i32 => Int32,
    u32 => UInt32,
    i64 => Int64,
    u64 => UInt64 | SizeT,
    f32 => Float32,
    f64 => Float64,
    half::f16 => Float16,
    half::bf16 => BFloat16,
}

/// One entry of a checkpoint.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// The dotted key path (dict keys joined by `.`, list items by their index).
    pub key: String,
    pub value: EntryValue<'a>,
}

/// What an entry holds.
#[derive(Clone, Copy, Debug)]
pub enum EntryValue<'a> {
    /// A Tensor or an ndarray: (its dtype as loaded, whether a Paddle Tensor, name, array).
    Array {
        dtype: DType,
        is_tensor: bool,
        name: Option<&'a str>,
        array: ArrayRef<'a>,
    },
    /// Any other value, as loaded (an empty container, a scalar, a string, …).
    Value(Item<'a>),
}

impl Checkpoint {
    /// The loaded value (`None` for a safetensors file without pdsave metadata).
    pub fn loaded(&self) -> Option<&Loaded<'_>> {
        match self.cell.borrow_dependent() {
            Content::Loaded(l) => Some(l),
            Content::Safetensors(_) => None,
        }
    }

    /// The resolved PATH.
    pub fn source(&self) -> &Source {
        self.cell.borrow_owner()
    }

    /// Every entry, depth first, in the loaded value's order.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut out = Vec::new();
        match self.cell.borrow_dependent() {
            Content::Loaded(l) => flatten(l.root(), String::new(), &mut out, 0),
            Content::Safetensors(ts) => {
                for (i, (name, dtype, shape, data)) in ts.iter().enumerate() {
                    let array = ArrayRef {
                        id: ArrayId::Merged(usize::MAX - i),
                        dtype: dtype.numpy_carrier(),
                        order: dtype.numpy_carrier().native_order(),
                        shape,
                        fortran: false,
                        data,
                    };
                    out.push(Entry {
                        key: name.clone(),
                        value: EntryValue::Array {
                            dtype: *dtype,
                            is_tensor: true,
                            name: None,
                            array,
                        },
                    });
                }
            }
        }
        out
    }

    /// The entries that are tensors or ndarrays.
    pub fn tensors(&self) -> Vec<Tensor<'_>> {
        self.entries()
            .into_iter()
            .filter_map(|e| match e.value {
                EntryValue::Array {
                    dtype,
                    is_tensor,
                    name,
                    array,
                } => Some(Tensor {
                    key: e.key,
                    name,
                    dtype,
                    is_tensor,
                    array,
                }),
                EntryValue::Value(_) => None,
            })
            .collect()
    }

    /// The tensor at a dotted key path.
    pub fn tensor(&self, key: &str) -> Option<Tensor<'_>> {
        self.tensors().into_iter().find(|t| t.key == key)
    }
}

/// Deepest nesting flattened (the load plan already bounds the loaded value's depth).
const MAX_DEPTH: usize = 1100;

fn join(prefix: &str, part: &str) -> String {
    if prefix.is_empty() {
        part.to_string()
    } else {
        format!("{prefix}.{part}")
    }
}

/// A dict key as a key path component, as `paddle::walk::key_component` names graph keys:
/// a str itself, an int, `True`/`False`/`None`, else the item's index.
pub fn key_part(k: &Item, index: usize) -> String {
    match k {
        Item::Str(s) => s.to_string(),
        Item::Int(i) if !crate::view::too_many_digits(i) => i.to_string(),
        Item::Bool(b) => if *b { "True" } else { "False" }.into(),
        Item::None => "None".into(),
        _ => index.to_string(),
    }
}

/// The entries of a loaded value (see [`Checkpoint::entries`]).
pub fn entries_of<'a>(l: &'a Loaded<'a>) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    flatten(l.root(), String::new(), &mut out, 0);
    out
}

/// Calls `f` on each entry of a loaded value, in [`entries_of`]'s order, until it breaks:
/// the first few entries of a huge value without holding them all.
pub fn for_each_entry<'a>(l: &'a Loaded<'a>, mut f: impl FnMut(Entry<'a>) -> ControlFlow<()>) {
    let _ = visit(l.root(), String::new(), &mut f, 0);
}

fn flatten<'a>(item: Item<'a>, key: String, out: &mut Vec<Entry<'a>>, depth: usize) {
    let _ = visit(
        item,
        key,
        &mut |e| {
            out.push(e);
            ControlFlow::Continue(())
        },
        depth,
    );
}

fn visit<'a>(
    item: Item<'a>,
    key: String,
    f: &mut dyn FnMut(Entry<'a>) -> ControlFlow<()>,
    depth: usize,
) -> ControlFlow<()> {
    crate::deep(|| {
        if depth > MAX_DEPTH {
            return ControlFlow::Continue(());
        }
        match item {
            Item::Dict(m) | Item::OrderedDict(m) if !m.is_empty() => {
                for (i, (k, v)) in m.iter().enumerate() {
                    visit(v, join(&key, &key_part(&k, i)), f, depth + 1)?;
                }
                ControlFlow::Continue(())
            }
            Item::List(s) | Item::Tuple(s) if !s.is_empty() => {
                for (i, v) in s.iter().enumerate() {
                    visit(v, join(&key, &i.to_string()), f, depth + 1)?;
                }
                ControlFlow::Continue(())
            }
            Item::Tensor { dtype, array, name } => f(Entry {
                key,
                value: EntryValue::Array {
                    dtype,
                    is_tensor: true,
                    name,
                    array,
                },
            }),
            Item::NdArray(array) => f(Entry {
                key,
                value: EntryValue::Array {
                    dtype: array.dtype,
                    is_tensor: false,
                    name: None,
                    array,
                },
            }),
            other => f(Entry {
                key,
                value: EntryValue::Value(other),
            }),
        }
    })
}
