//===- KernelConfig.cpp - Kernel selection and thread count ---------------===//

#include "qet/runtime/KernelConfig.h"

#include "qet/runtime/RuntimeError.h"

#include <atomic>

namespace qet::runtime {

namespace {
std::atomic<KernelPath> requestedPath{KernelPath::Auto};
std::atomic<unsigned> requestedThreads{0};
} // namespace

bool cpuHasAvx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2") &&
                          __builtin_cpu_supports("fma") &&
                          __builtin_cpu_supports("f16c");
  return has;
#else
  return false;
#endif
}

void setKernelPath(KernelPath path) {
  if (path == KernelPath::Avx2 && !cpuHasAvx2())
    throw RuntimeError(ErrorCode::Unsupported,
                       "the AVX2 kernels were requested but this CPU lacks "
                       "AVX2, FMA or F16C");
  requestedPath.store(path, std::memory_order_relaxed);
}

KernelPath activeKernelPath() {
  KernelPath path = requestedPath.load(std::memory_order_relaxed);
  if (path == KernelPath::Auto)
    return cpuHasAvx2() ? KernelPath::Avx2 : KernelPath::Portable;
  return path;
}

void setKernelThreads(unsigned threads) {
  requestedThreads.store(threads, std::memory_order_relaxed);
}

unsigned kernelThreads() {
  return requestedThreads.load(std::memory_order_relaxed);
}

} // namespace qet::runtime
