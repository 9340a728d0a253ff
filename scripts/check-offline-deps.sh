#!/usr/bin/env bash
# sealdrop-open runs on an air-gapped machine: prove that, built as documented
# (`--no-default-features --features pq`), that is without the
# `server` feature, nothing in its dependency tree is a network stack.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree --locked --no-default-features --features pq --edges normal,build --prefix none --format '{p}')
banned='^(tokio|tokio-[a-z-]+|hyper|hyper-util|h2|h3|axum|axum-core|tower|tower-http|rustls|tokio-rustls|mio|socket2|reqwest|ureq|quinn|native-tls|openssl|curl|multer) '
if echo "$tree" | grep -E "$banned"; then
  echo "FAIL: the offline build of sealdrop-open depends on the network crates above" >&2
  exit 1
fi
echo "ok: sealdrop-open's dependency tree ($(echo "$tree" | sort -u | wc -l) crates) has no network stack"
