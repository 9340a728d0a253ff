#!/usr/bin/env python3
"""The desktop inbox at a newsroom's scale (issue 36), each figure against a
baseline measured in the same run. Run by hand on a quiet machine, after the
release build (`cargo build --release --bins` and `cargo build --release -p
sealdrop-inbox --example inbox_bench`):

    python3 bench/inbox.py            print the report
    python3 bench/inbox.py --write    also replace the section in docs/BENCHMARKS.md

1. Import: 1,000 submissions (about 50 MiB: messages in Arabic and English,
   photos, pictures, Word documents, PDF, text files, some with none) made by
   a real `sealdrop serve` on loopback, imported by the inbox's own import
   (`inbox_bench import`: decrypt, verify, inspect and clean in the sandbox,
   read the words of documents, keep the sealed copy), against the baseline
   `sealdrop-open decrypt --scrub` followed by `sealdrop-open inspect` of
   every attachment, on the same sealed files. Indexing (SQLite FTS5) is
   timed apart.
2. Scale: a workspace of 10,000 threads of one message each; opening it
   and making the list, the same list as GTK rows in a window shown (under
   Xvfb), and searches, each in a fresh process.

Wall time, CPU seconds (the program and its children: the sandbox helpers),
CPU seconds per MiB, and peak RSS (GNU time's %M) for each.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"
WORK = ROOT / "target" / "bench-inbox"
MIB = 1 << 20
BOUNDARY = "sealdropbenchinbox"

ARABIC = ("الحاجز المدينة صباح اليوم القافلة الشاحنات الشمال المستشفى الجسر مدخل صور شهود "
          "الليل الجنود السوق المدرسة الطريق").split()
ENGLISH = ("convoy checkpoint trucks north bridge hospital soldiers witnesses photos morning "
           "night market school road fuel water families").split()


def imagemagick():
    """ImageMagick's convert, known by what it says it is."""
    for name in ("convert", "magick"):
        path = shutil.which(name)
        if path and "ImageMagick" in subprocess.run([path, "-version"], capture_output=True,
                                                    text=True).stdout:
            return path
    sys.exit("bench/inbox.py needs ImageMagick (apt-get install imagemagick)")


def words(rng, count):
    pool = ARABIC if rng.random() < 0.5 else ENGLISH
    return " ".join(rng.choice(pool) for _ in range(count))


def docx(text):
    """A Word document of the three parts Word needs."""
    from io import BytesIO
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    paragraphs = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in text.split("\n"))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{paragraphs}</w:body></w:document>')
    return out.getvalue()


def pdf(lines):
    """A PDF of one page of Latin text in Helvetica (WinAnsi), by hand."""
    content = "BT /F1 11 Tf 72 760 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def corpus(rng):
    """The files sources send, a few of each kind, made here."""
    convert = imagemagick()
    folder = WORK / "corpus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = {"jpeg": [], "png": [], "docx": [], "pdf": [], "txt": []}
    for n in range(16):
        path = folder / f"photo-{n}.jpg"
        subprocess.run([convert, "-seed", str(n), "-size", "720x540", "plasma:", "-quality", "88",
                        str(path)], check=True)
        files["jpeg"].append(path.read_bytes())
    for n in range(4):
        path = folder / f"picture-{n}.png"
        subprocess.run([convert, "-seed", str(100 + n), "-size", "160x120", "plasma:", str(path)],
                       check=True)
        files["png"].append(path.read_bytes())
    for n in range(8):
        files["docx"].append(docx("\n".join(words(rng, 40) for _ in range(30))))
        files["pdf"].append(pdf([" ".join(rng.choice(ENGLISH) for _ in range(10)) for _ in range(45)]))
        files["txt"].append("\n".join(words(rng, 30) for _ in range(60)).encode())
    return files


