//===- QjlApiTest.cpp - QJL keys, KIVI values and attention via the C API -===//
//
// The C API's sketches and value codes equal the library's byte for byte;
// its scores equal qjlScores and its attention equals QjlCache::attend bit
// for bit, on every kernel path, across the cache's window states.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "Quantizer/TestSupport.h"

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Qjl.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace qet;
using namespace qet::test;

namespace {

struct QjlHandle {
  qet_qjl *qjl = nullptr;
  explicit QjlHandle(const qet_qjl_config &config) {
    EXPECT_QET_OK(qet_qjl_create(&config, &qjl));
  }
  ~QjlHandle() { qet_qjl_destroy(qjl); }
  QjlHandle(const QjlHandle &) = delete;
  QjlHandle &operator=(const QjlHandle &) = delete;
};

qet_qjl_config makeConfig(int64_t dim, int64_t m, int64_t outliers, int64_t mo,
                          int64_t g, bool orthogonal) {
  qet_qjl_config c{};
  c.dim = dim;
  c.sketch = m;
  c.outliers = outliers;
  c.outlier_sketch = mo;
  c.group_tokens = g;
  c.orthogonal = orthogonal;
  c.seed = 4242;
  return c;
}

quant::QjlConfig libraryConfig(const qet_qjl_config &c) {
  quant::QjlConfig out;
  out.sketch = unsigned(c.sketch);
  out.outliers = unsigned(c.outliers);
  out.outlierSketch = unsigned(c.outlier_sketch);
  out.groupTokens = unsigned(c.group_tokens);
  out.kind = c.orthogonal ? quant::JlKind::Orthogonal : quant::JlKind::Gaussian;
  out.seed = c.seed;
  return out;
}

/// Exactly sized caller buffers for sketched keys.
struct KeyBuffers {
  int64_t tokens = 0;
  std::vector<uint8_t> signs, outlierSigns;
  std::vector<uint16_t> norms, outlierNorms, ids;

  qet_qjl_keys view() const {
    return {tokens,
            signs.data(),
            signs.size(),
            norms.data(),
            norms.size(),
            outlierSigns.data(),
            outlierSigns.size(),
            outlierNorms.data(),
            outlierNorms.size(),
            ids.data(),
            ids.size()};
  }
  qet_qjl_key_buffers out() {
    return {signs.data(),        signs.size(),        norms.data(),
            norms.size(),        outlierSigns.data(), outlierSigns.size(),
            outlierNorms.data(), outlierNorms.size(), ids.data(),
            ids.size()};
  }
};

KeyBuffers sketch(const qet_qjl *qjl, const quant::Matrix &keys) {
  KeyBuffers b;
  b.tokens = int64_t(keys.rows);
  qet_qjl_key_sizes sizes;
  EXPECT_QET_OK(qet_qjl_key_sizes_for(qjl, b.tokens, &sizes));
  b.signs.resize(sizes.signs);
  b.norms.resize(sizes.norms);
  b.outlierSigns.resize(sizes.outlier_signs);
  b.outlierNorms.resize(sizes.outlier_norms);
  b.ids.resize(sizes.outlier_ids);
  qet_qjl_key_buffers out = b.out();
  EXPECT_QET_OK(qet_qjl_sketch_keys(qjl, keys.values.data(), b.tokens,
                                    keys.values.size(), &out));
  return b;
}

struct ValueBuffers {
  int64_t tokens = 0, bits = 0, group = 0;
  std::vector<uint8_t> codes;
  std::vector<uint16_t> scales, mins;

