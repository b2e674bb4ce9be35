#!/usr/bin/env python3
"""Writes tiny random Llama and Qwen2 GGUF models and their transformers reference logits
to tests/fixtures/tiny/ (described in tests/fixtures/README-models.md, section C).

Run by hand, never in CI, from any directory (about 20 s on 2 cores):

    /opt/oracle-venv/bin/python scripts/make-tiny-fixtures.py

(the venv is the one of scripts/make-model-fixtures.py: pip install -r
scripts/requirements-oracle.txt). Output is deterministic: seeded weights, gzip with
mtime 0, sorted JSON keys, float64 reference forwards stored as float32.

Two models, built with transformers and re-initialised from a seeded generator:
  tiny-llama  LlamaForCausalLM, d 64, 4 heads / 2 KV heads (GQA), d_ff 160, 2 layers,
              vocab 384, rope_theta 500000, eps 1e-5, UNTIED output.weight
  tiny-qwen2  Qwen2ForCausalLM, same shape, Q/K/V biases, rope_theta 1e6, eps 1e-6, tied head
Each is written as GGUF (all tensors F32) the way llama.cpp's convert_hf_to_gguf.py writes
it (llama: Q/K rows permuted for adjacent-pair RoPE; qwen2: not permuted, NeoX RoPE),
then checked before anything is written to the repository:
  1. an independent un-permutation of the stored Q/K gives back the HF weights exactly;
  2. transformers loads the GGUF (`from_pretrained(dir, gguf_file=...)`) into identical
     weights and identical float64 logits;
  3. an independent numpy float64 forward over the GGUF tensors (adjacent-pair RoPE on
     the permuted llama rows, half-split on qwen2's) agrees with transformers.
Outputs: tests/fixtures/tiny/<model>.gguf, <model>-<prompt>.f32.gz (logits of ALL
positions, n_tokens x 384 raw little-endian float32, gzip) and tiny.json.
"""

