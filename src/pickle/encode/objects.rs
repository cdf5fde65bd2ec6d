//! How each node is pickled: globals and reduce calls (numpy's `_reconstruct` / `dtype` /
//! `scalar`, Paddle's tensor forms, protocol 2's bytes), containers in batches, and the
//! dispatch over node kinds ([`Enc::save_node`]).

use std::io::Write;

use super::{bytes_key, str8_key, str_key, Enc, Key, BATCH, MAX_DEPTH, V};
use crate::numpy::Flavour;
use crate::pickle::ops::Op;
use crate::pickle::{global_for, Global, Node, NodeId, PickleError, PyInt, Sym};

impl<'g, 'a, W: Write> Enc<'g, 'a, W> {
    fn save_global(&mut self, sym: Sym, flavour: Flavour) -> Result<(), PickleError> {
        self.save_global_exact(global_for(sym, self.proto, flavour))
    }

    /// A global spelled as given (a checkpoint class keeps the module it was read from).
    fn save_global_exact(&mut self, gl: Global) -> Result<(), PickleError> {
        let sym = gl.sym;
        self.boundary()?;
        let key = Some(Key::Global(gl.module, gl.name));
        if self.get(key)? {
            return Ok(());
        }
        if self.proto >= 4 {
            self.save_str(
                gl.module,
                str_key(gl.module, Some(Key::Module(gl.module, sym == Sym::Eval))),
            )?;
            self.save_str(gl.name, str_key(gl.name, None))?;
            self.write(&[Op::STACK_GLOBAL as u8])?;
        } else {
            let mut b = vec![Op::GLOBAL as u8];
            b.extend_from_slice(gl.module.as_bytes());
            b.push(b'\n');
            b.extend_from_slice(gl.name.as_bytes());
            b.push(b'\n');
            self.write(&b)?;
        }
        self.memoize(key)
    }

    /// `save_reduce(func, args, state, obj=key)` for a non-`__newobj__` callable.
    pub(super) fn save_reduce(
        &mut self,
        func: Sym,
        args: V,
        key: Option<Key>,
        state: Option<V>,
    ) -> Result<(), PickleError> {
        self.save_reduce_fl(func, Flavour::Numpy2, args, key, state, 0)
    }

    fn save_reduce_fl(
        &mut self,
        func: Sym,
        fl: Flavour,
        args: V,
        key: Option<Key>,
        state: Option<V>,
        depth: usize,
    ) -> Result<(), PickleError> {
        self.save_global(func, fl)?;
        self.save_v(&args, depth + 1)?;
        self.write(&[Op::REDUCE as u8])?;
        self.memoize(key)?;
        if let Some(s) = state {
            self.save_v(&s, depth + 1)?;
            self.write(&[Op::BUILD as u8])?;
        }
        Ok(())
    }

    fn save_v(&mut self, v: &V, depth: usize) -> Result<(), PickleError> {
        match v {
            V::Node(id) => self.save_node(*id, depth),
            V::None => {
                self.boundary()?;
                self.write(&[Op::NONE as u8])
            }
            V::Bool(b) => {
                self.boundary()?;
                self.write(&[if *b { Op::NEWTRUE } else { Op::NEWFALSE } as u8])
            }
            V::Int(x) => self.save_int(&PyInt::Small(*x)),
            V::Float(x) => self.save_float(*x),
            V::Str(s, k) => self.save_str(s, str_key(s, *k)),
            V::Latin1(b) => self.save_latin1(b),
            V::Bytes(b, k) => self.save_bytes(b, bytes_key(b, *k)),
            V::Str8(b, k) => self.save_str8(b, str8_key(b, *k)),
            V::Fresh8(b) => self.save_str8(b, None),
            V::Global(s) => self.save_global(*s, Flavour::Numpy2),
            V::Tuple(items) => {
                self.boundary()?;
                self.fresh_tuple(items.len(), depth, |e, i, d| e.save_v(&items[i], d))
            }
            V::Ints(dims) => {
                self.boundary()?;
                self.fresh_tuple(dims.len(), depth, |e, i, _| {
                    e.save_int(&PyInt::Small(dims[i] as i64))
                })
            }
            V::List(items) => {
                self.boundary()?;
                self.write(&[Op::EMPTY_LIST as u8])?;
                self.memoize(None)?;
                self.batch_list(items, depth)
            }
            V::Dict1(k, val) => {
                self.boundary()?;
                self.write(&[Op::EMPTY_DICT as u8])?;
                self.memoize(None)?;
                self.save_v(k, depth + 1)?;
                self.save_v(val, depth + 1)?;
                self.write(&[Op::SETITEM as u8])
            }
        }
    }

