#!/usr/bin/env bash
# Builds the native pieces of univar into native/build/ when their toolchains are present.
# Each piece is optional: a missing toolchain is reported and skipped, never fatal.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/build"
mkdir -p "$OUT"
built=0
for piece in "$HERE"/*/build-piece.sh; do
  [ -f "$piece" ] || continue
  bash "$piece" "$OUT" && built=$((built + 1))
done
echo "native: $built piece(s) built into $OUT"
