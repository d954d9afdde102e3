//===- QjlAttentionTest.cpp - Generated QJL code against the library -----===//
//
// Keys sketched by the quantizer library (qjlQuantizeKeys, qjlPackKeys)
// written as a qet.constant, compiled through qet-cpu-pipeline{backend=scf}
// and JIT-run:
// * qet.qmatmul of the keys (their scores) equals qjlScores bit for bit: the
//   generated sign-select loops perform the library's fp32 operations in
//   its order (x = S q with channels ascending, 8-lane selects, the same
//   lane reduction, the outlier term per token group);
// * qet.qjl_attention matches softmax(scale * scores) V computed in fp64
//   from those scores, within fp32 rounding of the softmax and the sums;
// * qet.qjl_sketch (with the library's S as its jl) gives the library's sign
//   bytes and fp16 norms, and qet.qjl_score of them its scores (Gaussian S:
//   the op's sqrt(pi/2)/m is the Gaussian 1/(m kappa)).
// Configurations: block-orthogonal and Gaussian S, m not a multiple of d,
// outlier channels with 8-bit and (d > 256) 16-bit ids, token groups that
// do not divide the tokens, 1 to 9 query rows (blocks of 4 and the rest)
// and value widths below, at and above a vector of 8.
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Qjl.h"
#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace qet;
using namespace qet::quant;

namespace {

struct QjlCase {
  const char *name;
  size_t tokens, dim, sketch, outlierSketch, outliers, groupTokens;
  bool orthogonal;
  size_t heads, valueDim;
};

void PrintTo(const QjlCase &c, std::ostream *os) { *os << c.name; }

std::string str(size_t v) { return std::to_string(v); }

/// `v` printed so that it parses back to the same float.
std::string exactFloat(float v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", v);
  return text;
}

std::string qjlAttribute(const QjlConfig &c) {
  return "#qet.qjl<sketch = " + str(c.sketch) +
         ", outlier_sketch = " + str(c.outlierSketch) +
         ", outliers = " + str(c.outliers) +
         ", group_tokens = " + str(c.groupTokens) +
         ", orthogonal = " + (c.kind == JlKind::Orthogonal ? "true" : "false") +
         ", seed = " + str(c.seed) + ">";
}

QjlConfig configOf(const QjlCase &c) {
  QjlConfig config;
  config.sketch = static_cast<unsigned>(c.sketch);
  config.outlierSketch = static_cast<unsigned>(c.outlierSketch);
  config.outliers = static_cast<unsigned>(c.outliers);
  config.groupTokens = static_cast<unsigned>(c.groupTokens);
  config.kind = c.orthogonal ? JlKind::Orthogonal : JlKind::Gaussian;
  config.seed = 1000 + c.tokens;
  return config;
}

/// Keys with a few large channels (so outlier groups differ), queries and
/// values, all normal.
Matrix randomMatrix(size_t rows, size_t cols, uint64_t seed, bool spiky) {
  Matrix m(rows, cols);
  Rng rng(seed);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j)
      m.at(i, j) = static_cast<float>(rng.normal() *
                                      (spiky && rng.below(6) == 0 ? 4.0 : 1.0));
  return m;
}

