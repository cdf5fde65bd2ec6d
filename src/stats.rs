//! Summary statistics of one array for `pdsave inspect --stats`: min, max and mean over
//! the values that are not NaN, and the NaN and infinity counts (numpy's `nanmin`,
//! `nanmax`, `nanmean`; spec/inspect.md). Computed from little-endian element bytes, in
//! one pass, without allocating.

use crate::dtype::DType;
use serde::{Serialize, Serializer};

/// A statistic's value: exact for integer arrays, a float otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i128),
    Float(f64),
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Num::Int(v) => match (i64::try_from(v), u64::try_from(v)) {
                (Ok(i), _) => s.serialize_i64(i),
                (_, Ok(u)) => s.serialize_u64(u),
                _ => s.serialize_str(&v.to_string()),
            },
            Num::Float(v) if v.is_nan() => s.serialize_str("nan"),
            Num::Float(v) if v.is_infinite() => {
                s.serialize_str(if v > 0.0 { "inf" } else { "-inf" })
            }
            Num::Float(v) => s.serialize_f64(v),
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Num::Int(v) => write!(f, "{v}"),
            Num::Float(v) => write!(f, "{}", short(v)),
        }
    }
}

/// A float in at most 6 significant digits (`1.5`, `-0.0312`, `1.2e-7`).
pub fn short(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "-0".into()
        } else {
            s.into()
        }
    }
}

/// Statistics of one array. `min`, `max` and `mean` are `None` when every element is
/// NaN (or the array is empty).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stats {
    pub min: Option<Num>,
    pub max: Option<Num>,
    pub mean: Option<f64>,
    pub nan: u64,
    pub inf: u64,
}

#[derive(Default)]
struct FloatAcc {
    min: f64,
    max: f64,
    sum: f64,
    n: u64,
    nan: u64,
    inf: u64,
}