  qet_kivi_values view() const {
    return {tokens,        bits,         group,
            codes.data(),  codes.size(), scales.data(),
            scales.size(), mins.data(),  mins.size()};
  }
};

ValueBuffers quantizeValues(const quant::Matrix &v, int64_t bits,
                            int64_t group) {
  ValueBuffers b;
  b.tokens = int64_t(v.rows);
  b.bits = bits;
  qet_kivi_sizes sizes;
  EXPECT_QET_OK(
      qet_kivi_sizes_for(int64_t(v.cols), b.tokens, bits, group, &sizes));
  b.group = sizes.group;
  b.codes.resize(sizes.codes);
  b.scales.resize(sizes.scales);
  b.mins.resize(sizes.scales);
  qet_kivi_value_buffers out{b.codes.data(),  b.codes.size(), b.scales.data(),
                             b.scales.size(), b.mins.data(),  b.mins.size()};
  EXPECT_QET_OK(qet_kivi_quantize_values(v.values.data(), b.tokens,
                                         int64_t(v.cols), bits, group,
                                         v.values.size(), &out));
  return b;
}

std::vector<uint16_t> halfBits(const std::vector<float> &values) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = quant::floatToHalfBits(values[i]);
  return out;
}

quant::Matrix rows(const quant::Matrix &m, size_t begin, size_t end) {
  quant::Matrix out(end - begin, m.cols);
  std::copy(m.values.begin() + begin * m.cols, m.values.begin() + end * m.cols,
            out.values.begin());
  return out;
}

quant::Matrix halfRounded(quant::Matrix m) {
  for (float &v : m.values)
    v = quant::roundToHalf(v);
  return m;
}

const qet_qjl_config kConfigs[] = {
    makeConfig(64, 40, 3, 16, 8, true),   // outliers, partial last group
    makeConfig(96, 160, 0, 0, 32, false), // Gaussian S, no outliers
    makeConfig(8, 8, 1, 8, 1, true),      // tiny, a group per token
};

TEST(QjlApi, SketchesEqualTheLibrary) {
  for (const qet_qjl_config &config : kConfigs) {
    SCOPED_TRACE("d = " + std::to_string(config.dim));
    QjlHandle h(config);
    quant::Matrix k = gaussianMatrix(37, size_t(config.dim), 5, 0.7);
    KeyBuffers mine = sketch(h.qjl, k);
    quant::QjlConfig c = libraryConfig(config);
    quant::JlMatrix s = quant::makeJlMatrix(k.cols, c.sketch, c.kind, c.seed);
    quant::QjlKeys ref = quant::qjlQuantizeKeys(k, s, c);
    EXPECT_EQ(mine.signs, ref.signs);
    EXPECT_EQ(mine.norms, halfBits(ref.normIn));
    EXPECT_EQ(mine.outlierSigns, ref.outlierSigns);
    EXPECT_EQ(mine.outlierNorms, halfBits(ref.normOut));
    EXPECT_EQ(mine.ids, ref.outlierIds);
  }
}

TEST(QjlApi, ScoresEqualTheLibraryBitForBit) {
  KernelSettingsScope settings;
  for (const qet_qjl_config &config : kConfigs) {
    SCOPED_TRACE("d = " + std::to_string(config.dim));
    QjlHandle h(config);
    const size_t dim = size_t(config.dim), tokens = 37;
    quant::Matrix k = gaussianMatrix(tokens, dim, 6, 0.7);
    KeyBuffers keys = sketch(h.qjl, k);
    quant::QjlConfig c = libraryConfig(config);
    quant::JlMatrix s = quant::makeJlMatrix(dim, c.sketch, c.kind, c.seed);
    quant::QjlKeys ref = quant::qjlQuantizeKeys(k, s, c);
    for (size_t heads : {1, 4}) {
      std::vector<float> q = gaussianVector(heads * dim, 7);
      std::vector<float> expected(heads * tokens);
      quant::qjlScores(ref, s, q.data(), heads, expected.data());
      for (qet_kernel kernel : availableKernels()) {
        ASSERT_EQ(qet_set_kernel(kernel), QET_OK);
        std::vector<float> scores(heads * tokens, -1.0f);
        qet_qjl_keys view = keys.view();
        EXPECT_QET_OK(qet_qjl_scores(h.qjl, &view, q.data(), int64_t(heads),
                                     q.size(), scores.data(), scores.size()));
        EXPECT_EQ(scores, expected) << heads << " heads, kernel " << kernel;
      }
    }
  }
}

