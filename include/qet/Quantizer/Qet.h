//===- Qet.h - HERA and QET: swap tree + (residual) PQ ---------*- C++ -*-===//
//
// qet.md. A stage swaps every row with a tree of depth l (SwapTree.h), runs
// PQ (M subspaces, Ks codewords) on the swapped rows and unswaps the decoded
// rows with the stored bits.
// - `hera` (the reference's QET_Vanilla): one stage, float codebooks at cb
//   bits. Bits: Ks*d*cb + n*M*ceil(log2 Ks) + l*n*d/2. Depth 0 is PQ.
// - `qet`: S stages on the residual (RQO), each with its own depth, budget
//   share and scalar-quantized codebook (CQO: b bits per entry plus one
//   (lo, step) pair in the input dtype; b = 0 keeps a float codebook).
//   Bits: sum_s [Ks_s*d*b_s + 2*cb + n*M*ceil(log2 Ks_s) + l_s*n*d/2].
//
// Stored streams. hera: "codebooks", "codes" (as PQ) and "swap_bits"
// (l > 0). qet, stage s = 1..S under the prefix "s<s>.": "codebook_levels",
// "codebook_lo", "codebook_step" (b > 0) or "codebooks" (b = 0), "codes",
// "swap_bits" (l > 0). Params (uncharged): M, Ks, depth (hera); stages, M,
// s<s>.depth, s<s>.codebook_bits, s<s>.Ks (qet).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_QET_H
#define QET_QUANTIZER_QET_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SwapTree.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qet::quant {

//===----------------------------------------------------------------------===//
// Bit costs and budget solvers (qet.md §2, §3.2)
//===----------------------------------------------------------------------===//

/// Largest codebook-entry width b accepted (levels stay exact in fp32).
constexpr unsigned kMaxCodebookBits = 24;

/// l * n * d / 2.
uint64_t swapTreeBits(uint64_t n, uint64_t d, unsigned depth);
/// HERA: Ks*d*cb + n*M*ceil(log2 Ks) + l*n*d/2.
uint64_t heraBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks, unsigned cb,
                  unsigned depth);
/// One QET stage: Ks*d*b + 2*cb + n*M*ceil(log2 Ks) + l*n*d/2; with b = 0
/// (float codebook) Ks*d*cb + n*M*ceil(log2 Ks) + l*n*d/2.
uint64_t qetStageBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks,
                      unsigned cb, unsigned codebookBits, unsigned depth);

/// HERA's Ks: the largest K <= maxK with heraBits(K) <= budgetBits.
/// BudgetTooSmall names the minimum and, when the swap bits are the
/// problem, suggests a smaller depth.
uint64_t solveHeraCodebookSize(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
                               unsigned depth, uint64_t budgetBits,
                               uint64_t maxK);

/// A QET stage before the budget is split.
struct QetStageSpec {
  unsigned depth = 0;          // l_s
  double rate = 1.0;           // share of the bytes left after all swap bits
  unsigned codebookBits = 10;  // b_s; 0 = float codebook at cb bits
};

/// The reference's defaults: 2 stages, depths (3, 0), rates (0.7, 0.3),
/// codebook bits (10, 10).
std::vector<QetStageSpec> defaultQetStages();

/// Throws Error unless 1 <= stages, every rate > 0 with sum <= 1, every
/// b <= kMaxCodebookBits and d % 2^l == 0 for every stage.
void validateQetStages(uint64_t d, const std::vector<QetStageSpec> &stages);

/// The budget split of qet.md §3.2, in whole bytes as the reference.
struct QetBudgetPlan {
  uint64_t swapBits = 0;          // sum_s l_s*n*d/2
  uint64_t availableBytes = 0;    // floor((budget - swap) / 8)
  std::vector<uint64_t> stageBytes; // B_s = floor(avail * rate_s)
  std::vector<uint64_t> centroids;  // Ks_s
  uint64_t totalBits = 0;           // the ledger total with these Ks
};

/// Splits `budgetBits` between the stages and solves every Ks_s (the
/// largest K <= maxK with the stage's codebook + lo/step + code bits <=
/// 8*B_s). BudgetTooSmall (naming the minimum budget and suggesting smaller
/// depths) when the swap bits leave no byte or a stage cannot hold Ks = 1.
QetBudgetPlan solveQetBudget(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
                             const std::vector<QetStageSpec> &stages,
                             uint64_t budgetBits, uint64_t maxK);

/// The smallest budget (bits) solveQetBudget accepts for this configuration.
uint64_t qetMinimumBudgetBits(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
                              const std::vector<QetStageSpec> &stages);

//===----------------------------------------------------------------------===//
// Codebook quantization (CQO, qet.md §3.3)
//===----------------------------------------------------------------------===//

struct QuantizedCodebook {
  float lo = 0.0f, step = 0.0f;  // representable in the input dtype
  std::vector<uint32_t> levels;  // in [0, 2^bits - 1]
  std::vector<float> values;     // dequantizeCodebookLevel of each level
};

