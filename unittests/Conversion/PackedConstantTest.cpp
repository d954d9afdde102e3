//===- PackedConstantTest.cpp - qet.constant from library streams --------===//
//
// The library's packed streams written as a qet.constant, decomposed,
// compiled and JIT-run must decode to the library's reconstruction bit for
// bit, and the fused product (qet.qmatmul through qet-cpu-pipeline) must
// match the fp64 product of that reconstruction within fp32 summation
// error. This reaches VPTQ configurations qet-quantize-weights does not
// produce (it has no calibration Hessian): the act-order column
// permutation, per-column normalization, outlier columns, residual
// codebooks, several column groups and vector lengths that do not divide
// the rows.
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"

#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/Vptq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

using namespace qet;
using namespace qet::quant;

namespace {

/// #qet.vq<...> from the library's stored parameters.
std::string vqAttribute(const PackedMatrix &packed) {
  auto p = [&](const char *key) {
    for (const auto &[name, value] : packed.params)
      if (name == key)
        return value;
    ADD_FAILURE() << "no parameter " << key;
    return int64_t{0};
  };
  auto flag = [](bool on) { return on ? "true" : "false"; };
  return "#qet.vq<vector = " + std::to_string(p("v")) +
         ", index_bits = " + std::to_string(p("b")) +
         ", residual_bits = " + std::to_string(p("b_r")) +
         ", groups = " + std::to_string(p("G")) +
         ", group_size = " + std::to_string(p("gs")) +
         ", outlier_columns = " + std::to_string(p("o")) +
         ", outlier_vector = " + std::to_string(p("v_o")) +
         ", outlier_bits = " + std::to_string(p("b_o")) +
         ", permuted = " + flag(p("flags") & 1) +
         ", normalized = " + flag((p("flags") & 2) != 0) + ">";
}

std::string source(const PackedMatrix &packed) {
  std::string shape = std::to_string(packed.rows) + "x" +
                      std::to_string(packed.cols) + "xf32";
  std::string type = "!qet.packed<" + shape + ", " + vqAttribute(packed) + ">";
  std::string components;
  for (const PackedStream &s : packed.streams)
    components += (components.empty() ? "" : ", ") + s.component +
                  " = dense<\"" + test::hexBytes(s.bytes) + "\"> : tensor<" +
                  std::to_string(s.bytes.size()) + "xi8>";
  return "func.func @run(%ym: memref<" + shape +
         ">) attributes {llvm.emit_c_interface} {\n"
         "  %p = qet.constant {" + components + "} : " + type + "\n"
         "  %d = qet.dequantize %p : " + type + " -> tensor<" + shape + ">\n"
         "  bufferization.materialize_in_destination %d in restrict writable "
         "%ym : (tensor<" + shape + ">, memref<" + shape + ">) -> ()\n"
         "  return\n}\n";
}

/// y = x W^T through qet.qmatmul (the fused kernel of convert-qet-to-scf).
std::string productSource(const PackedMatrix &packed, int64_t batch) {
  std::string k = std::to_string(packed.cols), n = std::to_string(packed.rows);
  std::string b = std::to_string(batch);
  std::string type = "!qet.packed<" + n + "x" + k + "xf32, " +
                     vqAttribute(packed) + ">";
  std::string components;
  for (const PackedStream &s : packed.streams)
    components += (components.empty() ? "" : ", ") + s.component +
                  " = dense<\"" + test::hexBytes(s.bytes) + "\"> : tensor<" +
                  std::to_string(s.bytes.size()) + "xi8>";
  std::string xt = "tensor<" + b + "x" + k + "xf32>", xm = "memref<" + b + "x" + k + "xf32>";
  std::string yt = "tensor<" + b + "x" + n + "xf32>", ym = "memref<" + b + "x" + n + "xf32>";
  return "func.func @run(%xm: " + xm + ", %ym: " + ym +
         ") attributes {llvm.emit_c_interface} {\n"
         "  %x = bufferization.to_tensor %xm restrict : " + xm + " to " + xt + "\n"
         "  %p = qet.constant {" + components + "} : " + type + "\n"
         "  %y = qet.qmatmul %x, %p : " + xt + ", " + type + " -> " + yt + "\n"
         "  bufferization.materialize_in_destination %y in restrict writable "
         "%ym : (" + yt + ", " + ym + ") -> ()\n"
         "  return\n}\n";
}

const char *kPipeline =
    "qet-decompose,canonicalize,convert-qet-to-linalg,qet-verify-lowered,"
    "one-shot-bufferize{bufferize-function-boundaries},"
    "convert-linalg-to-loops,expand-strided-metadata,lower-affine,"
    "convert-scf-to-cf,convert-to-llvm,reconcile-unrealized-casts";

struct VptqCase {
  const char *name;
  size_t rows, cols;
  unsigned v;
  uint64_t k, kr;
  double outlierPercent;
  unsigned groups;
  bool normalize, hessian;
};

void PrintTo(const VptqCase &c, std::ostream *os) { *os << c.name; }

class PackedVptq : public ::testing::TestWithParam<VptqCase> {};

QuantizeResult quantizeCase(const VptqCase &c) {
  Matrix w(c.rows, c.cols);
  Rng rng(c.rows * 131 + c.cols);
  for (float &x : w.values)
    x = static_cast<float>(rng.normal() * (rng.below(10) ? 1.0 : 5.0));
  QuantizeOptions options;
  options.vectorLength = c.v;
  options.centroids = c.k;
  options.residualCentroids = c.kr;
  options.outlierPercent = c.outlierPercent;
  options.outlierVectorLength = 2;
  options.outlierCentroids = 8;
  options.groups = c.groups;
  options.vptqNormalize = c.normalize;
  options.iterations = 5;
  options.seed = 3;
  if (c.hessian) {
    // Columns of very different scale: act order permutes them.
    Matrix acts(4 * c.cols, c.cols);
    for (size_t t = 0; t < acts.rows; ++t)
      for (size_t j = 0; j < c.cols; ++j)
        acts.at(t, j) = static_cast<float>(rng.normal() * (1.0 + double(j % 7)));
    options.hessian =
        std::make_shared<CalibrationHessian>(hessianFromActivations(acts));
  }
  return quantize("vptq", w, options);
}

TEST_P(PackedVptq, DecodeEqualsLibrary) {
  const VptqCase &c = GetParam();
  QuantizeResult r = quantizeCase(c);
  test::JitRunner runner(source(r.packed), kPipeline);
  ASSERT_NE(runner.engine(), nullptr);
  std::vector<float> decoded(c.rows * c.cols, -1.0f);
  auto out = test::describe(decoded, c.rows, c.cols);
  llvm::Error error = runner.engine()->invoke("run", &out);
  ASSERT_FALSE(error) << llvm::toString(std::move(error));
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < c.cols; ++j)
      ASSERT_EQ(decoded[i * c.cols + j], r.reconstruction.at(i, j))
          << "element (" << i << ", " << j << ")";
}

