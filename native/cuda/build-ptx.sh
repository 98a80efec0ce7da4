#!/usr/bin/env bash
# Compiles univar_kernels.cu to PTX for sm_80 (A100 and newer) and sm_90 (H100/H200): the kernels of the CUDA
# backend, loaded at run time through the driver API (dev.univar.cuda.CudaModule), so running needs only the
# driver and cuBLAS, never nvcc.
#
#   native/cuda/build-ptx.sh          regenerate the committed PTX in engine/src/main/resources/dev/univar/cuda/
#                                     (run after editing the .cu, and commit both)
#   native/cuda/build-ptx.sh DIR      compile into DIR (the Maven build of engine/ does this into target/ptx,
#                                     as a compile check; PtxUpToDateTest checks the committed files match)
#
# No fast-math (-use_fast_math would swap erff/expf/division for approximations): the kernels must stay within
# 1e-4 of the CPU backend. Without nvcc this prints one line and exits 0; with nvcc, a compile error fails.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/univar_kernels.cu"
OUT="${1:-$HERE/../../engine/src/main/resources/dev/univar/cuda}"

NVCC="${NVCC:-}"
if [ -z "$NVCC" ]; then
  for candidate in "$(command -v nvcc 2>/dev/null || true)" "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then NVCC="$candidate"; break; fi
  done
fi
if [ -z "$NVCC" ] || [ ! -x "$NVCC" ]; then
  echo "CUDA kernels not compiled: no nvcc (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin); the committed PTX is used"
  exit 0
fi
PTXAS="$(dirname "$NVCC")/ptxas"

mkdir -p "$OUT"
for arch in 80 90; do
  target="$OUT/univar_kernels.sm_$arch.ptx"
  tmp="$(mktemp "$OUT/.univar_kernels.sm_$arch.XXXXXX.ptx")"
  if ! "$NVCC" -ptx -O3 -arch="sm_$arch" -o "$tmp" "$SRC"; then
    rm -f "$tmp"
    echo "CUDA kernels: nvcc failed on $SRC for sm_$arch (see above)" >&2
    exit 1
  fi
  # The PTX must also assemble for its architecture (what the driver's JIT will do on the GPU machine).
  if [ -x "$PTXAS" ] && ! "$PTXAS" -arch="sm_$arch" -o /dev/null "$tmp"; then
    rm -f "$tmp"
    echo "CUDA kernels: ptxas rejected the sm_$arch PTX (see above)" >&2
    exit 1
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
done
echo "CUDA kernels: PTX for sm_80 and sm_90 in $OUT ($("$NVCC" --version | grep -o 'release [0-9.]*'))"
