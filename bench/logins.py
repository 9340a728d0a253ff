#!/usr/bin/env python3
"""Logins under a flood (issue 32): how many logins a second the server
answers, what one costs it, and whether a source with 300 replies waiting
reads her page while four clients log in back to back with random
well-formed codenames; before and after the redesign of the replies path.

    cargo build --bins                       # the "after" binary
    python3 bench/logins.py --after target/debug/sealdrop \\
        [--before target/bench-before/sealdrop] [--seconds 10] [--write]

The store holds 1,000 replies for other codenames and 300 for the source
(`cargo bench --bench reply_pool`; for a server from before reply files
version 2, the same files without their preamble, as it reads them). Both
binaries must be of the same profile: the figures are compared with each
other, in the same run, not with a release build elsewhere.

--write replaces the section between the logins markers in
docs/BENCHMARKS.md.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the shared helpers)

ROOT = bench.ROOT
OTHERS, HERS, FLOODERS = 1000, 300, 4


def age_key():
    out = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True)
    return next(l.split(": ")[1] for l in out.stderr.splitlines() + out.stdout.splitlines()
                if l.startswith("# public key:"))


def pool(replies, count, *flags):
    out = subprocess.run(["cargo", "bench", "--locked", "--bench", "reply_pool", "--",
                          str(replies), str(count), "classic", *flags],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


class Server:
    def __init__(self, binary, bare):
        self.dir = tempfile.TemporaryDirectory()
        d = Path(self.dir.name)
        store = d / "store"
        store.mkdir(mode=0o700)
        replies = store / "replies"
        replies.mkdir(mode=0o700)
        flags = ["bare"] if bare else []
        pool(replies, OTHERS, *flags)
        self.codename = pool(replies, HERS, "one", *flags)
        (d / "r.txt").write_text(age_key() + "\n")
        self.proc = subprocess.Popen(
            [binary, "serve", "--recipients", str(d / "r.txt"), "--store", str(store),
             "--listen", "127.0.0.1:0", "--min-free-disk", "1MiB"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.proc.stdout:
            m = re.search(r"serving on (\S+?):(\d+)", line)
            if m:
                self.port = int(m.group(2))
                break
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.dir.cleanup()


def login(port, codename, timeout=30):
    """(status, seconds, the whole answer)."""
    return bench.login_exchange(port, codename, timeout)


def back_to_back(port, seconds, stop=None):
    """Random logins one after the other; (answered, busy)."""
    answered = busy = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (stop and stop.is_set()):
        status, _, _ = login(port, bench.valid_codename())
        answered += status == 200
        busy += status == 503
    return answered, busy


def measure(label, binary, bare, seconds):
    server = Server(binary, bare)
    try:
        login(server.port, bench.valid_codename())  # warm the page cache
        cpu = server.cpu_seconds()
        answered, busy = back_to_back(server.port, seconds)
        cpu = server.cpu_seconds() - cpu
        capacity = answered / seconds
        # The flood, and the source trying every half second all along.
        stop = threading.Event()
        counts = []
        flood = [threading.Thread(target=lambda: counts.append(back_to_back(server.port, 3600, stop)))
                 for _ in range(FLOODERS)]
        for t in flood:
            t.start()
        time.sleep(1)
        tries = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            status, took, data = login(server.port, server.codename)
            tries.append((status == 200 and b"reply" in data, took))
            time.sleep(max(0, 0.5 - took))
        stop.set()
        for t in flood:
            t.join()
        flood_answered = sum(a for a, _ in counts)
        flood_busy = sum(b for _, b in counts)
        served = [took for ok, took in tries if ok]
        served.sort()
        return {
            "label": label,
            "capacity": capacity,
            "cpu_per_login": cpu / max(1, answered),
            "busy_alone": busy,
            "flood_rate": (flood_answered + flood_busy) / (seconds + 1),
            "flood_busy_share": flood_busy / max(1, flood_answered + flood_busy),
            "source_served": len(served) / max(1, len(tries)),
            "source_wait": served[len(served) // 2] if served else None,
            "rss": server.peak_rss_mib(),
        }
    finally:
        server.stop()


def table(rows, seconds):
    out = [
        "| server | logins/s, one client back to back | server CPU per login | under the flood: "
        "attacker's logins/s | of them busy (503) | source's tries that showed her replies | "
        "her median wait | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        wait = f"{r['source_wait'] * 1000:.0f} ms" if r["source_wait"] is not None else "never"
        out.append(f"| {r['label']} | {r['capacity']:.0f} | {r['cpu_per_login'] * 1000:.1f} ms | "
                   f"{r['flood_rate']:.0f} | {r['flood_busy_share']:.0%} | {r['source_served']:.0%} | "
                   f"{wait} | {r['rss']:.1f} MiB |")
    if len(rows) == 2:
        before, after = rows
        out.append("")
        out.append(f"After / before: {after['capacity'] / max(before['capacity'], 1e-9):.1f}× the logins a "
                   f"second, {after['cpu_per_login'] / max(before['cpu_per_login'], 1e-9):.2f}× the CPU "
                   f"per login.")
    out.append("")
    out.append(
        f"Each row: a fresh server whose store holds {OTHERS:,} replies for other codenames and "
        f"{HERS} for the source; {seconds} s of one client logging in back to back with random "
        f"well-formed codenames (its rate is what the server can answer: the logins a second an "
        f"attacker must exceed to make anyone wait), then {FLOODERS} such clients for {seconds} s "
        "while the source logs in every half second (a try counts when the page shows her "
        "replies). Before, every login costs a key agreement per waiting reply and the logins "
        "beyond half the cores get the busy page at once; after, one HMAC per waiting reply and "
        "four openings, with 64 logins queued: to refuse her outright an attacker must keep 65 "
        "logins waiting at every moment, and to delay her must send more logins a second than "
        "the first column, her wait then being at most 64 logins' time.")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--after", required=True)
    parser.add_argument("--before")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    if args.before:
        rows.append(measure("before (version-1 replies, no queue)", args.before, True, args.seconds))
    rows.append(measure("after (tags, index in memory, queue)", args.after, False, args.seconds))
    text = table(rows, args.seconds)
    print(text)
    if args.write:
        bench.write_section("logins", text)


if __name__ == "__main__":
    main()
