#!/usr/bin/env bash
# Static throughput of the aarch64 int8 micro-kernels (dotprod / i8mm) on the Snapdragon
# cores, with llvm-mca (see ../../shared/TOOLCHAIN.md and docs/kernels.md).
#
# 1. Builds slimlm-kernels in release for aarch64-unknown-linux-gnu with Debian's rustc,
#    with LTO off (the release profile's thin LTO leaves only bitcode in the rlib; the
#    kernels' loops are the same, they have no cross-crate calls).
# 2. Disassembles each kernel with llvm-objdump and cuts the steady-state inner loops (the
#    innermost backward branch whose body holds the sdot/smmla): the 4x4 GEMM tile (32 sdot
#    or 16 smmla per K block of 32) and the one-row GEMV tile (8 sdot).
# 3. Runs llvm-mca on each loop for cortex-x4, cortex-a720, cortex-a520 and oryon-1, and
#    prints cycles per K-block iteration (simulated, 400 iterations), mca's resource bound
#    ("Block RThroughput": the busiest pipe), int8 MACs per simulated cycle and the share
#    of the core's peak, measured the same way on a loop of 16 independent sdot / smmla.
#
# With --llamacpp, the same measurement of llama.cpp's aarch64 repacked GEMV/GEMM loops
# (ggml_gemv_q4_0_4x8_q8_0 and ggml_gemv_q8_0_4x8_q8_0 with sdot, ggml_gemm_q4_0_4x8_q8_0
# and ggml_gemm_q8_0_4x8_q8_0 with smmla) instead of ours: their translation unit
# ggml/src/ggml-cpu/arch/arm/repack.cpp, from the tree vendored in the llama-cpp-python
# 0.3.36 sdist (llama.cpp 0c1e570; scripts/build-llamacpp.sh downloads it into
# $LLAMACPP_DIR, default .llamacpp/), is compiled alone with aarch64-linux-gnu-g++ -O3
# -march=armv8.2-a+dotprod+i8mm (the flags its CMake build uses for such a CPU), then cut
# and measured exactly as ours: every innermost loop holding sdot / smmla, MACs counted as
# 16 per sdot and 32 per smmla.
#
# Static numbers: no caches, no memory bandwidth, no front-end stalls from other code.
# Usage: scripts/mca.sh [--llamacpp] [--markdown]     (MCA_KEEP=DIR keeps the loop files)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=slimlm fmt=
for arg in "$@"; do
    case $arg in
        --llamacpp) mode=llamacpp ;;
        --markdown) fmt=--markdown ;;
        *) echo "usage: scripts/mca.sh [--llamacpp] [--markdown]" >&2; exit 2 ;;
    esac
done

LLVM=${LLVM:-/usr/lib/llvm-22/bin}
CPUS=${CPUS:-"cortex-x4 cortex-a720 cortex-a520 oryon-1"}
target=aarch64-unknown-linux-gnu
export CARGO_TARGET_DIR=${MCA_TARGET_DIR:-target/aarch64-mca}
export RUSTC=${RUSTC:-/usr/bin/rustc}
export CARGO_PROFILE_RELEASE_LTO=false

# llvm-22 is not part of the cross setup (scripts/setup-cross.sh): installed here on demand.
if [ ! -x "$LLVM/llvm-mca" ] || [ ! -x "$LLVM/llvm-objdump" ]; then
    if [ "$(id -u)" = 0 ] && [ "$LLVM" = /usr/lib/llvm-22/bin ]; then
        apt-get install -y --no-install-recommends llvm-22 >&2
    else
        echo "mca: no llvm-mca/llvm-objdump in $LLVM; run: apt-get install llvm-22 (as root)" >&2
        exit 1
    fi
fi

