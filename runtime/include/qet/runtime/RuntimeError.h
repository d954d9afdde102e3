//===- RuntimeError.h - Errors of the runtime kernels -----------*- C++ -*-===//
//
// Kernel and binding failures carry the code the C API returns for them, so
// the boundary maps exceptions to qet_status without parsing messages.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_RUNTIMEERROR_H
#define QET_RUNTIME_RUNTIMEERROR_H

#include <stdexcept>
#include <string>

namespace qet::runtime {

enum class ErrorCode {
  Format,          // the packed data contradicts its scheme
  InvalidArgument, // a bad value from the caller
  NullPointer,
  BufferSize,
  NotFound,
  Unsupported,
};

class RuntimeError : public std::runtime_error {
public:
  RuntimeError(ErrorCode code, const std::string &message)
      : std::runtime_error(message), errorCode(code) {}

  ErrorCode code() const { return errorCode; }

private:
  ErrorCode errorCode;
};

} // namespace qet::runtime

#endif // QET_RUNTIME_RUNTIMEERROR_H
