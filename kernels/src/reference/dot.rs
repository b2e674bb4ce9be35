//! Scalar reference dot products of a quantized weight row with a quantized activation
//! row, following ggml's `ggml_vec_dot_*_generic` (ggml-cpu/quants.c) operation by
//! operation: exact integer sums per block first, then the f16/f32 scales, accumulated
//! in f32 in the same order. Nothing is fused (no fma), so the f32 results are the ones
//! ggml's C computes when the compiler does not contract `a * b + c`.
//!
//! The per-block integer sums are public functions of their own: SIMD tiers must match
//! them bit for bit. Their float results are only required to match within the
//! tolerance documented in `kernels/tests/reference_dot.rs`.
//!
//! Every `dot_*` takes two equally long block slices (`w.len() == a.len()`, checked by a
//! debug assertion); in release builds extra blocks of the longer slice are ignored.
//!
//! No integer sum here can overflow for any bit pattern of the blocks (bounds in each
//! doc comment), so overflow checks never fire.

use crate::formats::{
    f16_to_f32, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8K,
    BlockQ8_0, BlockQ8_1,
};

/// `sum((code - 8) * q)` over one Q4_0 block and one Q8_0 block (|sum| <= 32 * 8 * 128).
pub fn q4_0_q8_0_block_sum(w: &BlockQ4_0, a: &BlockQ8_0) -> i32 {
    let (lo, hi) = a.qs.split_at(16);
    let mut sumi0 = 0i32;
    let mut sumi1 = 0i32;
    for ((&q, &a0), &a1) in w.qs.iter().zip(lo).zip(hi) {
        sumi0 += (i32::from(q & 0x0f) - 8) * i32::from(a0);
        sumi1 += (i32::from(q >> 4) - 8) * i32::from(a1);
    }
    sumi0 + sumi1
}

/// `sum(code * q)` over one Q4_1 block and one Q8_1 block (0 <= code <= 15, so
/// |sum| <= 32 * 15 * 128). The minimum enters the dot through `s` instead.
pub fn q4_1_q8_1_block_sum(w: &BlockQ4_1, a: &BlockQ8_1) -> i32 {
    let (lo, hi) = a.qs.split_at(16);
    let mut sumi0 = 0i32;
    let mut sumi1 = 0i32;
    for ((&q, &a0), &a1) in w.qs.iter().zip(lo).zip(hi) {
        sumi0 += i32::from(q & 0x0f) * i32::from(a0);
        sumi1 += i32::from(q >> 4) * i32::from(a1);
    }
    sumi0 + sumi1
}

/// `sum(qw * qa)` over two Q8_0 blocks (|sum| <= 32 * 128 * 128).
pub fn q8_0_q8_0_block_sum(w: &BlockQ8_0, a: &BlockQ8_0) -> i32 {
    w.qs.iter()
        .zip(&a.qs)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// `sum((code - 16) * q)` over one Q5_0 block and one Q8_0 block
/// (|sum| <= 32 * 16 * 128 = 2^16).
pub fn q5_0_q8_0_block_sum(w: &BlockQ5_0, a: &BlockQ8_0) -> i32 {
    w.quants()
        .iter()
        .zip(&a.qs)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// `sum(code * q)` over one Q5_1 block and one Q8_1 block (0 <= code <= 31, so
/// |sum| <= 32 * 31 * 128 < 2^17). The minimum enters the dot through `s` instead.
pub fn q5_1_q8_1_block_sum(w: &BlockQ5_1, a: &BlockQ8_1) -> i32 {
    five_bit_sum(&w.codes(), a)
}

/// `sum(code * q)` of 32 codes 0..=31 with a Q8_1 block.
fn five_bit_sum(codes: &[u8; 32], a: &BlockQ8_1) -> i32 {
    codes
        .iter()
        .zip(&a.qs)
        .map(|(&c, &q)| i32::from(c) * i32::from(q))
        .sum()
}

/// Dot of a Q4_0 row with a Q8_0 row: per block `sumi as f32 * d_w * d_a` (left to
/// right), summed in block order (ggml_vec_dot_q4_0_q8_0).
pub fn dot_q4_0_q8_0(w: &[BlockQ4_0], a: &[BlockQ8_0]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let sumi = q4_0_q8_0_block_sum(w, a);
        sumf += sumi as f32 * f16_to_f32(w.d) * f16_to_f32(a.d);
    }
    sumf
}

/// Dot of a Q4_1 row with a Q8_1 row: per block `(d_w * d_a) * sumi + m_w * s_a`
/// (ggml_vec_dot_q4_1_q8_1; `s_a` stands for `d_a * sum(q_a)`).
pub fn dot_q4_1_q8_1(w: &[BlockQ4_1], a: &[BlockQ8_1]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let sumi = q4_1_q8_1_block_sum(w, a);
        let scaled = (f16_to_f32(w.d) * f16_to_f32(a.d)) * sumi as f32;
        sumf += scaled + f16_to_f32(w.m) * f16_to_f32(a.s);
    }
    sumf
}

