#!/usr/bin/env python3
"""slimlm vs llama.cpp, program against program: `slimlm bench` against `llama-bench`.

Each runtime times itself in its own compiled benchmark (llama-bench -p 512 -n 128 -o json;
slimlm bench's pp512 and tg128 rows, --json); Python only launches the two binaries and
reads their JSON, so nothing timed here is Python. The two run on the same GGUF files, at
the same thread counts, in alternating rounds (who goes first alternates too), and the
report is a markdown table: each runtime's tokens/s (median over the rounds) and the ratio
slimlm / llama.cpp (median of the per-round ratios, and their min-max), with the machine,
slimlm's kernel tier, llama.cpp's commit and the date.

Run by hand, never in CI, on an otherwise idle machine (a VM's speed drifts; other builds
running make every number meaningless):

    cargo build --release
    scripts/compare-llamacpp.py                                   # 4 formats x 1, 2 threads x 3 rounds
    scripts/compare-llamacpp.py --formats Q4_0 --threads 1 --rounds 1   # a smoke run

llama.cpp's tools come from scripts/build-llamacpp.sh (its last line names the bin dir; it
honours LLAMACPP_DIR and builds on first use: 15-25 minutes on 2 cores), or --llamacpp-bin.
The files compared are models/SmolLM2-135M-Instruct.<TYPE>.gguf; the Q4_1 one is the shipped
model (scripts/fetch-model.sh), the others are made from it, when missing, with
`llama-quantize --allow-requantize` (requantized from Q4_1 codes: not the quality of a file
quantized from the original weights, but the same bytes moved and the same kernels run).
Q4_K_M files get Q5_0 for their 576-wide matrices (K-quant blocks need 256 | columns), a
format slimlm does not load: that row prints llama.cpp's side and slimlm's error line.
"""
import argparse
import datetime
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
SHIPPED = "Q4_1"
FORMATS = ["Q4_0", "Q8_0", "Q4_1", "Q4_K_M"]
PP, TG = 512, 128
TESTS = [f"pp{PP}", f"tg{TG}"]
# llama-bench's JSON encoding of -fa.
FLASH_ATTN = {-1: "auto", 0: "off", 1: "on"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--formats", nargs="+", default=FORMATS, choices=FORMATS, metavar="TYPE",
                   help=f"files to compare (default: {' '.join(FORMATS)})")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2],
                   help="thread counts (default: 1 2)")
    p.add_argument("--rounds", type=int, default=3, help="alternations of the two runtimes")
    p.add_argument("--reps", type=int, default=3,
                   help="repetitions inside each benchmark run (llama-bench -r, slimlm --reps)")
    p.add_argument("--slimlm", type=Path, default=ROOT / "target" / "release" / "slimlm")
    p.add_argument("--llamacpp-bin", type=Path,
                   help="llama.cpp's bin dir (default: the last line of scripts/build-llamacpp.sh)")
    args = p.parse_args()
    if args.rounds < 1 or args.reps < 1 or min(args.threads) < 1:
        p.error("--rounds, --reps and --threads must be at least 1")
    return args


