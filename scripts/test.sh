#!/usr/bin/env bash
# The whole test suite, set up on a fresh Debian machine: installs the tools
# the tests use as oracles and peers (as root; otherwise it says exactly what
# to install and stops), then runs `cargo test --locked` with any arguments
# given. `.ci/run` runs this same command.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --test format   # one test binary (cargo test arguments)
#   scripts/test.sh --install-only  # the packages, no tests
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package → a command it provides that the tests run.
packages=(
  "age:age"                          # stock age: interoperability
  "unzip:unzip"                      # Info-ZIP unzip
  "zip:zip"                          # Info-ZIP zip builds archives sealdrop-open must read
  "libarchive-tools:bsdtar"          # bsdtar
  "7zip:7zz"                         # 7-Zip
  "default-jdk-headless:java"        # JDK ZipFile and ZipInputStream
  "python3:python3"                  # Python's zipfile; pty driving; openpyxl and python-pptx (below)
  "poppler-utils:pdftotext"          # reads a cleaned PDF's text and draws its pages
  "qpdf:qpdf"                        # an independent PDF library checks a cleaned PDF's structure
  "curl:curl"                        # TLS checks
  "openssl:openssl"                  # test certificates
  "util-linux:setpriv"               # run the server as nobody
  "e2fsprogs:mkfs.ext4"              # an ext4 image for the file-time tests
  "tor:tor"                          # deploy checks; the private Tor network (tests/common/tornet.rs)
  "onionbalance:onionbalance"        # deploy/scale-out/onionbalance.yaml (and python3-yaml, which reads it)
  "torsocks:torsocks"                # sealdrop pickup over Tor, as editors run it
  "systemd:systemd-analyze"          # deploy checks
  "chromium:chromium"                # browser tests
  "chromium-driver:chromedriver"     # browser tests
  "firefox-esr:firefox-esr"          # Tor Browser's base, over the private Tor network (Marionette)
  "imagemagick:convert"              # pictures for the scrubbing corpus; pixel signatures
  "libimage-exiftool-perl:exiftool"  # plants metadata, and is the scrubbing oracle
  "mat2:mat2"                        # the scrubbing anchor compared in docs/SCRUBBING.md
  "pandoc:pandoc"                    # an independent DOCX reader: cleaned documents keep their text
  "ffmpeg:ffmpeg"                    # makes the MP4 corpus; decodes it to show frames are unchanged
  "nodejs:node"                      # the TypeScript age: interoperability
  "npm:npm"                          # installs it and axe-core (tests/interop/)
)

install_only=false
if [ "${1:-}" = "--install-only" ]; then
  install_only=true
  shift
fi

missing=()
for entry in "${packages[@]}"; do
  command -v "${entry#*:}" >/dev/null 2>&1 || missing+=("${entry%%:*}")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need these Debian packages, which are not installed:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    echo "(or run this script as root, and it installs them)" >&2
    exit 1
  fi
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "note: not root: the tests that need root (mounting a tmpfs and a loop device, running" >&2
  echo "the server as another user, reading its memory) will fail; CI runs them as root." >&2
fi

# The TypeScript age, at the version package-lock.json pins.
if [ ! -d tests/interop/age-ts/node_modules/age-encryption ]; then
  echo "== installing the TypeScript age (npm ci in tests/interop/age-ts)"
  npm ci --prefix tests/interop/age-ts --no-audit --no-fund --loglevel=error >/dev/null
fi
# axe-core, which the browser tests inject into every page.
if [ ! -f tests/interop/axe/node_modules/axe-core/axe.min.js ]; then
  echo "== installing axe-core (npm ci in tests/interop/axe)"
  npm ci --prefix tests/interop/axe --no-audit --no-fund --loglevel=error >/dev/null
fi

# Python peers, pinned with hashes in a virtual environment: openpyxl and
# python-pptx write and read the office documents the scrubbing tests clean;
# aiosmtpd is the SMTP server the notify tests send to.
python_peers=tests/interop/python
if ! "$python_peers/.venv/bin/python" -c "import openpyxl, pptx, aiosmtpd" 2>/dev/null; then
  echo "== installing openpyxl, python-pptx and aiosmtpd (pip into $python_peers/.venv)"
  rm -rf "$python_peers/.venv"
  python3 -m venv "$python_peers/.venv"
  "$python_peers/.venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$python_peers/requirements.txt"
fi

# Garage, the replicated object store of the scale-out tests (built once per
# machine from crates.io into target/garage; see scripts/build-garage.sh).
scripts/build-garage.sh

$install_only && exit 0
exec cargo test --locked "$@"