/// Dot of a Q4_K row with a Q8_1 row, the product that Q4_K weights repacked into Q4_1
/// panels compute: each sub-block of 32 is the Q4_1 block of
/// [`BlockQ4K::sub_block_as_q4_1`] (f32 `d`, `m`), and the sum is [`dot_q4_1_q8_1`]'s,
/// block for block (`a` holds 8 Q8_1 blocks per Q4_K block).
pub fn dot_q4_k_q8_1(w: &[BlockQ4K], a: &[BlockQ8_1]) -> f32 {
    debug_assert_eq!(
        w.len() * 8,
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    let sub_blocks = w
        .iter()
        .flat_map(|b| (0..8).map(|j| b.sub_block_as_q4_1(j)));
    for ((d, m, qs), a) in sub_blocks.zip(a) {
        let sumi = q4_1_q8_1_block_sum(&BlockQ4_1 { d: 0, m: 0, qs }, a);
        let scaled = (d * f16_to_f32(a.d)) * sumi as f32;
        sumf += scaled + m * f16_to_f32(a.s);
    }
    sumf
}

/// Dot of a Q5_0 row with a Q8_0 row, ggml_vec_dot_q5_0_q8_0_generic: per block
/// `(d_w * d_a) * sumi`, summed in block order. The one float stage is exactly that of
/// [`dot_q8_0_q8_0`] (the product of the scales first, unlike [`dot_q4_0_q8_0`]'s
/// `sumi * d_w * d_a`), because a Q5_0 block is a Q8_0 block with quants `code - 16` and
/// the same `d`: Q8_0 panels of Q5_0 weights compute this bit for bit.
pub fn dot_q5_0_q8_0(w: &[BlockQ5_0], a: &[BlockQ8_0]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let sumi = q5_0_q8_0_block_sum(w, a);
        sumf += (f16_to_f32(w.d) * f16_to_f32(a.d)) * sumi as f32;
    }
    sumf
}

/// Dot of a Q5_1 row with a Q8_1 row, ggml_vec_dot_q5_1_q8_1_generic: per block
/// `(d_w * d_a) * sumi + m_w * s_a`, summed in block order (the float stage of
/// [`dot_q4_1_q8_1`]; `s_a` stands for `d_a * sum(q_a)`).
pub fn dot_q5_1_q8_1(w: &[BlockQ5_1], a: &[BlockQ8_1]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let sumi = q5_1_q8_1_block_sum(w, a);
        let scaled = (f16_to_f32(w.d) * f16_to_f32(a.d)) * sumi as f32;
        sumf += scaled + f16_to_f32(w.m) * f16_to_f32(a.s);
    }
    sumf
}

