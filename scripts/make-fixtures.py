#!/usr/bin/env python3
"""Writes slimlm's small outside-oracle fixtures: values computed by the `gguf` Python
package (gguf-py, ggml's own reader/quantizer in numpy), checked bit for bit by the Rust
tests. See tests/fixtures/README.md.

Regenerate (from any directory; deterministic, so an unchanged oracle gives no diff):

    scripts/fetch-model.sh                          # models/SmolLM2-135M-Instruct.Q4_1.gguf
    python3 scripts/make-fixtures.py formats        # or: --only formats; no argument = all

Needs python3 with numpy and gguf==0.19.0 (`pip install gguf==0.19.0 numpy`).

Sections (one function each, registered in SECTIONS; add new families the same way):

  formats -> tests/fixtures/formats/, checked by tests/formats_fixtures.rs
      Per case `<name>.raw` (raw little-endian block bytes, exactly as in a GGUF file) and
      `<name>.f32` (little-endian f32), and one line in index.txt:
          <op> <name> <type> <n_elems>
      op `dequantize`: <name>.f32 is gguf.quants.dequantize(<name>.raw, type)
      op `quantize`:   <name>.raw is gguf.quants.quantize(<name>.f32, type)
      Cases: rows of the real model's Q4_1, Q8_0 and F32 tensors; synthetic Q4_0 / Q4_1 /
      Q8_0 blocks quantized by gguf from seeded random data with extremes; random raw
      Q4_0 / Q4_1 / Q8_0 / Q4_K / Q6_K blocks (gguf-py has no Q4_K / Q6_K quantizer, and
      raw bytes reach every code, scale and -128 anyway); F16 and BF16 bit patterns.
      Q5_0 / Q5_1 / Q5_K (drawn after everything else, so the older cases keep their
      bytes): the real attn_norm and the synthetic blocks plus the Q5 rounding ties
      through gguf's Q5_0 / Q5_1 quantizers and back; random raw Q5_0 / Q5_1 / Q5_K blocks
      with signed, zero, subnormal and extreme f16 scales; blocks holding every 5-bit code
      at such scales (gguf-py has no Q5_K quantizer, so Q5_K is decode-only); Q5_0 with
      non-finite scales.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path
from typing import Callable

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_VERSION = "0.19.0"
SEED = 0x51B1_7A7E  # every random draw below comes from this one generator
MAX_TOTAL_BYTES = 1 << 20  # fixtures stay small enough to commit

# Our type names (GgmlType::name in kernels/src/formats/mod.rs) for gguf's enum.
TYPE_NAMES = {
    T.F32: "F32",
    T.F16: "F16",
    T.BF16: "BF16",
    T.Q4_0: "Q4_0",
    T.Q4_1: "Q4_1",
    T.Q5_0: "Q5_0",
    T.Q5_1: "Q5_1",
    T.Q8_0: "Q8_0",
    T.Q4_K: "Q4_K",
    T.Q5_K: "Q5_K",
    T.Q6_K: "Q6_K",
}


class CaseWriter:
    """Writes `<name>.raw` / `<name>.f32` pairs and their index lines into one directory,
    replacing whatever a previous run left there."""

    def __init__(self, out_dir: Path):
        self.dir = out_dir
        self.lines: list[str] = []
        self.names: set[str] = set()
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in [*out_dir.glob("*.raw"), *out_dir.glob("*.f32")]:
            old.unlink()

    def _write(self, op: str, name: str, qtype: T, raw: bytes, values: np.ndarray) -> None:
        assert name not in self.names, f"duplicate case {name}"
        assert name.replace("_", "").isalnum(), name
        values = np.ascontiguousarray(values, dtype="<f4").ravel()
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        assert len(raw) == values.size // block * size and values.size % block == 0, name
        self.names.add(name)
        (self.dir / f"{name}.raw").write_bytes(raw)
        (self.dir / f"{name}.f32").write_bytes(values.tobytes())
        self.lines.append(f"{op} {name} {TYPE_NAMES[qtype]} {values.size}")

    def dequantize(self, name: str, qtype: T, raw: bytes) -> None:
        """A case whose expected values are gguf-py's decoding of `raw`."""
        data = np.frombuffer(raw, dtype=np.uint8)
        with np.errstate(all="ignore"):  # inf scales make inf/NaN on purpose
            values = dequantize(data, qtype)
        self._write("dequantize", name, qtype, raw, values)

    def quantize(self, name: str, qtype: T, values: np.ndarray) -> bytes:
        """A case whose expected bytes are gguf-py's encoding of `values` (f32)."""
        values = np.ascontiguousarray(values, dtype=np.float32).ravel()
        with np.errstate(all="ignore"):  # overflow to f16 inf on purpose
            raw = np.ascontiguousarray(quantize(values, qtype)).view(np.uint8).tobytes()
        self._write("quantize", name, qtype, raw, values)
        return raw

    def finish(self, header: list[str]) -> None:
        index = "".join(f"# {h}\n" if h else "#\n" for h in header)
        index += "".join(line + "\n" for line in self.lines)
        (self.dir / "index.txt").write_text(index)
        total = sum(p.stat().st_size for p in self.dir.iterdir())
        assert total < MAX_TOTAL_BYTES, f"{self.dir}: {total} bytes of fixtures"
        print(f"{self.dir.relative_to(ROOT)}: {len(self.lines)} cases, {total} bytes")


