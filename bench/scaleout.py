#!/usr/bin/env python3
"""Ingest with an object store: the local folder (baseline), Garage behind one
front, and three fronts on Garage, side by side in one run.

    cargo build --release --locked --bins && scripts/build-garage.sh
    python3 bench/scaleout.py [--write] [--uploads 24] [--size-mib 16] [--parallel 6]

Garage runs as three nodes on loopback, replication factor 3, as in
crates/sealdrop-testkit/src/garage.rs. Every variant gets the same uploads from the same
client (bench.py's), `--parallel` at a time, spread round-robin over the
fronts. Reported: wall time and aggregate throughput, CPU seconds per GiB of
the fronts and of Garage (utime+stime from /proc), peak RSS (VmHWM) of each
front. --write replaces the section between the scale-out markers in
docs/BENCHMARKS.md.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the shared client and helpers)

ROOT = bench.ROOT
GARAGE = Path(os.environ.get("SEALDROP_GARAGE", ROOT / "target" / "garage" / "bin" / "garage"))
WORK = bench.WORK / "scaleout"
KEY_ID = "GK0123456789abcdef01234567"
SECRET = "5ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70900"
TICK = os.sysconf("SC_CLK_TCK")


class Garage:
    def __init__(self):
        self.nodes = []
        secret = "0f" * 32
        for i in range(3):
            home = WORK / f"garage-{i}"
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir(parents=True)
            s3, rpc, admin = bench.free_port(), bench.free_port(), bench.free_port()
            config = home / "garage.toml"
            config.write_text(
                f'metadata_dir = "{home}/meta"\ndata_dir = "{home}/data"\ndb_engine = "lmdb"\ncompression_level = "none"\n'
                f'replication_factor = 3\nrpc_timeout_msec = 5000\nrpc_bind_addr = "127.0.0.1:{rpc}"\n'
                f'rpc_public_addr = "127.0.0.1:{rpc}"\nrpc_secret = "{secret}"\n'
                f'[s3_api]\ns3_region = "garage"\napi_bind_addr = "127.0.0.1:{s3}"\n'
                f'root_domain = ".s3.garage.localhost"\n[admin]\napi_bind_addr = "127.0.0.1:{admin}"\n')
            proc = subprocess.Popen([str(GARAGE), "-c", str(config), "server"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, "RUST_LOG": "garage=warn"})
            bench.wait_port(s3, proc)
            self.nodes.append((config, s3, proc))
        ids = [self.cli(i, "node", "id", "-q", retry=True).strip() for i in range(3)]
        for node_id in ids[1:]:
            self.cli(0, "node", "connect", node_id, retry=True)
        peers = "bootstrap_peers = [" + ", ".join(f'"{i}"' for i in ids) + "]\n"
        for config, _, _ in self.nodes:
            config.write_text(peers + config.read_text())
        for i, node_id in enumerate(ids):
            self.cli(0, "layout", "assign", "-z", f"dc{i}", "-c", "10G", node_id.split("@")[0])
        self.cli(0, "layout", "apply", "--version", "1")
        self.cli(0, "bucket", "create", "sealdrop", retry=True)
        self.cli(0, "key", "import", "--yes", "-n", "sealdrop", KEY_ID, SECRET)
        self.cli(0, "bucket", "allow", "--read", "--write", "--owner", "sealdrop", "--key", KEY_ID)

    def cli(self, i, *args, retry=False):
        deadline = time.monotonic() + 60
        while True:
            out = subprocess.run([str(GARAGE), "-c", str(self.nodes[i][0]), *args],
                                 capture_output=True, text=True)
            if out.returncode == 0:
                return out.stdout
            if not retry or time.monotonic() > deadline:
                raise RuntimeError(f"garage {' '.join(args)}: {out.stderr}")
            time.sleep(0.3)

    def env(self, i):
        return {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.nodes[i][1]}", "AWS_REGION": "garage",
                "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}

    def cpu_ticks(self):
        return sum(bench.cpu_ticks(proc.pid) for _, _, proc in self.nodes)

    def stop(self):
        for _, _, proc in self.nodes:
            proc.kill()
            proc.wait()


class Front:
    def __init__(self, recipients, store, env=None, name="front"):
        self.spool = WORK / f"spool-{name}-{time.monotonic_ns()}"
        self.spool.mkdir(mode=0o700, parents=True)
        self.port = bench.free_port()
        args = [str(bench.RELEASE / "sealdrop"), "serve", "--recipients", str(recipients),
                "--listen", f"127.0.0.1:{self.port}", "--min-free-disk", "1MiB",
                "--max-upload-size", "2GiB", "--replies", "false"]
        if store is None:
            args += ["--store", str(self.spool)]
        else:
            args += ["--store", store, "--spool", str(self.spool)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "RUST_LOG": "warn", **(env or {})})
        bench.wait_port(self.port, self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=90)
        shutil.rmtree(self.spool, ignore_errors=True)


def run_variant(fronts, file_path, uploads, parallel, garage=None):
    """Uploads round-robin over fronts, `parallel` at a time; returns figures."""
    bench.settle()
    before = {f.proc.pid: bench.cpu_ticks(f.proc.pid) for f in fronts}
    garage_before = garage.cpu_ticks() if garage else 0
    statuses = []
    lock = threading.Lock()
    next_index = [0]

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= uploads:
                return
            status, _ = bench.upload(fronts[i % len(fronts)].port, "/submit", file_path, "attachment")
            with lock:
                statuses.append(status)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    for f in fronts:
        bench.wait_idle(f.proc.pid)
    received = sum(statuses.count(s) for s in bench.RECEIVED)
    total = received * file_path.stat().st_size
    front_cpu = sum(bench.cpu_ticks(f.proc.pid) - before[f.proc.pid] for f in fronts) / TICK
    garage_cpu = (garage.cpu_ticks() - garage_before) / TICK if garage else 0.0
    return {
        "received": received, "wall": wall, "bytes": total,
        "mbps": total / wall / bench.MIB,
        "front_cpu_per_gib": front_cpu / (total / bench.GIB) if total else 0,
        "garage_cpu_per_gib": garage_cpu / (total / bench.GIB) if total else 0,
        "rss_mib": [bench.peak_rss_kib(f.proc.pid) / 1024 for f in fronts],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=24)
    parser.add_argument("--size-mib", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=6)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    bench.WORK.mkdir(parents=True, exist_ok=True)
    k = bench.keys()
    recipients = k["classic"][1]
    file_path = bench.make_file(WORK / f"input-{args.size_mib}m.bin", args.size_mib * bench.MIB)
    results = {}

    front = Front(recipients, None, name="local")
    results["local folder, 1 front"] = run_variant([front], file_path, args.uploads, args.parallel)
    front.stop()

    garage = Garage()
    try:
        front = Front(recipients, "s3://sealdrop/one", garage.env(0), name="one")
        results["Garage ×3 nodes, 1 front"] = run_variant([front], file_path, args.uploads, args.parallel, garage)
        front.stop()
        fronts = [Front(recipients, "s3://sealdrop/three", garage.env(i % 2), name=f"three{i}") for i in range(3)]
        results["Garage ×3 nodes, 3 fronts"] = run_variant(fronts, file_path, args.uploads, args.parallel, garage)
        for f in fronts:
            f.stop()
    finally:
        garage.stop()

    base = results["local folder, 1 front"]["mbps"]
    lines = [
        f"{args.uploads} uploads of {args.size_mib} MiB (random bytes), {args.parallel} at a time, "
        f"round-robin over the fronts; X25519 recipients; measured {time.strftime('%Y-%m-%d')} with "
        f"`bench/scaleout.py` on {os.cpu_count()} cores.",
        "",
        "| variant | received | wall | throughput | vs local folder | front CPU s/GiB | Garage CPU s/GiB | peak RSS per front |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rss = ", ".join(f"{m:.0f} MiB" for m in r["rss_mib"])
        lines.append(
            f"| {name} | {r['received']}/{args.uploads} | {r['wall']:.2f} s | {r['mbps']:.0f} MiB/s | "
            f"{r['mbps'] / base:.2f}× | {r['front_cpu_per_gib']:.2f} | {r['garage_cpu_per_gib']:.2f} | {rss} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        bench.write_section("scaleout", table)
        print("wrote docs/BENCHMARKS.md")


if __name__ == "__main__":
    main()
