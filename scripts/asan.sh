#!/usr/bin/env bash
# Runs the kernel tests (every tier against the scalar reference: property tests, extremes,
# format round trips, the kernel unit tests) and the model tests (tiny llama/qwen2, the
# SlimLM-shaped random mpt, SmolLM2 against its oracles, the error paths) under
# AddressSanitizer on the nightly toolchain. Heap and stack overflows, use after free and
# leaks fail the run with file and line. x86_64 only: the sanitizer runtime is not built
# for aarch64 here, so the ARM tiers are checked by their bounds tests under qemu.
# Usage: scripts/asan.sh
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] \
    || { echo "asan: the model is missing: run scripts/fetch-model.sh" >&2; exit 1; }

# --target makes RUSTFLAGS skip build scripts and proc macros (they need no sanitizer);
# a separate target dir keeps the instrumented artifacts away from the normal ones.
export RUSTFLAGS="-Zsanitizer=address"
export CARGO_TARGET_DIR=target/asan
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
target=x86_64-unknown-linux-gnu

cargo +nightly test --target "$target" -p slimlm-kernels --lib --tests
cargo +nightly test --target "$target" -p slimlm --lib \
    --test model_tiny --test model_slimlm_random --test model_smollm2 --test model_k_quants \
    --test error_paths
echo "asan: clean"
