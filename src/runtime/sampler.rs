//! Token sampling: picks the next token id from a row of logits.
//!
//! The chain follows llama.cpp's default sampler order:
//!
//! 1. repetition penalty over the distinct tokens of the last `repetition_window` tokens of
//!    history (positive logits divided by the penalty, the others multiplied);
//! 2. greedy ([`argmax`]) when `temperature == 0`; otherwise
//! 3. top-k, 4. top-p, 5. min-p (all three on the untempered distribution),
//! 6. temperature, softmax, and one draw from a seeded xoshiro256** generator.
//!
//! Reproducible by construction: the same seed, config, logits and history give the same
//! tokens on every platform. Sorting uses a total order (logit descending, then token id
//! ascending), sums run in token id order or in that total order (never in an order left
//! to a sort algorithm), and `exp` is computed by [`exp_nonpositive`] from IEEE-exact
//! operations only (never the platform's libm, whose last bit differs between glibc,
//! bionic and Apple).
//!
//! It never allocates per call beyond buffers kept in the [`Sampler`] (one candidate list of
//! vocabulary size, one copy of the penalty window), never spawns threads and never panics
//! on NaN or infinite logits (see [`Sampler::sample`] for what they mean).

use std::cmp::Ordering;

/// An invalid [`SamplerConfig`] field: which field, its value and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplerError {
    /// A float field is NaN, infinite or out of its range.
    #[error("sampler config: {field} = {value} is invalid, expected {expected}")]
    InvalidParameter {
        /// The field of [`SamplerConfig`], e.g. `"top_p"`.
        field: &'static str,
        /// The rejected value.
        value: f32,
        /// The accepted range, in words.
        expected: &'static str,
    },
}

/// Sampling parameters. The neutral value of each filter turns it off.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerConfig {
    /// Softmax temperature, finite and >= 0; `0` means greedy (argmax, no draw).
    pub temperature: f32,
    /// Keep the `top_k` highest logits; `0` turns the filter off.
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability mass is >= `top_p`,
    /// in (0, 1]; `1` turns the filter off.
    pub top_p: f32,
    /// Keep tokens whose probability is >= `min_p` times the largest one, in [0, 1];
    /// `0` turns the filter off.
    pub min_p: f32,
    /// Repetition penalty, finite and > 0; `1` turns it off, above 1 discourages repeats.
    pub repetition_penalty: f32,
    /// How many of the most recent history tokens the penalty looks at; `0` turns it off.
    pub repetition_window: usize,
    /// Seed of the random generator; [`Sampler::reset`] returns to it.
    pub seed: u64,
}

/// A seed drawn from the operating system's random source (the keys std's `RandomState`
/// takes from it), for a generation that differs from run to run. Print it to let the run
/// be repeated: the sampler is deterministic given its seed.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

impl Default for SamplerConfig {
    /// Greedy decoding with every filter off and a 64-token penalty window.
    fn default() -> Self {
        SamplerConfig {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            repetition_window: 64,
            seed: 0,
        }
    }
}

impl SamplerConfig {
    /// Checks every float field: NaN, infinities and out-of-range values are errors that
    /// name the field. Integer fields accept any value.
    pub fn validate(&self) -> Result<(), SamplerError> {
        fn check(
            field: &'static str,
            value: f32,
            ok: bool,
            expected: &'static str,
        ) -> Result<(), SamplerError> {
            if ok {
                Ok(())
            } else {
                Err(SamplerError::InvalidParameter {
                    field,
                    value,
                    expected,
                })
            }
        }
        let t = self.temperature;
        check(
            "temperature",
            t,
            t.is_finite() && t >= 0.0,
            "a finite number >= 0 (0 = greedy)",
        )?;
        let p = self.top_p;
        check(
            "top_p",
            p,
            p > 0.0 && p <= 1.0,
            "a number in (0, 1] (1 = off)",
        )?;
        let m = self.min_p;
        check(
            "min_p",
            m,
            (0.0..=1.0).contains(&m),
            "a number in [0, 1] (0 = off)",
        )?;
        let r = self.repetition_penalty;
        check(
            "repetition_penalty",
            r,
            r.is_finite() && r > 0.0,
            "a finite number > 0 (1 = off)",
        )
    }
}

