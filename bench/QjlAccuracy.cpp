//===- QjlAccuracy.cpp - Decode attention error of QJL + KIVI at 3/4/5 bits -===//
//
// One KV head with d = 128, n = 2048 cached tokens and r = 8 query heads
// (GQA). Keys: N(0, 1) per channel times a channel scale (4 outlier channels
// x 8, the rest 1), plus a per-channel mean offset N(0, 0.5^2) scaled the
// same way, as post-RoPE keys have; values N(0, 1); all rounded to fp16 (the
// model dtype). Queries are N(0, sigma^2) with sigma set so the logits have a
// standard deviation of 2.5, and half of the query heads additionally point
// at one random cached key (a sharp attention peak).
//
// Every configuration keeps the newest R = 128 tokens in fp16 (qjl.md §3, §5).
// The error is ||o - o_exact|| / ||o_exact|| per query head, averaged over
// heads and 4 data seeds, against fp64 softmax(q K^T / sqrt d) V on the
// fp16 inputs. "bits" is (key bits + value bits) / (2 n d) without the
// window (asymptotic) and with it (exact at this n).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Rtn.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace qet::quant;

namespace {

constexpr size_t kDim = 128, kTokens = 2048, kHeads = 8, kResidual = 128;
constexpr int kSeeds = 4;

struct Problem {
  Matrix k, v, q;
};

Problem makeProblem(uint64_t seed) {
  Rng rng(seed);
  Problem p{Matrix(kTokens, kDim), Matrix(kTokens, kDim), Matrix(kHeads, kDim)};
  std::vector<double> scale(kDim, 1.0), offset(kDim);
  for (size_t i : rng.sampleWithoutReplacement(kDim, 4))
    scale[i] = 8.0;
  for (size_t c = 0; c < kDim; ++c)
    offset[c] = 0.5 * rng.normal();
  double energy = 0;
  for (size_t c = 0; c < kDim; ++c)
    energy += scale[c] * scale[c] * (1.0 + offset[c] * offset[c]);
  for (size_t t = 0; t < kTokens; ++t)
    for (size_t c = 0; c < kDim; ++c) {
      p.k.at(t, c) = roundToHalf(float(scale[c] * (offset[c] + rng.normal())));
      p.v.at(t, c) = roundToHalf(float(rng.normal()));
    }
  // logit = <q,k>/sqrt(d) has std sigma * sqrt(energy / d).
  double sigma = 2.5 / std::sqrt(energy / kDim);
  for (size_t h = 0; h < kHeads; ++h) {
    size_t target = rng.below(kTokens);
    double norm = 0;
    for (size_t c = 0; c < kDim; ++c)
      norm += double(p.k.at(target, c)) * p.k.at(target, c);
    for (size_t c = 0; c < kDim; ++c) {
      double peak = h % 2 ? 12.0 * std::sqrt(double(kDim)) *
                                p.k.at(target, c) / norm
                          : 0.0; // logit of the target +12
      p.q.at(h, c) = float(sigma * rng.normal() + peak);
    }
  }
  return p;
}

// Mean over query heads h with h % 2 == parity (parity 2: all heads).
double meanRelativeError(const Matrix &exact, const Matrix &got,
                         size_t parity = 2) {
  double sum = 0;
  size_t count = 0;
  for (size_t h = 0; h < exact.rows; ++h) {
    if (parity != 2 && h % 2 != parity)
      continue;
    ++count;
    double err = 0, energy = 0;
    for (size_t c = 0; c < exact.cols; ++c) {
      double diff = double(exact.at(h, c)) - got.at(h, c);
      err += diff * diff;
      energy += double(exact.at(h, c)) * exact.at(h, c);
    }
    sum += std::sqrt(err / energy);
  }
  return sum / count;
}

struct QjlCase {
  const char *name;
  unsigned m, outliers, mo, valueBits, valueGroup;
};

// RTN baselines: every token older than the window is quantized with `rtn`;
// keys per token (groups of 32 channels) or per channel (groups of 32
// tokens, KIVI's key layout); values per token.
Matrix rtnKeysOrValues(const Matrix &x, unsigned bits, bool perChannel) {
  size_t quantized = x.rows - kResidual;
  Matrix out = x;
  RtnConfig config{bits, 32, false};
  if (!perChannel) {
    Matrix head(quantized, kDim);
    std::copy(x.values.begin(), x.values.begin() + quantized * kDim,
              head.values.begin());
    Matrix back = rtnDecode(rtnEncode(head, config, 1));
    std::copy(back.values.begin(), back.values.end(), out.values.begin());
    return out;
  }
  Matrix transposed(kDim, quantized);
  for (size_t t = 0; t < quantized; ++t)
    for (size_t c = 0; c < kDim; ++c)
      transposed.at(c, t) = x.at(t, c);
  Matrix back = rtnDecode(rtnEncode(transposed, config, 1));
  for (size_t t = 0; t < quantized; ++t)
    for (size_t c = 0; c < kDim; ++c)
      out.at(t, c) = back.at(c, t);
  return out;
}

} // namespace

