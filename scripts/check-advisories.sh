#!/usr/bin/env bash
# Checks every crate in Cargo.lock against the RustSec advisory database,
# offline. Machines here cannot fetch the database from GitHub, so the check
# runs against the snapshot in ../shared/rustsec-advisory-db (its date is in
# ../shared/rustsec-advisory-db.SNAPSHOT), turned into the git repository
# cargo-deny reads, in a temporary folder. Any advisory not listed with a
# reason in deny.toml fails.
#
#   scripts/check-advisories.sh [SNAPSHOT-FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot=$(realpath "${1:-../shared/rustsec-advisory-db}")
[ -d "$snapshot/crates" ] || {
  echo "FAIL: no advisory database at $snapshot (expected the RustSec snapshot in ../shared/)" >&2
  exit 1
}
note="$snapshot.SNAPSHOT"
date=$(tr '\n' ' ' < "$note" 2>/dev/null | grep -o 'committed [0-9T:+-]*' | cut -d' ' -f2 || true)
commit=$(tr '\n' ' ' < "$note" 2>/dev/null | grep -o 'commit [0-9a-f]\{40\}' | cut -d' ' -f2 || true)

# cargo-deny --offline runs `cargo metadata --offline`, which needs every
# crate of the lock file (all platforms) in the local registry cache.
cargo fetch --locked >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dbs="$work/advisory-dbs"
mkdir -p "$dbs"

# cargo-deny keeps each database in a folder named after its URL; ask it
# which one it wants by letting it look once into the empty root.
wanted=$(SEALDROP_ADVISORY_DBS="$dbs" cargo deny --locked --offline check advisories 2>&1 \
  | grep -o "$dbs/[A-Za-z0-9._-]*" | head -n 1 || true)
[ -n "$wanted" ] || wanted="$dbs/advisory-db-3157b0e258782691"

cp -r "$snapshot" "$wanted"
(
  cd "$wanted"
  git init -q
  git add -A
  GIT_AUTHOR_DATE="${date:-now}" GIT_COMMITTER_DATE="${date:-now}" \
    git -c user.name=snapshot -c user.email=snapshot@localhost \
    commit -q -m "RustSec advisory-db snapshot ${commit:-(unknown commit)}"
)
echo "RustSec advisory database: snapshot of ${commit:-?} (${date:-date unknown})"
SEALDROP_ADVISORY_DBS="$dbs" cargo deny --locked --offline check advisories
