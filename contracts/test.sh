#!/bin/sh
# Runs the Foundry tests offline with the repo's solc facade (npm solc 0.8.37).
# Usage: contracts/test.sh [extra forge test args, e.g. -vv --match-test gas]
# Needs `npm ci` at the repo root first.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
FORGE="$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
[ -x "$FORGE" ] || FORGE="$ROOT/node_modules/.bin/forge"
cd "$HERE"
FOUNDRY_SOLC="$ROOT/tools/solc" exec "$FORGE" test --offline "$@"
