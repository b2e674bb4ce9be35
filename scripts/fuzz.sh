#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60) on the nightly
# toolchain, from the corpus it has grown so far (fuzz/corpus/TARGET, git-ignored) plus
# seeds generated fresh by fuzz/examples/make_seeds.rs (fuzz/seeds, git-ignored).
# CI runs `scripts/fuzz.sh 30`; campaigns run longer, e.g. `FUZZ_RUNS=10000000
# nice -n 15 scripts/fuzz.sh 7200 gguf_parse` (stops at whichever limit comes first).
#
# Built without a sanitizer (-s none): the targets' code is safe Rust except the kernels,
# which scripts/asan.sh checks under AddressSanitizer; this keeps the build and each
# execution several times cheaper. A crash leaves its input in fuzz/artifacts/TARGET/ and
# makes the script fail; turn the input into a regression test in tests/ (see
# tests/fuzz_regressions.rs).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf_parse model_config tokenizer chat_template doc_chunker)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] \
    || { echo "fuzz: the model is missing: run scripts/fetch-model.sh" >&2; exit 1; }

cargo +nightly fuzz build -s none
cargo +nightly run --quiet --manifest-path fuzz/Cargo.toml --example make_seeds -- fuzz/seeds

runs=()
[ -z "${FUZZ_RUNS:-}" ] || runs=("-runs=$FUZZ_RUNS")
failed=()
summary=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    log="fuzz/artifacts/$target/last-run.log"
    echo "=== fuzz $target for ${seconds}s ($(date +%T)) ==="
    # -timeout: a case running 10 s is a bug (every limit must stop work within ~1 s);
    # -rss_limit_mb: a case may not grow the process past 2 GiB.
    if cargo +nightly fuzz run -s none "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${runs[@]}" \
        -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
        tail -40 "$log"
    fi
    done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true)
    summary+=("$target: $status; ${done_line:-no Done line, see $log}")
done

printf '\n=== fuzz summary ===\n'
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}: inputs in fuzz/artifacts/<target>/" >&2
    exit 1
fi
