#!/usr/bin/env python3
"""Writes llama.cpp's logits for SmolLM2-135M-Instruct (Q4_1 GGUF) as a second oracle, next to
the transformers one (tests/fixtures/models/smollm2.json, by scripts/make-model-fixtures.py).
Described in tests/fixtures/README-models.md, section "llama.cpp second oracle".

llama.cpp's CPU backend multiplies the Q4_1 / Q8_0 weights by activations quantized to int8
blocks (Q8_1 / Q8_0), as slimlm's quantized path does; the transformers oracle runs the
dequantized weights in float64. llama.cpp keeps its KV cache in f16 by default (slimlm keeps
f32), so the logits are also written for a run with an f32 KV cache (subfolder kv_f32/). This script records how far
llama.cpp is from transformers, and llama.cpp's own logits for slimlm to be compared with.

Run by hand, never in CI, from any directory, with a virtualenv outside the repository
(llama-cpp-python builds llama.cpp from source: a few minutes on 2 cores, needs cmake and a C++
compiler: `apt-get update && apt-get install -y cmake build-essential`):

    python3 -m venv /opt/llamacpp-venv
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=OFF" \\
      CMAKE_BUILD_PARALLEL_LEVEL=2 \\
      /opt/llamacpp-venv/bin/pip install --no-binary llama-cpp-python llama-cpp-python==0.3.36 numpy==2.4.6
    scripts/fetch-model.sh                                        # models/SmolLM2-135M-Instruct.Q4_1.gguf
    /opt/llamacpp-venv/bin/python scripts/make-llamacpp-fixtures.py                # fixtures, ~30-60 s
    /opt/llamacpp-venv/bin/python scripts/make-llamacpp-fixtures.py --determinism  # prints only, ~20 min

Default mode writes
    tests/fixtures/models/smollm2_llamacpp.json
    tests/fixtures/models/smollm2_llamacpp/{capital,fibonacci,long_sentence,chatml}.f32.gz
    tests/fixtures/models/smollm2_llamacpp/kv_f32/{same names}.f32.gz   (type_k = type_v = F32)
and prints a summary table. Output is byte-reproducible for a given build (gzip mtime 0, sorted
JSON keys; llama.cpp's results are bit-identical run to run, see --determinism).

`--determinism` writes nothing: it reruns everything with n_threads 1/2, n_batch 1/512, a fresh
context vs a reused one, and two informative variants (f32 KV cache; logits for the last
position only), and prints how each differs from the fixture settings and from transformers.
"""

import argparse
import ctypes
import gzip
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

import llama_cpp
from llama_cpp import Llama

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "models"
REF_JSON = FIX / "smollm2.json"
OUT_JSON = FIX / "smollm2_llamacpp.json"
OUT_DIR = FIX / "smollm2_llamacpp"
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

# How the llama-cpp-python in the venv was built (CMAKE_ARGS cannot be read back from the
# library; the CPU variant flags are those printed by ggml's CMake for these CMAKE_ARGS).
BUILD = {
    "CMAKE_ARGS": "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_AVX512=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=OFF",
    "ggml_cpu_variant_flags": "-msse4.2 -mf16c -mfma -mbmi2 -mavx -mavx2",
    "compiler": "GCC 12.2.0 (Debian 12), CMake 3.25.1, -O3 Release",
    "left_at_default": "GGML_LLAMAFILE=ON (tinyBLAS sgemm, used by ggml only for matmuls "
    "with >= 2 activation rows), GGML_CPU_REPACK=ON (no effect here: on x86 it repacks only "
    "Q4_0/Q4_K/IQ4_NL/..., not Q4_1 or Q8_0)",
    "from": "llama-cpp-python 0.3.36 sdist (pip install --no-binary), which vendors "
    "llama.cpp at ggml-org/llama.cpp@0c1e57098 (its CHANGELOG)",
}
EXPECTED_PY_VERSION = "0.3.36"

N_CTX = 1024


