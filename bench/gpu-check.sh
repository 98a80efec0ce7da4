#!/usr/bin/env bash
# The GPU check of issue 7 in one short run on a GPU machine (H100/H200), from the repository root:
#
#   here:            bash bench/gpu-prepare.sh           # builds dist/gpu/ (~54 MiB: jlinked Java 25, jars, tests)
#   device tool:     run(command="bash bench/gpu-check.sh", carry=["dist/gpu"], timeout_s=420)
#
# It needs no JDK there (dist/gpu/runtime; else a system JDK 25) and no network. Steps, each run whatever the
# others did: (0) nvidia-smi; (a) the CUDA tests (package dev.univar.cuda) with JUnit's console launcher, among
# them (b) CUDA against CPU forward outputs and training-step gradients, whose printed numbers land in the log;
# (c) `univar bench gemm|encoder|train --device all --precision fp32,tf32,bf16` at the issue's shapes on a random
# encoder of all-MiniLM-L6-v2's shape (`univar init`); (d) bench/gpu/torch_bench.py, PyTorch on the same shapes;
# (e) bench/gpu/summarize.py: a Markdown table univar against PyTorch and the acceptance lines, met or not.
# Into $OUT (what the device tool brings back; ./gpu-check-out elsewhere), flat: gpu-check.log (everything),
# summary.md, results.jsonl (every measurement), cuda-tests.xml (JUnit's report), nvidia-smi.txt.
# Exit status: 0 when every acceptance line held, 1 otherwise (a step that could not measure counts as not held).
# `--quick` shrinks every shape and the model (a dry run of the script itself, where no GPU is: its numbers mean
# nothing). GPU_CHECK_BUDGET (seconds, default 330) bounds the whole run: a step that would not fit is skipped.
set -u
set -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) echo "usage: bash bench/gpu-check.sh [--quick]" >&2; exit 2 ;;
esac
OUT_DIR="${OUT:-$ROOT/gpu-check-out}"
mkdir -p "$OUT_DIR" || exit 1
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
BUDGET="${GPU_CHECK_BUDGET:-330}"
RESULTS="$OUT_DIR/results.jsonl"
SUMMARY="$OUT_DIR/summary.md"
STEPS=()

note() { echo "gpu-check: $*"; }
section() { echo; echo "==== $* ($(date -u +%H:%M:%S), ${SECONDS}s) ===="; }
record_step() { STEPS+=("$(printf '%-34s %s' "$1" "$2")"); }