/// One surviving token during sampling.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    id: u32,
    logit: f32,
    /// Unnormalized probability, `exp((logit - max) / t)`, set by the step that needs it.
    weight: f64,
}

/// The sampling order: logit descending, then token id ascending. A total order on
/// candidates, which never hold NaN or -0.0, so every sort yields one and the same sequence.
fn by_logit_desc(a: &Candidate, b: &Candidate) -> Ordering {
    b.logit.total_cmp(&a.logit).then(a.id.cmp(&b.id))
}

/// How many candidates top-p sorts first; it widens by 4x until the mass is reached, so
/// peaked distributions never sort the whole vocabulary.
const TOP_P_FIRST_WINDOW: usize = 256;

/// A sampler: the config, the random generator state and reusable buffers.
///
/// Not thread-safe by design (`&mut self`); one per generation stream.
#[derive(Debug, Clone)]
pub struct Sampler {
    config: SamplerConfig,
    rng: Xoshiro256StarStar,
    /// Reused candidate list, up to the vocabulary size.
    candidates: Vec<Candidate>,
    /// Reused copy of the penalty window, sorted and deduplicated.
    recent: Vec<u32>,
}

impl Sampler {
    /// A sampler for a validated `config`, its generator seeded from `config.seed`.
    pub fn new(config: SamplerConfig) -> Result<Sampler, SamplerError> {
        config.validate()?;
        Ok(Sampler {
            rng: Xoshiro256StarStar::from_seed(config.seed),
            config,
            candidates: Vec::new(),
            recent: Vec::new(),
        })
    }

    /// Picks the next token id from `logits` (one per vocabulary entry), given the tokens
    /// generated or prompted so far in `history`.
    ///
    /// **Mutates `logits` in place**: the repetition penalty is applied to it. Temperature
    /// and the filters work on an internal copy, so after the call `logits` holds exactly
    /// the penalized logits (unchanged when the penalty is off).
    ///
    /// Non-greedy calls consume exactly one random number each, whatever the filters keep.
    ///
    /// Non-finite logits never panic:
    /// - NaN and -inf tokens are never drawn;
    /// - if some logits are +inf, the draw is uniform over those tokens (the limit of
    ///   softmax); greedy takes the first of them;
    /// - if no logit is finite or +inf, the result is [`argmax`] of `logits`.
    ///
    /// History ids outside `logits` are ignored by the penalty.
    ///
    /// Cost: O(vocab) plus O(k log k) for top-k; top-p without top-k sorts only as many
    /// of the best tokens as its mass needs (O(vocab log vocab) in the flattest case).
    ///
    /// # Panics
    /// If `logits` is empty or longer than `u32::MAX + 1` entries (no vocabulary is).
    pub fn sample(&mut self, logits: &mut [f32], history: &[u32]) -> u32 {
        assert!(!logits.is_empty(), "Sampler::sample: empty logits");
        assert!(
            u32::try_from(logits.len() - 1).is_ok(),
            "Sampler::sample: more than 2^32 logits"
        );
        self.apply_repetition_penalty(logits, history);
        if self.config.temperature == 0.0 {
            return argmax(logits);
        }
        let u = self.rng.next_f64();
        if !self.collect_candidates(logits) {
            return argmax(logits);
        }
        self.top_k();
        self.top_p();
        self.min_p();
        self.draw(u)
    }

    /// Returns the generator to the state it had right after [`Sampler::new`].
    pub fn reset(&mut self) {
        self.rng = Xoshiro256StarStar::from_seed(self.config.seed);
    }

    /// llama.cpp's penalty: each distinct token of the window once, positive logits divided
    /// by the penalty, zero and negative ones multiplied.
    fn apply_repetition_penalty(&mut self, logits: &mut [f32], history: &[u32]) {
        let penalty = self.config.repetition_penalty;
        if penalty == 1.0 || self.config.repetition_window == 0 {
            return;
        }
        let start = history.len().saturating_sub(self.config.repetition_window);
        self.recent.clear();
        self.recent.extend_from_slice(&history[start..]);
        self.recent.sort_unstable();
        self.recent.dedup();
        for &id in &self.recent {
            if let Some(logit) = logits.get_mut(id as usize) {
                if *logit > 0.0 {
                    *logit /= penalty;
                } else {
                    *logit *= penalty;
                }
            }
        }
    }