impl FloatAcc {
    fn new() -> Self {
        FloatAcc {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            ..Default::default()
        }
    }
    #[inline]
    fn add(&mut self, v: f64) {
        if v.is_nan() {
            self.nan += 1;
            return;
        }
        if v.is_infinite() {
            self.inf += 1;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.n += 1;
    }
    fn finish(self) -> Stats {
        let some = self.n > 0;
        Stats {
            min: some.then_some(Num::Float(self.min)),
            max: some.then_some(Num::Float(self.max)),
            mean: some.then(|| self.sum / self.n as f64),
            nan: self.nan,
            inf: self.inf,
        }
    }
}

/// f32 arrays, the common case, in lanes of 8 so the compiler vectorises: per-lane
/// min/max/sum in f32 for NaN-free chunks; the sum is carried in f64 per chunk.
fn f32_stats(b: &[u8]) -> Stats {
    let mut acc = FloatAcc::new();
    const LANES: usize = 8;
    const CHUNK: usize = 4096; // elements summed in f32 before going to f64
    let mut chunks = b.chunks_exact(CHUNK * 4);
    for c in &mut chunks {
        let mut mn = [f32::INFINITY; LANES];
        let mut mx = [f32::NEG_INFINITY; LANES];
        let mut sm = [0f32; LANES];
        let mut special = false;
        for w in c.chunks_exact(LANES * 4) {
            for l in 0..LANES {
                let v = f32::from_le_bytes([w[4 * l], w[4 * l + 1], w[4 * l + 2], w[4 * l + 3]]);
                special |= !v.is_finite();
                mn[l] = mn[l].min(v);
                mx[l] = mx[l].max(v);
                sm[l] += v;
            }
        }
        if special {
            // NaN or infinity in this chunk: redo it element by element.
            for e in c.chunks_exact(4) {
                acc.add(f32::from_le_bytes([e[0], e[1], e[2], e[3]]) as f64);
            }
        } else {
            for l in 0..LANES {
                acc.min = acc.min.min(mn[l] as f64);
                acc.max = acc.max.max(mx[l] as f64);
                acc.sum += sm[l] as f64;
            }
            acc.n += CHUNK as u64;
        }
    }
    for e in chunks.remainder().chunks_exact(4) {
        acc.add(f32::from_le_bytes([e[0], e[1], e[2], e[3]]) as f64);
    }
    acc.finish()
}

fn floats(b: &[u8], size: usize, get: impl Fn(&[u8]) -> f64) -> Stats {
    let mut acc = FloatAcc::new();
    for e in b.chunks_exact(size) {
        acc.add(get(e));
    }
    acc.finish()
}

fn ints(b: &[u8], size: usize, get: impl Fn(&[u8]) -> i128) -> Stats {
    let (mut min, mut max, mut sum, mut n) = (i128::MAX, i128::MIN, 0i128, 0u64);
    for e in b.chunks_exact(size) {
        let v = get(e);
        min = min.min(v);
        max = max.max(v);
        sum = sum.saturating_add(v);
        n += 1;
    }
    let some = n > 0;
    Stats {
        min: some.then_some(Num::Int(min)),
        max: some.then_some(Num::Int(max)),
        mean: some.then(|| sum as f64 / n as f64),
        nan: 0,
        inf: 0,
    }
}

/// Statistics of the little-endian element bytes of an array read as `dtype` (a uint16
/// array that loads as bfloat16 is read as bfloat16). `None` for complex, float8 and
/// size_t dtypes, and for empty arrays.
pub fn stats(dtype: DType, le: &[u8]) -> Option<Stats> {
    if le.is_empty() {
        return None;
    }
    macro_rules! int {
        ($t:ty) => {
            ints(le, std::mem::size_of::<$t>(), |e| {
                <$t>::from_le_bytes(e.try_into().unwrap_or_default()) as i128
            })
        };
    }
    Some(match dtype {
        DType::Float32 => f32_stats(le),
        DType::Float64 => floats(le, 8, |e| {
            f64::from_le_bytes(e.try_into().unwrap_or_default())
        }),
        DType::Float16 => floats(le, 2, |e| half::f16::from_le_bytes([e[0], e[1]]).to_f64()),
        DType::BFloat16 => floats(le, 2, |e| half::bf16::from_le_bytes([e[0], e[1]]).to_f64()),
        DType::Bool => ints(le, 1, |e| (e[0] != 0) as i128),
        DType::Int8 => int!(i8),
        DType::Int16 => int!(i16),
        DType::Int32 => int!(i32),
        DType::Int64 => int!(i64),
        DType::UInt8 => int!(u8),
        DType::UInt16 => int!(u16),
        DType::UInt32 => int!(u32),
        DType::UInt64 => int!(u64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn float32_ignores_nan_counts_inf_and_agrees_between_fast_and_slow_paths() {
        // 3 full chunks (fast path) + a remainder, one chunk with a NaN (slow path).
        let mut v: Vec<f32> = (0..3 * 4096 + 5).map(|i| (i % 97) as f32 - 40.0).collect();
        v[5000] = f32::NAN;
        v[7] = f32::INFINITY;
        let s = stats(DType::Float32, &f32s(&v)).unwrap();
        let finite: Vec<f64> = v
            .iter()
            .filter(|x| !x.is_nan())
            .map(|&x| x as f64)
            .collect();
        assert_eq!(s.nan, 1);
        assert_eq!(s.inf, 1);
        assert_eq!(s.max, Some(Num::Float(f64::INFINITY)));
        assert_eq!(s.min, Some(Num::Float(-40.0)));
        assert_eq!(
            s.mean,
            Some(finite.iter().sum::<f64>() / finite.len() as f64)
        );
        let no_special: Vec<f32> = (0..4096 * 2).map(|i| (i % 13) as f32 * 0.5).collect();
        let s = stats(DType::Float32, &f32s(&no_special)).unwrap();
        let slow = floats(&f32s(&no_special), 4, |e| {
            f32::from_le_bytes(e.try_into().unwrap()) as f64
        });
        assert_eq!((s.min, s.max, s.nan), (slow.min, slow.max, slow.nan));
        assert!((s.mean.unwrap() - slow.mean.unwrap()).abs() < 1e-9);
    }

    #[test]
    fn integers_are_exact_and_bf16_is_read_as_bfloat16() {
        let b: Vec<u8> = [i64::MIN, 3, i64::MAX]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let s = stats(DType::Int64, &b).unwrap();
        assert_eq!(s.min, Some(Num::Int(i64::MIN as i128)));
        assert_eq!(s.max, Some(Num::Int(i64::MAX as i128)));
        // bfloat16 1.0 is 0x3f80, -2.0 is 0xc000.
        let s = stats(DType::BFloat16, &[0x80, 0x3f, 0x00, 0xc0]).unwrap();
        assert_eq!(
            (s.min, s.max),
            (Some(Num::Float(-2.0)), Some(Num::Float(1.0)))
        );
        assert_eq!(stats(DType::Complex64, &[0; 8]), None);
        assert_eq!(stats(DType::Float32, &[]), None);
        let all_nan = stats(DType::Float64, &f64::NAN.to_le_bytes()).unwrap();
        assert_eq!((all_nan.min, all_nan.nan), (None, 1));
    }
}
