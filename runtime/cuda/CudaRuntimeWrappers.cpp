//===- CudaRuntimeWrappers.cpp - mgpu* entry points over the CUDA driver --===//
//
// Implements the functions that host code produced by MLIR's `gpu-to-llvm`
// calls (module load/unload, kernel lookup and launch, streams, events,
// memory), with the C ABI that lowering expects. The CUDA driver API is
// resolved from libcuda.so.1 at first use, so the library needs neither the
// CUDA toolkit to build nor a driver to load. Generated code has no error
// path, so any failure prints which call failed and why, then exits with
// status 1 instead of continuing with invalid handles.
//
//===----------------------------------------------------------------------===//

#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#define QET_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// The driver API subset used here, declared with its stable C ABI.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
constexpr unsigned kMemAttachGlobal = 1;
constexpr unsigned kMemHostRegisterPortable = 1;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuMemHostRegister)(void *, size_t, unsigned);
  CUresult (*cuMemHostUnregister)(void *);
};

[[noreturn]] void fail(const char *what, const char *why) {
  std::fprintf(stderr, "qet-cuda-runtime: %s: %s\n", what, why);
  std::exit(EXIT_FAILURE);
}

template <typename Fn> void resolve(void *library, Fn &slot, const char *name) {
  slot = reinterpret_cast<Fn>(dlsym(library, name));
  if (!slot)
    fail(name, "not found in libcuda.so.1 (driver too old?)");
}

int defaultDevice = 0;

/// Loads the driver and makes the default device's primary context current
/// on the calling thread (MLIR's wrappers do the same on every call).
const Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library)
      fail("cannot load libcuda.so.1 (is an NVIDIA driver installed?)",
           dlerror());
    resolve(library, d.cuInit, "cuInit");
    resolve(library, d.cuGetErrorString, "cuGetErrorString");
    resolve(library, d.cuDeviceGet, "cuDeviceGet");
    resolve(library, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    resolve(library, d.cuCtxSetCurrent, "cuCtxSetCurrent");
    resolve(library, d.cuModuleLoadData, "cuModuleLoadData");
    resolve(library, d.cuModuleUnload, "cuModuleUnload");
    resolve(library, d.cuModuleGetFunction, "cuModuleGetFunction");
    resolve(library, d.cuLaunchKernel, "cuLaunchKernel");
    resolve(library, d.cuStreamCreate, "cuStreamCreate");
    resolve(library, d.cuStreamDestroy, "cuStreamDestroy_v2");
    resolve(library, d.cuStreamSynchronize, "cuStreamSynchronize");
    resolve(library, d.cuStreamWaitEvent, "cuStreamWaitEvent");
    resolve(library, d.cuEventCreate, "cuEventCreate");
    resolve(library, d.cuEventDestroy, "cuEventDestroy_v2");
    resolve(library, d.cuEventRecord, "cuEventRecord");
    resolve(library, d.cuEventSynchronize, "cuEventSynchronize");
    resolve(library, d.cuMemAlloc, "cuMemAlloc_v2");
    resolve(library, d.cuMemAllocManaged, "cuMemAllocManaged");
    resolve(library, d.cuMemFree, "cuMemFree_v2");
    resolve(library, d.cuMemcpyAsync, "cuMemcpyAsync");
    resolve(library, d.cuMemsetD32Async, "cuMemsetD32Async");
    resolve(library, d.cuMemsetD16Async, "cuMemsetD16Async");
    resolve(library, d.cuMemHostRegister, "cuMemHostRegister_v2");
    resolve(library, d.cuMemHostUnregister, "cuMemHostUnregister");
  });
  return d;
}

void check(CUresult result, const char *call) {
  if (result == 0)
    return;
  const char *message = nullptr;
  if (driver().cuGetErrorString(result, &message) != 0 || !message)
    message = "unknown CUDA error";
  fail(call, message);
}

#define CUDA_CHECK(expr) check(driver().expr, #expr)

/// Binds the primary context of the default device to this thread.
void bindContext() {
  thread_local bool bound = false;
  if (bound)
    return;
  static CUcontext context = [] {
    CUDA_CHECK(cuInit(0));
    CUdevice device;
    CUDA_CHECK(cuDeviceGet(&device, defaultDevice));
    CUcontext primary;
    CUDA_CHECK(cuDevicePrimaryCtxRetain(&primary, device));
    return primary;
  }();
  CUDA_CHECK(cuCtxSetCurrent(context));
  bound = true;
}

} // namespace

QET_EXPORT void mgpuSetDefaultDevice(int32_t device) { defaultDevice = device; }

QET_EXPORT CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  bindContext();
  CUmodule module = nullptr;
  CUDA_CHECK(cuModuleLoadData(&module, data));
  return module;
}

QET_EXPORT void mgpuModuleUnload(CUmodule module) {
  bindContext();
  CUDA_CHECK(cuModuleUnload(module));
}

