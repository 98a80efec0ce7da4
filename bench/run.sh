#!/usr/bin/env bash
# Runs one of the side-by-side comparisons in bench/ with the project's classpath:
#   bench/run.sh EncoderComparison [--threads 2] [--repeat 20] [--shapes 32x128,8x512,1x16]
#   bench/run.sh OpenBlasGemm [--threads 2] [--repeat 20]       (installs Debian's libopenblas0 when missing)
#   bench/run.sh EmbedComparison [--texts 2000] [--max-length 128] [--threads 2]
#   bench/run.sh OpProfile [--threads 2] [--batch-size 32] [--seq-len 128] [--repeat 15]   (time per backend operation)
#   bench/run.sh Products [--threads 2] [--rows 4096] [--repeat 20]   (the encoder's four dense products alone)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/jdk.sh"
cd "$ROOT"
main="$1"; shift
if [ "$main" = OpenBlasGemm ] && ! ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0 >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0 >&2
fi
./mvnw -q -B -DskipTests install >&2
envs=()
if [ "$main" = OpenBlasGemm ]; then
  # Some machines here pin OpenBLAS to an older kernel (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE) for old numpy builds;
  # a fair comparison lets OpenBLAS use its best kernel: SkylakeX where the CPU has AVX-512, else its own choice.
  envs=(-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
  grep -q avx512f /proc/cpuinfo && envs+=(OPENBLAS_CORETYPE=SkylakeX)
fi
CP="$(./mvnw -q -B -pl bench dependency:build-classpath -Dmdep.outputFile=/dev/stdout)"
extra=()
[ "$main" = EmbedComparison ] && extra=(--data "$ROOT/../shared/data/pct")
exec env "${envs[@]}" "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -cp "bench/target/classes:$CP" "dev.univar.bench.$main" "${extra[@]}" "$@"
