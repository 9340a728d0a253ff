"""How the benchmarks run one program and measure it.

Peak memory comes from GNU time's `%M`, not from the `ru_maxrss` that
`wait4` gives the harness: Linux keeps a process's high-water mark across
`exec`, so a child forked from this Python process starts with Python's own
peak (13 MiB at least, far more once a benchmark holds data) and a small
program's figure would be the harness's. `time` itself peaks near 2 MiB.
"""

import os
import subprocess
import tempfile
import time

TIME = "/usr/bin/time"  # GNU time (Debian package `time`)


def measured(argv, **kwargs):
    """Runs argv to its end: (wall seconds, CPU seconds of it and its
    children, peak RSS KiB of it or its largest child, exit code, stderr
    bytes). Standard output is discarded unless kwargs say otherwise."""
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    with tempfile.NamedTemporaryFile(prefix="peak-") as peak:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", peak.name, *argv],
                                stderr=subprocess.PIPE, **kwargs)
        stderr = proc.stderr.read()
        proc.stderr.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        lines = open(peak.name).read().split()
    kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return wall, usage.ru_utime + usage.ru_stime, kib, code, stderr
