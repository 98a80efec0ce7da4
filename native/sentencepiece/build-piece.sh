#!/usr/bin/env bash
# Builds libunivar_spm.so, the C shim over Debian's libsentencepiece, into $1.
# Exits 0 having built (or found up to date) the library; exits 1, after saying what to install, when the
# toolchain or the SentencePiece headers are missing or the compilation fails. native/build.sh treats that
# as "skipped": nothing but SentencePiece models needs this library.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$1"
LIB="$OUT/libunivar_spm.so"
CXX="${CXX:-g++}"

if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "SentencePiece shim not built: no C++ compiler ($CXX); install g++ (apt-get install g++)" >&2
  exit 1
fi
# Ask the compiler, not a fixed path, whether the headers are reachable.
if ! echo '#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>' | "$CXX" -std=c++17 -x c++ -fsyntax-only - >/dev/null 2>&1; then
  echo "SentencePiece shim not built: install libsentencepiece-dev (apt-get install libsentencepiece-dev)" >&2
  exit 1
fi

# Up to date: nothing to do (keeps `./mvnw package` fast after the first build).
if [ -f "$LIB" ] && [ "$LIB" -nt "$HERE/univar_spm.cc" ] && [ "$LIB" -nt "$HERE/univar_spm.h" ] \
    && [ "$LIB" -nt "$HERE/build-piece.sh" ]; then
  exit 0
fi

mkdir -p "$OUT"
tmp="$(mktemp "$OUT/.libunivar_spm.XXXXXX.so")"
# -Wl,--no-undefined: an unresolved symbol is a build error here, not a dlopen error at run time.
if "$CXX" -O2 -fPIC -shared -std=c++17 -Wall -Wextra -Wl,--no-undefined -Wl,--as-needed \
    -o "$tmp" "$HERE/univar_spm.cc" -lsentencepiece -lsentencepiece_train; then
  chmod 755 "$tmp" && mv -f "$tmp" "$LIB"
  echo "native: built $LIB" >&2
else
  rm -f "$tmp"
  echo "SentencePiece shim not built: compiling native/sentencepiece/univar_spm.cc failed (see above)" >&2
  exit 1
fi
