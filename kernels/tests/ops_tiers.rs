//! Every tier's non-matmul ops ([`slimlm_kernels::ops`]) against the scalar reference, bit
//! for bit (NaNs compare equal whatever their payload: x86 and ARM quiet them
//! differently): random lengths 1..4096 with every tail, unaligned sub-slices, rows,
//! RoPE heads of 64, 128 and odd sizes in both pairings, and data mixing ordinary values
//! with extremes (+-inf, NaN, subnormals, huge and tiny magnitudes).
//!
//! Under qemu `SLIMLM_EXPECT_ISA` names the tier the emulated CPU must run, and
//! `expected_tier_runs` fails unless that tier's own ops serve every op.

mod common;

use proptest::prelude::*;
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::f32_to_f16;
use slimlm_kernels::ops::{Op, Ops, RopePairing, KEY_BLOCK};

/// The tiers this CPU runs, the scalar one first.
fn tiers() -> Vec<Ops> {
    common::available_isas()
        .into_iter()
        .map(|isa| Ops::new(isa).unwrap())
        .collect()
}

/// The tier whose ops a matmul tier uses (the ARM tiers share the NEON ops).
fn ops_tier(isa: Isa) -> &'static str {
    match isa {
        Isa::Neon | Isa::Dotprod | Isa::I8mm => "neon",
        other => other.name(),
    }
}

/// splitmix64 stream for the data of a case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    /// Mostly values of moderate size (spread x 2^-8..2^8), with `special` percent extremes.
    fn value(&mut self, special: u64) -> f32 {
        if self.next() % 100 < special {
            const EXTREMES: [f32; 12] = [
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                1e-40,
                -1e-45,
                0.0,
                -0.0,
                3e38,
                -3e38,
                88.5,
                -104.5,
                1e-30,
            ];
            EXTREMES[(self.next() % EXTREMES.len() as u64) as usize]
        } else {
            let e = (self.next() % 17) as i32 - 8;
            self.unit() * 2f32.powi(e)
        }
    }
    fn values(&mut self, n: usize, special: u64) -> Vec<f32> {
        (0..n).map(|_| self.value(special)).collect()
    }
}

/// Bit equality, any NaN equal to any NaN.
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(what: &str, tier: &Ops, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same(g, w),
            "{what} on {}: element {i} of {}: {g:e} ({:#010x}) vs scalar {w:e} ({:#010x})",
            tier.isa(),
            got.len(),
            g.to_bits(),
            w.to_bits()
        );
    }
}

fn f16_is_nan(h: u16) -> bool {
    h & 0x7c00 == 0x7c00 && h & 0x03ff != 0
}

#[derive(Clone, Debug)]
struct Case {
    len: usize,
    offset: usize,
    special: u64,
    seed: u64,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        prop_oneof![1usize..=64, 1usize..=4096, Just(576), Just(1536)],
        0usize..16,
        prop_oneof![3 => Just(0u64), 1 => 1u64..20],
        any::<u64>(),
    )
        .prop_map(|(len, offset, special, seed)| Case {
            len,
            offset,
            special,
            seed,
        })
}

/// `n` values at `offset` floats into a fresh buffer (unaligned for most offsets).
fn unaligned(rng: &mut Rng, n: usize, offset: usize, special: u64) -> (Vec<f32>, usize) {
    let mut v = vec![0.0; offset];
    v.extend(rng.values(n, special));
    (v, offset)
}

/// Runs `f` on a fresh copy of `x[off..]` for every tier and compares with the scalar one.
fn check_inplace(what: &str, x: &(Vec<f32>, usize), f: impl Fn(&Ops, &mut [f32])) {
    let tiers = tiers();
    let mut want = x.0.clone();
    f(&tiers[0], &mut want[x.1..]);
    for tier in &tiers[1..] {
        let mut got = x.0.clone();
        f(tier, &mut got[x.1..]);
        assert_same(what, tier, &got[x.1..], &want[x.1..]);
    }
}