TEST(QjlApi, ValuesEqualTheLibrary) {
  quant::Matrix v = gaussianMatrix(19, 96, 8, 0.3);
  for (int64_t bits : {1, 2, 4, 8})
    for (int64_t group : {0, 8, 96}) {
      ValueBuffers mine = quantizeValues(v, bits, group);
      quant::KiviValues ref =
          quant::kiviQuantizeValues(v, {unsigned(bits), unsigned(group)});
      EXPECT_EQ(mine.group, int64_t(ref.config.group));
      EXPECT_EQ(mine.codes, ref.codes);
      EXPECT_EQ(mine.scales, halfBits(ref.scales));
      EXPECT_EQ(mine.mins, halfBits(ref.mins));
    }
}

TEST(QjlApi, AttentionEqualsTheCacheBitForBit) {
  KernelSettingsScope settings;
  const qet_qjl_config config = makeConfig(64, 64, 2, 32, 8, true);
  QjlHandle h(config);
  quant::QjlCacheConfig cacheConfig;
  cacheConfig.keys = libraryConfig(config);
  cacheConfig.values = {2, 16};
  cacheConfig.residual = 16;
  quant::JlMatrix s =
      quant::makeJlMatrix(64, 64, cacheConfig.keys.kind, cacheConfig.keys.seed);
  const quant::Matrix k = gaussianMatrix(41, 64, 9, 0.8);
  const quant::Matrix v = gaussianMatrix(41, 64, 10, 0.5);
  quant::Matrix q = gaussianMatrix(3, 64, 11, 0.8);
  // n = 0 (empty), < R (exact only), = R, flushes at R + G, partial states.
  for (size_t n : {0, 5, 16, 24, 27, 41}) {
    SCOPED_TRACE(std::to_string(n) + " tokens");
    quant::QjlCache cache(64, cacheConfig, s);
    cache.appendAll(rows(k, 0, n), rows(v, 0, n));
    quant::Matrix expected = cache.attend(q);
    // The cache keeps fp16 copies and quantizes those.
    const size_t nq = cache.quantizedKeys(), nv = cache.quantizedValues();
    KeyBuffers keys = sketch(h.qjl, halfRounded(rows(k, 0, nq)));
    ValueBuffers values = quantizeValues(halfRounded(rows(v, 0, nv)), 2, 16);
    std::vector<uint16_t> tail = halfBits(rows(k, nq, n).values);
    std::vector<uint16_t> window = halfBits(rows(v, nv, n).values);
    qet_qjl_cache_view view{};
    view.keys = keys.view();
    view.tail_tokens = int64_t(n - nq);
    view.key_tail = tail.data();
    view.key_tail_count = tail.size();
    view.values = values.view();
    view.window_tokens = int64_t(n - nv);
    view.value_window = window.data();
    view.value_window_count = window.size();
    for (qet_kernel kernel : availableKernels()) {
      ASSERT_EQ(qet_set_kernel(kernel), QET_OK);
      std::vector<float> out(q.values.size(), -1.0f);
      EXPECT_QET_OK(qet_qjl_attention(h.qjl, &view, q.values.data(), 3,
                                      q.values.size(), out.data(), out.size()));
      EXPECT_EQ(out, expected.values) << "kernel " << kernel;
    }
  }
}