/// lo = dtype(min), step = dtype((max - lo) / (2^bits - 1)),
/// q = clamp(rint((c - lo) / step), 0, 2^bits - 1) (q = 0 when step = 0).
/// 1 <= bits <= kMaxCodebookBits.
QuantizedCodebook quantizeCodebook(const std::vector<float> &codebook,
                                   unsigned bits, DType storage);

/// q * step + lo in fp32 (two roundings, never fused into an FMA), as
/// every encoder and decoder computes it.
float dequantizeCodebookLevel(uint32_t level, float lo, float step);

//===----------------------------------------------------------------------===//
// Models, training, decoding, packing
//===----------------------------------------------------------------------===//

struct QetStage {
  unsigned depth = 0;
  /// b; 0 = float codebook.
  unsigned codebookBits = 0;
  /// The codebook as decoded (CQO: the dequantized levels) and the codes.
  PqModel pq;
  /// CQO only: the stored levels (M*Ks*Ds, subspace-major) and (lo, step).
  std::vector<uint32_t> levels;
  float lo = 0.0f, step = 0.0f;
  SwapBits swaps;
};

struct QetModel {
  /// "hera" (one float-codebook stage, PQ stream names) or "qet".
  std::string scheme = "qet";
  size_t rows = 0, cols = 0;
  size_t subspaces = 0;
  DType storage = DType::F32;
  std::vector<QetStage> stages;
  /// Training MSE (fp64, mean over n*d) of X - Xhat after each stage, as
  /// computed during training; empty for an unpacked model.
  std::vector<double> stageMse;
};

struct QetStageConfig {
  unsigned depth = 0;
  unsigned codebookBits = 10; // 0 = float codebook
  size_t centroids = 0;       // Ks, 1 <= Ks <= n
};

struct QetConfig {
  size_t subspaces = 0; // M, one for every stage
  std::vector<QetStageConfig> stages;
  unsigned iterations = 20;
  uint64_t seed = kDefaultSeed; // the same in every stage and subspace
  unsigned threads = 0;
};

/// Trains QET on `x` (qet.md §3.3): each stage swaps the residual, fits
/// k-means codebooks per subspace (one "points" draw), rounds them to the
/// input dtype, quantizes them (b > 0), assigns codes under the stored
/// codebook, and subtracts its unswapped reconstruction from the residual.
QetModel trainQet(const Matrix &x, const QetConfig &config);
/// HERA: one stage of depth l with float codebooks (scheme "hera"). With
/// depth 0 the codebooks and codes are those of trainPq.
QetModel trainHera(const Matrix &x, const PqConfig &pq, unsigned depth);

/// Stage s's contribution: the inverse tree of its PQ decode.
Matrix decodeQetStage(const QetModel &model, size_t stage,
                      unsigned threads = 0);
/// Sum of the stages' contributions, added in stage order in fp32.
Matrix decodeQet(const QetModel &model, unsigned threads = 0);

/// The ledger formula of the model (heraBits / sum of qetStageBits).
uint64_t qetModelBits(const QetModel &model);

/// Stream prefix of stage s (0-based) of a "qet" model: "s<s+1>.".
std::string qetStagePrefix(size_t stage);

/// Sets scheme, shape, storage, params and streams of `packed`.
void packQet(const QetModel &model, PackedMatrix &packed);
/// Reads a "hera" or "qet" packed matrix back; FormatError on
/// inconsistent streams or params.
QetModel unpackQet(const PackedMatrix &packed);
/// Decodes a packed "hera" or "qet" matrix from its streams alone.
Matrix decodeQet(const PackedMatrix &packed, unsigned threads = 0);

//===----------------------------------------------------------------------===//
// Schemes
//===----------------------------------------------------------------------===//

/// Candidate first-stage depths of the search: 0..3 where 2^l divides d.
std::vector<unsigned> qetDepthCandidates(size_t d);
/// Candidate budget splits of the search for `stages` stages.
std::vector<std::vector<double>> qetSplitCandidates(size_t stages);

/// The `hera` scheme. options.depths (at most one value) fixes l, else
/// l in qetDepthCandidates(d) is searched; M given or searched; Ks from
/// the solver. Params: M, depth, Ks, iterations, seed.
QuantizeResult quantizeHera(const Matrix &input, const QuantizeOptions &options);
/// The `qet` scheme. Stage count = options.stages, else the length of a
/// given list, else 2. Unset M, depths (first stage searched over
/// qetDepthCandidates, later stages 0) and split (qetSplitCandidates) are
/// searched jointly for the lowest MSE under the budget; codebook bits
/// default to 10. Params: M, stages, depth, split, codebook bits, Ks,
/// configs tried, stage mse, iterations, seed.
QuantizeResult quantizeQet(const Matrix &input, const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_QET_H
