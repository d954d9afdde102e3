//===- QjlAttention.cpp - The QJL KV cache and a decode step --------------===//
//
// qjl.md §3 (key window), §5 (value window), §6 (bits), §7 (decode step).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qet::quant {

QjlCache::QjlCache(size_t dim, const QjlCacheConfig &config, const JlMatrix &s)
    : dim(dim), config(config), s(s) {
  validateQjlConfig(config.keys, dim);
  if (config.residual % config.keys.groupTokens != 0)
    throw Error("qjl: the residual R = " + std::to_string(config.residual) +
                " must be a multiple of G = " +
                std::to_string(config.keys.groupTokens));
  if (s.dim != dim || s.sketch != config.keys.sketch ||
      s.kind != config.keys.kind || s.seed != config.keys.seed)
    throw Error("qjl: the JL matrix does not match the cache configuration");
  keys.config = config.keys;
  keys.dim = dim;
  values.config = config.values;
  values.config.group = kiviGroup(config.values, dim);
  values.dim = dim;
}

static void appendHalfRow(std::vector<float> &rows, const float *x, size_t dim,
                          const char *what) {
  for (size_t c = 0; c < dim; ++c)
    if (!std::isfinite(roundToHalf(x[c])))
      throw Error(std::string("qjl cache: ") + what + " channel " +
                  std::to_string(c) + " (" + std::to_string(x[c]) +
                  ") is not finite in fp16");
  for (size_t c = 0; c < dim; ++c)
    rows.push_back(roundToHalf(x[c]));
}

void QjlCache::append(const float *key, const float *value) {
  size_t G = config.keys.groupTokens, R = config.residual;
  size_t keySize = keyTail.size();
  appendHalfRow(keyTail, key, dim, "key");
  try {
    appendHalfRow(valueWindow, value, dim, "value");
  } catch (const Error &) {
    keyTail.resize(keySize); // leave the cache unchanged
    throw;
  }
  ++total;
  if (keyTail.size() == (R + G) * dim) {
    // Flush the oldest G tail keys as one token group.
    Matrix group(G, dim);
    std::copy(keyTail.begin(), keyTail.begin() + G * dim, group.values.begin());
    qjlAppendKeys(keys, group, s, /*threads=*/1);
    keyTail.erase(keyTail.begin(), keyTail.begin() + G * dim);
  }
  if (valueWindow.size() > R * dim) {
    Matrix oldest(1, dim);
    std::copy(valueWindow.begin(), valueWindow.begin() + dim,
              oldest.values.begin());
    kiviAppendValues(values, oldest, /*threads=*/1);
    valueWindow.erase(valueWindow.begin(), valueWindow.begin() + dim);
  }
}

void QjlCache::appendAll(const Matrix &k, const Matrix &v) {
  if (k.cols != dim || v.cols != dim || k.rows != v.rows)
    throw Error("qjl cache: K and V must both be n x " + std::to_string(dim));
  for (size_t t = 0; t < k.rows; ++t)
    append(k.row(t), v.row(t));
}

Matrix QjlCache::logits(const Matrix &queries, unsigned threads,
                        QjlKernel kernel) const {
  if (queries.cols != dim)
    throw Error("qjl cache: queries have " + std::to_string(queries.cols) +
                " channels, expected " + std::to_string(dim));
  requireFinite(queries, "qjl queries");
  size_t heads = queries.rows, nq = keys.tokens, tail = keyTail.size() / dim;
  Matrix out(heads, total);
  std::vector<float> scores(heads * nq);
  qjlScores(keys, s, queries.values.data(), heads, scores.data(), threads,
            kernel);
  const float invSqrtD = static_cast<float>(1.0 / std::sqrt(double(dim)));
  for (size_t h = 0; h < heads; ++h) {
    float *row = out.row(h);
    for (size_t t = 0; t < nq; ++t)
      row[t] = scores[h * nq + t] * invSqrtD;
    const float *q = queries.row(h);
    for (size_t t = 0; t < tail; ++t) {
      const float *k = keyTail.data() + t * dim;
      float dot = 0.0f;
      for (size_t c = 0; c < dim; ++c)
        dot += q[c] * k[c];
      row[nq + t] = dot * invSqrtD;
    }
  }
  return out;
}

Matrix QjlCache::attend(const Matrix &queries, unsigned threads,
                        QjlKernel kernel) const {
  Matrix l = logits(queries, threads, kernel);
  size_t heads = queries.rows, nv = values.tokens;
  size_t window = valueWindow.size() / dim;
  Matrix out(heads, dim);
  if (total == 0)
    return out; // no tokens: the attention output is empty, taken as 0
  std::vector<float> p(total);
  for (size_t h = 0; h < heads; ++h) {
    const float *row = l.row(h);
    float mx = *std::max_element(row, row + total);
    float sum = 0.0f;
    for (size_t t = 0; t < total; ++t) {
      p[t] = std::exp(row[t] - mx);
      sum += p[t];
    }
    float inv = 1.0f / sum;
    for (float &v : p)
      v *= inv;
    float *o = out.row(h);
    kiviValueProduct(values, p.data(), o);
    for (size_t t = 0; t < window; ++t) {
      const float *v = valueWindow.data() + t * dim;
      float w = p[nv + t];
      for (size_t c = 0; c < dim; ++c)
        o[c] += w * v[c];
    }
  }
  return out;
}

Ledger QjlCache::ledger() const {
  Ledger ledger;
  keys.addToLedger(ledger);
  ledger.add("key_tail", keyTail.size(), 16);
  values.addToLedger(ledger);
  ledger.add("value_window", valueWindow.size(), 16);
  return ledger;
}

uint64_t QjlCache::keyBits() const {
  return keys.storageBits() + 16ull * keyTail.size();
}

uint64_t QjlCache::valueBits() const {
  return values.storageBits() + 16ull * valueWindow.size();
}

double QjlCache::keyBitsPerElement() const {
  return total ? double(keyBits()) / (double(total) * dim) : 0.0;
}

double QjlCache::valueBitsPerElement() const {
  return total ? double(valueBits()) / (double(total) * dim) : 0.0;
}

Matrix exactAttention(const Matrix &queries, const Matrix &keys,
                      const Matrix &values) {
  if (queries.cols != keys.cols || keys.rows != values.rows ||
      values.cols != keys.cols)
    throw Error("exactAttention: shapes do not match");
  size_t n = keys.rows, dim = keys.cols;
  Matrix out(queries.rows, dim);
  if (n == 0)
    return out;
  std::vector<double> logit(n), acc(dim);
  double scale = 1.0 / std::sqrt(double(dim));
  for (size_t h = 0; h < queries.rows; ++h) {
    double mx = -HUGE_VAL;
    for (size_t t = 0; t < n; ++t) {
      double dot = 0;
      for (size_t c = 0; c < dim; ++c)
        dot += double(queries.at(h, c)) * keys.at(t, c);
      logit[t] = dot * scale;
      mx = std::max(mx, logit[t]);
    }
    double sum = 0;
    std::fill(acc.begin(), acc.end(), 0.0);
    for (size_t t = 0; t < n; ++t) {
      double p = std::exp(logit[t] - mx);
      sum += p;
      for (size_t c = 0; c < dim; ++c)
        acc[c] += p * values.at(t, c);
    }
    for (size_t c = 0; c < dim; ++c)
      out.at(h, c) = static_cast<float>(acc[c] / sum);
  }
  return out;
}

} // namespace qet::quant
