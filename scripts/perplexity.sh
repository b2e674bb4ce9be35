#!/usr/bin/env bash
# Prints the perplexity README.md quotes: SmolLM2-135M-Instruct Q4_1 on the GPL-3 text of
# /usr/share/common-licenses, chunks of 512 tokens, f16 KV cache (both programs' default),
# by `slimlm perplexity` and by llama.cpp's own llama-perplexity (the same protocol:
# non-overlapping chunks, BOS first, the second half of each chunk scored; built by
# scripts/build-llamacpp.sh into $LLAMACPP_DIR, default .llamacpp/). Perplexity is not a
# timing: any machine, any load gives the same figures (up to the tier's summation order
# for llama.cpp). Never run by CI (a release build and two runs of a few minutes).
# Usage: scripts/perplexity.sh [MODEL] [TEXT] [CTX]
set -euo pipefail
cd "$(dirname "$0")/.."

model=${1:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
text=${2:-/usr/share/common-licenses/GPL-3}
ctx=${3:-512}
bin=${LLAMACPP_DIR:-$PWD/.llamacpp}/build/bin

cargo build --quiet --release
echo "== slimlm perplexity ($model, $text, ctx $ctx)"
target/release/slimlm perplexity --model "$model" --file "$text" --ctx "$ctx" 2>&1 | tail -3

if [ -x "$bin/llama-perplexity" ]; then
    echo "== llama.cpp llama-perplexity (same file, ctx $ctx, batch $ctx)"
    "$bin/llama-perplexity" -m "$model" -f "$text" -c "$ctx" -b "$ctx" -t 2 2>&1 \
        | grep -E "^\[|Final estimate" | tail -2
else
    echo "== llama.cpp: no $bin/llama-perplexity (run scripts/build-llamacpp.sh)"
fi