    /// A tuple that is not in the memo and cannot be (made fresh by a reduce).
    fn fresh_tuple(
        &mut self,
        n: usize,
        depth: usize,
        mut item: impl FnMut(&mut Self, usize, usize) -> Result<(), PickleError>,
    ) -> Result<(), PickleError> {
        if n == 0 {
            return self.write(&[Op::EMPTY_TUPLE as u8]);
        }
        if n > 3 {
            self.write(&[Op::MARK as u8])?;
        }
        for i in 0..n {
            item(self, i, depth + 1)?;
        }
        let op = match n {
            1 => Op::TUPLE1,
            2 => Op::TUPLE2,
            3 => Op::TUPLE3,
            _ => Op::TUPLE,
        };
        self.write(&[op as u8])?;
        self.memoize(None)
    }

    fn batch_list(&mut self, items: &[NodeId], depth: usize) -> Result<(), PickleError> {
        if self.py2 {
            // Python 2's `_batch_appends` (an iterator): a last batch of one is APPEND.
            for chunk in items.chunks(BATCH) {
                if chunk.len() > 1 {
                    self.write(&[Op::MARK as u8])?;
                }
                for &it in chunk {
                    self.save_node(it, depth + 1)?;
                }
                let op = if chunk.len() > 1 {
                    Op::APPENDS
                } else {
                    Op::APPEND
                };
                self.write(&[op as u8])?;
            }
            return Ok(());
        }
        match items.len() {
            0 => Ok(()),
            1 => {
                self.save_node(items[0], depth + 1)?;
                self.write(&[Op::APPEND as u8])
            }
            _ => {
                for chunk in items.chunks(BATCH) {
                    self.write(&[Op::MARK as u8])?;
                    for &it in chunk {
                        self.save_node(it, depth + 1)?;
                    }
                    self.write(&[Op::APPENDS as u8])?;
                }
                Ok(())
            }
        }
    }

    /// The C pickler's exact-dict batching: a full last batch is followed by an empty one.
    fn batch_dict_exact(
        &mut self,
        items: &[(NodeId, NodeId)],
        depth: usize,
    ) -> Result<(), PickleError> {
        if self.py2 {
            // Python 2's `_batch_setitems` iterates every dict.
            return self.batch_dict_iter(items, depth);
        }
        if items.is_empty() {
            return Ok(());
        }
        if items.len() == 1 {
            self.save_node(items[0].0, depth + 1)?;
            self.save_node(items[0].1, depth + 1)?;
            return self.write(&[Op::SETITEM as u8]);
        }
        let mut rest = items;
        loop {
            let n = rest.len().min(BATCH);
            self.write(&[Op::MARK as u8])?;
            for &(k, v) in &rest[..n] {
                self.save_node(k, depth + 1)?;
                self.save_node(v, depth + 1)?;
            }
            self.write(&[Op::SETITEMS as u8])?;
            rest = &rest[n..];
            if n < BATCH {
                return Ok(());
            }
        }
    }

    /// The generic iterator batching (OrderedDict): a last batch of one is a SETITEM.
    fn batch_dict_iter(
        &mut self,
        items: &[(NodeId, NodeId)],
        depth: usize,
    ) -> Result<(), PickleError> {
        for chunk in items.chunks(BATCH) {
            if chunk.len() > 1 {
                self.write(&[Op::MARK as u8])?;
            }
            for &(k, v) in chunk {
                self.save_node(k, depth + 1)?;
                self.save_node(v, depth + 1)?;
            }
            self.write(&[if chunk.len() > 1 {
                Op::SETITEMS
            } else {
                Op::SETITEM
            } as u8])?;
        }
        Ok(())
    }

