//===- RuntimeTestSupport.h - Helpers of the runtime C API tests -*- C++
//-*-===//
#ifndef QET_UNITTESTS_RUNTIME_RUNTIMETESTSUPPORT_H
#define QET_UNITTESTS_RUNTIME_RUNTIMETESTSUPPORT_H

#include "qet/runtime.h"

#include "qet/Quantizer/ContainerIO.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace qet::test {

struct ContainerCloser {
  void operator()(qet_container *c) const { qet_container_close(c); }
};
struct TensorReleaser {
  void operator()(qet_tensor *t) const { qet_tensor_release(t); }
};
using ContainerHandle = std::unique_ptr<qet_container, ContainerCloser>;
using TensorHandle = std::unique_ptr<qet_tensor, TensorReleaser>;

/// Opens `path` through the C API (a test failure, and null, otherwise).
inline ContainerHandle openContainer(const std::string &path) {
  qet_container *c = nullptr;
  qet_status status = qet_container_open(path.c_str(), &c);
  EXPECT_EQ(status, QET_OK) << qet_last_error();
  return ContainerHandle(c);
}

inline TensorHandle lookupTensor(const qet_container *c,
                                 const std::string &name) {
  qet_tensor *t = nullptr;
  qet_status status = qet_tensor_lookup(c, name.c_str(), &t);
  EXPECT_EQ(status, QET_OK) << qet_last_error();
  return TensorHandle(t);
}

/// `status` must be `expected`, and the message must contain `phrase`.
#define EXPECT_QET_ERROR(call, expected, phrase)                               \
  do {                                                                         \
    qet_status qetStatus_ = (call);                                            \
    EXPECT_EQ(qetStatus_, expected)                                            \
        << qet_status_name(qetStatus_) << ": " << qet_last_error();            \
    EXPECT_NE(std::string(qet_last_error()).find(phrase), std::string::npos)   \
        << "message: " << qet_last_error() << "\nexpected phrase: " << phrase; \
  } while (0)

#define EXPECT_QET_OK(call)                                                    \
  do {                                                                         \
    qet_status qetStatus_ = (call);                                            \
    EXPECT_EQ(qetStatus_, QET_OK)                                              \
        << qet_status_name(qetStatus_) << ": " << qet_last_error();            \
  } while (0)

/// Restores the automatic kernel choice and all threads when it goes out
/// of scope, so a failing test cannot leak its setting.
class KernelSettingsScope {
public:
  KernelSettingsScope() = default;
  KernelSettingsScope(const KernelSettingsScope &) = delete;
  KernelSettingsScope &operator=(const KernelSettingsScope &) = delete;
  ~KernelSettingsScope() {
    qet_set_kernel(QET_KERNEL_AUTO);
    qet_set_threads(0);
  }
};

/// n values of N(0, 1) from Rng(seed), as floats.
inline std::vector<float> gaussianVector(size_t n, uint64_t seed) {
  quant::Rng rng(seed);
  std::vector<float> v(n);
  for (float &x : v)
    x = static_cast<float>(rng.normal());
  return v;
}

/// Writes `packed` as the tensor `name` of a fresh container at `path`.
inline void writeOne(const std::string &path, const std::string &name,
                     const quant::PackedMatrix &packed) {
  quant::writePackedMatrices(path, {{name, &packed}}, /*replace=*/true);
}

/// The whole-container kernel choice for one block: PORTABLE, then AVX2
/// where the CPU has it.
inline std::vector<qet_kernel> availableKernels() {
  std::vector<qet_kernel> kernels = {QET_KERNEL_PORTABLE};
  if (qet_set_kernel(QET_KERNEL_AVX2) == QET_OK)
    kernels.push_back(QET_KERNEL_AVX2);
  qet_set_kernel(QET_KERNEL_AUTO);
  return kernels;
}

} // namespace qet::test

#endif // QET_UNITTESTS_RUNTIME_RUNTIMETESTSUPPORT_H
