//! BM25 ranking of chunks against a question, over a simple tokenization: lowercase runs
//! of letters and digits. No stemming and no stop-word list: the inverse document
//! frequency already weighs common words down. Used by `ask` to pick the passages most
//! relevant to the question.

use std::collections::HashMap;

/// Term-frequency saturation (the usual 1.2).
const K1: f64 = 1.2;
/// Length normalization (the usual 0.75).
const B: f64 = 0.75;

/// The lowercase alphanumeric words of `text`.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// BM25 score of every passage for `query`, in passage order. A passage with none of the
/// query's words scores 0.
pub fn scores(passages: &[&str], query: &str) -> Vec<f64> {
    let mut terms: Vec<String> = words(query).collect();
    terms.sort_unstable();
    terms.dedup();
    let counts: Vec<HashMap<String, usize>> = passages
        .iter()
        .map(|p| {
            let mut tf = HashMap::new();
            for w in words(p) {
                *tf.entry(w).or_insert(0) += 1;
            }
            tf
        })
        .collect();
    let lengths: Vec<f64> = counts
        .iter()
        .map(|tf| tf.values().sum::<usize>() as f64)
        .collect();
    let n = passages.len() as f64;
    let mean_length = (lengths.iter().sum::<f64>() / n.max(1.0)).max(1.0);
    let idf: Vec<f64> = terms
        .iter()
        .map(|t| {
            let df = counts.iter().filter(|tf| tf.contains_key(t)).count() as f64;
            // The "plus one" form stays positive for terms in most passages.
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    counts
        .iter()
        .zip(&lengths)
        .map(|(tf, &len)| {
            terms
                .iter()
                .zip(&idf)
                .map(|(t, idf)| {
                    let f = *tf.get(t).unwrap_or(&0) as f64;
                    idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len / mean_length))
                })
                .sum()
        })
        .collect()
}

/// Passage indices from most to least relevant (ties keep document order).
pub fn rank(passages: &[&str], query: &str) -> Vec<usize> {
    let s = scores(passages, query);
    let mut order: Vec<usize> = (0..passages.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenization_is_lowercase_alphanumeric() {
        let w: Vec<String> = words("Solar-panels, 2024's BATTERY; café!").collect();
        assert_eq!(w, ["solar", "panels", "2024", "s", "battery", "café"]);
    }

    #[test]
    fn ranks_the_relevant_passage_first() {
        let passages = [
            "The weather today is mild and the sky is clear.",
            "Lithium batteries store solar energy for the night; a battery lasts ten years.",
            "Panels face south in the northern hemisphere.",
        ];
        assert_eq!(rank(&passages, "How long does a battery last?")[0], 1);
        assert_eq!(rank(&passages, "Which way should PANELS face?")[0], 2);
        let s = scores(&passages, "battery");
        assert!(s[1] > 0.0 && s[0] == 0.0 && s[2] == 0.0, "{s:?}");
    }

    #[test]
    fn rare_terms_weigh_more_and_ties_keep_order() {
        let passages = ["sun sun sun", "sun moon", "sun"];
        // "moon" is rarer than "sun": the passage with it wins despite fewer "sun".
        assert_eq!(rank(&passages, "sun moon")[0], 1);
        // No query word anywhere: everything ties at zero, in document order.
        assert_eq!(rank(&passages, "tide"), [0, 1, 2]);
        assert!(scores(&[], "anything").is_empty());
    }

    #[test]
    fn shorter_passages_win_at_equal_counts() {
        let passages = [
            "grid power",
            "grid power plus many other unrelated words here",
        ];
        assert_eq!(rank(&passages, "grid")[0], 0);
    }
}