# MCA_KEEP=DIR keeps the cut loops (DIR/<kernel>-<sdot|smmla count>-<core>.s) for inspection.
if [ -n "${MCA_KEEP:-}" ]; then
    work=$MCA_KEEP
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
if [ "$mode" = llamacpp ]; then
    src=${LLAMACPP_DIR:-$PWD/.llamacpp}/llama-cpp-python-0.3.36/vendor/llama.cpp
    if [ ! -f "$src/ggml/src/ggml-cpu/arch/arm/repack.cpp" ]; then
        echo "mca: no llama.cpp tree at $src; run scripts/build-llamacpp.sh (or set LLAMACPP_DIR)" >&2
        exit 1
    fi
    if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++-aarch64-linux-gnu >&2
        else
            echo "mca: no aarch64-linux-gnu-g++; run: apt-get install g++-aarch64-linux-gnu (as root)" >&2
            exit 1
        fi
    fi
    aarch64-linux-gnu-g++ --version | head -1 >&2
    aarch64-linux-gnu-g++ -O3 -march=armv8.2-a+dotprod+i8mm -std=c++17 -DNDEBUG -c \
        "$src/ggml/src/ggml-cpu/arch/arm/repack.cpp" \
        -I "$src/ggml/include" -I "$src/ggml/src" -I "$src/ggml/src/ggml-cpu" \
        -o "$work/repack.o"
    "$LLVM/llvm-objdump" -dr -C --no-show-raw-insn "$work/repack.o" 2>/dev/null >"$work/dis.txt"
else
    cargo build --quiet --release --target "$target" -p slimlm-kernels
    rlib="$CARGO_TARGET_DIR/$target/release/libslimlm_kernels.rlib"
    "$LLVM/llvm-objdump" -dr --no-show-raw-insn "$rlib" 2>/dev/null >"$work/dis.txt"
fi

python3 - "$work" "$LLVM" "$CPUS" "$fmt" "$mode" <<'PY'
import re, subprocess, sys
work, llvm, cpus, fmt, mode = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5]

# --- functions of the disassembly (mangled names) and the calls they make --------------
funcs, calls, name = {}, {}, None
for line in open(f"{work}/dis.txt"):
    m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
    if m:
        name = m.group(1)
        funcs[name], calls[name] = [], set()
        continue
    m = re.match(r"^\s+[0-9a-f]+:\s+R_AARCH64_CALL26\s+(?:\.text\.)?(\S+)", line)
    if name and m:
        calls[name].add(m.group(1))
        continue
    m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
    if name and m:
        ops = re.sub(r"\s*(<.*>|//.*)$", "", m.group(3)).strip()
        funcs[name].append((int(m.group(1), 16), m.group(2), ops))

def find(fragment):
    """The kernel's entry function and the tier functions it calls (micro-kernels the
    compiler kept out of line), as instruction lists."""
    if mode == "llamacpp":
        hits = [n for n in funcs if n == fragment]  # C++ names, demangled without arguments
    else:
        hits = [n for n in funcs if re.search(r"\d" + fragment + r"17h[0-9a-f]{16}E", n)]
    if len(hits) != 1:
        sys.exit(f"mca: expected one function {fragment}, found {hits}")
    out, todo = [], [hits[0]]
    while todo:
        f = todo.pop()
        if f in funcs and all(f != g for g, _ in out):
            out.append((f, funcs[f]))
            todo += [c for c in calls[f] if "aarch64" in c]
    return [insns for _, insns in out]

BRANCH = re.compile(r"^(b(\.\w+)?|cbn?z|tbn?z)$")

def loops(insns):
    """Innermost loops: (start, end) index ranges closed by a backward branch."""
    addr_idx = {a: i for i, (a, _, _) in enumerate(insns)}
    out = []
    for i, (a, mn, ops) in enumerate(insns):
        if BRANCH.match(mn):
            t = re.search(r"0x([0-9a-f]+)\s*$", ops)
            if t and int(t.group(1), 16) < a and int(t.group(1), 16) in addr_idx:
                out.append((addr_idx[int(t.group(1), 16)], i))
    return [l for l in out if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in out)]

