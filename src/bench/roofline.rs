//! Roofline of a model on this CPU: decode against the memory-bandwidth bound (every
//! weight byte is read once per generated token) and prefill against the int8 peak
//! ([`super::peak`]).
//!
//! The bandwidth is measured with a streaming read over a buffer much larger than the
//! last-level cache, split over the model's worker threads the way decode splits the
//! weight rows.

use std::time::Instant;

use serde::Serialize;

use super::peak::Int8Peak;
use crate::exec::threads::Pool;
use crate::gguf::GgufFile;
use slimlm_kernels::formats::GgmlType;
use slimlm_kernels::pack::{
    BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4, PackedMatrix, PANEL_ROWS,
};

/// Bytes and multiply-accumulates of the weight matrices one token goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TokenCost {
    /// Bytes of weights read per decoded token: the panels slimlm repacked at load (their
    /// f32 scales make them 11-20% larger than the file's blocks), the file's bytes for
    /// other types. The token embedding counts only when it is also the output head.
    pub weight_bytes: u64,
    pub macs: u64,
}

/// The per-token cost of the matrices of `file` (every 2-D tensor but the embedding
/// tables, plus the token embedding when the output head is tied to it).
pub fn token_cost(file: &GgufFile) -> TokenCost {
    let tied = file.tensor("output.weight").is_none();
    let mut cost = TokenCost {
        weight_bytes: 0,
        macs: 0,
    };
    for t in file.tensors().iter().filter(|t| t.dims.len() == 2) {
        let is_table = t.name == "token_embd.weight" || t.name == "position_embd.weight";
        if is_table && !(tied && t.name == "token_embd.weight") {
            continue;
        }
        let (cols, rows) = (t.dims[0], t.dims[1]);
        cost.macs += cols * rows;
        cost.weight_bytes += if let Some(panel) = PackedMatrix::panel_type(t.ggml_type) {
            let panel = match panel {
                GgmlType::Q8_0 => size_of::<BlockQ8_0x4>(),
                GgmlType::Q4_0 => size_of::<BlockQ4_0x4>(),
                GgmlType::Q6K => size_of::<BlockQ6Kx4>(),
                _ => size_of::<BlockQ4_1x4>(),
            } as u64;
            rows.div_ceil(PANEL_ROWS as u64) * (cols / 32) * panel
        } else {
            file.tensor_bytes(t).len() as u64
        };
    }
    cost
}

/// Size of the largest CPU cache (sysfs), if the OS says.
pub fn last_level_cache_bytes() -> Option<u64> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    dir.filter_map(|e| {
        let size = std::fs::read_to_string(e.ok()?.path().join("size")).ok()?;
        let size = size.trim();
        let (num, mult) = match size.strip_suffix('K') {
            Some(n) => (n, 1024),
            None => match size.strip_suffix('M') {
                Some(n) => (n, 1024 * 1024),
                None => (size, 1),
            },
        };
        num.parse::<u64>().ok().map(|n| n * mult)
    })
    .max()
}

/// Read bandwidth measurement.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Bandwidth {
    pub gb_per_s: f64,
    pub buffer_bytes: u64,
    pub threads: usize,
}

/// Bytes of the buffer that measures memory bandwidth: 8 x the last-level cache, at least
/// 256 MiB, at most 1 GiB.
pub fn memory_buffer_bytes() -> usize {
    last_level_cache_bytes()
        .unwrap_or(0)
        .saturating_mul(8)
        .clamp(256 << 20, 1 << 30) as usize
}

/// Streams through a buffer of `bytes` (at most 1 GiB) with every worker of `pool` reading
/// its own contiguous share; the best of `passes`.
pub fn read_bandwidth(pool: &Pool, bytes: usize, passes: usize) -> Bandwidth {
    let bytes = bytes.clamp(1 << 20, 1 << 30);
    // Real data, written once: a zeroed allocation could map the shared zero page, which
    // reads from cache.
    let buf: Vec<u64> = (0..bytes / 8).map(|i| i as u64).collect();
    let share = buf.len().div_ceil(pool.threads());
    let mut best = 0.0f64;
    for _ in 0..passes.max(1) {
        let start = Instant::now();
        let sums = pool.broadcast(|i| sum(buf.chunks(share).nth(i).unwrap_or(&[])));
        let wall = start.elapsed().as_secs_f64();
        std::hint::black_box(sums);
        best = best.max(bytes as f64 / wall / 1e9);
    }
    Bandwidth {
        gb_per_s: best,
        buffer_bytes: bytes as u64,
        threads: pool.threads(),
    }
}

/// The cost of one parallel step of `pool` with no work in it (publish, every participant
/// claims an empty task, barrier): the best mean over 5 rounds of 2000 steps, in ns.
/// `None` for a pool of one thread, which never steps.
pub fn barrier_ns(pool: &Pool) -> Option<f64> {
    if pool.threads() < 2 {
        return None;
    }
    let steps = 2000;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..steps {
            pool.for_each_task(pool.threads(), |_, _| {});
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / steps as f64);
    }
    Some(best)
}

/// Sum with eight independent accumulators, so the loads, not the adds, set the pace
/// (the compiler vectorizes it).
fn sum(v: &[u64]) -> u64 {
    let mut acc = [0u64; 8];
    let chunks = v.chunks_exact(8);
    let tail: u64 = chunks.remainder().iter().fold(0, |a, &x| a.wrapping_add(x));
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = a.wrapping_add(x);
        }
    }
    acc.iter().fold(tail, |a, &x| a.wrapping_add(x))
}

