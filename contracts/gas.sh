#!/bin/sh
# Prints commitBatch gas for 32, 128 and 512 Transfer ops, two ways:
#  1. forge tests (test/Gas.t.sol): execution gas measured in-EVM, plus calldata gas and the
#     EIP-7623 floor computed from the transaction input;
#  2. real transactions on a local anvil (--hardfork prague): gasUsed from the receipts.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN="$ROOT/node_modules/@foundry-rs"
FORGE="$BIN/forge-linux-amd64/bin/forge"
ANVIL="$BIN/anvil-linux-amd64/bin/anvil"
cd "$HERE"
sh "$HERE/test.sh" --match-contract GasTest -vv | grep -v '^\s*$'

PORT=${ANVIL_PORT:-18545}
"$ANVIL" --host 127.0.0.1 --port "$PORT" --hardfork prague --silent &
ANVIL_PID=$!
TMP=$(mktemp -d)
trap 'kill $ANVIL_PID 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
sleep 1
# anvil's well-known first dev key (local devnet only)
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
FOUNDRY_BROADCAST="$TMP/broadcast" FOUNDRY_SOLC="$ROOT/tools/solc" "$FORGE" script script/CommitGas.s.sol:CommitGas --offline \
  --rpc-url "http://127.0.0.1:$PORT" --private-key "$KEY" --broadcast --slow \
  --cache-path "$TMP/cache" >/dev/null
node -e '
const r = require(process.argv[1]);
const commits = r.transactions.map((t, i) => [t, r.receipts[i]]).filter(([t]) => t.function && t.function.startsWith("commitBatch"));
const sizes = [8, 32, 128, 512];
console.log("anvil (prague) receipts, commitBatch:");
commits.forEach(([t, rc], i) => {
  const g = parseInt(rc.gasUsed, 16);
  console.log(`  ${sizes[i]} transfers: gasUsed ${g}, per op incl. 21000 base ${(g / sizes[i]).toFixed(1)}, per op excl. base ${((g - 21000) / sizes[i]).toFixed(1)}`);
});
' "$(find "$TMP/broadcast" -name run-latest.json | head -1)"