import gzip
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import gguf
import transformers
from transformers import (
    AutoModelForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tiny"

VOCAB = 384
D_MODEL = 64
D_FF = 160
N_LAYER = 2
N_HEAD = 4
N_KV_HEAD = 2
HEAD_DIM = D_MODEL // N_HEAD
N_CTX = 256
INIT_STD = 0.05

MODELS = {
    "tiny-llama": {
        "arch": "llama",
        "seed": 1001,
        "rope_theta": 500000.0,
        "rms_norm_eps": 1e-5,
        "tied": False,
        "pre": "llama-bpe",
    },
    "tiny-qwen2": {
        "arch": "qwen2",
        "seed": 1002,
        "rope_theta": 1000000.0,
        "rms_norm_eps": 1e-6,
        "tied": True,
        "pre": "qwen2",
    },
}

# ---------------------------------------------------------------------------------------------
# tokenizer: byte-level BPE, 384 tokens

MERGES = [
    "Ġ t", "h e", "Ġ a", "i n", "Ġt he", "e r", "o n", "Ġ s",
    "r e", "a t", "e n", "Ġ w", "o r", "Ġ o", "i s", "Ġ c",
]  # fmt: skip
CONTROL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


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


def vocab() -> tuple[list[str], list[int]]:
    """ids 0..255: the byte-level characters of bytes 0..255 (type 1, normal); then one token
    per merge, in merge order (type 1); then the control tokens (type 3); then `[PADi]`
    fillers (type 5, unused, as convert_hf_to_gguf.py names ids missing from a vocab)."""
    b2u = gpt2_bytes_to_unicode()
    tokens = [b2u[b] for b in range(256)]
    for m in MERGES:
        left, right = m.split(" ")
        assert left in tokens and right in tokens, m
        tokens.append(left + right)
    types = [1] * len(tokens)
    tokens += CONTROL
    types += [3] * len(CONTROL)
    while len(tokens) < VOCAB:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(5)
    assert len(tokens) == VOCAB and len(set(tokens)) == VOCAB
    return tokens, types


TOKENS, TOKEN_TYPES = vocab()
ENDOFTEXT = TOKENS.index("<|endoftext|>")
IM_START = TOKENS.index("<|im_start|>")
IM_END = TOKENS.index("<|im_end|>")

# ---------------------------------------------------------------------------------------------
# prompts (token ids; each evaluated from position 0)


def prompts() -> list[dict]:
    rng = np.random.default_rng(20240601)
    long = [int(x) for x in rng.integers(0, VOCAB, size=40)]
    return [
        {"name": "len1", "ids": [72]},
        # a byte token, merged tokens, the control tokens, the last embedding row, a filler
        {"name": "len9", "ids": [IM_START, 104, 256, 260, 32, 383, IM_END, 10, 300]},
        {"name": "len40", "ids": long},
    ]


# ---------------------------------------------------------------------------------------------
# models


def build(name: str) -> torch.nn.Module:
    spec = MODELS[name]
    common = dict(
        hidden_size=D_MODEL,
        intermediate_size=D_FF,
        num_hidden_layers=N_LAYER,
        num_attention_heads=N_HEAD,
        num_key_value_heads=N_KV_HEAD,
        vocab_size=VOCAB,
        max_position_embeddings=N_CTX,
        rope_theta=spec["rope_theta"],
        rms_norm_eps=spec["rms_norm_eps"],
        tie_word_embeddings=spec["tied"],
        bos_token_id=ENDOFTEXT,
        eos_token_id=ENDOFTEXT if spec["arch"] == "llama" else IM_END,
        attn_implementation="eager",
    )
    torch.manual_seed(spec["seed"])
    if spec["arch"] == "llama":
        model = LlamaForCausalLM(LlamaConfig(**common))
    else:
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    assert getattr(model.config, "head_dim", D_MODEL // N_HEAD) == HEAD_DIM
    assert model.model.layers[0].self_attn.q_proj.weight.shape == (D_MODEL, D_MODEL)
    assert model.model.layers[0].self_attn.k_proj.weight.shape == (N_KV_HEAD * HEAD_DIM, D_MODEL)
    assert model.config.rope_parameters["rope_theta"] == spec["rope_theta"], model.config.rope_parameters
    gen = torch.Generator().manual_seed(spec["seed"])
    with torch.no_grad():
        # named_parameters() lists a tied weight once (as model.embed_tokens.weight)
        for pname, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32) * INIT_STD
            if pname.endswith("norm.weight"):
                p.copy_(1.0 + noise)
            else:
                p.copy_(noise)  # matrices, embeddings, Q/K/V biases
    if spec["tied"]:
        assert model.lm_head.weight is model.model.embed_tokens.weight
    else:
        assert not torch.equal(model.lm_head.weight, model.model.embed_tokens.weight)
    model.eval()
    return model


def permute(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(stored: np.ndarray, n_head: int) -> np.ndarray:
    """GGUF llama Q/K rows -> HF rows, written independently of `permute`: within each head,
    stored row 2j = HF row j and stored row 2j+1 = HF row j + head_dim/2."""
    rows = stored.shape[0]
    hd = rows // n_head
    out = np.empty_like(stored)
    for h in range(n_head):
        for j in range(hd // 2):
            out[h * hd + j] = stored[h * hd + 2 * j]
            out[h * hd + j + hd // 2] = stored[h * hd + 2 * j + 1]
    return out


HF_TO_GGUF_BLOCK = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_tensors(name: str, model: torch.nn.Module) -> dict[str, np.ndarray]:
    """HF state dict -> GGUF tensors (numpy [out, in]), as convert_hf_to_gguf.py maps them."""
    arch = MODELS[name]["arch"]
    out: dict[str, np.ndarray] = {}
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    out["token_embd.weight"] = sd["model.embed_tokens.weight"]
    for i in range(N_LAYER):
        for hf, gg in HF_TO_GGUF_BLOCK.items():
            key = f"model.layers.{i}.{hf}"
            if key not in sd:
                continue
            data = sd[key]
            if arch == "llama" and hf == "self_attn.q_proj.weight":
                data = permute(data, N_HEAD, N_HEAD)
            elif arch == "llama" and hf == "self_attn.k_proj.weight":
                data = permute(data, N_HEAD, N_KV_HEAD)
            out[f"blk.{i}.{gg}"] = data
    out["output_norm.weight"] = sd["model.norm.weight"]
    if not MODELS[name]["tied"]:
        out["output.weight"] = sd["lm_head.weight"]
    used = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}
    used |= {f"model.layers.{i}.{hf}" for i in range(N_LAYER) for hf in HF_TO_GGUF_BLOCK}
    assert set(sd) <= used, f"unmapped HF tensors: {set(sd) - used}"
    expected = 2 + N_LAYER * (9 + (3 if arch == "qwen2" else 0)) + (0 if MODELS[name]["tied"] else 1)
    assert len(out) == expected, (len(out), expected)
    return out


def write_gguf(path: Path, name: str, tensors: dict[str, np.ndarray]) -> None:
    spec = MODELS[name]
    arch = spec["arch"]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(f"{name} (random weights, slimlm test fixture)")
    w.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    w.add_context_length(N_CTX)
    w.add_embedding_length(D_MODEL)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(D_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_KV_HEAD)
    w.add_rope_freq_base(spec["rope_theta"])
    w.add_layer_norm_rms_eps(spec["rms_norm_eps"])
    if arch == "llama":  # LlamaModel.set_gguf_parameters; Qwen2Model writes neither
        w.add_vocab_size(VOCAB)
        w.add_rope_dimension_count(HEAD_DIM)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(spec["pre"])
    w.add_token_list(TOKENS)
    w.add_token_types(TOKEN_TYPES)
    w.add_token_merges(MERGES)
    w.add_bos_token_id(ENDOFTEXT)
    w.add_eos_token_id(ENDOFTEXT if arch == "llama" else IM_END)
    w.add_add_bos_token(False)
    for tname, data in tensors.items():
        w.add_tensor(tname, np.ascontiguousarray(data, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_back(path: Path) -> dict[str, np.ndarray]:
    reader = gguf.GGUFReader(str(path))
    out = {}
    for t in reader.tensors:
        assert t.tensor_type == gguf.GGMLQuantizationType.F32, t.name
        shape = tuple(int(d) for d in reversed(t.shape.tolist()))
        out[t.name] = np.array(t.data, dtype=np.float32).reshape(shape)
    return out


# ---------------------------------------------------------------------------------------------
# forwards


@torch.no_grad()
def hf_logits(model64: torch.nn.Module, ids: list[int]) -> np.ndarray:
    x = torch.tensor([ids], dtype=torch.long)
    out = model64(input_ids=x, use_cache=False).logits[0]
    assert out.dtype == torch.float64
    return out.cpu().numpy()


def numpy_forward(name: str, t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Float64 forward over the GGUF tensors as a GGUF runtime reads them: llama rotates
    adjacent pairs (2j, 2j+1) of the permuted Q/K rows, qwen2 pairs (j, j + head_dim/2)."""
    spec = MODELS[name]
    w = {k: v.astype(np.float64) for k, v in t.items()}
    eps = float(np.float32(spec["rms_norm_eps"]))
    n = len(ids)
    half = HEAD_DIM // 2
    inv = float(np.float32(spec["rope_theta"])) ** (-2.0 * np.arange(half) / HEAD_DIM)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def rms(x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g

    def rope(x, heads):
        x = x.reshape(n, heads, HEAD_DIM).copy()
        if spec["arch"] == "llama":
            a, b = x[..., 0::2].copy(), x[..., 1::2].copy()
        else:
            a, b = x[..., :half].copy(), x[..., half:].copy()
        c, s = cos[:, None, :], sin[:, None, :]
        ra, rb = a * c - b * s, a * s + b * c
        if spec["arch"] == "llama":
            x[..., 0::2], x[..., 1::2] = ra, rb
        else:
            x[..., :half], x[..., half:] = ra, rb
        return x

    x = w["token_embd.weight"][ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(N_LAYER):
        p = lambda s: w[f"blk.{i}.{s}"]  # noqa: E731
        h = rms(x, p("attn_norm.weight"))
        q, k, v = h @ p("attn_q.weight").T, h @ p("attn_k.weight").T, h @ p("attn_v.weight").T
        if spec["arch"] == "qwen2":
            q, k, v = q + p("attn_q.bias"), k + p("attn_k.bias"), v + p("attn_v.bias")
        q, k = rope(q, N_HEAD), rope(k, N_KV_HEAD)
        v = v.reshape(n, N_KV_HEAD, HEAD_DIM)
        att = np.empty((n, N_HEAD, HEAD_DIM))
        for hd in range(N_HEAD):
            g = hd // (N_HEAD // N_KV_HEAD)
            sc = q[:, hd] @ k[:, g].T / np.sqrt(HEAD_DIM) + mask
            sc = np.exp(sc - sc.max(axis=-1, keepdims=True))
            att[:, hd] = (sc / sc.sum(axis=-1, keepdims=True)) @ v[:, g]
        x = x + att.reshape(n, D_MODEL) @ p("attn_output.weight").T
        h = rms(x, p("ffn_norm.weight"))
        gate, up = h @ p("ffn_gate.weight").T, h @ p("ffn_up.weight").T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ p("ffn_down.weight").T
    h = rms(x, w["output_norm.weight"])
    head = w["output.weight"] if "output.weight" in w else w["token_embd.weight"]
    return h @ head.T


# ---------------------------------------------------------------------------------------------
# checks


def check_unpermute(name: str, model: torch.nn.Module, stored: dict[str, np.ndarray]) -> dict:
    arch = MODELS[name]["arch"]
    checked = []
    for i in range(N_LAYER):
        attn = model.model.layers[i].self_attn
        for kind, heads, mod in (("q", N_HEAD, attn.q_proj), ("k", N_KV_HEAD, attn.k_proj)):
            hf = mod.weight.detach().numpy()
            s = stored[f"blk.{i}.attn_{kind}.weight"]
            if arch == "llama":
                assert not np.array_equal(s, hf), "llama Q/K must be permuted"
                assert np.array_equal(unpermute_qk(s, heads), hf), f"blk.{i}.attn_{kind}: un-permute"
            else:
                assert np.array_equal(s, hf), "qwen2 Q/K must not be permuted"
            checked.append(f"blk.{i}.attn_{kind}.weight")
    return {
        "qk_checked": checked,
        "qk_rule": (
            "GGUF Q/K rows permuted: within each head, GGUF row 2j = HF row j, GGUF row 2j+1 = HF row j + head_dim/2"
            if arch == "llama"
            else "GGUF Q/K rows equal HF rows (no permutation; NeoX RoPE)"
        ),
    }


def check_transformers_load(name: str, path: Path, model: torch.nn.Module, prompt_list: list[dict]) -> dict:
    try:
        loaded = AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32, attn_implementation="eager"
        )
    except Exception as e:  # noqa: BLE001 - report, fall back to the un-permute check
        print(f"  {name}: transformers could not load the GGUF: {e!r}", file=sys.stderr)
        return {"transformers_loads_gguf": False, "transformers_load_error": repr(e)}
    loaded.eval()
    cfg = loaded.config
    assert type(loaded) is type(model), (type(loaded), type(model))
    assert cfg.tie_word_embeddings == MODELS[name]["tied"], cfg.tie_word_embeddings
    a = model.state_dict()
    b = loaded.state_dict()
    assert set(a) == set(b), set(a) ^ set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), f"{name}: {k} differs after the GGUF round trip"
    loaded = loaded.double()
    ref = model.double()
    worst = 0.0
    for p in prompt_list:
        d = float(np.max(np.abs(hf_logits(loaded, p["ids"]) - hf_logits(ref, p["ids"]))))
        worst = max(worst, d)
    assert worst == 0.0, f"{name}: logits of the reloaded GGUF differ by {worst}"
    return {
        "transformers_loads_gguf": True,
        "transformers_gguf_state_dict_equal": True,
        "transformers_gguf_logits_max_abs_diff": worst,
        "transformers_gguf_config": {
            "rope_theta": cfg.rope_parameters["rope_theta"],
            "rms_norm_eps": cfg.rms_norm_eps,
            "num_key_value_heads": cfg.num_key_value_heads,
            "tie_word_embeddings": cfg.tie_word_embeddings,
        },
    }


# ---------------------------------------------------------------------------------------------
# output


def write_gz_f32(path: Path, values: np.ndarray) -> None:
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions() -> dict:
    from importlib.metadata import version

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gguf": version("gguf"),
        "numpy": np.__version__,
    }


def to_json(obj, indent: int = 0) -> str:
    """Sorted keys, lists of scalars on one line."""
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


def margin(row: np.ndarray) -> float:
    two = np.partition(row, -2)[-2:]
    return round(float(two[1] - two[0]), 6)


def make_model(name: str, tmp: Path, prompt_list: list[dict]) -> tuple[dict, dict[str, bytes]]:
    """Builds, writes to `tmp`, checks; returns the JSON entry and the files to commit."""
    spec = MODELS[name]
    model = build(name)
    tensors = gguf_tensors(name, model)
    path = tmp / f"{name}.gguf"
    write_gguf(path, name, tensors)
    stored = read_back(path)
    assert set(stored) == set(tensors)
    for k in tensors:
        assert np.array_equal(stored[k], tensors[k]), k
    checks = check_unpermute(name, model, stored)
    checks.update(check_transformers_load(name, path, model, prompt_list))

    model64 = build(name).double()
    files: dict[str, bytes] = {f"{name}.gguf": path.read_bytes()}
    entries = []
    worst_np = 0.0
    for p in prompt_list:
        ids = p["ids"]
        ref = hf_logits(model64, ids)
        assert ref.shape == (len(ids), VOCAB)
        npf = numpy_forward(name, stored, ids)
        d_np = float(np.max(np.abs(npf - ref)))
        worst_np = max(worst_np, d_np)
        assert d_np < 1e-5, f"{name} {p['name']}: numpy vs transformers {d_np}"
        fname = f"{name}-{p['name']}.f32.gz"
        raw = np.ascontiguousarray(ref, dtype="<f4").tobytes()
        files[fname] = gzip.compress(raw, compresslevel=9, mtime=0)
        entries.append(
            {
                "name": p["name"],
                "ids": ids,
                "logits_file": fname,
                "shape": [len(ids), VOCAB],
                "argmax_per_position": [int(np.argmax(r)) for r in ref],
                "top1_margin_per_position": [margin(r) for r in ref],
                "logit_std": round(float(ref.std()), 6),
                "logit_max_abs": round(float(np.abs(ref).max()), 6),
                "numpy_f64_vs_transformers_max_abs_diff": d_np,
            }
        )
        print(f"  {name} {p['name']}: n={len(ids)} std {ref.std():.3f} numpy-vs-hf {d_np:.2e}")
    entry = {
        "name": name,
        "arch": spec["arch"],
        "gguf_file": f"{name}.gguf",
        "gguf_sha256": sha256(files[f"{name}.gguf"]),
        "hf_class": type(model).__name__,
        "seed": spec["seed"],
        "init": f"every parameter ~ N(0, {INIT_STD}) (norm weights 1 + N(0, {INIT_STD})), "
        "torch.Generator().manual_seed(seed) in named_parameters() order",
        "config": {
            "hidden_size": D_MODEL,
            "intermediate_size": D_FF,
            "num_hidden_layers": N_LAYER,
            "num_attention_heads": N_HEAD,
            "num_key_value_heads": N_KV_HEAD,
            "head_dim": HEAD_DIM,
            "vocab_size": VOCAB,
            "max_position_embeddings": N_CTX,
            "rope_theta": spec["rope_theta"],
            "rms_norm_eps": spec["rms_norm_eps"],
            "tie_word_embeddings": spec["tied"],
        },
        "gguf_tensors": sorted(tensors),
        "tokenizer": {
            "model": "gpt2",
            "pre": spec["pre"],
            "n_tokens": VOCAB,
            "merges": MERGES,
            "bos_token_id": ENDOFTEXT,
            "eos_token_id": ENDOFTEXT if spec["arch"] == "llama" else IM_END,
            "add_bos_token": False,
        },
        "checks": checks | {"numpy_f64_vs_transformers_max_abs_diff": worst_np},
        "prompts": entries,
    }
    return entry, files


def main() -> None:
    torch.set_num_threads(2)
    prompt_list = prompts()
    models = []
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as d:
        for name in MODELS:
            entry, f = make_model(name, Path(d), prompt_list)
            models.append(entry)
            files.update(f)
    doc = {
        "description": "tiny random llama / qwen2 GGUF models (all F32) and transformers float64 logits of every position",
        "logits_format": "raw little-endian float32, n_tokens x vocab_size (row-major: position, then token), gzip",
        "reference": "transformers model.double() forward, eager attention, use_cache=False; stored as float32",
        "reference_note": "transformers' Llama/Qwen2 RMSNorm upcasts to float32 and its rotary cos/sin are computed "
        "in float32 even under model.double(), so the reference carries float32 rounding there; the independent numpy "
        "float64 forward over the GGUF tensors (numpy_f64_vs_transformers_max_abs_diff) bounds that at < 3e-7",
        "script": "scripts/make-tiny-fixtures.py",
        "versions": versions(),
        "tokens_layout": {
            "bytes": [0, 255],
            "merged": [256, 256 + len(MERGES) - 1],
            "control": {t: TOKENS.index(t) for t in CONTROL},
            "fillers": [IM_END + 1, VOCAB - 1],
        },
        "models": models,
    }
    text = to_json(doc) + "\n"
    assert json.loads(text) == json.loads(json.dumps(doc))
    files["tiny.json"] = text.encode()

    # Everything checked: now replace the fixtures.
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for fname, data in files.items():
        (OUT / fname).write_bytes(data)
    total = sum(len(b) for b in files.values())
    print(f"wrote {len(files)} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
