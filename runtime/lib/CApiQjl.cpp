//===- CApiQjl.cpp - QJL keys, KIVI values and attention in the C API -----===//
//
// Sketching keys and quantizing values wrap the quantizer library
// (qjlQuantizeKeys, kiviQuantizeValues) and copy the result into the
// caller's buffers; scores and attention run the runtime's kernels on the
// caller's buffers directly.
//
//===----------------------------------------------------------------------===//

#include "ApiSupport.h"
#include "QjlKernel.h"

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/Qjl.h"
#include "qet/runtime.h"

#include <cstring>
#include <memory>

using namespace qet;
using namespace qet::runtime;
using namespace qet::runtime::api;

struct qet_qjl {
  quant::QjlConfig config;
  quant::JlMatrix s;
};

namespace {

unsigned smallValue(int64_t value, int64_t lo, int64_t hi, const char *name) {
  if (value < lo || value > hi)
    fail(ErrorCode::InvalidArgument,
         std::string(name) + " = " + std::to_string(value) + " is outside [" +
             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<unsigned>(value);
}

qet_qjl_key_sizes keySizes(const qet_qjl &qjl, size_t tokens) {
  const quant::QjlConfig &c = qjl.config;
  qet_qjl_key_sizes sizes{};
  sizes.signs = checkedProduct(tokens, c.sketch / 8, "sign bytes");
  sizes.norms = tokens;
  if (c.hasOutliers()) {
    sizes.outlier_signs =
        checkedProduct(tokens, c.outlierSketch / 8, "outlier sign bytes");
    sizes.outlier_norms = tokens;
    sizes.outlier_ids =
        checkedProduct((tokens + c.groupTokens - 1) / c.groupTokens, c.outliers,
                       "outlier ids");
  }
  return sizes;
}

/// A checked view of caller keys; every outlier id must be below d.
QjlKeysView keysView(const qet_qjl &qjl, const qet_qjl_keys &keys) {
  const size_t tokens = nonNegative(keys.tokens, "keys.tokens");
  const qet_qjl_key_sizes need = keySizes(qjl, tokens);
  QjlKeysView view;
  view.tokens = tokens;
  if (tokens == 0)
    return view;
  requireBuffer(keys.signs, keys.signs_count, need.signs, "keys.signs",
                "bytes");
  requireBuffer(keys.norms, keys.norms_count, need.norms, "keys.norms",
                "fp16 values");
  view.signs = keys.signs;
  view.norms = keys.norms;
  if (qjl.config.hasOutliers()) {
    requireBuffer(keys.outlier_signs, keys.outlier_signs_count,
                  need.outlier_signs, "keys.outlier_signs", "bytes");
    requireBuffer(keys.outlier_norms, keys.outlier_norms_count,
                  need.outlier_norms, "keys.outlier_norms", "fp16 values");
    requireBuffer(keys.outlier_ids, keys.outlier_ids_count, need.outlier_ids,
                  "keys.outlier_ids", "ids");
    for (size_t i = 0; i < need.outlier_ids; ++i)
      if (keys.outlier_ids[i] >= qjl.s.dim)
        fail(ErrorCode::InvalidArgument,
             "keys.outlier_ids[" + std::to_string(i) +
                 "] = " + std::to_string(keys.outlier_ids[i]) +
                 " is not below d = " + std::to_string(qjl.s.dim));
    view.outlierSigns = keys.outlier_signs;
    view.outlierNorms = keys.outlier_norms;
    view.ids = reinterpret_cast<const uint8_t *>(keys.outlier_ids);
    view.idBytes = need.outlier_ids * sizeof(uint16_t);
    view.idBits = 16;
  }
  return view;
}

/// The KIVI group for (d, bits, group), 0 resolving to 32/16/8.
size_t kiviGroup(size_t dim, int64_t bits, int64_t group) {
  quant::KiviConfig config;
  config.bits = smallValue(bits, 1, 8, "bits");
  config.group = smallValue(group, 0, INT32_MAX, "group");
  return quant::kiviGroup(config, dim);
}

KiviView valuesView(size_t dim, const qet_kivi_values &values) {
  KiviView view;
  view.tokens = nonNegative(values.tokens, "values.tokens");
  if (values.group == 0)
    fail(ErrorCode::InvalidArgument, "values.group must be resolved (not 0)");
  view.group = kiviGroup(dim, values.bits, values.group);
  view.bits = static_cast<unsigned>(values.bits);
  if (view.tokens == 0)
    return view;
  const size_t codes =
      checkedProduct(view.tokens, dim * view.bits / 8, "value code bytes");
  const size_t scales =
      checkedProduct(view.tokens, dim / view.group, "value scales");
  requireBuffer(values.codes, values.codes_count, codes, "values.codes",
                "bytes");
  requireBuffer(values.scales, values.scales_count, scales, "values.scales",
                "fp16 values");
  requireBuffer(values.mins, values.mins_count, scales, "values.mins",
                "fp16 values");
  view.codes = values.codes;
  view.scales = values.scales;
  view.mins = values.mins;
  return view;
}

void copyHalves(const std::vector<float> &values, uint16_t *out) {
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = quant::floatToHalfBits(values[i]);
}

} // namespace

extern "C" {

qet_status qet_qjl_create(const qet_qjl_config *config,
                          qet_qjl **out) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(out, "out");
    *out = nullptr;
    requireNonNull(config, "config");
    auto qjl = std::make_unique<qet_qjl>();
    const size_t dim = smallValue(config->dim, 8, 65536, "dim");
    quant::QjlConfig &c = qjl->config;
    c.sketch = smallValue(config->sketch, 8, 65536, "sketch");
    c.outlierSketch =
        smallValue(config->outlier_sketch, 0, 65536, "outlier_sketch");
    c.outliers = smallValue(config->outliers, 0, 65535, "outliers");
    c.groupTokens =
        smallValue(config->group_tokens, 1, INT32_MAX, "group_tokens");
    c.kind = config->orthogonal ? quant::JlKind::Orthogonal
                                : quant::JlKind::Gaussian;
    c.seed = config->seed;
    quant::validateQjlConfig(c, dim);
    if (uint64_t(dim) * c.sketch > (uint64_t{1} << 28))
      fail(ErrorCode::InvalidArgument,
           "dim * sketch is too large for the JL matrix");
    qjl->s = quant::makeJlMatrix(dim, c.sketch, c.kind, c.seed);
    *out = qjl.release();
  });
}

