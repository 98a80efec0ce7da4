#!/usr/bin/env bash
# Regenerates the FFM bindings under src/main/java with jextract (https://jdk.java.net/jextract/).
# jextract is not needed to build univar: the generated sources are committed. Run this after changing a
# header in native/, then review the diff.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JEXTRACT="${JEXTRACT:-jextract}"
if ! command -v "$JEXTRACT" >/dev/null 2>&1; then
  echo "regenerate.sh: jextract not found (set JEXTRACT=/path/to/jextract); the committed bindings are unchanged" >&2
  exit 1
fi

# SentencePiece shim. No --library: the header class looks symbols up in the libraries its class loader
# loaded (SymbolLookup.loaderLookup()), and NativeLibraries.load("univar_spm", ...) does the System.load of
# the copy packed into the jar. Only the shim's own names are kept, not all of stdint.h.
"$JEXTRACT" \
  --target-package dev.univar.bindings.spm \
  --header-class-name univar_spm_h \
  --output "$HERE/src/main/java" \
  --include-constant UNIVAR_SPM_OK --include-constant UNIVAR_SPM_ERROR --include-constant UNIVAR_SPM_SHORT_BUFFER \
  --include-typedef int32_t --include-typedef int64_t --include-typedef size_t \
  $(sed -n 's/^[a-z0-9_ ]*[ *]\(univar_spm_[a-z_]*\)(.*/--include-function \1/p' "$ROOT/native/sentencepiece/univar_spm.h") \
  "$ROOT/native/sentencepiece/univar_spm.h"
echo "regenerate.sh: wrote $HERE/src/main/java/dev/univar/bindings/spm/univar_spm_h.java" >&2