def llamacpp_bin(args) -> Path:
    """llama.cpp's bin dir: --llamacpp-bin, else what scripts/build-llamacpp.sh prints (it
    builds first if a tool is missing, honouring LLAMACPP_DIR)."""
    if args.llamacpp_bin:
        path = args.llamacpp_bin
    else:
        out = subprocess.run([str(ROOT / "scripts" / "build-llamacpp.sh")], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        path = Path(out.strip().splitlines()[-1])
    for tool in ("llama-bench", "llama-quantize"):
        if not (path / tool).is_file():
            sys.exit(f"compare-llamacpp: {path / tool} not found")
    return path


def model_path(fmt: str) -> Path:
    return MODELS / f"SmolLM2-135M-Instruct.{fmt}.gguf"


def ensure_model(fmt: str, bindir: Path) -> Path:
    """The comparison file of `fmt`, made from the shipped Q4_1 with llama-quantize when it
    is missing (written under a temporary name, then renamed: models/ may be shared)."""
    path = model_path(fmt)
    if path.is_file():
        return path
    src = model_path(SHIPPED)
    if not src.is_file():
        sys.exit(f"compare-llamacpp: {src} not found: run scripts/fetch-model.sh")
    print(f"making {path.name} with llama-quantize --allow-requantize ...", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=MODELS) as tmp:
        out = Path(tmp) / path.name
        r = subprocess.run([str(bindir / "llama-quantize"), "--allow-requantize", str(src),
                            str(out), fmt, "2"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"compare-llamacpp: llama-quantize {fmt} failed:\n{r.stderr[-2000:]}")
        os.replace(out, path)
    return path


def last_error_line(stderr: str) -> str:
    """slimlm's one-line `error: ...` (else the last line of stderr)."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    errors = [l.removeprefix("error:").strip() for l in lines if l.startswith("error:")]
    return (errors or lines or ["no output"])[-1]


def run_llamacpp(bindir: Path, model: Path, threads: int, reps: int):
    """llama-bench's pp512 and tg128 tokens/s (its mean over -r reps), and its JSON rows."""
    cmd = [str(bindir / "llama-bench"), "-m", str(model), "-t", str(threads), "-p", str(PP),
           "-n", str(TG), "-r", str(reps), "-o", "json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"llama-bench failed ({last_error_line(r.stderr)})", []
    rows = json.loads(r.stdout)
    speeds = {}
    for row in rows:
        name = f"pp{row['n_prompt']}" if row["n_gen"] == 0 else f"tg{row['n_gen']}"
        speeds[name] = row["avg_ts"]
    return speeds, None, rows


def run_slimlm(exe: Path, model: Path, threads: int, reps: int):
    """slimlm bench's pp512 and tg128 tokens/s (its mean over --reps), and its JSON report;
    or the error line when it fails (e.g. a tensor type it does not load)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [str(exe), "bench", "--model", str(model), "--threads", str(threads),
               "--reps", str(reps), "--pp", str(PP), "--tg", str(TG), "--depth", "0",
               "--no-table1", "--json", str(out)]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            return None, last_error_line(r.stderr), None
        report = json.loads(out.read_text())
    speeds = {f"{row['test']}{row['n']}": row["tokens_per_s"]["mean"]
              for row in report["llama_bench"] if row["depth"] == 0}
    return speeds, None, report


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware"):
                return value.strip()
    except OSError:
        pass
    return "unknown"


def describe(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"{path.name} ({path.stat().st_size / 1e6:.1f} MB, sha256 {h.hexdigest()[:12]})"


def main():
    args = parse_args()
    if not args.slimlm.is_file():
        sys.exit(f"compare-llamacpp: {args.slimlm} not found: run cargo build --release first")
    bindir = llamacpp_bin(args)
    models = {fmt: ensure_model(fmt, bindir) for fmt in args.formats}

    cases = [(fmt, t) for fmt in args.formats for t in args.threads]
    # results[case] = list over rounds of (slimlm speeds, llama.cpp speeds)
    results = {c: [] for c in cases}
    slimlm_error, llamacpp_error = {}, {}
    tier, llama_rows = None, []
    slimlm_cpus = {}  # threads -> the CPUs slimlm pinned them to ([]: not pinned)
    for rnd in range(args.rounds):
        # Each round runs both runtimes on every case back to back, so a round's ratio
        # compares runs made seconds apart (a VM's speed drifts over minutes); who goes
        # first alternates between rounds.
        slimlm_first = rnd % 2 == 1
        for case in cases:
            fmt, threads = case
            ours = theirs = None

            def slim():
                nonlocal ours, tier
                if fmt in slimlm_error:
                    return
                ours, err, report = run_slimlm(args.slimlm, models[fmt], threads, args.reps)
                if err:
                    slimlm_error[fmt] = err
                else:
                    tier = report["model"]["tier"]
                    slimlm_cpus[threads] = report["model"]["cpus"]

            def llama():
                nonlocal theirs
                if case in llamacpp_error:
                    return
                theirs, err, rows = run_llamacpp(bindir, models[fmt], threads, args.reps)
                if err:
                    llamacpp_error[case] = err
                llama_rows.extend(rows)

            for f in ((slim, llama) if slimlm_first else (llama, slim)):
                f()
            results[case].append((ours, theirs))
            show = lambda s: "-" if s is None else ", ".join(f"{k} {s[k]:.1f}" for k in TESTS)
            print(f"round {rnd + 1}/{args.rounds} {fmt} t{threads}: slimlm {show(ours)}; "
                  f"llama.cpp {show(theirs)}", file=sys.stderr)

    first = llama_rows[0] if llama_rows else {}
    pinned = "; ".join(f"t{t} {c or 'not pinned'}" for t, c in sorted(slimlm_cpus.items()))
    pinned = pinned or "no run"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# slimlm bench vs llama-bench, SmolLM2-135M-Instruct\n")
    print(f"- date: {date}")
    print(f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs; threads "
          f"{', '.join(map(str, args.threads))}")
    print(f"- slimlm: {args.slimlm}, tier {tier or 'unknown'}; `slimlm bench --pp {PP} "
          f"--tg {TG} --depth 0 --no-table1 --reps {args.reps}`, its defaults otherwise (KV f16; "
          f"pinned to CPUs: {pinned})")
    print(f"- llama.cpp: commit {first.get('build_commit', 'unknown')} "
          f"(build {first.get('build_number', '?')}), {bindir}; `llama-bench -p {PP} "
          f"-n {TG} -r {args.reps}`, its defaults otherwise (n_batch "
          f"{first.get('n_batch', '?')}, n_ubatch {first.get('n_ubatch', '?')}, flash_attn "
          f"{FLASH_ATTN.get(first.get('flash_attn'), '?')}, KV {first.get('type_k', '?')}/"
          f"{first.get('type_v', '?')}, repack {first.get('repack', '?')}, poll "
          f"{first.get('poll', '?')}, cpu_mask {first.get('cpu_mask', '?')})")
    print(f"- {args.rounds} alternating rounds; t/s = median over rounds of each run's mean; "
          f"ratio = slimlm / llama.cpp, median (min-max) of the rounds' ratios")
    for fmt in args.formats:
        print(f"- {fmt}: {describe(models[fmt])}")
    print()
    print("| model | threads | test | slimlm t/s | llama.cpp t/s | slimlm / llama.cpp |")
    print("|---|---:|---|---:|---:|---:|")
    for case in cases:
        fmt, threads = case
        for test in TESTS:
            ours = [o[test] for o, _ in results[case] if o]
            theirs = [t[test] for _, t in results[case] if t]
            ratios = [o[test] / t[test] for o, t in results[case] if o and t]
            a = f"{statistics.median(ours):.1f}" if ours else \
                ("cannot load (below)" if fmt in slimlm_error else "no run")
            b = f"{statistics.median(theirs):.1f}" if theirs else \
                llamacpp_error.get(case, "no run")
            c = (f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
                 if ratios else "-")
            print(f"| {fmt} | {threads} | {test} | {a} | {b} | {c} |")
    if slimlm_error:
        print()
    for fmt, err in slimlm_error.items():
        print(f"- {fmt}: slimlm: cannot load ({err})")


if __name__ == "__main__":
    main()