    fn batch_set(&mut self, items: &[NodeId], depth: usize) -> Result<(), PickleError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut rest = items;
        loop {
            let n = rest.len().min(BATCH);
            self.write(&[Op::MARK as u8])?;
            for &it in &rest[..n] {
                self.save_node(it, depth + 1)?;
            }
            self.write(&[Op::ADDITEMS as u8])?;
            rest = &rest[n..];
            if n < BATCH {
                return Ok(());
            }
        }
    }

    fn fl(&self, own: Flavour) -> Flavour {
        self.flavour.unwrap_or(own)
    }

    pub(super) fn save_node(&mut self, id: NodeId, depth: usize) -> Result<(), PickleError> {
        crate::deep(|| self.save_node_inner(id, depth))
    }

    fn save_node_inner(&mut self, id: NodeId, depth: usize) -> Result<(), PickleError> {
        if depth > MAX_DEPTH {
            return Err(PickleError::TooDeep { limit: MAX_DEPTH });
        }
        let g = self.g;
        let node = g
            .nodes
            .get(id as usize)
            .ok_or_else(|| PickleError::Encode(format!("node {id} does not exist")))?;
        let key = Some(Key::Node(id));
        match node {
            Node::None => {
                self.boundary()?;
                return self.write(&[Op::NONE as u8]);
            }
            Node::Bool(b) => {
                self.boundary()?;
                return self.write(&[if *b { Op::NEWTRUE } else { Op::NEWFALSE } as u8]);
            }
            Node::Int(v) => return self.save_int_node(id, v),
            Node::Float(v) => return self.save_float(*v),
            Node::Str(s) if self.py2 && self.dialect.byte_strs.contains(&id) => {
                let b: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
                return self.save_str8(&b, key);
            }
            Node::Str(s) if self.py2 => return self.save_str(s, key),
            Node::Str(s) if !g.short_strings_distinct => return self.save_str(s, str_key(s, key)),
            Node::Bytes(b) if !g.short_strings_distinct => {
                return self.save_bytes(b, bytes_key(b, key))
            }
            Node::Str(s) => return self.save_str(s, key),
            Node::WStr(b) => return self.save_str_bytes(b, key),
            Node::Bytes(b) => return self.save_bytes(b, key),
            Node::Global(gl) => {
                let fl = Flavour::from_module(gl.module).unwrap_or(Flavour::Numpy1);
                return self.save_global(gl.sym, self.fl(fl));
            }
            _ => {}
        }
        self.boundary()?;
        if self.get(key)? {
            return Ok(());
        }
        match node {
            Node::Complex(re, im) => self.save_reduce(
                Sym::Complex,
                V::Tuple(vec![V::Float(*re), V::Float(*im)]),
                key,
                None,
            ),
            // `bytearray.__reduce_ex__`: `(bytearray, (bytes(self),))`, or `(bytearray, ())` when empty.
            Node::ByteArray(b) if b.is_empty() => {
                self.save_reduce(Sym::ByteArray, V::Tuple(vec![]), key, None)
            }
            Node::ByteArray(b) => {
                self.save_reduce(Sym::ByteArray, V::Tuple(vec![V::Bytes(b, None)]), key, None)
            }
            Node::List(items) => {
                self.write(&[Op::EMPTY_LIST as u8])?;
                self.memoize(key)?;
                self.batch_list(items, depth)
            }
            Node::Tuple(items) => {
                if items.is_empty() {
                    return self.write(&[Op::EMPTY_TUPLE as u8]);
                }
                let n = items.len();
                if n > 3 {
                    self.write(&[Op::MARK as u8])?;
                }
                for &it in items {
                    self.save_node(it, depth + 1)?;
                }
                if self.memo.contains_key(&Key::Node(id)) {
                    // A tuple reached again through its own items.
                    if n > 3 {
                        self.write(&[Op::POP_MARK as u8])?;
                    } else {
                        self.write(&vec![Op::POP as u8; n])?;
                    }
                    self.get(key)?;
                    return Ok(());
                }
                let op = match n {
                    1 => Op::TUPLE1,
                    2 => Op::TUPLE2,
                    3 => Op::TUPLE3,
                    _ => Op::TUPLE,
                };
                self.write(&[op as u8])?;
                self.memoize(key)
            }
            Node::Dict(items) => {
                self.write(&[Op::EMPTY_DICT as u8])?;
                self.memoize(key)?;
                self.batch_dict_exact(items, depth)
            }
            Node::OrderedDict(items) => {
                self.save_reduce(Sym::OrderedDict, V::Tuple(vec![]), key, None)?;
                self.batch_dict_iter(items, depth)
            }
            Node::Set(items) | Node::FrozenSet(items) => {
                let frozen = matches!(node, Node::FrozenSet(_));
                if self.proto < 4 {
                    let sym = if frozen { Sym::FrozenSet } else { Sym::Set };
                    return self.save_reduce_fl(
                        sym,
                        Flavour::Numpy2,
                        V::Tuple(vec![V::List(items)]),
                        key,
                        None,
                        depth,
                    );
                }
                if frozen {
                    self.write(&[Op::MARK as u8])?;
                    for &it in items {
                        self.save_node(it, depth + 1)?;
                    }
                    self.write(&[Op::FROZENSET as u8])?;
                    self.memoize(key)
                } else {
                    self.write(&[Op::EMPTY_SET as u8])?;
                    self.memoize(key)?;
                    self.batch_set(items, depth)
                }
            }
            Node::Dtype(d) => {
                let descr = d.dtype.numpy_descr().ok_or_else(|| {
                    PickleError::Encode(format!("numpy has no {} dtype", d.dtype))
                })?;
                let order = [d.order as char];
                let order: String = order.iter().collect();
                let order_byte = [d.order];
                // Python 2's numpy made fresh `str`s (PyString_FromFormat); numpy <= 1.18
                // wrote the flags as ints.
                let (descr_v, order_v) = if self.py2 {
                    (V::Fresh8(descr.as_bytes()), V::Fresh8(&order_byte))
                } else {
                    (V::Str(descr, None), V::Str(&order, None))
                };
                let flags = if self.int_flags || self.py2 {
                    [V::Int(0), V::Int(1)]
                } else {
                    [V::Bool(false), V::Bool(true)]
                };
                let [align, copy] = flags;
                let args = V::Tuple(vec![descr_v, align, copy]);
                let state = V::Tuple(vec![
                    V::Int(3),
                    order_v,
                    V::None,
                    V::None,
                    V::None,
                    V::Int(-1),
                    V::Int(-1),
                    V::Int(0),
                ]);
                self.save_reduce_fl(
                    Sym::DtypeType,
                    Flavour::Numpy2,
                    args,
                    key,
                    Some(state),
                    depth,
                )
            }
            Node::NdArray(a) => {
                let fl = self.fl(a.flavour);
                let (b, data) = if self.py2 {
                    (V::Str8(b"b", None), V::Str8(&a.data, None))
                } else {
                    (V::Bytes(b"b", None), V::Bytes(&a.data, None))
                };
                let args = V::Tuple(vec![
                    V::Global(Sym::NdArrayType),
                    V::Tuple(vec![V::Int(0)]),
                    b,
                ]);
                let state = V::Tuple(vec![
                    V::Int(1),
                    V::Ints(&a.shape),
                    V::Node(a.dtype),
                    V::Bool(a.fortran),
                    data,
                ]);
                self.save_reduce_fl(Sym::Reconstruct, fl, args, key, Some(state), depth)
            }
            Node::NpScalar(s) => {
                let fl = self.fl(s.flavour);
                let data = if self.py2 {
                    V::Str8(&s.data, None)
                } else {
                    V::Bytes(&s.data, None)
                };
                let args = V::Tuple(vec![V::Node(s.dtype), data]);
                self.save_reduce_fl(Sym::Scalar, fl, args, key, None, depth)
            }
            Node::DynTensor { name, array } => {
                let args = V::Tuple(vec![V::Tuple(vec![V::Node(*name), V::Node(*array)])]);
                self.save_reduce_fl(Sym::Tuple, Flavour::Numpy2, args, key, None, depth)
            }
            Node::StaticTensor { array } if self.dialect.static_tensor_fn => {
                let args = V::Tuple(vec![V::Node(*array)]);
                self.save_reduce_fl(
                    Sym::ReconstructDenseTensor,
                    Flavour::Numpy2,
                    args,
                    key,
                    None,
                    depth,
                )
            }
            Node::StaticTensor { array } => {
                let data = || V::Str("data", Some(Key::Const("data")));
                let args = V::Tuple(vec![
                    data(),
                    V::Dict1(Box::new(data()), Box::new(V::Node(*array))),
                ]);
                self.save_reduce_fl(Sym::Eval, Flavour::Numpy2, args, key, None, depth)
            }
            // `copyreg.__newobj__` of a dataclass: the class, `()`, NEWOBJ, then its
            // `__dict__` and BUILD.
            Node::Object { class, state } => {
                self.save_global_exact(*class)?;
                self.write(&[Op::EMPTY_TUPLE as u8, Op::NEWOBJ as u8])?;
                self.memoize(key)?;
                self.save_node(*state, depth + 1)?;
                self.write(&[Op::BUILD as u8])
            }
            Node::Pending(_) => Err(PickleError::Encode(
                "an object without its state cannot be pickled".into(),
            )),
            Node::None
            | Node::Bool(_)
            | Node::Int(_)
            | Node::Float(_)
            | Node::Str(_)
            | Node::WStr(_)
            | Node::Bytes(_)
            | Node::Global(_) => Ok(()),
        }
    }
}
