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

# CUDA driver API and cuBLAS (dev.univar.bindings.cuda). Needs the CUDA toolkit's headers (CUDA_HOME, default
# /usr/local/cuda; cuBLAS's cublas_api.h comes with the toolkit or the nvidia-cublas wheel's include/ folder).
# No --library here either, on purpose: a --library makes the header class dlopen the library in its static
# initialiser, which fails (ExceptionInInitializerError, then NoClassDefFoundError for good) on every machine without
# a GPU. Instead CudaLibraries finds libcuda.so.1 / libcublas.so.N (environment, loader, toolkit, Python wheels) and
# System.loads them, and the classes look symbols up with SymbolLookup.loaderLookup() as the spm one does.
# The function names are the symbols the headers' macros map to (cuMemAlloc -> cuMemAlloc_v2, cublasSgemm ->
# cublasSgemm_v2), which is what jextract sees after preprocessing. jextract puts a struct passed by value
# (CUmemLocation_st, for cuMemPrefetchAsync_v2) in its own class. Both headers are big: keep the include lists.
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
if [ -f "$CUDA_HOME/include/cuda.h" ]; then
  cuda_functions=(cuInit cuDriverGetVersion cuGetErrorName cuGetErrorString cuDeviceGetCount cuDeviceGet
    cuDeviceGetName cuDeviceGetAttribute cuDeviceTotalMem_v2 cuDevicePrimaryCtxRetain cuDevicePrimaryCtxRelease_v2
    cuCtxSetCurrent cuCtxSynchronize cuMemAlloc_v2 cuMemAllocManaged cuMemFree_v2 cuMemAllocHost_v2 cuMemFreeHost
    cuMemcpyHtoD_v2 cuMemcpyDtoH_v2 cuMemcpyDtoD_v2 cuMemcpyHtoDAsync_v2 cuMemcpyDtoHAsync_v2 cuMemcpyDtoDAsync_v2
    cuMemsetD8_v2 cuMemsetD32_v2 cuMemsetD8Async cuMemsetD32Async cuMemPrefetchAsync_v2 cuMemGetInfo_v2
    cuModuleLoadData cuModuleLoadDataEx cuModuleUnload cuModuleGetFunction cuFuncSetAttribute cuLaunchKernel
    cuStreamCreate cuStreamDestroy_v2 cuStreamSynchronize cuEventCreate cuEventRecord cuEventSynchronize
    cuEventElapsedTime_v2 cuEventDestroy_v2)
  cuda_constants=(CUDA_VERSION CUDA_SUCCESS CUDA_ERROR_INVALID_VALUE CUDA_ERROR_OUT_OF_MEMORY CUDA_ERROR_NOT_INITIALIZED
    CUDA_ERROR_STUB_LIBRARY CUDA_ERROR_NO_DEVICE CUDA_ERROR_INVALID_DEVICE CUDA_ERROR_INVALID_PTX CUDA_ERROR_NOT_FOUND
    CU_MEM_ATTACH_GLOBAL CU_MEM_ATTACH_HOST CU_STREAM_DEFAULT CU_STREAM_NON_BLOCKING CU_EVENT_DEFAULT
    CU_EVENT_BLOCKING_SYNC CU_EVENT_DISABLE_TIMING CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK CU_DEVICE_ATTRIBUTE_WARP_SIZE
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY
    CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES CU_JIT_INFO_LOG_BUFFER CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES
    CU_JIT_ERROR_LOG_BUFFER CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES CU_JIT_LOG_VERBOSE CU_MEM_LOCATION_TYPE_INVALID
    CU_MEM_LOCATION_TYPE_DEVICE CU_MEM_LOCATION_TYPE_HOST)
  cuda_typedefs=(CUdeviceptr_v2 CUdeviceptr CUdevice_v1 CUdevice CUcontext CUmodule CUfunction CUstream CUevent
    CUresult CUdevice_attribute CUfunction_attribute CUjit_option size_t)
  "$JEXTRACT" \
    --target-package dev.univar.bindings.cuda \
    --header-class-name cuda_h \
    --output "$HERE/src/main/java" \
    -I "$CUDA_HOME/include" \
    $(printf -- '--include-function %s ' "${cuda_functions[@]}") \
    $(printf -- '--include-constant %s ' "${cuda_constants[@]}") \
    $(printf -- '--include-typedef %s ' "${cuda_typedefs[@]}") \
    --include-struct CUmemLocation_st \
    "$CUDA_HOME/include/cuda.h"
  echo "regenerate.sh: wrote $HERE/src/main/java/dev/univar/bindings/cuda/cuda_h.java" >&2