# ---------------------------------------------------------------------------------------
# formats


def f16_bits(values) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(values, dtype=np.float32).astype(np.float16).view(np.uint16)


def synthetic_blocks(rng: np.random.Generator) -> np.ndarray:
    """32-value blocks (f32) that stress the Q4_0 / Q4_1 / Q8_0 quantizers: ordinary
    Gaussian data at scales from 1e-30 to 1e7 (f16 scale underflow, subnormal and
    overflow to inf), zeros, spikes, constants, ties of the rounding rules, equal
    magnitudes of opposite sign (the first one sets the sign of Q4_0's scale), and
    huge next to tiny values."""
    blocks = [rng.standard_normal(32) for _ in range(8)]
    for scale in (1e-30, 1e-8, 1e-5, 1e-3, 1e2, 6e4, 1e6, 1e7):
        blocks.append(rng.standard_normal(32) * scale)
    blocks.append(np.zeros(32))
    spike = np.zeros(32)
    spike[rng.integers(32)] = -3.25
    blocks.append(spike)
    blocks.append(np.full(32, 0.7))
    blocks.append(np.full(32, -1e-3))
    # Q8_0: amax 127 gives d = 1, so x.5 are exact ties of roundf (away from zero).
    blocks.append(np.concatenate([[127.0], np.arange(-15, 16) + 0.5]))
    # Q4_0: max -8 gives d = 1; x + 8.5 lands exactly on integers.
    blocks.append(np.concatenate([[-8.0], np.linspace(-7.5, 7.5, 31)]))
    # Q4_1: min 0, max 15 gives d = 1; (x - min) + 0.5 ties.
    blocks.append(np.concatenate([[0.0, 15.0], np.arange(30) * 0.5]))
    blocks.append(np.concatenate([[3.0, -3.0], rng.uniform(-3, 3, 30)]))
    blocks.append(np.concatenate([[-3.0, 3.0], rng.uniform(-3, 3, 30)]))
    mixed = rng.standard_normal(32) * 1e-4
    mixed[::5] = rng.choice([-1e4, 1e4], size=7)
    blocks.append(mixed)
    blocks.append(np.linspace(-1.0, 1.0, 32))
    blocks.append(np.abs(rng.standard_normal(32)) + 10.0)  # all positive, far from 0
    return np.concatenate(blocks).astype(np.float32)


def random_f16_scales(rng: np.random.Generator, n: int, signed: bool) -> np.ndarray:
    """`n` f16 scales: the extremes (largest and smallest normal, smallest subnormal,
    zero) first, then random finite values of every magnitude."""
    special = [0x7BFF, 0x0400, 0x0001, 0x0000, 0x3C00]
    mags = rng.uniform(-24, 15, n - len(special))
    vals = f16_bits(np.exp2(mags) * rng.uniform(1, 2, mags.size))
    bits = np.concatenate([np.array(special, dtype=np.uint16), vals])
    if signed:
        bits |= (rng.integers(0, 2, n) << 15).astype(np.uint16)
    return bits.astype("<u2")


