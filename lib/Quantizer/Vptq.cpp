//===- Vptq.cpp - The VPTQ quantizer and its scheme entry -----------------===//
//
// vptq.md §4-6: per part (outliers, then G groups) a Hessian-diagonal-
// weighted k-means on the prepared weight's vectors, a sweep with the main
// codebooks, and with a residual codebook: k-means on that sweep's residual
// and a second full sweep from the prepared weight with both codebooks.
//
// Choices where the spec is silent (documented in the report):
// - Vector order inside a part, which fixes the sub-sample and the k-means
//   chunks: column-major, vector id = c * R_part + r (c the column inside the
//   part, r the vector-row).
// - Residual "training error": the weighted mean squared norm of the group's
//   residual vectors before and after subtracting their nearest residual
//   centroid (all vectors of the group, weights w of their column).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Vptq.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Parallel.h"
#include "qet/Quantizer/WeightedKMeans.h"

#include <cmath>
#include <string>

namespace qet::quant {

namespace {

/// The vectors of columns [col0, col0 + width) of `src` with vector length
/// vv (rows beyond M are zero), column-major, with their column weights.
void partVectors(const Matrix &src, size_t col0, size_t width, unsigned vv,
                 const std::vector<double> &columnWeights,
                 std::vector<float> &data, std::vector<double> &weights) {
  size_t M = src.rows, Rp = (M + vv - 1) / vv;
  data.assign(width * Rp * vv, 0.0f);
  weights.resize(width * Rp);
  for (size_t c = 0; c < width; ++c)
    for (size_t r = 0; r < Rp; ++r) {
      size_t id = c * Rp + r;
      weights[id] = columnWeights[col0 + c];
      for (unsigned e = 0; e < vv; ++e) {
        size_t row = r * vv + e;
        if (row < M)
          data[id * vv + e] = src.at(row, col0 + c);
      }
    }
}

unsigned log2Exact(uint64_t value, const char *what) {
  if (value < 2 || value > 65536 || (value & (value - 1)))
    throw Error(std::string("vptq: ") + what + " must be a power of two in " +
                "2..65536, got " + std::to_string(value));
  unsigned bits = 0;
  while ((uint64_t{1} << bits) < value)
    ++bits;
  return bits;
}

} // namespace

VptqQuantized vptqQuantize(const Matrix &w, const CalibrationHessian *h,
                           const VptqConfig &config,
                           const std::function<void(double)> &progress) {
  auto report = [&](double f) {
    if (progress)
      progress(f);
  };
  const VptqLayout l = vptqLayout(w.rows, w.cols, config);
  VptqPrepared prep = vptqPrepare(w, h, config);
  for (float value : prep.weights.values)
    if (!(std::fabs(value) <= kHalfMax))
      throw Error("vptq: a prepared weight (" + std::to_string(value) +
                  ") exceeds the fp16 range of the codebooks");
  report(0.05);

  const size_t G = l.groups, gs = l.groupSize, o = l.outliers;
  const size_t k = l.centroids(), kr = l.residualCentroids();
  VptqCodebooks cb;
  cb.main.resize(G * k * l.v);
  std::vector<float> data;
  std::vector<double> weights;
  auto train = [&](size_t col0, size_t width, unsigned vv, size_t kk,
                   unsigned group, unsigned stage, const Matrix &src,
                   float *dst) {
    partVectors(src, col0, width, vv, prep.columnWeights, data, weights);
    WeightedKMeansOptions opt;
    opt.k = kk;
    opt.iterations = config.iterations;
    opt.seed = vptqStreamSeed(config.seed, group, stage);
    opt.threads = config.threads;
    WeightedKMeansResult km = weightedKMeans(
        PointsView{data.data(), weights.size(), vv, vv}, weights, opt);
    std::copy(km.centroids.values.begin(), km.centroids.values.end(), dst);
  };
  size_t parts = G + (o ? 1 : 0) + (l.br ? G : 0), done = 0;
  auto step = [&] { report(0.05 + 0.75 * double(++done) / double(parts)); };
  if (o) {
    cb.outlier.resize(l.outlierCentroids() * l.vo);
    train(0, o, l.vo, l.outlierCentroids(), 0, 0, prep.weights,
          cb.outlier.data());
    step();
  }
  for (size_t g = 0; g < G; ++g) {
    train(o + g * gs, gs, l.v, k, unsigned(g), 1, prep.weights,
          cb.main.data() + g * k * l.v);
    step();
  }

  const bool feedback = !prep.diagonal;
  VptqSweepResult sweep = vptqSweep(prep.weights, prep.u, feedback, l, cb,
                                    false, config.block, config.threads);
  VptqQuantized out;
  if (l.br) {
    cb.residual.resize(G * kr * l.v);
    double before = 0, after = 0, mass = 0;
    for (size_t g = 0; g < G; ++g) {
      float *dst = cb.residual.data() + g * kr * l.v;
      train(o + g * gs, gs, l.v, kr, unsigned(g), 2, sweep.residual, dst);
      // `data`/`weights` still hold this group's residual vectors.
      size_t n = weights.size();
      std::vector<uint32_t> labels(n);
      assign(PointsView{data.data(), n, l.v, l.v}, dst, kr, labels.data(),
             config.threads);
      for (size_t i = 0; i < n; ++i) {
        double b0 = 0, a0 = 0;
        for (unsigned e = 0; e < l.v; ++e) {
          double x = data[i * l.v + e];
          double d = x - dst[size_t(labels[i]) * l.v + e];
          b0 += x * x;
          a0 += d * d;
        }
        before += weights[i] * b0;
        after += weights[i] * a0;
        mass += weights[i];
      }
      step();
    }
    out.residualTrainBefore = before / mass;
    out.residualTrainAfter = after / mass;
    sweep = vptqSweep(prep.weights, prep.u, feedback, l, cb, true,
                      config.block, config.threads);
  }
  report(0.95);

  VptqEncoded &enc = out.encoded;
  enc.layout = l;
  enc.normalize = config.normalize;
  const size_t R = l.vectorRows(), W = l.wordsPerStream();
  enc.idx.assign(G * R * W, 0);
  for (size_t s = 0; s < G * R; ++s) {
    std::vector<uint32_t> words =
        packFields(sweep.fields.data() + s * gs, gs, l.fieldBits());
    std::copy(words.begin(), words.end(), enc.idx.begin() + s * W);
  }
  if (o) {
    const size_t Ro = l.outlierVectorRows(), Wo = l.wordsPerOutlierStream();
    enc.idxOutliers.assign(Ro * Wo, 0);
    for (size_t r = 0; r < Ro; ++r) {
      std::vector<uint32_t> words =
          packFields(sweep.outlierFields.data() + r * o, o, l.bo);
      std::copy(words.begin(), words.end(), enc.idxOutliers.begin() + r * Wo);
    }
  }
  enc.codebooks = std::move(cb);
  if (!prep.permIsIdentity)
    enc.perm = prep.perm;
  enc.scale = prep.scale;
  enc.bias = prep.bias;
  out.reconstruction = vptqRestore(prep, sweep.quantized);
  out.damping = prep.damping;
  report(1.0);
  return out;
}

QuantizeResult quantizeVptq(const Matrix &input, const QuantizeOptions &options) {
  VptqConfig config;
  config.vectorLength = options.vectorLength ? options.vectorLength : 8;
  config.residualBits =
      options.residualCentroids
          ? log2Exact(options.residualCentroids, "the residual centroid count")
          : 0;
  config.outlierPercent = options.outlierPercent;
  config.outlierVectorLength =
      options.outlierVectorLength ? options.outlierVectorLength : 4;
  config.groups = options.groups ? options.groups : 1;
  config.normalize = options.vptqNormalize;
  config.iterations = options.iterations;
  config.seed = options.seed;
  config.threads = options.threads;
  const CalibrationHessian *h = options.hessian.get();
  // Conservative for the budget: with a Hessian the perm is charged (it is
  // dropped, lowering the bits, only when it turns out to be the identity).
  const bool chargesPerm = config.permute && h != nullptr;
  const uint64_t elements = uint64_t(input.rows) * input.cols;
  auto bitsFor = [&](unsigned b) {
    VptqConfig c = config;
    c.indexBits = b;
    c.outlierBits = options.outlierCentroids
                        ? log2Exact(options.outlierCentroids,
                                    "the outlier centroid count")
                        : b;
    return std::make_pair(c, vptqStorageBits(vptqLayout(input.rows, input.cols, c),
                                             chargesPerm, c.normalize));
  };
  uint64_t budget = options.bpe > 0 ? budgetBits(options.bpe, elements) : 0;
  std::string shapeText =
      std::to_string(input.rows) + "x" + std::to_string(input.cols);
  if (options.centroids) {
    auto [c, bits] = bitsFor(log2Exact(options.centroids, "the centroid count"));
    if (options.bpe > 0 && bits > budget)
      throw BudgetTooSmall("vptq on " + shapeText + ": v=" +
                           std::to_string(c.vectorLength) + " k=" +
                           std::to_string(options.centroids) + " needs " +
                           formatBpe(double(bits) / double(elements)) +
                           " bpe, over the budget of " + formatBpe(options.bpe));
    config = c;
  } else {
    bool found = false;
    for (unsigned b = 16; b >= 1 && !found; --b) {
      auto [c, bits] = bitsFor(b);
      if (options.bpe <= 0 || bits <= budget) {
        config = c;
        found = true;
      }
    }
    if (!found)
      throw BudgetTooSmall("vptq on " + shapeText + ": even k=2 with v=" +
                           std::to_string(config.vectorLength) + " needs " +
                           formatBpe(double(bitsFor(1).second) / double(elements)) +
                           " bpe, over the budget of " + formatBpe(options.bpe));
  }

  VptqQuantized q = vptqQuantize(input, h, config, options.progress);
  const VptqLayout &l = q.encoded.layout;
  QuantizeResult result;
  result.scheme = "vptq";
  result.params = {{"v", std::to_string(l.v)},
                   {"k", std::to_string(l.centroids())}};
  if (l.br)
    result.params.push_back({"k_r", std::to_string(l.residualCentroids())});
  if (l.groups > 1)
    result.params.push_back({"G", std::to_string(l.groups)});
  if (l.outliers) {
    result.params.push_back({"o", std::to_string(l.outliers)});
    result.params.push_back({"v_o", std::to_string(l.vo)});
    result.params.push_back({"k_o", std::to_string(l.outlierCentroids())});
  }
  if (config.normalize)
    result.params.push_back({"norm", "on"});
  result.params.push_back({"H", h ? "given" : "identity"});
  result.packed = vptqPack(q.encoded);
  result.packed.storage = input.storage;
  result.reconstruction = vptqDecode(vptqUnpack(result.packed));
  return result;
}

} // namespace qet::quant
