#!/usr/bin/env bash
# Builds a static aarch64 `slimlm` for phones: glibc linked in (-C target-feature=+crt-static),
# so it needs no dynamic loader or libraries and runs from `adb shell` on Android. The kernel
# tier is still chosen at run time from the CPU's features (no target-cpu flags).
# Uses Debian's rustc and its aarch64 standard library (scripts/setup-cross.sh), like
# scripts/test-aarch64.sh, in its own target dir so the two builds do not invalidate each
# other.
#
# Usage: scripts/build-device.sh [--smoke] [--check]
#   --smoke  also runs the binary under qemu-aarch64: `--help` and `bench --kernels --quick`
#            on QEMU_CPU=max (every ARM tier); cheap, CI does it
#   --check  also runs `slimlm run` (8 tokens) on the real model under qemu
# qemu runs check correctness only: never time anything under qemu.
# Prints the binary's path last: target/slimlm-aarch64.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0 check=0
for arg in "$@"; do
    case $arg in
        --smoke) smoke=1 ;;
        --check) smoke=1 check=1 ;;
        *) echo "build-device: unknown option $arg (expected --smoke or --check)" >&2; exit 2 ;;
    esac
done

target=aarch64-unknown-linux-gnu
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_DIR=target/device
# Only the target's code: build scripts and proc macros stay ordinary host programs.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"

cargo build --release --target "$target" --bin slimlm
bin=$CARGO_TARGET_DIR/$target/release/slimlm
if aarch64-linux-gnu-readelf -d "$bin" | grep -q NEEDED; then
    echo "build-device: $bin is dynamically linked:" >&2
    aarch64-linux-gnu-readelf -d "$bin" | grep NEEDED >&2
    exit 1
fi
cp "$bin" target/slimlm-aarch64

if [ $smoke = 1 ]; then
    echo "=== static binary under qemu (QEMU_CPU=max; correctness only) ==="
    QEMU_CPU=max qemu-aarch64 target/slimlm-aarch64 --help > /dev/null
    QEMU_CPU=max qemu-aarch64 target/slimlm-aarch64 bench --kernels --quick \
        --json target/device/kernels-quick.json > /dev/null
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["kernels"]; \
tiers=sorted({k["tier"] for k in r}); print("kernels --quick ran", len(r), "kernels, tiers", tiers); \
assert "i8mm" in tiers and "dotprod" in tiers and "neon" in tiers, tiers' target/device/kernels-quick.json
fi
if [ $check = 1 ]; then
    QEMU_CPU=max qemu-aarch64 target/slimlm-aarch64 run --threads 2 --max-tokens 8 \
        --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "What is the capital of France?"
fi
echo "target/slimlm-aarch64"
