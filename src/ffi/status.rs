//! Return codes, the last error message of each thread, and the panic guard around every
//! entry point.
//!
//! A failing call returns a [`Status`] other than [`Status::Ok`] and stores a message
//! naming the function and the argument at fault; `slimlm_last_error` returns it. A panic
//! (a bug in slimlm) is caught, reported as [`Status::Internal`], and never unwinds into C.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// `slimlm_status` in the header: what went wrong, as a C enum.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 1,
    /// An argument is out of range, malformed, misaligned or overlaps another.
    InvalidArgument = 2,
    /// The output buffer is too small; the needed size was written.
    BufferTooSmall = 3,
    /// The model file could not be loaded (missing, malformed, unsupported).
    Load = 4,
    /// The tokens do not fit in the session's context.
    ContextFull = 5,
    /// The call is not valid in the object's current state (e.g. logits before any eval).
    InvalidState = 6,
    /// The CPU or the library does not support what was asked (tier, format).
    Unsupported = 7,
    /// An allocation failed.
    OutOfMemory = 8,
    /// A bug in slimlm (a caught panic); the objects involved should be freed.
    Internal = 9,
}

/// A failed call: its status and a message naming what and where.
#[derive(Debug)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }

    pub fn null(what: &str) -> Error {
        Error::new(Status::NullArgument, format!("`{what}` is NULL"))
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }
}

thread_local! {
    /// The message of the last failed call on this thread (NUL-terminated for C).
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(function: &str, message: &str) {
    // Interior NULs would cut the C string short: show them instead.
    let text = format!("{function}: {message}").replace('\0', "\\0");
    let c = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = c);
}

/// Runs the body of entry point `function`: its error, or a panic, becomes the returned
/// status and this thread's last error message.
pub fn guard(function: &str, body: impl FnOnce() -> Result<(), Error>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::Ok,
        Ok(Err(e)) => {
            set_last_error(function, &e.message);
            e.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(
                function,
                &format!("internal error (a bug in slimlm, please report it): {what}"),
            );
            Status::Internal
        }
    }
}

/// Runs an entry point that returns a value instead of a status (getters, free
/// functions): a panic yields `fallback` and sets the last error.
pub fn guard_value<T>(function: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    let mut value = None;
    let status = guard(function, || {
        value = Some(body());
        Ok(())
    });
    match (status, value) {
        (Status::Ok, Some(v)) => v,
        _ => fallback,
    }
}

/// `const char *slimlm_last_error(void)`: the message of the last failed call on the
/// calling thread ("" if none). Valid until the next failed call on this thread.
#[no_mangle]
pub extern "C" fn slimlm_last_error() -> *const c_char {
    // `with` cannot fail here (the value is never destroyed while the thread runs C code),
    // but a panic must not unwind into C: fall back to a static empty string.
    catch_unwind(|| LAST_ERROR.with(|last| last.borrow().as_ptr())).unwrap_or(c"".as_ptr())
}

impl Status {
    /// Every status, in value order.
    pub const ALL: [Status; 10] = [
        Status::Ok,
        Status::NullArgument,
        Status::InvalidArgument,
        Status::BufferTooSmall,
        Status::Load,
        Status::ContextFull,
        Status::InvalidState,
        Status::Unsupported,
        Status::OutOfMemory,
        Status::Internal,
    ];

    /// The header's name of the constant.
    pub fn c_name(self) -> &'static CStr {
        match self {
            Status::Ok => c"SLIMLM_OK",
            Status::NullArgument => c"SLIMLM_ERR_NULL_ARGUMENT",
            Status::InvalidArgument => c"SLIMLM_ERR_INVALID_ARGUMENT",
            Status::BufferTooSmall => c"SLIMLM_ERR_BUFFER_TOO_SMALL",
            Status::Load => c"SLIMLM_ERR_LOAD",
            Status::ContextFull => c"SLIMLM_ERR_CONTEXT_FULL",
            Status::InvalidState => c"SLIMLM_ERR_INVALID_STATE",
            Status::Unsupported => c"SLIMLM_ERR_UNSUPPORTED",
            Status::OutOfMemory => c"SLIMLM_ERR_OUT_OF_MEMORY",
            Status::Internal => c"SLIMLM_ERR_INTERNAL",
        }
    }
}

/// `const char *slimlm_status_name(int)`: the constant's name, e.g.
/// "SLIMLM_ERR_NULL_ARGUMENT" ("SLIMLM_UNKNOWN_STATUS" for a value outside the enum).
#[no_mangle]
pub extern "C" fn slimlm_status_name(status: i32) -> *const c_char {
    Status::ALL
        .into_iter()
        .find(|&s| s as i32 == status)
        .map_or(c"SLIMLM_UNKNOWN_STATUS", Status::c_name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last() -> String {
        // SAFETY: slimlm_last_error always returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(slimlm_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn errors_and_panics_become_status_and_message() {
        assert_eq!(guard("f", || Ok(())), Status::Ok);
        assert_eq!(
            guard("slimlm_f", || Err(Error::null("model"))),
            Status::NullArgument
        );
        assert_eq!(last(), "slimlm_f: `model` is NULL");
        let status = guard("slimlm_g", || panic!("boom {}", 1));
        assert_eq!(status, Status::Internal);
        assert!(last().starts_with("slimlm_g: internal error"), "{}", last());
        assert!(last().ends_with("boom 1"), "{}", last());
        assert_eq!(guard_value("slimlm_h", 7, || panic!("x")), 7);
        assert_eq!(guard_value("slimlm_h", 7, || 3), 3);
    }

    /// The header's enum constants (`SLIMLM_... = N,`) against this side's values.
    #[test]
    fn header_constants_match_the_rust_values() {
        let header =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/slimlm.h"))
                .unwrap();
        let mut statuses = 0;
        for line in header.lines().map(str::trim) {
            if !line.starts_with("SLIMLM_") {
                continue;
            }
            let Some((name, value)) = line.trim_end_matches(',').split_once(" = ") else {
                continue;
            };
            let value: i32 = value.parse().unwrap();
            if let Some(ty) = name.strip_prefix("SLIMLM_TYPE_") {
                let id = u32::try_from(value).unwrap();
                let ggml = slimlm_kernels::formats::GgmlType::from_id(id).unwrap();
                assert_eq!(ggml.name(), ty, "{line}");
            } else {
                // SAFETY: static NUL-terminated strings.
                let rust = unsafe { CStr::from_ptr(slimlm_status_name(value)) };
                assert_eq!(rust.to_str().unwrap(), name, "{line}");
                statuses += 1;
            }
        }
        assert_eq!(statuses, 10, "status constants found in the header");
        assert_eq!(Status::Internal as i32, 9);
    }

    #[test]
    fn status_names_follow_the_enum() {
        for (i, status) in Status::ALL.into_iter().enumerate() {
            assert_eq!(status as usize, i);
            // SAFETY: static NUL-terminated strings.
            let got = unsafe { CStr::from_ptr(slimlm_status_name(i as i32)) };
            assert_eq!(got, status.c_name());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(slimlm_status_name(-1)) };
        assert_eq!(unknown, c"SLIMLM_UNKNOWN_STATUS");
    }
}