// The fused product (qet-cpu-pipeline{backend=scf}: codebook entries summed
// against the permuted, scaled input, never decoding W) agrees with the fp64
// product of the library's reconstruction within fp32 summation error.
TEST_P(PackedVptq, FusedProductMatchesReconstruction) {
  const VptqCase &c = GetParam();
  QuantizeResult r = quantizeCase(c);
  const int64_t batch = 3;
  test::JitRunner runner(productSource(r.packed, batch),
                         "qet-cpu-pipeline{backend=scf}");
  ASSERT_NE(runner.engine(), nullptr);
  Rng rng(c.cols + 7);
  std::vector<float> x(batch * c.cols), y(batch * c.rows, -1.0f);
  for (float &v : x)
    v = static_cast<float>(rng.normal());
  auto xd = test::describe(x, batch, c.cols);
  auto yd = test::describe(y, batch, c.rows);
  llvm::Error error = runner.engine()->invoke("run", &xd, &yd);
  ASSERT_FALSE(error) << llvm::toString(std::move(error));
  for (int64_t b = 0; b < batch; ++b)
    for (size_t n = 0; n < c.rows; ++n) {
      double want = 0, magnitude = 0;
      for (size_t k = 0; k < c.cols; ++k) {
        double term = double(x[b * c.cols + k]) * r.reconstruction.at(n, k);
        want += term;
        magnitude += std::fabs(term);
      }
      // Each term takes a few fp32 roundings (x s, C + Cr, the product; the
      // library rounds q s + b instead), and K of them are summed in fp32:
      // |error| <= (K + 8) u sum |terms|, u = 2^-24.
      double bound = (double(c.cols) + 8) * 0x1p-24 * magnitude + 1e-7;
      ASSERT_NEAR(y[b * c.rows + n], want, bound)
          << "batch " << b << ", output " << n;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, PackedVptq,
    ::testing::Values(
        // name, rows, cols, v, k, k_r, outlier %, groups, normalize, H
        VptqCase{"plain", 24, 32, 4, 16, 0, 0.0, 1, false, false},
        VptqCase{"ragged_rows", 23, 30, 3, 16, 0, 0.0, 1, false, false},
        VptqCase{"act_order", 20, 48, 4, 16, 0, 0.0, 1, false, true},
        VptqCase{"residual_groups", 17, 40, 5, 32, 8, 0.0, 2, false, true},
        VptqCase{"outliers_normalized", 21, 50, 4, 16, 4, 10.0, 2, true,
                 true}),
    [](const ::testing::TestParamInfo<VptqCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