def write_gz_f32(path: Path, values: np.ndarray) -> None:
    """Raw little-endian float32, no header, gzip level 9 with mtime 0 (byte-reproducible)."""
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def to_json(obj, indent: int = 0) -> str:
    """Sorted keys, one key per line, lists of scalars on one line (as make-model-fixtures.py)."""
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {to_json(obj[k], indent + 1)}" for k in sorted(obj)]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return json.dumps(list(obj), ensure_ascii=False)
        return "[\n" + ",\n".join(pad + to_json(v, indent + 1) for v in obj) + "\n" + " " * indent + "]"
    return json.dumps(obj, ensure_ascii=False)


def dump_json(path: Path, obj: dict) -> None:
    text = to_json(obj) + "\n"
    assert json.loads(text) == json.loads(json.dumps(obj)), "to_json must not change the data"
    path.write_text(text)


def read_gz_f32(path: Path) -> np.ndarray:
    return np.frombuffer(gzip.decompress(path.read_bytes()), dtype="<f4").astype(np.float32)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def lib_versions() -> dict:
    libdir = Path(llama_cpp.__file__).parent / "lib"
    g = ctypes.CDLL(str(libdir / "libggml-base.so"))
    g.ggml_commit.restype = ctypes.c_char_p
    g.ggml_version.restype = ctypes.c_char_p
    return {
        "llama_cpp_python": llama_cpp.__version__,
        "llama_cpp_commit": "0c1e57098 (vendored by llama-cpp-python 0.3.36)",
        "llama_version": llama_cpp.llama_version().decode(),
        "ggml_version": g.ggml_version().decode(),
        "ggml_commit": g.ggml_commit().decode(),
        "system_info": llama_cpp.llama_print_system_info().decode().strip(),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def make_llm(threads: int, batch: int, logits_all: bool = True, kv_f32: bool = False) -> Llama:
    kw = dict(
        model_path=str(MODEL),
        n_ctx=N_CTX,
        n_threads=threads,
        n_threads_batch=threads,  # llama-cpp-python defaults this one to cpu_count()
        logits_all=logits_all,
        n_batch=batch,  # n_ubatch = min(n_batch, 512)
        verbose=False,
        seed=0,
    )
    if kv_f32:
        kw.update(type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    return Llama(**kw)


def run(llm: Llama, ids) -> np.ndarray:
    """Logits [len(ids), vocab] (float32) of one eval from position 0, no BOS added.
    With logits_all=False only the last row is valid (read from llama_get_logits)."""
    llm.reset()
    llm.eval(list(ids))
    assert llm.n_tokens == len(ids)
    if llm._logits_all:
        # llm.scores[i] = logits after reading ids[0..=i] (eval_logits is the same as lists)
        return np.array(llm.scores[: len(ids)], dtype=np.float32, copy=True)
    out = np.full((len(ids), llm.n_vocab()), np.nan, dtype=np.float32)
    out[-1] = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
    return out


def top_k(v: np.ndarray, k: int):
    """Best first, ties by lower id (stable sort on -value)."""
    order = np.argsort(-v.astype(np.float64), kind="stable")[:k]
    return [int(i) for i in order], [float(v[i]) for i in order]


def piece(llm: Llama, tok: int) -> str:
    return llm.detokenize([tok], special=True).decode("utf-8", errors="replace")


def margin(v: np.ndarray) -> float:
    ids, vals = top_k(v, 2)
    return vals[0] - vals[1]


def compare(a: np.ndarray, ref: np.ndarray) -> dict:
    a64, r64 = a.astype(np.float64), ref.astype(np.float64)
    d = a64 - r64
    return {
        "cosine": float(np.dot(a64, r64) / (np.linalg.norm(a64) * np.linalg.norm(r64))),
        "max_abs_diff": float(np.max(np.abs(d))),
        "rms_diff": float(np.sqrt(np.mean(d * d))),
        "top1_agrees": int(np.argmax(a)) == int(np.argmax(ref)),
        "top5_overlap": len(set(top_k(a, 5)[0]) & set(top_k(ref, 5)[0])),
    }


def load_reference():
    ref = json.loads(REF_JSON.read_text())
    prompts = []
    for p in ref["prompts"]:
        prompts.append(
            {
                "name": p["name"],
                "ids": p["ids"],
                "ref_logits": read_gz_f32(FIX / p["last_logits_file"]),
                "ref_top1": int(p["top50"]["ids"][0]),
                "ref_margin": float(p["top1_margin"]),
            }
        )
    tf = ref["teacher_forced"]
    return ref, prompts, tf


def evaluate(llm: Llama, prompts, tf_ids, fresh=None):
    """Returns ({name: last logits}, teacher-forced logits [n, vocab]).
    fresh: a zero-argument function making a new Llama per sequence (instead of reusing llm)."""
    last = {}
    for p in prompts:
        m = fresh() if fresh else llm
        last[p["name"]] = run(m, p["ids"])[-1]
    m = fresh() if fresh else llm
    tf = run(m, tf_ids)
    return last, tf


# ---------------------------------------------------------------------------------------------


def make_fixtures(ref, prompts, tf_ref):
    versions = lib_versions()
    if versions["llama_cpp_python"] != EXPECTED_PY_VERSION:
        print(f"WARNING: llama-cpp-python {versions['llama_cpp_python']}, the BUILD notes are "
              f"for {EXPECTED_PY_VERSION}", file=sys.stderr)
    sha = sha256_file(MODEL)
    assert sha == ref["model_sha256"], "not the GGUF the transformers oracle used"

    llm = make_llm(threads=2, batch=512)
    tf_ids = tf_ref["ids"]
    last, tf_logits = evaluate(llm, prompts, tf_ids)

    # the last position of a prompt evaluated alone must equal the same prompt's last row when
    # it is evaluated again (sanity: the reused context leaves no state behind)
    again = run(llm, prompts[0]["ids"])[-1]
    assert np.array_equal(again, last[prompts[0]["name"]]), "llama.cpp not repeatable"

    out_prompts = []
    for p in prompts:
        v = last[p["name"]]
        fname = f"smollm2_llamacpp/{p['name']}.f32.gz"
        write_gz_f32(FIX / fname, v)
        ids10, vals10 = top_k(v, 10)
        out_prompts.append(
            {
                "name": p["name"],
                "n_tokens": len(p["ids"]),
                "last_logits_file": fname,
                "top1_id": ids10[0],
                "top1_text": piece(llm, ids10[0]),
                "top1_margin": round(vals10[0] - vals10[1], 6),
                "top10": {"ids": ids10, "values": vals10},
                "vs_transformers": {
                    **{k: (round(x, 9) if isinstance(x, float) else x)
                       for k, x in compare(v, p["ref_logits"]).items()},
                    "transformers_top1_id": p["ref_top1"],
                    "transformers_top1_text": piece(llm, p["ref_top1"]),
                    "transformers_top1_margin": p["ref_margin"],
                },
            }
        )

    # the same with an f32 KV cache (llama.cpp's default is f16; slimlm keeps f32)
    llm32 = make_llm(threads=2, batch=512, kv_f32=True)
    last32, tf32 = evaluate(llm32, prompts, tf_ids)
    kv32_prompts = []
    for p in prompts:
        v = last32[p["name"]]
        fname = f"smollm2_llamacpp/kv_f32/{p['name']}.f32.gz"
        write_gz_f32(FIX / fname, v)
        ids2, vals2 = top_k(v, 2)
        kv32_prompts.append(
            {
                "name": p["name"],
                "last_logits_file": fname,
                "top1_id": ids2[0],
                "top1_margin": round(vals2[0] - vals2[1], 6),
                "vs_transformers": {k: (round(x, 9) if isinstance(x, float) else x)
                                    for k, x in compare(v, p["ref_logits"]).items()},
                "vs_kv_f16": {k: (round(x, 9) if isinstance(x, float) else x)
                              for k, x in compare(v, last[p["name"]]).items()},
            }
        )
    am32 = [int(i) for i in np.argmax(tf32, axis=1)]

    am = [int(i) for i in np.argmax(tf_logits, axis=1)]
    margins = [round(margin(row), 6) for row in tf_logits]
    ref_am = tf_ref["argmax"]
    ref_m = tf_ref["top1_margins"]
    agree = [a == b for a, b in zip(am, ref_am)]
    disagree = [
        {"pos": i, "llamacpp": am[i], "transformers": ref_am[i],
         "transformers_margin": ref_m[i], "llamacpp_margin": margins[i]}
        for i in range(len(am)) if not agree[i]
    ]

    def rate(th):
        sel = [i for i in range(len(am)) if ref_m[i] >= th]
        return {"positions": len(sel), "agree": sum(agree[i] for i in sel),
                "rate": round(sum(agree[i] for i in sel) / len(sel), 6)}

    next_tok = sum(am[i] == tf_ids[i + 1] for i in range(len(am) - 1))
    out = {
        "about": "llama.cpp (CPU backend via llama-cpp-python) logits for the SmolLM2 prompts and "
        "teacher-forced text of smollm2.json, and their distance to the transformers float64 "
        "reference. Made by scripts/make-llamacpp-fixtures.py; see README-models.md, "
        "'llama.cpp second oracle'.",
        "model_file": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
        "model_sha256": sha,
        "reference": "smollm2.json (transformers, dequantized weights, float64 forward)",
        "logits_format": "raw little-endian float32, vocab_size values, gzip (mtime 0)",
        "vocab_size": int(llm.n_vocab()),
        "versions": versions,
        "build": BUILD,
        "settings": {
            "Llama": "Llama(model_path=..., n_ctx=1024, n_threads=2, n_threads_batch=2, "
            "logits_all=True, n_batch=512, verbose=False, seed=0)",
            "eval": "llm.reset(); llm.eval(ids): one llama_decode of all ids from position 0 "
            "(n_ubatch 512), no BOS added; logits from llm.scores[i] (= eval_logits[i])",
            "kv_cache": "f16 K and V (llama.cpp default type_k/type_v)",
            "flash_attn": "disabled (llama-cpp-python flash_attn=False)",
            "matmul_kernels": "from reading ggml's CPU dispatch, not instrumented: Q4_1 weights x "
            "activations quantized to Q8_1 (ggml vec_dot; no tinyBLAS/repack kernel for Q4_1 on "
            "x86); tied LM head token_embd Q8_0 x activations quantized to Q8_0 (tinyBLAS for "
            ">= 2 rows, vec_dot for 1 row; bit-identical here); KQ and KQV: f16 K/V cache x "
            "activations converted to f16",
        },
        "prompts": out_prompts,
        "teacher_forced": {
            "text_file": tf_ref["text_file"],
            "n_tokens": len(tf_ids),
            "eval": "one llm.eval of all 410 ids (n_batch 512), logits_all",
            "argmax": am,
            "top1_margins": margins,
            "agreement_with_transformers": round(sum(agree) / len(agree), 6),
            "n_agree": sum(agree),
            "agreement_where_transformers_margin_ge_0.1": rate(0.1),
            "agreement_where_transformers_margin_ge_0.5": rate(0.5),
            "disagreements": disagree,
            "next_token_accuracy": round(next_tok / (len(am) - 1), 6),
        },
        "kv_f32": {
            "what": "the same runs with Llama(..., type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32); "
            "everything else as in settings",
            "prompts": kv32_prompts,
            "teacher_forced_argmax": am32,
            "teacher_forced_agreement_with_transformers": round(
                sum(a == b for a, b in zip(am32, ref_am)) / len(am32), 6),
            "teacher_forced_agreement_with_kv_f16": round(
                sum(a == b for a, b in zip(am32, am)) / len(am32), 6),
        },
    }
    dump_json(OUT_JSON, out)

    print(f"llama-cpp-python {versions['llama_cpp_python']}, llama.cpp {versions['llama_cpp_commit']}, "
          f"ggml {versions['ggml_version']} ({versions['ggml_commit']})")
    print(f"{'prompt':14} {'n':>3} {'top1':>6} {'margin':>7} {'tf top1':>7} {'tf margin':>9} "
          f"{'agree':>5} {'cosine':>12} {'max|d|':>8} {'rms d':>8}")
    for p in out_prompts:
        c = p["vs_transformers"]
        print(f"{p['name']:14} {p['n_tokens']:>3} {p['top1_id']:>6} {p['top1_margin']:>7.3f} "
              f"{c['transformers_top1_id']:>7} {c['transformers_top1_margin']:>9.3f} "
              f"{str(c['top1_agrees']):>5} {c['cosine']:>12.9f} {c['max_abs_diff']:>8.4f} "
              f"{c['rms_diff']:>8.4f}")
    t = out["teacher_forced"]
    print(f"teacher-forced: {t['n_agree']}/{t['n_tokens']} argmax agree with transformers "
          f"({t['agreement_with_transformers']:.4f}); where transformers margin >= 0.1: "
          f"{t['agreement_where_transformers_margin_ge_0.1']}; >= 0.5: "
          f"{t['agreement_where_transformers_margin_ge_0.5']}; llama.cpp next-token accuracy "
          f"{t['next_token_accuracy']:.4f}")
    for p in kv32_prompts:
        c, f = p["vs_transformers"], p["vs_kv_f16"]
        print(f"kv_f32 {p['name']:14} top1 {p['top1_id']:>6} margin {p['top1_margin']:.3f} | vs "
              f"transformers: agree {c['top1_agrees']}, cos {c['cosine']:.9f}, max|d| "
              f"{c['max_abs_diff']:.4f} | vs f16 KV: cos {f['cosine']:.9f}, max|d| {f['max_abs_diff']:.4f}")
    k = out["kv_f32"]
    print(f"kv_f32 teacher-forced: argmax agreement with transformers "
          f"{k['teacher_forced_agreement_with_transformers']:.4f}, with f16 KV "
          f"{k['teacher_forced_agreement_with_kv_f16']:.4f}")
    print(f"wrote {OUT_JSON.relative_to(ROOT)} and {2 * len(out_prompts)} logits files")


def determinism(ref, prompts, tf_ref):
    tf_ids = tf_ref["ids"]
    base_llm = make_llm(2, 512)
    base_last, base_tf = evaluate(base_llm, prompts, tf_ids)
    base_am = np.argmax(base_tf, axis=1)
    ref_am = np.array(tf_ref["argmax"])

    variants = [
        ("t2 b512 same ctx, 2nd run", lambda: base_llm, False),
        ("t2 b512 fresh ctx per seq", lambda: make_llm(2, 512), True),
        ("t1 b512", lambda: make_llm(1, 512), False),
        ("t2 b1 (token by token)", lambda: make_llm(2, 1), False),
        ("t1 b1 (token by token)", lambda: make_llm(1, 1), False),
        ("t2 b512 KV cache f32", lambda: make_llm(2, 512, kv_f32=True), False),
        ("t2 b512 logits last only", lambda: make_llm(2, 512, logits_all=False), False),
        ("t2 b1 logits last only", lambda: make_llm(2, 1, logits_all=False), False),
    ]

    def row(name, last, tf):
        cells = []
        for p in prompts:
            v, b = last[p["name"]], base_last[p["name"]]
            same = np.array_equal(v, b)
            d = float(np.max(np.abs(v.astype(np.float64) - b))) if not same else 0.0
            c = compare(v, p["ref_logits"])
            cells.append(f"{p['name']}: {'bit-identical' if same else f'max|d|={d:.2e}'} "
                         f"(vs tf cos {c['cosine']:.7f} max {c['max_abs_diff']:.3f} top1 {c['top1_agrees']})")
        line = f"== {name}\n   " + "\n   ".join(cells)
        if tf is not None:
            am = np.argmax(tf, axis=1)
            same = np.array_equal(tf, base_tf)
            d = float(np.max(np.abs(tf.astype(np.float64) - base_tf))) if not same else 0.0
            line += (f"\n   teacher-forced logits: {'bit-identical' if same else f'max|d|={d:.2e}'}; "
                     f"argmax == base at {int(np.sum(am == base_am))}/{len(am)}; "
                     f"== transformers at {int(np.sum(am == ref_am))}/{len(am)}")
        return line

    print(row("base: t2 b512 (fixture settings)", base_last, base_tf))
    for name, mk, fresh in variants:
        llm = mk()
        if fresh:
            last, tf = evaluate(None, prompts, tf_ids, fresh=mk)
        else:
            last, tf = evaluate(llm, prompts, tf_ids)
        if not llm._logits_all:
            tf = None  # only the last row exists
        print(row(name, last, tf), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--determinism", action="store_true",
                    help="measure thread/batch/context effects; print only, write nothing")
    args = ap.parse_args()
    os.chdir(ROOT)
    ref, prompts, tf_ref = load_reference()
    if args.determinism:
        determinism(ref, prompts, tf_ref)
    else:
        make_fixtures(ref, prompts, tf_ref)


if __name__ == "__main__":
    main()
