//! Values for people: a loaded value as Python would `repr` it (cut to a length), and an
//! array's elements the way numpy prints them (nested brackets, columns aligned, the edges
//! of each axis only when there are more elements than asked for). Used by `show`,
//! `inspect` (non-tensor entries) and `diff`.

use std::fmt::Write;

use crate::dtype::DType;
use crate::paddle::load::Item;

/// `repr(value)` as Python writes it, cut to about `max` characters (`…` marks the cut).
pub fn repr(item: &Item, max: usize) -> String {
    let mut s = String::new();
    repr_into(item, &mut s, max, 0);
    if s.chars().count() > max {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        return format!("{cut}…");
    }
    s
}

/// A Python float's repr: the shortest text that reads back as the same float.
pub fn float_repr(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else if v == v.trunc() && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        // Rust's shortest round-trip text; Python writes exponents with at least two digits.
        let t = format!("{v:?}");
        match t.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => t,
        }
    }
}

fn str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

fn bytes_repr(b: &[u8]) -> String {
    let mut out = String::from("b'");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('\'');
    out
}

fn shape_text(shape: &[u64]) -> String {
    let v: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", v.join(", "))
}

fn repr_into(item: &Item, s: &mut String, max: usize, depth: usize) {
    if s.len() > max + 8 || depth > 64 {
        s.push('…');
        return;
    }
    let seq = |s: &mut String,
               items: &mut dyn Iterator<Item = Item>,
               open: &str,
               close: &str,
               one: bool| {
        s.push_str(open);
        let mut n = 0;
        for (i, x) in items.enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            if s.len() > max + 8 {
                s.push('…');
                break;
            }
            repr_into(&x, s, max, depth + 1);
            n += 1;
        }
        if one && n == 1 {
            s.push(',');
        }
        s.push_str(close);
    };
    match item {
        Item::None => s.push_str("None"),
        Item::Program => s.push_str("<paddle.static.Program>"),
        Item::Bool(b) => s.push_str(if *b { "True" } else { "False" }),
        // Past 4300 digits decimal printing is quadratic (CPython refuses it): the size only.
        Item::Int(i) if crate::view::too_many_digits(i) => {
            let bits = match i {
                crate::pickle::PyInt::Big(b) => b.bits(),
                _ => 64,
            };
            let _ = write!(
                s,
                "<int of more than {} digits ({bits} bits)>",
                crate::view::MAX_INT_DIGITS
            );
        }
        Item::Int(i) => {
            let t = i.to_string();
            if t.len() > max {
                let _ = write!(s, "<int of {} digits>", t.trim_start_matches('-').len());
            } else {
                s.push_str(&t);
            }
        }
        Item::Float(f) => s.push_str(&float_repr(*f)),
        Item::Complex(r, i) => {
            let _ = write!(s, "({}+{}j)", float_repr(*r), float_repr(*i));
        }
        Item::Str(t) => s.push_str(&str_repr(t)),
        // A str with lone surrogates: Python's repr escapes them as \udXXX.
        Item::WStr(b) => {
            s.push('\'');
            for r in crate::pickle::surrogate_runs(b) {
                match r {
                    Ok(t) => {
                        let q = str_repr(t);
                        let inner = &q[1..q.len() - 1];
                        if q.starts_with('"') {
                            s.push_str(&inner.replace('\'', "\\'"));
                        } else {
                            s.push_str(inner);
                        }
                    }
                    Err(cp) => s.push_str(&format!("\\u{cp:04x}")),
                }
            }
            s.push('\'');
        }
        Item::Bytes(b) => s.push_str(&bytes_repr(b)),
        Item::ByteArray(b) => {
            let _ = write!(s, "bytearray({})", bytes_repr(b));
        }
        Item::List(q) => seq(s, &mut q.iter(), "[", "]", false),
        Item::Tuple(q) => seq(s, &mut q.iter(), "(", ")", true),
        Item::Set(q) if q.is_empty() => s.push_str("set()"),
        Item::Set(q) => seq(s, &mut q.iter(), "{", "}", false),
        Item::FrozenSet(q) => seq(s, &mut q.iter(), "frozenset({", "})", false),
        Item::Dict(m) | Item::OrderedDict(m) => {
            let od = matches!(item, Item::OrderedDict(_));
            s.push_str(if od { "OrderedDict({" } else { "{" });
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                if s.len() > max + 8 {
                    s.push('…');
                    break;
                }
                repr_into(&k, s, max, depth + 1);
                s.push_str(": ");
                repr_into(&v, s, max, depth + 1);
            }
            s.push_str(if od { "})" } else { "}" });
        }
        Item::NdArray(a) => {
            let _ = write!(s, "array(shape={}, dtype={})", shape_text(a.shape), a.dtype);
        }
        Item::NpScalar { dtype, data } => {
            let le = crate::numpy::to_little_endian(dtype.dtype, dtype.order, data);
            let v = element_text(dtype.dtype, &le).unwrap_or_else(|| hex::encode(&le[..]));
            let _ = write!(s, "np.{}({v})", dtype.dtype);
        }
        Item::Dtype(d) => {
            let _ = write!(s, "dtype('{}')", d.dtype);
        }
        Item::Tensor { dtype, array, name } => {
            let _ = write!(
                s,
                "Tensor(shape={}, dtype={}",
                shape_text(array.shape),
                dtype
            );
            if let Some(n) = name {
                let _ = write!(s, ", name={}", str_repr(n));
            }
            s.push(')');
        }
    }
}

