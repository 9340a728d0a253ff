#!/usr/bin/env bash
# Builds Garage (the replicated S3-compatible store the scale-out tests run
# as a three-node cluster, crates/sealdrop-testkit/src/garage.rs) once per machine, into a
# machine-wide cache keyed by its version, outside any clone's target/:
#   $SEALDROP_CACHE/garage-VERSION/bin/garage
# (SEALDROP_CACHE defaults to /var/cache/sealdrop-tests as root, else
# ~/.cache/sealdrop-tests). A fresh clone on a machine that built it once
# finds it there and returns at once. Prints the binary's path on its last line.
# Several callers may run this at the same time (.ci/run starts it early in
# the background; scripts/test.sh needs it): a lock makes them take turns.
#
# Features: the LMDB metadata engine only, with bundled C libraries (no
# SQLite, K2V or metrics: the tests need none, and they halve the build).
set -euo pipefail

version=2.5.0
if [ -z "${SEALDROP_CACHE:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then SEALDROP_CACHE=/var/cache/sealdrop-tests
  else SEALDROP_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sealdrop-tests"; fi
fi
root="$SEALDROP_CACHE/garage-$version"
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
if [ -x "$root/bin/garage" ] && "$root/bin/garage" --version 2>/dev/null | grep -q "$version"; then
  echo "$root/bin/garage"
  exit 0
fi
echo "== building Garage $version into $root (once per machine; about 10 minutes on 2 cores)" >&2
CARGO_TARGET_DIR="$root/build" cargo install --locked --quiet garage --version "$version" \
  --no-default-features --features bundled-libs,lmdb --root "$root" >&2
# The intermediate build is large and never needed again.
rm -rf "$root/build"
echo "$root/bin/garage"
