#!/usr/bin/env python3
"""sealdrop benchmarks, each against a baseline measured in the same run.

Run through bench/run.sh, which installs the baselines (Debian's age, wrk,
nginx; OnionShare from PyPI in a throwaway virtualenv) and builds the release
binaries. Prints a Markdown report; --write also replaces docs/BENCHMARKS.md's
results and the plot docs/benchmarks/seal-time.png.

Every upload goes through one small HTTP client (below): sendfile() of the
request body from the page cache over loopback TCP, timed from connect to the
status line, so sealdrop and OnionShare see the same client. Peak RSS is
VmHWM of a server started fresh for each measurement.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"  # --bin-dir replaces it
WORK = ROOT / "target" / "bench-work"
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
# "Received": the page with the source's codename (200; replies are on by
# default), or the redirect a server with replies off answers (303).
RECEIVED = (200, 303)


def human(n):
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {proc.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def peak_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def cpu_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid, quiet=0.3, timeout=60):
    """Waits until the process has used no CPU for `quiet` seconds, so that
    work it does after answering (hashing the ciphertext for pickup) is not
    billed to the next measurement."""
    deadline = time.monotonic() + timeout
    last, since = cpu_ticks(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = cpu_ticks(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def settle():
    """Writes out dirty pages left by earlier runs, so that no measurement pays
    for another's writeback."""
    os.sync()


def median(values):
    return statistics.median(values)


def spread(values):
    """'median s (min–max)' for a table cell."""
    return f"{median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


# ---------------------------------------------------------------- the client

BOUNDARY = "sealdropbenchboundary7f3a9c"


def multipart_parts(field, filename):
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail


def upload(port, path, file_path, field):
    """POSTs file_path as one multipart file field; returns (status, seconds)."""
    size = os.path.getsize(file_path)
    head, tail = multipart_parts(field, "upload.bin")
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(head) + size + len(tail)}\r\nConnection: close\r\n\r\n"
    ).encode()
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock, open(file_path, "rb") as f:
        try:
            sock.sendall(request + head)
            if size:
                sock.sendfile(f)
            sock.sendall(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (e.g. 413) and closed; read its answer
        response = b""
        try:
            while b"\r\n" not in response:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                response += chunk
        except ConnectionResetError:
            pass
    elapsed = time.monotonic() - start
    match = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return (int(match.group(1)) if match else 0), elapsed


def concurrent_uploads(port, path, file_path, field, count):
    """count uploads at once; returns (statuses, wall seconds)."""
    results = [None] * count
    barrier = threading.Barrier(count + 1)

    def one(i):
        barrier.wait()
        results[i] = upload(port, path, file_path, field)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    start = time.monotonic()
    barrier.wait()
    for t in threads:
        t.join()
    return [r[0] for r in results], time.monotonic() - start


# ----------------------------------------------------------- the programs

LIVE_SERVERS = set()


def wait_all_idle():
    """Every running server may still hash an earlier upload's ciphertext."""
    for pid in list(LIVE_SERVERS):
        wait_idle(pid)


class Sealdrop:
    """A fresh `sealdrop serve` on loopback with its own empty store."""

    def __init__(self, recipients, extra=(), store_parent=None):
        self.store = (store_parent or WORK) / f"store-{time.monotonic_ns()}"
        self.store.mkdir(mode=0o700)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(RELEASE / "sealdrop"), "serve", "--recipients", str(recipients),
             "--store", str(self.store), "--listen", f"127.0.0.1:{self.port}",
             "--min-free-disk", "1MiB", "--max-upload-size", "2GiB", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "warn"},
        )
        wait_port(self.port, self.proc)
        LIVE_SERVERS.add(self.proc.pid)

    def submit(self, file_path):
        wait_all_idle()
        settle()
        status, seconds = upload(self.port, "/submit", file_path, "attachment")
        if status not in RECEIVED:
            raise RuntimeError(f"sealdrop answered {status}")
        return seconds

    def sealed(self):
        return sorted(self.store.glob("*.age"))

    def clear(self):
        for f in self.sealed():
            f.unlink()

    def rss_kib(self):
        return peak_rss_kib(self.proc.pid)

    def stop(self):
        LIVE_SERVERS.discard(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.store, ignore_errors=True)


class OnionShare:
    """`onionshare-cli --receive --local-only`: plaintext to disk, no encryption."""

    def __init__(self, venv):
        self.data = WORK / f"onionshare-{time.monotonic_ns()}"
        self.data.mkdir()
        self.proc = subprocess.Popen(
            [str(venv / "bin" / "onionshare-cli"), "--receive", "--local-only",
             "--data-dir", str(self.data)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.port = None
        deadline = time.monotonic() + 60
        while self.port is None and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
        if self.port is None:
            raise RuntimeError("onionshare-cli did not print its address")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        wait_port(self.port, self.proc)

    def submit(self, file_path):
        wait_all_idle()
        wait_idle(self.proc.pid)
        settle()
        status, seconds = upload(self.port, "/upload", file_path, "file[]")
        return status, seconds

    def clear(self):
        for d in self.data.iterdir():
            shutil.rmtree(d, ignore_errors=True)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data, ignore_errors=True)


def timed(cmd, prepare=True, **kwargs):
    """Runs cmd after letting the machine settle (unless the caller did);
    returns (seconds, peak RSS KiB of that child, its CPU seconds)."""
    if prepare:
        wait_all_idle()
        settle()
    elapsed, cpu, peak_kib, code, stderr = measured(cmd, **kwargs)
    if code != 0:
        raise RuntimeError(f"{cmd} failed: {stderr.decode()}")
    return elapsed, peak_kib, cpu


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def age_encrypt(recipients, src, dst, durable=False):
    wait_all_idle()
    settle()
    start = time.monotonic()
    timed(["age", "-e", "-R", str(recipients), "-o", str(dst), str(src)], prepare=False)
    if durable:
        fsync_path(dst)
        fsync_path(Path(dst).parent)
    elapsed = time.monotonic() - start
    os.unlink(dst)
    return elapsed


# -------------------------------------------------------------- set-up

def make_file(path, size):
    if path.exists() and path.stat().st_size == size:
        return path
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 16 * MIB)
            f.write(os.urandom(n))
            left -= n
    return path


