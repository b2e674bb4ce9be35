//! Instruction-set tiers: what this CPU reports, and which tier the kernels use.
//!
//! The tier is chosen once, from the features the CPU reports at run time (HWCAP on
//! aarch64, CPUID on x86_64), never from compile-time `target-cpu` flags or the CPU's model
//! name. `SLIMLM_ISA=scalar|neon|dotprod|i8mm|avx2|avx512` forces a tier; a value that is
//! unknown, or that this CPU cannot run, is an error and never a silent fallback.

use core::fmt;

/// A kernel tier. Each SIMD tier implies the ones below it on the same architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Portable scalar code: the reference every other tier must match.
    Scalar,
    /// ARMv8.0 Advanced SIMD (smull/smlal, pairwise widening adds).
    Neon,
    /// ARMv8.2 dot product (sdot).
    Dotprod,
    /// ARMv8.6 int8 matrix multiply (smmla).
    I8mm,
    /// x86-64 AVX2 + FMA + F16C.
    Avx2,
    /// x86-64 AVX-512 F/BW/VL + VNNI.
    Avx512,
}

impl Isa {
    /// Every tier, in the order of the `SLIMLM_ISA` documentation.
    pub const ALL: [Isa; 6] = [
        Isa::Scalar,
        Isa::Neon,
        Isa::Dotprod,
        Isa::I8mm,
        Isa::Avx2,
        Isa::Avx512,
    ];

    /// The name used by `SLIMLM_ISA` and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Neon => "neon",
            Isa::Dotprod => "dotprod",
            Isa::I8mm => "i8mm",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parses a `SLIMLM_ISA` value (case-insensitive).
    pub fn parse(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the tier (always true for `Scalar`).
    #[cfg(feature = "std")]
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[cfg(target_arch = "aarch64")]
            Isa::Dotprod => {
                Isa::Neon.is_available() && std::arch::is_aarch64_feature_detected!("dotprod")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::I8mm => {
                Isa::Dotprod.is_available() && std::arch::is_aarch64_feature_detected!("i8mm")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                    && std::arch::is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.is_available()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The best tier this CPU reports.
    #[cfg(feature = "std")]
    pub fn detect() -> Isa {
        Isa::ALL
            .into_iter()
            .rev()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Scalar)
    }

    /// The tier to use: `SLIMLM_ISA` when set (validated), else [`Isa::detect`].
    #[cfg(feature = "std")]
    pub fn from_env() -> Result<Isa, IsaError> {
        match std::env::var("SLIMLM_ISA") {
            Ok(value) => Isa::select(&value),
            Err(std::env::VarError::NotPresent) => Ok(Isa::detect()),
            Err(std::env::VarError::NotUnicode(_)) => Err(IsaError::Unknown("<non-UTF-8>".into())),
        }
    }

    /// Validates a requested tier name against this CPU.
    #[cfg(feature = "std")]
    pub fn select(name: &str) -> Result<Isa, IsaError> {
        let isa = Isa::parse(name).ok_or_else(|| IsaError::Unknown(name.into()))?;
        if isa.is_available() {
            Ok(isa)
        } else {
            Err(IsaError::Unsupported {
                requested: isa,
                best: Isa::detect(),
            })
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a requested tier cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IsaError {
    /// The name is not a tier.
    Unknown(alloc::string::String),
    /// This CPU does not report the features the tier needs.
    Unsupported { requested: Isa, best: Isa },
}

impl fmt::Display for IsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IsaError::Unknown(name) => write!(
                f,
                "SLIMLM_ISA={name:?} is not a kernel tier (expected one of scalar, neon, dotprod, i8mm, avx2, avx512)"
            ),
            IsaError::Unsupported { requested, best } => write!(
                f,
                "SLIMLM_ISA={requested}: this CPU does not support it (best available: {best})"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for IsaError {}

/// The CPU features that matter to the tiers, as reported at run time, for logs and test
/// output (e.g. "neon dotprod" under `QEMU_CPU=cortex-a76`).
#[cfg(feature = "std")]
pub fn cpu_features() -> alloc::string::String {
    let mut names: alloc::vec::Vec<&str> = alloc::vec::Vec::new();
    #[cfg(target_arch = "aarch64")]
    {
        use std::arch::is_aarch64_feature_detected as has;
        for (name, on) in [
            ("neon", has!("neon")),
            ("dotprod", has!("dotprod")),
            ("i8mm", has!("i8mm")),
            ("fp16", has!("fp16")),
            ("bf16", has!("bf16")),
            ("sve", has!("sve")),
            ("sve2", has!("sve2")),
        ] {
            if on {
                names.push(name);
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        for (name, on) in [
            ("avx2", has!("avx2")),
            ("fma", has!("fma")),
            ("f16c", has!("f16c")),
            ("avx512f", has!("avx512f")),
            ("avx512bw", has!("avx512bw")),
            ("avx512vl", has!("avx512vl")),
            ("avx512vnni", has!("avx512vnni")),
        ] {
            if on {
                names.push(name);
            }
        }
    }
    names.join(" ")
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse("NEON"), Some(Isa::Neon));
        assert_eq!(Isa::parse("sse2"), None);
    }

    #[test]
    fn unknown_and_unsupported_tiers_are_errors() {
        assert!(matches!(Isa::select("fast"), Err(IsaError::Unknown(_))));
        assert_eq!(Isa::select("scalar"), Ok(Isa::Scalar));
        #[cfg(target_arch = "x86_64")]
        assert!(matches!(
            Isa::select("i8mm"),
            Err(IsaError::Unsupported { .. })
        ));
        #[cfg(target_arch = "aarch64")]
        assert!(matches!(
            Isa::select("avx2"),
            Err(IsaError::Unsupported { .. })
        ));
    }

    /// Under qemu the emulated CPU decides the tier: the harness sets
    /// `SLIMLM_EXPECT_ISA` to the tier that CPU model must report, so a run on the wrong
    /// model (or with broken detection) fails instead of silently testing less.
    #[test]
    fn detected_tier_is_the_expected_one() {
        let detected = Isa::detect();
        std::println!("detected tier {detected}; cpu features: {}", cpu_features());
        if let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") {
            assert_eq!(
                detected.name(),
                expected,
                "cpu features: {}",
                cpu_features()
            );
        }
    }
}
