#!/bin/sh
# Builds the contracts offline with the repo's solc facade (npm solc 0.8.37, evm prague) and
# exports ABI + bytecode of the deployable contracts into contracts/artifacts/ (committed, so
# `cargo build` never needs node). Needs `npm ci` at the repo root first.
# Usage: contracts/build.sh [artifacts dir]   (default: contracts/artifacts)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
FORGE="$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
[ -x "$FORGE" ] || FORGE="$ROOT/node_modules/.bin/forge"
ART=${1:-"$HERE/artifacts"}
cd "$HERE"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
# A fresh out/cache directory every time: the export never sees stale artifacts.
FOUNDRY_SOLC="$ROOT/tools/solc" "$FORGE" build --offline --skip test --skip script \
  --out "$TMP/out" --cache-path "$TMP/cache" src
node "$HERE/export-artifacts.cjs" "$TMP/out" "$ART"
# The circomlib Poseidon contracts (4 and 7 inputs; raw EVM code, not Solidity).
node "$HERE/poseidon/gen.cjs" "$ART"
