#!/usr/bin/env bash
# Installs what the tests need, then runs every test of every module (the README's second Quick start command,
# run verbatim by .ci/run). Tests that need ../shared/data or a native library skip cleanly without them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/jdk.sh"

# Debian packages the tests use; installed only when missing (needs root or sudo).
# libsentencepiece-dev: headers the build compiles the SentencePiece shim (native/sentencepiece) against;
# sentencepiece: spm_encode, spm_train and spm_normalize, the reference the SentencePiece parity tests compare with.
# chromium: the headless browser the report test renders report.html in.
PACKAGES=(libsentencepiece-dev sentencepiece chromium)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "test.sh: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

cd "$ROOT"
exec ./mvnw -B -ntp verify "$@"