/// The roofline report.
#[derive(Clone, Debug, Serialize)]
pub struct Roofline {
    /// Memory bandwidth (buffer far larger than the caches).
    pub bandwidth: Bandwidth,
    /// Bandwidth over a buffer the size of the weights: where the weights fit in a cache
    /// (a 135M model in a server's L3), this, not memory, bounds decode.
    pub bandwidth_at_weight_size: Bandwidth,
    pub last_level_cache_bytes: Option<u64>,
    pub token_cost: TokenCost,
    /// Decode speed if it did nothing but stream the weights at the measured bandwidth.
    pub decode_bound_tokens_per_s: f64,
    pub decode_tokens_per_s: f64,
    pub decode_percent_of_bound: f64,
    pub decode_bound_at_weight_size_tokens_per_s: f64,
    pub decode_percent_of_bound_at_weight_size: f64,
    pub int8_peak: Option<Int8Peak>,
    pub prefill_tokens_per_s: f64,
    /// 2 x MACs of the matrices per token x prefill tokens/s.
    pub prefill_gops: f64,
    pub prefill_percent_of_peak: Option<f64>,
    pub steps: StepCost,
}

/// The synchronisation cost of decoding.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StepCost {
    /// Parallel steps of the pool (barriers) per decoded token.
    pub decode_steps_per_token: f64,
    /// One empty parallel step of the pool, ns ([`barrier_ns`]; None with one thread).
    pub barrier_ns: Option<f64>,
}

impl Roofline {
    /// Puts measured decode and prefill speeds against the bounds.
    pub fn new(
        bandwidth: Bandwidth,
        bandwidth_at_weight_size: Bandwidth,
        cost: TokenCost,
        peak: Option<Int8Peak>,
        decode_tokens_per_s: f64,
        prefill_tokens_per_s: f64,
        steps: StepCost,
    ) -> Roofline {
        let bound = bandwidth.gb_per_s * 1e9 / cost.weight_bytes.max(1) as f64;
        let bound_w = bandwidth_at_weight_size.gb_per_s * 1e9 / cost.weight_bytes.max(1) as f64;
        let prefill_gops = prefill_tokens_per_s * 2.0 * cost.macs as f64 / 1e9;
        Roofline {
            bandwidth,
            last_level_cache_bytes: last_level_cache_bytes(),
            token_cost: cost,
            decode_bound_tokens_per_s: bound,
            decode_tokens_per_s,
            decode_percent_of_bound: 100.0 * decode_tokens_per_s / bound,
            bandwidth_at_weight_size,
            decode_bound_at_weight_size_tokens_per_s: bound_w,
            decode_percent_of_bound_at_weight_size: 100.0 * decode_tokens_per_s / bound_w,
            prefill_percent_of_peak: peak.as_ref().map(|p| 100.0 * prefill_gops / p.gops),
            int8_peak: peak,
            prefill_tokens_per_s,
            prefill_gops,
            steps,
        }
    }

    /// The report as markdown.
    pub fn markdown(&self) -> String {
        let r = self;
        let mut s = String::from("| quantity | value |\n|---|---:|\n");
        let mut row = |k: &str, v: String| s += &format!("| {k} | {v} |\n");
        row(
            "read bandwidth",
            format!(
                "{:.1} GB/s ({} threads, {} MiB buffer)",
                r.bandwidth.gb_per_s,
                r.bandwidth.threads,
                r.bandwidth.buffer_bytes >> 20
            ),
        );
        row(
            "read bandwidth at the weights' size",
            format!(
                "{:.1} GB/s ({} MiB buffer)",
                r.bandwidth_at_weight_size.gb_per_s,
                r.bandwidth_at_weight_size.buffer_bytes >> 20
            ),
        );
        if let Some(llc) = r.last_level_cache_bytes {
            row("largest cache", format!("{} KiB", llc >> 10));
        }
        row(
            "weight bytes per token",
            format!("{:.1} MB", r.token_cost.weight_bytes as f64 / 1e6),
        );
        row(
            "decode bound (bandwidth / bytes)",
            format!("{:.1} tok/s", r.decode_bound_tokens_per_s),
        );
        row(
            "decode bound at the weights' size",
            format!("{:.1} tok/s", r.decode_bound_at_weight_size_tokens_per_s),
        );
        row(
            "decode measured (tg)",
            format!(
                "{:.1} tok/s = {:.1}% of the memory bound, {:.1}% of the bound at the weights' size",
                r.decode_tokens_per_s,
                r.decode_percent_of_bound,
                r.decode_percent_of_bound_at_weight_size
            ),
        );
        row(
            "parallel steps per decoded token",
            match r.steps.barrier_ns {
                Some(ns) => format!(
                    "{:.0} x {:.0} ns per empty step = {:.1}% of a token's time",
                    r.steps.decode_steps_per_token,
                    ns,
                    r.steps.decode_steps_per_token * ns * 1e-9 * r.decode_tokens_per_s * 100.0
                ),
                None => format!(
                    "{:.0} (one thread: no barriers)",
                    r.steps.decode_steps_per_token
                ),
            },
        );
        match &r.int8_peak {
            Some(p) => row(
                "int8 peak",
                format!(
                    "{:.1} GOP/s ({}, {} threads)",
                    p.gops, p.instruction, p.threads
                ),
            ),
            None => row("int8 peak", "none (scalar tier)".into()),
        }
        row(
            "prefill measured (pp)",
            format!(
                "{:.1} tok/s = {:.1} GOP/s{}",
                r.prefill_tokens_per_s,
                r.prefill_gops,
                match r.prefill_percent_of_peak {
                    Some(p) => format!(" = {p:.1}% of the int8 peak"),
                    None => String::new(),
                }
            ),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_covers_every_element() {
        let v: Vec<u64> = (1..=21).collect();
        assert_eq!(sum(&v), 231);
    }
}
