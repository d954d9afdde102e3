//===- Vptq.h - VPTQ vector quantization of a weight matrix ----*- C++ -*-===//
//
// vptq.md: GPTQ with scalar rounding replaced by a nearest-centroid lookup.
// W is [M, N] = [out, in] (y = W x); a vector is v consecutive *output rows*
// of one input column, W[r*v : r*v+v, p], the rows beyond M zero-padded.
//
// Pipeline (vptq.md §2-6): Hessian prep (normalize, dead columns, optional
// per-column normalization, damping, stable act-order permutation, upper
// Cholesky factor U of H^-1) -> Hessian-diagonal-weighted k-means per part
// (outliers, G groups) -> channel-independent column sweep with second-order
// error feedback and lazy block updates -> optional residual codebook
// (k-means on the sweep's residual, then a second sweep, greedy assignment).
// Without a Hessian (identity mode) this is plain k-means VQ.
//
// Storage ("qet.vptq.v1", §7): per (group, vector-row) an LSB-first stream of
// T = b + b_r bit fields (field = i1 | i2 << b, residual index in the high
// bits) padded to 32-bit words, fp16 codebooks, perm (omitted when it is the
// identity), fp16 scale/bias (norm on). The PackedMatrix streams hold exactly
// these words, so payload bits == vptqStorageBits() == the §8 formula.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_VPTQ_H
#define QET_QUANTIZER_VPTQ_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qet::quant {

//===----------------------------------------------------------------------===//
// Calibration Hessian H = E[x x^T]
//===----------------------------------------------------------------------===//

/// H = E[x x^T] over the calibration tokens feeding one Linear: n x n, fp64,
/// row-major, in the original input-column order.
struct CalibrationHessian {
  size_t n = 0;
  std::vector<double> values;
  double at(size_t i, size_t j) const { return values[i * n + j]; }
};

/// Accumulates sum(x x^T) / count in fp64 over batches of activation rows
/// (the H-accumulation hook: feed it [tokens, n] batches as they come).
class HessianAccumulator {
public:
  explicit HessianAccumulator(size_t n);
  /// Adds every row of `activations` (tokens x n); Error on a width mismatch
  /// or NaN/Inf.
  void add(const Matrix &activations);
  uint64_t count() const { return tokens; }
  /// Error when nothing was added.
  CalibrationHessian finish() const;

private:
  size_t n;
  uint64_t tokens = 0;
  std::vector<double> sum; // upper triangle used, mirrored in finish()
};

/// H = X^T X / tokens for activations X [tokens, n].
CalibrationHessian hessianFromActivations(const Matrix &activations);
/// H = cov + mu mu^T (vptq.md §2: the covariance + mean form).
CalibrationHessian hessianFromCovariance(const Matrix &covariance,
                                         const std::vector<double> &mean);
/// A matrix read from a file: taken as H itself when it is square and
/// symmetric (|H_ij - H_ji| <= 1e-6 * max|H|), else as activations
/// [tokens, n] (rows = tokens). Error on NaN/Inf.
CalibrationHessian hessianFromMatrix(const Matrix &m);
/// readMatrix(path) followed by hessianFromMatrix.
CalibrationHessian loadCalibrationHessian(const std::string &path);

/// The proxy error of vptq.md §3 for W ~ approx (original column order and
/// units) with H_m = H / mean(diag H). Identity mode (h null): E = ||dW||_F^2.
struct ProxyError {
  double proxy = 0;    // E = tr(dW H_m dW^T)
  double relative = 0; // E / tr(W H_m W^T) (0 when that is 0)
  double perN2 = 0;    // E / N^2, the form the original code logs
};
ProxyError hessianProxyError(const Matrix &w, const Matrix &approx,
                             const CalibrationHessian *h, unsigned threads = 0);

//===----------------------------------------------------------------------===//
// Configuration and geometry
//===----------------------------------------------------------------------===//

