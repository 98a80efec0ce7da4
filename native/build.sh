#!/usr/bin/env bash
# Builds the native pieces of univar when their toolchains are present. Each piece is optional: a missing
# toolchain or library is reported (with the package to install) and skipped, never fatal, so this script
# succeeds either way; nothing but the features that need a piece depends on it.
#
#   native/build.sh                      build into native/build/<os>-<arch>/
#   native/build.sh --resources DIR      build into DIR/native/<os>-<arch>/, the layout
#                                        dev.univar.bindings.NativeLibraries loads from the classpath
#                                        (the Maven build of bindings/ runs this with DIR = target/classes)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLATFORM="$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)"
case "$PLATFORM" in *-arm64) PLATFORM="${PLATFORM%-arm64}-aarch64" ;; esac
if [ "${1:-}" = "--resources" ]; then
  OUT="${2:?--resources needs a folder}/native/$PLATFORM"
else
  OUT="${1:-$HERE/build/$PLATFORM}"
fi
mkdir -p "$OUT"
built=0
for piece in "$HERE"/*/build-piece.sh; do
  [ -f "$piece" ] || continue
  bash "$piece" "$OUT" && built=$((built + 1))
done
echo "native: $built piece(s) built or up to date in $OUT"
