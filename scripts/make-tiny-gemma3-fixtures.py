#!/usr/bin/env python3
"""Writes a tiny random Gemma 3 GGUF model and its transformers reference logits to
tests/fixtures/tiny_gemma3/ (described in tests/fixtures/README-models.md, section D).

Run by hand, never in CI, from any directory (about 20 s on 2 cores):

    /opt/oracle-venv/bin/python scripts/make-tiny-gemma3-fixtures.py

(the venv of scripts/make-model-fixtures.py: pip install -r scripts/requirements-oracle.txt).
Output is deterministic: seeded weights, gzip with mtime 0, sorted JSON keys, float64
reference forwards stored as float32.

The model: transformers' Gemma3ForCausalLM, d 64, 4 heads / 2 KV heads of head_dim 32 (wider
than d / heads = 16, as in the real 270M), d_ff 160, 7 layers (layers 0-4 and 6 local, 5
global: transformers' default pattern of 6, llama.cpp's too), sliding window 8, global
RoPE base 1e6, local 1e4, tanh-GELU GeGLU, tied head, vocab 384, query_pre_attn_scalar =
head_dim (llama.cpp's scale for every Gemma 3 but the 27B). Weights are re-initialised from
a seeded generator, norm weights around 0 (Gemma's RMSNorm multiplies by 1 + w).

It is written as GGUF (all tensors F32) the way llama.cpp's converter (conversion/gemma.py,
Gemma3Model) writes it: norm weights stored as 1 + w, no Q/K permutation, keys gemma3.*
with attention.key_length / value_length and attention.sliding_window, and a small
SentencePiece vocabulary (tokenizer.ggml.model "llama"; the test feeds ids). Checked before
anything is written to the repository:
  1. transformers loads the GGUF (`from_pretrained(dir, gguf_file=...)`) into identical
     weights and identical float64 logits;
  2. an independent numpy float64 forward over the GGUF tensors (as a GGUF runtime reads
     them: plain RMSNorm by the stored weights, NeoX RoPE with the base of the layer's kind,
     the window mask `q - k < window` on local layers) agrees with transformers.
Outputs: tests/fixtures/tiny_gemma3/tiny-gemma3.gguf, tiny-gemma3-<prompt>.f32.gz (logits of
ALL positions, n_tokens x 384 raw little-endian float32, gzip) and tiny-gemma3.json.
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
from transformers import AutoModelForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tiny_gemma3"
NAME = "tiny-gemma3"

VOCAB = 384
D_MODEL = 64
D_FF = 160
N_LAYER = 7
N_HEAD = 4
N_KV_HEAD = 2
HEAD_DIM = 32
WINDOW = 8
N_CTX = 256
ROPE_GLOBAL = 1_000_000.0
ROPE_LOCAL = 10_000.0
EPS = 1e-6
SEED = 1003
INIT_STD = 0.05
PERIOD = 6  # llama.cpp's load_swa_pattern(ml, 6), transformers' sliding_window_pattern


def is_local(layer: int) -> bool:
    return layer % PERIOD != PERIOD - 1


# ---------------------------------------------------------------------------------------------
# tokenizer: SentencePiece pieces, 384 tokens (the test feeds ids; this only has to load)


def vocab() -> tuple[list[str], list[float], list[int]]:
    """0 <pad>, 1 <eos>, 2 <bos>, 3 <unk> (control / unknown), 4..259 the byte pieces
    <0x00>..<0xFF> (type 6), then pieces of one or two letters with falling scores."""
    tokens = ["<pad>", "<eos>", "<bos>", "<unk>"]
    types = [3, 3, 3, 2]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [6] * 256
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces = ["\u2581" + c for c in letters] + list(letters)
    pieces += [a + b for a in "etaoinsh" for b in "etaoinsh"]
    for p in pieces:
        if len(tokens) == VOCAB:
            break
        tokens.append(p)
        types.append(1)
    while len(tokens) < VOCAB:
        tokens.append(f"<unused{len(tokens)}>")
        types.append(5)
    scores = [0.0] * 260 + [-float(i) for i in range(VOCAB - 260)]
    assert len(tokens) == VOCAB and len(set(tokens)) == VOCAB
    return tokens, scores, types


TOKENS, SCORES, TOKEN_TYPES = vocab()


def prompts() -> list[dict]:
    rng = np.random.default_rng(20251207)
    long = [2] + [int(x) for x in rng.integers(4, VOCAB, size=39)]
    return [
        {"name": "len1", "ids": [2]},
        {"name": "len9", "ids": [2, 300, 271, 5, 383, 260, 1, 0, 290]},
        # 40 positions: five times the window, across every local layer's mask
        {"name": "len40", "ids": long},
    ]


# ---------------------------------------------------------------------------------------------
# model


def build() -> torch.nn.Module:
    config = Gemma3TextConfig(
        vocab_size=VOCAB,
        hidden_size=D_MODEL,
        intermediate_size=D_FF,
        num_hidden_layers=N_LAYER,
        num_attention_heads=N_HEAD,
        num_key_value_heads=N_KV_HEAD,
        head_dim=HEAD_DIM,
        max_position_embeddings=N_CTX,
        rms_norm_eps=EPS,
        query_pre_attn_scalar=HEAD_DIM,
        sliding_window=WINDOW,
        rope_parameters={
            "full_attention": {"rope_type": "default", "rope_theta": ROPE_GLOBAL},
            "sliding_attention": {"rope_type": "default", "rope_theta": ROPE_LOCAL},
        },
        tie_word_embeddings=True,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        attn_implementation="eager",
    )
    assert config.layer_types == [
        "sliding_attention" if is_local(i) else "full_attention" for i in range(N_LAYER)
    ], config.layer_types
    assert config.hidden_activation == "gelu_pytorch_tanh"
    torch.manual_seed(SEED)
    model = Gemma3ForCausalLM(config)
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            scale = 0.3 if pname.endswith("norm.weight") else INIT_STD
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * scale)
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert model.model.layers[0].self_attn.q_proj.weight.shape == (N_HEAD * HEAD_DIM, D_MODEL)
    model.eval()
    return model


HF_TO_GGUF_BLOCK = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_tensors(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """HF state dict -> GGUF tensors as conversion/gemma.py writes them: names mapped, every
    `*norm.weight` shifted by +1 (Gemma3Model.norm_shift), nothing permuted."""
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    def norm(x):
        return (x + np.float32(1.0)).astype(np.float32)

    out = {"token_embd.weight": sd["model.embed_tokens.weight"]}
    for i in range(N_LAYER):
        for hf, gg in HF_TO_GGUF_BLOCK.items():
            data = sd[f"model.layers.{i}.{hf}"]
            out[f"blk.{i}.{gg}"] = norm(data) if hf.endswith("norm.weight") else data
    out["output_norm.weight"] = norm(sd["model.norm.weight"])
    used = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}
    used |= {f"model.layers.{i}.{hf}" for i in range(N_LAYER) for hf in HF_TO_GGUF_BLOCK}
    assert set(sd) <= used, f"unmapped HF tensors: {set(sd) - used}"
    assert len(out) == 2 + N_LAYER * len(HF_TO_GGUF_BLOCK)
    return out


def write_gguf(path: Path, tensors: dict[str, np.ndarray]) -> None:
    w = gguf.GGUFWriter(str(path), "gemma3")
    w.add_name(f"{NAME} (random weights, slimlm test fixture)")
    w.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    w.add_context_length(N_CTX)
    w.add_embedding_length(D_MODEL)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(D_FF)
    w.add_head_count(N_HEAD)
    w.add_layer_norm_rms_eps(EPS)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_freq_base(ROPE_GLOBAL)
    w.add_sliding_window(WINDOW)
    w.add_head_count_kv(N_KV_HEAD)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(TOKENS)
    w.add_token_scores(SCORES)
    w.add_token_types(TOKEN_TYPES)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
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


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def numpy_forward(t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Float64 forward over the GGUF tensors, written from llama.cpp's gemma3 graph."""
    w = {k: v.astype(np.float64) for k, v in t.items()}
    eps = float(np.float32(EPS))
    n = len(ids)
    half = HEAD_DIM // 2

    def tables(base):
        inv = base ** (-2.0 * np.arange(half) / HEAD_DIM)
        ang = np.arange(n)[:, None] * inv[None, :]
        return np.cos(ang), np.sin(ang)

    rope_tables = {True: tables(ROPE_LOCAL), False: tables(ROPE_GLOBAL)}

    def rms(x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g

    def rope(x, local):  # x: [n, heads, head_dim], NeoX pairs (j, j + half)
        cos, sin = rope_tables[local]
        a, b = x[..., :half].copy(), x[..., half:].copy()
        c, s = cos[:, None, :], sin[:, None, :]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=-1)

    q_pos, k_pos = np.arange(n)[:, None], np.arange(n)[None, :]
    x = w["token_embd.weight"][ids] * np.sqrt(D_MODEL)
    for i in range(N_LAYER):
        p = lambda s: w[f"blk.{i}.{s}"]  # noqa: E731
        local = is_local(i)
        visible = (k_pos <= q_pos) & ((q_pos - k_pos < WINDOW) if local else True)
        mask = np.where(visible, 0.0, -np.inf)
        h = rms(x, p("attn_norm.weight"))
        q = (h @ p("attn_q.weight").T).reshape(n, N_HEAD, HEAD_DIM)
        k = (h @ p("attn_k.weight").T).reshape(n, N_KV_HEAD, HEAD_DIM)
        v = (h @ p("attn_v.weight").T).reshape(n, N_KV_HEAD, HEAD_DIM)
        q, k = rms(q, p("attn_q_norm.weight")), rms(k, p("attn_k_norm.weight"))
        q, k = rope(q, local), rope(k, local)
        att = np.empty((n, N_HEAD, HEAD_DIM))
        for hd in range(N_HEAD):
            g = hd // (N_HEAD // N_KV_HEAD)
            sc = q[:, hd] @ k[:, g].T / np.sqrt(HEAD_DIM) + mask
            sc = np.exp(sc - sc.max(axis=-1, keepdims=True))
            att[:, hd] = (sc / sc.sum(axis=-1, keepdims=True)) @ v[:, g]
        o = att.reshape(n, N_HEAD * HEAD_DIM) @ p("attn_output.weight").T
        x = x + rms(o, p("post_attention_norm.weight"))
        h = rms(x, p("ffn_norm.weight"))
        gate, up = h @ p("ffn_gate.weight").T, h @ p("ffn_up.weight").T
        down = (gelu_tanh(gate) * up) @ p("ffn_down.weight").T
        x = x + rms(down, p("post_ffw_norm.weight"))
    return rms(x, w["output_norm.weight"]) @ w["token_embd.weight"].T


