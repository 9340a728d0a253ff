#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 10); CI uses 5.
# For long runs: cargo +nightly fuzz run TARGET -- -max_total_time=36000
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in $(cargo +nightly fuzz list); do
  echo "fuzz: $target for ${seconds}s"
  mkdir -p "corpus/$target"
  seeds=()
  [ -d "corpus-seed/$target" ] && seeds=("corpus-seed/$target")
  if cargo +nightly fuzz run "$target" "corpus/$target" "${seeds[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -n 3 "$log"
  else
    # The whole story: a build error, or the crash, its input and the backtrace.
    grep -v '^ *at ' "$log" | tail -n 80
    echo "FAIL: fuzz target $target"
    exit 1
  fi
done