proptest! {
    #[test]
    fn elementwise_ops_match_scalar(c in cases()) {
        let mut rng = Rng(c.seed);
        let x = unaligned(&mut rng, c.len, c.offset, c.special);
        let y = rng.values(c.len, c.special);
        let s = rng.value(c.special);
        check_inplace("softmax", &x, |o, v| o.softmax(v));
        check_inplace("silu_mul", &x, |o, v| o.silu_mul(v, &y));
        check_inplace("gelu_erf", &x, |o, v| o.gelu_erf(v));
        check_inplace("gelu_tanh", &x, |o, v| o.gelu_tanh(v));
        check_inplace("gelu_tanh_mul", &x, |o, v| o.gelu_tanh_mul(v, &y));
        check_inplace("add", &x, |o, v| o.add(v, &y));
        check_inplace("scale", &x, |o, v| o.scale(v, s));
        check_inplace("exp", &x, |o, v| o.exp(v));
        check_inplace("erf", &x, |o, v| o.erf(v));
        check_inplace("tanh", &x, |o, v| o.tanh(v));
        check_inplace("axpy", &x, |o, v| o.axpy(v, s, &y));
        let h: Vec<u16> = y.iter().map(|&v| f32_to_f16(v)).collect();
        check_inplace("axpy_f16", &x, |o, v| o.axpy_f16(v, s, &h));
        check_inplace("f16_to_f32", &x, |o, v| o.f16_to_f32(&h, v));
        // Values scaled by 2^k so that f16 overflow, subnormals and ties all occur.
        let wide: Vec<f32> = y.iter().map(|&v| v * 2f32.powi((rng.next() % 40) as i32 - 20)).collect();
        let tiers = tiers();
        let mut want = vec![0u16; c.len];
        tiers[0].f32_to_f16(&wide, &mut want);
        for tier in &tiers[1..] {
            let mut got = vec![0u16; c.len];
            tier.f32_to_f16(&wide, &mut got);
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                prop_assert!(g == w || (f16_is_nan(g) && f16_is_nan(w)),
                    "f32_to_f16 on {}: {} -> {g:#06x} vs {w:#06x}", tier.isa(), wide[i]);
            }
        }
    }

    #[test]
    fn reductions_match_scalar(c in cases(), rows in 1usize..=3) {
        let mut rng = Rng(c.seed);
        let x = unaligned(&mut rng, c.len * rows, c.offset, c.special);
        let w = rng.values(c.len, c.special);
        let b = rng.values(c.len, c.special);
        let eps = [1e-5f32, 1e-6, 0.0][(c.seed % 3) as usize];
        let tiers = tiers();
        let xs = &x.0[x.1..];
        let mut want = vec![0.0; xs.len()];
        tiers[0].rms_norm(xs, &w, eps, &mut want);
        let mut want_ln = vec![0.0; xs.len()];
        tiers[0].layer_norm(xs, &w, &b, eps, &mut want_ln);
        let h: Vec<u16> = w.iter().map(|&v| f32_to_f16(v)).collect();
        let row0 = &xs[..c.len];
        let (dot, dot_f16) = (tiers[0].dot(row0, &w), tiers[0].dot_f16(row0, &h));
        for tier in &tiers[1..] {
            let mut got = vec![0.0; xs.len()];
            tier.rms_norm(xs, &w, eps, &mut got);
            assert_same("rms_norm", tier, &got, &want);
            tier.layer_norm(xs, &w, &b, eps, &mut got);
            assert_same("layer_norm", tier, &got, &want_ln);
            assert_same("dot", tier, &[tier.dot(row0, &w)], &[dot]);
            assert_same("dot_f16", tier, &[tier.dot_f16(row0, &h)], &[dot_f16]);
        }
        check_inplace("add_bias", &x, |o, v| o.add_bias(v, &b));
    }

    #[test]
    fn attention_block_ops_match_scalar(
        head_dim in prop_oneof![Just(64usize), Just(128), 1usize..=160],
        keys in 0usize..=KEY_BLOCK,
        special in 0u64..4,
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let q = rng.values(head_dim, special);
        let kt = rng.values(head_dim * KEY_BLOCK, special);
        let p = rng.values(keys, special);
        let v = rng.values(keys * head_dim, special);
        let acc0 = rng.values(head_dim, special);
        let scale = rng.unit();
        let tiers = tiers();
        let mut want = vec![0.0; KEY_BLOCK];
        tiers[0].key_major_scores(&q, &kt, scale, &mut want);
        let mut want_acc = acc0.clone();
        tiers[0].accumulate_rows(&mut want_acc, &p, &v);
        // accumulate_rows is one axpy per row, operation for operation.
        let mut axpys = acc0.clone();
        for (&pj, row) in p.iter().zip(v.chunks_exact(head_dim)) {
            tiers[0].axpy(&mut axpys, pj, row);
        }
        assert_same("accumulate_rows vs axpy", &tiers[0], &want_acc, &axpys);
        // An online-softmax block over the scores, some masked (-inf), after a running
        // max that is absent, below or above the block's.
        let mut block = want[..keys].to_vec();
        for (j, x) in block.iter_mut().enumerate() {
            if (seed >> (j % 64)) & 7 == 0 {
                *x = f32::NEG_INFINITY;
            }
        }
        let running = [f32::NEG_INFINITY, -1e3, 0.5, 1e30][(seed % 4) as usize];
        let mut want_block = block.clone();
        let want_ms = tiers[0].online_softmax_block(&mut want_block, running);
        for tier in &tiers[1..] {
            let mut got_block = block.clone();
            let ms = tier.online_softmax_block(&mut got_block, running);
            assert_same("online_softmax_block", tier, &[ms.0, ms.1], &[want_ms.0, want_ms.1]);
            assert_same("online_softmax_block", tier, &got_block, &want_block);
            let mut got = vec![0.0; KEY_BLOCK];
            tier.key_major_scores(&q, &kt, scale, &mut got);
            assert_same("key_major_scores", tier, &got, &want);
            let mut got_acc = acc0.clone();
            tier.accumulate_rows(&mut got_acc, &p, &v);
            assert_same("accumulate_rows", tier, &got_acc, &want_acc);
        }
    }

    #[test]
    fn rope_matches_scalar(
        head_dim in prop_oneof![Just(64usize), Just(128), 1usize..=160],
        heads in 1usize..=9,
        rot_frac in 0usize..=4,
        offset in 0usize..16,
        pos in 0u32..4096,
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        // rot_dims: all of the head most often, else an even part of it.
        let rot_dims = if rot_frac == 0 { head_dim / 2 * 2 } else { head_dim * rot_frac / 4 / 2 * 2 };
        let half = rot_dims / 2;
        let (cos, sin): (Vec<f32>, Vec<f32>) = (0..half)
            .map(|j| {
                let a = pos as f64 * 10000f64.powf(-2.0 * j as f64 / rot_dims.max(1) as f64);
                (a.cos() as f32, a.sin() as f32)
            })
            .unzip();
        let x = unaligned(&mut rng, heads * head_dim, offset, 1);
        for pairing in [RopePairing::Adjacent, RopePairing::HalfSplit] {
            check_inplace("rope", &x, |o, v| o.rope(v, head_dim, rot_dims, pairing, &cos, &sin));
        }
    }
}

#[test]
fn softmax_extremes_match_scalar() {
    let rows: [&[f32]; 6] = [
        &[f32::NEG_INFINITY; 37],
        &[1e30, -1e30, 3e38, 0.0, f32::NEG_INFINITY],
        &[f32::NAN, 1.0, 2.0],
        &[f32::INFINITY, 1.0],
        &[-1e-45, 1e-45, 0.0, -0.0],
        &[],
    ];
    for row in rows {
        check_inplace("softmax", &(row.to_vec(), 0), |o, v| o.softmax(v));
    }
}

/// Under qemu: the tier the emulated CPU must run serves every op with its own code.
#[test]
fn expected_tier_runs() {
    let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") else {
        return;
    };
    let isa = Isa::parse(&expected).expect("SLIMLM_EXPECT_ISA names a tier");
    let ops = Ops::new(isa).expect("the expected tier is available on this CPU");
    for op in Op::ALL {
        let name = ops.kernel_name(op);
        eprintln!("{isa}: {op:?} -> {name}");
        assert!(
            name.ends_with(ops_tier(isa)),
            "{isa} serves {op:?} with {name}, not with its own tier's ops"
        );
    }
}