# ---------------------------------------------------------------------------------------------
# checks and output


def check_transformers_load(path: Path, model: torch.nn.Module, prompt_list: list[dict]) -> dict:
    # The GGUF has no key for query_pre_attn_scalar: transformers' GGUF loader leaves its
    # default, 256 (the real 270M's head_dim), where llama.cpp takes head_dim. It is given
    # here as the model has it.
    loaded = AutoModelForCausalLM.from_pretrained(
        str(path.parent),
        gguf_file=path.name,
        dtype=torch.float32,
        attn_implementation="eager",
        query_pre_attn_scalar=HEAD_DIM,
    )
    loaded.eval()
    assert type(loaded) is type(model), (type(loaded), type(model))
    cfg = loaded.config
    a, b = model.state_dict(), loaded.state_dict()
    assert set(a) == set(b), set(a) ^ set(b)
    worst_w = 0.0
    for k in a:
        worst_w = max(worst_w, float((a[k] - b[k]).abs().max()))
    # The norm weights go through +1 (converter) and -1 (transformers' loader) in float32.
    assert worst_w <= 2.5e-7, f"weights differ by {worst_w} after the GGUF round trip"
    loaded, ref = loaded.double(), build().double()
    worst = 0.0
    for p in prompt_list:
        worst = max(worst, float(np.max(np.abs(hf_logits(loaded, p["ids"]) - hf_logits(ref, p["ids"])))))
    assert worst < 1e-5, f"logits of the reloaded GGUF differ by {worst}"
    return {
        "transformers_loads_gguf": True,
        "transformers_gguf_weights_max_abs_diff": worst_w,
        "transformers_gguf_logits_max_abs_diff": worst,
        "transformers_gguf_config": {
            "head_dim": cfg.head_dim,
            "sliding_window": cfg.sliding_window,
            "layer_types": cfg.layer_types,
            "rope_parameters": cfg.rope_parameters,
            "query_pre_attn_scalar": cfg.query_pre_attn_scalar,
        },
    }