# Seconds a step may take: its own cap, less what the budget has left (keeping 15 s for the summary); 0 = none.
allowance() {
  local left=$((BUDGET - SECONDS - 15))
  if [ "$left" -lt 20 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'; }

find_java() {
  # A copy that lost its file modes on the way still runs once they are back.
  if [ -f "$ROOT/dist/gpu/runtime/bin/java" ] && [ ! -x "$ROOT/dist/gpu/runtime/bin/java" ]; then
    chmod +x "$ROOT"/dist/gpu/runtime/bin/* "$ROOT"/dist/gpu/runtime/lib/jspawnhelper 2>/dev/null
  fi
  if [ -x "$ROOT/dist/gpu/runtime/bin/java" ]; then echo "$ROOT/dist/gpu/runtime/bin/java"; return 0; fi
  local j v
  for j in "${JAVA_HOME:-/nonexistent}/bin/java" /usr/lib/jvm/*/bin/java "$(command -v java 2>/dev/null || true)"; do
    [ -x "$j" ] || continue
    v="$(java_major "$j")"
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$j"; return 0; fi
  done
  return 1
}

main() {
  section "environment"
  note "repository $(git rev-parse --short HEAD 2>/dev/null || echo '(no git)'), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, budget ${BUDGET}s$([ "$QUICK" = 1 ] && echo ', QUICK shapes')"
  [ -f dist/gpu/BUILD-INFO ] && sed 's/^/gpu-check: bundle /' dist/gpu/BUILD-INFO
  : > "$RESULTS"

  # (0) The GPU.
  section "(0) nvidia-smi"
  GPU="none"
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    nvidia-smi > "$OUT_DIR/nvidia-smi.txt" 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv
    GPU="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -n 1)"
    record_step "(0) nvidia-smi" "ok: $GPU"
  else
    note "no NVIDIA GPU here (nvidia-smi missing or finds no device): the GPU steps will report themselves skipped"
    echo "no NVIDIA GPU (nvidia-smi missing or no device)" > "$OUT_DIR/nvidia-smi.txt"
    record_step "(0) nvidia-smi" "skipped: no NVIDIA GPU"
  fi
  # cuBLAS from Python's nvidia-cublas wheel, where univar's own search might not look (a venv not activated).
  if [ -z "${UNIVAR_CUBLAS:-}" ] && command -v python3 >/dev/null 2>&1; then
    local cublas
    cublas="$(python3 - <<'PY' 2>/dev/null
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
for root in roots:
    hits = sorted(glob.glob(os.path.join(root, "*", "lib", "libcublas.so*")))
    if hits:
        print(os.path.dirname(hits[0]))
        break
PY
)"
    if [ -n "$cublas" ]; then export UNIVAR_CUBLAS="$cublas"; note "UNIVAR_CUBLAS=$cublas (Python's nvidia-cublas)"; fi
  fi

  # Java and the bundle.
  local java="" jar="" have_java=0
  if java="$(find_java)"; then
    if [ -f "$ROOT/dist/gpu/univar.jar" ]; then jar="$ROOT/dist/gpu/univar.jar"
    elif [ -f "$ROOT/cli/target/univar.jar" ]; then jar="$ROOT/cli/target/univar.jar"; fi
  fi
  if [ -n "$java" ] && [ -n "$jar" ]; then
    have_java=1
    note "java: $java ($("$java" -version 2>&1 | head -n 1)); univar: $jar"
  else
    note "no Java 25 runtime or no univar jar (${java:-no java}, ${jar:-no jar}): run 'bash bench/gpu-prepare.sh' and carry dist/gpu"
  fi
  local jflags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC)
  export UNIVAR_HOME="$WORK/home"

  # (a)+(b) The CUDA tests.
  section "(a) CUDA tests (dev.univar.cuda), with (b) CUDA against CPU forward outputs and gradients"
  local tests="not-run" tests_detail="" t
  local console="" f
  for f in "$ROOT"/dist/gpu/test/junit-platform-console-standalone-*.jar; do [ -f "$f" ] && console="$f"; done
  t="$(allowance 150)"
  if [ "$have_java" != 1 ] || [ -z "$console" ] || [ ! -f dist/gpu/test/univar-engine-tests.jar ]; then
    note "skipped: needs dist/gpu (the runtime, the test jar and JUnit's console launcher)"
    record_step "(a) CUDA tests" "skipped: no dist/gpu test bundle"
  elif [ "$t" = 0 ]; then
    record_step "(a) CUDA tests" "skipped: out of time"
  else
    local cp rc
    cp="$ROOT/dist/gpu/test/univar-engine-tests.jar:$jar$(printf ':%s' "$ROOT"/dist/gpu/lib/*.jar)"
    # From engine/, as Maven runs the engine's tests: some read the module's sources by relative paths.
    (cd engine && timeout "$t" "$java" "${jflags[@]}" -jar "$console" execute --class-path "$cp" \
        --select-package dev.univar.cuda --details=tree --disable-banner --disable-ansi-colors \
        --reports-dir "$WORK/reports") 2>&1 | tee "$WORK/tests.log"
    rc=${PIPESTATUS[0]}
    [ -f "$WORK/reports/TEST-junit-jupiter.xml" ] && cp "$WORK/reports/TEST-junit-jupiter.xml" "$OUT_DIR/cuda-tests.xml"
    local found ok failed skipped aborted
    found="$(count "tests found" "$WORK/tests.log")"; ok="$(count "tests successful" "$WORK/tests.log")"
    failed="$(count "tests failed" "$WORK/tests.log")"; skipped="$(count "tests skipped" "$WORK/tests.log")"
    aborted="$(count "tests aborted" "$WORK/tests.log")"
    tests_detail="$found found, $ok successful, $failed failed, $skipped skipped, $aborted aborted (assumptions)"
    if [ "$rc" = 124 ]; then tests="failed"; tests_detail="timed out after ${t}s; $tests_detail"
    elif [ "$rc" != 0 ] || [ "${failed:-0}" != 0 ]; then tests="failed"
    elif [ "${ok:-0}" -gt 0 ] && [ "$GPU" != none ]; then tests="passed"
    else tests="skipped"; tests_detail="no GPU here, so nothing measured on one; $tests_detail"; fi
    record_step "(a) CUDA tests" "$tests: $tests_detail (exit $rc)"
    note "(b) the numbers the tests printed:"
    grep -E '^(CUDA (check|timing|device)|cuda unavailable)' "$WORK/tests.log" | head -n 80 > "$WORK/test-numbers.txt"
    if [ -s "$WORK/test-numbers.txt" ]; then sed 's/^/    /' "$WORK/test-numbers.txt"
    else note "    (none: no line starting 'CUDA check', 'CUDA timing' or 'CUDA device')"; fi
  fi

  # (c) univar bench --device all.
  section "(c) univar bench --device all --precision fp32,tf32,bf16"
  local gemms encoder train model threads layers hidden heads inter
  if [ "$QUICK" = 1 ]; then
    gemms="256x128x128 128x128x256"; encoder="8x32"; train="4x32"; layers=2; hidden=128; heads=4; inter=512
  else
    gemms="4096x384x384 4096x1536x384 4096x384x1536 1024x1024x1024"; encoder="128x128"; train="64x128"
    layers=6; hidden=384; heads=12; inter=1536
  fi
  threads="$(nproc)"
  if [ "$have_java" != 1 ]; then
    record_step "(c) univar bench" "skipped: no Java runtime or univar jar"
  else
    model="$WORK/minilm-random"
    make_vocab > "$WORK/vocab.txt"
    if ! "$java" "${jflags[@]}" -jar "$jar" init --tokenizer "$WORK/vocab.txt" --layers "$layers" --hidden "$hidden" \
          --heads "$heads" --intermediate "$inter" --max-positions 512 --output "$model"; then
      record_step "(c) univar init" "FAILED"
    else
      local shape m n k b s
      for shape in $gemms; do
        IFS=x read -r m n k <<< "$shape"
        bench_step "gemm $shape" 60 gemm --m "$m" --n "$n" --k "$k" --repeat 10 --warmup 1
      done
      IFS=x read -r b s <<< "$encoder"
      bench_step "encoder $encoder" 90 encoder --model "$model" --batch-size "$b" --seq-len "$s" --repeat 5 --warmup 2
      IFS=x read -r b s <<< "$train"
      bench_step "train $train" 120 train --model "$model" --batch-size "$b" --seq-len "$s" --repeat 5 --warmup 2
    fi
  fi

  # (d) PyTorch on the same shapes.
  section "(d) PyTorch (bench/gpu/torch_bench.py)"
  t="$(allowance 150)"
  if ! command -v python3 >/dev/null 2>&1; then
    record_step "(d) PyTorch" "skipped: no python3"
  elif [ "$t" = 0 ]; then
    record_step "(d) PyTorch" "skipped: out of time"
  else
    local tq=()
    [ "$QUICK" = 1 ] && tq=(--repeat 3 --warmup 0.3)
    PYTHONUNBUFFERED=1 timeout "$t" python3 bench/gpu/torch_bench.py --json "$RESULTS" --gemm "$(echo "$gemms" | tr ' ' ',')" \
        --encoder "$encoder" --train "$train" "${tq[@]+"${tq[@]}"}"
    rc=$?
    if grep -q '"tool": "pytorch", "skipped"' "$RESULTS"; then
      record_step "(d) PyTorch" "skipped: $(sed -n 's/.*"skipped": "\(.*\)"}.*/\1/p' "$RESULTS" | head -n 1)"
    elif [ "$rc" = 0 ]; then record_step "(d) PyTorch" "ok"
    else record_step "(d) PyTorch" "FAILED (exit $rc$([ "$rc" = 124 ] && echo ', timed out'))"; fi
  fi

  # (e) The table and the acceptance.
  section "(e) summary"
  local held=1
  if command -v python3 >/dev/null 2>&1; then
    python3 bench/gpu/summarize.py "$RESULTS" --tests "$tests" --tests-detail "$tests_detail" --test-numbers "$WORK/test-numbers.txt" \
        --header "date: $(date -u +%Y-%m-%d)" --header "GPU: $GPU" \
        --header "univar: $(sed -n 's/^commit: //p' dist/gpu/BUILD-INFO 2>/dev/null || git rev-parse HEAD 2>/dev/null)" \
        --header "CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores (univar cpu threads=$threads)" \
        --header "command: bash bench/gpu-check.sh$([ "$QUICK" = 1 ] && echo ' --quick')" > "$SUMMARY"
    held=$?
    cat "$SUMMARY"
  else
    echo "no python3: no summary" | tee "$SUMMARY"
  fi

  section "steps"
  printf '%s\n' "${STEPS[@]}"
  note "files in $OUT_DIR: $(find "$OUT_DIR" -maxdepth 1 -type f -printf '%f ')"
  if [ "$held" = 0 ]; then note "every acceptance line held"; return 0; fi
  note "not every acceptance line held (see the summary above)"
  return 1
}

