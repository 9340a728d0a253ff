#!/usr/bin/env python3
"""Prints each crate's graph of imports between its top-level modules and
fails if any cycle exists (a newcomer must be able to read a crate from its
leaves up). Run by .ci/run; `scripts/import-graph.py --dot` prints Graphviz.

An edge m -> n is any `crate::n` path in m's files, or `super::n` in a file
directly under src/ (where `super` is the crate root). Tests (`mod tests`
blocks and files named tests.rs) are left out: a test may look anywhere."""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent / "crates"


def strip_tests(text):
    """The code without its tests and comments (a comment may name a module
    it does not use)."""
    at = text.find("#[cfg(test)]")
    text = text if at < 0 else text[:at]
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def graph(src):
    mods = {p.stem for p in src.glob("*.rs") if p.stem not in ("lib", "main")}
    mods |= {p.name for p in src.iterdir() if p.is_dir()}
    edges = {m: set() for m in mods}
    for m in mods:
        files = [src / f"{m}.rs"] if (src / f"{m}.rs").exists() else []
        if (src / m).is_dir():
            files += list((src / m).rglob("*.rs"))
        for f in files:
            text = strip_tests(f.read_text())
            names = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text))
            if f.parent == src:
                names |= set(re.findall(r"\bsuper::([a-z_][a-z0-9_]*)", text))
            for group in re.findall(r"\b(?:crate|super)::\{([^}]*)\}", text):
                if "super::{" in text and f.parent != src and "crate::{" not in text:
                    continue
                names |= {w.split("::")[0].strip() for w in group.split(",")}
            edges[m] |= {n for n in names if n in mods and n != m}
    return edges


def cycles(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


dot = "--dot" in sys.argv
failed = False
for crate in sorted(p for p in root.iterdir() if (p / "src").is_dir()):
    edges = graph(crate / "src")
    if dot:
        print(f'digraph "{crate.name}" {{')
        for m in sorted(edges):
            for n in sorted(edges[m]):
                print(f'  "{m}" -> "{n}";')
        print("}")
        continue
    print(f"{crate.name}:")
    for m in sorted(edges):
        print(f"  {m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")
    for scc in cycles(edges):
        print(f"  CYCLE: {' <-> '.join(scc)}")
        failed = True
sys.exit(1 if failed else 0)
