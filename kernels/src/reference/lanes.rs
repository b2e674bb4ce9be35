//! The 16-lane f32 vector in which every non-matmul op ([`crate::ops`]) is written once.
//!
//! An op is a generic function over a [`Tier`] (a zero-sized proof that the CPU runs that
//! tier) and its vector type [`Lanes`]. The scalar reference instantiates it with
//! [`ScalarTier`] (16 plain `f32`s); AVX-512 uses one register, AVX2 two, NEON four. Each
//! vector operation is one IEEE operation per lane (no FMA, no approximate reciprocal),
//! and the horizontal reductions combine the lanes with one fixed tree ([`tree_sum`]), so
//! every tier computes bit for bit what the scalar reference computes. The lane-canonical
//! order is the definition: element `i` of a reduction goes to lane `i % 16` of
//! accumulator `(i / 16) % 4` (see [`sum_of`]), the four accumulators are added pairwise,
//! the lanes combined by the tree, then the tail (`len % 16` elements) is added in order.
//!
//! Tails of elementwise ops are padded to 16 lanes with zeros (a stack buffer), so the
//! vector code computes them too: no separate scalar path that could drift.

/// Elements per vector.
pub(crate) const LANES: usize = 16;

/// A tier able to build vectors. Values exist only where the CPU runs the tier (building
/// one is the unsafe step, done once per op entry), which is what makes the vector methods
/// safe to call.
pub(crate) trait Tier: Copy {
    type V: Lanes;
    /// The tier's proof value.
    ///
    /// # Safety
    /// The CPU must run the tier (its `Isa::is_available`).
    unsafe fn new() -> Self;
    /// Every lane `v`.
    fn splat(self, v: f32) -> Self::V;
    /// `s[..16]` (panics if shorter).
    fn load(self, s: &[f32]) -> Self::V;
    /// `s[..16]` widened from f16 bits, exactly.
    fn load_f16(self, s: &[u16]) -> Self::V;
    /// `s[0], s[0], s[1], s[1], .., s[7], s[7]` from `s[..8]`.
    fn load_dup_pairs(self, s: &[f32]) -> Self::V;
}

/// 16 f32 lanes. Each method is the IEEE operation on every lane.
pub(crate) trait Lanes: Copy {
    /// A lane mask from a comparison.
    type Mask: Copy;
    /// Writes `s[..16]` (panics if shorter).
    fn store(self, s: &mut [f32]);
    /// Writes `s[..16]` rounded to f16, nearest even.
    fn store_f16(self, s: &mut [u16]);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    /// `if self < o { self } else { o }`: a NaN in `o` is kept, one in `self` is not.
    fn min(self, o: Self) -> Self;
    /// `if self > o { self } else { o }`: a NaN in `o` is kept, one in `self` is not.
    fn max(self, o: Self) -> Self;
    /// Bitwise and / or of the lanes' bit patterns.
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn lt(self, o: Self) -> Self::Mask;
    fn eq(self, o: Self) -> Self::Mask;
    /// `if m { a } else { b }` per lane.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
    /// Wrapping i32 add / sub of the bit patterns.
    fn add_i32(self, o: Self) -> Self;
    fn sub_i32(self, o: Self) -> Self;
    /// Arithmetic shift right by 1 of the bit patterns as i32.
    fn shr1_i32(self) -> Self;
    /// Shift left by 23 (into the exponent field) of the bit patterns.
    fn shl23_i32(self) -> Self;
    /// Lanes `1, 0, 3, 2, ..`: each adjacent pair swapped.
    fn swap_pairs(self) -> Self;
    /// [`tree_sum`] of the lanes.
    fn reduce_add(self) -> f32;
    /// [`tree_max`] of the lanes.
    fn reduce_max(self) -> f32;
}

/// `if a > b { a } else { b }`: the max every tier computes (x86 `maxps`, emulated on NEON).
#[inline(always)]
pub(crate) fn fmax(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// The fixed reduction tree: lane `i` += lane `i + w` for w = 8, 4, 2, 1.
#[inline(always)]
pub(crate) fn tree_sum(mut s: [f32; LANES]) -> f32 {
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            s[i] += s[i + w];
        }
        w /= 2;
    }
    s[0]
}