def keys():
    classic_identity = WORK / "classic.key"
    pq_identity = WORK / "pq.key"
    for p in (classic_identity, pq_identity):
        if p.exists():
            p.unlink()
    out = subprocess.run([str(RELEASE / "sealdrop-open"), "keygen", "-o", str(classic_identity)],
                         capture_output=True, text=True, check=True).stdout.strip()
    (WORK / "classic.recipients").write_text(out + "\n")
    out = subprocess.run([str(RELEASE / "sealdrop-open"), "keygen", "--pq", "-o", str(pq_identity)],
                         capture_output=True, text=True, check=True).stdout.strip()
    (WORK / "pq.recipients").write_text(out + "\n")
    return {
        "classic": (classic_identity, WORK / "classic.recipients"),
        "pq": (pq_identity, WORK / "pq.recipients"),
    }


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    df = subprocess.run(["df", "-hT", str(WORK)], capture_output=True, text=True).stdout.splitlines()[-1].split()
    age_version = subprocess.run(["age", "--version"], capture_output=True, text=True).stdout.strip()
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    sealdrop_version = subprocess.run([str(RELEASE / "sealdrop"), "--version"], capture_output=True,
                                      text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{int(mem) // 1024} MiB",
        "disk": f"{df[1]} on {df[0]}",
        "kernel": platform.release(),
        "sealdrop": f"{sealdrop_version} (commit {commit}, release build)",
        "age": age_version,
        "nginx": nginx_version,
        "wrk": wrk_version,
    }


# ----------------------------------------------------------- benchmarks

class Report:
    def __init__(self):
        self.sections = []
        self.data = {}

    def table(self, title, header, rows, note=None):
        lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
                 "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        if note:
            lines += ["", note]
        self.sections.append("\n".join(lines))
        print("\n" + self.sections[-1] + "\n", flush=True)


def ratio(baseline_seconds, seconds):
    """Throughput relative to the baseline: > 1 means faster than it."""
    return f"{baseline_seconds / seconds:.2f}×"


def mbps(size, seconds):
    rate = size / seconds / 1e6
    return f"{rate:.0f} MB/s" if rate >= 10 else f"{rate:.2g} MB/s"


def tmpfs_dir():
    """A private folder on tmpfs, to measure without the disk; None if absent."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return None
    d = shm / f"sealdrop-bench-{os.getpid()}"
    d.mkdir(mode=0o700, exist_ok=True)
    return d


def bench_ingest(report, k, files, runs):
    rows = []
    shm = tmpfs_dir()
    for name in ("64m", "1g"):
        path = files[name]
        size = path.stat().st_size
        n = runs
        servers = {"classic": Sealdrop(k["classic"][1]), "pq": Sealdrop(k["pq"][1])}
        if shm:
            servers["tmpfs"] = Sealdrop(k["classic"][1], store_parent=shm)
        times = {key: [] for key in ("age", "age_fsync", "age_tmpfs", *servers)}
        # Interleaved, so that drift in the machine's speed hits every variant alike.
        for _ in range(n):
            times["age"].append(age_encrypt(k["classic"][1], path, WORK / "age.out"))
            times["age_fsync"].append(age_encrypt(k["classic"][1], path, WORK / "age.out", durable=True))
            if shm:
                times["age_tmpfs"].append(age_encrypt(k["classic"][1], path, shm / "age.out"))
            for key, server in servers.items():
                times[key].append(server.submit(path))
                server.clear()
        for server in servers.values():
            server.stop()
        m = {key: median(v) for key, v in times.items() if v}
        rows.append([human(size), "stock `age -e` (baseline)", spread(times["age"]), mbps(size, m["age"]),
                     "1.00×", ratio(m["age_fsync"], m["age"])])
        rows.append([human(size), "stock `age -e`, then fsync (durable baseline)", spread(times["age_fsync"]),
                     mbps(size, m["age_fsync"]), ratio(m["age"], m["age_fsync"]), "1.00×"])
        for key, label in (("classic", "sealdrop, X25519"), ("pq", "sealdrop, post-quantum")):
            rows.append([human(size), f"**{label}**: upload until \"received\"", spread(times[key]),
                         mbps(size, m[key]), ratio(m["age"], m[key]), ratio(m["age_fsync"], m[key])])
        if shm:
            rows.append([human(size), "on tmpfs (no disk): stock `age -e`", spread(times["age_tmpfs"]),
                         mbps(size, m["age_tmpfs"]), "", ""])
            rows.append([human(size), "on tmpfs (no disk): sealdrop, X25519", spread(times["tmpfs"]),
                         mbps(size, m["tmpfs"]), f"{m['age_tmpfs'] / m['tmpfs']:.2f}× of age on tmpfs", ""])
        report.data.setdefault("ingest", {})[name] = m
    if shm:
        shutil.rmtree(shm, ignore_errors=True)
    report.table(
        "1. Ingest throughput (target: sealdrop ≥ 0.9× stock age)",
        ["size", "what", f"median (min–max) of {runs}", "throughput",
         "vs age -e", "vs age -e + fsync"],
        rows,
        "sealdrop's time covers the whole HTTP upload over loopback (same client for every "
        "server), multipart parsing, SHA-256 of the plaintext, ZIP framing, Padmé padding, age "
        "encryption, and fsync of file and folder before the answer (the received page with a codename); the ciphertext's "
        "SHA-256 (for pickup) is computed after the answer and waited for before the next run. "
        "`age -e` reads a file and writes one without fsync; the durable baseline adds the "
        "fsync of file and folder that sealdrop must do before saying \"received\". The tmpfs "
        "rows take the disk out and leave only CPU and memory.")


def bench_peer(report, k, files, venv, runs):
    rows = []
    for name in ("64m", "1000m", "1g"):
        path = files[name]
        size = path.stat().st_size
        n = runs if size < 512 * MIB else max(3, runs // 2)
        share = OnionShare(venv)
        os_times, os_status = [], None
        for _ in range(n):
            status, seconds = share.submit(path)
            share.clear()
            if status not in (200, 302):
                os_status = status
                break
            os_times.append(seconds)
        share.stop()
        server = Sealdrop(k["classic"][1])
        sd_times = []
        for _ in range(n):
            sd_times.append(server.submit(path))
            server.clear()
        server.stop()
        sd = median(sd_times)
        if os_status:
            rows.append([human(size), f"refused: HTTP {os_status}", "—",
                         f"{sd:.2f} s ({mbps(size, sd)})", "—"])
        else:
            osm = median(os_times)
            rows.append([human(size), f"{osm:.2f} s", mbps(size, osm),
                         f"{sd:.2f} s ({mbps(size, sd)})", ratio(osm, sd)])
        report.data.setdefault("peer", {})[name] = {
            "onionshare": None if os_status else median(os_times), "sealdrop": sd}
    report.table(
        "2. Against OnionShare's receive mode (target: sealdrop faster while encrypting)",
        ["size", "OnionShare 2.7 (plaintext, no fsync)", "throughput", "sealdrop X25519", "sealdrop vs OnionShare"],
        rows,
        "`onionshare-cli --receive --local-only`, same client and file. OnionShare serves "
        "through waitress, whose default request cap (1 GiB) refuses a 1 GiB upload outright; "
        "the 1000 MiB row compares the largest size both accept.")


def bench_memory(report, k, files):
    rows = []
    for kind in ("classic", "pq"):
        for name in ("1k", "64m", "1g"):
            server = Sealdrop(k[kind][1])
            server.submit(files[name])
            rows.append([kind if kind == "pq" else "X25519", f"one upload of {human(files[name].stat().st_size)}",
                         f"{server.rss_kib() / 1024:.1f} MiB", "≤ 32 MiB"])
            report.data.setdefault("rss", {})[f"{kind}-{name}"] = server.rss_kib()
            server.stop()
    server = Sealdrop(k["classic"][1], ["--max-concurrent-uploads", "64"])
    statuses, _ = concurrent_uploads(server.port, "/submit", files["16m"], "attachment", 64)
    assert sum(statuses.count(s) for s in RECEIVED) == 64, statuses
    rss = server.rss_kib()
    report.data["rss"]["64x16m"] = rss
    server.stop()
    rows.append(["X25519", "64 concurrent uploads of 16 MiB", f"{rss / 1024:.1f} MiB", "≤ 128 MiB"])
    report.table("3. Server peak RSS (VmHWM of a fresh server)", ["keys", "load", "peak RSS", "target"], rows,
                 "The same server needs the same memory for 1 KiB and for 1 GiB: memory does not "
                 "grow with upload size. Section 6 gives RSS by concurrency.")


def bench_open(report, k, files, runs, before=None):
    """Section 4; with `before` (a folder holding another build's
    sealdrop-open), that build opens the same file in every round too."""
    rows = []
    for kind in ("classic", "pq"):
        server = Sealdrop(k[kind][1])
        server.submit(files["1g"])
        sealed = server.sealed()[0]
        kept = WORK / f"sealed-{kind}.age"
        shutil.copyfile(sealed, kept)
        server.stop()
        open_times, open_rss, age_times = [], 0, []
        before_times, before_rss = [], 0
        open_cpu, before_cpu, age_cpu = [], [], []
        n = runs
        for _ in range(n):
            out = WORK / "opened"
            shutil.rmtree(out, ignore_errors=True)
            seconds, rss, cpu = timed([str(RELEASE / "sealdrop-open"), "decrypt", "-i", str(k[kind][0]),
                                       "-o", str(out), str(kept)])
            open_times.append(seconds)
            open_cpu.append(cpu)
            open_rss = max(open_rss, rss)
            shutil.rmtree(out)
            if before is not None:
                seconds, rss, cpu = timed([str(before / "sealdrop-open"), "decrypt", "-i", str(k[kind][0]),
                                           "-o", str(out), str(kept)])
                before_times.append(seconds)
                before_cpu.append(cpu)
                before_rss = max(before_rss, rss)
                shutil.rmtree(out)
            if kind == "classic":
                seconds, _, cpu = timed(["age", "-d", "-i", str(k[kind][0]), "-o", str(WORK / "age.zip"), str(kept)])
                age_times.append(seconds)
                age_cpu.append(cpu)
                os.unlink(WORK / "age.zip")
        kept.unlink()
        report.data.setdefault("open", {})[kind] = median(open_times)
        cpu_per_gib = lambda xs: f"{median(xs):.2f} s"
        if kind == "classic":
            report.data["open"]["age"] = median(age_times)
            report.data["open"]["age_cpu"] = median(age_cpu)
            rows.append(["stock `age -d` → .zip (baseline)", spread(age_times),
                         mbps(GIB, median(age_times)), "1.00×", cpu_per_gib(age_cpu), ""])
        base = report.data["open"]["age"]
        label = "X25519" if kind == "classic" else "post-quantum"
        rows.append([f"`sealdrop-open decrypt` ({label}): decrypt, unpack, verify SHA-256",
                     spread(open_times), mbps(GIB, median(open_times)),
                     ratio(base, median(open_times)), cpu_per_gib(open_cpu),
                     f"{open_rss / 1024:.0f} MiB"])
        if before is not None:
            rows.append([f"the same, build in `{before}` ({label})",
                         spread(before_times), mbps(GIB, median(before_times)),
                         ratio(base, median(before_times)), cpu_per_gib(before_cpu),
                         f"{before_rss / 1024:.0f} MiB"])
    report.table("4. Opening a 1 GiB submission (target ≥ 0.9× stock age -d)",
                 ["what", f"median (min–max) of {runs}", "throughput", "vs age -d",
                  "CPU (user + system, the sandbox helper included) per GiB", "peak RSS"], rows,
                 "`age -d` only decrypts to a ZIP file. `sealdrop-open` also checks the archive "
                 "against the manifest (in its sandbox helper), extracts every part, verifies its "
                 "size and SHA-256, and fsyncs before renaming the folder into place.")


def nginx_config(port, close_port, html_dir, headers):
    """nginx serving the same page with keep-alive on `port`, and closing each
    connection after one request, as sealdrop does, on `close_port`."""
    add = "\n".join(f'            add_header {name} "{value}" always;' for name, value in headers
                    if name not in ("content-type", "content-length", "date", "connection"))
    location = f"""
        location = / {{
            root {html_dir};
            try_files /index.html =404;
            default_type "text/html; charset=utf-8";
            types {{ }}
            etag off;
            if_modified_since off;
{add}
        }}"""
    return f"""
worker_processes {os.cpu_count()};
daemon off;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=16;
    client_body_temp_path {WORK}/nginx-tmp;
    proxy_temp_path {WORK}/nginx-tmp;
    fastcgi_temp_path {WORK}/nginx-tmp;
    uwsgi_temp_path {WORK}/nginx-tmp;
    scgi_temp_path {WORK}/nginx-tmp;
    server {{
        listen 127.0.0.1:{port};{location}
    }}
    server {{
        listen 127.0.0.1:{close_port};
        keepalive_timeout 0;{location}
    }}
}}
"""


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", url], capture_output=True,
                         text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def fetch(port, path):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    headers = [tuple(h.split(": ", 1)) for h in head.decode().split("\r\n")[1:]]
    return [(n.lower(), v) for n, v in headers], body


def bench_page(report, k, runs, seconds):
    server = Sealdrop(k["classic"][1])
    headers, body = fetch(server.port, "/")
    _, css = fetch(server.port, "/static/style.css")
    html_dir = WORK / "www"
    html_dir.mkdir(exist_ok=True)
    (html_dir / "index.html").write_bytes(body)
    (WORK / "nginx-tmp").mkdir(exist_ok=True)
    nginx_port, close_port = free_port(), free_port()
    conf = WORK / "nginx.conf"
    conf.write_text(nginx_config(nginx_port, close_port, html_dir, headers))
    nginx = subprocess.Popen(["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(nginx_port, nginx)
    wait_port(close_port, nginx)
    nginx_headers, nginx_body = fetch(nginx_port, "/")
    assert nginx_body == body
    sealdrop_rps, nginx_rps, close_rps = [], [], []
    for _ in range(runs):
        sealdrop_rps.append(wrk(f"http://127.0.0.1:{server.port}/", seconds))
        close_rps.append(wrk(f"http://127.0.0.1:{close_port}/", seconds))
        nginx_rps.append(wrk(f"http://127.0.0.1:{nginx_port}/", seconds))
    nginx.send_signal(signal.SIGQUIT)
    nginx.wait()
    rss = server.rss_kib()
    server.stop()
    s, n, c = median(sealdrop_rps), median(nginx_rps), median(close_rps)
    report.data["page"] = {"sealdrop": s, "nginx": n, "nginx_close": c, "html": len(body), "css": len(css)}
    ours = {h for h, _ in headers} - {"date", "connection"}
    theirs = {h for h, _ in nginx_headers} - {"date", "connection", "server", "last-modified",
                                              "accept-ranges"}
    same = ours == theirs
    report.table(
        "5. Serving the submission page (GET /)",
        ["server", f"requests/s, median of {runs} × {seconds} s", "vs nginx, one request per connection",
         "vs nginx with keep-alive"],
        [["nginx 1.22, same bytes and headers, closing after each request like sealdrop (baseline)",
          f"{c:,.0f}", "1.00×", f"{c / n:.2f}×"],
         ["nginx 1.22, same bytes and headers, keep-alive", f"{n:,.0f}", f"{n / c:.2f}×", "1.00×"],
         ["sealdrop (one request per connection: SECURITY.md, claim 18)", f"{s:,.0f}", f"{s / c:.2f}×",
          f"{s / n:.2f}×"]],
        f"`wrk -t2 -c64` on loopback, sharing the 2 cores with the server. Page weight: "
        f"{len(body):,} bytes of HTML + {len(css):,} bytes of CSS, no scripts, fonts or images. "
        f"nginx sends the same security headers{'' if same else ' (header sets differ slightly)'} "
        f"plus its own `Server`, `Last-Modified` and `Accept-Ranges`. sealdrop's peak RSS under this "
        f"load: {rss / 1024:.1f} MiB.")


def bench_scaling(report, k, files, sizes):
    rows = []
    for count in (1, 8, 64, 256):
        server = Sealdrop(k["classic"][1], ["--max-concurrent-uploads", str(count),
                                            "--max-connections", "1024"])
        statuses, wall = concurrent_uploads(server.port, "/submit", files["16m"], "attachment", count)
        ok = sum(statuses.count(s) for s in RECEIVED)
        rss = server.rss_kib()
        server.stop()
        total = ok * files["16m"].stat().st_size
        rows.append([count, f"{ok}/{count}", f"{wall:.2f} s", mbps(total, wall), f"{rss / 1024:.1f} MiB"])
        report.data.setdefault("scaling", {})[count] = {"wall": wall, "ok": ok, "rss": rss}
    report.table("6a. Concurrent uploads of 16 MiB each (X25519)",
                 ["concurrent", "received", "wall time", "aggregate throughput", "peak RSS"], rows,
                 "`--max-concurrent-uploads` raised to the concurrency; all uploads start together.")

    series = {"sealdrop X25519": [], "sealdrop post-quantum": [], "stock age -e": [],
              "stock age -e, then fsync": []}
    servers = {"sealdrop X25519": Sealdrop(k["classic"][1]), "sealdrop post-quantum": Sealdrop(k["pq"][1])}
    rows = []
    for name, size in sizes:
        path = files[name]
        n = 5 if size <= 64 * MIB else 3
        row = [human(size)]
        for label, server in servers.items():
            times = []
            for _ in range(n):
                times.append(server.submit(path))
                server.clear()
            series[label].append((size, median(times)))
            row.append(f"{median(times) * 1000:.1f} ms")
        for label, durable in (("stock age -e", False), ("stock age -e, then fsync", True)):
            age_time = median([age_encrypt(k["classic"][1], path, WORK / "age.out", durable=durable)
                               for _ in range(n)])
            series[label].append((size, age_time))
            row.append(f"{age_time * 1000:.1f} ms")
        rows.append(row)
    rss = {label: server.rss_kib() for label, server in servers.items()}
    for server in servers.values():
        server.stop()
    report.data["series"] = series
    report.table("6b. Seal time by upload size (median of 5; 3 above 64 MiB)",
                 ["size", "sealdrop X25519", "sealdrop post-quantum", "stock age -e", "age -e + fsync"], rows,
                 f"One server per key kind handled every size in turn; its peak RSS afterwards: "
                 f"X25519 {rss['sealdrop X25519'] / 1024:.1f} MiB, post-quantum "
                 f"{rss['sealdrop post-quantum'] / 1024:.1f} MiB. Plot: "
                 "![seal time by size](benchmarks/seal-time.png)")
    return series


# ------------------------------------------------- Tor-like sources (issue 17)

TOR_UPLOAD = 256 * KIB      # each source's upload
TOR_RATE = 32 * 1000        # bytes per second, Tor-like
TOR_PIECE = 4 * KIB         # in small writes
TOR_IDLE = 200              # idle connections alongside


async def tor_like_source(port, i, results):
    """One source: the request head at once, then the body in small writes at
    TOR_RATE; records (status, seconds from the last byte to the status line)."""
    import asyncio
    head, tail = multipart_parts("attachment", f"tor-{i}.bin")
    body = head + os.urandom(TOR_UPLOAD) + tail
    request = (
        f"POST /submit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        pause = TOR_PIECE / TOR_RATE
        for at in range(0, len(body), TOR_PIECE):
            writer.write(body[at:at + TOR_PIECE])
            await writer.drain()
            await asyncio.sleep(pause)
        last_byte = time.monotonic()
        line = await asyncio.wait_for(reader.readline(), 600)
        answered = time.monotonic() - last_byte
        writer.close()
        match = re.match(rb"HTTP/1\.[01] (\d{3})", line)
        results.append((int(match.group(1)) if match else 0, answered))
    except (OSError, asyncio.TimeoutError):
        results.append((0, 0.0))


async def tor_like_run(port, count):
    import asyncio
    idle = []
    for _ in range(TOR_IDLE):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            idle.append(w)
        except OSError:
            break
    results = []
    # Sources arrive over a second, not in one instant.
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(tor_like_source(port, i, results)))
        await asyncio.sleep(1.0 / count)
    await asyncio.gather(*tasks)
    for w in idle:
        w.close()
    return results


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_tor_like(report, k, counts):
    import asyncio
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows, points = [], []
    for count in counts:
        # Default settings but for the store's free-space floor.
        server = Sealdrop(k["classic"][1])
        pid = server.proc.pid
        wait_idle(pid)
        ticks_before = cpu_ticks(pid)
        most_threads = [0]
        sampling = [True]

        def sample():
            while sampling[0]:
                try:
                    most_threads[0] = max(most_threads[0], len(os.listdir(f"/proc/{pid}/task")))
                except OSError:
                    pass
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        results = asyncio.run(tor_like_run(server.port, count))
        wall = time.monotonic() - started
        wait_idle(pid)
        sampling[0] = False
        sampler.join()
        cpu = (cpu_ticks(pid) - ticks_before) / os.sysconf("SC_CLK_TCK")
        rss = server.rss_kib()
        sealed = len(server.sealed())
        server.stop()
        statuses = [s for s, _ in results]
        ok = sum(statuses.count(s) for s in RECEIVED)
        refused = len(statuses) - ok
        answer = [t for s, t in results if s in RECEIVED]
        sealed_mib = ok * TOR_UPLOAD / MIB
        rows.append([count, f"{ok} / {refused}" + ("" if sealed == ok else f" (stored {sealed})"),
                     f"{rss / 1024:.1f} MiB", most_threads[0],
                     f"{cpu / sealed_mib * 1000:.1f} ms" if sealed_mib else "—",
                     f"{percentile(answer, 50) * 1000:.0f} / {percentile(answer, 99) * 1000:.0f} ms",
                     f"{wall:.1f} s"])
        points.append((count, rss / 1024, most_threads[0]))
        report.data.setdefault("tor_like", {})[count] = {
            "ok": ok, "refused": refused, "rss_kib": rss, "threads": most_threads[0],
            "cpu_s": cpu, "p50": percentile(answer, 50), "p99": percentile(answer, 99)}
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    report.table(
        "7. Tor-like sources: many slow uploads at once (default settings)",
        ["sources", "received / refused", "server peak RSS", "server threads (peak)",
         "CPU per sealed MiB", "last byte → answer p50 / p99", "wall"],
        rows,
        f"Each source uploads {human(TOR_UPLOAD)} at {TOR_RATE // 1000} KB/s in {human(TOR_PIECE)} "
        f"writes (an asyncio client in this process), {TOR_IDLE} idle connections alongside that "
        "never finish their headers; sources arrive over one second. Defaults: 1024 upload "
        "slots, 2048 connections; beyond 1024 sources the rest get the 503 page. Plot: "
        "![RSS and threads by sources](benchmarks/tor-like.png)")
    return points


def plot_tor_like(points, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    xs = [p[0] for p in points]
    ax.plot(xs, [p[1] for p in points], marker="o", label="peak RSS (MiB)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()
    ax.set_xlabel("concurrent Tor-like sources (256 KiB at 32 KB/s each)")
    ax.set_ylabel("server peak RSS (MiB)")
    ax2 = ax.twinx()
    ax2.plot(xs, [p[2] for p in points], marker="s", color="tab:orange", label="peak threads")
    ax2.set_ylabel("server threads (peak)")
    ax2.set_ylim(0, max(64, max(p[2] for p in points) * 1.2))
    ax.set_ylim(0, max(256, max(p[1] for p in points) * 1.2))
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left")
    ax.set_title("Server memory and threads by concurrent slow uploads")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)


def bench_cpu(report, k, files, runs):
    """CPU per sealed byte against stock age -e, on the same file."""
    rows = []
    for name in ("256m", "1g"):
        path = files[name]
        size = path.stat().st_size
        server = Sealdrop(k["classic"][1])
        pid = server.proc.pid
        sd, age = [], []
        for _ in range(max(3, runs // 2)):
            wait_idle(pid)
            before = cpu_ticks(pid)
            server.submit(path)
            wait_idle(pid)
            sd.append((cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK"))
            server.clear()
            wait_all_idle()
            settle()
            child = subprocess.Popen(["age", "-e", "-R", str(k["classic"][1]), "-o", str(WORK / "age.out"),
                                      str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, _, usage = os.wait4(child.pid, 0)
            age.append(usage.ru_utime + usage.ru_stime)
            os.unlink(WORK / "age.out")
        server.stop()
        ratio_cpu = median(sd) / median(age)
        rows.append([human(size), f"{median(sd):.2f} s", f"{median(age):.2f} s",
                     f"{median(sd) / (size / GIB):.2f} s", f"{median(age) / (size / GIB):.2f} s",
                     f"{ratio_cpu:.2f}×"])
        report.data.setdefault("cpu", {})[name] = {"sealdrop": median(sd), "age": median(age)}
    report.table(
        "1b. CPU per sealed byte (target: ≤ 2× stock age -e)",
        ["size", "sealdrop server CPU", "stock age -e CPU", "sealdrop per GiB", "age per GiB", "ratio"],
        rows,
        "User + system CPU: the server's from /proc (from before the upload until it is idle "
        "again, so everything it does for the upload counts: reading the socket, multipart, "
        "SHA-256 of the plaintext, ZIP framing, Padmé padding, encryption, the page-cache "
        "write and the fsync that sealdrop needs before \"received\"); age's from wait4. "
        "The pickup hash of the ciphertext is no longer computed at ingest but when the pickup "
        "API first lists the file (one SHA-256 pass, about 0.6 s of CPU per GiB, paid once at "
        "pickup).")


def bench_core(report):
    out = subprocess.run(["cargo", "bench", "--locked", "--bench", "seal_core"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    tables = [block for block in out.strip().split("\n\n") if block.startswith("|")]
    report.sections.append(
        "### 0. The sealing core in memory (`cargo bench --bench seal_core`)\n\n"
        + "\n\n".join(tables)
        + "\n\nNo HTTP, no disk: 512 MiB through `SubmissionWriter` into a sink, against the age "
          "crate's own `StreamWriter` on the same data; the variants take turns, round after "
          "round, and each one's best round counts. The fixed cost of a "
          "submission is what the key type changes: one X-Wing encapsulation and about 1.5 KB "
          "of header per post-quantum recipient.")
    print("\n" + report.sections[-1] + "\n", flush=True)


def plot(series, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for label, points in series.items():
        xs = [p[0] for p in points]
        ys = [p[1] * 1000 for p in points]
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    sizes = [p[0] for p in next(iter(series.values()))]
    ax.set_xticks(sizes, [human(x).replace(" ", "\u00a0") for x in sizes])
    ax.minorticks_off()
    ax.set_xlabel("upload size (random data)")
    ax.set_ylabel("time until received / encrypted (ms)")
    ax.set_title("Seal time by size, loopback, median of runs")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)


# ------------------------------------------------------- replies (issue 18)

def valid_codename():
    """A random well-formed codename (ISO 7064 MOD 97-10 check digits)."""
    import secrets
    digits = "".join(str(secrets.randbelow(10)) for _ in range(30))
    check = 98 - (int(digits) * 100) % 97
    return digits + f"{check:02d}"


def login_exchange(port, codename, timeout=None):
    """POST /en/replies; returns (status, seconds, the whole answer), status 0
    and no answer when the connection fails."""
    body = "codename=" + codename.replace(" ", "+")
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall((f"POST /en/replies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       f"Content-Type: application/x-www-form-urlencoded\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return 0, time.monotonic() - start, b""
    status = int(data.split(b" ", 2)[1]) if data else 0
    return status, time.monotonic() - start, data


def post_login(port, codename):
    """POST /en/replies; returns (status, seconds, body length)."""
    status, seconds, data = login_exchange(port, codename)
    if not data:
        raise RuntimeError("the login got no answer")
    return status, seconds, len(data.split(b"\r\n\r\n", 1)[1])


def bench_login(report, k, counts, runs):
    """Time and CPU of a login with 10 to 10,000 replies waiting."""
    rows = []
    for kind in ("classic", "pq"):
        for count in counts:
            store_parent = WORK / f"login-{kind}-{count}"
            shutil.rmtree(store_parent, ignore_errors=True)
            store_parent.mkdir()
            server = Sealdrop(k[kind][1], store_parent=store_parent)
            replies = server.store / "replies"
            out = subprocess.run(["cargo", "bench", "--locked", "--bench", "reply_pool", "--",
                                  str(replies), str(count), kind],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout
            right = out.strip().splitlines()[-1]
            typo = right[:-1] + str((int(right[-1]) + 1) % 10)
            pid = server.proc.pid
            post_login(server.port, valid_codename())  # warm the page cache
            results = {}
            for label, codename in (("typo", typo), ("wrong", None), ("right", right)):
                times, cpu = [], []
                for _ in range(runs):
                    wait_idle(pid)
                    before = cpu_ticks(pid)
                    status, seconds, _ = post_login(server.port, codename or valid_codename())
                    wait_idle(pid)
                    expected = 400 if label == "typo" else 200
                    if status != expected:
                        raise RuntimeError(f"login ({label}) answered {status}")
                    times.append(seconds)
                    cpu.append((cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK"))
                results[label] = (median(times), median(cpu))
            rss = server.rss_kib()
            server.stop()
            shutil.rmtree(store_parent, ignore_errors=True)
            per_reply = (results["wrong"][0] - results["typo"][0]) / count
            rows.append([kind, f"{count:,}",
                         f"{results['typo'][0] * 1000:.1f} ms",
                         f"{results['wrong'][0] * 1000:.1f} ms",
                         f"{results['right'][0] * 1000:.1f} ms",
                         f"{results['wrong'][0] / results['typo'][0]:.1f}×",
                         f"{per_reply * 1e6:.0f} µs",
                         f"{results['wrong'][1]:.2f} s",
                         f"{rss / 1024:.1f} MiB"])
            report.data.setdefault("login", {})[f"{kind}-{count}"] = {
                "typo": results["typo"][0], "wrong": results["wrong"][0],
                "right": results["right"][0], "cpu_wrong": results["wrong"][1], "rss_kib": rss}
    report.table(
        "8. Replies: a login with N replies waiting",
        ["newsroom keys", "replies waiting", "typo (baseline)", "wrong codename", "right codename (1 reply)",
         "wrong / typo", "per reply waiting", "server CPU (wrong)", "peak RSS"],
        rows,
        "Median of the runs, each a fresh connection to a fresh server whose replies folder holds N "
        "reply files sealed to N different codenames (`cargo bench --bench reply_pool`). The baseline "
        "is the same request with a mistyped codename, refused by its check digits before any key "
        "is derived: the fixed cost of a request. Since issue 32 a login costs one HKDF derivation "
        "of the tag key and both reply identities, one HMAC on every waiting file's preamble (an "
        "index in memory), and four slots of two key agreements and one decryption each, whoever "
        "logs in (before, one key agreement on every file's header). Logins run at most half the "
        "cores at once, 64 more wait their turn, so this is also how long a login holds a turn.")


# --------------------------------------------- through a private Tor network (issue 24)

def curl_time(args, fmt):
    out = subprocess.run(["curl", "-sS", "--max-time", "300", "-o", "/dev/null", "-w", fmt, *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"curl {args}: {out.stderr}")
    return out.stdout


def bench_tor_network(report, k, files, runs):
    """A 16 MiB upload and a page through the private Tor network of the tests
    (scripts/tor-testnet.sh) against the same requests on loopback, to the
    same release server."""
    started = time.monotonic()
    net = subprocess.Popen([str(ROOT / "scripts" / "tor-testnet.sh")], cwd=ROOT, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = None
    for line in net.stdout:
        if line.startswith("TORNET "):
            info = json.loads(line[len("TORNET "):])
            break
    if info is None:
        raise RuntimeError("scripts/tor-testnet.sh did not start the network")
    wall = time.monotonic() - started
    socket_path = Path(info["source_socket"])
    if socket_path.exists():
        socket_path.unlink()
    server = Sealdrop(k["classic"][1], extra=["--listen", f"unix:{socket_path}"])
    socks = ["--socks5-hostname", info["source_socks"]]
    onion = f"http://{info['source_onion']}"
    loopback = f"http://127.0.0.1:{server.port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if curl_time([*socks, onion + "/"], "%{http_code}") == "200":
                break
        except RuntimeError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the onion service did not answer")
        time.sleep(2)
    reachable = time.monotonic() - started
    upload = ["-F", f"attachment=@{files['16m']}"]
    page = {"tor": [], "loopback": []}
    sixteen = {"tor": [], "loopback": []}
    for _ in range(runs):
        for where, base, extra in (("loopback", loopback, []), ("tor", onion, socks)):
            wait_all_idle()
            page[where].append(float(curl_time([*extra, base + "/"], "%{time_starttransfer}")))
            wait_all_idle()
            settle()
            sixteen[where].append(float(curl_time([*extra, *upload, base + "/submit"], "%{time_total}")))
            server.clear()
    server.stop()
    net.stdin.close()
    net.wait(timeout=120)
    size = files["16m"].stat().st_size
    rows = []
    for where, label in (("loopback", "loopback TCP (baseline)"), ("tor", "through the private Tor network")):
        rows.append([label, f"{median(page[where]) * 1000:.1f} ms",
                     spread(sixteen[where]),
                     mbps(size, median(sixteen[where])),
                     f"{median(sixteen['loopback']) / median(sixteen[where]):.2g}×"])
    report.data["tor_network"] = {"page": page, "upload_16m": sixteen, "started_in": info["started_in_secs"],
                                  "reachable_after": reachable}
    report.table(
        "9. Through a private Tor network",
        ["path", "GET / until the first byte of the answer", f"16 MiB upload until received, median of {runs}",
         "throughput", "vs loopback"],
        rows,
        f"The network of the tests (`scripts/tor-testnet.sh`: one authority, six relays, the onion services of "
        f"`deploy/torrc`, all on this machine) started in {info['started_in_secs']:.0f} s "
        f"({wall:.0f} s with the test binary's start) and the onion service answered "
        f"{reachable:.0f} s after the start. Each request is a new curl through the source client's SOCKS port "
        f"(a new stream on the client's circuit to the service: six relay hops, each encrypting), against the "
        f"same release server's TCP listener on loopback. Every relay runs on these 2 cores, so this measures "
        f"Tor's per-hop work and the onion service's path, not the latency or bandwidth of the real network.")


def write_section(name, body):
    """Replaces what stands between `<!-- name -->` and `<!-- /name -->` in
    docs/BENCHMARKS.md (the markers are made when missing)."""
    doc = ROOT / "docs" / "BENCHMARKS.md"
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = doc.read_text() if doc.exists() else f"{start}\n{end}\n"
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    doc.write_text(before + start + "\n" + body + "\n" + end + after)


def write_doc(report, info, elapsed):
    body = [
        f"Measured {time.strftime('%Y-%m-%d')} with `bench/run.sh` in {elapsed / 60:.0f} min.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    body += [f"| {k} | {v} |" for k, v in info.items()]
    body += [""] + ["\n\n".join(report.sections)]
    write_section("results", "\n".join(body))
    (ROOT / "docs" / "benchmarks" / "results.json").write_text(json.dumps(report.data, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, required=True, help="virtualenv with onionshare-cli and matplotlib")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (1 GiB: half, at least 3)")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md and the plot")
    parser.add_argument("--bin-dir", type=Path, default=None,
                        help="take sealdrop and sealdrop-open from here (e.g. an older build, for before/after)")
    parser.add_argument("--before", type=Path, default=None,
                        help="section 4 (open): also time the sealdrop-open in this folder, interleaved")
    parser.add_argument("--replot", action="store_true",
                        help="only redraw the plot from docs/benchmarks/results.json")
    parser.add_argument("--only", nargs="*", default=None,
                        help="sections to run: core ingest cpu peer memory open page scaling tor login tornet")
    parser.add_argument("--tor-counts", type=int, nargs="*", default=[64, 256, 1024, 4096],
                        help="concurrent Tor-like sources to measure")
    args = parser.parse_args()
    if args.write and args.only is not None:
        parser.error("--write replaces every result in docs/BENCHMARKS.md; run it without --only")
    if args.replot:
        data = json.loads((ROOT / "docs" / "benchmarks" / "results.json").read_text())
        plot({k: [tuple(p) for p in v] for k, v in data["series"].items()},
             ROOT / "docs" / "benchmarks" / "seal-time.png")
        return
    global RELEASE
    if args.bin_dir:
        RELEASE = args.bin_dir.resolve()
    start = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    size_names = {"1k": KIB, "32k": 32 * KIB, "1m": MIB, "16m": 16 * MIB, "64m": 64 * MIB,
                  "256m": 256 * MIB, "1000m": 1000 * MIB, "1g": GIB}
    print("preparing random input files…", flush=True)
    files = {name: make_file(WORK / f"input-{name}.bin", size) for name, size in size_names.items()}
    sizes = [(n, size_names[n]) for n in ("1k", "32k", "1m", "16m", "64m", "256m", "1g")]
    k = keys()
    info = machine()
    report = Report()
    chosen = set(args.only or ["core", "ingest", "cpu", "peer", "memory", "open", "page", "scaling", "tor",
                               "login", "tornet"])
    if "core" in chosen:
        bench_core(report)
    if "ingest" in chosen:
        bench_ingest(report, k, files, args.runs)
    if "cpu" in chosen:
        bench_cpu(report, k, files, args.runs)
    if "peer" in chosen:
        bench_peer(report, k, files, args.venv, args.runs)
    if "memory" in chosen:
        bench_memory(report, k, files)
    if "open" in chosen:
        bench_open(report, k, files, args.runs, args.before)
    if "page" in chosen:
        bench_page(report, k, 3, 10)
    series = bench_scaling(report, k, files, sizes) if "scaling" in chosen else None
    tor_points = bench_tor_like(report, k, args.tor_counts) if "tor" in chosen else None
    if "login" in chosen:
        bench_login(report, k, [10, 1000, 10000], args.runs)
    if "tornet" in chosen:
        bench_tor_network(report, k, files, args.runs)
    elapsed = time.monotonic() - start
    if args.write:
        if series:
            plot(series, ROOT / "docs" / "benchmarks" / "seal-time.png")
        if tor_points:
            plot_tor_like(tor_points, ROOT / "docs" / "benchmarks" / "tor-like.png")
        write_doc(report, info, elapsed)
        print(f"wrote docs/BENCHMARKS.md ({elapsed / 60:.1f} min)")


if __name__ == "__main__":
    sys.exit(main())
