//===- JitRunner.h - Compile MLIR text through a pipeline and JIT it -*- C++ -*-===//
//
// Lets unit tests run compiler-generated code on random inputs and compare it
// with the quantizer library, the reference semantics.
//
//===----------------------------------------------------------------------===//
#ifndef QET_UNITTESTS_CONVERSION_JITRUNNER_H
#define QET_UNITTESTS_CONVERSION_JITRUNNER_H

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qet::test {

class JitRunner {
public:
  /// Parses `source`, runs `pipeline` (textual passes on the module, as
  /// inside qet-opt's --pass-pipeline="builtin.module(...)") and
  /// JIT-compiles the result. Fails the calling test
  /// (ADD_FAILURE) and leaves engine() null on any error.
  JitRunner(const std::string &source, const std::string &pipeline);
  ~JitRunner();

  mlir::ExecutionEngine *engine() { return jit.get(); }

private:
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> jit;
};

/// A rows x cols row-major memref descriptor over `data`.
template <typename T>
StridedMemRefType<T, 2> describe(std::vector<T> &data, size_t rows,
                                 size_t cols) {
  StridedMemRefType<T, 2> d;
  d.basePtr = d.data = data.data();
  d.offset = 0;
  d.sizes[0] = static_cast<int64_t>(rows);
  d.sizes[1] = static_cast<int64_t>(cols);
  d.strides[0] = static_cast<int64_t>(cols);
  d.strides[1] = 1;
  return d;
}

/// `bytes` as the hex literal of an MLIR dense attribute ("0x...").
inline std::string hexBytes(const std::vector<uint8_t> &bytes) {
  static const char *digits = "0123456789ABCDEF";
  std::string text = "0x";
  for (uint8_t b : bytes) {
    text += digits[b >> 4];
    text += digits[b & 15];
  }
  return text;
}

} // namespace qet::test

#endif // QET_UNITTESTS_CONVERSION_JITRUNNER_H
