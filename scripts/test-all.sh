#!/usr/bin/env bash
# Runs every test: setup, formatting, lints, the host suite, a fuzz smoke run, the aarch64
# suite under qemu on three CPU models (one per ARM kernel tier), and the static aarch64
# phone binary. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"; }

step setup
scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "host tests"
cargo test --workspace

# Every fuzz target for 30 s from its seeds (nightly, cargo-fuzz installed on demand).
step "fuzz smoke"
scripts/fuzz.sh 30

step "aarch64 tests under qemu"
scripts/test-aarch64.sh

step "static aarch64 binary for phones (build, smoke run under qemu)"
scripts/build-device.sh --smoke

step "all tests passed"