qet_status qet_qjl_destroy(qet_qjl *qjl) noexcept {
  return apiCall(__func__, [&] { delete qjl; });
}

qet_status qet_qjl_key_sizes_for(const qet_qjl *qjl, int64_t tokens,
                                 qet_qjl_key_sizes *sizes) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(qjl, "qjl");
    requireNonNull(sizes, "sizes");
    *sizes = keySizes(*qjl, nonNegative(tokens, "tokens"));
  });
}

qet_status qet_qjl_sketch_keys(const qet_qjl *qjl, const float *keys,
                               int64_t tokens, size_t keys_count,
                               const qet_qjl_key_buffers *out) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(qjl, "qjl");
    requireNonNull(out, "out");
    const size_t n = nonNegative(tokens, "tokens"), dim = qjl->s.dim;
    requireBuffer(keys, keys_count, checkedProduct(n, dim, "keys size"), "keys",
                  "floats");
    const qet_qjl_key_sizes need = keySizes(*qjl, n);
    const bool outliers = qjl->config.hasOutliers();
    requireBuffer(out->signs, out->signs_count, need.signs, "out.signs",
                  "bytes");
    requireBuffer(out->norms, out->norms_count, need.norms, "out.norms",
                  "fp16 values");
    if (outliers) {
      requireBuffer(out->outlier_signs, out->outlier_signs_count,
                    need.outlier_signs, "out.outlier_signs", "bytes");
      requireBuffer(out->outlier_norms, out->outlier_norms_count,
                    need.outlier_norms, "out.outlier_norms", "fp16 values");
      requireBuffer(out->outlier_ids, out->outlier_ids_count, need.outlier_ids,
                    "out.outlier_ids", "ids");
    }
    if (n == 0)
      return;
    quant::Matrix k(n, dim);
    std::memcpy(k.values.data(), keys, n * dim * sizeof(float));
    quant::QjlKeys sketched =
        quant::qjlQuantizeKeys(k, qjl->s, qjl->config, kernelThreads());
    std::memcpy(out->signs, sketched.signs.data(), need.signs);
    copyHalves(sketched.normIn, out->norms);
    if (outliers) {
      std::memcpy(out->outlier_signs, sketched.outlierSigns.data(),
                  need.outlier_signs);
      copyHalves(sketched.normOut, out->outlier_norms);
      std::memcpy(out->outlier_ids, sketched.outlierIds.data(),
                  need.outlier_ids * sizeof(uint16_t));
    }
  });
}

