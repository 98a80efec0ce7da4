#!/usr/bin/env bash
# Builds a trimmed Java runtime (jlink) that runs univar on a machine without a JDK 25, for example a GPU machine:
#
#   scripts/jlink-runtime.sh OUT_DIR [--without MODULE,...] [--with MODULE,...] [JAR ...]
#
# Modules: java.base, jdk.incubator.vector, java.net.http and jdk.unsupported, plus whatever jdeps finds the univar
# jars need (cli/target/univar.jar and cli/target/lib/*.jar, less the langchain4j artifact that only carries the
# MiniLM model files) and the extra JARs named; --with adds modules, --without leaves modules out (java.desktop, say,
# which only the PNG figures of map/compare/report use). Flags: --strip-debug --no-man-pages --no-header-files
# --compress=zip-9. Build univar first (./mvnw -q -B -DskipTests package). OUT_DIR must not exist, or hold an
# earlier runtime (a `release` file), which is replaced. Run univar with it as
#   OUT_DIR/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar cli/target/univar.jar
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

OUT="" WITH="" WITHOUT=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --with) [ $# -ge 2 ] || usage; WITH="$2"; shift 2 ;;
    --without) [ $# -ge 2 ] || usage; WITHOUT="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "jlink-runtime.sh: unknown option $1" >&2; usage ;;
    *) if [ -z "$OUT" ]; then OUT="$1"; else EXTRA+=("$1"); fi; shift ;;
  esac
done
[ -n "$OUT" ] || usage

# shellcheck source=scripts/jdk.sh
source "$ROOT/scripts/jdk.sh"   # exports JAVA_HOME (a JDK 25) or explains what to install

JAR="$ROOT/cli/target/univar.jar"
if [ ! -f "$JAR" ]; then
  echo "jlink-runtime.sh: error: $JAR is missing: build univar first (./mvnw -q -B -DskipTests package)" >&2
  exit 1
fi
if [ -e "$OUT" ]; then
  if [ -f "$OUT/release" ]; then rm -rf "$OUT"
  else echo "jlink-runtime.sh: error: $OUT exists and is not a runtime this script made; remove it or pick another" >&2; exit 1; fi
fi

# jdeps reads modular jars (gson, commons-*) only from a module path: give it a folder holding every jar.
SCAN="$(mktemp -d)"
trap 'rm -rf "$SCAN"' EXIT
cp "$JAR" "$SCAN/"
for j in "$ROOT"/cli/target/lib/*.jar; do
  case "$(basename "$j")" in langchain4j-*) ;; *) cp "$j" "$SCAN/" ;; esac
done
for j in "${EXTRA[@]+"${EXTRA[@]}"}"; do
  [ -f "$j" ] || { echo "jlink-runtime.sh: error: no such jar: $j" >&2; exit 1; }
  cp "$j" "$SCAN/"
done
FOUND="$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
          --module-path "$SCAN" "$SCAN"/*.jar 2>/dev/null | tail -n 1)"
case "$FOUND" in java.base*) ;; *) echo "jlink-runtime.sh: error: jdeps found no module list (got: $FOUND)" >&2; exit 1 ;; esac

MODULES="$(printf '%s\n' "java.base,jdk.incubator.vector,java.net.http,jdk.unsupported,$FOUND,$WITH" \
             | tr ',' '\n' | grep -v '^$' | sort -u)"
if [ -n "$WITHOUT" ]; then
  MODULES="$(printf '%s\n' "$MODULES" | grep -vxF -f <(printf '%s\n' "$WITHOUT" | tr ',' '\n') || true)"
fi
MODULES="$(printf '%s\n' "$MODULES" | paste -sd, -)"

echo "jlink-runtime.sh: modules $MODULES" >&2
if ! log="$("$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
             --compress=zip-9 --output "$OUT" 2>&1)"; then
  printf '%s\n' "$log" >&2
  echo "jlink-runtime.sh: error: jlink failed" >&2
  exit 1
fi
printf '%s\n' "$log" | grep -v -e 'Using incubator modules' -e '^$' >&2 || true
"$OUT/bin/java" -version >/dev/null 2>&1 || { echo "jlink-runtime.sh: error: $OUT/bin/java does not start" >&2; exit 1; }
echo "jlink-runtime.sh: $OUT: $(du -sm "$OUT" | cut -f1) MiB ($("$OUT/bin/java" --list-modules | wc -l) modules)" >&2