/// Dot of a Q5_K row with a Q8_1 row (8 Q8_1 blocks per Q5_K block), the product that
/// Q5_K weights will compute as Q5_1-style panels, as Q4_K weights do as Q4_1 panels
/// ([`dot_q4_k_q8_1`]): each sub-block of 32 is the block of
/// [`BlockQ5K::sub_block_as_q5_1`] (f32 `d`, `m`), integer sum `sum(code * q)`
/// (|.| <= 32 * 31 * 128), and the one float stage per sub-block is
/// [`dot_q5_1_q8_1`]'s `(d * d_a) * sumi + m * s_a`.
pub fn dot_q5_k_q8_1(w: &[BlockQ5K], a: &[BlockQ8_1]) -> f32 {
    debug_assert_eq!(
        w.len() * 8,
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    let sub_blocks = w
        .iter()
        .flat_map(|b| (0..8).map(|j| b.sub_block_as_q5_1(j)));
    for ((d, m, codes), a) in sub_blocks.zip(a) {
        let sumi = five_bit_sum(&codes, a);
        let scaled = (d * f16_to_f32(a.d)) * sumi as f32;
        sumf += scaled + m * f16_to_f32(a.s);
    }
    sumf
}

/// `sum(sc[i / 16] * (code - 32) * q)` over K block `b` (values `32 b..32 b + 32`) of a
/// Q6_K block and one Q8_0 block: the two sub-block sums, each scaled by its int8 scale
/// (|sum| <= 32 * 128 * 32 * 128 = 2^24, so it converts to f32 exactly).
pub fn q6_k_q8_0_block_sum(w: &BlockQ6K, b: usize, a: &BlockQ8_0) -> i32 {
    let quants = w.quants();
    let quants = &quants[32 * b..32 * b + 32];
    let mut sum = 0i32;
    for h in 0..2 {
        let sub: i32 = quants[16 * h..16 * h + 16]
            .iter()
            .zip(&a.qs[16 * h..16 * h + 16])
            .map(|(&w, &x)| i32::from(w) * i32::from(x))
            .sum();
        sum += i32::from(w.scales[2 * b + h]) * sub;
    }
    sum
}

/// Dot of a Q6_K row with a Q8_0 row (8 Q8_0 blocks per Q6_K block), the product of Q6_K
/// panels: per K block of 32 `sumi as f32 * (d_w * d_a)`, as [`dot_q8_0_q8_0`].
pub fn dot_q6_k_q8_0(w: &[BlockQ6K], a: &[BlockQ8_0]) -> f32 {
    debug_assert_eq!(
        w.len() * 8,
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    let k_blocks = w.iter().flat_map(|block| (0..8).map(move |b| (block, b)));
    for ((block, b), a) in k_blocks.zip(a) {
        let sumi = q6_k_q8_0_block_sum(block, b, a);
        sumf += sumi as f32 * (f16_to_f32(block.d) * f16_to_f32(a.d));
    }
    sumf
}

/// Dot of two Q8_0 rows: per block `sumi as f32 * (d_w * d_a)` (ggml_vec_dot_q8_0_q8_0).
pub fn dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let sumi = q8_0_q8_0_block_sum(w, a);
        sumf += sumi as f32 * (f16_to_f32(w.d) * f16_to_f32(a.d));
    }
    sumf
}

/// The two integer sums of one Q4_K x Q8_K block pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Q4KBlockSums {
    /// `sum_j sc[j] * sum(code * q)` over the 8 sub-blocks of 32
    /// (|.| <= 8 * 63 * 32 * 15 * 128).
    pub scaled: i32,
    /// `sum_j m[j / 2] * bsums[j]` over the 16 groups of 16 (|.| <= 16 * 63 * 32768).
    pub mins: i32,
}

/// `sum(code * q)` of each of the 8 Q4_K sub-blocks of 32 (unscaled).
pub fn q4_k_q8_k_subblock_dots(w: &BlockQ4K, a: &BlockQ8K) -> [i32; 8] {
    let codes = w.codes();
    let mut dots = [0i32; 8];
    for ((dot, c), q) in dots
        .iter_mut()
        .zip(codes.chunks_exact(32))
        .zip(a.qs.chunks_exact(32))
    {
        *dot = c
            .iter()
            .zip(q)
            .map(|(&c, &q)| i32::from(c) * i32::from(q))
            .sum();
    }
    dots
}

/// ggml's eight `aux32` lanes for one Q4_K x Q8_K block pair: lane `l` is
/// `sum sc[i / 32] * code[i] * q[i]` over the elements `i` with `i % 8 == l`. Their sum
/// is [`Q4KBlockSums::scaled`]; the split matters only for the f32 accumulation.
pub fn q4_k_q8_k_lanes(w: &BlockQ4K, a: &BlockQ8K) -> [i32; 8] {
    let codes = w.codes();
    let (scales, _) = w.scales_mins();
    let mut lanes = [0i32; 8];
    for (i, (&c, &q)) in codes.iter().zip(&a.qs).enumerate() {
        // ggml forms the product in int16 (fits: 15 * 128) before scaling it into int32.
        lanes[i % 8] += i32::from(scales[i / 32]) * (i32::from(c) * i32::from(q));
    }
    lanes
}

