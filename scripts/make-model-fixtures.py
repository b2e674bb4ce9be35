#!/usr/bin/env python3
"""Writes the outside-oracle fixtures for the model graph under tests/fixtures/models/
(described in tests/fixtures/README-models.md).

Run by hand, never in CI, from any directory, with a virtualenv outside the repository:

    python3 -m venv /opt/oracle-venv
    /opt/oracle-venv/bin/pip install -r scripts/requirements-oracle.txt   # ~3 GB (CUDA torch)
    scripts/fetch-model.sh                                                 # models/SmolLM2-...
    /opt/oracle-venv/bin/python scripts/make-model-fixtures.py            # everything, ~10 min
    /opt/oracle-venv/bin/python scripts/make-model-fixtures.py --only smollm2
    /opt/oracle-venv/bin/python scripts/make-model-fixtures.py --only random --no-l12

Output is deterministic (gzip with mtime 0, sorted JSON keys, fixed prompts, float64
reference forwards stored as float32). Two parts:

A. SmolLM2-135M-Instruct (models/SmolLM2-135M-Instruct.Q4_1.gguf, loaded by transformers,
   which dequantizes every tensor to float32 and un-permutes Q/K; checked below): for four
   prompts the token ids, the last-position logits (top-50 exact, full vector gzipped), a
   16-token greedy continuation; and teacher-forced argmax over tests/fixtures/models/english.txt.
   -> tests/fixtures/models/smollm2.json, tests/fixtures/models/smollm2/*.f32.gz

B. A SlimLM-125M-shaped model (arch `mpt`, d=768, 12 heads, vocab 50368, 2048 positions)
   with weights from a documented splitmix64 recipe (README-models.md, "Random SlimLM
   weights"), written as GGUF (F32, Q8_0, Q4_0) to models/fixtures/ (git-ignored, ~220 MB
   each) and run in float64 by transformers' GPT2LMHeadModel on the weights read back from
   each GGUF (dequantized for Q8_0/Q4_0), cross-checked by an independent numpy forward.
   -> tests/fixtures/models/slimlm_random.json, tests/fixtures/models/slimlm_random/*.f32.gz
"""

import argparse
import gzip
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

import gguf
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "models"
MODELS = ROOT / "models"
SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
RANDOM_DIR = MODELS / "fixtures"

# ---------------------------------------------------------------------------------------------
# helpers


def write_gz_f32(path: Path, values: np.ndarray) -> None:
    """Raw little-endian float32, no header, gzip level 9 with mtime 0 (byte-reproducible)."""
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def top_k(logits64: np.ndarray, k: int = 50) -> dict:
    """Top-k by the float64 value, ties broken by the lower id; values stored as float32."""
    order = np.lexsort((np.arange(logits64.size), -logits64))[:k]
    return {
        "ids": [int(i) for i in order],
        "values": [float(np.float32(logits64[i])) for i in order],
    }


def margin(logits64: np.ndarray) -> float:
    """Top-1 minus top-2 logit: how far the argmax is from a tie."""
    two = np.partition(logits64, -2)[-2:]
    return round(float(two[1] - two[0]), 6)


def rel(path: Path) -> str:
    return str(path.relative_to(OUT))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions() -> dict:
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gguf": getattr(gguf, "__version__", None) or _dist_version("gguf"),
        "numpy": np.__version__,
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def to_json(obj, indent: int = 0) -> str:
    """Sorted keys, one key per line, lists of scalars on one line (keeps the files small)."""
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


# ---------------------------------------------------------------------------------------------
# A. SmolLM2-135M-Instruct

SMOL_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
SMOL_USER = "What is the capital of France?"
EXPECTED_CHATML = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
    "<|im_start|>assistant\n"
)
SMOL_PROMPTS = [
    ("capital", "The capital of France is"),
    ("fibonacci", "def fibonacci(n):"),
    (
        "long_sentence",
        "Although the morning train was delayed by almost an hour because of heavy snow on "
        "the tracks, the passengers waited patiently on the cold platform, sharing hot coffee "
        "and old stories until it finally arrived.",
    ),
    ("chatml", None),  # rendered by the tokenizer's chat template below
]
GREEDY_TOKENS = 16


