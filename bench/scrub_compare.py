#!/usr/bin/env python3
"""sealdrop-open scrub against mat2 on the same planted corpus.

Builds pictures with ImageMagick and writes metadata into them with exiftool
(as crates/sealdrop-testkit/tests/format/scrub.rs does), plus a Word document with properties,
comments, tracked changes, revision ids, a remote template and a picture with
GPS inside, a page printed to PDF by Chromium with a photo whose EXIF it keeps,
and (when run with the Python that has openpyxl and python-pptx) a workbook and a
presentation planted as crates/sealdrop-testkit/tests/format/scrub.rs plants them. Cleans each file
with Debian's mat2 and with sealdrop-open, then asks exiftool and `mat2 --show`
what is left, and prints a Markdown table for docs/SCRUBBING.md.

    crates/sealdrop-testkit/tests/interop/python/.venv/bin/python bench/scrub_compare.py [path/to/sealdrop-open]

With `--sandbox-cost BEFORE AFTER` it instead times `scrub` of the same corpus
by two builds of sealdrop-open, one parsing in-process and one through its
sandbox helper, and prints what the sandbox costs per file.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import measured  # noqa: E402

IDENTIFYING = {
    "Make", "Model", "SerialNumber", "BodySerialNumber", "LensSerialNumber", "Software",
    "Artist", "Author", "Creator", "By-line", "Copyright", "Rights", "City", "Country",
    "Comment", "UserComment", "ImageDescription", "DateTimeOriginal", "CreateDate",
    "ModifyDate", "DateTimeDigitized", "ThumbnailImage", "ThumbnailOffset", "PreviewImage",
    "CreatorTool", "OwnerName", "HostComputer", "LastModifiedBy", "Company",
    "TotalEditTime", "RevisionNumber", "Application", "Template", "SourceName",
}
IDENTIFYING_GROUPS = ("XMP", "IPTC", "Photoshop", "ICC_Profile", "MPF")


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "sealdrop-testkit", "tests", "interop", "python"))
try:
    import office  # openpyxl and python-pptx: the venv scripts/test.sh makes
    import openpyxl  # noqa: F401
except ImportError:
    office = None


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, **kwargs)


def plant(path, *tags):
    run("exiftool", "-q", "-overwrite_original", "-m", *tags, path)


def convert(*args):
    run("convert", *args)


def identifying(path):
    out = run("exiftool", "-j", "-a", "-G1", "-s", "-n", path).stdout
    tags = json.loads(out)[0]
    left = []
    for key in tags:
        if key == "SourceFile" or key.split(":")[0] in ("System", "Composite", "ExifTool"):
            continue
        group, _, tag = key.partition(":")
        if tag.startswith("GPS") or tag in IDENTIFYING or group.startswith(IDENTIFYING_GROUPS):
            left.append(key)
    return left


def mat2_show(path):
    out = subprocess.run(["mat2", "--show", path], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines()[1:] if line.strip() and ":" in line]


def corpus(d):
    thumb = f"{d}/thumb.jpg"
    convert("-size", "64x48", "gradient:navy-orange", thumb)
    plant(thumb, "-GPSLatitude=35.5", "-GPSLatitudeRef=N", "-Model=ThumbCam")
    photo = f"{d}/photo.jpg"
    convert("-seed", "7", "-size", "640x480", "plasma:", "-quality", "90", photo)
    plant(photo, "-Make=Canon", "-Model=Canon EOS 5D", "-SerialNumber=0420102345",
          "-Software=Camera FV-5", "-Artist=Hasan K.", "-DateTimeOriginal=2026:11:02 06:10:00",
          "-GPSLatitude=36.2021", "-GPSLatitudeRef=N", "-GPSLongitude=37.1343",
          "-GPSLongitudeRef=E", "-XMP:City=Aleppo", "-IPTC:By-line=Hasan K.",
          "-Comment=taken from the roof", "-Orientation#=6")
    plant(photo, f"-ThumbnailImage<={thumb}")
    second = f"{d}/second.jpg"
    convert("-size", "80x60", "gradient:green-white", second)
    plant(second, "-GPSLatitude=33.5138", "-GPSLatitudeRef=N")
    first = f"{d}/first.jpg"
    convert("-size", "320x240", "gradient:white-black", first)
    appended = f"{d}/appended.jpg"
    with open(appended, "wb") as out:
        out.write(open(first, "rb").read() + open(second, "rb").read())
    png = f"{d}/diagram.png"
    convert("-size", "320x240", "gradient:red-blue", png)
    plant(png, "-PNG:Author=Hasan K.", "-PNG:Software=Snapseed", "-PNG:Comment=second draft",
          "-XMP:Creator=Hasan K.", "-EXIF:Model=SM-A515F", "-GPSLatitude=36.2", "-GPSLatitudeRef=N")
    gif = f"{d}/animation.gif"
    convert("-size", "120x90", "gradient:yellow-purple", gif)
    plant(gif, "-Comment=made by Hasan", "-XMP:Creator=Hasan K.")
    webp = f"{d}/picture.webp"
    convert("-size", "320x240", "gradient:teal-pink", "-define", "webp:lossless=true", webp)
    plant(webp, "-EXIF:Model=iPhone 12", "-GPSLatitude=36.2", "-GPSLatitudeRef=N", "-XMP:Creator=Hasan K.")
    tiff = f"{d}/scan.tif"
    convert("-size", "320x240", "gradient:red-blue", "-size", "320x240", "gradient:green-white", tiff)
    plant(tiff, "-Make=Nikon", "-Model=Coolscan V", "-Software=VueScan 9", "-Artist=Hasan K.",
          "-GPSLatitude=36.2", "-GPSLatitudeRef=N", "-XMP:Creator=Hasan K.", "-IPTC:By-line=Hasan K.")
    report = docx(d, png)
    files = [photo, appended, png, gif, webp, tiff, report, without_comments(report), printed_pdf(d)]
    if office is not None:
        book, deck = f"{d}/figures.xlsx", f"{d}/briefing.pptx"
        office.make_xlsx(book, second, fetching=False)
        office.make_pptx(deck, second)
        plain_book, plain_deck = f"{d}/figures-plain.xlsx", f"{d}/briefing-plain.pptx"
        office.make_xlsx(plain_book, second, fetching=False, plain=True)
        office.make_pptx(plain_deck, second, plain=True)
        files += [book, plain_book, deck, plain_deck]
    else:
        print("note: run with crates/sealdrop-testkit/tests/interop/python/.venv/bin/python to include XLSX and PPTX", file=sys.stderr)
    return files


def office_content(path):
    """What openpyxl or python-pptx shows of a workbook or presentation, less comments and notes."""
    try:
        content = office.read(path)
    except Exception as e:  # a reader that cannot open the file
        return f"unreadable: {e}"
    for sheet in content.get("sheets", []):
        sheet["comments"] = []
    for slide in content.get("slides", []):
        slide["notes"] = None
    return json.dumps(content.get("sheets", content.get("slides")), sort_keys=True, default=str)


def office_leftovers(path):
    """The source's traces anywhere in a workbook's or presentation's parts."""
    found = set()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data = z.read(name)
            for needle in ("Hasan", "Baron", "Aleppo", "LaserJet", "L\0a\0s\0e\0r", "HASAN-LAPTOP",
                           "Users", "8F3A", "creationId", "cousin"):
                if needle.encode() in data:
                    found.add(needle.replace("\0", ""))
            if name.startswith("docProps/thumbnail"):
                found.add("a thumbnail")
    return sorted(found)