/// The integer sums of one Q4_K x Q8_K block pair (see [`Q4KBlockSums`]).
pub fn q4_k_q8_k_block_sums(w: &BlockQ4K, a: &BlockQ8K) -> Q4KBlockSums {
    let (scales, mins) = w.scales_mins();
    let dots = q4_k_q8_k_subblock_dots(w, a);
    let scaled = dots
        .iter()
        .zip(&scales)
        .map(|(&d, &s)| d * i32::from(s))
        .sum();
    let mins = a
        .bsums
        .iter()
        .enumerate()
        .map(|(j, &b)| i32::from(b) * i32::from(mins[j / 2]))
        .sum();
    Q4KBlockSums { scaled, mins }
}

/// Dot of a Q4_K row with a Q8_K row, ggml_vec_dot_q4_K_q8_K_generic: per block,
/// `d = f16(d_w) * d_a` and each lane `sums[l] += d * lanes[l]`; the mins go straight
/// into `sumf -= (f16(dmin_w) * d_a) * mins`; at the end `sumf += sums[l]` for l in 0..8.
pub fn dot_q4_k_q8_k(w: &[BlockQ4K], a: &[BlockQ8K]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sums = [0.0f32; 8];
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let lanes = q4_k_q8_k_lanes(w, a);
        let d = f16_to_f32(w.d) * a.d;
        for (s, &l) in sums.iter_mut().zip(&lanes) {
            *s += d * l as f32;
        }
        let mins = q4_k_q8_k_block_sums(w, a).mins;
        let dmin = f16_to_f32(w.dmin) * a.d;
        sumf -= dmin * mins as f32;
    }
    for s in sums {
        sumf += s;
    }
    sumf
}

/// `sum(q6 * q8)` of each of the 16 Q6_K sub-blocks of 16 (unscaled, q6 in -32..=31).
pub fn q6_k_q8_k_subblock_dots(w: &BlockQ6K, a: &BlockQ8K) -> [i32; 16] {
    let quants = w.quants();
    let mut dots = [0i32; 16];
    for ((dot, w), q) in dots
        .iter_mut()
        .zip(quants.chunks_exact(16))
        .zip(a.qs.chunks_exact(16))
    {
        *dot = w
            .iter()
            .zip(q)
            .map(|(&w, &q)| i32::from(w) * i32::from(q))
            .sum();
    }
    dots
}

/// ggml's eight `aux32` lanes for one Q6_K x Q8_K block pair: lane `l` is
/// `sum sc[i / 16] * q6[i] * q8[i]` over the elements `i` with `i % 8 == l`.
pub fn q6_k_q8_k_lanes(w: &BlockQ6K, a: &BlockQ8K) -> [i32; 8] {
    let quants = w.quants();
    let mut lanes = [0i32; 8];
    for (i, (&x, &q)) in quants.iter().zip(&a.qs).enumerate() {
        // The int16 product fits: 32 * 128.
        lanes[i % 8] += i32::from(w.scales[i / 16]) * (i32::from(x) * i32::from(q));
    }
    lanes
}

/// `sum_j sc[j] * sum(q6 * q8)` over the 16 sub-blocks of one Q6_K x Q8_K block pair
/// (|.| <= 256 * 128 * 32 * 128 = 2^27).
pub fn q6_k_q8_k_block_sum(w: &BlockQ6K, a: &BlockQ8K) -> i32 {
    let dots = q6_k_q8_k_subblock_dots(w, a);
    dots.iter()
        .zip(&w.scales)
        .map(|(&d, &s)| d * i32::from(s))
        .sum()
}

