//! The contract between the ops facade ([`super::Ops`]) and its tiers: the ops in table
//! order ([`Op`]), one tier's table of entry points ([`Table`]), and [`ops_tier!`], which
//! instantiates every op of [`crate::reference`] for a tier and builds its table. Tier
//! files (`ops/scalar.rs`, `x86_64/ops_*.rs`, `aarch64/ops_neon.rs`) import this module,
//! never the facade.

use crate::reference::rope::RopePairing;

/// The ops, to ask which implementation serves each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    RmsNorm,
    LayerNorm,
    Rope,
    Softmax,
    SiluMul,
    GeluErf,
    GeluTanh,
    GeluTanhMul,
    Add,
    AddBias,
    Scale,
    F32ToF16,
    F16ToF32,
    Exp,
    Erf,
    Tanh,
    Dot,
    DotF16,
    Axpy,
    AxpyF16,
    KeyMajorScores,
    AccumulateRows,
    OnlineSoftmaxBlock,
}

impl Op {
    pub const ALL: [Op; 23] = [
        Op::RmsNorm,
        Op::LayerNorm,
        Op::Rope,
        Op::Softmax,
        Op::SiluMul,
        Op::GeluErf,
        Op::GeluTanh,
        Op::GeluTanhMul,
        Op::Add,
        Op::AddBias,
        Op::Scale,
        Op::F32ToF16,
        Op::F16ToF32,
        Op::Exp,
        Op::Erf,
        Op::Tanh,
        Op::Dot,
        Op::DotF16,
        Op::Axpy,
        Op::AxpyF16,
        Op::KeyMajorScores,
        Op::AccumulateRows,
        Op::OnlineSoftmaxBlock,
    ];
}

type LayerNormFn = unsafe fn(&[f32], &[f32], &[f32], f32, &mut [f32]);
type RopeFn = unsafe fn(&mut [f32], usize, usize, RopePairing, &[f32], &[f32]);

