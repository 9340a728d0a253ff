#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 10).
# For long runs: cargo +nightly fuzz run TARGET -- -max_total_time=36000
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-10}
for target in $(cargo +nightly fuzz list); do
  echo "fuzz: $target for ${seconds}s"
  mkdir -p "corpus/$target"
  seeds=()
  [ -d "corpus-seed/$target" ] && seeds=("corpus-seed/$target")
  cargo +nightly fuzz run "$target" "corpus/$target" "${seeds[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 | tail -n 3
done
