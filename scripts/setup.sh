#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root) for building, testing and running slimlm:
# the aarch64 cross toolchain and qemu, tmux (the chat test), Python's gguf package (fixture
# checks), the default model (SmolLM2) and Gemma 3 270M (the SentencePiece tokenizer tests).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-cross.sh
# tmux drives `slimlm chat` in a terminal in tests/cli_chat.rs.
command -v tmux >/dev/null \
    || { apt-get update -q && apt-get install -y -q --no-install-recommends tmux; }
python3 -c "import gguf, numpy" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check "gguf==0.19.0" numpy
scripts/fetch-model.sh
scripts/fetch-model.sh gemma3-270m
