#!/usr/bin/env bash
# univar vs ONNX Runtime + HF tokenizers, same texts and settings, one run. Arguments go to EmbedComparison
# (--data DIR --texts N --max-length L --batch-size B --threads T).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/jdk.sh"
cd "$ROOT"
./mvnw -q -B -DskipTests install >&2
CP="$(./mvnw -q -B -pl bench dependency:build-classpath -Dmdep.outputFile=/dev/stdout)"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "bench/target/classes:$CP" dev.univar.bench.EmbedComparison --data "$ROOT/../shared/data/pct" "$@"
