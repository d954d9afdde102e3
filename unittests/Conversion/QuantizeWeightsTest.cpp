//===- QuantizeWeightsTest.cpp - Compiled quantized weights vs the library ===//
//
// End to end: a matmul with a constant weight goes through
// qet-quantize-weights + qet-decompose + convert-qet-to-linalg + the upstream
// CPU pipeline, is JIT-compiled and multiplied by the identity, so its output
// is the weight as the generated code decodes it. That must equal the
// quantizer library's own reconstruction (same scheme, options and seed):
// bit for bit, except OPQ and LOPQ, whose rotation products are summed in
// another order (fp32 rounding bound).
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace qet;
using namespace qet::quant;

namespace {

struct Case {
  std::string scheme;
  DType dtype;
  size_t k, n; // the weight is K x N (y = x W): packed as N x K
  double bpe;
  unsigned group;
  std::vector<unsigned> depths = {}; // HERA/QET (empty = searched)
};

const char *typeName(DType t) {
  return t == DType::F32 ? "f32" : t == DType::F16 ? "f16" : "bf16";
}

uint16_t halfBits(DType t, float v) {
  return t == DType::F16 ? floatToHalfBits(v) : floatToBFloatBits(v);
}

/// The weight's bytes as an MLIR hex literal (little-endian elements).
std::string hexLiteral(const Matrix &w) {
  std::vector<uint8_t> bytes;
  for (float v : w.values) {
    if (w.storage == DType::F32) {
      uint8_t b[4];
      std::memcpy(b, &v, 4);
      bytes.insert(bytes.end(), b, b + 4);
    } else {
      uint16_t h = halfBits(w.storage, v);
      bytes.push_back(static_cast<uint8_t>(h));
      bytes.push_back(static_cast<uint8_t>(h >> 8));
    }
  }
  return test::hexBytes(bytes);
}

std::string source(const Case &c, const Matrix &weight) {
  std::string t = typeName(c.dtype);
  std::string k = std::to_string(c.k), n = std::to_string(c.n);
  std::string wt = "tensor<" + k + "x" + n + "x" + t + ">";
  std::string xt = "tensor<" + k + "x" + k + "x" + t + ">";
  // f32 accumulation: bf16 arithmetic would need compiler-rt in the JIT.
  std::string yt = "tensor<" + k + "x" + n + "xf32>";
  std::string xm = "memref<" + k + "x" + k + "x" + t + ">";
  std::string ym = "memref<" + k + "x" + n + "xf32>";
  return "func.func @run(%xm: " + xm + ", %ym: " + ym +
         ") attributes {llvm.emit_c_interface} {\n"
         "  %w = arith.constant dense<\"" + hexLiteral(weight) + "\"> : " + wt + "\n"
         "  %x = bufferization.to_tensor %xm restrict : " + xm + " to " + xt + "\n"
         "  %zero = arith.constant 0.0 : f32\n"
         "  %e = tensor.empty() : " + yt + "\n"
         "  %f = linalg.fill ins(%zero : f32) outs(%e : " + yt + ") -> " + yt + "\n"
         "  %y = linalg.matmul ins(%x, %w : " + xt + ", " + wt + ") outs(%f : " + yt +
         ") -> " + yt + "\n"
         "  bufferization.materialize_in_destination %y in restrict writable %ym"
         " : (" + yt + ", " + ym + ") -> ()\n"
         "  return\n}\n";
}

std::string pipeline(const Case &c) {
  std::string depths;
  for (unsigned d : c.depths)
    depths += (depths.empty() ? " depths=" : ",") + std::to_string(d);
  return "qet-quantize-weights{scheme=" + c.scheme + depths +
         " bpe=" + std::to_string(c.bpe) + " group=" + std::to_string(c.group) +
         " min-elements=0 seed=7},qet-decompose,canonicalize,"
         "convert-qet-to-linalg,qet-verify-lowered,"
         "one-shot-bufferize{bufferize-function-boundaries},"
         "convert-linalg-to-loops,expand-strided-metadata,lower-affine,"
         // The JIT has no compiler-rt for bf16 conversions: expand them.
         "convert-scf-to-cf,arith-expand{include-bf16=true},convert-to-llvm,"
         "reconcile-unrealized-casts";
}

/// Runs the compiled identity product; returns the decoded K x N weight.
template <typename T>
std::vector<float> runCompiled(const Case &c, test::JitRunner &runner) {
  std::vector<T> x(c.k * c.k, T(0));
  std::vector<float> y(c.k * c.n, 0.0f);
  for (size_t i = 0; i < c.k; ++i) {
    if constexpr (sizeof(T) == 4)
      x[i * c.k + i] = 1.0f;
    else
      x[i * c.k + i] = halfBits(c.dtype, 1.0f);
  }
  auto xd = test::describe(x, c.k, c.k);
  auto yd = test::describe(y, c.k, c.n);
  llvm::Error error = runner.engine()->invoke("run", &xd, &yd);
  EXPECT_FALSE(error) << llvm::toString(std::move(error));
  return y;
}

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.scheme << " " << typeName(c.dtype) << " " << c.k << "x" << c.n
      << " bpe " << c.bpe;
}

