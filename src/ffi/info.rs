//! What the library is and which kernel tier this CPU gets: static strings only.

use std::ffi::{c_char, CStr};

use slimlm_kernels::dispatch::Isa;

use super::status::guard_value;

/// The tier's name as a static C string (the `SLIMLM_ISA` spelling).
pub fn isa_c_name(isa: Isa) -> &'static CStr {
    match isa {
        Isa::Scalar => c"scalar",
        Isa::Neon => c"neon",
        Isa::Dotprod => c"dotprod",
        Isa::I8mm => c"i8mm",
        Isa::Avx2 => c"avx2",
        Isa::Avx512 => c"avx512",
    }
}

/// `const char *slimlm_version(void)`: the library version, e.g. "0.1.0" (static).
#[no_mangle]
pub extern "C" fn slimlm_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("the package version contains a NUL"),
        };
    VERSION.as_ptr()
}

/// `const char *slimlm_isa_detected(void)`: the best kernel tier this CPU reports,
/// whatever `SLIMLM_ISA` says (static).
#[no_mangle]
pub extern "C" fn slimlm_isa_detected() -> *const c_char {
    guard_value("slimlm_isa_detected", c"scalar".as_ptr(), || {
        isa_c_name(Isa::detect()).as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_tier_are_static_c_strings() {
        // SAFETY: both return static NUL-terminated strings.
        let (version, isa) = unsafe {
            (
                CStr::from_ptr(slimlm_version()),
                CStr::from_ptr(slimlm_isa_detected()),
            )
        };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(isa.to_str().unwrap(), Isa::detect().name());
        for isa in Isa::ALL {
            assert_eq!(isa_c_name(isa).to_str().unwrap(), isa.name());
        }
    }
}
