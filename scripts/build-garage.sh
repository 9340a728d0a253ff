#!/usr/bin/env bash
# Builds Garage (the replicated S3-compatible store the scale-out tests run
# as a three-node cluster, tests/common/garage.rs) once per machine, into
# target/garage/bin/garage. Later runs find it there and return at once.
# Several callers may run this at the same time (.ci/run starts it early in
# the background; scripts/test.sh needs it): a lock makes them take turns.
#
# Features: the LMDB metadata engine only, with bundled C libraries (no
# SQLite, K2V or metrics: the tests need none, and they halve the build).
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.5.0
root=target/garage
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
if [ -x "$root/bin/garage" ] && "$root/bin/garage" --version 2>/dev/null | grep -q "$version"; then
  exit 0
fi
echo "== building Garage $version into $root (once per machine; about 10 minutes on 2 cores)"
CARGO_TARGET_DIR="$root/build" cargo install --locked --quiet garage --version "$version" \
  --no-default-features --features bundled-libs,lmdb --root "$root"
# The intermediate build is large and never needed again.
rm -rf "$root/build"
