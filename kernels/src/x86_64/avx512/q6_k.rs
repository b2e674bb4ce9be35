//! Q6_K panels x Q8_0 activations in the avx512 tier: the avx2 integer core
//! ([`super::super::avx2::q6_k`]: int16 weights times their sub-block scales, `madd`)
//! compiled with AVX-512's 32 vector registers for the tier's 4-panel GEMM tile.

use core::arch::x86_64::__m256i;

use super::super::avx2::q6_k::Q6KAvx2;
use super::panel::{self, Core};
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ6Kx4;

/// The avx512 tile of the Q6_K product.
pub(in crate::x86_64) struct Q6KWide;

impl Core for Q6KWide {
    type F = panel::Q6K;
    type APrep = <Q6KAvx2 as Core>::APrep;
    type WPrep = <Q6KAvx2 as Core>::WPrep;
    const PERM: [i32; 8] = Q6KAvx2::PERM;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> Self::APrep {
        // SAFETY: the caller's guarantees (a superset of AVX2), forwarded.
        unsafe { Q6KAvx2::prep_act(a) }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ6Kx4) -> Self::WPrep {
        // SAFETY: as in `prep_act`.
        unsafe { Q6KAvx2::prep_weights(p) }
    }

    #[inline(always)]
    unsafe fn isum(w: &Self::WPrep, a: &Self::APrep) -> __m256i {
        // SAFETY: as in `prep_act`.
        unsafe { Q6KAvx2::isum(w, a) }
    }

    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn tile<const G: usize, const MR: usize>(
        w: &[BlockQ6Kx4],
        kb: usize,
        a: &[BlockQ8_0],
        out: &mut [f32],
        ldo: usize,
    ) {
        // SAFETY: this function is compiled with (and its caller guarantees) the tier.
        unsafe { panel::tile::<Self, G, MR>(w, kb, a, out, ldo) }
    }
}
