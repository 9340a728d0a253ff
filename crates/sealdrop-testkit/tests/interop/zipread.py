"""Lists a ZIP archive's entries as "<name>\t<size>\t<sha256>" with Python's
zipfile (which checks every CRC-32). Used by tests/format/interop.rs."""
import hashlib
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as archive:
    for info in archive.infolist():
        data = archive.read(info)
        print(f"{info.filename}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")