/// The scores and the attention of `queries` over the packed keys.
std::string attentionSource(const PackedMatrix &packed, const QjlConfig &config,
                            size_t heads, size_t valueDim, float scale) {
  std::string t = str(packed.rows), d = str(packed.cols), h = str(heads),
              dv = str(valueDim);
  std::string type =
      "!qet.packed<" + t + "x" + d + "xf16, " + qjlAttribute(config) + ">";
  std::string components;
  for (const PackedStream &s : packed.streams)
    components += (components.empty() ? "" : ", ") + s.component +
                  " = dense<\"" + test::hexBytes(s.bytes) + "\"> : tensor<" +
                  str(s.bytes.size()) + "xi8>";
  auto tensor = [](const std::string &r, const std::string &c) {
    return "tensor<" + r + "x" + c + "xf32>";
  };
  auto memref = [](const std::string &r, const std::string &c) {
    return "memref<" + r + "x" + c + "xf32>";
  };
  return "func.func @run(%qm: " + memref(h, d) + ", %vm: " + memref(t, dv) +
         ", %sm: " + memref(h, t) + ", %om: " + memref(h, dv) +
         ") attributes {llvm.emit_c_interface} {\n"
         "  %q = bufferization.to_tensor %qm restrict : " +
         memref(h, d) + " to " + tensor(h, d) +
         "\n"
         "  %v = bufferization.to_tensor %vm restrict : " +
         memref(t, dv) + " to " + tensor(t, dv) +
         "\n"
         "  %p = qet.constant {" +
         components + "} : " + type +
         "\n"
         "  %s = qet.qmatmul %q, %p : " +
         tensor(h, d) + ", " + type + " -> " + tensor(h, t) +
         "\n"
         "  %o = qet.qjl_attention %q, %p, %v {scale = " +
         exactFloat(scale) + " : f32} : " + tensor(h, d) + ", " + type + ", " +
         tensor(t, dv) + " -> " + tensor(h, dv) +
         "\n"
         "  bufferization.materialize_in_destination %s in restrict writable "
         "%sm : (" +
         tensor(h, t) + ", " + memref(h, t) +
         ") -> ()\n"
         "  bufferization.materialize_in_destination %o in restrict writable "
         "%om : (" +
         tensor(h, dv) + ", " + memref(h, dv) +
         ") -> ()\n"
         "  return\n}\n";
}

class GeneratedQjl : public ::testing::TestWithParam<QjlCase> {};

