#!/usr/bin/env bash
# Runs every Tandem test. Installs what the tests need first (pinned npm packages: Foundry,
# solc, circomlibjs), so it works on a fresh machine with Rust, Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

# Install when missing or when the installed versions differ from the pins.
if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
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