def margin(row: np.ndarray) -> float:
    two = np.partition(row, -2)[-2:]
    return round(float(two[1] - two[0]), 6)


def versions() -> dict:
    from importlib.metadata import version

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gguf": version("gguf"),
        "numpy": np.__version__,
    }


def main() -> None:
    torch.set_num_threads(2)
    prompt_list = prompts()
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as d:
        model = build()
        tensors = gguf_tensors(model)
        path = Path(d) / f"{NAME}.gguf"
        write_gguf(path, tensors)
        stored = read_back(path)
        assert set(stored) == set(tensors)
        for k in tensors:
            assert np.array_equal(stored[k], tensors[k]), k
        checks = check_transformers_load(path, model, prompt_list)
        files[f"{NAME}.gguf"] = path.read_bytes()

    model64 = build().double()
    entries, worst_np = [], 0.0
    for p in prompt_list:
        ids = p["ids"]
        ref = hf_logits(model64, ids)
        assert ref.shape == (len(ids), VOCAB)
        d_np = float(np.max(np.abs(numpy_forward(stored, ids) - ref)))
        worst_np = max(worst_np, d_np)
        assert d_np < 1e-5, f"{p['name']}: numpy vs transformers {d_np}"
        fname = f"{NAME}-{p['name']}.f32.gz"
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
                "numpy_f64_vs_transformers_max_abs_diff": d_np,
            }
        )
        print(f"  {p['name']}: n={len(ids)} std {ref.std():.3f} numpy-vs-hf {d_np:.2e}")
    doc = {
        "description": "tiny random gemma3 GGUF model (all F32) and transformers float64 logits of every position",
        "logits_format": "raw little-endian float32, n_tokens x vocab_size (row-major: position, then token), gzip",
        "reference": "transformers Gemma3ForCausalLM.double() forward, eager attention, use_cache=False; stored as float32",
        "reference_note": "transformers' Gemma3RMSNorm computes in float32 even under model.double(), so the "
        "reference carries float32 rounding there; the independent numpy float64 forward over the GGUF tensors "
        "(numpy_f64_vs_transformers_max_abs_diff) bounds that",
        "script": "scripts/make-tiny-gemma3-fixtures.py",
        "versions": versions(),
        "gguf_file": f"{NAME}.gguf",
        "gguf_sha256": hashlib.sha256(files[f"{NAME}.gguf"]).hexdigest(),
        "seed": SEED,
        "init": f"every parameter ~ N(0, {INIT_STD}), norm weights ~ N(0, 0.3) (HF's w; GGUF stores 1 + w), "
        "torch.Generator().manual_seed(seed) in named_parameters() order",
        "config": {
            "hidden_size": D_MODEL,
            "intermediate_size": D_FF,
            "num_hidden_layers": N_LAYER,
            "num_attention_heads": N_HEAD,
            "num_key_value_heads": N_KV_HEAD,
            "head_dim": HEAD_DIM,
            "vocab_size": VOCAB,
            "sliding_window": WINDOW,
            "local_layers": [i for i in range(N_LAYER) if is_local(i)],
            "rope_theta_global": ROPE_GLOBAL,
            "rope_theta_local": ROPE_LOCAL,
            "rms_norm_eps": EPS,
            "query_pre_attn_scalar": HEAD_DIM,
        },
        "checks": checks | {"numpy_f64_vs_transformers_max_abs_diff": worst_np},
        "prompts": entries,
    }
    files[f"{NAME}.json"] = (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for fname, data in files.items():
        (OUT / fname).write_bytes(data)
    print(f"wrote {len(files)} files, {sum(len(b) for b in files.values())} bytes, to {OUT}")


if __name__ == "__main__":
    main()