    /// Fills `candidates` with the drawable tokens in id order: every finite logit, or,
    /// when any logit is +inf, only the +inf ones with logit 0 (uniform). Returns false
    /// when nothing is drawable.
    fn collect_candidates(&mut self, logits: &[f32]) -> bool {
        self.candidates.clear();
        let any_pos_inf = logits.contains(&f32::INFINITY);
        for (id, &logit) in (0u32..).zip(logits) {
            let logit = if any_pos_inf {
                if logit != f32::INFINITY {
                    continue;
                }
                0.0
            } else if logit.is_finite() {
                // `+ 0.0` turns -0.0 into +0.0, so the total order agrees with `>`.
                logit + 0.0
            } else {
                continue;
            };
            self.candidates.push(Candidate {
                id,
                logit,
                weight: 0.0,
            });
        }
        !self.candidates.is_empty()
    }

    /// The largest candidate logit (candidates are never empty here).
    fn max_logit(&self) -> f64 {
        let max = self
            .candidates
            .iter()
            .fold(f32::NEG_INFINITY, |m, c| m.max(c.logit));
        f64::from(max)
    }

    /// Sets every candidate's weight to `exp((logit - max) / temperature)` and returns
    /// their sum, added in the current order of `candidates` (always a deterministic one:
    /// id order or [`by_logit_desc`]). The best candidate weighs 1; since
    /// `(logit - max) / t <= 0`, no temperature overflows.
    fn weigh(&mut self, temperature: f64) -> f64 {
        let max = self.max_logit();
        let mut total = 0.0;
        for c in &mut self.candidates {
            c.weight = exp_nonpositive((f64::from(c.logit) - max) / temperature);
            total += c.weight;
        }
        total
    }

    /// Keeps the `top_k` best candidates, sorted by [`by_logit_desc`].
    fn top_k(&mut self) {
        let k = self.config.top_k;
        if k == 0 || k >= self.candidates.len() {
            return;
        }
        self.candidates.select_nth_unstable_by(k - 1, by_logit_desc);
        self.candidates.truncate(k);
        self.candidates.sort_unstable_by(by_logit_desc);
    }

    /// Keeps the shortest prefix of the candidates sorted by [`by_logit_desc`] whose
    /// softmax mass is >= top_p (at least one token), leaving it sorted.
    ///
    /// Sorts only as far as needed: the best [`TOP_P_FIRST_WINDOW`] first, then 4x wider
    /// windows. The result equals a full sort's, since each window is the exact next run
    /// of the total order.
    fn top_p(&mut self) {
        let p = f64::from(self.config.top_p);
        if p >= 1.0 {
            return;
        }
        // The total is summed before any partitioning reorders the candidates.
        let target = p * self.weigh(1.0);
        let len = self.candidates.len();
        let mut sorted = 0;
        let mut window = TOP_P_FIRST_WINDOW;
        let mut mass = 0.0;
        loop {
            let end = window.min(len);
            let rest = &mut self.candidates[sorted..];
            if end < len {
                rest.select_nth_unstable_by(end - sorted - 1, by_logit_desc);
            }
            self.candidates[sorted..end].sort_unstable_by(by_logit_desc);
            for i in sorted..end {
                mass += self.candidates[i].weight;
                if mass >= target {
                    self.candidates.truncate(i + 1);
                    return;
                }
            }
            if end == len {
                // Only reachable through rounding: keep everything.
                return;
            }
            sorted = end;
            window = window.saturating_mul(4);
        }
    }

    /// Keeps candidates whose probability is >= min_p times the largest, i.e.
    /// `exp(logit - max_logit) >= min_p`. The best candidate always survives.
    fn min_p(&mut self) {
        let min_p = f64::from(self.config.min_p);
        if min_p <= 0.0 {
            return;
        }
        self.weigh(1.0);
        self.candidates.retain(|c| c.weight >= min_p);
    }