TEST_P(GeneratedQjl, ScoresAndAttentionMatchLibrary) {
  const QjlCase &c = GetParam();
  QjlConfig config = configOf(c);
  JlMatrix s = makeJlMatrix(c.dim, c.sketch, config.kind, config.seed);
  Matrix keys = randomMatrix(c.tokens, c.dim, c.tokens * 7 + c.dim, true);
  Matrix queries = randomMatrix(c.heads, c.dim, c.heads + 11, false);
  Matrix values = randomMatrix(c.tokens, c.valueDim, c.valueDim + 5, false);
  QjlKeys sketched = qjlQuantizeKeys(keys, s, config, /*threads=*/1);
  PackedMatrix packed = qjlPackKeys(sketched);
  const float scale = static_cast<float>(1.0 / std::sqrt(double(c.dim)));

  test::JitRunner runner(
      attentionSource(packed, config, c.heads, c.valueDim, scale),
      "qet-cpu-pipeline{backend=scf}");
  ASSERT_NE(runner.engine(), nullptr);
  std::vector<float> q = queries.values, v = values.values;
  std::vector<float> scores(c.heads * c.tokens, -1.0f);
  std::vector<float> out(c.heads * c.valueDim, -1.0f);
  auto qd = test::describe(q, c.heads, c.dim);
  auto vd = test::describe(v, c.tokens, c.valueDim);
  auto sd = test::describe(scores, c.heads, c.tokens);
  auto od = test::describe(out, c.heads, c.valueDim);
  llvm::Error error = runner.engine()->invoke("run", &qd, &vd, &sd, &od);
  ASSERT_FALSE(error) << llvm::toString(std::move(error));

  std::vector<float> want(c.heads * c.tokens);
  qjlScores(sketched, s, queries.values.data(), c.heads, want.data(),
            /*threads=*/1, QjlKernel::Scalar);
  for (size_t h = 0; h < c.heads; ++h)
    for (size_t t = 0; t < c.tokens; ++t)
      ASSERT_EQ(scores[h * c.tokens + t], want[h * c.tokens + t])
          << "query " << h << ", token " << t;

  // softmax(scale * scores) V in fp64 from the library's scores. The
  // generated fp32 code rounds the logits (relative 2^-24, so |l| u), each
  // exp and its argument (about 3 L u with L = max |logit|), the sum of T
  // exponentials (T u), the reciprocal and the weights (2 u) and the T-term
  // value sums (T u of sum p |v| <= max |v|): within (4 L + 2 T + 16) u
  // max |v|, u = 2^-24.
  double maxValue = 0;
  for (float x : values.values)
    maxValue = std::max(maxValue, double(std::fabs(x)));
  for (size_t h = 0; h < c.heads; ++h) {
    std::vector<double> logits(c.tokens);
    double top = -HUGE_VAL, largest = 0;
    for (size_t t = 0; t < c.tokens; ++t) {
      logits[t] = double(want[h * c.tokens + t]) * scale;
      top = std::max(top, logits[t]);
      largest = std::max(largest, std::fabs(logits[t]));
    }
    double sum = 0;
    std::vector<double> p(c.tokens);
    for (size_t t = 0; t < c.tokens; ++t)
      sum += p[t] = std::exp(logits[t] - top);
    double bound =
        (4 * largest + 2 * double(c.tokens) + 16) * 0x1p-24 * maxValue;
    for (size_t j = 0; j < c.valueDim; ++j) {
      double o = 0;
      for (size_t t = 0; t < c.tokens; ++t)
        o += p[t] / sum * values.at(t, j);
      ASSERT_NEAR(out[h * c.valueDim + j], o, bound)
          << "query " << h << ", column " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, GeneratedQjl,
    ::testing::Values(
        // name, tokens, d, m, m_o, |O|, G, orthogonal, heads, dv
        QjlCase{"orthogonal", 37, 16, 24, 0, 0, 32, true, 3, 16},
        QjlCase{"gaussian_rows", 40, 32, 64, 0, 0, 32, false, 9, 8},
        QjlCase{"outliers", 45, 16, 40, 16, 3, 8, true, 4, 12},
        QjlCase{"wide_ids", 20, 264, 16, 8, 2, 7, true, 2, 5},
        QjlCase{"one_token", 1, 8, 8, 8, 1, 1, false, 1, 3}),
    [](const ::testing::TestParamInfo<QjlCase> &info) {
      return std::string(info.param.name);
    });

/// A 1-D memref descriptor over `data`.
template <typename T> StridedMemRefType<T, 1> describe1(std::vector<T> &data) {
  StridedMemRefType<T, 1> d;
  d.basePtr = d.data = data.data();
  d.offset = 0;
  d.sizes[0] = static_cast<int64_t>(data.size());
  d.strides[0] = 1;
  return d;
}

// qet.qjl_sketch and qet.qjl_score with the library's Gaussian S as their
// JL matrix: the library's bits, norms and scores, bit for bit.
TEST(GeneratedQjlSketch, SketchAndScoreMatchLibrary) {
  const size_t tokens = 29, dim = 24, sketch = 48, heads = 5;
  QjlConfig config;
  config.sketch = sketch;
  config.kind = JlKind::Gaussian;
  config.seed = 77;
  JlMatrix s = makeJlMatrix(dim, sketch, config.kind, config.seed);
  Matrix keys = randomMatrix(tokens, dim, 5, true);
  // An all-zero key: no bit set (sign(0) -> -1), norm 0, score 0.
  std::fill(keys.row(3), keys.row(3) + dim, 0.0f);
  Matrix queries = randomMatrix(heads, dim, 6, false);
  QjlKeys sketched = qjlQuantizeKeys(keys, s, config, /*threads=*/1);

  std::string t = str(tokens), d = str(dim), m = str(sketch), h = str(heads),
              b = str(sketch / 8);
  std::string attr = qjlAttribute(config);
  std::string source =
      "func.func @run(%km: memref<" + t + "x" + d + "xf32>, %jm: memref<" + m +
      "x" + d + "xf32>, %qm: memref<" + h + "x" + d + "xf32>, %bm: memref<" +
      t + "x" + b + "xi8>, %nm: memref<" + t + "xf16>, %sm: memref<" + h + "x" +
      t +
      "xf32>) attributes {llvm.emit_c_interface} {\n"
      "  %k = bufferization.to_tensor %km restrict : memref<" +
      t + "x" + d + "xf32> to tensor<" + t + "x" + d +
      "xf32>\n"
      "  %jl = bufferization.to_tensor %jm restrict : memref<" +
      m + "x" + d + "xf32> to tensor<" + m + "x" + d +
      "xf32>\n"
      "  %q = bufferization.to_tensor %qm restrict : memref<" +
      h + "x" + d + "xf32> to tensor<" + h + "x" + d +
      "xf32>\n"
      "  %bits, %norms = qet.qjl_sketch " +
      attr + " %k, %jl : tensor<" + t + "x" + d + "xf32>, tensor<" + m + "x" +
      d + "xf32> -> tensor<" + t + "x" + b + "xi8>, tensor<" + t +
      "xf16>\n"
      "  %s = qet.qjl_score %q, %jl, %bits, %norms : tensor<" +
      h + "x" + d + "xf32>, tensor<" + m + "x" + d + "xf32>, tensor<" + t +
      "x" + b + "xi8>, tensor<" + t + "xf16> -> tensor<" + h + "x" + t +
      "xf32>\n"
      "  bufferization.materialize_in_destination %bits in restrict writable "
      "%bm : (tensor<" +
      t + "x" + b + "xi8>, memref<" + t + "x" + b +
      "xi8>) -> ()\n"
      "  bufferization.materialize_in_destination %norms in restrict writable "
      "%nm : (tensor<" +
      t + "xf16>, memref<" + t +
      "xf16>) -> ()\n"
      "  bufferization.materialize_in_destination %s in restrict writable "
      "%sm : (tensor<" +
      h + "x" + t + "xf32>, memref<" + h + "x" + t +
      "xf32>) -> ()\n"
      "  return\n}\n";
  test::JitRunner runner(source, "qet-cpu-pipeline{backend=scf}");
  ASSERT_NE(runner.engine(), nullptr);
  std::vector<float> k = keys.values, q = queries.values;
  std::vector<float> jl(sketch * dim);
  for (size_t j = 0; j < sketch; ++j)
    for (size_t c = 0; c < dim; ++c)
      jl[j * dim + c] = s.at(j, c);
  std::vector<int8_t> bits(tokens * sketch / 8, 0x55);
  std::vector<uint16_t> norms(tokens, 0xFFFF);
  std::vector<float> scores(heads * tokens, -1.0f);
  auto kd = test::describe(k, tokens, dim);
  auto jd = test::describe(jl, sketch, dim);
  auto qd = test::describe(q, heads, dim);
  auto bd = test::describe(bits, tokens, sketch / 8);
  auto nd = describe1(norms);
  auto sd = test::describe(scores, heads, tokens);
  llvm::Error error =
      runner.engine()->invoke("run", &kd, &jd, &qd, &bd, &nd, &sd);
  ASSERT_FALSE(error) << llvm::toString(std::move(error));

  for (size_t i = 0; i < bits.size(); ++i)
    ASSERT_EQ(static_cast<uint8_t>(bits[i]), sketched.signs[i])
        << "sign byte " << i;
  for (size_t i = 0; i < tokens; ++i)
    ASSERT_EQ(norms[i], floatToHalfBits(sketched.normIn[i])) << "norm " << i;
  std::vector<float> want(heads * tokens);
  qjlScores(sketched, s, queries.values.data(), heads, want.data(),
            /*threads=*/1, QjlKernel::Scalar);
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(scores[i], want[i]) << "score " << i;
  EXPECT_EQ(scores[3], 0.0f); // the zero key of query 0
}

} // namespace