/// The elements of an array (little-endian, C order) as numbers, when the dtype has them.
pub fn element_text(dtype: DType, le: &[u8]) -> Option<String> {
    Some(match dtype {
        DType::Bool => if le.first()? != &0 { "True" } else { "False" }.into(),
        DType::Int8 => (le[0] as i8).to_string(),
        DType::UInt8 => le[0].to_string(),
        DType::Int16 => i16::from_le_bytes(le.get(..2)?.try_into().ok()?).to_string(),
        DType::UInt16 => u16::from_le_bytes(le.get(..2)?.try_into().ok()?).to_string(),
        DType::Int32 => i32::from_le_bytes(le.get(..4)?.try_into().ok()?).to_string(),
        DType::UInt32 => u32::from_le_bytes(le.get(..4)?.try_into().ok()?).to_string(),
        DType::Int64 => i64::from_le_bytes(le.get(..8)?.try_into().ok()?).to_string(),
        DType::UInt64 | DType::SizeT => {
            u64::from_le_bytes(le.get(..8)?.try_into().ok()?).to_string()
        }
        DType::Float16 => num(half::f16::from_le_bytes(le.get(..2)?.try_into().ok()?).to_f64()),
        DType::BFloat16 => num(half::bf16::from_le_bytes(le.get(..2)?.try_into().ok()?).to_f64()),
        DType::Float32 => num(f32::from_le_bytes(le.get(..4)?.try_into().ok()?) as f64),
        DType::Float64 => num(f64::from_le_bytes(le.get(..8)?.try_into().ok()?)),
        DType::Complex64 => {
            let re = f32::from_le_bytes(le.get(..4)?.try_into().ok()?) as f64;
            let im = f32::from_le_bytes(le.get(4..8)?.try_into().ok()?) as f64;
            format!("{}{:+}j", num(re), im)
        }
        DType::Complex128 => {
            let re = f64::from_le_bytes(le.get(..8)?.try_into().ok()?);
            let im = f64::from_le_bytes(le.get(8..16)?.try_into().ok()?);
            format!("{}{:+}j", num(re), im)
        }
        DType::Float8E4M3FN | DType::Float8E5M2 => format!("0x{:02x}", le.first()?),
    })
}

/// A float as numpy prints an element: up to 8 significant digits, no trailing zeros.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return float_repr(v);
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0." } else { "0." }.into();
    }
    let a = v.abs();
    if (1e-4..1e16).contains(&a) {
        let t = format!("{v:.8}");
        let t = t.trim_end_matches('0');
        // Keep 8 significant digits at most.
        let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
        if digits > 9 {
            let int_digits = (a.log10().floor() as i32 + 1).max(1);
            let prec = (8 - int_digits).max(0) as usize;
            let t = format!("{v:.prec$}");
            return t.trim_end_matches('0').to_string();
        }
        t.to_string()
    } else {
        let t = format!("{v:.7e}");
        let (m, e) = t.split_once('e').unwrap_or((&t, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        let (sign, d) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
        format!("{m}e{sign}{d:0>2}")
    }
}

/// How much of an array to print.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Print every element when there are at most this many; else the first and last
    /// `edge` of each axis.
    pub threshold: u64,
    pub edge: u64,
}

impl Default for Limit {
    /// numpy's defaults: 1000 elements, 3 at each edge.
    fn default() -> Self {
        Limit {
            threshold: 1000,
            edge: 3,
        }
    }
}