struct VptqConfig {
  unsigned vectorLength = 8; // v, 1..16
  unsigned indexBits = 12;   // b, k = 2^b, 1..16
  unsigned residualBits = 0; // b_r, k_r = 2^b_r (0 = no residual)
  /// pct: o = ceil(pct/100 * N), raised until (N - o) % G == 0.
  double outlierPercent = 0.0;
  unsigned outlierVectorLength = 4; // v_o
  unsigned outlierBits = 12;        // b_o, k_o = 2^b_o
  unsigned groups = 1;              // G
  bool permute = true;              // act-order permutation (§2 step 5)
  bool normalize = false;           // per-column scale/bias (§2 step 3)
  unsigned block = 128;             // lazy-update block B
  double damp = 0.01;
  unsigned iterations = 25; // Lloyd iterations
  uint64_t seed = kDefaultSeed;
  unsigned threads = 0; // 0 = all cores; results do not depend on it
};

/// The derived geometry (the header fields of §7).
struct VptqLayout {
  size_t rows = 0, cols = 0; // M, N
  unsigned v = 0, b = 0, br = 0, groups = 0;
  size_t groupSize = 0; // gs
  size_t outliers = 0;  // o
  unsigned vo = 0, bo = 0;

  unsigned fieldBits() const { return b + br; } // T
  size_t vectorRows() const { return (rows + v - 1) / v; }           // R
  size_t outlierVectorRows() const { return (rows + vo - 1) / vo; }  // R_o
  size_t wordsPerStream() const { return (groupSize * fieldBits() + 31) / 32; }
  size_t wordsPerOutlierStream() const { return (outliers * bo + 31) / 32; }
  uint64_t centroids() const { return uint64_t{1} << b; }
  uint64_t residualCentroids() const { return br ? uint64_t{1} << br : 0; }
  uint64_t outlierCentroids() const { return outliers ? uint64_t{1} << bo : 0; }
};

/// Validates `config` for an M x N weight and derives the layout. Throws
/// Error naming the bad setting (v or b outside 1..16, T > 32, G = 0, no
/// columns left for the groups, ...).
VptqLayout vptqLayout(size_t rows, size_t cols, const VptqConfig &config);

/// The §8 formula: index words + outlier words + fp16 codebooks + perm
/// (16 bits each for N <= 65536, else 32; 0 when not stored) + 32 N for
/// scale and bias when norm is on.
uint64_t vptqStorageBits(const VptqLayout &layout, bool storesPerm,
                         bool normalize);

//===----------------------------------------------------------------------===//
// Index bit streams (§7)
//===----------------------------------------------------------------------===//

/// Packs `count` fields of `width` (1..32) bits into ceil(count*width/32)
/// little-endian words, field c at stream bits [c*width, (c+1)*width), LSB
/// first, tail bits 0. Error if a field does not fit.
std::vector<uint32_t> packFields(const uint32_t *fields, size_t count,
                                 unsigned width);
/// Field c of a packFields stream (the §7 decoding rule).
inline uint32_t readField(const uint32_t *words, size_t c, unsigned width) {
  uint64_t s = uint64_t(c) * width;
  size_t w = s >> 5;
  unsigned sh = s & 31;
  uint64_t val = uint64_t(words[w]) >> sh;
  if (sh + width > 32)
    val |= uint64_t(words[w + 1]) << (32 - sh);
  return static_cast<uint32_t>(val & ((uint64_t{1} << width) - 1));
}

//===----------------------------------------------------------------------===//
// Preparation and sweep (exposed for tests and tools)
//===----------------------------------------------------------------------===//

/// W and H after §2, in permuted column order.
struct VptqPrepared {
  /// M x N: column p holds original column perm[p], dead columns zeroed,
  /// normalized when norm is on.
  Matrix weights;
  std::vector<uint32_t> perm;
  bool permIsIdentity = true;
  /// Per original column; empty when norm is off.
  std::vector<float> scale, bias;
  /// k-means weight w_p of permuted column p (H_pp after step 4).
  std::vector<double> columnWeights;
  /// Upper Cholesky factor of H^-1 (N x N row-major, fp32, permuted order).
  std::vector<float> u;
  /// True when H (so U) is diagonal: the sweep then has no feedback.
  bool diagonal = true;
  /// The step-6 damping actually used (after retries), relative to mean diag.
  double damping = 0.0;
};

