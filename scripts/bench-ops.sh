#!/usr/bin/env bash
# SIMD tiers of the non-matmul ops against the scalar tier, as speed ratios from criterion
# (kernels/benches/ops.rs and attention.rs): RMSNorm, LayerNorm, softmax and attention
# decode (2048 cached positions) and prefill (a 512-token prompt). Two builds, both in one
# run of this script:
# - "shipped": the scalar tier as it ships, which LLVM auto-vectorizes with SSE2 (the
#   x86-64 baseline), so it is already a 4-wide tier and AVX2 (8 wide) can be at most
#   about 2x faster on a throughput-bound op;
# - "scalar code": the same benches built with LLVM's loop and SLP vectorizers off, which
#   leaves the scalar tier as one-lane code (the SIMD tiers are intrinsics and do not
#   change).
# Run on an otherwise idle machine, never under qemu. Usage: scripts/bench-ops.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ops='^(rms_norm|layer_norm)/(576|768)/|^softmax/(512|2048)/'
attention='f16/(ctx2048|prompt512)'
args=(--warm-up-time 1 --measurement-time 2)

run() {
    local dir=$1
    shift
    for bench in "ops $ops" "attention $attention"; do
        read -r name filter <<<"$bench"
        CARGO_TARGET_DIR=$dir "$@" cargo bench -q -p slimlm-kernels --bench "$name" -- \
            "${args[@]}" "$filter" >/dev/null 2>&1
    done
}

# Absolute target dirs: bench binaries run in kernels/, and criterion writes its results
# under CARGO_TARGET_DIR as seen from there.
run "$PWD/target/bench-shipped" env
run "$PWD/target/bench-scalar-code" env \
    RUSTFLAGS="-C llvm-args=-vectorize-loops=false -C llvm-args=-vectorize-slp=false"

python3 - <<'EOF'
import glob, json, os

def medians(root):
    out = {}
    for est in glob.glob(f"{root}/criterion/**/new/estimates.json", recursive=True):
        bench = os.path.relpath(os.path.dirname(os.path.dirname(est)), f"{root}/criterion")
        group, _, tier = bench.rpartition("/")
        if group.startswith("attention_"):  # ids are model_kv_size_tier
            kind = group
            group, _, tier = tier.rpartition("_")
            group = f"{kind}/{group}"
        out.setdefault(group, {})[tier] = json.load(open(est))["median"]["point_estimate"]
    return out

shipped, scalar = medians("target/bench-shipped"), medians("target/bench-scalar-code")
print("| op | scalar tier (shipped) ns | scalar code ns | avx2 ns | avx512 ns "
      "| avx2 / shipped | avx512 / shipped | avx2 / scalar code | avx512 / scalar code |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for group in sorted(shipped):
    s, c = shipped[group], scalar.get(group, {})
    if "scalar" not in s or "scalar" not in c:
        continue
    cells = [f"{s['scalar']:.0f}", f"{c['scalar']:.0f}"]
    cells += [f"{s[t]:.0f}" if t in s else "-" for t in ("avx2", "avx512")]
    cells += [f"{s['scalar'] / s[t]:.2f}x" if t in s else "-" for t in ("avx2", "avx512")]
    cells += [f"{c['scalar'] / s[t]:.2f}x" if t in s else "-" for t in ("avx2", "avx512")]
    print(f"| {group} | " + " | ".join(cells) + " |")
EOF
