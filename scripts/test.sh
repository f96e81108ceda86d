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

echo "==> cargo test (workspace): building every test binary"
cargo test --workspace --locked --no-run

# Two lanes at once. The pure computations (circuits, ledger, cryptography, encodings: CPU-bound,
# nothing timed) run niced, on the cores that the rest leaves idle: the end-to-end tests spend
# most of their time waiting on L1 blocks, windows and other processes. The rest runs at full
# priority, so no consensus timeout or devnet wait is stretched by the computations beside it.
# Both lanes select test targets across the whole workspace (`--test NAME`), never packages
# (`-p`): a package subset would resolve other features and rebuild dozens of crates.
compute_tests=(batch chunks data_hash gadgets groth16 stf properties deferred public_batch crash
  circomlibjs points small_order encoding golden_vectors)
compute_args=()
for t in "${compute_tests[@]}"; do compute_args+=(--test "$t"); done
# The rest: every unit test and every other test file, so that a new test file runs there.
rest_args=(--lib --bins)
for t in $(for f in crates/*/tests/*.rs; do basename "$f" .rs; done | sort -u); do
  case " ${compute_tests[*]} " in
    *" $t "*) ;;
    *) rest_args+=(--test "$t") ;;
  esac
done
compute_log=$(mktemp)
echo "==> cargo test: ${compute_tests[*]} and the doc tests, niced beside the rest (their output follows)"
nice -n 10 bash -c 'cargo test --workspace --locked "$@" && cargo test --workspace --locked --doc' _ "${compute_args[@]}" \
  >"$compute_log" 2>&1 &
compute_pid=$!
trap 'kill "$compute_pid" 2>/dev/null || true; rm -f "$compute_log"' EXIT
rest_status=0
cargo test --workspace --locked "${rest_args[@]}" || rest_status=$?
compute_status=0
wait "$compute_pid" || compute_status=$?
echo "==> cargo test: ${compute_tests[*]} and the doc tests (ran niced beside the rest)"
cat "$compute_log"
if [ "$rest_status" -ne 0 ] || [ "$compute_status" -ne 0 ]; then
  echo "error: cargo test failed (rest: exit $rest_status, computations: exit $compute_status)" >&2
  exit 1
fi

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