def raw_blocks(rng: np.random.Generator, qtype: T, n: int) -> bytes:
    """`n` blocks of random bytes whose f16 scale fields are replaced by finite scales
    (random bytes there would be mostly huge or NaN)."""
    size = gguf.GGML_QUANT_SIZES[qtype][1]
    b = rng.integers(0, 256, (n, size), dtype=np.uint8)
    # Byte offsets of the f16 fields in each layout, and whether a sign is meaningful.
    fields = {
        T.Q4_0: [(0, True)],
        T.Q8_0: [(0, True)],
        T.Q4_1: [(0, False), (2, True)],
        T.Q4_K: [(0, False), (2, False)],
        T.Q6_K: [(208, True)],
        T.Q5_0: [(0, True)],
        T.Q5_1: [(0, True), (2, True)],
        T.Q5_K: [(0, True), (2, True)],
    }[qtype]
    for off, signed in fields:
        b[:, off : off + 2] = random_f16_scales(rng, n, signed).view(np.uint8).reshape(n, 2)
    return b.tobytes()


def make_formats(model: Path) -> None:
    w = CaseWriter(FIXTURES / "formats")
    rng = np.random.default_rng(SEED)

    # Real tensors of the test model (the only model-dependent cases).
    if not model.is_file():
        sys.exit(f"make-fixtures: {model} is missing; run scripts/fetch-model.sh first")
    reader = gguf.GGUFReader(model)
    tensors = {t.name: t for t in reader.tensors}

    def rows(name: str, qtype: T, r0: int, r1: int) -> bytes:
        t = tensors[name]
        assert t.tensor_type == qtype, (name, t.tensor_type)
        return np.ascontiguousarray(t.data[r0:r1]).view(np.uint8).tobytes()

    w.dequantize("real_q4_1_attn_q_rows_0_1", T.Q4_1, rows("blk.0.attn_q.weight", T.Q4_1, 0, 2))
    w.dequantize("real_q4_1_ffn_down_row_7", T.Q4_1, rows("blk.29.ffn_down.weight", T.Q4_1, 7, 8))
    w.dequantize("real_q8_0_token_embd_rows_0_2", T.Q8_0, rows("token_embd.weight", T.Q8_0, 0, 3))
    w.dequantize("real_q8_0_token_embd_row_last", T.Q8_0, rows("token_embd.weight", T.Q8_0, 49151, 49152))
    norm = np.asarray(tensors["blk.0.attn_norm.weight"].data, dtype=np.float32)
    w.dequantize("real_f32_attn_norm", T.F32, norm.tobytes())
    # Real f32 data through the quantizers, and a dequantized Q4_1 row re-quantized.
    for qtype in (T.Q8_0, T.Q4_0, T.Q4_1):
        w.quantize(f"real_attn_norm_to_{TYPE_NAMES[qtype].lower()}", qtype, norm)
    q_row = dequantize(np.frombuffer(rows("blk.0.attn_q.weight", T.Q4_1, 0, 1), np.uint8), T.Q4_1)
    w.quantize("real_attn_q_row_0_requant_q4_1", T.Q4_1, q_row)

    # Synthetic blocks through gguf's quantizers, then gguf's decoder on those bytes.
    x = synthetic_blocks(rng)
    for qtype in (T.Q8_0, T.Q4_0, T.Q4_1):
        tag = TYPE_NAMES[qtype].lower()
        raw = w.quantize(f"synth_to_{tag}", qtype, x)
        w.dequantize(f"synth_{tag}", qtype, raw)

    # Random raw blocks: every code, -128, extreme and random scales.
    for qtype, n in ((T.Q4_0, 48), (T.Q4_1, 48), (T.Q8_0, 48), (T.Q4_K, 24), (T.Q6_K, 24)):
        w.dequantize(f"raw_{TYPE_NAMES[qtype].lower()}", qtype, raw_blocks(rng, qtype, n))
    # Non-finite f16 scales: inf * code and inf * 0 (NaN) in the decoders.
    special = rng.integers(0, 256, (4, 18), dtype=np.uint8)
    special[:, 0:2] = np.array([0x7C00, 0xFC00, 0x7E00, 0xFBFF], "<u2").view(np.uint8).reshape(4, 2)
    w.dequantize("raw_q4_0_nonfinite_scales", T.Q4_0, special.tobytes())

    # F16: all 2048 patterns with exponent 0 or 31 (zeros, subnormals, inf, NaN) and every
    # 7th pattern of the rest.
    pats = np.arange(65536, dtype=np.uint32)
    exp = (pats >> 10) & 0x1F
    pick = (exp == 0) | (exp == 31) | (pats % 7 == 0)
    w.dequantize("f16_patterns", T.F16, pats[pick].astype("<u2").tobytes())
    w.quantize("f32_to_f16", T.F16, f32_for_f16(rng))

    # BF16: the same selection of bf16 patterns, and f32 -> bf16 rounding.
    w.dequantize("bf16_patterns", T.BF16, pats[pick].astype("<u2").tobytes())
    w.quantize("f32_to_bf16", T.BF16, f32_for_bf16(rng))

    make_q5_cases(w, rng, norm, x)

    w.finish(
        [
            "Outside-oracle fixtures for the block formats, written by",
            "`python3 scripts/make-fixtures.py formats` with gguf-py " + GGUF_VERSION + ".",
            "Line: <op> <name> <type> <n_elems>; files <name>.raw (block bytes), <name>.f32",
            "(little-endian f32). dequantize: .f32 = gguf dequantize(.raw);",
            "quantize: .raw = gguf quantize(.f32). See tests/fixtures/README.md.",
            "",
        ]
    )