TEST(QjlApi, ErrorsNameTheArgument) {
  qet_qjl *bad = nullptr;
  qet_qjl_config odd = makeConfig(12, 16, 0, 0, 8, true);
  EXPECT_QET_ERROR(qet_qjl_create(&odd, &bad), QET_ERROR_INVALID_ARGUMENT,
                   "multiple of 8");
  EXPECT_EQ(bad, nullptr);
  EXPECT_QET_ERROR(qet_qjl_create(nullptr, &bad), QET_ERROR_NULL_POINTER,
                   "'config'");

  QjlHandle h(kConfigs[0]);
  quant::Matrix k = gaussianMatrix(10, 64, 12, 0.7);
  KeyBuffers keys = sketch(h.qjl, k);
  qet_qjl_key_buffers out = keys.out();
  out.signs_count -= 1;
  EXPECT_QET_ERROR(
      qet_qjl_sketch_keys(h.qjl, k.values.data(), 10, k.values.size(), &out),
      QET_ERROR_BUFFER_SIZE, "'out.signs'");
  out = keys.out();
  EXPECT_QET_ERROR(qet_qjl_sketch_keys(h.qjl, nullptr, 10, 0, &out),
                   QET_ERROR_NULL_POINTER, "'keys'");
  EXPECT_QET_ERROR(qet_qjl_sketch_keys(h.qjl, k.values.data(), 10,
                                       k.values.size() - 1, &out),
                   QET_ERROR_BUFFER_SIZE, "'keys'");
  quant::Matrix nan = k;
  nan.values[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_QET_ERROR(qet_qjl_sketch_keys(h.qjl, nan.values.data(), 10,
                                       nan.values.size(), &out),
                   QET_ERROR_INVALID_ARGUMENT, "NaN");

  std::vector<float> q = gaussianVector(64, 13), scores(10);
  qet_qjl_keys view = keys.view();
  keys.ids[1] = 64; // a channel id past d
  view = keys.view();
  EXPECT_QET_ERROR(qet_qjl_scores(h.qjl, &view, q.data(), 1, q.size(),
                                  scores.data(), scores.size()),
                   QET_ERROR_INVALID_ARGUMENT, "outlier_ids[1]");
  keys.ids[1] = 0;
  view = keys.view();
  EXPECT_QET_ERROR(
      qet_qjl_scores(h.qjl, &view, q.data(), 1, q.size(), scores.data(), 9),
      QET_ERROR_BUFFER_SIZE, "'scores'");
  view.norms = nullptr;
  EXPECT_QET_ERROR(qet_qjl_scores(h.qjl, &view, q.data(), 1, q.size(),
                                  scores.data(), scores.size()),
                   QET_ERROR_NULL_POINTER, "'keys.norms'");

  ValueBuffers values = quantizeValues(gaussianMatrix(9, 64, 14, 0.5), 2, 0);
  qet_qjl_cache_view cache{};
  cache.keys = keys.view();
  cache.values = values.view();
  std::vector<float> o(64);
  EXPECT_QET_ERROR(qet_qjl_attention(h.qjl, &cache, q.data(), 1, q.size(),
                                     o.data(), o.size()),
                   QET_ERROR_INVALID_ARGUMENT, "10 + 0 keys but 9 + 0 values");
  std::vector<uint16_t> window(64, 0);
  cache.window_tokens = 1;
  cache.value_window = window.data();
  cache.value_window_count = window.size();
  q[3] = std::numeric_limits<float>::infinity();
  EXPECT_QET_ERROR(qet_qjl_attention(h.qjl, &cache, q.data(), 1, q.size(),
                                     o.data(), o.size()),
                   QET_ERROR_INVALID_ARGUMENT, "'queries' element 3");
  q[3] = 0.0f;
  EXPECT_QET_OK(qet_qjl_attention(h.qjl, &cache, q.data(), 1, q.size(),
                                  o.data(), o.size()));
  cache.values.group = 0;
  EXPECT_QET_ERROR(qet_qjl_attention(h.qjl, &cache, q.data(), 1, q.size(),
                                     o.data(), o.size()),
                   QET_ERROR_INVALID_ARGUMENT, "values.group");
  qet_kivi_sizes sizes;
  EXPECT_QET_ERROR(qet_kivi_sizes_for(64, 1, 3, 0, &sizes),
                   QET_ERROR_INVALID_ARGUMENT, "1, 2, 4 or 8");
}

} // namespace