class CompiledWeights : public ::testing::TestWithParam<Case> {};

TEST_P(CompiledWeights, DecodeEqualsQuantizerLibrary) {
  const Case &c = GetParam();
  // The weight as written in the IR (K x N), values in its element type.
  Matrix weight(c.k, c.n, c.dtype);
  Rng rng(c.k * 31 + c.n);
  for (float &v : weight.values)
    v = roundTo(c.dtype, static_cast<float>(rng.normal() * (rng.below(8) ? 1.0 : 4.0)));

  test::JitRunner runner(source(c, weight), pipeline(c));
  ASSERT_NE(runner.engine(), nullptr);
  std::vector<float> compiled = c.dtype == DType::F32
                                    ? runCompiled<float>(c, runner)
                                    : runCompiled<uint16_t>(c, runner);

  // The library on the packed orientation: N x K, one row per output.
  Matrix packed(c.n, c.k, c.dtype);
  for (size_t i = 0; i < c.k; ++i)
    for (size_t j = 0; j < c.n; ++j)
      packed.at(j, i) = weight.at(i, j);
  QuantizeOptions options;
  options.bpe = c.bpe;
  options.group = c.group;
  options.seed = 7;
  options.depths = c.depths;
  QuantizeResult expected = quantize(c.scheme, packed, options);
  const Matrix &r = expected.reconstruction;

  double scale = 0;
  for (float v : r.values)
    scale = std::max(scale, double(std::fabs(v)));
  for (size_t i = 0; i < c.k; ++i)
    for (size_t j = 0; j < c.n; ++j) {
      float want = roundTo(c.dtype, r.at(j, i));
      float got = compiled[i * c.n + j];
      if (c.scheme == "opq" || c.scheme == "lopq") // K-term fp32 dot
                                                   // products, other order
        ASSERT_NEAR(got, want, 4e-7 * double(c.k) * scale) << i << "," << j;
      else
        ASSERT_EQ(got, want) << "element (" << i << ", " << j << ")";
    }
}

INSTANTIATE_TEST_SUITE_P(
    Schemes, CompiledWeights,
    ::testing::Values(Case{"rtn", DType::F32, 100, 40, 4.5, 32},
                      Case{"rtn-sym", DType::F32, 50, 7, 3.5, 16},
                      Case{"rtn", DType::F16, 64, 24, 4.25, 128},
                      Case{"rtn", DType::BF16, 33, 9, 8.5, 16},
                      Case{"pq", DType::F32, 32, 256, 4.0, 128},
                      Case{"pq", DType::F16, 24, 200, 3.0, 128},
                      Case{"opq", DType::F32, 16, 512, 6.0, 128},
                      Case{"lopq", DType::F32, 16, 512, 6.0, 128},
                      Case{"lopq", DType::F16, 24, 300, 5.0, 128},
                      Case{"vptq", DType::F32, 96, 40, 3.0, 128},
                      Case{"vptq", DType::F16, 50, 37, 4.0, 128},
                      Case{"hera", DType::F32, 64, 256, 4.0, 128},
                      Case{"hera", DType::F16, 32, 96, 5.0, 128, {3}},
                      Case{"qet", DType::F32, 64, 256, 4.0, 128},
                      Case{"qet", DType::F32, 64, 256, 4.0, 128, {3, 1}},
                      Case{"qet", DType::BF16, 32, 300, 3.0, 128, {2, 0}}),
    [](const ::testing::TestParamInfo<Case> &info) {
      std::string name = info.param.scheme + "_" + typeName(info.param.dtype);
      for (unsigned d : info.param.depths)
        name += "_d" + std::to_string(d);
      for (char &ch : name)
        if (ch == '-')
          ch = '_';
      return name;
    });

} // namespace