/// Dot of a Q6_K row with a Q8_K row, ggml_vec_dot_q6_K_q8_K_generic: per block
/// `d = f16(d_w) * d_a`, `sums[l] += d * lanes[l]`; at the end the 8 lanes are added
/// in order to 0.
pub fn dot_q6_k_q8_k(w: &[BlockQ6K], a: &[BlockQ8K]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sums = [0.0f32; 8];
    for (w, a) in w.iter().zip(a) {
        let lanes = q6_k_q8_k_lanes(w, a);
        let d = f16_to_f32(w.d) * a.d;
        for (s, &l) in sums.iter_mut().zip(&lanes) {
            *s += d * l as f32;
        }
    }
    let mut sumf = 0.0f32;
    for s in sums {
        sumf += s;
    }
    sumf
}

/// `sum(code * q)` of each of the 8 Q5_K sub-blocks of 32 (unscaled, codes 0..=31).
pub fn q5_k_q8_k_subblock_dots(w: &BlockQ5K, a: &BlockQ8K) -> [i32; 8] {
    let codes = w.codes();
    let mut dots = [0i32; 8];
    for ((dot, c), q) in dots
        .iter_mut()
        .zip(codes.chunks_exact(32))
        .zip(a.qs.chunks_exact(32))
    {
        *dot = c
            .iter()
            .zip(q)
            .map(|(&c, &q)| i32::from(c) * i32::from(q))
            .sum();
    }
    dots
}

/// ggml's eight `aux32` lanes for one Q5_K x Q8_K block pair: lane `l` is
/// `sum sc[i / 32] * code[i] * q[i]` over the elements `i` with `i % 8 == l`. Their sum
/// is the `scaled` part of [`q5_k_q8_k_block_sums`].
pub fn q5_k_q8_k_lanes(w: &BlockQ5K, a: &BlockQ8K) -> [i32; 8] {
    let codes = w.codes();
    let (scales, _) = w.scales_mins();
    let mut lanes = [0i32; 8];
    for (i, (&c, &q)) in codes.iter().zip(&a.qs).enumerate() {
        // ggml forms the product in int16 (fits: 31 * 128) before scaling it into int32.
        lanes[i % 8] += i32::from(scales[i / 32]) * (i32::from(c) * i32::from(q));
    }
    lanes
}

/// The integer sums of one Q5_K x Q8_K block pair, in Q4_K's shape ([`Q4KBlockSums`]):
/// `scaled = sum_j sc[j] * sum(code * q)` (|.| <= 8 * 63 * 32 * 31 * 128 < 2^26) and
/// `mins = sum_j m[j / 2] * bsums[j]` (|.| <= 16 * 63 * 32768 < 2^25).
pub fn q5_k_q8_k_block_sums(w: &BlockQ5K, a: &BlockQ8K) -> Q4KBlockSums {
    let (scales, mins) = w.scales_mins();
    let dots = q5_k_q8_k_subblock_dots(w, a);
    let scaled = dots
        .iter()
        .zip(&scales)
        .map(|(&d, &s)| d * i32::from(s))
        .sum();
    let mins = a
        .bsums
        .iter()
        .enumerate()
        .map(|(j, &b)| i32::from(b) * i32::from(mins[j / 2]))
        .sum();
    Q4KBlockSums { scaled, mins }
}

/// Dot of a Q5_K row with a Q8_K row, ggml_vec_dot_q5_K_q8_K_generic (the arithmetic of
/// [`dot_q4_k_q8_k`] with 5-bit codes): the float stage is once per super-block,
/// `sums[l] += (f16(d_w) * d_a) * lanes[l]` and `sumf -= (f16(dmin_w) * d_a) * mins`;
/// at the end `sumf += sums[l]` for l in 0..8.
pub fn dot_q5_k_q8_k(w: &[BlockQ5K], a: &[BlockQ8K]) -> f32 {
    debug_assert_eq!(
        w.len(),
        a.len(),
        "weight and activation block counts differ"
    );
    let mut sums = [0.0f32; 8];
    let mut sumf = 0.0f32;
    for (w, a) in w.iter().zip(a) {
        let lanes = q5_k_q8_k_lanes(w, a);
        let d = f16_to_f32(w.d) * a.d;
        for (s, &l) in sums.iter_mut().zip(&lanes) {
            *s += d * l as f32;
        }
        let mins = q5_k_q8_k_block_sums(w, a).mins;
        let dmin = f16_to_f32(w.dmin) * a.d;
        sumf -= dmin * mins as f32;
    }
    for s in sums {
        sumf += s;
    }
    sumf
}
