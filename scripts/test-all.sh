#!/usr/bin/env bash
# Runs every test: setup, formatting, lints, the host suite, the kernel and model tests under
# AddressSanitizer, a fuzz smoke run, the aarch64 suite under qemu on three CPU models (one
# per ARM kernel tier), and the static aarch64 phone binary. This is the README's test
# command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step also prints the free disk space, so a full disk is seen where it happens.
step() {
    printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"
    df -h --output=avail,target . | tail -1 | awk '{print "disk: " $1 " free on " $2}'
}
# SLIMLM_CI_CLEAN=1 (set by .ci/run) deletes each build dir once no later step needs it: CI
# machines may have little disk, and a developer keeps their build caches.
done_with() {
    [ "${SLIMLM_CI_CLEAN:-0}" = 1 ] || return 0
    du -sh "$@" 2>/dev/null | sed 's/^/freeing /'
    rm -rf "$@"
}

step setup
scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

# No import cycle between the files of kernels/src or the folders of src/
# (docs/architecture.md).
step "import layers"
python3 scripts/import-layers.py

# The host suite asserts the tiers this CPU has: SLIMLM_EXPECT_ISA names the best one
# /proc/cpuinfo reports (avx512 needs AVX-512 F, BW, VL and VNNI, avx2 needs AVX2, FMA and
# F16C, as kernels/src/dispatch.rs detects them), and the tier tests fail unless it ran
# (dispatch, matmul, quantizers, ops, oracles, attention). An explicit value is kept.
host_tier() {
    local flags
    flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -1)
    has() { [[ " $flags " == *" $1 "* ]]; }
    if has avx512f && has avx512bw && has avx512vl && has avx512_vnni; then
        echo avx512
    elif has avx2 && has fma && has f16c; then
        echo avx2
    else
        echo scalar
    fi
}
export SLIMLM_EXPECT_ISA=${SLIMLM_EXPECT_ISA:-$(host_tier)}

step "host tests (expecting tier $SLIMLM_EXPECT_ISA)"
cargo test --workspace
# Every bench (kernels/benches/, the end-to-end benches/) compiles and links; built in the
# test profile on the libraries the tests just built (seconds), not in the bench profile (a
# whole release build). Running them is for an idle machine, never CI.
cargo test --workspace --benches --no-run
done_with target/debug

# The kernel and model tests under AddressSanitizer (nightly; about 8 minutes here).
step "AddressSanitizer"
scripts/asan.sh
done_with target/asan

# Every fuzz target for 30 s from its seeds (nightly, cargo-fuzz installed on demand).
step "fuzz smoke"
scripts/fuzz.sh 30
done_with fuzz/target

step "aarch64 tests under qemu"
# Each CPU model sets its own expected tier.
env -u SLIMLM_EXPECT_ISA scripts/test-aarch64.sh
done_with target/aarch64

step "static aarch64 binary for phones (build, smoke run under qemu)"
scripts/build-device.sh --smoke

step "all tests passed"
