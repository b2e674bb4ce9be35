//! Causal scaled dot-product attention of one query position over a KV cache, multi-head
//! and grouped-query.
//!
//! Layout: a cache row per position holds `n_kv_heads * head_dim` values (head-major), the
//! query holds `n_heads * head_dim`. Query head `h` reads KV head `h / (n_heads /
//! n_kv_heads)`, as in Llama's GQA.

/// Shape of one attention call.
#[derive(Clone, Copy, Debug)]
pub struct AttentionShape {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    /// Positions visible to this query: cache rows `0..n_keys`.
    pub n_keys: usize,
    /// Multiplies the raw scores, usually `1/sqrt(head_dim)`.
    pub scale: f32,
}

impl AttentionShape {
    /// Values in one cache row.
    pub fn kv_row(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// Offset of query head `h`'s KV head within a cache row.
    pub fn kv_offset(&self, h: usize) -> usize {
        (h / (self.n_heads / self.n_kv_heads)) * self.head_dim
    }
}

/// One query head: `out = softmax(scale * q . K^T) V` over the first `n_keys` cache rows,
/// reading the KV head of query head `h`. `scores` is scratch of at least `n_keys` floats.
pub fn attention_head_f32(
    shape: &AttentionShape,
    h: usize,
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    scores: &mut [f32],
    out: &mut [f32],
) {
    let (row, kv, hd) = (shape.kv_row(), shape.kv_offset(h), shape.head_dim);
    debug_assert!(q.len() == hd && out.len() == hd);
    debug_assert!(k_cache.len() >= shape.n_keys * row && v_cache.len() >= shape.n_keys * row);
    let scores = &mut scores[..shape.n_keys];
    for (t, s) in scores.iter_mut().enumerate() {
        let k = &k_cache[t * row + kv..t * row + kv + hd];
        let dot: f64 = q
            .iter()
            .zip(k)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        *s = dot as f32 * shape.scale;
    }
    super::softmax::softmax_f32(scores);
    for (d, o) in out.iter_mut().enumerate() {
        let acc: f64 = scores
            .iter()
            .enumerate()
            .map(|(t, &p)| f64::from(p) * f64::from(v_cache[t * row + kv + d]))
            .sum();
        *o = acc as f32;
    }
}

/// Every head of one query (`q` and `out` hold `n_heads * head_dim` values).
pub fn attention_f32(
    shape: &AttentionShape,
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    scores: &mut [f32],
    out: &mut [f32],
) {
    let hd = shape.head_dim;
    for (h, (qh, oh)) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)).enumerate() {
        attention_head_f32(shape, h, qh, k_cache, v_cache, scores, oh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_returns_its_value_and_gqa_picks_the_group_head() {
        // 4 query heads share 2 KV heads; head_dim 2; one cached position.
        let shape = AttentionShape {
            n_heads: 4,
            n_kv_heads: 2,
            head_dim: 2,
            n_keys: 1,
            scale: 1.0,
        };
        let k = [1.0, 0.0, 0.0, 1.0];
        let v = [10.0, 11.0, 20.0, 21.0];
        let q = [1.0; 8];
        let mut out = [0.0; 8];
        attention_f32(&shape, &q, &k, &v, &mut [0.0; 1], &mut out);
        assert_eq!(out, [10.0, 11.0, 10.0, 11.0, 20.0, 21.0, 20.0, 21.0]);
    }

    #[test]
    fn equal_scores_average_the_values() {
        let shape = AttentionShape {
            n_heads: 1,
            n_kv_heads: 1,
            head_dim: 1,
            n_keys: 2,
            scale: 1.0,
        };
        let mut out = [0.0];
        attention_f32(
            &shape,
            &[0.0],
            &[5.0, 7.0],
            &[1.0, 3.0],
            &mut [0.0; 2],
            &mut out,
        );
        assert_eq!(out, [2.0]);
    }
}
