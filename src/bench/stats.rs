//! Mean and standard deviation of repeated measurements.

use serde::Serialize;

/// Summary of `n` samples: mean and sample standard deviation (0 for one sample).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stats {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stats {
    /// Summarizes `samples` (empty gives NaN mean, n = 0).
    pub fn of(samples: &[f64]) -> Stats {
        let n = samples.len();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stats { mean, std, n }
    }

    /// "mean ± std" with `decimals` digits after the point.
    pub fn show(&self, decimals: usize) -> String {
        format!("{:.*} ± {:.*}", decimals, self.mean, decimals, self.std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let s = Stats::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        assert!((s.std - 2.138_089_935).abs() < 1e-9);
        assert_eq!(Stats::of(&[3.0]).std, 0.0);
        assert_eq!(s.show(1), "5.0 ± 2.1");
    }
}
