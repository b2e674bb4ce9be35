//! Checked conversions from C arguments: every pointer and size an entry point receives
//! goes through here before it is read, so NULL, size overflow, misalignment and overlap
//! become errors naming the argument instead of undefined behaviour.
//!
//! What cannot be checked stays the caller's promise (the `# Safety` sections): that a
//! non-NULL pointer is valid for the size given and that a handle is live.

use std::ffi::{c_char, CStr};
use std::path::PathBuf;

use super::status::Error;

/// Bytes taken by `count` values of `T`, if that is a valid size for one object
/// (at most `isize::MAX`, as `slice::from_raw_parts` requires).
pub fn byte_size<T>(count: usize, what: &str) -> Result<usize, Error> {
    count
        .checked_mul(std::mem::size_of::<T>())
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .ok_or_else(|| {
            Error::invalid(format!(
                "`{what}`: {count} elements of {} bytes overflow the address space",
                std::mem::size_of::<T>()
            ))
        })
}

/// `a * b`, or an error naming the product.
pub fn mul(a: usize, b: usize, what: &str) -> Result<usize, Error> {
    a.checked_mul(b)
        .ok_or_else(|| Error::invalid(format!("{what}: {a} x {b} overflows")))
}

fn check_pointer<T>(ptr: *const T, count: usize, what: &str) -> Result<(), Error> {
    byte_size::<T>(count, what)?;
    if ptr.is_null() {
        return Err(Error::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid(format!(
            "`{what}` ({ptr:p}) is not aligned to {} bytes",
            std::mem::align_of::<T>()
        )));
    }
    Ok(())
}

/// `count` values of `T` at `ptr`; NULL is accepted only for `count == 0`.
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads of `count` values for `'a`, and not written
/// through another pointer meanwhile.
pub unsafe fn slice<'a, T>(ptr: *const T, count: usize, what: &str) -> Result<&'a [T], Error> {
    if count == 0 {
        return Ok(&[]);
    }
    check_pointer(ptr, count, what)?;
    // SAFETY: non-NULL, aligned, a valid object size (checked above) and valid for reads
    // (the caller's promise).
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// `count` values of `T` at `ptr`, to write; NULL is accepted only for `count == 0`.
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads and writes of `count` values for `'a`, and not
/// accessed through another pointer meanwhile (see [`disjoint`]).
pub unsafe fn slice_mut<'a, T>(
    ptr: *mut T,
    count: usize,
    what: &str,
) -> Result<&'a mut [T], Error> {
    if count == 0 {
        return Ok(&mut []);
    }
    check_pointer(ptr, count, what)?;
    // SAFETY: as in `slice`, and the caller promises exclusive access.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, count) })
}

/// The object a non-NULL handle points to.
///
/// # Safety
/// A non-NULL `ptr` must point to a live `T` not mutated elsewhere during `'a`.
pub unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller's promise; NULL is turned into an error.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::null(what))
}

/// The object a non-NULL handle points to, to modify.
///
/// # Safety
/// A non-NULL `ptr` must point to a live `T` used by no one else during `'a`.
pub unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller's promise; NULL is turned into an error.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::null(what))
}

/// Writes `value` through an output pointer.
///
/// # Safety
/// A non-NULL `ptr` must be valid for writing a `T`.
pub unsafe fn write_out<T>(ptr: *mut T, value: T, what: &str) -> Result<(), Error> {
    if ptr.is_null() {
        return Err(Error::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid(format!("`{what}` ({ptr:p}) is misaligned")));
    }
    // SAFETY: non-NULL and aligned (checked), valid for writes (the caller's promise).
    // `write` does not drop the old value, which may be uninitialized.
    unsafe { ptr.write(value) };
    Ok(())
}

/// A buffer argument as a byte range, for overlap checks made before any slice exists.
#[derive(Clone, Copy)]
pub struct Span<'s> {
    what: &'s str,
    start: usize,
    bytes: usize,
}

/// The bytes `count` values of `T` at `ptr` take.
pub fn span<'s, T>(what: &'s str, ptr: *const T, count: usize) -> Result<Span<'s>, Error> {
    Ok(Span {
        what,
        start: ptr as usize,
        bytes: byte_size::<T>(count, what)?,
    })
}

/// Checks that an output buffer does not overlap another buffer.
pub fn disjoint(out: Span<'_>, other: Span<'_>) -> Result<(), Error> {
    let (a, b) = (out.start, other.start);
    if out.bytes == 0
        || other.bytes == 0
        || a.saturating_add(out.bytes) <= b
        || b.saturating_add(other.bytes) <= a
    {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "`{}` overlaps `{}`: outputs need their own buffer",
        out.what, other.what
    )))
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string valid during `'a`.
pub unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: non-NULL, NUL-terminated (the caller's promise).
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    utf8(bytes, what)
}

