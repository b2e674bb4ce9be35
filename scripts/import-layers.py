#!/usr/bin/env python3
"""Import cycles in the Rust sources: between files of kernels/src, and between folders
(top-level modules) of src/. Prints each cycle and exits 1 if there is one.

An import is a path in a `use` item or an inline path (`crate::a::b::f(..)`, `super::x`)
outside test-only code (`#[cfg(test)] mod tests {...}` bodies and `#[cfg(test)]` items are
skipped). Paths resolve to the longest existing file prefix: `crate::aarch64::format::Q8_0`
-> kernels/src/aarch64/format/mod.rs. A module's own declarations (`mod x;`) are not
imports. Used by issue 18's acceptance and docs/architecture.md:

    python3 scripts/import-layers.py            # both checks
"""
import re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def strip_tests(text):
    """The text without `#[cfg(test)]` items (a mod block or one item) and comments."""
    text = re.sub(r"//[^\n]*", "", text)
    out, i = [], 0
    while True:
        j = text.find("#[cfg(test)]", i)
        if j < 0:
            j = text.find("#[cfg(all(test", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        # skip to the end of the next item: a `;` before any `{`, or the matching `}`
        k = j + 1
        while k < len(text) and text[k] not in "{;":
            k += 1
        if k < len(text) and text[k] == "{":
            depth = 0
            while k < len(text):
                if text[k] == "{":
                    depth += 1
                elif text[k] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
        i = k + 1
    return "".join(out)


def module_path(src, f):
    rel = f.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def resolve(src, files, base, path):
    """The file a `crate::`/`super::`/`self::` path names, relative to module `base`."""
    segs = path.split("::")
    if segs[0] == "crate":
        mod, segs = [], segs[1:]
    elif segs[0] in ("super", "self"):
        mod = list(base)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                mod = mod[:-1]
            segs = segs[1:]
    else:
        return None
    best = tuple(mod)
    for s in segs:
        cand = tuple(list(best) + [s])
        if cand in files:
            best = cand
        else:
            break
    return files.get(best)


def graph(src):
    files = {}
    for f in src.rglob("*.rs"):
        files[tuple(module_path(src, f))] = f
    edges = {f: set() for f in files.values()}
    for mod, f in files.items():
        text = strip_tests(f.read_text())
        # use items, with brace groups expanded one level: use a::{b, c::d};
        for m in re.finditer(r"\buse\s+([^;]+);", text):
            item = re.sub(r"\s+", "", m.group(1))
            for path in expand(item):
                t = resolve(src, files, mod, path)
                if t and t != f:
                    edges[f].add(t)
        for m in re.finditer(r"\b((?:crate|super)(?:::\w+)+)", text):
            t = resolve(src, files, mod, m.group(1))
            if t and t != f:
                edges[f].add(t)
    return edges


def expand(item):
    m = re.match(r"^(.*?)::\{(.*)\}$", item)
    if not m:
        return [item.split(" as ")[0]]
    head, body = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if not p:
            continue
        if p == "self":
            out.append(head)
        else:
            out.extend(expand(head + "::" + p))
    return out


def cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, res, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                res.append(comp)

    for v in list(edges):
        if v not in index:
            visit(v)
    return res


def main():
    bad = False
    ksrc = ROOT / "kernels" / "src"
    kedges = graph(ksrc)
    kc = cycles(kedges)
    print(f"kernels/src: {len(kedges)} files, {sum(map(len, kedges.values()))} imports, "
          f"{len(kc)} cycle(s)")
    for c in kc:
        bad = True
        print("  cycle: " + " <-> ".join(sorted(str(f.relative_to(ksrc)) for f in c)))
    src = ROOT / "src"
    edges = graph(src)
    top = lambda f: f.relative_to(src).parts[0].removesuffix(".rs")
    fedges = {}
    for a, bs in edges.items():
        for b in bs:
            if top(a) != top(b):
                fedges.setdefault(top(a), set()).add(top(b))
    fc = cycles(fedges)
    print(f"src/: {len(set(map(top, edges)))} top-level modules, {len(fc)} cycle(s) between them")
    for c in fc:
        bad = True
        detail = []
        for a in sorted(c):
            for b in sorted(fedges.get(a, ())):
                if b in c:
                    files = sorted(str(x.relative_to(src)) for x, ys in edges.items()
                                   if top(x) == a for y in ys if top(y) == b)
                    detail.append(f"{a} -> {b} ({', '.join(files[:4])})")
        print("  cycle: " + "; ".join(detail))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
