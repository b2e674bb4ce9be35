#!/usr/bin/env python3
"""slimlm vs llama.cpp (llama-cpp-python) on the same GGUF, threads and llama-bench sizes.

Runs pp512 (one prefill of 512 tokens) and tg64 / tg128 (single-token decodes from an
empty context) through both, with pseudo-random tokens as llama-bench does, in --rounds
alternations (each the mean of --reps runs after one warm-up), and prints the median
tokens/s of each runtime and the median ratio with its range over the rounds.
Run by hand, never in CI, on an otherwise idle machine:

    scripts/compare-llamacpp.py models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2

The first run creates a virtualenv (.venv-llamacpp, git-ignored; --venv to choose) and
installs llama-cpp-python from PyPI into it, building llama.cpp from source for this CPU
(every AVX-512/AVX2 extension the CPU lists, AMX off: a few minutes on 2 cores;
needs cmake and a C++ compiler). Pass an
existing venv with --venv (e.g. /opt/llamacpp-venv, the generic AVX2 build of
scripts/make-llamacpp-fixtures.py) to skip the build; the report names the venv.
slimlm is the release binary (cargo build --release; --slimlm to choose another).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLAMA_CPP_PYTHON = "llama-cpp-python==0.3.36"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=2, help="runs per round (after a warm-up)")
    p.add_argument("--rounds", type=int, default=3, help="alternations of the two runtimes")
    p.add_argument("--pp", type=int, default=512)
    p.add_argument("--tg", type=int, nargs="+", default=[64, 128])
    p.add_argument("--venv", type=Path, default=ROOT / ".venv-llamacpp")
    p.add_argument("--slimlm", type=Path, default=ROOT / "target" / "release" / "slimlm")
    p.add_argument("--llamacpp-only", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


def ensure_venv(venv: Path):
    """Re-runs this script inside a venv that has llama_cpp, creating it on demand."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} and installing {LLAMA_CPP_PYTHON} (builds llama.cpp) ...",
              file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import llama_cpp"], capture_output=True).returncode:
        env = dict(os.environ, CMAKE_ARGS=llamacpp_cmake_args(),
                   CMAKE_BUILD_PARALLEL_LEVEL="2")
        subprocess.run([str(python), "-m", "pip", "install", "--no-binary", "llama-cpp-python",
                        LLAMA_CPP_PYTHON], check=True, env=env)
    return python


def llamacpp_cmake_args():
    """llama.cpp's build for this CPU, with its ISA extensions named explicitly.

    Not GGML_NATIVE: -march=native also turns on AMX where the CPU reports it, and on VMs
    whose hypervisor does not enable the AMX tile state (this machine) llama.cpp then dies
    of SIGILL at its first `tilezero`. So: every AVX-512 extension llama.cpp uses when
    /proc/cpuinfo lists it, AVX2 otherwise, AMX off."""
    flags = set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    args = ["-DGGML_NATIVE=OFF", "-DGGML_BLAS=OFF", "-DGGML_AMX_TILE=OFF",
            "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
    if "avx2" in flags:
        args += ["-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON"]
    for flag, opt in [("avx512f", "AVX512"), ("avx512vbmi", "AVX512_VBMI"),
                      ("avx512_vnni", "AVX512_VNNI"), ("avx512_bf16", "AVX512_BF16"),
                      ("avx_vnni", "AVX_VNNI")]:
        if flag in flags:
            args.append(f"-DGGML_{opt}=ON")
    return " ".join(args)


def stats(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def llamacpp_rows(args):
    """Runs inside the venv: llama.cpp's tokens/s per test, as JSON on stdout."""
    import random
    import llama_cpp
    n_ctx = max([args.pp] + args.tg) + 8
    llm = llama_cpp.Llama(model_path=str(args.model), n_ctx=n_ctx, n_batch=args.pp,
                          n_ubatch=args.pp, n_threads=args.threads,
                          n_threads_batch=args.threads, verbose=False)
    rng = random.Random(1)
    vocab = llm.n_vocab()
    prompt = [rng.randrange(vocab) for _ in range(args.pp)]

    def pp():
        llm.reset()
        t = time.perf_counter()
        llm.eval(prompt)
        return args.pp / (time.perf_counter() - t)

    def tg(n):
        llm.reset()
        tok = prompt[0]
        t = time.perf_counter()
        for _ in range(n):
            llm.eval([tok])
            tok = int(llm.scores[llm.n_tokens - 1].argmax())
        return n / (time.perf_counter() - t)

    out = {"llama_cpp_python": llama_cpp.__version__}
    for name, f in [(f"pp{args.pp}", pp)] + [(f"tg{n}", lambda n=n: tg(n)) for n in args.tg]:
        f()  # warm-up
        out[name] = stats([f() for _ in range(args.reps)])
    print(json.dumps(out))


def slimlm_rows(args):
    rows = {}
    for n in args.tg:
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            subprocess.run([str(args.slimlm), "bench", "--model", str(args.model),
                            "--threads", str(args.threads), "--reps", str(args.reps),
                            "--pp", str(args.pp), "--tg", str(n), "--depth", "0",
                            "--no-table1", "--json", f.name],
                           check=True, stdout=subprocess.DEVNULL)
            report = json.load(open(f.name))
        for r in report["llama_bench"]:
            name = f'{r["test"]}{r["n"]}'
            rows.setdefault(name, (r["tokens_per_s"]["mean"], r["tokens_per_s"]["std"]))
        tier = report["model"]["tier"]
    return rows, tier


def main():
    args = parse_args()
    if args.llamacpp_only:
        return llamacpp_rows(args)
    if not args.slimlm.exists():
        sys.exit(f"{args.slimlm} not found: run cargo build --release first")
    python = ensure_venv(args.venv)
    # Rounds alternate the two runtimes, and each round's ratio compares runs made
    # seconds apart: a VM's speed drifts by 20-30% over minutes (other tenants), which
    # would otherwise land on whichever runtime ran in the slow minute.
    names = [f"pp{args.pp}"] + [f"tg{n}" for n in args.tg]
    rounds = []
    for r in range(args.rounds):
        theirs = json.loads(subprocess.run(
            [str(python), __file__, str(args.model), "--threads", str(args.threads),
             "--reps", str(args.reps), "--pp", str(args.pp), "--tg", *map(str, args.tg),
             "--llamacpp-only"], check=True, capture_output=True, text=True).stdout)
        ours, tier = slimlm_rows(args)
        rounds.append((ours, theirs))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{n} {ours[n][0]:.1f} vs {theirs[n][0]:.1f}" for n in names), file=sys.stderr)
    print(f"model {args.model.name}, {args.threads} threads, {args.rounds} rounds x "
          f"{args.reps} reps; slimlm tier {tier}; llama-cpp-python "
          f"{rounds[0][1]['llama_cpp_python']} from {args.venv}")
    print("| test | slimlm t/s | llama.cpp t/s | slimlm / llama.cpp (median, min-max of rounds) |")
    print("|---|---:|---:|---:|")
    for n in names:
        a = [o[n][0] for o, _ in rounds]
        b = [t[n][0] for _, t in rounds]
        ratios = [x / y for x, y in zip(a, b)]
        print(f"| {n} | {statistics.median(a):.1f} | {statistics.median(b):.1f} | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) |")


if __name__ == "__main__":
    main()