def count(insns, mn):
    return sum(1 for _, m, _ in insns if m == mn)

def asm_text(body):
    lines = [".Lloop:"]
    for _, mn, ops in body:
        if BRANCH.match(mn):
            ops = re.sub(r"0x[0-9a-f]+\s*$", ".Lloop", ops)
        lines.append(f"  {mn} {ops}".rstrip())
    return "\n".join(lines) + "\n"

PROXIED, SKIPPED = set(), set()

def mca(text, cpu, tag):
    """Cycles per iteration. Where the core's model lacks vector scvtf (oryon-1 in LLVM 22),
    it is modelled as an fadd of the same registers (same FP pipes), and a vector sshl by a
    register (in llama.cpp's loops) as a shl by an immediate; such rows are marked."""
    path = f"{work}/{tag}-{cpu}.s"
    skip = []
    for attempt in range(4):
        open(path, "w").write(text)
        p = subprocess.run([f"{llvm}/llvm-mca", "-mtriple=aarch64", f"-mcpu={cpu}",
                            "-mattr=+dotprod,+i8mm", "-iterations=400", *skip, path],
                           capture_output=True, text=True)
        if p.returncode == 0:
            break
        if "unsupported instruction" in p.stderr and re.search(r"instruction:\s+scvtf", p.stderr):
            text = re.sub(r"scvtf\s+(v\d+\.4s), (v\d+\.4s)(, #\w+)?", r"fadd \1, \2, \2", text)
            PROXIED.add((tag, cpu))
            continue
        if "unsupported instruction" in p.stderr and re.search(r"instruction:\s+sshl", p.stderr):
            text = re.sub(r"sshl\s+(v\d+\.16b), (v\d+\.16b), v\d+\.16b", r"shl \1, \2, #4", text)
            PROXIED.add((tag, cpu))
            continue
        if "unsupported instruction" in p.stderr and not skip:
            # Any other instruction the model lacks: left out of the simulation, row marked.
            skip = ["-skip-unsupported-instructions=lack-sched"]
            SKIPPED.add((tag, cpu))
            continue
        sys.exit(f"mca: llvm-mca failed on {tag} for {cpu}:\n{p.stderr}")
    r = p.stdout
    iters = int(re.search(r"Iterations:\s+(\d+)", r).group(1))
    cycles = int(re.search(r"Total Cycles:\s+(\d+)", r).group(1))
    rthroughput = float(re.search(r"Block RThroughput:\s+([\d.]+)", r).group(1))
    return cycles / iters, rthroughput

# --- peaks: 16 independent accumulators -------------------------------------------------
peak = {}
for ins, macs in (("sdot", 16), ("smmla", 32)):
    text = "".join(f"  {ins} v{i}.4s, v16.16b, v17.16b\n" for i in range(16))
    for cpu in cpus:
        peak[ins, cpu] = 16 * macs / mca(text, cpu, f"peak-{ins}")[0]

# --- the kernels' loops -----------------------------------------------------------------
KERNELS = [
    ("gemm_q8_0x4x8_q8_0_4x4_dotprod", "sdot", {32: "GEMM 4x4", 8: "GEMV 4x1"}),
    ("gemm_q4_0x4x8_q8_0_4x4_dotprod", "sdot", {32: "GEMM 4x4", 8: "GEMV 4x1"}),
    ("gemm_q4_1x4x8_q8_1_4x4_dotprod", "sdot", {32: "GEMM 4x4", 8: "GEMV 4x1"}),
    ("gemm_q6_kx4x8_q8_0_4x4_dotprod", "sdot", {32: "GEMM 4x4", 8: "GEMV 4x1"}),
    ("gemm_q8_0x4x8_q8_0x4_4x8_i8mm", "smmla", {32: "GEMM 4x8"}),
    ("gemm_q4_0x4x8_q8_0x4_4x8_i8mm", "smmla", {32: "GEMM 4x8"}),
    ("gemm_q4_1x4x8_q8_1x4_4x8_i8mm", "smmla", {32: "GEMM 4x8"}),
    ("gemm_q6_kx4x8_q8_0x4_4x8_i8mm", "smmla", {32: "GEMM 4x8"}),
]
if mode == "llamacpp":
    # Every innermost loop with the instruction, named by its count (wanted = None).
    KERNELS = [
        ("ggml_gemv_q4_0_4x8_q8_0", "sdot", None),
        ("ggml_gemv_q8_0_4x8_q8_0", "sdot", None),
        ("ggml_gemm_q4_0_4x8_q8_0", "smmla", None),
        ("ggml_gemm_q8_0_4x8_q8_0", "smmla", None),
    ]
