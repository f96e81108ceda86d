#!/bin/sh
# Rebuilds the contracts and fails if contracts/artifacts/ differs from the fresh build
# (run in CI: the committed artifacts must be exactly what the sources compile to).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
sh "$HERE/build.sh" "$TMP/artifacts" >/dev/null
if diff -r "$HERE/artifacts" "$TMP/artifacts"; then
  echo "contracts/artifacts is up to date"
else
  echo "contracts/artifacts is stale: run contracts/build.sh and commit the result" >&2
  exit 1
fi
