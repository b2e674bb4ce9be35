//! GGUF metadata values: their types, their parsing, their printing.
//!
//! [`MetaValue`] is one value of any of GGUF's thirteen value types; [`MetaArray`] is a
//! typed array, possibly of arrays. Parsing bounds every count by the bytes that remain
//! before allocating and bounds array nesting by [`MAX_NESTING`]. Nothing here interprets
//! what a key means.

use std::fmt;

use super::cursor::Cursor;
use super::error::{GgufError, Subject};

/// Deepest array nesting accepted: an array of arrays of ... counts one level per array.
pub const MAX_NESTING: usize = 8;

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(String),
    Array(MetaArray),
}

/// A metadata array: all elements share one type. Arrays of arrays may mix inner types.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<MetaArray>),
}

/// GGUF's value type ids (`gguf_type` in ggml).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    fn from_id(id: u32) -> Option<Self> {
        use ValueType::*;
        [
            U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64,
        ]
        .into_iter()
        .find(|t| *t as u32 == id)
    }

    /// The smallest encoding of one value of this type: a string is at least its u64
    /// length, an array at least its u32 element type and u64 count.
    fn min_size(self) -> u64 {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }

    /// Plural noun for error messages ("array of 7 strings").
    fn unit(self) -> &'static str {
        use ValueType::*;
        match self {
            U8 => "u8 values",
            I8 => "i8 values",
            U16 => "u16 values",
            I16 => "i16 values",
            U32 => "u32 values",
            I32 => "i32 values",
            F32 => "f32 values",
            Bool => "bools",
            String => "strings",
            Array => "arrays",
            U64 => "u64 values",
            I64 => "i64 values",
            F64 => "f64 values",
        }
    }

    fn name(self) -> &'static str {
        use ValueType::*;
        match self {
            U8 => "u8",
            I8 => "i8",
            U16 => "u16",
            I16 => "i16",
            U32 => "u32",
            I32 => "i32",
            F32 => "f32",
            Bool => "bool",
            String => "string",
            Array => "array",
            U64 => "u64",
            I64 => "i64",
            F64 => "f64",
        }
    }
}

impl MetaValue {
    pub(crate) fn value_type(&self) -> ValueType {
        match self {
            Self::U8(_) => ValueType::U8,
            Self::I8(_) => ValueType::I8,
            Self::U16(_) => ValueType::U16,
            Self::I16(_) => ValueType::I16,
            Self::U32(_) => ValueType::U32,
            Self::I32(_) => ValueType::I32,
            Self::U64(_) => ValueType::U64,
            Self::I64(_) => ValueType::I64,
            Self::F32(_) => ValueType::F32,
            Self::F64(_) => ValueType::F64,
            Self::Bool(_) => ValueType::Bool,
            Self::String(_) => ValueType::String,
            Self::Array(_) => ValueType::Array,
        }
    }

    /// The GGUF type name ("u32", "string", "array of string", ...), for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Array(a) => a.type_name(),
            other => other.value_type().name(),
        }
    }

    /// The value as an integer, if it is one of the eight integer types.
    pub(crate) fn as_integer(&self) -> Option<i128> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::I8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::I16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::I32(v) => Some(v.into()),
            Self::U64(v) => Some(v.into()),
            Self::I64(v) => Some(v.into()),
            _ => None,
        }
    }
}

impl MetaArray {
    pub(crate) fn element_type(&self) -> ValueType {
        match self {
            Self::U8(_) => ValueType::U8,
            Self::I8(_) => ValueType::I8,
            Self::U16(_) => ValueType::U16,
            Self::I16(_) => ValueType::I16,
            Self::U32(_) => ValueType::U32,
            Self::I32(_) => ValueType::I32,
            Self::U64(_) => ValueType::U64,
            Self::I64(_) => ValueType::I64,
            Self::F32(_) => ValueType::F32,
            Self::F64(_) => ValueType::F64,
            Self::Bool(_) => ValueType::Bool,
            Self::String(_) => ValueType::String,
            Self::Array(_) => ValueType::Array,
        }
    }

