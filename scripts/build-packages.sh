#!/usr/bin/env bash
# Builds sealdrop's Debian packages from this checkout, reproducibly:
#
#   scripts/build-packages.sh OUTDIR [--no-build] [--deb-version VERSION]
#
# The four programs (sealdrop; sealdrop-open and its sandbox helper;
# sealdrop-inbox) are built once with `cargo auditable` (the dependency list embedded in each
# binary), release profile, --locked, with the toolchain rust-toolchain.toml
# pins; then `cargo deb --no-build` packs sealdrop_*.deb,
# sealdrop-open_*.deb and sealdrop-inbox_*.deb into OUTDIR, with SHA256SUMS. --no-build packs the
# binaries already built (two versions of one build: the upgrade tests).
#
# Reproducible: the same commit gives the same bytes in any folder on any
# machine with the same toolchain. Every time in the packages is the
# commit's (SOURCE_DATE_EPOCH), and no path of the machine stays in a
# binary: the registry's is remapped, the checkout's never enters (Cargo
# names our sources relative to the workspace; no debug information).
# CARGO_TARGET_DIR may point outside the checkout (CI keeps one per machine).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/build-packages.sh OUTDIR [--no-build] [--deb-version VERSION]}
shift
build=yes
version=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=no ;;
    --deb-version) version=(--deb-version "${2:?}"); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for tool in cargo-deb cargo-auditable; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing: cargo install --locked $tool" >&2; exit 1; }
done
if [ "$build" = yes ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && [ -z "${SEALDROP_ALLOW_DIRTY:-}" ]; then
  echo "FAIL: uncommitted changes: a package names the commit it was built from (--version); commit first" >&2
  exit 1
fi

# Every time inside the packages is the commit's. Given to cargo deb only:
# the compilers take no time from it here (nothing uses __DATE__), and the
# C parts' build scripts (ring's, through cc) rebuild whenever it changes.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
# The commit --version names, given to the build script outright: with a
# target folder shared between checkouts, the build script's own watch on
# one checkout's .git would miss another's commits.
SEALDROP_COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
export SEALDROP_COMMIT
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# Only the registry's path is remapped: one flag, the same in every folder,
# so a second build elsewhere reuses the dependencies the first compiled.
export RUSTFLAGS="--remap-path-prefix=$(realpath "$cargo_home")=/cargo"
export CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols
export CARGO_INCREMENTAL=0

if [ "$build" = yes ]; then
  # Three runs: one would unify the crates' features across the server and
  # the laptop's programs, and sealdrop-open (or the inbox) would ship built
  # with features its offline check never saw (scripts/check-offline-deps.sh).
  cargo auditable build --release --locked -p sealdrop-open -p sealdrop-scrub --bins
  cargo auditable build --release --locked -p sealdrop-inbox --bins
  cargo auditable build --release --locked -p sealdrop --bins
fi
mkdir -p "$out"
for package in sealdrop sealdrop-open sealdrop-inbox; do
  SOURCE_DATE_EPOCH=$epoch cargo deb --no-build --no-strip --locked -p "$package" -o "$out" "${version[@]}" >/dev/null
done
(cd "$out" && sha256sum -- *.deb > SHA256SUMS)
ls -l "$out"
