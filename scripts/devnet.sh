#!/usr/bin/env bash
# One command for a fresh machine (Rust, Node.js >= 20, npm): installs the pinned npm
# packages (anvil) if needed, builds `tandem` in release mode and runs `tandem devnet`.
# Extra arguments go to `tandem devnet` (e.g. --challenge-window 30 --data-dir /tmp/dn, or
# --sequencers 4 for a staked sequencer set of four member nodes).
set -euo pipefail
cd "$(dirname "$0")/.."

# (npm's node_modules/.package-lock.json never equals package-lock.json byte for byte: it has
# no root entry; `npm ls` checks the installed versions against the pins instead.)
if [ ! -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  echo "==> installing pinned npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "==> cargo build --release -p tandem"
cargo build --release -p tandem

exec target/release/tandem devnet "$@"