    /// "array of u32", "array of string", ..., for messages.
    pub fn type_name(&self) -> &'static str {
        use ValueType::*;
        match self.element_type() {
            U8 => "array of u8",
            I8 => "array of i8",
            U16 => "array of u16",
            I16 => "array of i16",
            U32 => "array of u32",
            I32 => "array of i32",
            F32 => "array of f32",
            Bool => "array of bool",
            String => "array of string",
            Array => "array of array",
            U64 => "array of u64",
            I64 => "array of i64",
            F64 => "array of f64",
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::I8(v) => v.len(),
            Self::U16(v) => v.len(),
            Self::I16(v) => v.len(),
            Self::U32(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::U64(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::String(v) => v.len(),
            Self::Array(v) => v.len(),
        }
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as integers, if this is an array of one of the integer types.
    pub(crate) fn integers(&self) -> Option<Vec<i128>> {
        fn widen<T: Copy + Into<i128>>(v: &[T]) -> Vec<i128> {
            v.iter().map(|x| (*x).into()).collect()
        }
        match self {
            Self::U8(v) => Some(widen(v)),
            Self::I8(v) => Some(widen(v)),
            Self::U16(v) => Some(widen(v)),
            Self::I16(v) => Some(widen(v)),
            Self::U32(v) => Some(widen(v)),
            Self::I32(v) => Some(widen(v)),
            Self::U64(v) => Some(widen(v)),
            Self::I64(v) => Some(widen(v)),
            _ => None,
        }
    }
}

/// Scalars print as their value (strings quoted and escaped); arrays print as a summary,
/// never their contents: `[49152 x string]`.
impl fmt::Display for MetaValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::U8(v) => write!(f, "{v}"),
            Self::I8(v) => write!(f, "{v}"),
            Self::U16(v) => write!(f, "{v}"),
            Self::I16(v) => write!(f, "{v}"),
            Self::U32(v) => write!(f, "{v}"),
            Self::I32(v) => write!(f, "{v}"),
            Self::U64(v) => write!(f, "{v}"),
            Self::I64(v) => write!(f, "{v}"),
            Self::F32(v) => write!(f, "{v}"),
            Self::F64(v) => write!(f, "{v}"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::String(s) => write!(f, "{s:?}"),
            Self::Array(a) => write!(f, "[{} x {}]", a.len(), a.element_type().name()),
        }
    }
}

/// Reads one value type id.
fn value_type(cursor: &mut Cursor<'_>, subject: &Subject) -> Result<ValueType, GgufError> {
    let offset = cursor.pos();
    let id = cursor.u32(subject, "value type")?;
    ValueType::from_id(id).ok_or_else(|| GgufError::UnknownValueType {
        offset,
        subject: subject.clone(),
        id,
    })
}

/// Reads a metadata value: its u32 type id, then the value.
pub(crate) fn parse_value(
    cursor: &mut Cursor<'_>,
    subject: &Subject,
) -> Result<MetaValue, GgufError> {
    let ty = value_type(cursor, subject)?;
    Ok(match ty {
        ValueType::U8 => MetaValue::U8(cursor.u8(subject, "u8 value")?),
        ValueType::I8 => MetaValue::I8(i8::from_le_bytes(cursor.array(subject, "i8 value")?)),
        ValueType::U16 => MetaValue::U16(u16::from_le_bytes(cursor.array(subject, "u16 value")?)),
        ValueType::I16 => MetaValue::I16(i16::from_le_bytes(cursor.array(subject, "i16 value")?)),
        ValueType::U32 => MetaValue::U32(cursor.u32(subject, "u32 value")?),
        ValueType::I32 => MetaValue::I32(i32::from_le_bytes(cursor.array(subject, "i32 value")?)),
        ValueType::U64 => MetaValue::U64(cursor.u64(subject, "u64 value")?),
        ValueType::I64 => MetaValue::I64(i64::from_le_bytes(cursor.array(subject, "i64 value")?)),
        ValueType::F32 => MetaValue::F32(f32::from_le_bytes(cursor.array(subject, "f32 value")?)),
        ValueType::F64 => MetaValue::F64(f64::from_le_bytes(cursor.array(subject, "f64 value")?)),
        ValueType::Bool => MetaValue::Bool(parse_bool(cursor, subject)?),
        ValueType::String => MetaValue::String(cursor.string(subject)?),
        ValueType::Array => MetaValue::Array(parse_array(cursor, subject, 1)?),
    })
}

fn parse_bool(cursor: &mut Cursor<'_>, subject: &Subject) -> Result<bool, GgufError> {
    let offset = cursor.pos();
    match cursor.u8(subject, "bool value")? {
        0 => Ok(false),
        1 => Ok(true),
        byte => Err(GgufError::InvalidBool {
            offset,
            subject: subject.clone(),
            byte,
        }),
    }
}

/// Reads `count` fixed-size little-endian elements in one bounds check.
fn fixed<T, const N: usize>(
    cursor: &mut Cursor<'_>,
    subject: &Subject,
    count: usize,
    from_le: fn([u8; N]) -> T,
) -> Result<Vec<T>, GgufError> {
    let n_bytes = count.saturating_mul(N);
    let bytes = cursor.take(n_bytes, subject, "array elements")?;
    Ok(bytes
        .chunks_exact(N)
        .map(|chunk| {
            let mut raw = [0u8; N];
            raw.copy_from_slice(chunk);
            from_le(raw)
        })
        .collect())
}