/// §2. h null = identity mode. Throws Error on a shape mismatch, NaN/Inf, a
/// negative diagonal, an all-zero diagonal, or an H that stays non-SPD after
/// three 10x increases of the step-6 damping.
VptqPrepared vptqPrepare(const Matrix &w, const CalibrationHessian *h,
                         const VptqConfig &config);

/// fp16-valued codebooks: main [G][k][v], residual [G][k_r][v] (empty
/// without residual), outlier [k_o][v_o] (empty without outliers).
struct VptqCodebooks {
  std::vector<float> main, residual, outlier;
};

struct VptqSweepResult {
  /// [G][R][gs]: i1 | i2 << b.
  std::vector<uint32_t> fields;
  /// [R_o][o]: outlier indices.
  std::vector<uint32_t> outlierFields;
  /// M x N, permuted order, prepared units: the chosen centroid sums.
  Matrix quantized;
  /// M x N: target after feedback minus `quantized` (residual training data).
  Matrix residual;
};

/// The §5 sweep of `prepared` (M x N, permuted) with factor `u` (N x N,
/// upper). `feedback` false gives plain nearest-centroid assignment (what
/// the sweep does when U is diagonal). `useResidual` assigns the residual
/// codebooks greedily after the main one.
VptqSweepResult vptqSweep(const Matrix &prepared, const std::vector<float> &u,
                          bool feedback, const VptqLayout &layout,
                          const VptqCodebooks &codebooks, bool useResidual,
                          unsigned block, unsigned threads);

/// Ŵ in original column order and units from a sweep's `quantized`.
Matrix vptqRestore(const VptqPrepared &prepared, const Matrix &quantized);

//===----------------------------------------------------------------------===//
// Quantization, storage, decoding
//===----------------------------------------------------------------------===//

/// The stored form (§7), held in memory exactly as packed.
struct VptqEncoded {
  VptqLayout layout;
  bool normalize = false;
  std::vector<uint32_t> idx;         // [G][R][wordsPerStream]
  std::vector<uint32_t> idxOutliers; // [R_o][wordsPerOutlierStream]
  VptqCodebooks codebooks;
  std::vector<uint32_t> perm;    // empty when identity
  std::vector<float> scale, bias; // fp16 values, original order; empty if off
};

struct VptqQuantized {
  VptqEncoded encoded;
  /// Ŵ from the sweep (original order and units); equals
  /// vptqDecode(encoded) bit for bit.
  Matrix reconstruction;
  /// Weighted mean squared error of the residual training data against
  /// zero (before) and against its residual codebook (after), summed over
  /// groups; both 0 without residual.
  double residualTrainBefore = 0, residualTrainAfter = 0;
  double damping = 0;
};

/// Runs the whole pipeline. `progress` (may be empty) gets fractions.
VptqQuantized vptqQuantize(const Matrix &w, const CalibrationHessian *h,
                           const VptqConfig &config,
                           const std::function<void(double)> &progress = {});

/// §9: Ŵ (M x N, original order and units).
Matrix vptqDecode(const VptqEncoded &encoded);

/// §10 reference: y = Ŵ x (+ bias when given, length M), from the index
/// words directly: perm and scale folded into x~ once, beta = sum x_j b_j
/// once, codebook lookups accumulated per column in fp32, rows statically
/// split over threads.
std::vector<float> vptqMatvec(const VptqEncoded &encoded,
                              const std::vector<float> &x,
                              const std::vector<float> *bias = nullptr,
                              unsigned threads = 0);

/// Streams "idx", "idx_o" (when o > 0) of 32-bit words, fp16 "C", "Cr",
/// "C_o", "perm" (16/32-bit, when not identity), fp16 "scale", "bias" (norm
/// on); header fields as params, "version" = 1.
PackedMatrix vptqPack(const VptqEncoded &encoded);
/// FormatError on a missing stream, wrong sizes or an unknown version.
VptqEncoded vptqUnpack(const PackedMatrix &packed);

/// The `vptq` entry of the scheme table: options.vectorLength (0 = 8),
/// centroids (0 = the largest power of two <= 65536 that fits options.bpe),
/// residualCentroids, outlierPercent/outlierVectorLength/outlierCentroids,
/// groups, hessian; BudgetTooSmall when the bits exceed options.bpe.
QuantizeResult quantizeVptq(const Matrix &input, const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_VPTQ_H
