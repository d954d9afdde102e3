//===- Opq.cpp - Optimized product quantization (OPQ) ---------------------===//

#include "qet/Quantizer/Opq.h"

#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Parallel.h"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <algorithm>

namespace qet::quant {

namespace {

using RowMatrixF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMapF = Eigen::Map<const RowMatrixF>;
using MapF = Eigen::Map<RowMatrixF>;

// Fixed block sizes: each block is one GEMM of the same shape whatever the
// thread count, so results are bit-identical for any number of threads.
constexpr size_t kRowBlock = 256;
constexpr size_t kColumnBlock = 32;

} // namespace

Matrix multiplyRotation(const Matrix &x, const std::vector<float> &rotation,
                        bool transpose, unsigned threads) {
  const size_t d = x.cols;
  if (rotation.size() != d * d)
    throw Error("opq: a " + std::to_string(d) + "x" + std::to_string(d) +
                " rotation needs " + std::to_string(d * d) + " values, got " +
                std::to_string(rotation.size()));
  Matrix out(x.rows, d, x.storage);
  ConstMapF r(rotation.data(), d, d);
  size_t blocks = (x.rows + kRowBlock - 1) / kRowBlock;
  parallelFor(0, blocks, threads, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      size_t first = b * kRowBlock, count = std::min(kRowBlock, x.rows - first);
      ConstMapF in(x.row(first), count, d);
      MapF result(out.row(first), count, d);
      if (transpose)
        result.noalias() = in * r.transpose();
      else
        result.noalias() = in * r;
    }
  });
  return out;
}

std::vector<float> procrustesRotation(const Matrix &x, const Matrix &target,
                                      unsigned threads) {
  if (x.rows != target.rows || x.cols != target.cols)
    throw Error("opq: Procrustes needs two matrices of the same shape");
  const size_t n = x.rows, d = x.cols;
  // A = x^T target, one GEMM per fixed block of target columns.
  RowMatrixF a(d, d);
  ConstMapF xs(x.values.data(), n, d);
  size_t blocks = (d + kColumnBlock - 1) / kColumnBlock;
  parallelFor(0, blocks, threads, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      size_t first = b * kColumnBlock, count = std::min(kColumnBlock, d - first);
      Eigen::Map<const RowMatrixF, 0, Eigen::OuterStride<>> columns(
          target.values.data() + first, n, count, Eigen::OuterStride<>(d));
      RowMatrixF block = xs.transpose() * columns;
      a.middleCols(first, count) = block;
    }
  });
  // U V^T does not depend on the SVD's sign choices when A is nonsingular.
  Eigen::MatrixXd ad = a.cast<double>();
  Eigen::BDCSVD<Eigen::MatrixXd> svd(ad, Eigen::ComputeFullU |
                                             Eigen::ComputeFullV);
  Eigen::MatrixXd r = svd.matrixU() * svd.matrixV().transpose();
  std::vector<float> rotation(d * d);
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < d; ++j)
      rotation[i * d + j] = static_cast<float>(r(i, j));
  return rotation;
}

OpqModel trainOpq(const Matrix &x, const OpqConfig &config,
                  const std::function<void(double)> &progress) {
  if (config.rounds == 0)
    throw Error("opq: at least one round is needed");
  if (x.rows == 0 || x.cols == 0)
    throw Error("opq: the input matrix is empty");
  const size_t d = x.cols;
  OpqModel model;
  model.rotation.assign(d * d, 0.0f);
  for (size_t i = 0; i < d; ++i)
    model.rotation[i * d + i] = 1.0f;
  for (unsigned round = 0; round < config.rounds; ++round) {
    bool last = round + 1 == config.rounds;
    // The last PQ is trained on x R_stored, so decode with the stored R
    // matches training (a no-op for fp32).
    if (last)
      for (float &value : model.rotation)
        value = roundTo(x.storage, value);
    Matrix y = multiplyRotation(x, model.rotation, /*transpose=*/false,
                                config.pq.threads);
    PqConfig pq = config.pq;
    pq.iterations = last ? config.pq.iterations : 1;
    model.pq = trainPq(y, pq);
    if (!last)
      model.rotation =
          procrustesRotation(x, decodePq(model.pq), config.pq.threads);
    if (progress)
      progress(static_cast<double>(round + 1) / config.rounds);
  }
  return model;
}

Matrix decodeOpq(const OpqModel &model, unsigned threads) {
  return multiplyRotation(decodePq(model.pq), model.rotation,
                          /*transpose=*/true, threads);
}

void packOpq(const OpqModel &model, PackedMatrix &packed,
             const std::string &prefix) {
  packed.addFloats(prefix + "rotation", model.rotation, model.pq.storage);
  packPq(model.pq, packed, prefix);
}

OpqModel unpackOpq(const PackedMatrix &packed, uint64_t rows, uint64_t cols,
                   const std::string &prefix) {
  OpqModel model;
  model.rotation = packed.floats(prefix + "rotation", packed.storage);
  if (model.rotation.size() != cols * cols)
    throw FormatError("opq: stream '" + prefix + "rotation' holds " +
                      std::to_string(model.rotation.size()) +
                      " values, a " + std::to_string(cols) + "x" +
                      std::to_string(cols) + " rotation needs " +
                      std::to_string(cols * cols));
  model.pq = unpackPq(packed, rows, cols, prefix);
  return model;
}

Matrix decodeOpq(const PackedMatrix &packed, unsigned threads) {
  return decodeOpq(unpackOpq(packed, packed.rows, packed.cols), threads);
}

QuantizeResult quantizeOpq(const Matrix &input,
                           const QuantizeOptions &options) {
  if (input.rows == 0 || input.cols == 0)
    throw Error("opq: the input matrix is empty");
  requireFinite(input, "opq");
  const uint64_t n = input.rows, d = input.cols;
  const unsigned cb = bitWidth(input.storage);
  const uint64_t budget = budgetBits(options.bpe, n * d);
  return fitWithSubspaceSearch(input, options, [&](size_t m) {
    requireSubspacesDivide("opq", d, m);
    BudgetProblem problem{"opq", n, d, m, budget,
                          maxCodebookSize(n, options.maxCentroids)};
    uint64_t ks = solveCodebookSize(
        problem, [&](uint64_t k) { return opqBits(n, d, m, k, cb); });
    OpqConfig config;
    config.pq = {m, static_cast<size_t>(ks), options.iterations, options.seed,
                 options.threads};
    config.rounds = options.opqRounds;
    OpqModel model = trainOpq(input, config);
    QuantizeResult result;
    result.scheme = "opq";
    result.packed = PackedMatrix::emptyFor("opq", input);
    packOpq(model, result.packed);
    result.reconstruction = decodeOpq(result.packed, options.threads);
    result.params = {{"M", std::to_string(m)},
                     {"Ks", std::to_string(ks)},
                     {"iterations", std::to_string(options.iterations)},
                     {"rounds", std::to_string(options.opqRounds)},
                     {"seed", std::to_string(options.seed)}};
    return result;
  });
}

} // namespace qet::quant
