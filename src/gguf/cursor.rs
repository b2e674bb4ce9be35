//! Bounded little-endian reads over a byte slice.
//!
//! Every read checks the bytes that remain first and returns a [`GgufError`] naming the
//! byte offset and the [`Subject`] being read; nothing here panics or allocates, except
//! [`Cursor::string`] which copies exactly the validated string bytes.

use super::error::{GgufError, Subject};

/// A read position in a byte slice. Positions are offsets from the start of the file.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The offset of the next byte to be read.
    pub(crate) fn pos(&self) -> u64 {
        self.pos as u64
    }

    /// Bytes left after the current position.
    pub(crate) fn remaining(&self) -> u64 {
        self.bytes.len().saturating_sub(self.pos) as u64
    }

    /// The next `N` bytes, or a `Truncated` error naming `field`.
    pub(crate) fn array<const N: usize>(
        &mut self,
        subject: &Subject,
        field: &'static str,
    ) -> Result<[u8; N], GgufError> {
        let truncated = || GgufError::Truncated {
            offset: self.pos(),
            subject: subject.clone(),
            field,
            size: N as u64,
            remaining: self.remaining(),
        };
        let end = self.pos.checked_add(N).ok_or_else(truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or_else(truncated)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos = end;
        Ok(out)
    }

    /// The next `n` bytes as a slice. The caller has already bounded `n` by
    /// [`Cursor::count`]; a shortfall is still reported, never panics.
    pub(crate) fn take(
        &mut self,
        n: usize,
        subject: &Subject,
        field: &'static str,
    ) -> Result<&'a [u8], GgufError> {
        let truncated = || GgufError::Truncated {
            offset: self.pos(),
            subject: subject.clone(),
            field,
            size: n as u64,
            remaining: self.remaining(),
        };
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self, subject: &Subject, field: &'static str) -> Result<u8, GgufError> {
        let [b] = self.array::<1>(subject, field)?;
        Ok(b)
    }

    pub(crate) fn u32(&mut self, subject: &Subject, field: &'static str) -> Result<u32, GgufError> {
        self.array(subject, field).map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self, subject: &Subject, field: &'static str) -> Result<u64, GgufError> {
        self.array(subject, field).map(u64::from_le_bytes)
    }

    /// Reads a u64 count of items that take at least `min_size` bytes each and checks,
    /// before anyone allocates, that that many items can fit in the rest of the file.
    /// `what` and `unit` word the error: "{what} {count} {unit} cannot fit ...".
    pub(crate) fn count(
        &mut self,
        subject: &Subject,
        min_size: u64,
        what: &'static str,
        unit: &'static str,
    ) -> Result<usize, GgufError> {
        let offset = self.pos();
        let count = self.u64(subject, "count")?;
        let remaining = self.remaining();
        let fits = count
            .checked_mul(min_size)
            .is_some_and(|bytes| bytes <= remaining);
        match usize::try_from(count) {
            Ok(n) if fits => Ok(n),
            _ => Err(GgufError::CountTooLarge {
                offset,
                subject: subject.clone(),
                what,
                count,
                unit,
                remaining,
            }),
        }
    }

    /// A GGUF string: u64 byte length, then that many bytes of UTF-8.
    pub(crate) fn string(&mut self, subject: &Subject) -> Result<String, GgufError> {
        let len = self.count(subject, 1, "string of", "bytes")?;
        let offset = self.pos();
        let bytes = self.take(len, subject, "string")?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(GgufError::InvalidUtf8 {
                offset,
                subject: subject.clone(),
                valid_up_to: e.valid_up_to(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Subject = Subject::Header;

    #[test]
    fn reads_little_endian_and_advances() {
        let bytes = [1, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9];
        let mut c = Cursor::new(&bytes);
        assert_eq!(c.u8(&S, "a").unwrap(), 1);
        assert_eq!(c.u32(&S, "b").unwrap(), 2);
        assert_eq!(c.u64(&S, "c").unwrap(), 3);
        assert_eq!(c.pos(), 13);
        assert_eq!(c.remaining(), 1);
        assert_eq!(c.take(1, &S, "d").unwrap(), &[9]);
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn short_read_is_truncated_error_and_does_not_advance() {
        let bytes = [1, 2, 3];
        let mut c = Cursor::new(&bytes);
        c.u8(&S, "x").unwrap();
        let e = c.u32(&S, "version").unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::Truncated {
                    offset: 1,
                    size: 4,
                    remaining: 2,
                    field: "version",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(c.pos(), 1);
        assert!(c.take(usize::MAX, &S, "big").is_err());
        assert_eq!(c.pos(), 1);
    }

    #[test]
    fn count_is_bounded_by_remaining_bytes() {
        let mut bytes = 3u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 12]);
        assert_eq!(
            Cursor::new(&bytes).count(&S, 4, "array of", "u32").unwrap(),
            3
        );
        let e = Cursor::new(&bytes)
            .count(&S, 5, "array of", "x")
            .unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::CountTooLarge {
                    offset: 0,
                    count: 3,
                    remaining: 12,
                    ..
                }
            ),
            "{e:?}"
        );
        let huge = u64::MAX.to_le_bytes();
        let e = Cursor::new(&huge)
            .count(&S, 8, "array of", "strings")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "at byte 0: header: array of 18446744073709551615 strings cannot fit in the 0 \
             remaining bytes"
        );
    }

    #[test]
    fn strings_must_be_utf8() {
        let mut bytes = 2u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"ok");
        assert_eq!(Cursor::new(&bytes).string(&S).unwrap(), "ok");
        let mut bad = 3u64.to_le_bytes().to_vec();
        bad.extend_from_slice(&[b'a', 0xff, b'b']);
        let e = Cursor::new(&bad).string(&S).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::InvalidUtf8 {
                    offset: 8,
                    valid_up_to: 1,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn string_longer_than_the_rest_is_rejected_before_reading() {
        let mut bytes = 100u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"short");
        let e = Cursor::new(&bytes).string(&S).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::CountTooLarge {
                    count: 100,
                    remaining: 5,
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
