#!/usr/bin/env python3
"""Where slimlm's greedy text leaves llama.cpp's on Gemma 3 270M, who is right? Prints, for
every prompt of tests/fixtures/models/gemma3_llamacpp.json, teacher-forced along llama.cpp's
continuation: slimlm's logit cosine against transformers running the same GGUF dequantized
(float32), and at each position where slimlm's first choice is not llama.cpp's token, both
gaps and which token transformers prefers.

Run by hand, never in CI (about 2 minutes), with the oracle venv of
scripts/make-model-fixtures.py:

    cargo build --release --example dump_logits
    /opt/oracle-venv/bin/python scripts/compare-gemma3-oracles.py
"""

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
FIXTURE = ROOT / "tests" / "fixtures" / "models" / "gemma3_llamacpp.json"
DUMP = ROOT / "target" / "release" / "examples" / "dump_logits"


def main() -> None:
    torch.set_num_threads(2)
    fx = json.loads(FIXTURE.read_text())
    hf = AutoModelForCausalLM.from_pretrained(
        str(MODEL.parent), gguf_file=MODEL.name, dtype=torch.float32
    ).eval()
    sides = {"slimlm": 0, "llama.cpp": 0}
    cosines = []
    for p in fx["prompts"]:
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "x"
            args = [str(DUMP), str(MODEL), p["prompt"], p["llamacpp_text"], str(out)]
            subprocess.run(args, check=True, capture_output=True)
            n_prompt, line = out.with_suffix(".ids").read_text().splitlines()
            n_prompt, ids = int(n_prompt), [int(x) for x in line.split()]
            ours = np.fromfile(out.with_suffix(".f32"), dtype="<f4").reshape(len(ids), -1)
        with torch.no_grad():
            ref = hf(torch.tensor([ids])).logits[0].double().numpy()
        vocab = min(ours.shape[1], ref.shape[1])
        ours, ref = ours[:, :vocab].astype(np.float64), ref[:, :vocab]
        cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(ours, ref)]
        cosines += cos
        print(f"{p['name']}: {len(ids)} tokens, cosine vs transformers {min(cos):.5f}..{max(cos):.5f}")
        # Row i predicts token i + 1: the rows from the prompt's last token on predict the
        # continuation.
        for i in range(n_prompt - 1, len(ids) - 1):
            mine, theirs = int(np.argmax(ours[i])), ids[i + 1]
            if mine == theirs:
                continue
            ref_top = int(np.argmax(ref[i]))
            side = "slimlm" if ref_top == mine else "llama.cpp" if ref_top == theirs else "neither"
            if side in sides:
                sides[side] += 1
            print(
                f"  position {i}: slimlm {mine} is {ours[i][mine] - ours[i][theirs]:.4f} above "
                f"llama.cpp's {theirs}; transformers prefers {side} "
                f"(gap {abs(ref[i][mine] - ref[i][theirs]):.4f})"
            )
    print(f"all positions: cosine {min(cosines):.5f}..{max(cosines):.5f}; "
          f"transformers sides with slimlm {sides['slimlm']}x, with llama.cpp {sides['llama.cpp']}x")


if __name__ == "__main__":
    main()