int main() {
  std::vector<Problem> problems;
  std::vector<Matrix> exact;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    problems.push_back(makeProblem(seed));
    const Problem &p = problems.back();
    exact.push_back(exactAttention(p.q, p.k, p.v));
  }
  std::printf("d = %zu, n = %zu, r = %zu query heads, R = %zu, %d seeds\n\n",
              kDim, kTokens, kHeads, kResidual, kSeeds);
  std::printf("| configuration | key bpe | value bpe | K+V bits (asymptotic) | "
              "K+V bits (n = %zu) | mean rel. error | diffuse heads | peaked heads |\n"
              "|---|---|---|---|---|---|---|---|\n",
              kTokens);
  const QjlCase cases[] = {
      {"QJL-256 + KIVI-2 (default)", 256, 0, 0, 2, 32},
      {"QJL-368 + KIVI-2/g32", 368, 0, 0, 2, 32},
      {"QJL-256+O8(m_o 256) + KIVI-2/g32", 256, 8, 256, 2, 32},
      {"QJL-464 + KIVI-4/g128", 464, 0, 0, 4, 128},
      {"QJL-624 + KIVI-4/g32", 624, 0, 0, 4, 32},
      {"QJL-368 + KIVI-8/g32 (keys only)", 368, 0, 0, 8, 32},
  };
  for (const QjlCase &c : cases) {
    QjlCacheConfig config;
    config.keys.sketch = c.m;
    config.keys.outliers = c.outliers;
    config.keys.outlierSketch = c.mo;
    config.values = {c.valueBits, c.valueGroup};
    config.residual = kResidual;
    JlMatrix s = makeJlMatrix(kDim, c.m, config.keys.kind, config.keys.seed);
    double error = 0, keyBpe = 0, valueBpe = 0, diffuse = 0, peaked = 0;
    for (int i = 0; i < kSeeds; ++i) {
      QjlCache cache(kDim, config, s);
      cache.appendAll(problems[i].k, problems[i].v);
      Matrix out = cache.attend(problems[i].q, 2);
      error += meanRelativeError(exact[i], out);
      diffuse += meanRelativeError(exact[i], out, 0);
      peaked += meanRelativeError(exact[i], out, 1);
      keyBpe = cache.keyBitsPerElement();
      valueBpe = cache.valueBitsPerElement();
    }
    double asymKeys = (c.m + 16.0 + (c.outliers ? c.mo + 16.0 + c.outliers * 8.0 / 32 : 0)) / kDim;
    double asymValues = c.valueBits + 32.0 / c.valueGroup;
    std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n",
                c.name, keyBpe, valueBpe, (asymKeys + asymValues) / 2,
                (keyBpe + valueBpe) / 2, error / kSeeds, diffuse / kSeeds,
                peaked / kSeeds);
  }
  for (bool perChannel : {true, false})
    for (unsigned bits : {2u, 3u, 4u}) {
      double error = 0, diffuse = 0, peaked = 0;
      for (int i = 0; i < kSeeds; ++i) {
        Matrix k = rtnKeysOrValues(problems[i].k, bits, perChannel);
        Matrix v = rtnKeysOrValues(problems[i].v, bits, false);
        Matrix out = exactAttention(problems[i].q, k, v);
        error += meanRelativeError(exact[i], out);
        diffuse += meanRelativeError(exact[i], out, 0);
        peaked += meanRelativeError(exact[i], out, 1);
      }
      double asym = bits + 1.0; // b + 32/32
      double withWindow =
          (asym * (kTokens - kResidual) + 16.0 * kResidual) / kTokens;
      std::string name = std::string(perChannel ? "KIVI-" : "RTN-token-") +
                         std::to_string(bits) + " (K " +
                         (perChannel ? "per-channel" : "per-token") +
                         " g32, V per-token g32)";
      std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n",
                  name.c_str(), withWindow, withWindow, asym, withWindow,
                  error / kSeeds, diffuse / kSeeds, peaked / kSeeds);
    }
  return 0;
}
