//===- KernelConfig.h - Kernel selection and thread count -------*- C++ -*-===//
//
// Process-wide settings of the runtime kernels: which implementation runs
// (AVX2+FMA where the CPU has it, else the portable one; tests force either)
// and how many threads split the rows. Results do not depend on the thread
// count; the two implementations agree to float rounding.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_KERNELCONFIG_H
#define QET_RUNTIME_KERNELCONFIG_H

namespace qet::runtime {

enum class KernelPath { Auto, Portable, Avx2 };

/// AVX2, FMA and F16C, checked once with __builtin_cpu_supports.
bool cpuHasAvx2();

/// RuntimeError(Unsupported) for Avx2 on a CPU without it.
void setKernelPath(KernelPath path);
/// The path kernels take now: Portable or Avx2, never Auto.
KernelPath activeKernelPath();

/// 0 = all cores.
void setKernelThreads(unsigned threads);
unsigned kernelThreads();

} // namespace qet::runtime

#endif // QET_RUNTIME_KERNELCONFIG_H
