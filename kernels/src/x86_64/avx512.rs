//! The avx512 tier (AVX-512 F/BW/VL + VNNI): x4x8 weight panels times int8 activation rows
//! with `vpdpbusd`, bit-identical with the scalar tier ([`crate::matmul::scalar`]).
//!
//! Kernels `gemm_{q8_0,q4_0,q6_k}x4x8_q8_0_16x4_avx512` and
//! `gemm_q4_1x4x8_q8_1_16x4_avx512`. The loop nest, the reduction, the float stage and the
//! operand loaders are the shared x86 layer ([`super::panel`], [`super::format`],
//! [`super::operands`]), as for the avx2 tier; this tier's integer core is
//! `_mm256_dpbusd_epi32` (AVX512-VNNI on 256-bit vectors through AVX512-VL): u8 x i8, four
//! products summed straight into an int32 lane, with NO int16 stage and no saturation (it
//! is `vpdpbusd`, not `vpdpbusds`). 256-bit vectors because a 32-byte panel vector (4 rows
//! x 8 bytes) meets an activation group broadcast by a plain `vpbroadcastq`, with no
//! cross-lane shuffles, and the int32 sums come out in the lane order the shared reduction
//! takes; with the 32 vector registers of AVX-512 a GEMM tile is 4 panels (16 weight rows)
//! x 4 activation rows: each activation block's preparation (broadcasts, offset sums) then
//! serves 16 rows instead of 8, which cut the user time of a 510-token SmolLM2 prompt by
//! 8-16% for Q4_0, Q8_0 and Q4_1 (one thread, alternating runs).
//!
//! Q6_K runs the Q8_0 core once per half of each block (sub-blocks of 16 have their own
//! int8 scales), then scales each half's int32 lanes with `vpmulld`.
//!
//! Exactness per format (bounds in each file): Q4_1 multiplies the unsigned codes directly;
//! Q4_0 multiplies the un-XORed codes 0..=15 and starts each sum at `-8 * sum(a)`; Q8_0
//! makes the weights unsigned (`w ^ 0x80 = w + 128`) and starts at `-128 * sum(a)`; Q6_K
//! multiplies `w + 32` and starts each half at `-32 * sum(a)` of that half. The
//! correction terms are laid out lane by lane like the products, so every int32 lane is
//! its exact partial sum.
//!
//! Nothing here allocates; all loads stay inside the blocks passed in.
//!
//! Needs Rust 1.89 (AVX-512 target features and `_mm256_dpbusd_epi32` were stabilized
//! there), the workspace's declared minimum.

mod q4_0;
mod q4_1;
mod q6_k;
mod q8_0;

use core::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_dpbusd_epi32, _mm256_loadu_si256, _mm256_permute2x128_si256,
    _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_sub_epi32,
};

use super::panel::panel_kernel;
use crate::matmul::contract::{kernel, KernelTable};

/// GEMM tile width in row groups (4 panels x 4 activation rows: 8 accumulator pairs).
const GEMM_GROUPS: usize = 4;

panel_kernel!(gemm_q8_0x4x8_q8_0_16x4_avx512, q8_0::Q8_0Vnni, GEMM_GROUPS);
panel_kernel!(gemm_q4_0x4x8_q8_0_16x4_avx512, q4_0::Q4_0Vnni, GEMM_GROUPS);
panel_kernel!(gemm_q4_1x4x8_q8_1_16x4_avx512, q4_1::Q4_1Vnni, GEMM_GROUPS);
panel_kernel!(gemm_q6_kx4x8_q8_0_16x4_avx512, q6_k::Q6KVnni, GEMM_GROUPS);

/// Installs the avx512 kernels over the avx2 table: GEMM tiles of 16 weight rows x 4
/// activation rows, GEMV 16 weight rows.
pub(crate) fn install(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_16x4_avx512, 16 x 4, gemv 16);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_16x4_avx512, 16 x 4, gemv 16);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_16x4_avx512, 16 x 4, gemv 16);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_16x4_avx512, 16 x 4, gemv 16);
}

/// An activation block ready for a core whose weights carry an unsigned offset `k`: the
/// four activation operands, in the order of the core's weight vectors, and the start of
/// every int32 lane, `-k * (the activations of that lane)` ([`neg_offset_sums`]).
#[derive(Clone, Copy)]
pub(in crate::x86_64) struct OffsetAct {
    groups: [__m256i; 4],
    start: __m256i,
}

/// `start` plus the products of the weight vectors `w` with the activation operands `x`:
/// one `vpdpbusd` per pair, in order (u8 x i8, four products summed into each int32 lane).
///
/// # Safety
/// The CPU must support AVX512-VNNI/VL.
#[inline(always)]
unsafe fn dpbusd4(start: __m256i, w: &[__m256i; 4], x: &[__m256i; 4]) -> __m256i {
    // SAFETY: the caller guarantees the features.
    unsafe {
        w.iter()
            .zip(x)
            .fold(start, |s, (&w, &x)| _mm256_dpbusd_epi32(s, w, x))
    }
}

/// `-k * (the activations)` laid out like the products of a panel block with the
/// activation groups: lane `2r + j` (every row `r`) = `-k * sum(a[8q + 4j..8q + 4j + 4])`
/// over the four groups `q`, the exact image of the `k`-offset that `isum` adds.
///
/// # Safety
/// The CPU must support AVX2 and AVX512-VNNI/VL.
#[inline(always)]
unsafe fn neg_offset_sums(qs: &[i8; 32], k: u8) -> __m256i {
    // SAFETY: the caller guarantees the features; the load reads the 32 bytes of `qs`.
    unsafe {
        // Lane l (0..8) = k * sum(a[4l..4l + 4]), i.e. group l / 2, half l % 2;
        // |lane| <= 4 * 255 * 128.
        let c = _mm256_dpbusd_epi32(
            _mm256_setzero_si256(),
            _mm256_set1_epi8(k as i8),
            _mm256_loadu_si256(qs.as_ptr().cast()),
        );
        // Sum the four groups of each half: add the other 128-bit half (groups q + 2),
        // then the other 64-bit half (q ^ 1); every lane of parity j ends with the total.
        let y = _mm256_add_epi32(c, _mm256_permute2x128_si256(c, c, 0x01));
        let z = _mm256_add_epi32(y, _mm256_shuffle_epi32(y, 0x4E));
        _mm256_sub_epi32(_mm256_setzero_si256(), z)
    }
}
