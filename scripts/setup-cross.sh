#!/usr/bin/env bash
# Installs what building and testing aarch64 code on this x86_64 Debian 12 machine needs
# (see ../shared/TOOLCHAIN.md): Debian's rustc with the aarch64 standard library, the
# aarch64 linker and C library, and qemu-user. Idempotent; run as root. (llvm-mca comes
# with llvm-22, which scripts that need it install on demand.)
set -euo pipefail

need=()
[ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ] || need+=(rustc-web libstd-rust-web-dev:arm64)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/crti.o ] || need+=(libc6-dev-arm64-cross)
[ -e /lib/aarch64-linux-gnu/libc.so.6 ] || need+=(libc6:arm64)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)

if [ ${#need[@]} -eq 0 ]; then
    echo "setup-cross: everything present"
    exit 0
fi
echo "setup-cross: installing ${need[*]}"
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