/// Reads an array (element type id, u64 count, elements) at nesting level `depth`
/// (1 for an array that is itself a metadata value).
fn parse_array(
    cursor: &mut Cursor<'_>,
    subject: &Subject,
    depth: usize,
) -> Result<MetaArray, GgufError> {
    if depth > MAX_NESTING {
        return Err(GgufError::NestingTooDeep {
            offset: cursor.pos(),
            subject: subject.clone(),
            max: MAX_NESTING,
        });
    }
    let ty = value_type(cursor, subject)?;
    let n = cursor.count(subject, ty.min_size(), "array of", ty.unit())?;
    Ok(match ty {
        ValueType::U8 => MetaArray::U8(fixed(cursor, subject, n, u8::from_le_bytes)?),
        ValueType::I8 => MetaArray::I8(fixed(cursor, subject, n, i8::from_le_bytes)?),
        ValueType::U16 => MetaArray::U16(fixed(cursor, subject, n, u16::from_le_bytes)?),
        ValueType::I16 => MetaArray::I16(fixed(cursor, subject, n, i16::from_le_bytes)?),
        ValueType::U32 => MetaArray::U32(fixed(cursor, subject, n, u32::from_le_bytes)?),
        ValueType::I32 => MetaArray::I32(fixed(cursor, subject, n, i32::from_le_bytes)?),
        ValueType::U64 => MetaArray::U64(fixed(cursor, subject, n, u64::from_le_bytes)?),
        ValueType::I64 => MetaArray::I64(fixed(cursor, subject, n, i64::from_le_bytes)?),
        ValueType::F32 => MetaArray::F32(fixed(cursor, subject, n, f32::from_le_bytes)?),
        ValueType::F64 => MetaArray::F64(fixed(cursor, subject, n, f64::from_le_bytes)?),
        ValueType::Bool => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(parse_bool(cursor, subject)?);
            }
            MetaArray::Bool(v)
        }
        ValueType::String => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(cursor.string(subject)?);
            }
            MetaArray::String(v)
        }
        ValueType::Array => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(parse_array(cursor, subject, depth + 1)?);
            }
            MetaArray::Array(v)
        }
    })
}

/// Writes `value`'s type id and encoding, the inverse of [`parse_value`].
pub(crate) fn encode_value(out: &mut Vec<u8>, value: &MetaValue) {
    out.extend_from_slice(&(value.value_type() as u32).to_le_bytes());
    match value {
        MetaValue::U8(v) => out.push(*v),
        MetaValue::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::Bool(v) => out.push(u8::from(*v)),
        MetaValue::String(s) => encode_string(out, s),
        MetaValue::Array(a) => encode_array(out, a),
    }
}