def q5_ties() -> np.ndarray:
    """Blocks whose Q5 codes fall on exact rounding ties: Q5_0 with max -16 (d = 1, so
    x + 16.5 lands on integers) and Q5_1 with min 0, max 31 (d = 1, (x - min) + 0.5)."""
    q5_0 = np.concatenate([[-16.0], np.arange(-15.5, 15.5, 1.0)])
    q5_1 = np.concatenate([[0.0, 31.0], np.arange(30) * 0.5])
    return np.concatenate([q5_0, q5_1]).astype(np.float32)


def pack_five_bit(codes: np.ndarray) -> tuple[bytes, bytes]:
    """32 codes (0..31) as Q5_0 / Q5_1's (qh, qs): bit 4 of code i in bit i of the
    little-endian u32 qh, the low nibbles of codes j and j + 16 in byte j of qs."""
    codes = np.asarray(codes, dtype=np.uint32)
    qh = int(np.sum(((codes >> 4) & 1) << np.arange(32, dtype=np.uint32)))
    qs = (codes[:16] & 0x0F) | ((codes[16:] & 0x0F) << 4)
    return qh.to_bytes(4, "little"), qs.astype(np.uint8).tobytes()


def every_code_q5_k(d: int, dmin: int, rot: int) -> bytes:
    """One Q5_K block whose element i has code (i + rot) % 32 and whose 6-bit scales and
    mins run through 0, 1, 62, 63 and a few between (ggml's layout: element 64c + l low
    nibble of qs[32c + l] and bit 2c of qh[l]; 64c + 32 + l high nibble and bit 2c + 1)."""
    codes = (np.arange(256) + rot) % 32
    qs = np.zeros(128, np.uint8)
    qh = np.zeros(32, np.uint8)
    for c in range(4):
        for l in range(32):
            lo, hi = codes[64 * c + l], codes[64 * c + 32 + l]
            qs[32 * c + l] = (lo & 0x0F) | ((hi & 0x0F) << 4)
            qh[l] |= ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1))
    sc = [0, 1, 63, 62, 31, 32, 17, 45]
    mn = [63, 0, 1, 62, 32, 31, 45, 17]
    scales = np.zeros(12, np.uint8)
    for j in range(8):  # ggml's quantize_row_q4_K_ref / q5_K packing
        if j < 4:
            scales[j] = sc[j]
            scales[j + 4] = mn[j]
        else:
            scales[j + 4] = (sc[j] & 0x0F) | ((mn[j] & 0x0F) << 4)
            scales[j - 4] |= (sc[j] >> 4) << 6
            scales[j] |= (mn[j] >> 4) << 6
    head = np.array([d, dmin], "<u2").tobytes()
    return head + scales.tobytes() + qh.tobytes() + qs.tobytes()


