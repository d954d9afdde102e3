//===- Error.h - Errors raised by the quantizer library ---------*- C++ -*-===//
//
// The quantizer library reports bad input and infeasible requests with
// exceptions carrying a complete, user-facing message. Callers that are built
// without exceptions (MLIR passes) catch them at the library boundary.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_ERROR_H
#define QET_QUANTIZER_ERROR_H

#include <stdexcept>
#include <string>

namespace qet::quant {

/// Any error raised by the quantizer library.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

/// The requested bits-per-element budget cannot hold even the smallest
/// configuration of a scheme.
class BudgetTooSmall : public Error {
public:
  explicit BudgetTooSmall(const std::string &message) : Error(message) {}
};

/// Malformed, truncated or unsupported input files.
class FormatError : public Error {
public:
  explicit FormatError(const std::string &message) : Error(message) {}
};

} // namespace qet::quant

#endif // QET_QUANTIZER_ERROR_H
