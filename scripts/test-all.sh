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

step "host tests"
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
scripts/test-aarch64.sh
done_with target/aarch64

step "static aarch64 binary for phones (build, smoke run under qemu)"
scripts/build-device.sh --smoke

step "all tests passed"