def printed_pdf(d):
    """A page with an upright photo (camera, artist, GPS in its EXIF) and a link, printed by
    Chromium: tags, its own Info, and the photo's EXIF kept inside."""
    photo = f"{d}/upright.jpg"
    convert("-seed", "3", "-size", "480x320", "plasma:", photo)
    plant(photo, "-Make=Canon", "-Model=Canon EOS 5D", "-Artist=Hasan K.",
          "-GPSLatitude=36.2021", "-GPSLatitudeRef=N", "-GPSLongitude=37.1343", "-GPSLongitudeRef=E")
    with open(f"{d}/page.html", "w") as page:
        page.write('<!doctype html><meta charset=utf-8><title>Convoy report</title>'
                   '<h1>The convoy left at dawn</h1><p>Forty trucks, heading north.</p>'
                   '<img src="upright.jpg"><p><a href="https://canary.example.org/x">source</a></p>')
    path = f"{d}/report.pdf"
    run("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
        f"--print-to-pdf={path}", f"file://{d}/page.html")
    return path


def pdf_pages(path):
    """Signatures of each page as poppler draws it, and the text it reads."""
    out = tempfile.mkdtemp()
    subprocess.run(["pdftoppm", "-r", "50", "-png", path, f"{out}/page"], capture_output=True)
    pages = [pixels(f"{out}/{name}") for name in sorted(os.listdir(out))]
    shutil.rmtree(out)
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout
    return pages, text


def pdf_leftovers(path):
    """The source's traces anywhere in a PDF's bytes (exiftool does not look inside pictures)."""
    data = open(path, "rb").read()
    return sorted(n for n in ("Hasan", "Canon", "canary.example.org", "Chrome", "Skia") if n.encode() in data)