rows = []
for kernel, ins, wanted in KERNELS:
    seen = set()
    for insns in find(kernel):
        for s, e in loops(insns):
            body = insns[s:e + 1]
            n = count(body, ins)
            if n == 0 or n in seen or (wanted is not None and n not in wanted):
                continue
            seen.add(n)
            if wanted is None:
                label = f"{n} {ins}"
            else:
                label = wanted[n]
            macs = n * (16 if ins == "sdot" else 32)
            for cpu in cpus:
                c, rt = mca(asm_text(body), cpu, f"{kernel}-{n}")
                mark = "*" if (f"{kernel}-{n}", cpu) in PROXIED else ""
                mark += "+" if (f"{kernel}-{n}", cpu) in SKIPPED else ""
                rows.append((kernel, label, len(body), cpu + mark, c, rt, macs, macs / c,
                             100 * macs / c / peak[ins, cpu]))
    missing = set(wanted or []) - seen
    if missing or not seen:
        sys.exit(f"mca: {kernel}: no loop with {sorted(missing) or 'any'} {ins}")

if fmt == "--markdown":
    print("| core | sdot peak | smmla peak |")
    print("|---|---:|---:|")
    for cpu in cpus:
        print(f"| {cpu} | {peak['sdot', cpu]:.0f} | {peak['smmla', cpu]:.0f} |")
    print()
    print("| kernel | loop | insns | core | cycles/iter | resource bound | MACs/iter | MACs/cycle | % of peak |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for k, l, ni, cpu, c, rt, m, mpc, pct in rows:
        print(f"| {k} | {l} | {ni} | {cpu} | {c:.2f} | {rt:.1f} | {m} | {mpc:.1f} | {pct:.0f}% |")
    if PROXIED:
        print()
        print("\\* this LLVM's model of the core lacks vector `scvtf` (modelled as `fadd`) or `sshl`")
        print("by a register (modelled as `shl #4`).")
    if SKIPPED:
        print()
        print("\\+ instructions this LLVM's model of the core lacks (e.g. `mov d, v.d[1]`) left out.")
else:
    print("peak int8 MACs/cycle (16 independent instructions):")
    for cpu in cpus:
        print(f"  {cpu:12} sdot {peak['sdot', cpu]:6.1f}   smmla {peak['smmla', cpu]:6.1f}")
    print()
    print(f"{'kernel':30} {'loop':9} {'insns':>5} {'core':12} {'cyc/iter':>8} {'bound':>6} {'MACs':>5} {'MAC/cyc':>8} {'%peak':>6}")
    for k, l, ni, cpu, c, rt, m, mpc, pct in rows:
        print(f"{k:30} {l:9} {ni:5} {cpu:12} {c:8.2f} {rt:6.1f} {m:5} {mpc:8.1f} {pct:5.0f}%")
    if PROXIED:
        print("* this LLVM's model of the core lacks vector scvtf (modelled as fadd) or sshl by a")
        print("  register (modelled as shl #4).")
    if SKIPPED:
        print("+ instructions this LLVM's model of the core lacks (e.g. mov d, v.d[1]) left out.")
PY