QET_EXPORT CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  bindContext();
  CUfunction function = nullptr;
  CUDA_CHECK(cuModuleGetFunction(&function, module, name));
  return function;
}

QET_EXPORT void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                 intptr_t gridY, intptr_t gridZ,
                                 intptr_t blockX, intptr_t blockY,
                                 intptr_t blockZ, int32_t sharedMemoryBytes,
                                 CUstream stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  bindContext();
  CUDA_CHECK(cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY,
                            blockZ, sharedMemoryBytes, stream, params, extra));
}

QET_EXPORT CUstream mgpuStreamCreate() {
  bindContext();
  CUstream stream = nullptr;
  CUDA_CHECK(cuStreamCreate(&stream, /*CU_STREAM_NON_BLOCKING=*/1));
  return stream;
}

QET_EXPORT void mgpuStreamDestroy(CUstream stream) {
  CUDA_CHECK(cuStreamDestroy(stream));
}

QET_EXPORT void mgpuStreamSynchronize(CUstream stream) {
  CUDA_CHECK(cuStreamSynchronize(stream));
}

QET_EXPORT void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  CUDA_CHECK(cuStreamWaitEvent(stream, event, 0));
}

QET_EXPORT CUevent mgpuEventCreate() {
  bindContext();
  CUevent event = nullptr;
  CUDA_CHECK(cuEventCreate(&event, /*CU_EVENT_DISABLE_TIMING=*/2));
  return event;
}

QET_EXPORT void mgpuEventDestroy(CUevent event) {
  CUDA_CHECK(cuEventDestroy(event));
}

QET_EXPORT void mgpuEventSynchronize(CUevent event) {
  CUDA_CHECK(cuEventSynchronize(event));
}

QET_EXPORT void mgpuEventRecord(CUevent event, CUstream stream) {
  CUDA_CHECK(cuEventRecord(event, stream));
}

QET_EXPORT void *mgpuMemAlloc(uint64_t sizeBytes, CUstream /*stream*/,
                              bool isHostShared) {
  bindContext();
  if (sizeBytes == 0)
    return nullptr;
  CUdeviceptr pointer = 0;
  if (isHostShared)
    CUDA_CHECK(cuMemAllocManaged(&pointer, sizeBytes, kMemAttachGlobal));
  else
    CUDA_CHECK(cuMemAlloc(&pointer, sizeBytes));
  return reinterpret_cast<void *>(pointer);
}

QET_EXPORT void mgpuMemFree(void *pointer, CUstream /*stream*/) {
  if (pointer)
    CUDA_CHECK(cuMemFree(reinterpret_cast<CUdeviceptr>(pointer)));
}

QET_EXPORT void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                           CUstream stream) {
  CUDA_CHECK(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                           reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                           stream));
}

QET_EXPORT void mgpuMemset32(void *dst, unsigned value, size_t count,
                             CUstream stream) {
  CUDA_CHECK(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                              stream));
}

QET_EXPORT void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             CUstream stream) {
  CUDA_CHECK(cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                              stream));
}

QET_EXPORT void mgpuMemHostRegister(void *pointer, uint64_t sizeBytes) {
  bindContext();
  CUDA_CHECK(cuMemHostRegister(pointer, sizeBytes, kMemHostRegisterPortable));
}

QET_EXPORT void mgpuMemHostUnregister(void *pointer) {
  bindContext();
  CUDA_CHECK(cuMemHostUnregister(pointer));
}

/// Registers the memory a ranked memref descriptor points to: the descriptor
/// is {allocated, aligned, offset, sizes[rank], strides[rank]}.
namespace {
struct MemrefHeader {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[1];
};
uint64_t memrefBytes(int64_t rank, const MemrefHeader *descriptor,
                     int64_t elementSizeBytes) {
  const int64_t *sizes = descriptor->sizesAndStrides;
  const int64_t *strides = sizes + rank;
  int64_t extent = 1; // one past the furthest element, in elements
  for (int64_t d = 0; d < rank; ++d) {
    if (sizes[d] == 0)
      return 0;
    extent += (sizes[d] - 1) * strides[d];
  }
  return static_cast<uint64_t>(extent * elementSizeBytes);
}
} // namespace

QET_EXPORT void mgpuMemHostRegisterMemRef(int64_t rank, MemrefHeader *descriptor,
                                          int64_t elementSizeBytes) {
  uint64_t bytes = memrefBytes(rank, descriptor, elementSizeBytes);
  if (bytes)
    mgpuMemHostRegister(descriptor->aligned + descriptor->offset * elementSizeBytes,
                        bytes);
}

QET_EXPORT void mgpuMemHostUnregisterMemRef(int64_t rank, MemrefHeader *descriptor,
                                            int64_t elementSizeBytes) {
  if (memrefBytes(rank, descriptor, elementSizeBytes))
    mgpuMemHostUnregister(descriptor->aligned +
                          descriptor->offset * elementSizeBytes);
}