def submissions(rng, files, count):
    """(message, [(name, bytes)]) for each submission, in a fixed mix."""
    out = []
    for n in range(count):
        message = words(rng, rng.randint(20, 120))
        mix = n % 10
        attached = {
            0: [("photo.jpg", rng.choice(files["jpeg"]))],
            1: [("photo.jpg", rng.choice(files["jpeg"]))],
            2: [("photo.jpg", rng.choice(files["jpeg"]))],
            3: [("photo.jpg", rng.choice(files["jpeg"])), ("second.jpg", rng.choice(files["jpeg"]))],
            4: [("picture.png", rng.choice(files["png"]))],
            5: [("report.docx", rng.choice(files["docx"]))],
            6: [("leak.pdf", rng.choice(files["pdf"]))],
            7: [("notes.txt", rng.choice(files["txt"]))],
            8: [("photo.jpg", rng.choice(files["jpeg"])), ("leak.pdf", rng.choice(files["pdf"]))],
            9: [],
        }[mix]
        out.append((message, attached))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, message, attached):
    body = b""
    parts = [("message", None, message.encode())] + [("attachment", name, data) for name, data in attached]
    for field, name, data in parts:
        disposition = f'form-data; name="{field}"' + (f'; filename="{name}"' if name else "")
        body += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    head = (f"POST /submit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    if status not in (200, 303):
        raise RuntimeError(f"sealdrop answered {status}")


def make_stick(count, seed):
    """Sealed submissions, made by a real server, in a folder: the stick."""
    rng = random.Random(seed)
    files = corpus(rng)
    key = WORK / "identity.txt"
    key.unlink(missing_ok=True)
    recipient = subprocess.run([str(RELEASE / "sealdrop-open"), "keygen", "-o", str(key)],
                               capture_output=True, text=True, check=True).stdout.strip()
    (WORK / "recipients.txt").write_text(recipient + "\n")
    store = WORK / "store"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(mode=0o700)
    port = free_port()
    server = subprocess.Popen(
        [str(RELEASE / "sealdrop"), "serve", "--recipients", str(WORK / "recipients.txt"),
         "--store", str(store), "--listen", f"127.0.0.1:{port}", "--min-free-disk", "1MiB"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        content = 0
        for message, attached in submissions(rng, files, count):
            post(port, message, attached)
            content += len(message.encode()) + sum(len(data) for _, data in attached)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    stick = WORK / "stick"
    shutil.rmtree(stick, ignore_errors=True)
    stick.mkdir()
    for sealed in store.glob("*.age"):
        shutil.copy(sealed, stick / sealed.name)
    shutil.rmtree(store)
    return stick, key, content


def run(argv, out_file=None):
    """measured(), with standard output kept in out_file when given."""
    if out_file is None:
        return measured(argv)
    with open(out_file, "w") as out:
        result = measured(argv, stdout=out)
    return result


def import_rounds(stick, key, runs):
    helper_beside = RELEASE / "inbox-bench"
    shutil.copy(RELEASE / "examples" / "inbox_bench", helper_beside)
    baseline, inbox = [], []
    for _ in range(runs):
        out = WORK / "decrypted"
        shutil.rmtree(out, ignore_errors=True)
        decrypt = run([str(RELEASE / "sealdrop-open"), "decrypt", "--scrub", "-i", str(key),
                       "-o", str(out), str(stick)])
        if decrypt[3] != 0:
            raise RuntimeError(f"decrypt --scrub failed: {decrypt[4][-2000:]!r}")
        attachments = sorted(str(p) for p in out.glob("*/attachments/*"))
        inspect = run([str(RELEASE / "sealdrop-open"), "inspect", *attachments])
        if inspect[3] != 0:
            raise RuntimeError(f"inspect failed: {inspect[4][-2000:]!r}")
        baseline.append({
            "wall": decrypt[0] + inspect[0],
            "cpu": decrypt[1] + inspect[1],
            "peak_kib": max(decrypt[2], inspect[2]),
            "attachments": len(attachments),
        })
        workspace = WORK / "workspace"
        shutil.rmtree(workspace, ignore_errors=True)
        result = WORK / "import.json"
        measured_import = run([str(helper_beside), "import", str(workspace), str(stick), str(key)],
                              result)
        if measured_import[3] != 0:
            raise RuntimeError(f"inbox import failed: {measured_import[4][-2000:]!r}")
        figures = json.loads(result.read_text())
        inbox.append({
            "wall": measured_import[0],
            "cpu": measured_import[1],
            "peak_kib": measured_import[2],
            **figures,
        })
    return baseline, inbox


def scale_rounds(threads, runs, queries):
    helper_beside = RELEASE / "inbox-bench"
    workspace = WORK / f"workspace-{threads}"
    shutil.rmtree(workspace, ignore_errors=True)
    made = WORK / "synthetic.json"
    synthetic = run([str(helper_beside), "synthetic", str(workspace), str(threads)], made)
    if synthetic[3] != 0:
        raise RuntimeError(synthetic[4][-2000:])
    figures = {"synthetic": {**json.loads(made.read_text()), "peak_kib": synthetic[2]}}
    lists, rows, searches = [], [], []
    for _ in range(runs):
        out = WORK / "list.json"
        listed = run([str(helper_beside), "list", str(workspace)], out)
        lists.append({**json.loads(out.read_text()), "wall": listed[0], "peak_kib": listed[2]})
        for mode in ("rows", "rows-all"):
            out = WORK / f"{mode}.json"
            shown = run(["xvfb-run", "-a", "-s", "-screen 0 1280x860x24", str(helper_beside), mode,
                         str(workspace)], out)
            if shown[3] != 0:
                raise RuntimeError(f"{mode}: {shown[4][-2000:]!r}")
            rows.append({**json.loads(out.read_text()), "mode": mode, "wall": shown[0]})
        out = WORK / "search.json"
        searched = run([str(helper_beside), "search", str(workspace), *queries], out)
        searches.append({"results": json.loads(out.read_text()), "peak_kib": searched[2]})
    figures.update({"lists": lists, "rows": rows, "searches": searches})
    return figures


def median(values):
    return statistics.median(values) if values else float("nan")


def report(content, stick_bytes, count, baseline, inbox, scale):
    mib = content / MIB
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} with `python3 bench/inbox.py` on "
        f"{os.cpu_count()} cores ({platform_cpu()}); medians of {len(inbox)} runs.",
        "",
        f"**Import**: {count} submissions, {mib:.1f} MiB of messages and files "
        f"({stick_bytes / MIB:.1f} MiB sealed: the server pads each to its size bucket), "
        f"{inbox[0]['imported']} imported, "
        f"{baseline[0]['attachments']} attachments, {inbox[0]['searched_files']} files whose words "
        "were read for search.",
        "",
        "| | wall s | CPU s | CPU s per MiB of content | peak RSS |",
        "|---|---|---|---|---|",
    ]
    b_wall, b_cpu = median([r["wall"] for r in baseline]), median([r["cpu"] for r in baseline])
    i_wall, i_cpu = median([r["wall"] for r in inbox]), median([r["cpu"] for r in inbox])
    x_wall = median([r["index_seconds"] for r in inbox])
    lines.append(f"| baseline: `sealdrop-open decrypt --scrub` + `inspect` | {b_wall:.2f} | {b_cpu:.2f} | "
                 f"{b_cpu / mib:.3f} | {max(r['peak_kib'] for r in baseline) / 1024:.0f} MiB |")
    lines.append(f"| inbox import (decrypt, verify, inspect, clean, words; in the sandbox) | "
                 f"{median([r['import_seconds'] for r in inbox]):.2f} | — | — | — |")
    lines.append(f"| inbox indexing (SQLite FTS5), timed apart | {x_wall:.2f} | — | — | — |")
    lines.append(f"| inbox, the whole process | {i_wall:.2f} | {i_cpu:.2f} | {i_cpu / mib:.3f} | "
                 f"{max(r['peak_kib'] for r in inbox) / 1024:.0f} MiB |")
    speed = b_wall / median([r["import_seconds"] for r in inbox])
    lines += ["", f"Import speed against the baseline: **{speed:.2f}×** (target ≥ 0.8×).", ""]
    lists, rows = scale["lists"], scale["rows"]
    threads = scale["synthetic"]["threads"]
    lines += [
        f"**Scale**: {threads} threads of one message each (made and indexed in "
        f"{scale['synthetic']['index_seconds']:.1f} s, peak {scale['synthetic']['peak_kib'] / 1024:.0f} MiB).",
        "",
        "| | median s | peak RSS |",
        "|---|---|---|",
        f"| open the workspace (index, search index checked) | {median([r['open_seconds'] for r in lists]):.3f} | "
        f"{max(r['peak_kib'] for r in lists) / 1024:.0f} MiB |",
        f"| the list: threads, counts, the view | {median([r['list_seconds'] for r in lists]):.3f} | |",
        f"| the whole process (start to list) | {median([r['wall'] for r in lists]):.3f} | |",
    ]
    for mode, what in (("rows", "the window's list: GTK started, workspace opened, the first page of "
                                "rows made, laid out and drawn"),
                       ("rows-all", "every thread as a GTK row instead (why the list shows a page at a "
                                    "time)")):
        chosen = [r for r in rows if r["mode"] == mode]
        if chosen:
            lines.append(f"| {what}: {chosen[0]['rows']} rows | "
                         f"{median([r['shown_seconds'] for r in chosen]):.3f} | |")
    lines += ["", "| search | found | median ms | max ms (of 25) |", "|---|---|---|---|"]
    per_query = {}
    for run_ in scale["searches"]:
        for result in run_["results"]:
            per_query.setdefault(result["query"], []).append(result)
    for query, results in per_query.items():
        lines.append(f"| `{query}` | {results[0]['found']} | "
                     f"{median([r['median_seconds'] for r in results]) * 1000:.1f} | "
                     f"{max(r['max_seconds'] for r in results) * 1000:.1f} |")
    return "\n".join(lines)


def platform_cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    stick, key, content = make_stick(args.submissions, seed=36)
    stick_bytes = sum(p.stat().st_size for p in stick.iterdir())
    baseline, inbox = import_rounds(stick, key, args.runs)
    queries = ["المدينه", "الشاحنات الشمال", "convoy", "check", "zzzz"]
    scale = scale_rounds(args.threads, args.runs, queries)
    text = report(content, stick_bytes, args.submissions, baseline, inbox, scale)
    print(text)
    (WORK / "results.json").write_text(json.dumps(
        {"baseline": baseline, "inbox": inbox, "scale": scale}, indent=1, ensure_ascii=False))
    if args.write:
        doc = ROOT / "docs" / "BENCHMARKS.md"
        start, end = "<!-- inbox -->", "<!-- /inbox -->"
        content = doc.read_text()
        if start not in content:
            content += f"\n## The desktop inbox at a newsroom's scale (issue 36)\n\n{start}\n{end}\n"
        before, rest = content.split(start, 1)
        _, after = rest.split(end, 1)
        doc.write_text(before + start + "\n" + text + "\n" + end + after)


if __name__ == "__main__":
    main()
