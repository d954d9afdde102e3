//===- Scheme.h - One entry point for every quantization scheme -*- C++ -*-===//
//
// The CLI, the compiler pass and the benchmarks quantize through this table:
// a scheme name plus options in, the packed form, its decoded matrix and the
// parameters actually chosen (bits, M, Ks, ...) out.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_SCHEME_H
#define QET_QUANTIZER_SCHEME_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Random.h"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace qet::quant {

struct QuantizeOptions {
  /// Bits-per-element budget; every scheme's exact bpe stays <= this.
  double bpe = 0.0;
  /// RTN: code width (0 = largest that fits `bpe`) and group length.
  unsigned bits = 0;
  unsigned group = 128;
  /// Codebook schemes: subspaces M (0 = search powers of two, qem.md §4),
  /// codebook size cap (0 = rows), Lloyd iterations, OPQ rounds, LOPQ
  /// clusters.
  unsigned subspaces = 0;
  uint64_t maxCentroids = 0;
  unsigned iterations = 20;
  unsigned opqRounds = 10;
  unsigned lopqClusters = 2;
  uint64_t seed = kDefaultSeed;
  /// Worker threads (0 = all cores). Results do not depend on it.
  unsigned threads = 0;
  /// Called with a fraction in [0, 1] as work proceeds (may be empty).
  std::function<void(double)> progress;
};

struct QuantizeResult {
  std::string scheme;
  /// The configuration used, in display order (e.g. {"M","32"},{"Ks","476"}).
  std::vector<std::pair<std::string, std::string>> params;
  PackedMatrix packed;
  /// Decoded from `packed` alone.
  Matrix reconstruction;
};

/// Scheme names in display order: rtn, rtn-sym, pq, opq, lopq, ...
std::vector<std::string> schemeNames();

/// Quantizes `input` with `scheme`. Throws Error (BudgetTooSmall when the
/// budget cannot be met) with a message naming the scheme and shape.
QuantizeResult quantize(const std::string &scheme, const Matrix &input,
                        const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_SCHEME_H
