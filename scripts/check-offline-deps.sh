#!/usr/bin/env bash
# sealdrop-open runs on an air-gapped machine. Its Cargo.toml is the offline
# guarantee (it names no network crate); this proves it from the resolved
# tree, for the build and for its tests alike, with a list of banned crates
# as a second guard.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='^(tokio|tokio-[a-z-]+|hyper|hyper-util|h2|h3|axum|axum-core|tower|tower-http|rustls|tokio-rustls|mio|socket2|reqwest|ureq|quinn|native-tls|openssl|curl|multer|lettre|object_store|webpki-roots) '
status=0
for package in sealdrop-open; do
  tree=$(cargo tree --locked -p "$package" --edges normal,build --prefix none --format '{p}')
  if echo "$tree" | grep -E "$banned"; then
    echo "FAIL: $package depends on the network crates above" >&2
    status=1
  fi
  # Its tests must build it exactly as it ships: dev-dependencies may add
  # crates for the tests themselves, never features to what it links.
  features() {
    cargo tree --locked -p "$package" --edges "$1" --prefix none --format '{p}|{f}' | sed 's/ (\*)$//' | sort -u
  }
  shipped=$(features normal,build)
  tested=$(features normal,build,dev)
  # Lines of the tested tree whose crate ships with other features.
  changed=$(comm -13 <(echo "$shipped") <(echo "$tested") | grep -Ff <(echo "$shipped" | cut -d'|' -f1 | sed 's/$/|/') || true)
  if [ -n "$changed" ]; then
    echo "FAIL: $package's tests build these crates with other features than it ships:" >&2
    echo "$changed" >&2
    status=1
  fi
  [ $status -eq 0 ] && echo "ok: $package's dependency tree ($(echo "$tree" | sort -u | wc -l) crates) has no network stack, and its tests build it as it ships"
done
exit $status
