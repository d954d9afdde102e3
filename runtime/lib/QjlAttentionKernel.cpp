//===- QjlAttentionKernel.cpp - One QJL decode step on packed buffers -----===//
//
// QjlCache::logits and ::attend (qjl.md §7) with the cache given as buffers:
// scores from the sketches, exact fp32 <q, k> for the fp16 key tail, logits
// times 1/sqrt(d), an fp32 softmax with max subtraction, the KIVI value
// product (kiviValueProduct's order) plus the fp16 value window.
//
//===----------------------------------------------------------------------===//

#include "QjlKernel.h"

#include "SectionReader.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qet::runtime {

namespace {

/// out[c] += sum_t (p_t sc_t) code_{t,c} + sum_t p_t mn_t (per group).
void valueProduct(const KiviView &values, size_t dim, const float *weights,
                  float *out) {
  const size_t g = values.group, groups = dim / g;
  const unsigned bits = values.bits, perByte = 8 / bits;
  const unsigned mask = (1u << bits) - 1;
  const size_t rowBytes = dim * bits / 8;
  std::vector<float> acc(dim, 0.0f), minAcc(groups, 0.0f), codes(dim);
  for (size_t t = 0; t < values.tokens; ++t) {
    const float p = weights[t];
    const uint8_t *row = values.codes + t * rowBytes;
    for (size_t b = 0; b < rowBytes; ++b) {
      const unsigned byte = row[b];
      for (unsigned i = 0; i < perByte; ++i)
        codes[b * perByte + i] =
            static_cast<float>((byte >> (i * bits)) & mask);
    }
    for (size_t k = 0; k < groups; ++k) {
      const float w = p * halfToFloat(values.scales[t * groups + k]);
      minAcc[k] += p * halfToFloat(values.mins[t * groups + k]);
      const float *code = codes.data() + k * g;
      float *a = acc.data() + k * g;
      for (size_t i = 0; i < g; ++i)
        a[i] += w * code[i];
    }
  }
  for (size_t c = 0; c < dim; ++c)
    out[c] += acc[c] + minAcc[c / g];
}

} // namespace

void qjlAttentionKernel(const quant::QjlConfig &config,
                        const quant::JlMatrix &s, const QjlKeysView &keys,
                        const uint16_t *keyTail, size_t tailTokens,
                        const KiviView &values, const uint16_t *valueWindow,
                        size_t windowTokens, const float *queries, size_t heads,
                        float *out, KernelPath path, unsigned threads) {
  const size_t dim = s.dim, nq = keys.tokens;
  const size_t total = nq + tailTokens, nv = values.tokens;
  std::fill(out, out + heads * dim, 0.0f);
  if (total == 0)
    return; // no tokens: the attention output is taken as 0
  std::vector<float> scores(heads * nq);
  qjlScoreKernel(config, s, keys, queries, heads, scores.data(), path, threads);
  const float invSqrtD = static_cast<float>(1.0 / std::sqrt(double(dim)));
  std::vector<float> tail(tailTokens * dim), window(windowTokens * dim);
  for (size_t i = 0; i < tail.size(); ++i)
    tail[i] = halfToFloat(keyTail[i]);
  for (size_t i = 0; i < window.size(); ++i)
    window[i] = halfToFloat(valueWindow[i]);
  std::vector<float> p(total);
  for (size_t h = 0; h < heads; ++h) {
    const float *q = queries + h * dim;
    for (size_t t = 0; t < nq; ++t)
      p[t] = scores[h * nq + t] * invSqrtD;
    for (size_t t = 0; t < tailTokens; ++t) {
      const float *k = tail.data() + t * dim;
      float dot = 0.0f;
      for (size_t c = 0; c < dim; ++c)
        dot += q[c] * k[c];
      p[nq + t] = dot * invSqrtD;
    }
    const float mx = *std::max_element(p.begin(), p.end());
    float sum = 0.0f;
    for (size_t t = 0; t < total; ++t) {
      p[t] = std::exp(p[t] - mx);
      sum += p[t];
    }
    const float inv = 1.0f / sum;
    for (float &v : p)
      v *= inv;
    float *o = out + h * dim;
    valueProduct(values, dim, p.data(), o);
    for (size_t t = 0; t < windowTokens; ++t) {
      const float *v = window.data() + t * dim;
      const float w = p[nv + t];
      for (size_t c = 0; c < dim; ++c)
        o[c] += w * v[c];
    }
  }
}

} // namespace qet::runtime
