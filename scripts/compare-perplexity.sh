#!/usr/bin/env bash
# Perplexity of one text under `slimlm perplexity` and llama.cpp's own `llama-perplexity`
# (same protocol: non-overlapping chunks of CTX tokens, BOS first, the second half of each
# chunk scored; f16 KV cache in both), for each context size, and their relative difference.
# Run by hand, never in CI; needs `cargo build --release` and llama.cpp's tools from
# scripts/build-llamacpp.sh.
#
#   scripts/compare-perplexity.sh [MODEL] [TEXT] [CTX...]
#   defaults: models/gemma-3-270m-q4_k_m.gguf /usr/share/common-licenses/GPL-3 512 2048
#   LLAMACPP_BIN=/path/to/build/bin (default: ${LLAMACPP_DIR:-.llamacpp}/build/bin)
#   THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."

model=${1:-models/gemma-3-270m-q4_k_m.gguf}
text=${2:-/usr/share/common-licenses/GPL-3}
shift $(( $# > 2 ? 2 : $# )) || true
ctxs=("$@")
[ ${#ctxs[@]} -gt 0 ] || ctxs=(512 2048)
bin=${LLAMACPP_BIN:-${LLAMACPP_DIR:-$PWD/.llamacpp}/build/bin}
threads=${THREADS:-2}

echo "model $model ($(sha256sum "$model" | cut -c1-16)...), text $text ($(wc -c <"$text") bytes), $threads threads"
for ctx in "${ctxs[@]}"; do
    ours=$(target/release/slimlm perplexity --model "$model" --file "$text" --ctx "$ctx" \
        --threads "$threads" 2>/dev/null | sed -n 's/.*PPL = \([0-9.]*\).*/\1/p' | tail -1)
    theirs=$("$bin/llama-perplexity" -m "$model" -f "$text" -c "$ctx" -b "$ctx" -t "$threads" \
        -ngl 0 2>&1 | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' | tail -1)
    [ -n "$ours" ] && [ -n "$theirs" ] || { echo "ctx $ctx: a run failed (slimlm '$ours', llama.cpp '$theirs')" >&2; exit 1; }
    python3 -c "import sys; o, t = float(sys.argv[2]), float(sys.argv[3]); \
print(f'ctx {sys.argv[1]:>5}: slimlm {o:.4f}  llama.cpp {t:.4f}  difference {100 * (o - t) / t:+.2f}%')" \
        "$ctx" "$ours" "$theirs"
done