/// [`tree_sum`]'s shape with [`fmax`].
#[inline(always)]
pub(crate) fn tree_max(mut s: [f32; LANES]) -> f32 {
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            s[i] = fmax(s[i], s[i + w]);
        }
        w /= 2;
    }
    s[0]
}

/// Applies `f` to `x` in place, 16 at a time; the tail goes through a zero-padded buffer.
#[inline(always)]
pub(crate) fn map<T: Tier>(t: T, x: &mut [f32], f: impl Fn(T::V) -> T::V) {
    let mut chunks = x.chunks_exact_mut(LANES);
    for c in &mut chunks {
        f(t.load(c)).store(c);
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut buf = [0.0; LANES];
        buf[..tail.len()].copy_from_slice(tail);
        f(t.load(&buf)).store(&mut buf);
        tail.copy_from_slice(&buf[..tail.len()]);
    }
}

/// `x[i] = f(x[i], y[i])`, 16 at a time; `y` is as long as `x`.
#[inline(always)]
pub(crate) fn map2<T: Tier>(t: T, x: &mut [f32], y: &[f32], f: impl Fn(T::V, T::V) -> T::V) {
    debug_assert_eq!(x.len(), y.len());
    let mut xs = x.chunks_exact_mut(LANES);
    let mut ys = y.chunks_exact(LANES);
    for (c, d) in (&mut xs).zip(&mut ys) {
        f(t.load(c), t.load(d)).store(c);
    }
    let (tail, ytail) = (xs.into_remainder(), ys.remainder());
    if !tail.is_empty() {
        let (mut buf, mut ybuf) = ([0.0; LANES], [0.0; LANES]);
        buf[..tail.len()].copy_from_slice(tail);
        ybuf[..tail.len()].copy_from_slice(ytail);
        f(t.load(&buf), t.load(&ybuf)).store(&mut buf);
        tail.copy_from_slice(&buf[..tail.len()]);
    }
}

/// `out = f(ins)` elementwise, 16 at a time, where every input is as long as `out`; the
/// tail goes through zero-padded copies.
#[inline(always)]
pub(crate) fn map_n<T: Tier, const K: usize>(
    t: T,
    out: &mut [f32],
    ins: [&[f32]; K],
    f: impl Fn([T::V; K]) -> T::V,
) {
    let n = out.len();
    debug_assert!(ins.iter().all(|s| s.len() == n));
    let full = n - n % LANES;
    for i in (0..full).step_by(LANES) {
        let mut vs = [t.splat(0.0); K];
        for (v, s) in vs.iter_mut().zip(ins) {
            *v = t.load(&s[i..]);
        }
        f(vs).store(&mut out[i..]);
    }
    if full < n {
        let mut bufs = [[0.0; LANES]; K];
        for (b, s) in bufs.iter_mut().zip(ins) {
            b[..n - full].copy_from_slice(&s[full..]);
        }
        let mut o = [0.0; LANES];
        let mut vs = [t.splat(0.0); K];
        for (v, b) in vs.iter_mut().zip(&bufs) {
            *v = t.load(b);
        }
        f(vs).store(&mut o);
        out[full..].copy_from_slice(&o[..n - full]);
    }
}

/// Independent vector accumulators of a reduction: four chains of adds keep a SIMD tier
/// throughput-bound where one chain would wait on each add's latency.
pub(crate) const ACCUMULATORS: usize = 4;

/// The lane-canonical sum of `n` terms: `lanes(i)` gives terms `i..i + 16` (for `i` a
/// multiple of 16 with `i + 16 <= n`). Vector `v` (terms `16 v..16 v + 16`) is added lane
/// by lane into accumulator `v % 4`; the accumulators are combined as `(a0 + a1) + (a2 +
/// a3)` and their lanes by the tree; then `tail(j)` for the `n % 16` last terms, in order.
/// `tail(j)` must be the same IEEE operations as lane `j % 16` of `lanes`.
#[inline(always)]
pub(crate) fn sum_of<T: Tier>(
    t: T,
    n: usize,
    lanes: impl Fn(usize) -> T::V,
    tail: impl Fn(usize) -> f32,
) -> f32 {
    const STEP: usize = ACCUMULATORS * LANES;
    let (wide, full) = (n - n % STEP, n - n % LANES);
    let mut acc = [t.splat(0.0); ACCUMULATORS];
    for i in (0..wide).step_by(STEP) {
        for (k, a) in acc.iter_mut().enumerate() {
            *a = a.add(lanes(i + k * LANES));
        }
    }
    for (a, i) in acc.iter_mut().zip((wide..full).step_by(LANES)) {
        *a = a.add(lanes(i));
    }
    let [a0, a1, a2, a3] = acc;
    let mut s = a0.add(a1).add(a2.add(a3)).reduce_add();
    for j in full..n {
        s += tail(j);
    }
    s
}