/// A NUL-terminated path argument (any bytes on Unix).
///
/// # Safety
/// As [`c_str`].
pub unsafe fn c_path(ptr: *const c_char, what: &str) -> Result<PathBuf, Error> {
    if ptr.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: non-NULL, NUL-terminated (the caller's promise).
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    if bytes.is_empty() {
        return Err(Error::invalid(format!("`{what}` is an empty string")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        utf8(bytes, what).map(PathBuf::from)
    }
}

/// `bytes` as UTF-8, or an error naming the first invalid byte.
pub fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid(format!(
            "`{what}` is not valid UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })
}

/// Copies `src` into the caller's buffer under the size-query convention: `*needed` always
/// gets `src.len()`; a NULL `dst` with `capacity == 0` is a query (nothing else happens,
/// `Ok(None)`); otherwise the copy needs `capacity >= src.len() + extra` (`extra` slots left
/// for a terminator that the caller of this function writes) or fails with
/// `BufferTooSmall`.
///
/// # Safety
/// A non-NULL `dst` must be valid for writes of `capacity` values; a non-NULL `needed`
/// must be valid for a write.
pub unsafe fn copy_out<'a, T: Copy>(
    src: &[T],
    extra: usize,
    dst: *mut T,
    capacity: usize,
    needed: *mut usize,
    names: (&str, &str, &str),
) -> Result<Option<&'a mut [T]>, Error> {
    let (dst_name, capacity_name, needed_name) = names;
    // SAFETY: the caller's promise about `needed`.
    unsafe { write_out(needed, src.len(), needed_name)? };
    if dst.is_null() && capacity == 0 {
        return Ok(None);
    }
    // SAFETY: the caller's promise about `dst` and `capacity`.
    let out = unsafe { slice_mut(dst, capacity, dst_name)? };
    let want = src.len().saturating_add(extra);
    if capacity < want {
        return Err(Error::new(
            super::Status::BufferTooSmall,
            format!(
                "`{capacity_name}` is {capacity} but {want} are needed (`{needed_name}` says how many)"
            ),
        ));
    }
    out[..src.len()].copy_from_slice(src);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::Status;

    #[test]
    fn null_is_only_accepted_for_empty_slices() {
        // SAFETY: NULL with count 0 is never read.
        let empty: &[f32] = unsafe { slice(std::ptr::null(), 0, "x") }.unwrap();
        assert!(empty.is_empty());
        // SAFETY: NULL is rejected before any read.
        let e = unsafe { slice::<f32>(std::ptr::null(), 3, "x") }.unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (Status::NullArgument, "`x` is NULL")
        );
    }

    #[test]
    fn huge_and_misaligned_sizes_are_rejected_before_any_read() {
        let data = [0u32; 4];
        // SAFETY: the size check fails before the pointer is used.
        let e = unsafe { slice(data.as_ptr(), usize::MAX / 2, "tokens") }.unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument);
        assert!(e.message.contains("overflow"), "{}", e.message);
        let odd = data.as_ptr().cast::<u8>().wrapping_add(1).cast::<u32>();
        // SAFETY: the alignment check fails before the pointer is used.
        let e = unsafe { slice(odd, 1, "tokens") }.unwrap_err();
        assert!(e.message.contains("not aligned"), "{}", e.message);
    }

    #[test]
    fn overlap_is_detected() {
        let buf = [0f32; 8];
        let p = buf.as_ptr();
        let at = |what, i: usize, n| span(what, p.wrapping_add(i), n).unwrap();
        assert!(disjoint(at("out", 0, 4), at("x", 4, 4)).is_ok());
        let e = disjoint(at("out", 0, 5), at("x", 4, 4)).unwrap_err();
        assert_eq!(
            e.message,
            "`out` overlaps `x`: outputs need their own buffer"
        );
        assert!(disjoint(at("out", 4, 4), at("x", 0, 5)).is_err());
        assert!(disjoint(at("out", 0, 0), at("x", 0, 8)).is_ok());
    }

    #[test]
    fn copy_out_follows_the_size_query_convention() {
        let src = [1u32, 2, 3];
        let mut needed = 0usize;
        let names = ("buf", "capacity", "needed");
        // SAFETY: NULL buffer with capacity 0 is a query; `needed` is a valid local.
        let query = unsafe { copy_out(&src, 0, std::ptr::null_mut(), 0, &mut needed, names) };
        assert!(matches!(query, Ok(None)));
        assert_eq!(needed, 3);
        // SAFETY: NULL with a capacity is rejected before any write.
        let e =
            unsafe { copy_out(&src, 0, std::ptr::null_mut(), 3, &mut needed, names) }.unwrap_err();
        assert_eq!(e.status, Status::NullArgument);
        let mut buf = [0u32; 3];
        // SAFETY: `buf` holds 3 values.
        unsafe { copy_out(&src, 0, buf.as_mut_ptr(), 3, &mut needed, names) }.unwrap();
        assert_eq!(buf, src);
        // SAFETY: as above; one slot short for the terminator.
        let e = unsafe { copy_out(&src, 1, buf.as_mut_ptr(), 3, &mut needed, names) }.unwrap_err();
        assert_eq!(e.status, Status::BufferTooSmall);
        assert!(e.message.contains("is 3 but 4 are needed"), "{}", e.message);
    }
}
