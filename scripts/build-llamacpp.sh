#!/usr/bin/env bash
# Builds llama.cpp's own command-line tools (llama-bench, llama-quantize, llama-perplexity,
# llama-tokenize, llama-simple) from the tree vendored in the llama-cpp-python 0.3.36 sdist
# (llama.cpp 0c1e570), with CMake in Release for this CPU: the peer that speed, perplexity
# and tokenizer comparisons run against, program against program. Never used by CI.
#
#   scripts/build-llamacpp.sh            # builds into .llamacpp/ (git-ignored), idempotent
#   LLAMACPP_DIR=/somewhere scripts/build-llamacpp.sh
#
# Prints the bin directory on its last line. About 15-25 minutes on 2 shared cores.
# CPU flags: every AVX-512 extension /proc/cpuinfo lists, AVX2 otherwise, AMX off. Not
# GGML_NATIVE: -march=native turns AMX on where the CPU reports it, and on VMs whose
# hypervisor does not enable the AMX tile state llama.cpp then dies of SIGILL.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.3.36
dir=${LLAMACPP_DIR:-$PWD/.llamacpp}
src=$dir/llama-cpp-python-$version/vendor/llama.cpp
build=$dir/build
tools=(llama-bench llama-quantize llama-perplexity llama-tokenize llama-simple)

if [ -n "$(for t in "${tools[@]}"; do [ -x "$build/bin/$t" ] || echo missing; done)" ]; then
    command -v cmake >/dev/null || {
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends cmake
    }
    mkdir -p "$dir"
    if [ ! -d "$src" ]; then
        python3 -c "import scikit_build_core" 2>/dev/null \
            || python3 -m pip install --quiet --disable-pip-version-check scikit-build-core
        # --no-build-isolation: plain --no-binary :all: would build cmake itself from source.
        python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python \
            --no-build-isolation "llama-cpp-python==$version" -d "$dir"
        tar -xzf "$dir/llama_cpp_python-$version.tar.gz" -C "$dir"
        mv "$dir/llama_cpp_python-$version" "$dir/llama-cpp-python-$version"
    fi
    flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -1)
    has() { [[ " $flags " == *" $1 "* ]]; }
    args=(-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF
          -DGGML_AMX_BF16=OFF)
    if has avx2; then
        args+=(-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
    fi
    has avx512f && args+=(-DGGML_AVX512=ON)
    has avx512vbmi && args+=(-DGGML_AVX512_VBMI=ON)
    has avx512_vnni && args+=(-DGGML_AVX512_VNNI=ON)
    has avx512_bf16 && args+=(-DGGML_AVX512_BF16=ON)
    has avx_vnni && args+=(-DGGML_AVX_VNNI=ON)
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_SERVER=OFF "${args[@]}" >"$dir/cmake.log"
    cmake --build "$build" -j2 --target "${tools[@]}" >"$dir/build.log"
fi
echo "$build/bin"