def unpermute_qk(stored: np.ndarray, n_head: int) -> np.ndarray:
    """GGUF llama Q/K rows -> HF rows: within each head, stored row 2j = HF row j and
    stored row 2j+1 = HF row j + head_dim/2 (TOOLCHAIN.md). Written independently of
    transformers' _reverse_permute_weights, which it checks."""
    rows, cols = stored.shape
    hd = rows // n_head
    out = np.empty_like(stored)
    for h in range(n_head):
        for j in range(hd // 2):
            out[h * hd + j] = stored[h * hd + 2 * j]
            out[h * hd + j + hd // 2] = stored[h * hd + 2 * j + 1]
    return out


def check_smollm2_qk(model, path: Path) -> dict:
    reader = gguf.GGUFReader(str(path))
    tensors = {t.name: t for t in reader.tensors}
    cfg = model.config
    checked = []
    for layer in (0, cfg.num_hidden_layers - 1):
        attn = model.model.layers[layer].self_attn
        for kind, n_head, mod in (
            ("q", cfg.num_attention_heads, attn.q_proj),
            ("k", cfg.num_key_value_heads, attn.k_proj),
        ):
            t = tensors[f"blk.{layer}.attn_{kind}.weight"]
            stored = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            hf = mod.weight.detach().cpu().numpy()
            assert not np.array_equal(stored, hf), "Q/K not permuted in the GGUF?"
            assert np.array_equal(unpermute_qk(stored, n_head), hf), (
                f"transformers did not un-permute blk.{layer}.attn_{kind} as expected"
            )
            checked.append(f"blk.{layer}.attn_{kind}.weight")
    emb = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    assert torch.equal(emb, head), "SmolLM2 LM head should be the tied token embedding"
    return {
        "qk_unpermute_checked": checked,
        "qk_unpermute_rule": "within each head: GGUF row 2j = HF row j, GGUF row 2j+1 = HF row j+head_dim/2",
        "lm_head_tied": True,
    }


@torch.no_grad()
def last_logits(model, ids: list[int]) -> np.ndarray:
    x = torch.tensor([ids], dtype=torch.long)
    return model(input_ids=x, use_cache=False).logits[0, -1].double().cpu().numpy()


def make_smollm2() -> None:
    gguf_path = MODELS / SMOL_FILE
    if not gguf_path.exists():
        sys.exit(f"{gguf_path} missing: run scripts/fetch-model.sh first")
    tok = AutoTokenizer.from_pretrained(str(MODELS), gguf_file=SMOL_FILE)
    model = AutoModelForCausalLM.from_pretrained(str(MODELS), gguf_file=SMOL_FILE, dtype=torch.float32)
    model.eval()
    checks = check_smollm2_qk(model, gguf_path)

    rendered = tok.apply_chat_template(
        [{"role": "system", "content": SMOL_SYSTEM}, {"role": "user", "content": SMOL_USER}],
        tokenize=False,
        add_generation_prompt=True,
    )
    checks["chatml_matches_expected"] = rendered == EXPECTED_CHATML
    if rendered != EXPECTED_CHATML:
        print(f"note: chat template renders {rendered!r}, not the expected string", file=sys.stderr)

    prompts = []
    for name, text in SMOL_PROMPTS:
        if text is None:
            text = rendered
        ids = tok(text)["input_ids"]
        ids_plain = tok(text, add_special_tokens=False)["input_ids"]
        assert ids == ids_plain, "SmolLM2's GGUF says add_bos_token false: no BOS expected"
        prompts.append({"name": name, "text": text, "ids": ids})

    # float32 forward (what transformers loads), only to report its distance from float64
    f32_last = {p["name"]: last_logits(model, p["ids"]) for p in prompts}
    model = model.double()

    for p in prompts:
        logits = last_logits(model, p["ids"])
        f = OUT / "smollm2" / f"{p['name']}.f32.gz"
        write_gz_f32(f, logits)
        p["last_logits_file"] = rel(f)
        p["top50"] = top_k(logits)
        p["top1_margin"] = margin(logits)
        p["f32_forward_max_abs_diff"] = float(np.abs(f32_last[p["name"]] - logits).max())
        ids = list(p["ids"])
        greedy, margins = [], []
        step_logits = logits
        for _ in range(GREEDY_TOKENS):
            nxt = int(np.argmax(step_logits))
            greedy.append(nxt)
            margins.append(margin(step_logits))
            ids.append(nxt)
            step_logits = last_logits(model, ids)
        p["greedy_ids"] = greedy
        p["greedy_text"] = tok.decode(greedy, skip_special_tokens=False)
        p["greedy_top1_margins"] = margins
        print(f"{p['name']}: top1 {p['top50']['ids'][0]} {tok.decode([p['top50']['ids'][0]])!r} "
              f"greedy {p['greedy_text']!r}")

    text = (OUT / "english.txt").read_text()
    ids = tok(text)["input_ids"]
    assert len(ids) >= 256, len(ids)
    with torch.no_grad():
        all_logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].numpy()
    argmax = [int(a) for a in all_logits.argmax(axis=-1)]
    tf = {
        "text_file": "english.txt",
        "n_tokens": len(ids),
        "ids": ids,
        "argmax": argmax,
        "top1_margins": [margin(row) for row in all_logits],
        "oracle_next_token_accuracy": sum(a == b for a, b in zip(argmax[:-1], ids[1:])) / (len(ids) - 1),
        "note": "argmax[i] is the model's top-1 after reading ids[0..=i] (teacher forcing from position 0)",
    }
    print(f"teacher forced: {len(ids)} tokens, oracle next-token accuracy {tf['oracle_next_token_accuracy']:.3f}")

    meta = {
        "model_file": f"models/{SMOL_FILE}",
        "model_sha256": sha256(gguf_path.read_bytes()),
        "loader": "AutoModelForCausalLM/AutoTokenizer.from_pretrained('models', gguf_file=..., dtype=torch.float32): "
        "weights dequantized to float32 by gguf-py; forward then run in float64 (model.double()), logits stored as float32",
        "tokenizer": {
            "add_bos_token_gguf": False,
            "bos_prepended": False,
            "note": "ids are tok(text)['input_ids']; identical with add_special_tokens=False (the GGUF sets "
            "tokenizer.ggml.add_bos_token = false); special-token text like <|im_start|> is parsed as the special id",
            "eos_id": int(tok.eos_token_id) if tok.eos_token_id is not None else None,
        },
        "chat_template_messages": [
            {"role": "system", "content": SMOL_SYSTEM},
            {"role": "user", "content": SMOL_USER},
        ],
        "chat_template_add_generation_prompt": True,
        "chatml_rendered": rendered,
        "checks": checks,
        "logits_format": "raw little-endian float32, vocab_size values, gzip",
        "vocab_size": int(model.config.vocab_size),
        "greedy": f"{GREEDY_TOKENS} tokens, argmax of float64 logits with full recompute each step, no stop at EOS",
        "prompts": prompts,
        "teacher_forced": tf,
        "versions": versions(),
    }
    dump_json(OUT / "smollm2.json", meta)


# ---------------------------------------------------------------------------------------------
# B. Random SlimLM-shaped model (arch mpt). The recipe is specified in README-models.md.

RECIPE_VERSION = 1
SEED = 0x736C696D6C6D2D31  # ASCII "slimlm-1"
GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1

D_MODEL, N_HEAD, D_FF, VOCAB, N_CTX, EPS = 768, 12, 3072, 50368, 2048, 1e-5
QUANTIZED_SUFFIXES = ("token_embd.weight", "attn_qkv.weight", "attn_output.weight", "ffn_up.weight", "ffn_down.weight")


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def splitmix64(seed: int, n: int) -> np.ndarray:
    """Outputs 1..n of splitmix64 started at `seed` (state += GOLDEN before each output)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def tensor_kind(name: str) -> str:
    if name.endswith("_norm.weight"):
        return "gain"
    if name.endswith(".bias"):
        return "bias"
    return "matrix"


def random_tensor(name: str, shape: tuple[int, ...]) -> np.ndarray:
    n = math.prod(shape)
    z = splitmix64(SEED ^ fnv1a64(name.encode()), n)
    kind = tensor_kind(name)
    if kind == "gain":  # 1 + k * 2^-20, k = top 16 bits - 2^15: [1 - 1/32, 1 + 1/32)
        k = (z >> np.uint64(48)).astype(np.int64) - (1 << 15)
        v = 1.0 + k.astype(np.float64) * 2.0**-20
    else:  # k = top 24 bits - 2^23; matrix k * 2^-27 in [-1/16, 1/16), bias k * 2^-28 in [-1/32, 1/32)
        k = (z >> np.uint64(40)).astype(np.int64) - (1 << 23)
        v = k.astype(np.float64) * (2.0**-27 if kind == "matrix" else 2.0**-28)
    out = v.astype(np.float32)
    assert np.array_equal(out.astype(np.float64), v), "recipe values must be exact in f32"
    return out.reshape(shape)


def tensor_specs(n_layer: int) -> list[tuple[str, tuple[int, ...]]]:
    """GGUF write order; numpy shapes [out, in] (ggml order is the reverse)."""
    specs = [("token_embd.weight", (VOCAB, D_MODEL)), ("position_embd.weight", (N_CTX, D_MODEL))]
    for i in range(n_layer):
        b = f"blk.{i}."
        specs += [
            (b + "attn_norm.weight", (D_MODEL,)),
            (b + "attn_norm.bias", (D_MODEL,)),
            (b + "attn_qkv.weight", (3 * D_MODEL, D_MODEL)),
            (b + "attn_qkv.bias", (3 * D_MODEL,)),
            (b + "attn_output.weight", (D_MODEL, D_MODEL)),
            (b + "attn_output.bias", (D_MODEL,)),
            (b + "ffn_norm.weight", (D_MODEL,)),
            (b + "ffn_norm.bias", (D_MODEL,)),
            (b + "ffn_up.weight", (D_FF, D_MODEL)),
            (b + "ffn_up.bias", (D_FF,)),
            (b + "ffn_down.weight", (D_MODEL, D_FF)),
            (b + "ffn_down.bias", (D_MODEL,)),
        ]
    specs += [("output_norm.weight", (D_MODEL,)), ("output_norm.bias", (D_MODEL,))]
    return specs


def gpt2_bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


RANDOM_MERGES = ["Ġ t", "h e", "Ġt he", "i n"]


def random_vocab() -> tuple[list[str], list[int], list[str]]:
    b2u = gpt2_bytes_to_unicode()
    tokens = ["<|endoftext|>", "<|padding|>"] + [b2u[b] for b in range(256)] + ["Ġt", "he", "Ġthe", "in"]
    types = [3, 3] + [1] * (len(tokens) - 2)
    while len(tokens) < VOCAB:
        tokens.append(f"<|filler_{len(tokens)}|>")
        types.append(1)
    assert len(set(tokens)) == VOCAB
    return tokens, types, RANDOM_MERGES


FILE_TYPES = {"F32": 0, "Q4_0": 2, "Q8_0": 7}


def write_random_gguf(path: Path, n_layer: int, variant: str, weights: dict[str, np.ndarray]) -> dict:
    """Writes the GGUF; returns sha256 of each tensor's data bytes as stored."""
    qtype = None if variant == "F32" else gguf.GGMLQuantizationType[variant]
    w = gguf.GGUFWriter(str(path), "mpt")
    w.add_name(f"SlimLM-125M-shaped random weights (recipe v{RECIPE_VERSION}, L={n_layer}, {variant})")
    w.add_context_length(N_CTX)
    w.add_embedding_length(D_MODEL)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(D_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_layer_norm_eps(EPS)
    w.add_max_alibi_bias(0.0)
    w.add_file_type(FILE_TYPES[variant])
    if qtype is not None:
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, types, merges = random_vocab()
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-neox")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_unk_token_id(0)
    w.add_pad_token_id(1)
    w.add_add_bos_token(False)
    hashes = {}
    for name, _shape in tensor_specs(n_layer):
        data = weights[name]
        if qtype is not None and name.endswith(QUANTIZED_SUFFIXES):
            q = gguf.quants.quantize(data, qtype)
            w.add_tensor(name, q, raw_dtype=qtype)
            hashes[name] = sha256(q.tobytes())
        else:
            w.add_tensor(name, data)
            hashes[name] = sha256(data.astype("<f4").tobytes())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return hashes


def read_back(path: Path) -> dict[str, np.ndarray]:
    """float32 numpy [out, in] arrays of every tensor, dequantized."""
    r = gguf.GGUFReader(str(path))
    arch = r.fields["general.architecture"].contents()
    assert arch == "mpt", arch
    out = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type)
        out[t.name] = np.asarray(a, dtype=np.float32).reshape(tuple(int(s) for s in reversed(t.shape)))
    return out


def gpt2_model(n_layer: int, w: dict[str, np.ndarray]) -> GPT2LMHeadModel:
    cfg = GPT2Config(
        vocab_size=VOCAB, n_positions=N_CTX, n_embd=D_MODEL, n_layer=n_layer, n_head=N_HEAD, n_inner=D_FF,
        activation_function="gelu", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=EPS, scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False,
        reorder_and_upcast_attn=False, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0,
    )
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = GPT2LMHeadModel(cfg).eval().double()

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(a, dtype=np.float64).copy())

    # GPT-2 Conv1D weights are [in, out]: the transpose of the GGUF/numpy [out, in] arrays.
    sd = {"transformer.wte.weight": t(w["token_embd.weight"]), "transformer.wpe.weight": t(w["position_embd.weight"])}
    for i in range(n_layer):
        b, h = f"blk.{i}.", f"transformer.h.{i}."
        sd |= {
            h + "ln_1.weight": t(w[b + "attn_norm.weight"]),
            h + "ln_1.bias": t(w[b + "attn_norm.bias"]),
            h + "attn.c_attn.weight": t(w[b + "attn_qkv.weight"].T),
            h + "attn.c_attn.bias": t(w[b + "attn_qkv.bias"]),
            h + "attn.c_proj.weight": t(w[b + "attn_output.weight"].T),
            h + "attn.c_proj.bias": t(w[b + "attn_output.bias"]),
            h + "ln_2.weight": t(w[b + "ffn_norm.weight"]),
            h + "ln_2.bias": t(w[b + "ffn_norm.bias"]),
            h + "mlp.c_fc.weight": t(w[b + "ffn_up.weight"].T),
            h + "mlp.c_fc.bias": t(w[b + "ffn_up.bias"]),
            h + "mlp.c_proj.weight": t(w[b + "ffn_down.weight"].T),
            h + "mlp.c_proj.bias": t(w[b + "ffn_down.bias"]),
        }
    sd |= {"transformer.ln_f.weight": t(w["output_norm.weight"]), "transformer.ln_f.bias": t(w["output_norm.bias"])}
    params = dict(model.named_parameters())
    assert set(params) - {"lm_head.weight"} == set(sd), sorted(set(params) ^ set(sd))
    with torch.no_grad():
        for k, v in sd.items():
            assert params[k].shape == v.shape, (k, params[k].shape, v.shape)
            params[k].copy_(v)
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "LM head not tied"
    return model