/// Writes a GGUF string: u64 length, bytes.
pub(crate) fn encode_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode_array(out: &mut Vec<u8>, array: &MetaArray) {
    out.extend_from_slice(&(array.element_type() as u32).to_le_bytes());
    out.extend_from_slice(&(array.len() as u64).to_le_bytes());
    fn each<T: Copy, const N: usize>(out: &mut Vec<u8>, v: &[T], to_le: fn(T) -> [u8; N]) {
        v.iter().for_each(|x| out.extend_from_slice(&to_le(*x)));
    }
    match array {
        MetaArray::U8(v) => out.extend_from_slice(v),
        MetaArray::I8(v) => each(out, v, i8::to_le_bytes),
        MetaArray::U16(v) => each(out, v, u16::to_le_bytes),
        MetaArray::I16(v) => each(out, v, i16::to_le_bytes),
        MetaArray::U32(v) => each(out, v, u32::to_le_bytes),
        MetaArray::I32(v) => each(out, v, i32::to_le_bytes),
        MetaArray::U64(v) => each(out, v, u64::to_le_bytes),
        MetaArray::I64(v) => each(out, v, i64::to_le_bytes),
        MetaArray::F32(v) => each(out, v, f32::to_le_bytes),
        MetaArray::F64(v) => each(out, v, f64::to_le_bytes),
        MetaArray::Bool(v) => v.iter().for_each(|b| out.push(u8::from(*b))),
        MetaArray::String(v) => v.iter().for_each(|s| encode_string(out, s)),
        MetaArray::Array(v) => v.iter().for_each(|a| encode_array(out, a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Subject = Subject::Header;

    fn round_trip(value: MetaValue) {
        let mut bytes = Vec::new();
        encode_value(&mut bytes, &value);
        let mut cursor = Cursor::new(&bytes);
        let parsed = parse_value(&mut cursor, &S).unwrap();
        assert_eq!(parsed, value);
        assert_eq!(cursor.remaining(), 0, "{value:?} left bytes behind");
    }

    #[test]
    fn every_scalar_type_round_trips() {
        round_trip(MetaValue::U8(200));
        round_trip(MetaValue::I8(-100));
        round_trip(MetaValue::U16(65000));
        round_trip(MetaValue::I16(-30000));
        round_trip(MetaValue::U32(4_000_000_000));
        round_trip(MetaValue::I32(-2_000_000_000));
        round_trip(MetaValue::U64(u64::MAX));
        round_trip(MetaValue::I64(i64::MIN));
        round_trip(MetaValue::F32(1e-5));
        round_trip(MetaValue::F64(-2.5e300));
        round_trip(MetaValue::Bool(true));
        round_trip(MetaValue::Bool(false));
        round_trip(MetaValue::String("héllo ▁world".into()));
        round_trip(MetaValue::String(String::new()));
    }

    #[test]
    fn every_array_type_round_trips_including_nested() {
        round_trip(MetaValue::Array(MetaArray::U8(vec![1, 2, 3])));
        round_trip(MetaValue::Array(MetaArray::I8(vec![-1, 2])));
        round_trip(MetaValue::Array(MetaArray::U16(vec![1, 65535])));
        round_trip(MetaValue::Array(MetaArray::I16(vec![-1, 7])));
        round_trip(MetaValue::Array(MetaArray::U32(vec![])));
        round_trip(MetaValue::Array(MetaArray::I32(vec![-5, 9, 100])));
        round_trip(MetaValue::Array(MetaArray::U64(vec![u64::MAX])));
        round_trip(MetaValue::Array(MetaArray::I64(vec![i64::MIN, 0])));
        round_trip(MetaValue::Array(MetaArray::F32(vec![0.5, -0.25])));
        round_trip(MetaValue::Array(MetaArray::F64(vec![1e100])));
        round_trip(MetaValue::Array(MetaArray::Bool(vec![true, false, true])));
        round_trip(MetaValue::Array(MetaArray::String(vec![
            "a".into(),
            "".into(),
            "ü".into(),
        ])));
        round_trip(MetaValue::Array(MetaArray::Array(vec![
            MetaArray::U32(vec![1, 2]),
            MetaArray::String(vec!["x".into()]),
            MetaArray::Array(vec![MetaArray::Bool(vec![])]),
        ])));
    }

    /// An array of arrays nested `levels` deep, innermost an empty u8 array.
    fn nested(levels: usize) -> MetaValue {
        let mut a = MetaArray::U8(vec![]);
        for _ in 1..levels {
            a = MetaArray::Array(vec![a]);
        }
        MetaValue::Array(a)
    }

    #[test]
    fn nesting_is_bounded() {
        round_trip(nested(MAX_NESTING));
        let mut bytes = Vec::new();
        encode_value(&mut bytes, &nested(MAX_NESTING + 1));
        let e = parse_value(&mut Cursor::new(&bytes), &S).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::NestingTooDeep {
                    max: MAX_NESTING,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_types_and_bad_bools_are_named() {
        let e = parse_value(&mut Cursor::new(&13u32.to_le_bytes()), &S).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::UnknownValueType {
                    offset: 0,
                    id: 13,
                    ..
                }
            ),
            "{e:?}"
        );

        let mut arr = 9u32.to_le_bytes().to_vec();
        arr.extend_from_slice(&99u32.to_le_bytes());
        let e = parse_value(&mut Cursor::new(&arr), &S).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::UnknownValueType {
                    offset: 4,
                    id: 99,
                    ..
                }
            ),
            "{e:?}"
        );

        let mut b = 7u32.to_le_bytes().to_vec();
        b.push(2);
        let e = parse_value(&mut Cursor::new(&b), &S).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::InvalidBool {
                    offset: 4,
                    byte: 2,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn array_counts_are_checked_against_the_element_size() {
        // Array of 3 u32 with only 11 bytes of elements.
        let mut bytes = 9u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(&3u64.to_le_bytes());
        bytes.extend_from_slice(&[0; 11]);
        let e = parse_value(&mut Cursor::new(&bytes), &S).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at byte 8: header: array of 3 u32 values cannot fit in the 11 remaining bytes"
        );
    }

    #[test]
    fn display_summarises_arrays_and_quotes_strings() {
        assert_eq!(
            MetaValue::String("a\"b\n".into()).to_string(),
            r#""a\"b\n""#
        );
        assert_eq!(MetaValue::F32(100000.0).to_string(), "100000");
        let tokens = MetaValue::Array(MetaArray::String(vec!["a".into(); 3]));
        assert_eq!(tokens.to_string(), "[3 x string]");
        assert_eq!(tokens.type_name(), "array of string");
    }
}