def without_comments(path):
    """The same document with no comments (mat2 0.13 refuses documents that have them)."""
    out = path.replace(".docx", "-nocomments.docx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            if "comments" in name:
                continue
            data = src.read(name)
            if name == "word/_rels/document.xml.rels":
                data = data.replace(b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/>', b"")
            z.writestr(name, data)
    return out


def docx(d, picture):
    w = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
         'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"')
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="{rel}extended-properties" Target="docProps/app.xml"/></Relationships>',
        "word/document.xml": f'<w:document {w}><w:body><w:p w:rsidR="00A1B2C3" w14:paraId="1A2B3C4D"><w:r><w:t xml:space="preserve">The convoy left at dawn. </w:t></w:r><w:ins w:id="1" w:author="Hasan K." w:date="2026-11-02T06:10:00Z"><w:r><w:t>Three trucks went north.</w:t></w:r></w:ins><w:del w:id="2" w:author="Hasan K."><w:r><w:delText>From my window on Baron Street.</w:delText></w:r></w:del></w:p><w:p><w:commentRangeStart w:id="0"/><w:r><w:t>The checkpoint moved.</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p></w:body></w:document>',
        "word/_rels/document.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}settings" Target="settings.xml"/><Relationship Id="rId2" Type="{rel}comments" Target="comments.xml"/><Relationship Id="rId5" Type="{rel}image" Target="media/image1.png"/></Relationships>',
        "word/settings.xml": f'<w:settings {w}><w:attachedTemplate r:id="rId1"/><w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00A1B2C3"/></w:rsids></w:settings>',
        "word/_rels/settings.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}attachedTemplate" Target="https://canary.example.org/t/8f3a/report.dotx" TargetMode="External"/></Relationships>',
        "word/comments.xml": f'<w:comments {w}><w:comment w:id="0" w:author="Hasan K." w:date="2026-11-02T06:12:00Z"><w:p><w:r><w:t>My cousin told me this.</w:t></w:r></w:p></w:comment></w:comments>',
        "docProps/core.xml": '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:creator>Hasan K.</dc:creator><cp:lastModifiedBy>Hasan Kh.</cp:lastModifiedBy><cp:revision>7</cp:revision><dcterms:created>2026-11-01T20:00:00Z</dcterms:created></cp:coreProperties>',
        "docProps/app.xml": '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application><TotalTime>93</TotalTime><Company>Aleppo Media Center</Company></Properties>',
    }
    path = f"{d}/report.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.write(picture, "word/media/image1.png")
    return path


def pixels(path):
    """ImageMagick's signature of the decoded pixels, or None."""
    out = subprocess.run(["identify", "-format", "%#\n", path], capture_output=True, text=True)
    return out.stdout.split("\n")[0] if out.returncode == 0 else None


def docx_leftovers(path):
    """Words of the source, the canary host and ids still anywhere in a document's parts."""
    found = set()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            text = z.read(name).decode("utf-8", "replace")
            for needle in ("Hasan", "canary.example.org", "rsid", "Baron Street", "Aleppo", "GPS"):
                if needle in text:
                    found.add(needle)
    return sorted(found)


def run_measured(argv):
    """wall seconds, CPU seconds (the sandbox helper included) and peak RSS
    KiB of argv (bench/measure.py says why through GNU time)."""
    wall, cpu, kib, _, _ = measured(argv)
    return wall, cpu, kib


