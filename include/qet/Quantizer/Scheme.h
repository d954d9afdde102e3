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
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qet::quant {

struct CalibrationHessian; // Vptq.h

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
  /// HERA/QET (qet.md): stage count (0 = length of a list below, else 2),
  /// swap-tree depth per stage (empty = search), budget split between the
  /// stages (empty = search), codebook bits per stage (empty = 10 each; 0 =
  /// float codebook). `hera` takes one depth and ignores the others.
  unsigned stages = 0;
  std::vector<unsigned> depths;
  std::vector<double> split;
  std::vector<unsigned> codebookBits;
  /// QJL keys (qjl.md): sketch rows m (0 = 256, or the largest that fits a
  /// given bpe), outlier channels |O| per token group, outlier sketch rows
  /// m_o (0 = m), tokens per group G, JL matrix kind ("orthogonal" or
  /// "gaussian"). A bpe of 0 means no budget for `qjl`.
  unsigned sketch = 0;
  unsigned outliers = 0;
  unsigned outlierSketch = 0;
  unsigned groupTokens = 32;
  std::string jlMatrix = "orthogonal";
  /// VPTQ (vptq.md): vector length v (0 = 8), centroids k (power of two; 0 =
  /// the largest <= 65536 within `bpe`), residual centroids k_r (0 = none),
  /// outlier columns in percent of the input columns with their own vector
  /// length and centroids (0 = 4 and k), column groups (0 = 1), per-column
  /// normalization, and the calibration Hessian H = E[x x^T] (null =
  /// identity mode).
  unsigned vectorLength = 0;
  uint64_t centroids = 0;
  uint64_t residualCentroids = 0;
  double outlierPercent = 0.0;
  unsigned outlierVectorLength = 0;
  uint64_t outlierCentroids = 0;
  unsigned groups = 0;
  bool vptqNormalize = false;
  std::shared_ptr<const CalibrationHessian> hessian;
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

/// Decodes a packed matrix of any scheme from its streams and parameters
/// alone (FormatError for an unknown scheme or inconsistent streams).
Matrix dequantize(const PackedMatrix &packed);

/// Quantizes `input` with `scheme`. Throws Error (BudgetTooSmall when the
/// budget cannot be met) with a message naming the scheme and shape.
QuantizeResult quantize(const std::string &scheme, const Matrix &input,
                        const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_SCHEME_H
