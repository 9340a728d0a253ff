#!/usr/bin/env bash
# The whole test suite, set up on a fresh Debian machine: installs the tools
# the tests use as oracles and peers (as root; otherwise it says exactly what
# to install and stops), then runs `cargo test --locked --workspace` with any
# arguments given. `.ci/run` runs this same command.
#
#   scripts/test.sh                         # everything
#   scripts/test.sh -p sealdrop-testkit --test format   # one test binary
#   scripts/test.sh --install-only          # the tools, no tests
#
# Each tool is recognised by what it is (the program's own version text),
# never by its name alone: a machine may have another program called
# `convert` first on PATH. The verified programs are linked into
# target/test-tools/bin, which goes first on the tests' PATH, so a test that
# runs `convert` runs ImageMagick's.
set -euo pipefail
cd "$(dirname "$0")/.."
# rust-toolchain.toml pins the compiler; offline, that is the installed stable.
scripts/pin-toolchain.sh

# Debian package | command the tests run | arguments that print its identity | what that text must contain (grep -E)
tools=(
  "age|age|--help|age \[--encrypt\]"                                    # stock age: interoperability
  "age|age-keygen|--version|^v?1\."
  "unzip|unzip|-v|UnZip .*Info-ZIP"                                     # Info-ZIP unzip
  "unzip|zipinfo|-h|ZipInfo"                                            # ...and its listing of dates and modes
  "zip|zip|-v|Info-ZIP"                                                 # Info-ZIP zip builds archives sealdrop-open must read
  "libarchive-tools|bsdtar|--version|libarchive"                        # bsdtar
  "7zip|7zz||7-Zip"                                                     # 7-Zip
  "default-jdk-headless|java|-version|OpenJDK"                          # JDK ZipFile and ZipInputStream
  "default-jdk-headless|javac|-version|^javac "
  "poppler-utils|pdftotext|-v|Poppler"                                  # reads a cleaned PDF's text
  "poppler-utils|pdftoppm|-v|Poppler"                                   # draws its pages
  "poppler-utils|pdfinfo|-v|Poppler"                                    # the inbox's PDF: its dates
  "ghostscript|gs|-h|GPL Ghostscript"                                   # a second reader of the PDF the inbox prints
  "qpdf|qpdf|--version|^qpdf version"                                   # an independent PDF library checks a cleaned PDF
  "curl|curl|--version|^curl [0-9]"                                     # TLS checks
  "openssl|openssl|version|^OpenSSL"                                    # test certificates
  "util-linux|setpriv|--version|util-linux"                             # run the server as nobody
  "util-linux|prlimit|--version|util-linux"
  "e2fsprogs|mkfs.ext4|-V|mke2fs"                                       # an ext4 image for the file-time tests
  "tor|tor|--version|^Tor version"                                      # deploy checks; the private Tor network
  "tor|tor-gencert|--help|^tor-gencert \[-h"
  "onionbalance|onionbalance|--version|onionbalance"                    # deploy/scale-out/onionbalance.yaml
  "torsocks|torsocks|--version|Torsocks"                                # sealdrop pickup over Tor, as editors run it
  "systemd|systemd-analyze|--version|^systemd [0-9]"                    # deploy checks
  "chromium|chromium|--version|Chromium"                                # browser tests
  "chromium-driver|chromedriver|--version|^ChromeDriver"
  "firefox-esr|firefox-esr|--version|Mozilla Firefox"                   # Tor Browser's base (Marionette)
  "imagemagick|convert|-version|^Version: ImageMagick [67]\."                            # pictures for the scrubbing corpus
  "imagemagick|identify|-version|^Version: ImageMagick [67]\."                           # pixel signatures
  "imagemagick|import|-version|^Version: ImageMagick [67]\."                             # the inbox's screenshots (README.md)
  "libimage-exiftool-perl|exiftool|-ver|^[0-9]+\.[0-9]+"                # plants metadata; the scrubbing oracle
  "mat2|mat2|--version|^mat2 "                                          # the scrubbing anchor of docs/SCRUBBING.md
  "pandoc|pandoc|--version|^pandoc "                                    # an independent DOCX reader
  "ffmpeg|ffmpeg|-version|^ffmpeg version"                              # the MP4 corpus; decodes frames
  "nodejs|node|--version|^v(1[89]|[2-9][0-9])\."                        # the TypeScript age (Node.js 18 or later)
  "npm|npm|--version|^[0-9]+\."                                         # installs it and axe-core
  "lintian|lintian|--version|^Lintian v"                                # the Debian packages (scripts/test-packages.sh)
  "apt-utils|apt-ftparchive|--version|^apt [0-9]"                       # their signed apt repository
  "gpg|gpg|--version|^gpg \(GnuPG\)"                                    # signs its Release file
  "minisign|minisign|-v|^minisign [0-9]"                                # signs and checks SHA256SUMS
  "dpkg-dev|dpkg-shlibdeps|--version|dpkg-shlibdeps"                    # the packages' Depends
  "libgtk-4-dev|pkg-config|--modversion gtk4|^4\.([89]|[1-9][0-9])\."   # builds sealdrop-inbox against GTK 4.8 or later
  "xvfb|xvfb-run|--help|^Usage: xvfb-run"                              # the inbox on a virtual display
  "xauth|xauth|version|^1\."
  "dbus-daemon|dbus-run-session|--version|^dbus-run-session"            # its session bus
  "util-linux|unshare|--version|util-linux"                             # ...in a network namespace of its own
  "util-linux|findmnt|--version|util-linux"                             # the folder an export goes to: its device...
  "util-linux|lsblk|--version|util-linux"                               # ...and whether that is a LUKS volume
  "iproute2|ip|-V|^ip utility"
)