def make_q5_cases(w: CaseWriter, rng: np.random.Generator, norm: np.ndarray, x: np.ndarray) -> None:
    """Q5_0 / Q5_1 / Q5_K cases (see the module docs); every draw here comes after the
    older cases' draws."""
    x5 = np.concatenate([x, q5_ties()])
    for qtype in (T.Q5_0, T.Q5_1):
        tag = TYPE_NAMES[qtype].lower()
        w.quantize(f"real_attn_norm_to_{tag}", qtype, norm)
        raw = w.quantize(f"synth_to_{tag}", qtype, x5)
        w.dequantize(f"synth_{tag}", qtype, raw)
    for qtype, n in ((T.Q5_0, 48), (T.Q5_1, 48), (T.Q5_K, 24)):
        w.dequantize(f"raw_{TYPE_NAMES[qtype].lower()}", qtype, raw_blocks(rng, qtype, n))
    # Every code 0..31 in order (and reversed), at extreme, negative, subnormal and zero
    # scales; Q5_1 with minimums of either sign.
    up, down = np.arange(32), 31 - np.arange(32)
    scales = [0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x0400, 0x0001, 0x8001, 0x0000]
    q5_0 = b""
    q5_1 = b""
    for k, d in enumerate(scales):
        qh, qs = pack_five_bit(up if k % 2 == 0 else down)
        q5_0 += np.array([d], "<u2").tobytes() + qh + qs
        m = scales[(k + 3) % len(scales)]
        q5_1 += np.array([d, m], "<u2").tobytes() + qh + qs
    w.dequantize("every_code_q5_0", T.Q5_0, q5_0)
    w.dequantize("every_code_q5_1", T.Q5_1, q5_1)
    q5_k = b"".join(
        every_code_q5_k(d, scales[(k + 5) % len(scales)], k) for k, d in enumerate(scales)
    )
    w.dequantize("every_code_q5_k", T.Q5_K, q5_k)
    # Non-finite f16 scales: inf * code and inf * 0 (NaN) in the decoder.
    special = rng.integers(0, 256, (4, 22), dtype=np.uint8)
    special[:, 0:2] = np.array([0x7C00, 0xFC00, 0x7E00, 0xFBFF], "<u2").view(np.uint8).reshape(4, 2)
    w.dequantize("raw_q5_0_nonfinite_scales", T.Q5_0, special.tobytes())


def f32_for_f16(rng: np.random.Generator) -> np.ndarray:
    """f32 inputs for f32 -> f16 rounding: every exact midpoint between consecutive
    finite f16 (ties) and one f32 ulp either side, the overflow and underflow edges, and
    random bit patterns (including NaNs, quiet and signaling)."""
    h = np.arange(0, 0x7BFF, 11, dtype=np.uint16)
    lo = h.view(np.float16).astype(np.float64)
    hi = (h + 1).view(np.float16).astype(np.float64)
    mid = ((lo + hi) / 2).astype(np.float32)
    assert np.all(mid.astype(np.float64) == (lo + hi) / 2)
    mb = mid.view(np.uint32)
    near = np.concatenate([mb, mb - 1, mb + 1]).view(np.float32)
    edges = np.array(
        [0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x7F7FFFFF, 0x7F800000,
         0x38800000, 0x387FC000, 0x387FE000, 0x33800000, 0x33000000, 0x33000001,
         0x33C00000, 0x00000001, 0x00000000, 0x7FC00000, 0x7F800001, 0x7FA00000,
         0xFFC01234],
        dtype=np.uint32,
    ).view(np.float32)
    rand = rng.integers(0, 1 << 32, 1024, dtype=np.uint64).astype(np.uint32).view(np.float32)
    v = np.concatenate([near, edges, -edges, rand])
    return v.astype(np.float32)


def f32_for_bf16(rng: np.random.Generator) -> np.ndarray:
    """f32 inputs for f32 -> bf16 rounding: exact ties (low half 0x8000) with odd and
    even kept bits, one ulp around them, NaNs, infinities and random patterns."""
    hi = rng.integers(0, 1 << 16, 1024, dtype=np.uint32) << 16
    ties = hi | 0x8000
    v = np.concatenate([ties, ties - 1, ties + 1, rng.integers(0, 1 << 32, 1024, dtype=np.uint64).astype(np.uint32)])
    v = np.concatenate([v, np.array([0x7F800000, 0xFF800000, 0x7F7FFFFF, 0x7FC00001, 0x7F800001, 0xFFFF8000], np.uint32)])
    return v.view(np.float32)


# ---------------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[Path], None]] = {
    "formats": make_formats,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", help=f"fixture families to write: {', '.join(SECTIONS)} or all (default: all)")
    ap.add_argument("--only", action="append", choices=list(SECTIONS), default=[], help="same as naming a section")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the SmolLM2 Q4_1 GGUF (default: %(default)s)")
    args = ap.parse_args()
    found = importlib.metadata.version("gguf")
    if found != GGUF_VERSION:
        print(f"make-fixtures: warning: gguf {found}, the fixtures were made with {GGUF_VERSION}", file=sys.stderr)
    chosen = [*args.sections, *args.only]
    for section in chosen:
        if section not in SECTIONS and section != "all":
            ap.error(f"unknown section {section!r}; known: {', '.join(SECTIONS)}, all")
    if not chosen or "all" in chosen:
        chosen = list(SECTIONS)
    for section in dict.fromkeys(chosen):
        SECTIONS[section](args.model)


if __name__ == "__main__":
    main()
