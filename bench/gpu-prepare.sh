#!/usr/bin/env bash
# Builds dist/gpu/: everything bench/gpu-check.sh needs on a GPU machine that has no JDK and no network.
#
#   bash bench/gpu-prepare.sh [MAVEN_ARG ...]        e.g. bash bench/gpu-prepare.sh -o   (offline)
#
# dist/gpu/ (ignored by git, rebuilt from scratch each time; ~54 MiB, under the 55 MiB that leaves room for the
# working tree within the device tool's 64 MiB):
#   runtime/       a jlinked Java 25 (scripts/jlink-runtime.sh, without java.desktop: no PNG figures there)
#   univar.jar     the CLI; lib/ its runtime dependencies, less the 83 MB langchain4j jar that only carries the
#                  MiniLM files (the GPU check runs a random encoder of MiniLM's shape made there by `univar init`)
#   test/          the engine's test classes (univar-engine-tests.jar) and JUnit's console launcher, for the CUDA tests
#   BUILD-INFO     commit, date, JDK and modules, so the results name what was measured
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/jdk.sh
source "$ROOT/scripts/jdk.sh"

DIST="$ROOT/dist/gpu"
LIMIT_MIB=55

echo "gpu-prepare: building univar (tests compiled, not run) ..." >&2
./mvnw -q -B -DskipTests "$@" package >&2

# JUnit's console launcher, of the JUnit Platform that goes with the project's JUnit Jupiter (5.x.y -> 1.x.y).
JUPITER="$(sed -n 's:.*<junit.version>\(5\.[0-9.]*\)</junit.version>.*:\1:p' pom.xml | head -n 1)"
[ -n "$JUPITER" ] || { echo "gpu-prepare: error: no <junit.version>5.x.y</junit.version> in pom.xml" >&2; exit 1; }
PLATFORM="1.${JUPITER#5.}"

rm -rf "$DIST"
mkdir -p "$DIST/lib" "$DIST/test"
echo "gpu-prepare: junit-platform-console-standalone $PLATFORM ..." >&2
./mvnw -q -B -N "$@" dependency:copy \
    "-Dartifact=org.junit.platform:junit-platform-console-standalone:$PLATFORM" \
    "-DoutputDirectory=$DIST/test" >&2

cp cli/target/univar.jar "$DIST/"
for j in cli/target/lib/*.jar; do
  case "$(basename "$j")" in langchain4j-*) ;; *) cp "$j" "$DIST/lib/" ;; esac
done
"$JAVA_HOME/bin/jar" --create --file "$DIST/test/univar-engine-tests.jar" -C engine/target/test-classes .

# jdk.zipfs: JUnit finds test classes inside jars through the zip file system.
scripts/jlink-runtime.sh "$DIST/runtime" --without java.desktop,java.compiler --with jdk.zipfs

{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m)"
  echo "jdk: $("$DIST/runtime/bin/java" -version 2>&1 | head -n 1)"
  echo "modules: $("$DIST/runtime/bin/java" --list-modules | sed 's/@.*//' | paste -sd, -)"
  echo "junit-platform-console-standalone: $PLATFORM"
} > "$DIST/BUILD-INFO"

# A start-up check with the bundled runtime: the CLI runs a small GEMM on the CPU (its figure means nothing).
if ! "$DIST/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
     -jar "$DIST/univar.jar" bench gemm --device cpu --threads 1 --m 64 --n 64 --k 64 --repeat 2 --warmup 0.1 \
     > "$DIST/.smoke" 2>&1; then
  cat "$DIST/.smoke" >&2
  rm -f "$DIST/.smoke"
  echo "gpu-prepare: error: univar does not run on the bundled runtime" >&2
  exit 1
fi
rm -f "$DIST/.smoke"
echo "gpu-prepare: univar runs on the bundled runtime" >&2

mib() { du -sb "$@" | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }'; }
bytes="$(du -sb "$DIST" | cut -f1)"
echo "gpu-prepare: $DIST: $(mib "$DIST") MiB in $(find "$DIST" -type f | wc -l) files (runtime $(mib "$DIST/runtime")," \
     "univar and its jars $(mib "$DIST/univar.jar" "$DIST/lib"), tests $(mib "$DIST/test"))"
if awk -v b="$bytes" -v l="$LIMIT_MIB" 'BEGIN { exit !(b > l * 1048576) }'; then
  echo "gpu-prepare: warning: over $LIMIT_MIB MiB: with the working tree it may exceed what the device tool carries (64 MiB)" >&2
fi
echo "gpu-prepare: on the GPU machine, from the repository root: bash bench/gpu-check.sh   (carry dist/gpu)"
