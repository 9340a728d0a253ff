#!/usr/bin/env python3
"""Reads the dependency list `cargo auditable` embeds in each binary (the
zlib-compressed JSON of the ELF section .dep-v0) and checks it against a
RustSec advisory database folder, offline:

    scripts/audit-binaries.py [--db DIR] [--lock Cargo.lock] BINARY...

Fails if a binary carries no list, if its list names a crate Cargo.lock does
not pin (the list must be this build's), or if any crate in it is affected
by an advisory deny.toml does not accept. A light reader on purpose: the
standard library only (ELF section table, zlib, JSON, TOML), so that what
it checks does not depend on the code it checks.
"""
import argparse
import json
import pathlib
import re
import struct
import sys
import tomllib
import zlib

SECTION = b".dep-v0"


def embedded_packages(path):
    data = pathlib.Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"FAIL: {path} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):
        base = shoff + i * shentsize
        name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", data, base)
        return name, offset, size

    _, names_off, names_size = header(shstrndx)
    names = data[names_off:names_off + names_size]
    for i in range(shnum):
        name, offset, size = header(i)
        end = names.find(b"\0", name)
        if names[name:end] == SECTION:
            return json.loads(zlib.decompress(data[offset:offset + size]))["packages"]
    raise SystemExit(f"FAIL: {path} has no {SECTION.decode()} section: not built with `cargo auditable`")


def parse_version(text):
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?", text.strip())
    if not m:
        raise ValueError(f"not a version: {text!r}")
    major, minor, patch, pre = m.groups()
    return [int(major), None if minor is None else int(minor), None if patch is None else int(patch), pre]


def key(v):
    """Orders versions: a pre-release sorts before its release."""
    major, minor, patch, pre = v
    pre_key = (1,) if pre is None else (0,) + tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (major, minor or 0, patch or 0, pre_key)


def matches_one(version, comparator):
    comparator = comparator.strip()
    m = re.fullmatch(r"(>=|<=|>|<|=|\^|~)?\s*(.+)", comparator)
    op, req = m.group(1) or "^", parse_version(m.group(2))
    v, r = key(version), key(req)
    if op == ">=":
        return v >= r
    if op == ">":
        return v > r
    if op == "<":
        return v < r
    if op == "<=":
        return v <= r
    major, minor, patch, _ = req
    if op == "=":
        return version[0] == major and (minor is None or version[1] == minor) and (patch is None or version[2] == patch) and (req[3] == version[3] or patch is None)
    if op == "~":
        upper = [major + 1, 0, 0, None] if minor is None else [major, minor + 1, 0, None]
    else:  # caret
        if major > 0 or minor is None:
            upper = [major + 1, 0, 0, None]
        elif minor > 0 or patch is None:
            upper = [0, minor + 1, 0, None]
        else:
            upper = [0, 0, patch + 1, None]
    return r <= v < key(upper)


def matches(version, requirement):
    return all(matches_one(version, c) for c in requirement.split(","))


def advisories(db):
    for path in sorted((db / "crates").glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        m = re.search(r"```toml\n(.*?)```", text, re.S)
        if not m:
            continue
        yield tomllib.loads(m.group(1))


def accepted_ids(deny_toml):
    if not deny_toml.exists():
        return set()
    ignore = tomllib.loads(deny_toml.read_text()).get("advisories", {}).get("ignore", [])
    return {i if isinstance(i, str) else i.get("id") for i in ignore}


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(root.parent / "shared" / "rustsec-advisory-db"))
    parser.add_argument("--lock", default=str(root / "Cargo.lock"))
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    db = pathlib.Path(args.db)
    if not (db / "crates").is_dir():
        raise SystemExit(f"FAIL: no advisory database at {db}")
    locked = {(p["name"], p["version"]) for p in tomllib.loads(pathlib.Path(args.lock).read_text())["package"]}
    accepted = accepted_ids(root / "deny.toml")
    by_crate = {}
    count = 0
    for adv in advisories(db):
        a = adv.get("advisory", {})
        if a.get("withdrawn") or a.get("id") in accepted:
            continue
        by_crate.setdefault(a.get("package"), []).append(adv)
        count += 1
    failed = False
    for binary in args.binaries:
        packages = embedded_packages(binary)
        stray = [f"{p['name']} {p['version']}" for p in packages if (p["name"], p["version"]) not in locked]
        if stray:
            print(f"FAIL: {binary} embeds crates Cargo.lock does not pin: {', '.join(stray)}")
            failed = True
        hits = []
        for p in packages:
            version = parse_version(p["version"])
            for adv in by_crate.get(p["name"], []):
                versions = adv.get("versions", {})
                safe = versions.get("patched", []) + versions.get("unaffected", [])
                if not any(matches(version, req) for req in safe):
                    hits.append(f"{adv['advisory']['id']} {p['name']} {p['version']}: {adv['advisory'].get('title', '')}")
        print(f"{binary}: {len(packages)} crates embedded, checked against {count} advisories: "
              + ("no advisory" if not hits else f"{len(hits)} advisories"))
        for h in hits:
            print(f"  FAIL: {h}")
        failed |= bool(hits)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
