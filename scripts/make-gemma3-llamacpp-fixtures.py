#!/usr/bin/env python3
"""Writes llama.cpp's greedy continuations of Gemma 3 270M (Q4_K_M) for tests/model_gemma3.rs:
tests/fixtures/models/gemma3_llamacpp.json.

For each prompt, llama.cpp's own `llama-simple` (greedy sampler, BOS added, 32 new tokens,
CPU only) prints the prompt and its continuation; the continuation text is stored. Run by hand,
never in CI, after `scripts/fetch-model.sh gemma3-270m` and `scripts/build-llamacpp.sh`:

    scripts/make-gemma3-llamacpp-fixtures.py [--bin DIR]     # DIR: llama.cpp's build/bin

(default DIR: $LLAMACPP_DIR/build/bin, else .llamacpp/build/bin). About 15 s. The output is
deterministic for a given llama.cpp build (greedy; llama.cpp's CPU results do not depend on
the thread count for one sequence).
"""

import argparse
import hashlib
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
OUT = ROOT / "tests" / "fixtures" / "models" / "gemma3_llamacpp.json"
N_PREDICT = 32

# (name, prompt). The test (tests/model_gemma3.rs) names the prompts it expects to match
# exactly; the others diverge at a near-tie (see its doc comment).
PROMPTS = [
    ("fibonacci", "def fibonacci(n):"),
    ("armstrong", "In 1969, Neil Armstrong"),
    ("fox", "The quick brown fox"),
    ("planet", "The largest planet in the solar system is"),
    ("hello", "Hello, my name is"),
    ("capital", "The capital of France is"),
    ("colors", "The three primary colors are"),
    ("pancakes", "My favourite recipe for pancakes is"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_bin = Path(os.environ.get("LLAMACPP_DIR", ROOT / ".llamacpp")) / "build" / "bin"
    ap.add_argument("--bin", type=Path, default=default_bin)
    args = ap.parse_args()
    simple = args.bin / "llama-simple"
    sha = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    out = {
        "about": "llama.cpp's greedy continuations (llama-simple -n 32, BOS added, CPU) of "
        "models/gemma-3-270m-q4_k_m.gguf; made by scripts/make-gemma3-llamacpp-fixtures.py",
        "llama_cpp": "0c1e570 (llama-cpp-python 0.3.36 sdist), built by scripts/build-llamacpp.sh",
        "model_sha256": sha,
        "n_predict": N_PREDICT,
        "prompts": [],
    }
    for name, prompt in PROMPTS:
        res = subprocess.run(
            [str(simple), "-m", str(MODEL), "-n", str(N_PREDICT), "-ngl", "0", prompt],
            capture_output=True,
            check=True,
        )
        text = res.stdout.decode("utf-8")
        # llama-simple prints every piece, the prompt's (BOS included) first, then a newline.
        head = "<bos>" + prompt
        assert text.startswith(head), (name, text[:80])
        assert text.endswith("\n"), (name, text[-20:])
        continuation = text[len(head) : -1]
        out["prompts"].append({"name": name, "prompt": prompt, "llamacpp_text": continuation})
        print(f"{name}: {continuation!r}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