qet_status qet_qjl_scores(const qet_qjl *qjl, const qet_qjl_keys *keys,
                          const float *queries, int64_t heads,
                          size_t queries_count, float *scores,
                          size_t scores_count) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(qjl, "qjl");
    requireNonNull(keys, "keys");
    const size_t h = nonNegative(heads, "heads");
    QjlKeysView view = keysView(*qjl, *keys);
    requireBuffer(queries, queries_count,
                  checkedProduct(h, qjl->s.dim, "queries size"), "queries",
                  "floats");
    requireBuffer(scores, scores_count,
                  checkedProduct(h, view.tokens, "scores size"), "scores",
                  "floats");
    qjlScoreKernel(qjl->config, qjl->s, view, queries, h, scores,
                   activeKernelPath(), kernelThreads());
  });
}

qet_status qet_kivi_sizes_for(int64_t dim, int64_t tokens, int64_t bits,
                              int64_t group, qet_kivi_sizes *sizes) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(sizes, "sizes");
    const size_t d = nonNegative(dim, "dim"), n = nonNegative(tokens, "tokens");
    const size_t g = kiviGroup(d, bits, group);
    sizes->group = static_cast<int64_t>(g);
    sizes->codes = checkedProduct(n, d * static_cast<size_t>(bits) / 8,
                                  "value code bytes");
    sizes->scales = checkedProduct(n, d / g, "value scales");
  });
}

qet_status
qet_kivi_quantize_values(const float *values, int64_t tokens, int64_t dim,
                         int64_t bits, int64_t group, size_t values_count,
                         const qet_kivi_value_buffers *out) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(out, "out");
    const size_t d = nonNegative(dim, "dim"), n = nonNegative(tokens, "tokens");
    quant::KiviConfig config;
    config.bits = smallValue(bits, 1, 8, "bits");
    config.group = static_cast<unsigned>(kiviGroup(d, bits, group));
    requireBuffer(values, values_count, checkedProduct(n, d, "values size"),
                  "values", "floats");
    const size_t codes = checkedProduct(n, d * config.bits / 8, "code bytes");
    const size_t scales = checkedProduct(n, d / config.group, "scales");
    requireBuffer(out->codes, out->codes_count, codes, "out.codes", "bytes");
    requireBuffer(out->scales, out->scales_count, scales, "out.scales",
                  "fp16 values");
    requireBuffer(out->mins, out->mins_count, scales, "out.mins",
                  "fp16 values");
    if (n == 0)
      return;
    quant::Matrix v(n, d);
    std::memcpy(v.values.data(), values, n * d * sizeof(float));
    quant::KiviValues packed =
        quant::kiviQuantizeValues(v, config, kernelThreads());
    std::memcpy(out->codes, packed.codes.data(), codes);
    copyHalves(packed.scales, out->scales);
    copyHalves(packed.mins, out->mins);
  });
}

qet_status qet_qjl_attention(const qet_qjl *qjl,
                             const qet_qjl_cache_view *cache,
                             const float *queries, int64_t heads,
                             size_t queries_count, float *out,
                             size_t out_count) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(qjl, "qjl");
    requireNonNull(cache, "cache");
    const size_t dim = qjl->s.dim, h = nonNegative(heads, "heads");
    QjlKeysView keys = keysView(*qjl, cache->keys);
    KiviView values = valuesView(dim, cache->values);
    const size_t tail = nonNegative(cache->tail_tokens, "cache.tail_tokens");
    const size_t window =
        nonNegative(cache->window_tokens, "cache.window_tokens");
    if (keys.tokens + tail != values.tokens + window)
      fail(ErrorCode::InvalidArgument,
           "the cache holds " + std::to_string(keys.tokens) + " + " +
               std::to_string(tail) + " keys but " +
               std::to_string(values.tokens) + " + " + std::to_string(window) +
               " values");
    const size_t tailCount = checkedProduct(tail, dim, "key tail size");
    const size_t windowCount = checkedProduct(window, dim, "value window size");
    requireBuffer(cache->key_tail, cache->key_tail_count, tailCount,
                  "cache.key_tail", "fp16 values");
    requireBuffer(cache->value_window, cache->value_window_count, windowCount,
                  "cache.value_window", "fp16 values");
    const size_t queryCount = checkedProduct(h, dim, "queries size");
    requireBuffer(queries, queries_count, queryCount, "queries", "floats");
    requireBuffer(out, out_count, queryCount, "out", "floats");
    requireFinite(queries, queryCount, "queries");
    requireDisjoint(queries, queryCount * sizeof(float), out,
                    queryCount * sizeof(float), "queries", "out");
    qjlAttentionKernel(qjl->config, qjl->s, keys, cache->key_tail, tail, values,
                       cache->value_window, window, queries, h, out,
                       activeKernelPath(), kernelThreads());
  });
}

} // extern "C"