install_only=false
if [ "${1:-}" = "--install-only" ]; then
  install_only=true
  shift
fi

shims=target/test-tools/bin
mkdir -p "$shims"

# Prints the first program named $2 that says it is what $4 describes: the
# one the Debian package $1 installed, directly or through the alternatives
# system in /usr/bin (a wrapper of the same name earlier on PATH may change
# what it is asked), then any on PATH.
find_tool() {
  local package=$1 command=$2 args=$3 identity=$4 candidate
  {
    dpkg-query -L "$package" 2>/dev/null | grep -E "/s?bin/$command\$" || true
    echo "/usr/bin/$command"
    echo "/usr/sbin/$command"
    type -P -a "$command" 2>/dev/null || true
  } | while read -r candidate; do
    [ -x "$candidate" ] || continue
    # Some tools exit non-zero after printing their usage: judge the text.
    # shellcheck disable=SC2086
    if (timeout 30 "$candidate" $args 2>&1 || true) | head -5 | grep -qE "$identity"; then
      echo "$candidate"
      return 0
    fi
  done
}

check_tools() {
  wrong=() missing=()
  # Not commands on PATH: the accessibility bus the inbox's test starts, and
  # Debian's own Python with its accessibility bindings, which drives it.
  [ -x /usr/libexec/at-spi-bus-launcher ] || missing+=("at-spi2-core")
  /usr/bin/python3 -c 'import pyatspi' 2>/dev/null || missing+=("python3-pyatspi")
  local entry package command args identity found
  for entry in "${tools[@]}"; do
    IFS='|' read -r package command args identity <<<"$entry"
    found=$(find_tool "$package" "$command" "$args" "$identity" | head -1)
    if [ -n "$found" ]; then
      ln -sfn "$found" "$shims/$command"
    else
      missing+=("$package")
      local other
      other=$(type -P "$command" 2>/dev/null || true)
      [ -n "$other" ] && wrong+=("$command: $other is not what the tests need (its version text lacks /$identity/)")
    fi
  done
}

check_tools
if [ ${#missing[@]} -gt 0 ]; then
  # Unique, in order.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
  for line in "${wrong[@]}"; do echo "note: $line" >&2; done
  # Node.js from another source (NodeSource) carries its own npm and
  # conflicts with Debian's npm package: never ask apt for npm beside it.
  if node --version >/dev/null 2>&1 && npm --version >/dev/null 2>&1; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -vxE 'nodejs|npm' || true)
  fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need these Debian packages, which are missing or not what they seem:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    echo "(or run this script as root, and it installs them)" >&2
    exit 1
  fi
  check_tools
  if [ ${#missing[@]} -gt 0 ]; then
    echo "These tools are still missing or wrong after installing their packages:" >&2
    for line in "${wrong[@]}"; do echo "    $line" >&2; done
    printf '    package %s provides none that answers as expected\n' "${missing[@]}" >&2
    exit 1
  fi
fi
export PATH="$PWD/$shims:$PATH"

if [ "$(id -u)" -ne 0 ]; then
  echo "note: not root: the tests that need root (mounting a tmpfs and a loop device, running" >&2
  echo "the server as another user, reading its memory) will fail; CI runs them as root." >&2
fi

interop=crates/sealdrop-testkit/tests/interop
# The TypeScript age, at the version package-lock.json pins.
if [ ! -d "$interop/age-ts/node_modules/age-encryption" ]; then
  echo "== installing the TypeScript age (npm ci in $interop/age-ts)"
  npm ci --prefix "$interop/age-ts" --no-audit --no-fund --loglevel=error >/dev/null
fi
# axe-core, which the browser tests inject into every page.
if [ ! -f "$interop/axe/node_modules/axe-core/axe.min.js" ]; then
  echo "== installing axe-core (npm ci in $interop/axe)"
  npm ci --prefix "$interop/axe" --no-audit --no-fund --loglevel=error >/dev/null
fi

# Python peers, pinned with hashes in a virtual environment: openpyxl and
# python-pptx write and read the office documents the scrubbing tests clean;
# aiosmtpd is the SMTP server the notify tests send to.
python_peers=$interop/python
if ! "$python_peers/.venv/bin/python" -c "import openpyxl, pptx, aiosmtpd" 2>/dev/null; then
  echo "== installing openpyxl, python-pptx and aiosmtpd (pip into $python_peers/.venv)"
  rm -rf "$python_peers/.venv"
  python3 -m venv "$python_peers/.venv"
  "$python_peers/.venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$python_peers/requirements.txt"
fi

# Garage, the replicated object store of the scale-out tests: built once per
# machine into a cache outside the clone (scripts/build-garage.sh).
scripts/build-garage.sh >/dev/null

$install_only && exit 0
# Everything first (every target: the benchmarks and examples too, so that
# a build or lint error anywhere stops the run before any test starts), then
# the tests. Every test binary runs even when an earlier one failed, so one
# run shows every failure.
if [ $# -eq 0 ]; then
  cargo test --locked --workspace --all-targets --no-run
fi
exec cargo test --locked --workspace --no-fail-fast "$@"