/// An array's elements as numpy prints them: `[[1., 2.], [3., 4.]]`, summarized with `...`
/// past `limit.threshold` elements.
pub fn array_text(dtype: DType, shape: &[u64], le: &[u8], limit: Limit) -> String {
    let numel: u64 = shape.iter().product();
    let size = dtype.itemsize();
    if le.len() as u64 != numel * size as u64 {
        return format!("<{} bytes for {numel} elements of {dtype}>", le.len());
    }
    let summarize = numel > limit.threshold;
    // Elements printed, for the column width.
    let mut cells: Vec<(u64, String)> = Vec::new();
    collect(shape, 0, 0, summarize, limit.edge, &mut |i| {
        let at = (i as usize) * size;
        let t = element_text(dtype, &le[at..at + size]).unwrap_or_default();
        cells.push((i, t));
    });
    // numpy aligns the decimal points: the integer parts right, the fractions left.
    let split = |t: &str| -> (String, String) {
        match t.find('.') {
            Some(p) if !t.contains('e') => (t[..p].to_string(), t[p..].to_string()),
            _ => (t.to_string(), String::new()),
        }
    };
    let parts: Vec<(String, String)> = cells.iter().map(|(_, t)| split(t)).collect();
    let iw = parts
        .iter()
        .map(|(a, _)| a.chars().count())
        .max()
        .unwrap_or(0);
    let fw = parts
        .iter()
        .map(|(_, b)| b.chars().count())
        .max()
        .unwrap_or(0);
    let text: std::collections::HashMap<u64, String> = cells
        .iter()
        .zip(parts)
        .map(|((i, _), (a, b))| (*i, format!("{a:>iw$}{b:<fw$}")))
        .collect();
    let width = iw + fw;
    let mut out = String::new();
    if shape.is_empty() {
        return text.get(&0).cloned().unwrap_or_default();
    }
    render(
        shape, 0, 0, summarize, limit.edge, width, &text, &mut out, 1,
    );
    out
}

/// Visits the flat indices printed, in order.
fn collect(
    shape: &[u64],
    axis: usize,
    base: u64,
    summarize: bool,
    edge: u64,
    f: &mut dyn FnMut(u64),
) {
    if axis == shape.len() {
        f(base);
        return;
    }
    let stride: u64 = shape[axis + 1..].iter().product();
    for i in shown(shape[axis], summarize, edge) {
        collect(shape, axis + 1, base + i * stride, summarize, edge, f);
    }
}

fn shown(n: u64, summarize: bool, edge: u64) -> Vec<u64> {
    if summarize && n > 2 * edge {
        (0..edge).chain(n - edge..n).collect()
    } else {
        (0..n).collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    shape: &[u64],
    axis: usize,
    base: u64,
    summarize: bool,
    edge: u64,
    width: usize,
    text: &std::collections::HashMap<u64, String>,
    out: &mut String,
    indent: usize,
) {
    let n = shape[axis];
    let stride: u64 = shape[axis + 1..].iter().product();
    let idx = shown(n, summarize, edge);
    let cut = summarize && n > 2 * edge;
    out.push('[');
    let last_axis = axis + 1 == shape.len();
    for (j, &i) in idx.iter().enumerate() {
        if j > 0 {
            if last_axis {
                out.push(' ');
            } else {
                out.push('\n');
                let blank = shape.len() - axis - 2;
                for _ in 0..blank {
                    out.push('\n');
                }
                out.push_str(&" ".repeat(indent));
            }
        }
        if cut && j as u64 == edge {
            out.push_str("...");
            if last_axis {
                out.push(' ');
            } else {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            }
        }
        if last_axis {
            let t = text
                .get(&(base + i * stride))
                .map(String::as_str)
                .unwrap_or("");
            let _ = write!(out, "{t:>width$}");
        } else {
            render(
                shape,
                axis + 1,
                base + i * stride,
                summarize,
                edge,
                width,
                text,
                out,
                indent + 1,
            );
        }
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn arrays_print_as_numpy_does() {
        let t = array_text(
            DType::Float32,
            &[2, 2],
            &f32s(&[1.0, 2.5, -3.0, 4.0]),
            Limit::default(),
        );
        assert_eq!(t, "[[ 1.   2.5]\n [-3.   4. ]]");
        let big: Vec<f32> = (0..2000).map(|i| i as f32).collect();
        let t = array_text(DType::Float32, &[2000], &f32s(&big), Limit::default());
        assert_eq!(t, "[   0.    1.    2. ... 1997. 1998. 1999.]");
        let i: Vec<u8> = [1i64, -20].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            array_text(DType::Int64, &[2], &i, Limit::default()),
            "[  1 -20]"
        );
        assert_eq!(
            array_text(DType::Float32, &[], &f32s(&[0.5]), Limit::default()),
            "0.5"
        );
    }

    #[test]
    fn floats_repr_as_python() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(1.5e300), "1.5e+300");
        assert_eq!(num(0.1234567891), "0.12345679");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(3.0), "3.");
    }
}
