//===- ApiSupport.cpp - Error state and checks of the C API ---------------===//

#include "ApiSupport.h"

#include "qet/Quantizer/Error.h"
#include "qet/runtime/Container.h"

#include <cmath>
#include <new>
#include <stdexcept>

namespace qet::runtime::api {

namespace {

thread_local std::string lastError;

qet_status statusOf(ErrorCode code) {
  switch (code) {
  case ErrorCode::Format:
    return QET_ERROR_FORMAT;
  case ErrorCode::InvalidArgument:
    return QET_ERROR_INVALID_ARGUMENT;
  case ErrorCode::NullPointer:
    return QET_ERROR_NULL_POINTER;
  case ErrorCode::BufferSize:
    return QET_ERROR_BUFFER_SIZE;
  case ErrorCode::NotFound:
    return QET_ERROR_NOT_FOUND;
  case ErrorCode::Unsupported:
    return QET_ERROR_UNSUPPORTED;
  }
  return QET_ERROR_INTERNAL;
}

qet_status statusOf(ContainerErrorKind kind) {
  switch (kind) {
  case ContainerErrorKind::Io:
    return QET_ERROR_IO;
  case ContainerErrorKind::Checksum:
    return QET_ERROR_CHECKSUM;
  case ContainerErrorKind::Format:
    return QET_ERROR_FORMAT;
  }
  return QET_ERROR_INTERNAL;
}

/// Records "<function>: <message>"; never throws (a failed allocation
/// leaves a fixed message).
qet_status record(const char *function, qet_status status,
                  const char *message) noexcept {
  try {
    lastError = std::string(function) + ": " + message;
  } catch (...) {
    try {
      lastError.clear();
    } catch (...) {
    }
  }
  return status;
}

} // namespace

void clearError() { lastError.clear(); }

qet_status failFromCurrentException(const char *function) noexcept {
  try {
    throw;
  } catch (const RuntimeError &e) {
    return record(function, statusOf(e.code()), e.what());
  } catch (const ContainerError &e) {
    return record(function, statusOf(e.kind()), e.what());
  } catch (const quant::FormatError &e) {
    return record(function, QET_ERROR_FORMAT, e.what());
  } catch (const quant::Error &e) {
    // The quantizer library rejects bad caller input (configurations,
    // NaN/Inf data) with Error.
    return record(function, QET_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc &) {
    return record(function, QET_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::length_error &e) {
    return record(function, QET_ERROR_OUT_OF_MEMORY, e.what());
  } catch (const std::exception &e) {
    return record(function, QET_ERROR_INTERNAL, e.what());
  } catch (...) {
    return record(function, QET_ERROR_INTERNAL, "unknown exception");
  }
}

void fail(ErrorCode code, const std::string &message) {
  throw RuntimeError(code, message);
}

void requireNonNull(const void *pointer, const char *name) {
  if (!pointer)
    fail(ErrorCode::NullPointer,
         std::string("argument '") + name + "' is null");
}

void requireCount(size_t have, size_t need, const char *name,
                  const char *what) {
  if (have < need)
    fail(ErrorCode::BufferSize, std::string("argument '") + name + "' holds " +
                                    std::to_string(have) + " " + what + ", " +
                                    std::to_string(need) + " are needed");
}

void requireBuffer(const void *pointer, size_t have, size_t need,
                   const char *name, const char *what) {
  if (need)
    requireNonNull(pointer, name);
  requireCount(have, need, name, what);
}

size_t nonNegative(int64_t value, const char *name) {
  if (value < 0)
    fail(ErrorCode::InvalidArgument, std::string("argument '") + name +
                                         "' is negative (" +
                                         std::to_string(value) + ")");
  return static_cast<size_t>(value);
}

size_t checkedProduct(size_t a, size_t b, const char *what) {
  if (a && b > SIZE_MAX / a)
    fail(ErrorCode::InvalidArgument, std::string(what) +
                                         " overflows: " + std::to_string(a) +
                                         " x " + std::to_string(b));
  return a * b;
}

void requireDisjoint(const void *a, size_t aBytes, const void *b, size_t bBytes,
                     const char *aName, const char *bName) {
  auto lo = [](const void *p) { return reinterpret_cast<uintptr_t>(p); };
  if (aBytes && bBytes && lo(a) < lo(b) + bBytes && lo(b) < lo(a) + aBytes)
    fail(ErrorCode::InvalidArgument,
         std::string("arguments '") + aName + "' and '" + bName + "' overlap");
}

void requireFinite(const float *x, size_t count, const char *name) {
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(x[i]))
      fail(ErrorCode::InvalidArgument, std::string("argument '") + name +
                                           "' element " + std::to_string(i) +
                                           " is " + std::to_string(x[i]));
}

} // namespace qet::runtime::api

extern "C" const char *qet_last_error(void) noexcept {
  return qet::runtime::api::lastError.c_str();
}

extern "C" const char *qet_status_name(qet_status status) noexcept {
  switch (qet::runtime::api::enumValue(status)) {
  case QET_OK:
    return "QET_OK";
  case QET_ERROR_IO:
    return "QET_ERROR_IO";
  case QET_ERROR_FORMAT:
    return "QET_ERROR_FORMAT";
  case QET_ERROR_CHECKSUM:
    return "QET_ERROR_CHECKSUM";
  case QET_ERROR_INVALID_ARGUMENT:
    return "QET_ERROR_INVALID_ARGUMENT";
  case QET_ERROR_NULL_POINTER:
    return "QET_ERROR_NULL_POINTER";
  case QET_ERROR_BUFFER_SIZE:
    return "QET_ERROR_BUFFER_SIZE";
  case QET_ERROR_NOT_FOUND:
    return "QET_ERROR_NOT_FOUND";
  case QET_ERROR_UNSUPPORTED:
    return "QET_ERROR_UNSUPPORTED";
  case QET_ERROR_OUT_OF_MEMORY:
    return "QET_ERROR_OUT_OF_MEMORY";
  case QET_ERROR_INTERNAL:
    return "QET_ERROR_INTERNAL";
  }
  return "unknown status";
}