/// One tier's entries. Each is `unsafe` only because it needs the tier's CPU features.
pub(crate) struct Table {
    /// Kernel names, in [`Op::ALL`] order.
    pub names: [&'static str; 23],
    pub rms_norm: unsafe fn(&[f32], &[f32], f32, &mut [f32]),
    pub layer_norm: LayerNormFn,
    pub rope: RopeFn,
    pub softmax: unsafe fn(&mut [f32]),
    pub silu_mul: unsafe fn(&mut [f32], &[f32]),
    pub gelu_erf: unsafe fn(&mut [f32]),
    pub gelu_tanh: unsafe fn(&mut [f32]),
    pub gelu_tanh_mul: unsafe fn(&mut [f32], &[f32]),
    pub add: unsafe fn(&mut [f32], &[f32]),
    pub add_bias: unsafe fn(&mut [f32], &[f32]),
    pub scale: unsafe fn(&mut [f32], f32),
    pub f32_to_f16: unsafe fn(&[f32], &mut [u16]),
    pub f16_to_f32: unsafe fn(&[u16], &mut [f32]),
    pub exp: unsafe fn(&mut [f32]),
    pub erf: unsafe fn(&mut [f32]),
    pub tanh: unsafe fn(&mut [f32]),
    pub dot: unsafe fn(&[f32], &[f32]) -> f32,
    pub dot_f16: unsafe fn(&[f32], &[u16]) -> f32,
    pub axpy: unsafe fn(&mut [f32], f32, &[f32]),
    pub axpy_f16: unsafe fn(&mut [f32], f32, &[u16]),
    pub key_major_scores: unsafe fn(&[f32], &[f32], f32, &mut [f32]),
    pub accumulate_rows: unsafe fn(&mut [f32], &[f32], &[f32]),
    pub online_softmax_block: unsafe fn(&mut [f32], f32) -> (f32, f32),
}

/// Instantiates every op of [`crate::reference`] for the tier `$tier` (a
/// `reference::lanes::Tier`) as entries carrying the attribute `$attr` (the tier's
/// `#[target_feature]`), and their [`Table`] as `TABLE`, with names `<op>_<$name>`.
macro_rules! ops_tier {
    ($tier:ty, $name:literal, #[$attr:meta]) => {
        $crate::ops::contract::ops_tier!(@entries $tier, #[$attr],
            rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) = norm::rms_norm;
            layer_norm(x: &[f32], w: &[f32], b: &[f32], eps: f32, out: &mut [f32]) =
                norm::layer_norm;
            rope(
                x: &mut [f32],
                head_dim: usize,
                rot_dims: usize,
                pairing: $crate::reference::rope::RopePairing,
                cos: &[f32],
                sin: &[f32]
            ) = rope::rope;
            softmax(x: &mut [f32]) = softmax::softmax;
            silu_mul(gate: &mut [f32], up: &[f32]) = activation::silu_mul;
            gelu_erf(x: &mut [f32]) = activation::gelu_erf;
            gelu_tanh(x: &mut [f32]) = activation::gelu_tanh;
            gelu_tanh_mul(gate: &mut [f32], up: &[f32]) = activation::gelu_tanh_mul;
            add(x: &mut [f32], y: &[f32]) = vector::add;
            add_bias(x: &mut [f32], bias: &[f32]) = vector::add_bias;
            scale(x: &mut [f32], s: f32) = vector::scale;
            f32_to_f16(x: &[f32], out: &mut [u16]) = vector::f32_to_f16s;
            f16_to_f32(x: &[u16], out: &mut [f32]) = vector::f16_to_f32s;
            exp(x: &mut [f32]) = vector::exp;
            erf(x: &mut [f32]) = vector::erf;
            tanh(x: &mut [f32]) = vector::tanh;
            dot(a: &[f32], b: &[f32]) -> f32 = vector::dot;
            dot_f16(a: &[f32], b: &[u16]) -> f32 = vector::dot_f16;
            axpy(y: &mut [f32], alpha: f32, x: &[f32]) = vector::axpy;
            axpy_f16(y: &mut [f32], alpha: f32, x: &[u16]) = vector::axpy_f16;
            key_major_scores(q: &[f32], kt: &[f32], scale: f32, out: &mut [f32]) =
                vector::key_major_scores;
            accumulate_rows(acc: &mut [f32], p: &[f32], v: &[f32]) = vector::accumulate_rows;
            online_softmax_block(x: &mut [f32], running: f32) -> (f32, f32) =
                softmax::online_block;
        );

        pub(crate) static TABLE: $crate::ops::contract::Table = $crate::ops::contract::Table {
            names: [
                concat!("rms_norm_f32_", $name),
                concat!("layer_norm_f32_", $name),
                concat!("rope_f32_", $name),
                concat!("softmax_f32_", $name),
                concat!("silu_mul_f32_", $name),
                concat!("gelu_erf_f32_", $name),
                concat!("gelu_tanh_f32_", $name),
                concat!("gelu_tanh_mul_f32_", $name),
                concat!("add_f32_", $name),
                concat!("add_bias_f32_", $name),
                concat!("scale_f32_", $name),
                concat!("f32_to_f16_", $name),
                concat!("f16_to_f32_", $name),
                concat!("exp_f32_", $name),
                concat!("erf_f32_", $name),
                concat!("tanh_f32_", $name),
                concat!("dot_f32_", $name),
                concat!("dot_f32_f16_", $name),
                concat!("axpy_f32_", $name),
                concat!("axpy_f32_f16_", $name),
                concat!("key_major_scores_f32_", $name),
                concat!("accumulate_rows_f32_", $name),
                concat!("online_softmax_block_f32_", $name),
            ],
            rms_norm,
            layer_norm,
            rope,
            softmax,
            silu_mul,
            gelu_erf,
            gelu_tanh,
            gelu_tanh_mul,
            add,
            add_bias,
            scale,
            f32_to_f16,
            f16_to_f32,
            exp,
            erf,
            tanh,
            dot,
            dot_f16,
            axpy,
            axpy_f16,
            key_major_scores,
            accumulate_rows,
            online_softmax_block,
        };
    };
    (@entries $tier:ty, #[$attr:meta],
        $($f:ident($($a:ident: $ty:ty),* $(,)?) $(-> $r:ty)? = $module:ident::$op:ident;)*) => {
        $(
            #[$attr]
            unsafe fn $f($($a: $ty),*) $(-> $r)? {
                // SAFETY: the `Ops` table calls this entry only on a CPU that runs the
                // tier (checked by `Ops::new`, or promised to `Ops::new_unchecked`).
                let t = unsafe { <$tier as $crate::reference::lanes::Tier>::new() };
                $crate::reference::$module::$op(t, $($a),*)
            }
        )*
    };
}
pub(crate) use ops_tier;
