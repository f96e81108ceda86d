#!/usr/bin/env bash
# Runs every Tandem test. Installs what the tests need first (pinned npm packages: Foundry,
# solc, circomlibjs, playwright-core; Debian's chromium for the dashboard's browser test), so
# it works on a fresh machine with Rust, Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

# Install when missing or when the installed versions differ from the pins.
if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  echo "==> installing pinned npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The dashboard's browser test (crates/cli/tests/devnet.rs) drives Debian's Chromium.
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium (apt-get) for the dashboard's browser test"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi

echo "==> formatting (cargo fmt --check, rustfmt.toml)"
if ! cargo fmt --version >/dev/null 2>&1; then
  rustup component add rustfmt
fi
cargo fmt --all --check

echo "==> cargo test (workspace)"
cargo test --workspace --locked

# Run through `sh`, not by their run bit: a lost executable bit must not skip the contract
# tests, and a missing script fails the run loudly.
echo "==> contracts: artifacts current, forge tests"
for script in contracts/check-artifacts.sh contracts/test.sh; do
  if [ ! -f "$script" ]; then
    echo "error: $script is missing" >&2
    exit 1
  fi
done
sh contracts/check-artifacts.sh
sh contracts/test.sh
echo "==> all tests passed"