    /// Applies the temperature and softmax, and picks the candidate where the running
    /// mass first exceeds `u` (uniform in [0, 1)) times the total.
    fn draw(&mut self, u: f64) -> u32 {
        let total = self.weigh(f64::from(self.config.temperature));
        let target = u * total;
        let mut mass = 0.0;
        let mut last_drawable = self.candidates[0].id;
        for c in &self.candidates {
            if c.weight > 0.0 {
                last_drawable = c.id;
            }
            mass += c.weight;
            if mass > target {
                return c.id;
            }
        }
        // Only reachable through rounding: u * total rounded up to total.
        last_drawable
    }
}

/// The index of the largest logit: the first one on ties; NaN never wins.
///
/// Returns 0 when no logit is a number (all NaN).
///
/// # Panics
/// If `logits` is empty or has more than `u32::MAX + 1` entries.
pub fn argmax(logits: &[f32]) -> u32 {
    assert!(!logits.is_empty(), "argmax: empty logits");
    let Some(first) = logits.iter().position(|l| !l.is_nan()) else {
        return 0;
    };
    let (mut best, mut best_logit) = (first, logits[first]);
    for (i, &l) in logits.iter().enumerate().skip(first + 1) {
        // NaN compares false, so it never replaces the best.
        if l > best_logit {
            best = i;
            best_logit = l;
        }
    }
    u32::try_from(best).expect("argmax: more than 2^32 logits")
}

/// `exp(x)` for `x <= 0` (or -inf), from IEEE-exact `+ - *` and truncation only, so the
/// result is bit-identical on every platform. Relative error below 1e-15; returns 0 for x < -708
/// (below the smallest normal f64, far below any probability that matters here).
fn exp_nonpositive(x: f64) -> f64 {
    debug_assert!(x <= 0.0 || x.is_nan(), "exp_nonpositive({x})");
    // NaN and anything that underflows is 0: such a token is never drawn.
    if x.is_nan() || x < -708.0 {
        return 0.0;
    }
    // Cody-Waite reduction with fdlibm's split of ln 2 (the high part has 32
    // significant bits, so k * LN2_HI is exact for |k| <= 1023): x = k ln2 + r, |r| <= ln2 / 2.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    // k = round(x / ln 2), halves downwards; `as` truncates toward zero (exact, and a
    // single instruction where `f64::round` may be a libm call).
    let k = (x * std::f64::consts::LOG2_E - 0.5) as i64;
    let r = (x - k as f64 * LN2_HI) - k as f64 * LN2_LO;
    // Taylor series to degree 13 (Horner): the remainder is below 1e-17 for |r| <= 0.35.
    let p = INV_FACTORIALS.iter().rev().fold(0.0, |p, &c| p * r + c);
    // k is in [-1022, 0] here, so 2^k is a normal f64 built from its exponent bits.
    let biased = (k + 1023) as u64;
    p * f64::from_bits(biased << 52)
}

/// `1 / n!` for n in 0..=13, evaluated at compile time (IEEE arithmetic, same everywhere).
const INV_FACTORIALS: [f64; 14] = {
    let mut t = [1.0; 14];
    let mut n = 1;
    while n < t.len() {
        t[n] = t[n - 1] / n as f64;
        n += 1;
    }
    t
};

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64: small, fast and fully
/// specified, so seeded streams are identical everywhere.
#[derive(Debug, Clone)]
struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// Expands a 64-bit seed into the 256-bit state with splitmix64 (never all zero).
    fn from_seed(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Xoshiro256StarStar {
            s: [next(), next(), next(), next()],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_closely() {
        for i in 0..=70_800 {
            let x = -(i as f64) / 100.0;
            let want = x.exp();
            let got = exp_nonpositive(x);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "x={x}: {got} vs {want}"
            );
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(-1000.0), 0.0);
    }

    #[test]
    fn xoshiro_reference_values() {
        // First outputs for state [1, 2, 3, 4], from the reference C implementation.
        let mut rng = Xoshiro256StarStar { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1509978240, 1215971899390074240]);
    }
}
