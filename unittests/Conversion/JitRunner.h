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

} // namespace qet::test

#endif // QET_UNITTESTS_CONVERSION_JITRUNNER_H
