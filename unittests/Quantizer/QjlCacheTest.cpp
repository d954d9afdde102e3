//===- QjlCacheTest.cpp - KIVI values, the QJL cache and decode attention -===//
//
// qjl.md §5-§7, §13 (values, windows, bits, decode step).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace qet::quant;

namespace {

Matrix gaussian(size_t rows, size_t cols, uint64_t seed, double sigma = 1.0) {
  return qet::test::gaussianMatrix(rows, cols, seed, sigma);
}

Matrix halfRounded(Matrix m) {
  for (float &v : m.values)
    v = roundToHalf(v);
  return m;
}

double relativeError(const Matrix &ref, const Matrix &got) {
  double err = 0, energy = 0;
  for (size_t i = 0; i < ref.values.size(); ++i) {
    double diff = double(ref.values[i]) - got.values[i];
    err += diff * diff;
    energy += double(ref.values[i]) * ref.values[i];
  }
  return std::sqrt(err / energy);
}

// qjl.md §13 value oracle.
TEST(Kivi, Oracle) {
  Matrix v(1, 8);
  v.values = {0.1f, -0.5f, 0.3f, 0.9f, -0.2f, 0.0f, 0.7f, -0.4f};
  KiviValues q = kiviQuantizeValues(v, {2, 8});
  EXPECT_EQ(q.mins[0], -0.5f);
  EXPECT_EQ(q.scales[0], 0.466552734375f);
  const uint32_t codes[] = {1, 0, 2, 3, 1, 1, 3, 0};
  for (int c = 0; c < 8; ++c)
    EXPECT_EQ(q.code(0, c), codes[c]);
  ASSERT_EQ(q.codes.size(), 2u);
  EXPECT_EQ(q.codes[0], 0xE1);
  EXPECT_EQ(q.codes[1], 0x35);
  Matrix back = kiviDequantize(q);
  double worst = 0;
  for (int c = 0; c < 8; ++c)
    worst = std::max(worst, std::fabs(double(back.values[c]) - v.values[c]));
  EXPECT_NEAR(worst, 0.19966, 1e-5);
  EXPECT_LE(worst, 0.23362);
}

TEST(Kivi, ErrorBoundPerElementAndRoundTrip) {
  for (unsigned bits : {1u, 2u, 4u, 8u})
    for (unsigned group : {0u, 8u, 16u, 96u}) {
      Matrix v = gaussian(50, 96, bits * 100 + group, 0.3);
      KiviConfig config{bits, group};
      KiviValues q = kiviQuantizeValues(v, config, 2);
      size_t g = q.config.group;
      EXPECT_EQ(g, group ? group : 32u);
      Matrix back = kiviDequantize(q);
      float levels = float((1u << bits) - 1);
      for (size_t t = 0; t < v.rows; ++t)
        for (size_t k = 0; k < 96 / g; ++k) {
          const float *x = v.row(t) + k * g;
          float mn = *std::min_element(x, x + g), mx = *std::max_element(x, x + g);
          float scale = (mx - mn) / levels;
          float mn16 = q.mins[t * (96 / g) + k], sc16 = q.scales[t * (96 / g) + k];
          double bound = sc16 / 2.0 + std::fabs(mn - mn16) +
                         levels * std::fabs(scale - sc16);
          for (size_t i = 0; i < g; ++i) {
            double err = std::fabs(double(back.at(t, k * g + i)) - x[i]);
            EXPECT_LE(err, bound + 1e-6 * std::fabs(x[i]) + 1e-7);
          }
        }
      PackedMatrix packed = kiviPackValues(q);
      EXPECT_EQ(packed.payloadBits(), q.storageBits());
      EXPECT_EQ(q.storageBits(), 50u * (96 * bits + 32 * (96 / g)));
      Ledger ledger;
      q.addToLedger(ledger);
      EXPECT_EQ(ledger.totalBits(), packed.payloadBits());
      KiviValues again = kiviUnpackValues(packed);
      EXPECT_EQ(again.codes, q.codes);
      EXPECT_EQ(again.mins, q.mins);
      EXPECT_EQ(again.scales, q.scales);
      // Same result for 1 thread.
      EXPECT_EQ(kiviQuantizeValues(v, config, 1).codes, q.codes);
      // The value product equals the dequantized weighted sum.
      std::vector<float> p(v.rows);
      for (size_t t = 0; t < v.rows; ++t)
        p[t] = float(t + 1) / 1275.0f;
      std::vector<float> out(96, 0.0f);
      kiviValueProduct(q, p.data(), out.data());
      for (size_t c = 0; c < 96; ++c) {
        double ref = 0, mag = 0;
        for (size_t t = 0; t < v.rows; ++t) {
          ref += double(p[t]) * back.at(t, c);
          mag += std::fabs(double(p[t]) * back.at(t, c));
        }
        EXPECT_NEAR(out[c], ref, 1e-5 * mag + 1e-6);
      }
    }
}

TEST(Kivi, BadInput) {
  Matrix v = gaussian(4, 24, 1);
  EXPECT_THROW(kiviQuantizeValues(v, {3, 8}), Error);
  EXPECT_THROW(kiviQuantizeValues(v, {2, 16}), Error); // 16 does not divide 24
  EXPECT_EQ(kiviGroup({2, 0}, 24), 8u);
  EXPECT_THROW(kiviGroup({2, 0}, 12), Error);
  v.at(1, 1) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(kiviQuantizeValues(v, {2, 8}), Error);
  v.at(1, 1) = 1e6f;
  EXPECT_THROW(kiviQuantizeValues(v, {2, 8}), Error);
}

//===----------------------------------------------------------------------===//
// The cache.
//===----------------------------------------------------------------------===//

QjlCacheConfig smallConfig() {
  QjlCacheConfig config;
  config.keys.sketch = 64;
  config.keys.outliers = 2;
  config.keys.outlierSketch = 32;
  config.keys.groupTokens = 4;
  config.values = {2, 0};
  config.residual = 8;
  return config;
}

TEST(QjlCache, ShortSequencesAreExactAndWindowsStayFp16) {
  size_t d = 32;
  QjlCacheConfig config = smallConfig();
  JlMatrix s = makeJlMatrix(d, 64, config.keys.kind, config.keys.seed);
  Matrix k = halfRounded(gaussian(8, d, 1, 0.5));
  Matrix v = halfRounded(gaussian(8, d, 2));
  Matrix q = gaussian(4, d, 3);
  for (size_t n : {0u, 1u, 7u, 8u}) {
    QjlCache cache(d, config, s);
    for (size_t t = 0; t < n; ++t)
      cache.append(k.row(t), v.row(t));
    EXPECT_EQ(cache.quantizedKeys(), 0u);
    EXPECT_EQ(cache.quantizedValues(), 0u);
    Matrix out = cache.attend(q, 2);
    for (float x : out.values)
      EXPECT_TRUE(std::isfinite(x));
    if (n == 0)
      continue;
    Matrix kn(n, d), vn(n, d);
    std::copy(k.values.begin(), k.values.begin() + n * d, kn.values.begin());
    std::copy(v.values.begin(), v.values.begin() + n * d, vn.values.begin());
    Matrix exact = exactAttention(q, kn, vn);
    for (size_t i = 0; i < out.values.size(); ++i)
      EXPECT_NEAR(out.values[i], exact.values[i],
                  2e-6 * (std::fabs(exact.values[i]) + 1.0));
    // Window bits: 16 per element for keys and values.
    EXPECT_EQ(cache.keyBits(), 16u * n * d);
    EXPECT_EQ(cache.valueBits(), 16u * n * d);
  }
  // Inputs that are not fp16 values are rounded in the window (and only so).
  QjlCache cache(d, config, s);
  Matrix raw = gaussian(1, d, 4);
  cache.append(raw.row(0), raw.row(0));
  Matrix one(1, d);
  one.values[5] = 1.0f;
  Matrix l = cache.logits(one);
  EXPECT_EQ(l.at(0, 0), roundToHalf(raw.at(0, 5)) *
                            float(1.0 / std::sqrt(32.0)));
}

TEST(QjlCache, FlushScheduleAndGqa) {
  size_t d = 32, n = 40;
  QjlCacheConfig config = smallConfig(); // R = 8, G = 4
  JlMatrix s = makeJlMatrix(d, 64, config.keys.kind, config.keys.seed);
  Matrix k = gaussian(n, d, 5), v = gaussian(n, d, 6);
  QjlCache cache(d, config, s);
  size_t previous = 0;
  for (size_t t = 0; t < n; ++t) {
    cache.append(k.row(t), v.row(t));
    size_t count = t + 1;
    size_t expected = count >= 8 ? 4 * ((count - 8) / 4) : 0; // G floor((n-R)/G)
    EXPECT_EQ(cache.quantizedKeys(), expected) << count;
    if (cache.quantizedKeys() != previous) // a flush happens at n = R + jG
      EXPECT_EQ((count - 8) % 4, 0u);
    previous = cache.quantizedKeys();
    EXPECT_EQ(cache.quantizedValues(), count > 8 ? count - 8 : 0);
  }
  // GQA: 8 query heads on this KV head give the same rows as one at a time.
  Matrix q = gaussian(8, d, 7);
  Matrix all = cache.attend(q, 2);
  for (size_t h = 0; h < 8; ++h) {
    Matrix one(1, d);
    std::copy(q.row(h), q.row(h) + d, one.values.begin());
    Matrix single = cache.attend(one, 1);
    for (size_t c = 0; c < d; ++c)
      EXPECT_EQ(single.at(0, c), all.at(h, c));
  }
  // The scalar kernel gives the same output.
  Matrix scalar = cache.attend(q, 1, QjlKernel::Scalar);
  EXPECT_EQ(scalar.values, all.values);
  // The quantized keys' scores are the packed estimator (logits * sqrt d).
  Matrix l = cache.logits(q);
  for (size_t t = 0; t < cache.quantizedKeys(); t += 3)
    EXPECT_NEAR(l.at(2, t) * std::sqrt(32.0),
                qjlEstimate(cache.packedKeys(), s, q.row(2), t), 1e-4);
}

// qjl.md §6: QJL-256, R = 128, d = 128, n = 4096: keys 2.55859375 bpe,
// values (b = 2, g_v = 32) 3.40625 bpe, and the ledger equals the payloads.
TEST(QjlCache, BitsPerElementMatchesTheSpec) {
  size_t d = 128, n = 4096;
  QjlCacheConfig config;
  JlMatrix s = makeJlMatrix(d, 256, config.keys.kind, config.keys.seed);
  Matrix k = gaussian(n, d, 8), v = gaussian(n, d, 9);
  QjlCache cache(d, config, s);
  cache.appendAll(k, v);
  EXPECT_EQ(cache.quantizedKeys(), 3968u);
  EXPECT_DOUBLE_EQ(cache.keyBitsPerElement(), 2.55859375);
  EXPECT_DOUBLE_EQ(cache.valueBitsPerElement(), 3.40625);
  EXPECT_EQ(cache.ledger().totalBits(), cache.keyBits() + cache.valueBits());
  uint64_t payload = qjlPackKeys(cache.packedKeys()).payloadBits() +
                     kiviPackValues(cache.packedValues()).payloadBits() +
                     16ull * (n - cache.quantizedKeys()) * d +
                     16ull * (n - cache.quantizedValues()) * d;
  EXPECT_EQ(payload, cache.ledger().totalBits());
}

// With a large sketch and 8-bit values the decode step approaches exact fp64
// attention on the unquantized data, and the error shrinks as m grows.
TEST(QjlCache, LargeSketchApproachesExactAttention) {
  size_t d = 32, n = 160;
  Matrix k = halfRounded(gaussian(n, d, 10, 0.6));
  Matrix v = halfRounded(gaussian(n, d, 11));
  Matrix q = gaussian(4, d, 12, 0.6);
  Matrix exact = exactAttention(q, k, v);
  double previous = 1e9;
  for (unsigned m : {64u, 1024u, 8192u}) {
    QjlCacheConfig config;
    config.keys.sketch = m;
    config.keys.groupTokens = 16;
    config.values = {8, 0};
    config.residual = 0; // everything quantized
    JlMatrix s = makeJlMatrix(d, m, config.keys.kind, config.keys.seed);
    QjlCache cache(d, config, s);
    cache.appendAll(k, v);
    EXPECT_EQ(cache.quantizedKeys(), n);
    double err = relativeError(exact, cache.attend(q, 2));
    EXPECT_LT(err, previous) << m;
    previous = err;
  }
  EXPECT_LT(previous, 0.02);
}

TEST(QjlCache, BadConfig) {
  JlMatrix s = makeJlMatrix(32, 64, JlKind::Orthogonal, kDefaultSeed);
  QjlCacheConfig config = smallConfig();
  config.residual = 6; // not a multiple of G = 4
  EXPECT_THROW(QjlCache(32, config, s), Error);
  config = smallConfig();
  config.keys.sketch = 128; // S has 64 rows
  EXPECT_THROW(QjlCache(32, config, s), Error);
  config = smallConfig();
  QjlCache cache(32, config, s);
  std::vector<float> bad(32, 0.0f);
  bad[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(cache.append(bad.data(), bad.data()), Error);
}

} // namespace
