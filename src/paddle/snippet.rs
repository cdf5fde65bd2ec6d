//! A save-side object as a Python snippet that builds it with real numpy and Paddle and
//! saves it, so a maintainer can paste a counterexample and see the same thing.

use std::fmt::Write;

use super::object::{Obj, ObjGraph, ObjId, TensorKind};

fn py_float(v: f64) -> String {
    if v.is_nan() {
        "float('nan')".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "float('inf')".into()
        } else {
            "float('-inf')".into()
        }
    } else {
        format!("{v:?}")
    }
}

fn py_str(s: &str) -> String {
    // JSON string syntax is valid Python for str literals.
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}

fn shape(s: &[u64]) -> String {
    match s.len() {
        0 => "()".into(),
        1 => format!("({},)", s[0]),
        _ => format!(
            "({})",
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python source that rebuilds `g` and runs `paddle.save(obj, path, protocol=protocol)`.
pub fn python_snippet(g: &ObjGraph, protocol: i64, path: &str) -> String {
    let mut out = String::from("import collections\nimport numpy as np\nimport paddle\n\n");
    let mut done = vec![false; g.objs.len()];
    let root = emit(g, g.root, &mut out, &mut done, 0);
    let _ = writeln!(out, "obj = {root}");
    let _ = writeln!(
        out,
        "paddle.save(obj, {}, protocol={protocol})",
        py_str(path)
    );
    let _ = writeln!(out, "print(paddle.load({}))", py_str(path));
    out
}

fn emit(g: &ObjGraph, id: ObjId, out: &mut String, done: &mut [bool], depth: usize) -> String {
    let var = format!("o{id}");
    if depth > 500 || id >= done.len() {
        return "None".into();
    }
    if done[id] {
        return var;
    }
    let mut sub = |x: ObjId, out: &mut String| emit(g, x, out, done, depth + 1);
    let expr = match g.get(id) {
        Obj::None => "None".into(),
        Obj::Bool(b) => if *b { "True" } else { "False" }.into(),
        Obj::Int(i) => i.to_string(),
        Obj::Float(f) => py_float(*f),
        Obj::Complex(r, i) => format!("complex({}, {})", py_float(*r), py_float(*i)),
        Obj::Str(s) => py_str(s),
        Obj::Bytes(b) => format!("bytes.fromhex('{}')", hex::encode(b)),
        Obj::ByteArray(b) => format!("bytearray.fromhex('{}')", hex::encode(b)),
        Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) | Obj::FrozenSet(v) => {
            let items: Vec<String> = v.iter().map(|&x| sub(x, out)).collect();
            match g.get(id) {
                Obj::List(_) => format!("[{}]", items.join(", ")),
                Obj::Tuple(_) if items.len() == 1 => format!("({},)", items[0]),
                Obj::Tuple(_) => format!("({})", items.join(", ")),
                Obj::Set(_) => format!("set([{}])", items.join(", ")),
                _ => format!("frozenset([{}])", items.join(", ")),
            }
        }
        Obj::Dict(p) | Obj::OrderedDict(p) => {
            let items: Vec<String> = p
                .iter()
                .map(|&(k, v)| format!("({}, {})", sub(k, out), sub(v, out)))
                .collect();
            if matches!(g.get(id), Obj::Dict(_)) {
                format!("dict([{}])", items.join(", "))
            } else {
                format!("collections.OrderedDict([{}])", items.join(", "))
            }
        }
        Obj::NdArray(a) => {
            let dt = format!(
                "{}{}",
                if a.order == b'>' { '>' } else { '<' },
                a.dtype.name()
            );
            let flat = format!(
                "np.frombuffer(bytes.fromhex('{}'), dtype=np.dtype('{}'))",
                hex::encode(&a.data),
                dt.trim_start_matches('<')
            );
            let flat = if a.order == b'>' {
                format!(
                    "np.frombuffer(bytes.fromhex('{}'), dtype=np.dtype('{}').newbyteorder('>'))",
                    hex::encode(&a.data),
                    a.dtype.name()
                )
            } else {
                flat
            };
            if a.fortran {
                format!(
                    "np.asfortranarray({flat}.reshape({}, order='F'))",
                    shape(&a.shape)
                )
            } else {
                format!("{flat}.reshape({}).copy()", shape(&a.shape))
            }
        }
        Obj::NpScalar { dtype, data } => format!(
            "np.frombuffer(bytes.fromhex('{}'), dtype='{}')[0]",
            hex::encode(data),
            dtype.name()
        ),
        Obj::Tensor(t) => {
            let np = t.dtype.numpy_carrier().name();
            let arr = format!(
                "np.frombuffer(bytes.fromhex('{}'), dtype='{np}').reshape({}).copy()",
                hex::encode(&t.data),
                shape(&t.shape)
            );
            let _ = writeln!(out, "{var} = paddle.to_tensor({arr})");
            match t.kind {
                TensorKind::Static => {
                    let _ = writeln!(out, "{var} = {var}.value().get_tensor()");
                }
                TensorKind::Parameter => {
                    let _ = writeln!(
                        out,
                        "_p = paddle.base.framework.EagerParamBase(shape={:?}, dtype='{}', name={})\n_p.set_value({var})\n{var} = _p",
                        t.shape,
                        t.dtype.name(),
                        t.name.as_deref().map(py_str).unwrap_or_else(|| "None".into())
                    );
                }
                TensorKind::Dynamic => {
                    if let Some(n) = &t.name {
                        let _ = writeln!(out, "{var}.name = {}", py_str(n));
                    }
                    let _ = writeln!(
                        out,
                        "{var}.stop_gradient = {}",
                        if t.stop_gradient { "True" } else { "False" }
                    );
                }
            }
            done[id] = true;
            return var;
        }
        Obj::Layer => "paddle.nn.Linear(2, 2)".into(),
        Obj::Program => "paddle.static.Program()".into(),
    };
    let _ = writeln!(out, "{var} = {expr}");
    done[id] = true;
    var
}