def sandbox_cost(before, after, rounds=7):
    """What the sandbox (issue 33) costs per file: `scrub` of every corpus
    file by a build that parses in-process (BEFORE) and by one that starts a
    confined sealdrop-sandbox child per file (AFTER), interleaved round by
    round, median of ROUNDS. Prints a Markdown table for docs/BENCHMARKS.md."""
    d = tempfile.mkdtemp(prefix="sandbox-cost-")
    files = corpus(d)
    results = {path: {"before": [], "after": []} for path in files}
    for round_no in range(rounds):
        for path in files:
            for who, tool in (("before", before), ("after", after)):
                out = f"{d}/out-{who}-{round_no}"
                results[path][who].append(run_measured([tool, "scrub", "-o", out, path]))
                shutil.rmtree(out, ignore_errors=True)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(f"| file | size | in-process: wall, CPU | sandboxed: wall, CPU | wall ratio | CPU added | peak RSS in-process → sandboxed |")
    print("|---|---|---|---|---|---|---|")
    added = []
    for path in files:
        b, a = results[path]["before"], results[path]["after"]
        bw, bc, br = med([x[0] for x in b]), med([x[1] for x in b]), max(x[2] for x in b)
        aw, ac, ar = med([x[0] for x in a]), med([x[1] for x in a]), max(x[2] for x in a)
        added.append(ac - bc)
        print(f"| {os.path.basename(path)} | {os.path.getsize(path):,} B | {bw * 1000:.1f} ms, {bc * 1000:.1f} ms "
              f"| {aw * 1000:.1f} ms, {ac * 1000:.1f} ms | {aw / bw:.2f}× | {(ac - bc) * 1000:+.1f} ms "
              f"| {br / 1024:.1f} → {ar / 1024:.1f} MiB |")
    print()
    print(f"Median CPU added per file: {med(added) * 1000:.1f} ms ({rounds} rounds, {len(files)} files).")
    shutil.rmtree(d)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--sandbox-cost":
        sandbox_cost(sys.argv[2], sys.argv[3])
        return
    tool = sys.argv[1] if len(sys.argv) > 1 else "target/release/sealdrop-open"
    d = tempfile.mkdtemp(prefix="scrub-compare-")
    files = corpus(d)
    rows = []
    for path in files:
        name = os.path.basename(path)
        mat2_dir, ours_dir = f"{d}/mat2", f"{d}/ours"
        os.makedirs(mat2_dir, exist_ok=True)
        shutil.copy(path, f"{mat2_dir}/{name}")
        start = time.perf_counter()
        subprocess.run(["mat2", f"{mat2_dir}/{name}"], capture_output=True)
        mat2_seconds = time.perf_counter() - start
        stem, ext = os.path.splitext(name)
        mat2_out = f"{mat2_dir}/{stem}.cleaned{ext}"
        start = time.perf_counter()
        subprocess.run([tool, "scrub", "-o", ours_dir, path], capture_output=True)
        our_seconds = time.perf_counter() - start
        ours_out = f"{ours_dir}/{name}"
        row = {"file": name, "size": os.path.getsize(path)}
        for who, out, seconds in (("mat2", mat2_out, mat2_seconds), ("ours", ours_out, our_seconds)):
            if not os.path.exists(out):
                row[who] = None
                continue

            left = identifying(out)
            if name.endswith(".docx"):
                left += docx_leftovers(out)
            if name.endswith(".pdf"):
                left += pdf_leftovers(out)
            if name.endswith((".xlsx", ".pptx")):
                left += office_leftovers(out)
            if name.endswith(".jpg") and open(out, "rb").read().count(b"\xff\xd8\xff") > 1:
                left.append("an appended image (exiftool does not look)")
            same = None
            if name.endswith(".pdf"):
                (pages, text), (pages_before, text_before) = pdf_pages(out), pdf_pages(path)
                same = pages == pages_before
                if text.strip() != text_before.strip():
                    left.append(f"text changed ({len(text.split())} words of {len(text_before.split())} left)")
            elif name.endswith((".xlsx", ".pptx")):
                content = office_content(out)
                same = content == office_content(path)
                if content.startswith("unreadable"):
                    left.append("**openpyxl or python-pptx cannot open it** (" + content[:80] + ")")
            elif not name.endswith(".docx"):
                same = pixels(out) == pixels(path)
            row[who] = {
                "same_pixels": same,
                "size": os.path.getsize(out),
                "exiftool": left,
                "mat2_show": mat2_show(out),
                "seconds": seconds,
            }
        rows.append(row)
    print("| file | original | after mat2: size, exiftool finds, `mat2 --show` finds | after sealdrop-open: size, exiftool finds, `mat2 --show` finds |")
    print("|---|---|---|---|")
    for row in rows:
        cells = []
        for who in ("mat2", "ours"):
            r = row[who]
            if r is None:
                cells.append("no output")
                continue
            exif = ", ".join(r["exiftool"]) or "nothing"
            show = "; ".join(r["mat2_show"]) or "nothing"
            if row["file"].endswith((".xlsx", ".pptx")):
                pixels_note = {True: "; same content", False: "; **content changed**", None: ""}[r["same_pixels"]]
            else:
                pixels_note = {True: "; pixels identical", False: "; **pixels changed**", None: ""}[r["same_pixels"]]
            cells.append(f"{r['size']:,} B{pixels_note}; exiftool: {exif}; mat2: {show}")
        print(f"| {row['file']} | {row['size']:,} B | {cells[0]} | {cells[1]} |")
    print()
    print("| file | mat2 (s) | sealdrop-open (s) | mat2 / sealdrop-open |")
    print("|---|---|---|---|")
    for row in rows:
        m, o = row["mat2"], row["ours"]
        mat2_s = f"{m['seconds']:.3f}" if m else "refused"
        ours_s = f"{o['seconds']:.3f}" if o else "refused"
        ratio = f"{m['seconds'] / o['seconds']:.0f}x" if m and o and o["seconds"] > 0 else "n/a"
        print(f"| {row['file']} | {mat2_s} | {ours_s} | {ratio} |")
    shutil.rmtree(d)


if __name__ == "__main__":
    main()
