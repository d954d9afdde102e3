//===- QuantizerBridge.h - The quantizer library behind a no-throw API -*- C++ -*-===//
//
// The quantizer library reports errors with C++ exceptions; MLIR code is
// built without them. This bridge is compiled with exceptions and returns
// every failure as a message, so passes can turn it into a diagnostic.
// Only standard types cross it.
//
//===----------------------------------------------------------------------===//
#ifndef QET_LIB_DIALECT_QET_TRANSFORMS_QUANTIZERBRIDGE_H
#define QET_LIB_DIALECT_QET_TRANSFORMS_QUANTIZERBRIDGE_H

#include "qet/runtime/Container.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qet::bridge {

enum class ElementKind { F32, F16, BF16 };

/// A rows x cols weight: fp32 values (already widened from f16/bf16).
struct WeightMatrix {
  uint64_t rows = 0, cols = 0;
  ElementKind kind = ElementKind::F32;
  std::vector<float> values;
};

struct WeightOptions {
  std::string scheme = "rtn";
  double bpe = 4.0;
  unsigned bits = 0, group = 128, subspaces = 0;
  std::vector<unsigned> depths;
  uint64_t seed = 0;
  unsigned threads = 1;
};

struct Stream {
  std::string name;
  unsigned bitsEach = 0;
  uint64_t count = 0;
  std::vector<uint8_t> bytes;
};

struct QuantizedWeight {
  std::string error; // empty on success
  bool budgetTooSmall = false;
  std::string scheme; // library scheme name
  /// The library's decoder parameters, plus what a scheme attribute needs
  /// that the library derives from stream sizes: M, Ks for pq/opq; M and
  /// per-cluster rows/Ks ("cK.rows", "cK.Ks") and "clusters" for lopq.
  std::map<std::string, int64_t> params;
  std::vector<Stream> streams;
  /// The configuration chosen, for remarks ("bits=4", "M=32", ...).
  std::string summary;
  double bpe = 0, mse = 0, relFrobenius = 0;
};

/// Quantizes `weight` with the library; never throws.
QuantizedWeight quantizeWeight(const WeightMatrix &weight,
                               const WeightOptions &options);

/// The names of the library's schemes, comma separated (for messages).
std::string schemeList();
bool isScheme(const std::string &name);

/// Writes `tensors` as a .qpk container (runtime::writeContainer: atomic,
/// an existing file replaced only if `replace`); returns the error message,
/// empty on success.
std::string writeContainer(const std::string &path,
                           const std::vector<runtime::TensorData> &tensors,
                           bool replace);

} // namespace qet::bridge

#endif // QET_LIB_DIALECT_QET_TRANSFORMS_QUANTIZERBRIDGE_H