def numpy_forward(n_layer: int, w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Independent float64 MPT forward from the GGUF tensors (checks the GPT-2 mapping)."""
    g = {k: v.astype(np.float64) for k, v in w.items()}
    erf = np.frompyfunc(math.erf, 1, 1)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + EPS) * g[p + ".weight"] + g[p + ".bias"]

    n, hd = len(ids), D_MODEL // N_HEAD
    x = g["token_embd.weight"][ids] + g["position_embd.weight"][:n]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(n_layer):
        b = f"blk.{i}."
        qkv = ln(x, b + "attn_norm") @ g[b + "attn_qkv.weight"].T + g[b + "attn_qkv.bias"]
        q, k, v = (qkv[:, j * D_MODEL:(j + 1) * D_MODEL].reshape(n, N_HEAD, hd).transpose(1, 0, 2) for j in range(3))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + mask
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = (p @ v).transpose(1, 0, 2).reshape(n, D_MODEL)
        x = x + o @ g[b + "attn_output.weight"].T + g[b + "attn_output.bias"]
        u = ln(x, b + "ffn_norm") @ g[b + "ffn_up.weight"].T + g[b + "ffn_up.bias"]
        u = 0.5 * u * (1.0 + erf(u / math.sqrt(2.0)).astype(np.float64))
        x = x + u @ g[b + "ffn_down.weight"].T + g[b + "ffn_down.bias"]
    return ln(x, "output_norm") @ g["token_embd.weight"].T


def random_prompts() -> list[dict]:
    def prng_ids(n: int) -> list[int]:
        z = splitmix64(SEED ^ fnv1a64(f"prompt.len{n}".encode()), n)
        return [int(1 + (int(v) >> 32) % (VOCAB - 1)) for v in z]

    return [
        {"name": "len1", "ids": [17]},
        {"name": "len7", "ids": [1, 50367, 258, 12345, 2, 42, 30000]},
        {"name": "len64", "ids": prng_ids(64)},
    ]


def make_random(do_l12: bool) -> None:
    RANDOM_DIR.mkdir(parents=True, exist_ok=True)
    prompts = random_prompts()
    runs = [(2, "F32"), (2, "Q8_0"), (2, "Q4_0")] + ([(12, "F32")] if do_l12 else [])
    results = []
    f32_logits: dict[tuple[int, str], np.ndarray] = {}
    for n_layer, variant in runs:
        print(f"random L={n_layer} {variant}: generating", flush=True)
        weights = {name: random_tensor(name, shape) for name, shape in tensor_specs(n_layer)}
        path = RANDOM_DIR / f"slimlm-random-v{RECIPE_VERSION}-L{n_layer}-{variant}.gguf"
        hashes = write_random_gguf(path, n_layer, variant, weights)
        back = read_back(path)
        assert set(back) == set(weights)
        max_weight_err = {}
        for name in weights:
            if variant == "F32" or not name.endswith(QUANTIZED_SUFFIXES):
                assert np.array_equal(back[name], weights[name]), name
            else:
                key = name.split(".", 2)[-1] if name.startswith("blk.") else name
                err = float(np.abs(back[name] - weights[name]).max())
                max_weight_err[key] = max(max_weight_err.get(key, 0.0), err)
        del weights
        model = gpt2_model(n_layer, back)
        entry = {
            "n_layer": n_layer,
            "variant": variant,
            "gguf_file": str(path.relative_to(ROOT)),
            "gguf_file_sha256": sha256(path.read_bytes()),
            "tensor_data_sha256": hashes,
            "prompts": [],
        }
        if max_weight_err:
            entry["max_abs_dequant_error"] = max_weight_err
        for p in prompts:
            with torch.no_grad():
                all_logits = model(input_ids=torch.tensor([p["ids"]]), use_cache=False).logits[0].numpy()
            logits = all_logits[-1]
            ref = numpy_forward(n_layer, back, p["ids"])
            cross = float(np.abs(ref - all_logits).max())
            assert cross < 1e-9, f"numpy and transformers disagree: {cross}"
            f = OUT / "slimlm_random" / f"L{n_layer}-{variant}-{p['name']}.f32.gz"
            write_gz_f32(f, logits)
            rec = {
                "name": p["name"],
                "last_logits_file": rel(f),
                "top50": top_k(logits),
                "top1_margin": margin(logits),
                "argmax_per_position": [int(a) for a in all_logits.argmax(-1)],
                "top5_per_position": [top_k(row, 5) for row in all_logits],
                "logits_std": round(float(logits.std()), 6),
                "logits_max_abs": round(float(np.abs(logits).max()), 6),
                "numpy_vs_transformers_max_abs_diff": cross,
            }
            if variant == "F32":
                f32_logits[(n_layer, p["name"])] = logits
            elif (n_layer, p["name"]) in f32_logits:
                rec["max_abs_diff_vs_F32_reference"] = round(
                    float(np.abs(logits - f32_logits[(n_layer, p["name"])]).max()), 6)
            entry["prompts"].append(rec)
            print(f"  {p['name']}: top1 {rec['top50']['ids'][0]} margin {rec['top1_margin']} "
                  f"std {rec['logits_std']} numpy-check {cross:.1e}", flush=True)
        del model, back
        results.append(entry)

    meta = {
        "recipe_version": RECIPE_VERSION,
        "recipe": "README-models.md, section 'Random SlimLM weights (recipe v1)'",
        "seed": f"0x{SEED:016X}",
        "shape": {"d_model": D_MODEL, "n_head": N_HEAD, "head_dim": D_MODEL // N_HEAD, "d_ff": D_FF,
                  "vocab_size": VOCAB, "n_ctx": N_CTX, "layernorm_eps": EPS},
        "graph": "x = wte[ids] + wpe[0..n]; per block x += out(attn(LN1(x))) (causal, scale 1/sqrt(64), qkv rows q,k,v); "
        "x += down(gelu_erf(up(LN2(x)))); logits = LN_f(x) @ wte^T (tied)",
        "quantized_tensors": list(QUANTIZED_SUFFIXES),
        "reference": "transformers GPT2LMHeadModel in float64 (eager attention, exact erf GELU) on the tensors read "
        "back from each GGUF (dequantized by gguf-py for Q8_0/Q4_0); logits stored as float32; cross-checked "
        "by an independent numpy float64 forward",
        "logits_format": "raw little-endian float32, 50368 values (last position), gzip",
        "prompts": prompts,
        "prompt_positions": "each prompt starts at position 0",
        "gguf_metadata": {
            "general.architecture": "mpt", "mpt.context_length": N_CTX, "mpt.embedding_length": D_MODEL,
            "mpt.feed_forward_length": D_FF, "mpt.attention.head_count": N_HEAD,
            "mpt.attention.head_count_kv": N_HEAD, "mpt.attention.layer_norm_epsilon": EPS,
            "mpt.attention.max_alibi_bias": 0.0, "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "gpt-neox",
            "tokenizer.ggml.merges": RANDOM_MERGES, "tokenizer.ggml.bos_token_id": 0,
            "tokenizer.ggml.eos_token_id": 0, "tokenizer.ggml.unknown_token_id": 0,
            "tokenizer.ggml.padding_token_id": 1, "tokenizer.ggml.add_bos_token": False,
            "general.file_type": FILE_TYPES,
        },
        "runs": results,
        "versions": versions(),
    }
    dump_json(OUT / "slimlm_random.json", meta)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["smollm2", "random", "all"], default="all")
    ap.add_argument("--no-l12", action="store_true", help="skip the 12-layer F32 random model")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only in ("smollm2", "all"):
        make_smollm2()
    if args.only in ("random", "all"):
        make_random(not args.no_l12)


if __name__ == "__main__":
    main()
