#!/usr/bin/env bash
# End to end, counted the same way for both (process start, model load, tokenisation, embedding, writing):
# `./univar embed` against the same job done by ONNX Runtime + Hugging Face tokenizers (OrtEmbedPipeline),
# alternating runs, median wall time of each.
#   bench/embed-e2e.sh INPUT [--max-length 128] [--threads 2] [--runs 3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/jdk.sh"
cd "$ROOT"
input="$1"; shift
maxlen=128; threads=2; runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --max-length) maxlen="$2"; shift 2;;
    --threads) threads="$2"; shift 2;;
    --runs) runs="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
./mvnw -q -B -DskipTests install >&2
./univar --version >/dev/null 2>&1   # builds the launcher's jar if needed
CP="$(./mvnw -q -B -pl bench dependency:build-classpath -Dmdep.outputFile=/dev/stdout)"
out="$(mktemp -d)"
n="$(wc -l < "$input")"
uv=(); ort=()
for i in $(seq "$runs"); do
  s=$(date +%s%N); ./univar embed --input "$input" --output "$out/u.npy" --max-length "$maxlen" --threads "$threads" 2>/dev/null
  uv+=("$(awk -v a="$s" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}')")
  s=$(date +%s%N); "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -cp "bench/target/classes:$CP" \
      dev.univar.bench.OrtEmbedPipeline "$input" "$out/o.npy" --max-length "$maxlen" --threads "$threads" 2>/dev/null
  ort+=("$(awk -v a="$s" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mu=$(median "${uv[@]}"); mo=$(median "${ort[@]}")
echo "texts: $n, max length $maxlen, threads $threads, runs $runs"
echo "univar embed          : ${mu} s median (runs: ${uv[*]})"
echo "ORT + HF tokenizers   : ${mo} s median (runs: ${ort[*]})"
echo "ratio (ORT time / univar time): $(awk -v a="$mo" -v b="$mu" 'BEGIN {printf "%.2f", a / b}')"
rm -rf "$out"
