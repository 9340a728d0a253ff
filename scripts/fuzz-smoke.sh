#!/usr/bin/env bash
# Builds every fuzz target (fuzz/format, fuzz/scrub, fuzz/server: one package
# per crate fuzzed, one workspace and target folder for all) and runs each for
# SECONDS (default 10); CI uses 5.
# For long runs: cargo +nightly fuzz run --fuzz-dir fuzz/scrub TARGET -- -max_total_time=36000
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for package in format scrub server; do
  for target in $(cargo +nightly fuzz list --fuzz-dir "$package"); do
    echo "fuzz: $package/$target for ${seconds}s"
    mkdir -p "$package/corpus/$target"
    seeds=()
    [ -d "$package/corpus-seed/$target" ] && seeds=("$package/corpus-seed/$target")
    if cargo +nightly fuzz run --fuzz-dir "$package" "$target" "$package/corpus/$target" "${seeds[@]}" \
        -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
      tail -n 3 "$log"
    else
      # The whole story: a build error, or the crash, its input and the backtrace.
      grep -v '^ *at ' "$log" | tail -n 80
      echo "FAIL: fuzz target $package/$target"
      exit 1
    fi
  done
done