else
  echo "regenerate.sh: no $CUDA_HOME/include/cuda.h (set CUDA_HOME); cuda_h unchanged" >&2
fi

CUBLAS_INCLUDE="${CUBLAS_INCLUDE:-$CUDA_HOME/include}"
if [ -f "$CUBLAS_INCLUDE/cublas_api.h" ]; then
  cublas_functions=(cublasCreate_v2 cublasDestroy_v2 cublasGetVersion_v2 cublasSetStream_v2 cublasSetMathMode
    cublasSetWorkspace_v2 cublasSgemm_v2 cublasSgemmStridedBatched cublasGemmEx cublasGemmStridedBatchedEx
    cublasGemmBatchedEx)
  cublas_constants=(CUDA_R_32F CUDA_R_64F CUDA_R_16F CUDA_R_16BF CUBLAS_STATUS_SUCCESS CUBLAS_STATUS_NOT_INITIALIZED
    CUBLAS_STATUS_ALLOC_FAILED CUBLAS_STATUS_INVALID_VALUE CUBLAS_STATUS_ARCH_MISMATCH CUBLAS_STATUS_MAPPING_ERROR
    CUBLAS_STATUS_EXECUTION_FAILED CUBLAS_STATUS_INTERNAL_ERROR CUBLAS_STATUS_NOT_SUPPORTED CUBLAS_STATUS_LICENSE_ERROR
    CUBLAS_OP_N CUBLAS_OP_T CUBLAS_OP_C CUBLAS_DEFAULT_MATH CUBLAS_PEDANTIC_MATH CUBLAS_TF32_TENSOR_OP_MATH
    CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION CUBLAS_COMPUTE_16F CUBLAS_COMPUTE_32F CUBLAS_COMPUTE_32F_PEDANTIC
    CUBLAS_COMPUTE_32F_FAST_16F CUBLAS_COMPUTE_32F_FAST_16BF CUBLAS_COMPUTE_32F_FAST_TF32 CUBLAS_GEMM_DEFAULT
    CUBLAS_GEMM_DEFAULT_TENSOR_OP)
  cublas_typedefs=(cublasHandle_t cudaStream_t cublasStatus_t cublasOperation_t cublasMath_t cublasComputeType_t
    cublasGemmAlgo_t cudaDataType size_t)
  "$JEXTRACT" \
    --target-package dev.univar.bindings.cuda \
    --header-class-name cublas_h \
    --output "$HERE/src/main/java" \
    -I "$CUBLAS_INCLUDE" -I "$CUDA_HOME/include" \
    $(printf -- '--include-function %s ' "${cublas_functions[@]}") \
    $(printf -- '--include-constant %s ' "${cublas_constants[@]}") \
    $(printf -- '--include-typedef %s ' "${cublas_typedefs[@]}") \
    "$CUBLAS_INCLUDE/cublas_v2.h"
  echo "regenerate.sh: wrote $HERE/src/main/java/dev/univar/bindings/cuda/cublas_h.java" >&2
else
  echo "regenerate.sh: no cublas_api.h in $CUBLAS_INCLUDE (set CUBLAS_INCLUDE); cublas_h unchanged" >&2
fi
