#!/usr/bin/env bash
# Runs every sealdrop benchmark against its baselines, on a fresh machine too:
# installs Debian's age, wrk, nginx and curl (as root), OnionShare and
# matplotlib from PyPI into a throwaway virtualenv under target/, builds the
# release binaries, then runs bench/bench.py with the arguments given here.
#   bench/run.sh            print the report
#   bench/run.sh --write    also update docs/BENCHMARKS.md and the plot
#   bench/run.sh --only ingest open --runs 3
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in age wrk nginx curl; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

venv=target/bench-venv
if [ ! -x "$venv/bin/onionshare-cli" ] || [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check onionshare-cli==2.7 matplotlib==3.9.2
fi

cargo build --release --locked --bins
exec "$venv/bin/python" bench/bench.py --venv "$venv" "$@"
