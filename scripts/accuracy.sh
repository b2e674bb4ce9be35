#!/usr/bin/env bash
# Prints the accuracy figures README.md quotes, from the tests that assert them (run with
# --nocapture, in the test profile, on this CPU's tier; every tier gives the same bits):
#   - SmolLM2-135M last-position logits against transformers (cosine per prompt, default
#     f16 KV cache) and against llama.cpp (tests/model_smollm2.rs), and llama.cpp's own
#     cosine against transformers (from the fixture scripts/make-llamacpp-fixtures.py wrote);
#   - the SlimLM-125M-shaped random model and the tiny Llama / Qwen2 models against
#     transformers in float64 (max |logit diff|; tests/model_slimlm_random.rs,
#     tests/model_tiny.rs);
#   - every tier's norms, RoPE, softmax and attention against the f64 oracles (worst error
#     as a fraction of the derived bound; kernels/tests/ops_oracle.rs).
# Needs models/SmolLM2-135M-Instruct.Q4_1.gguf (scripts/fetch-model.sh). A few minutes.
# Usage: scripts/accuracy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests' own lines, without libtest's progress dots.
run() {
    cargo test --quiet "$@" -- --nocapture --test-threads 1 2>&1 | sed 's/^\.*//'
}

echo "== SmolLM2-135M Q4_1 vs transformers (float64, same GGUF) and vs llama.cpp"
run --test model_smollm2 last_position_logits_match_transformers \
    | grep -E "^[a-z_]+: (cosine [0-9]|cosine vs llama)" | grep -v "KV cache"
python3 - <<'PY'
import json
fx = json.load(open("tests/fixtures/models/smollm2_llamacpp.json"))
print("llama.cpp (f16 KV cache) vs transformers, from tests/fixtures/models/smollm2_llamacpp.json:")
for p in fx["prompts"]:
    print(f"  {p['name']}: cosine {p['vs_transformers']['cosine']:.6f}")
PY

echo "== SlimLM-125M-shaped random mpt model vs transformers (float64)"
run --test model_slimlm_random | grep -E "max \|diff\|"

echo "== tiny Llama (GQA, untied) and Qwen2 (biases, NeoX RoPE) vs transformers (float64)"
run --test model_tiny | grep -E "max \|diff\|"

echo "== every tier's ops vs the f64 oracles (worst error / derived bound)"
run -p slimlm-kernels --test ops_oracle | grep "worst so far" \
    | python3 -c '
import re, sys
worst = {}
for line in sys.stdin:
    m = re.match(r"(.*): worst so far ([0-9.]+)", line.strip())
    if m:
        worst[m.group(1)] = max(worst.get(m.group(1), 0.0), float(m.group(2)))
for k, v in worst.items():
    print(f"  {k}: {v:.3f} of the bound")
'
