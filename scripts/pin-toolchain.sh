#!/usr/bin/env bash
# Makes the toolchain rust-toolchain.toml pins usable without a network: if
# rustup has no toolchain of that name but its stable toolchain is exactly
# that version, the pinned name is linked to it (rustup would otherwise try
# to download it, and fail offline). With network access rustup installs the
# pinned version itself and this does nothing. Called by scripts/test.sh and
# .ci/run before any cargo command.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rustup >/dev/null || exit 0
pinned=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
home=${RUSTUP_HOME:-$HOME/.rustup}
host=$(RUSTUP_TOOLCHAIN=stable rustc -vV | sed -n 's/^host: //p')
link="$home/toolchains/$pinned-$host"
if [ -e "$link" ]; then
  # A link made earlier follows "stable", which `rustup update` moves on.
  have=$("$link/bin/rustc" --version | cut -d' ' -f2)
  [ "$have" = "$pinned" ] && exit 0
  echo "the toolchain named $pinned is rustc $have: remove $link, then \`rustup toolchain install $pinned\`" >&2
  exit 1
fi
stable="$home/toolchains/stable-$host"
have=$("$stable/bin/rustc" --version 2>/dev/null | cut -d' ' -f2 || true)
if [ "$have" != "$pinned" ]; then
  echo "rust-toolchain.toml pins Rust $pinned; this machine's stable is ${have:-missing}: run \`rustup toolchain install $pinned\` (needs network) or move the pin (docs/DEPLOY.md)" >&2
  exit 1
fi
ln -s "$stable" "$home/toolchains/$pinned-$host"
echo "linked the pinned toolchain $pinned to this machine's stable ($have)"
