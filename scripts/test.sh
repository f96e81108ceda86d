#!/usr/bin/env bash
# Runs every Tandem test. Installs what the tests need first (pinned npm packages: Foundry,
# solc, circomlibjs), so it works on a fresh machine with Rust, Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || ! cmp -s package-lock.json node_modules/.package-lock.json; then
  echo "==> installing pinned npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "==> cargo test (workspace)"
cargo test --workspace --locked

if [ -x contracts/test.sh ]; then
  echo "==> contracts: artifacts current, forge tests"
  contracts/check-artifacts.sh
  contracts/test.sh
fi
echo "==> all tests passed"
