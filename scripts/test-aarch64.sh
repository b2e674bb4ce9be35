#!/usr/bin/env bash
# Builds the whole test suite for aarch64-unknown-linux-gnu with Debian's rustc and runs it
# under qemu-user on three CPU models, one per ARM kernel tier:
#   cortex-a53 -> neon, cortex-a76 -> dotprod, max -> i8mm.
# SLIMLM_EXPECT_ISA makes the dispatch test fail if a run does not detect the tier its CPU
# model must have, so no tier is skipped silently. Speed under qemu means nothing.
# Usage: scripts/test-aarch64.sh [CPU...] (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_DIR=target/aarch64
# CLI tests spawn the binary: there is no binfmt here, so they go through qemu too.
export SLIMLM_TEST_RUNNER=qemu-aarch64
# tests/c_abi.rs compiles its C program for the target with this compiler.
export SLIMLM_TEST_CC=aarch64-linux-gnu-gcc
# Emulation is slow: the whole suite runs its property tests at 48 cases, then the tier
# tests (matmul panels per format, activation quantizers, ops) run again at TIER_CASES
# (default 256) per format and tier, as on the host. The cut stays in the other property
# tests (oracles, attention, formats, tokenizers), which are not per tier or run the same
# NEON ops on every ARM tier; measured under QEMU_CPU=max on this 2-core VM, the second
# pass costs seconds, the attention property test alone would take minutes at 256.
export PROPTEST_CASES=${PROPTEST_CASES:-48}
tier_cases=${TIER_CASES:-256}
target=aarch64-unknown-linux-gnu
test_args=(--workspace --target "$target" --lib --bins --tests)

cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(cortex-a53 cortex-a76 max)

cargo test "${test_args[@]}" --no-run

for cpu in "${cpus[@]}"; do
    case $cpu in
        cortex-a53) expect=neon ;;
        cortex-a76) expect=dotprod ;;
        max) expect=i8mm ;;
        *) echo "test-aarch64: unknown CPU model $cpu" >&2; exit 2 ;;
    esac
    echo "=== aarch64 tests under QEMU_CPU=$cpu (expecting tier $expect) ==="
    export QEMU_CPU=$cpu SLIMLM_EXPECT_ISA=$expect
    # Print what this CPU model reports, then run everything.
    cargo test --target "$target" -p slimlm-kernels --lib detected_tier -- --nocapture 2>&1 \
        | grep -E "detected tier|test result"
    cargo test "${test_args[@]}"
    echo "=== tier tests again at $tier_cases cases per format and tier (QEMU_CPU=$cpu)"
    PROPTEST_CASES=$tier_cases cargo test --target "$target" -p slimlm-kernels \
        --test matmul_tiers --test quantize_tiers --test ops_tiers
done
