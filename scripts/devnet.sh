#!/usr/bin/env bash
# One command for a fresh machine (Rust, Node.js >= 20, npm): installs the pinned npm
# packages (anvil) if needed, builds `tandem` in release mode and runs `tandem devnet`.
# Extra arguments go to `tandem devnet` (e.g. --challenge-window 30 --data-dir /tmp/dn).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] || ! cmp -s package-lock.json node_modules/.package-lock.json; then
  echo "==> installing pinned npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "==> cargo build --release -p tandem"
cargo build --release -p tandem

exec target/release/tandem devnet "$@"