# "[        12 tests successful      ]" -> 12 (the last such line of the console launcher's summary).
count() { sed -n "s/^\[ *\([0-9][0-9]*\) $1 *\].*/\1/p" "$2" | tail -n 1; }

# A BERT vocabulary of 30,522 entries laid out as bert-base-uncased's: [PAD] 0, [unused0..98], [UNK] 100,
# [CLS] 101, [SEP] 102, [MASK] 103, then filler tokens (the benchmarks feed random ids; no text is tokenised).
make_vocab() {
  awk 'BEGIN { print "[PAD]"; for (i = 0; i < 99; i++) print "[unused" i "]";
               print "[UNK]"; print "[CLS]"; print "[SEP]"; print "[MASK]";
               for (i = 104; i < 30522; i++) print "tok" i }'
}

# bench_step NAME CAP ARGS...: `univar bench ARGS --device all --precision fp32,tf32,bf16`, time-boxed and recorded.
bench_step() {
  local name="$1" cap="$2" t rc
  shift 2
  t="$(allowance "$cap")"
  if [ "$t" = 0 ]; then record_step "(c) bench $name" "skipped: out of time"; return; fi
  echo "--- univar bench $*"
  timeout "$t" "$java" "${jflags[@]}" -jar "$jar" bench "$@" --device all --precision fp32,tf32,bf16 \
      --threads "$threads" --json "$RESULTS"
  rc=$?
  if [ "$rc" = 0 ]; then record_step "(c) bench $name" "ok"
  else record_step "(c) bench $name" "FAILED (exit $rc$([ "$rc" = 124 ] && echo ", timed out after ${t}s"))"; fi
}

main 2>&1 | tee "$OUT_DIR/gpu-check.log"
exit "${PIPESTATUS[0]}"
