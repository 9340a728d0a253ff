#!/usr/bin/env python3
"""What keeping sources out costs: each cheap attack on the door, run against
the server at a scaled-down size, before and after issue 31, with sources
trying to get in all along.

    cargo build --bins                       # the "after" binary
    python3 bench/attacks.py --after target/debug/sealdrop \\
        [--before target/bench-before/sealdrop] [--seconds 30] [--write]

A "source" submits a short message every half second (a fresh connection,
5 s to answer); the figure is the share of those that were received, and
how long the received ones took. The attack runs from before the first
source until after the last.

Every attack has a price: what the attacker must send, in bytes per second
and new connections per second. Measured here at the scaled size (8 upload
slots, 32 connections, a 10 s window); the price at the default settings
(1024 slots, 2048 connections, 2-minute windows, 20 s header timeout) is the
same attack scaled by slots or connections, computed in the table from the
rule each attack meets (docs/BENCHMARKS.md explains each line). Availability
is not a timing: a debug build measures it as well as a release build.

--write replaces the section between the attacks markers in
docs/BENCHMARKS.md.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the shared helpers)

ROOT = bench.ROOT
SLOTS, CONNECTIONS, WINDOW = 8, 32, 10
DEFAULT_SLOTS, DEFAULT_CONNECTIONS, DEFAULT_WINDOW = 1024, 2048, 120
PROBATION = 2
HEADER_GRACE = 2
BOUNDARY = "attackbenchboundary"


def age_key():
    out = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True)
    return next(l.split(": ")[1] for l in out.stderr.splitlines() + out.stdout.splitlines()
                if l.startswith("# public key:"))


class Server:
    def __init__(self, binary, extra):
        self.dir = tempfile.TemporaryDirectory()
        d = Path(self.dir.name)
        store = d / "store"
        store.mkdir(mode=0o700)
        (d / "r.txt").write_text(age_key() + "\n")
        self.proc = subprocess.Popen(
            [binary, "serve", "--recipients", str(d / "r.txt"), "--store", str(store),
             "--listen", "127.0.0.1:0", "--min-free-disk", "1MiB",
             "--max-concurrent-uploads", str(SLOTS), "--max-connections", str(CONNECTIONS),
             "--body-idle-timeout", f"{WINDOW}s", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.proc.stdout:
            m = re.search(r"serving on (\S+?):(\d+)", line)
            if m:
                self.port = int(m.group(2))
                break
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.store = store

    def stored_bytes(self):
        return sum(p.stat().st_size for p in self.store.glob("*.age"))

    def stop(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.dir.cleanup()


def multipart(fields):
    body = b""
    for name, filename, data in fields:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def head(length=None, chunked=False, content_type=None):
    ct = content_type or f"multipart/form-data; boundary={BOUNDARY}"
    h = f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\n"
    h += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {length}\r\n"
    return (h + "\r\n").encode()


def status_of(sock, timeout):
    sock.settimeout(timeout)
    raw = b""
    try:
        while b"\r\n" not in raw:
            chunk = sock.recv(4096)
            if not chunk:
                break
            raw += chunk
    except OSError:
        return 0
    m = re.match(rb"HTTP/1.1 (\d+)", raw)
    return int(m.group(1)) if m else 0


class Sources:
    """A source every half second, for as long as the attack runs."""

    def __init__(self, port):
        self.port, self.results, self.stop = port, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        body = multipart([("message", None, b"a source trying to get in")])
        request = head(len(body)) + body
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.sendall(request)
                    status = status_of(s, 5)
            except OSError:
                status = 0
            self.results.append((status, time.monotonic() - started))
            time.sleep(max(0, 0.5 - (time.monotonic() - started)))

    def summary(self):
        ok = [t for s, t in self.results if s == 200]
        share = len(ok) / max(1, len(self.results))
        waits = sorted(ok)
        median = waits[len(waits) // 2] if waits else None
        return share, median


class Attack:
    """Threads that keep an attack up and count what it sends."""

    def __init__(self):
        self.stop, self.sent, self.connects, self.lock = threading.Event(), 0, 0, threading.Lock()
        self.threads = []

    def count(self, sent=0, connects=0):
        with self.lock:
            self.sent += sent
            self.connects += connects

    def spawn(self, target, *args):
        t = threading.Thread(target=target, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def connect(self, port):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.count(connects=1)
        return s

    def send(self, s, data):
        s.sendall(data)
        self.count(sent=len(data))


def trickled_refusals(attack, port, every):
    """Every connection a refused request trickling a byte every `every` s
    (within the silence limit):
    half not multipart (chunked), half multipart declaring 900 MB."""
    def one(i):
        while not attack.stop.is_set():
            try:
                s = attack.connect(port)
                if i % 2:
                    attack.send(s, head(chunked=True, content_type="text/plain") + b"1000\r\nx")
                else:
                    attack.send(s, head(900_000_000) + f"--{BOUNDARY}\r\n".encode())
                while not attack.stop.wait(every):
                    attack.send(s, b"x")
            except OSError:
                attack.stop.wait(0.2)
    for i in range(CONNECTIONS):
        attack.spawn(one, i)


def header_squatters(attack, port, period, together=False):
    """As many uploads as slots that send headers and nothing else, each
    renewed every `period` s: staggered over the period, or all at once."""
    def one(i):
        if not together:
            attack.stop.wait(period * i / SLOTS)
        while not attack.stop.is_set():
            cycle = time.monotonic()
            s = None
            try:
                s = attack.connect(port)
                attack.send(s, head(4 << 20))
            except OSError:
                pass
            attack.stop.wait(max(0, period - 0.1 - (time.monotonic() - cycle)))
            # Closed a moment before the next one connects, so that the
            # server has let go of the slot (a new connection's headers can
            # overtake the old one's close, and would find no slot).
            if s is not None:
                s.close()
            attack.stop.wait(0.1)
    for i in range(SLOTS):
        attack.spawn(one, i)


def slow_squatters(attack, port, rate):
    """As many uploads as slots, each sending `rate` bytes a second for as
    long as it keeps its slot, then again."""
    def one():
        while not attack.stop.is_set():
            try:
                s = attack.connect(port)
                attack.send(s, head(400 << 20) + f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"x\"\r\n\r\n".encode())
                piece = max(1, rate // 4)
                with s:
                    while not attack.stop.wait(0.25):
                        attack.send(s, b"x" * piece)
            except OSError:
                attack.stop.wait(0.2)
    for _ in range(SLOTS):
        attack.spawn(one)


def run(binary, attack_fn, seconds, extra=()):
    server = Server(binary, list(extra))
    attack = Attack()
    attack_fn(attack, server.port)
    time.sleep(min(WINDOW + 1, seconds / 2))
    sources = Sources(server.port)
    sent0, connects0, t0 = attack.sent, attack.connects, time.monotonic()
    sources.thread.start()
    time.sleep(seconds)
    sources.stop.set()
    sources.thread.join()
    elapsed = time.monotonic() - t0
    rate = (attack.sent - sent0) / elapsed
    conn_rate = (attack.connects - connects0) / elapsed
    attack.stop.set()
    server.stop()
    share, median = sources.summary()
    return share, median, rate, conn_rate


def quota_overshoot(binary):
    """Four uploads of 8 MiB started together under a 20 MiB quota: how much
    the store holds afterwards."""
    server = Server(binary, ["--store-quota", "20MiB"])
    body = multipart([("attachment", "big.bin", os.urandom(8 << 20))])
    statuses = []

    def one():
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
                s.sendall(head(len(body)))
                for i in range(0, len(body), 64 << 10):
                    s.sendall(body[i:i + (64 << 10)])
                    time.sleep(0.015)
                statuses.append(status_of(s, 30))
        except OSError:
            statuses.append(0)
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = server.stored_bytes()
    server.stop()
    return sorted(statuses), stored


SCENARIOS = [
    # name, the attack; what it costs at the default settings follows from the
    # rule it meets (docs/BENCHMARKS.md, SECURITY.md's table)
    ("Trickled refusals (every connection, a byte every half window)",
     lambda a, p: trickled_refusals(a, p, WINDOW / 2)),
    ("Header-only squatters, each renewed every 9 s (staggered, within the window)",
     lambda a, p: header_squatters(a, p, 9.0)),
    ("Header-only squatters, each renewed every 5 s (staggered)",
     lambda a, p: header_squatters(a, p, 5.0)),
    ("Header-only squatters, all renewed together every 1.5 s (inside the probation)",
     lambda a, p: header_squatters(a, p, 1.5, together=True)),
    ("Slow squatters at 8 KiB/s each",
     lambda a, p: slow_squatters(a, p, 8 << 10)),
    ("Slow squatters at 20 KiB/s each (above the 16 KiB/s floor)",
     lambda a, p: slow_squatters(a, p, 20 << 10)),
]


def fmt_share(result):
    if result is None:
        return "–"
    share, median, rate, conns = result
    wait = f", median {median:.2f} s" if median is not None else ""
    return f"{share:.0%}{wait}"


def fmt_price(result):
    if result is None:
        return "–"
    _, _, rate, conns = result
    sent = f"{rate / 1024:.1f} KiB/s" if rate >= 1024 else f"{rate:.0f} B/s"
    return f"{sent}, {conns:.1f} conn/s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--after", required=True)
    ap.add_argument("--before")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = []
    for name, fn in SCENARIOS:
        before = run(args.before, fn, args.seconds) if args.before else None
        after = run(args.after, fn, args.seconds)
        rows.append((name, before, after))
        print(f"{name}: before {fmt_share(before)} at {fmt_price(before)}; "
              f"after {fmt_share(after)} at {fmt_price(after)}", flush=True)
    quota_before = quota_overshoot(args.before) if args.before else None
    quota_after = quota_overshoot(args.after)
    print(f"quota: before {quota_before}, after {quota_after}", flush=True)
    lines = [
        "| attack (8 slots, 32 connections, 10 s window) | sources received before | after | attacker sent (after) |",
        "|---|---|---|---|",
    ]
    for name, before, after in rows:
        lines.append(f"| {name} | {fmt_share(before)} | {fmt_share(after)} | {fmt_price(after)} |")
    def q(r):
        if r is None:
            return "–"
        statuses, stored = r
        return f"answers {statuses}, {stored / (1 << 20):.1f} MiB stored"
    lines.append(f"| Four 8 MiB uploads at once under a 20 MiB quota | {q(quota_before)} | {q(quota_after)} | – |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        bench.write_section("attacks", table)
        print("wrote docs/BENCHMARKS.md")


if __name__ == "__main__":
    sys.exit(main())