/// The scalar reference tier: available everywhere.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ScalarTier;

/// 16 plain f32 lanes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scalar16([f32; LANES]);

impl Scalar16 {
    #[inline(always)]
    fn zip(self, o: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        Scalar16(core::array::from_fn(|i| f(self.0[i], o.0[i])))
    }

    #[inline(always)]
    fn zip_bits(self, o: Self, f: impl Fn(u32, u32) -> u32) -> Self {
        self.zip(o, |a, b| f32::from_bits(f(a.to_bits(), b.to_bits())))
    }

    #[inline(always)]
    fn map_bits(self, f: impl Fn(u32) -> u32) -> Self {
        Scalar16(self.0.map(|a| f32::from_bits(f(a.to_bits()))))
    }
}

impl Tier for ScalarTier {
    type V = Scalar16;
    #[inline(always)]
    unsafe fn new() -> Self {
        ScalarTier
    }
    #[inline(always)]
    fn splat(self, v: f32) -> Scalar16 {
        Scalar16([v; LANES])
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> Scalar16 {
        Scalar16(s[..LANES].try_into().expect("16 lanes"))
    }
    #[inline(always)]
    fn load_f16(self, s: &[u16]) -> Scalar16 {
        let s = &s[..LANES];
        Scalar16(core::array::from_fn(|i| crate::formats::f16_to_f32(s[i])))
    }
    #[inline(always)]
    fn load_dup_pairs(self, s: &[f32]) -> Scalar16 {
        let s = &s[..LANES / 2];
        Scalar16(core::array::from_fn(|i| s[i / 2]))
    }
}

impl Lanes for Scalar16 {
    type Mask = [bool; LANES];
    #[inline(always)]
    fn store(self, s: &mut [f32]) {
        s[..LANES].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn store_f16(self, s: &mut [u16]) {
        for (o, &v) in s[..LANES].iter_mut().zip(&self.0) {
            *o = crate::formats::f32_to_f16(v);
        }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.zip(o, |a, b| a + b)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.zip(o, |a, b| a - b)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self.zip(o, |a, b| a * b)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self.zip(o, |a, b| a / b)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.zip(o, |a, b| if a < b { a } else { b })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.zip(o, fmax)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        self.zip_bits(o, |a, b| a & b)
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        self.zip_bits(o, |a, b| a | b)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> [bool; LANES] {
        core::array::from_fn(|i| self.0[i] < o.0[i])
    }
    #[inline(always)]
    fn eq(self, o: Self) -> [bool; LANES] {
        core::array::from_fn(|i| self.0[i] == o.0[i])
    }
    #[inline(always)]
    fn select(m: [bool; LANES], a: Self, b: Self) -> Self {
        Scalar16(core::array::from_fn(|i| if m[i] { a.0[i] } else { b.0[i] }))
    }
    #[inline(always)]
    fn add_i32(self, o: Self) -> Self {
        self.zip_bits(o, |a, b| a.wrapping_add(b))
    }
    #[inline(always)]
    fn sub_i32(self, o: Self) -> Self {
        self.zip_bits(o, |a, b| a.wrapping_sub(b))
    }
    #[inline(always)]
    fn shr1_i32(self) -> Self {
        self.map_bits(|a| ((a as i32) >> 1) as u32)
    }
    #[inline(always)]
    fn shl23_i32(self) -> Self {
        self.map_bits(|a| a << 23)
    }
    #[inline(always)]
    fn swap_pairs(self) -> Self {
        Scalar16(core::array::from_fn(|i| self.0[i ^ 1]))
    }
    #[inline(always)]
    fn reduce_add(self) -> f32 {
        tree_sum(self.0)
    }
    #[inline(always)]
    fn reduce_max(self) -> f32 {
        tree_max(self.0)
    }
}
