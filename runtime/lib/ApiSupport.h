//===- ApiSupport.h - Error state and checks of the C API -------*- C++ -*-===//
//
// Every C entry point runs its body through apiCall(), which clears this
// thread's message, catches every exception, maps it to a qet_status and
// keeps its message for qet_last_error(). The argument checks throw
// RuntimeError with the code and a message naming the argument.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_APISUPPORT_H
#define QET_RUNTIME_LIB_APISUPPORT_H

#include "qet/runtime.h"
#include "qet/runtime/RuntimeError.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace qet::runtime::api {

void clearError();
/// Maps the exception being handled to a status and records its message.
qet_status failFromCurrentException(const char *function) noexcept;

/// Runs `body` (returning void) and reports QET_OK or the failure.
template <typename Body>
qet_status apiCall(const char *function, Body &&body) noexcept {
  try {
    clearError();
    std::forward<Body>(body)();
    return QET_OK;
  } catch (...) {
    return failFromCurrentException(function);
  }
}

/// RuntimeError(NullPointer) naming `name` when `pointer` is null.
void requireNonNull(const void *pointer, const char *name);
/// RuntimeError(BufferSize) when `have` < `need` elements of `what`.
void requireCount(size_t have, size_t need, const char *name, const char *what);
/// A buffer of `have` elements of which `need` are used: null is accepted
/// only when nothing is used (NullPointer), then requireCount.
void requireBuffer(const void *pointer, size_t have, size_t need,
                   const char *name, const char *what);
/// A non-negative count as size_t (RuntimeError(InvalidArgument) else).
size_t nonNegative(int64_t value, const char *name);
/// a * b, RuntimeError(InvalidArgument) on overflow.
size_t checkedProduct(size_t a, size_t b, const char *what);
/// RuntimeError(InvalidArgument) when [a, a + aBytes) and [b, b + bBytes)
/// overlap (an output must not alias an input).
void requireDisjoint(const void *a, size_t aBytes, const void *b, size_t bBytes,
                     const char *aName, const char *bName);
/// RuntimeError(InvalidArgument) naming the first NaN/Inf of x[0, count).
void requireFinite(const float *x, size_t count, const char *name);

[[noreturn]] void fail(ErrorCode code, const std::string &message);

/// The integer a C caller passed for an enum parameter. C allows any int
/// there; in C++ loading an enum outside its enumerators' range is
/// undefined, so the value is copied out without an enum-typed load.
template <typename Enum> int32_t enumValue(const Enum &value) {
  static_assert(sizeof(Enum) == sizeof(int32_t), "C enums are int-sized");
  int32_t raw;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

} // namespace qet::runtime::api

#endif // QET_RUNTIME_LIB_APISUPPORT_H
