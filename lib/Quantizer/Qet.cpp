//===- Qet.cpp - HERA and QET models: training, decoding, packing ---------===//
//
// qet.md §2-§3.3. The budget solvers are in QetBudget.cpp, the schemes (with
// the configuration search) in QetScheme.cpp and the fused y = W_hat x in
// RowDecoder.cpp.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qet.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qet::quant {

//===----------------------------------------------------------------------===//
// Codebook quantization
//===----------------------------------------------------------------------===//

float dequantizeCodebookLevel(uint32_t level, float lo, float step) {
  // `volatile` keeps the product a separate rounding step under any
  // floating-point contraction setting (no FMA), so every encoder and
  // decoder gets the same fp32 value.
  volatile float scaled = static_cast<float>(level) * step;
  return scaled + lo;
}

QuantizedCodebook quantizeCodebook(const std::vector<float> &codebook,
                                   unsigned bits, DType storage) {
  if (bits < 1 || bits > kMaxCodebookBits)
    throw Error("qet: codebook quantization needs 1 <= bits <= " +
                std::to_string(kMaxCodebookBits) + ", got " +
                std::to_string(bits));
  if (codebook.empty())
    throw Error("qet: cannot quantize an empty codebook");
  for (float c : codebook)
    if (!std::isfinite(c))
      throw Error("qet: the codebook holds a non-finite value");
  auto [lowest, highest] = std::minmax_element(codebook.begin(), codebook.end());
  const float maxLevel = static_cast<float>((uint32_t{1} << bits) - 1);
  QuantizedCodebook out;
  // Rounded before use: the encoder quantizes with the values it stores.
  out.lo = roundTo(storage, *lowest);
  out.step = roundTo(storage, (*highest - out.lo) / maxLevel);
  if (!std::isfinite(out.lo) || !std::isfinite(out.step))
    throw Error("qet: the codebook range [" + std::to_string(*lowest) + ", " +
                std::to_string(*highest) + "] does not fit the " +
                dtypeName(storage) + " minimum and step");
  out.levels.resize(codebook.size());
  out.values.resize(codebook.size());
  for (size_t i = 0; i < codebook.size(); ++i) {
    float q = 0.0f;
    if (out.step != 0.0f) // a constant codebook stores lo and level 0
      q = std::clamp(std::nearbyint((codebook[i] - out.lo) / out.step), 0.0f,
                     maxLevel);
    out.levels[i] = static_cast<uint32_t>(q);
    out.values[i] = dequantizeCodebookLevel(out.levels[i], out.lo, out.step);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

namespace {

/// As trainPq: subspaces side by side when there are at least as many as
/// threads, else one at a time with all threads (same results either way).
void splitThreads(size_t subspaces, unsigned requested, unsigned &outer,
                  unsigned &inner) {
  unsigned threads = resolveThreads(requested);
  outer = subspaces >= threads ? threads : 1;
  inner = subspaces >= threads ? 1 : threads;
}

/// k-means codebooks (M x Ks x Ds) of the subspaces of `y` from one shared
/// "points" draw, rounded to y.storage (what trainPq fits, without its final
/// encoding, which CQO redoes with the quantized codebook).
std::vector<float> fitCodebooks(const Matrix &y, size_t m, size_t ks,
                                unsigned iterations, uint64_t seed,
                                unsigned threads) {
  const size_t n = y.rows, ds = y.cols / m;
  std::vector<float> codebooks(m * ks * ds);
  std::vector<size_t> init = Rng(seed).sampleWithoutReplacement(n, ks);
  unsigned outer, inner;
  splitThreads(m, threads, outer, inner);
  parallelFor(0, m, outer, [&](size_t begin, size_t end) {
    for (size_t s = begin; s < end; ++s) {
      KMeansOptions options;
      options.k = ks;
      options.iterations = iterations;
      options.seed = seed;
      options.threads = inner;
      options.initRows = &init;
      KMeansResult fit = kmeans(PointsView::columns(y, s * ds, ds), options);
      float *codebook = codebooks.data() + s * ks * ds;
      for (size_t i = 0; i < ks * ds; ++i)
        codebook[i] = roundTo(y.storage, fit.centroids.values[i]);
    }
  });
  return codebooks;
}

double meanSquare(const Matrix &m) {
  double sum = 0.0;
  for (float v : m.values)
    sum += static_cast<double>(v) * v;
  return m.size() ? sum / static_cast<double>(m.size()) : 0.0;
}

void checkTrainingInput(const Matrix &x, size_t m, const char *scheme) {
  if (x.rows == 0 || x.cols == 0)
    throw Error(std::string(scheme) + ": the input matrix is empty");
  requireFinite(x, scheme);
  requireSubspacesDivide(scheme, x.cols, m);
}

} // namespace

QetModel trainQet(const Matrix &x, const QetConfig &config) {
  checkTrainingInput(x, config.subspaces, "qet");
  if (config.stages.empty())
    throw Error("qet: at least one stage is needed");
  const size_t n = x.rows, d = x.cols, m = config.subspaces;
  for (size_t s = 0; s < config.stages.size(); ++s) {
    const QetStageConfig &stage = config.stages[s];
    requireSwapDepth(d, stage.depth);
    if (stage.codebookBits > kMaxCodebookBits)
      throw Error("qet: codebook bits of stage " + std::to_string(s + 1) +
                  " must be in [0, " + std::to_string(kMaxCodebookBits) + "]");
    if (stage.centroids == 0 || stage.centroids > n)
      throw Error("qet: Ks = " + std::to_string(stage.centroids) +
                  " of stage " + std::to_string(s + 1) + " must be in [1, " +
                  std::to_string(n) + "] (\"points\" init draws Ks rows)");
  }
  QetModel model;
  model.scheme = "qet";
  model.rows = n;
  model.cols = d;
  model.subspaces = m;
  model.storage = x.storage;
  Matrix residual = x;
  for (const QetStageConfig &stageConfig : config.stages) {
    Matrix y = residual;
    QetStage stage;
    stage.depth = stageConfig.depth;
    stage.codebookBits = stageConfig.codebookBits;
    stage.swaps = swapTree(y, stage.depth, config.threads);
    if (stage.codebookBits == 0) {
      stage.pq = trainPq(y, {m, stageConfig.centroids, config.iterations,
                             config.seed, config.threads});
    } else {
      PqModel &pq = stage.pq;
      pq.rows = n;
      pq.cols = d;
      pq.subspaces = m;
      pq.centroids = stageConfig.centroids;
      pq.storage = x.storage;
      QuantizedCodebook quantized = quantizeCodebook(
          fitCodebooks(y, m, pq.centroids, config.iterations, config.seed,
                       config.threads),
          stage.codebookBits, x.storage);
      stage.levels = std::move(quantized.levels);
      stage.lo = quantized.lo;
      stage.step = quantized.step;
      pq.codebooks = std::move(quantized.values);
      // Codes are re-assigned under the quantized codebook.
      pq.codes = encodePq(pq, y, config.threads);
    }
    model.stages.push_back(std::move(stage));
    Matrix part = decodeQetStage(model, model.stages.size() - 1,
                                 config.threads);
    for (size_t i = 0; i < residual.size(); ++i)
      residual.values[i] -= part.values[i];
    model.stageMse.push_back(meanSquare(residual));
  }
  return model;
}

QetModel trainHera(const Matrix &x, const PqConfig &pq, unsigned depth) {
  checkTrainingInput(x, pq.subspaces, "hera");
  requireSwapDepth(x.cols, depth);
  QetModel model;
  model.scheme = "hera";
  model.rows = x.rows;
  model.cols = x.cols;
  model.subspaces = pq.subspaces;
  model.storage = x.storage;
  Matrix y = x;
  QetStage stage;
  stage.depth = depth;
  stage.codebookBits = 0;
  stage.swaps = swapTree(y, depth, pq.threads);
  stage.pq = trainPq(y, pq);
  model.stages.push_back(std::move(stage));
  Matrix decoded = decodeQetStage(model, 0, pq.threads);
  double sum = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    double diff = static_cast<double>(x.values[i]) - decoded.values[i];
    sum += diff * diff;
  }
  model.stageMse.push_back(sum / static_cast<double>(x.size()));
  return model;
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

Matrix decodeQetStage(const QetModel &model, size_t stage, unsigned threads) {
  if (stage >= model.stages.size())
    throw Error("qet: stage " + std::to_string(stage + 1) + " of " +
                std::to_string(model.stages.size()) + " does not exist");
  const QetStage &s = model.stages[stage];
  Matrix part = decodePq(s.pq);
  part.storage = model.storage;
  unswapTree(part, s.swaps, threads);
  return part;
}

Matrix decodeQet(const QetModel &model, unsigned threads) {
  Matrix out(model.rows, model.cols, model.storage);
  for (size_t s = 0; s < model.stages.size(); ++s) {
    Matrix part = decodeQetStage(model, s, threads);
    for (size_t i = 0; i < out.size(); ++i)
      out.values[i] += part.values[i];
  }
  return out;
}

uint64_t qetModelBits(const QetModel &model) {
  const unsigned cb = bitWidth(model.storage);
  uint64_t bits = 0;
  for (const QetStage &s : model.stages)
    bits += model.scheme == "hera"
                ? heraBits(model.rows, model.cols, model.subspaces,
                           s.pq.centroids, cb, s.depth)
                : qetStageBits(model.rows, model.cols, model.subspaces,
                               s.pq.centroids, cb, s.codebookBits, s.depth);
  return bits;
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

std::string qetStagePrefix(size_t stage) {
  return "s" + std::to_string(stage + 1) + ".";
}

namespace {

void packSwapBits(const SwapBits &swaps, const std::string &name,
                  PackedMatrix &packed) {
  if (swaps.depth == 0)
    return; // depth 0 stores nothing
  packed.streams.push_back({name, 1, swaps.count(), swaps.bytes});
}

SwapBits unpackSwapBits(const PackedMatrix &packed, const std::string &name,
                        unsigned depth) {
  SwapBits swaps;
  try {
    swaps = makeSwapBits(packed.rows, packed.cols, depth);
  } catch (const Error &e) {
    throw FormatError(std::string("packed ") + packed.scheme + " matrix: " +
                      e.what());
  }
  if (depth == 0)
    return swaps;
  const PackedStream &stream = packed.stream(name);
  if (stream.bitsEach != 1 || stream.count != swaps.count() ||
      stream.bytes.size() != swaps.bytes.size())
    throw FormatError("packed " + packed.scheme + " matrix: stream '" + name +
                      "' holds " + std::to_string(stream.count) + " fields of " +
                      std::to_string(stream.bitsEach) + " bits, expected " +
                      std::to_string(swaps.count()) + " bits for depth " +
                      std::to_string(depth));
  swaps.bytes = stream.bytes;
  return swaps;
}

int64_t boundedParam(const PackedMatrix &packed, const std::string &name,
                     int64_t lo, int64_t hi) {
  int64_t value = packed.param(name);
  if (value < lo || value > hi)
    throw FormatError("packed " + packed.scheme + " matrix: parameter '" +
                      name + "' = " + std::to_string(value) +
                      " is outside [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
  return value;
}

void requireModelShape(const PackedMatrix &packed, const PqModel &pq,
                       size_t m, size_t ks, const std::string &prefix) {
  if (pq.subspaces != m || pq.centroids != ks)
    throw FormatError("packed " + packed.scheme + " matrix: streams '" +
                      prefix + "codebooks'/'" + prefix +
                      "codes' do not match M = " + std::to_string(m) +
                      ", Ks = " + std::to_string(ks));
}

} // namespace

void packQet(const QetModel &model, PackedMatrix &packed) {
  packed.scheme = model.scheme;
  packed.rows = model.rows;
  packed.cols = model.cols;
  packed.storage = model.storage;
  packed.params["M"] = static_cast<int64_t>(model.subspaces);
  if (model.scheme == "hera") {
    if (model.stages.size() != 1 || model.stages[0].codebookBits != 0)
      throw Error("hera: a model has one float-codebook stage");
    const QetStage &s = model.stages[0];
    packed.params["Ks"] = static_cast<int64_t>(s.pq.centroids);
    packed.params["depth"] = s.depth;
    packPq(s.pq, packed);
    packSwapBits(s.swaps, "swap_bits", packed);
    return;
  }
  packed.params["stages"] = static_cast<int64_t>(model.stages.size());
  for (size_t i = 0; i < model.stages.size(); ++i) {
    const QetStage &s = model.stages[i];
    const std::string prefix = qetStagePrefix(i);
    packed.params[prefix + "depth"] = s.depth;
    packed.params[prefix + "codebook_bits"] = s.codebookBits;
    packed.params[prefix + "Ks"] = static_cast<int64_t>(s.pq.centroids);
    if (s.codebookBits == 0) {
      packPq(s.pq, packed, prefix);
    } else {
      packed.addCodes(prefix + "codebook_levels", s.levels, s.codebookBits);
      packed.addFloats(prefix + "codebook_lo", {s.lo}, model.storage);
      packed.addFloats(prefix + "codebook_step", {s.step}, model.storage);
      packed.addCodes(prefix + "codes", s.pq.codes, indexBits(s.pq.centroids));
    }
    packSwapBits(s.swaps, prefix + "swap_bits", packed);
  }
}

QetModel unpackQet(const PackedMatrix &packed) {
  if (packed.scheme != "hera" && packed.scheme != "qet")
    throw FormatError("unpackQet: packed scheme '" + packed.scheme +
                      "' is neither hera nor qet");
  if (packed.rows == 0 || packed.cols == 0)
    throw FormatError("packed " + packed.scheme + " matrix is empty");
  const int64_t n = static_cast<int64_t>(packed.rows);
  const int64_t d = static_cast<int64_t>(packed.cols);
  QetModel model;
  model.scheme = packed.scheme;
  model.rows = packed.rows;
  model.cols = packed.cols;
  model.storage = packed.storage;
  model.subspaces = static_cast<size_t>(boundedParam(packed, "M", 1, d));
  const size_t m = model.subspaces;
  if (packed.cols % m)
    throw FormatError("packed " + packed.scheme + " matrix: M = " +
                      std::to_string(m) + " does not divide d = " +
                      std::to_string(d));
  if (packed.scheme == "hera") {
    QetStage s;
    s.depth = static_cast<unsigned>(boundedParam(packed, "depth", 0, 31));
    size_t ks = static_cast<size_t>(boundedParam(packed, "Ks", 1, n));
    s.pq = unpackPq(packed, packed.rows, packed.cols);
    requireModelShape(packed, s.pq, m, ks, "");
    s.swaps = unpackSwapBits(packed, "swap_bits", s.depth);
    model.stages.push_back(std::move(s));
    return model;
  }
  size_t stages = static_cast<size_t>(boundedParam(packed, "stages", 1, 64));
  for (size_t i = 0; i < stages; ++i) {
    const std::string prefix = qetStagePrefix(i);
    QetStage s;
    s.depth = static_cast<unsigned>(boundedParam(packed, prefix + "depth", 0, 31));
    s.codebookBits = static_cast<unsigned>(
        boundedParam(packed, prefix + "codebook_bits", 0, kMaxCodebookBits));
    size_t ks = static_cast<size_t>(boundedParam(packed, prefix + "Ks", 1, n));
    if (s.codebookBits == 0) {
      s.pq = unpackPq(packed, packed.rows, packed.cols, prefix);
      requireModelShape(packed, s.pq, m, ks, prefix);
    } else {
      const PackedStream &levels = packed.stream(prefix + "codebook_levels");
      const PackedStream &codes = packed.stream(prefix + "codes");
      if (levels.bitsEach != s.codebookBits ||
          levels.count != uint64_t(ks) * packed.cols ||
          codes.bitsEach != indexBits(ks) ||
          codes.count != uint64_t(packed.rows) * m)
        throw FormatError("packed qet matrix: streams '" + prefix +
                          "codebook_levels'/'" + prefix +
                          "codes' do not match M = " + std::to_string(m) +
                          ", Ks = " + std::to_string(ks) + ", b = " +
                          std::to_string(s.codebookBits));
      std::vector<float> lo = packed.floats(prefix + "codebook_lo", packed.storage);
      std::vector<float> step =
          packed.floats(prefix + "codebook_step", packed.storage);
      if (lo.size() != 1 || step.size() != 1)
        throw FormatError("packed qet matrix: '" + prefix + "codebook_lo' and '" +
                          prefix + "codebook_step' hold one value each");
      s.lo = lo[0];
      s.step = step[0];
      s.levels = packed.codes(prefix + "codebook_levels");
      s.pq.rows = packed.rows;
      s.pq.cols = packed.cols;
      s.pq.subspaces = m;
      s.pq.centroids = ks;
      s.pq.storage = packed.storage;
      s.pq.codebooks.resize(s.levels.size());
      for (size_t j = 0; j < s.levels.size(); ++j)
        s.pq.codebooks[j] = dequantizeCodebookLevel(s.levels[j], s.lo, s.step);
      s.pq.codes = packed.codes(prefix + "codes");
    }
    s.swaps = unpackSwapBits(packed, prefix + "swap_bits", s.depth);
    model.stages.push_back(std::move(s));
  }
  return model;
}

Matrix decodeQet(const PackedMatrix &packed, unsigned threads) {
  return decodeQet(unpackQet(packed), threads);
}

} // namespace qet::quant
