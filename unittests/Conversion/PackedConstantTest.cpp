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
// the rows; and HERA/QET configurations it does not pick by itself: deep
// swap trees in several stages, float and grid codebooks mixed, fp16/bf16
// storage, rows whose halves are not a multiple of the vector length.
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"
#include "PackedSources.h"

#include "qet/Quantizer/Qet.h"
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
  std::string shape =
      std::to_string(packed.rows) + "x" + std::to_string(packed.cols) + "xf32";
  std::string type = test::packedType(packed, vqAttribute(packed));
  return "func.func @run(%ym: memref<" + shape +
         ">) attributes {llvm.emit_c_interface} {\n"
         "  %p = " +
         test::packedConstant(packed, type) +
         "\n"
         "  %d = qet.dequantize %p : " +
         type + " -> tensor<" + shape +
         ">\n"
         "  bufferization.materialize_in_destination %d in restrict writable "
         "%ym : (tensor<" +
         shape + ">, memref<" + shape +
         ">) -> ()\n"
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
        acts.at(t, j) =
            static_cast<float>(rng.normal() * (1.0 + double(j % 7)));
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

/// Runs the fused product of `r` (qet-cpu-pipeline{backend=scf}, never
/// decoding W) on `batch` random inputs and checks it against the fp64
/// product of the library's reconstruction: each term takes a few fp32
/// roundings (VPTQ: x s, C + Cr, the product, where the library rounds
/// q s + b; QET: the product only, its decoded rows are the library's), and
/// K of them are summed in fp32: |error| <= (K + 8) u sum |terms|,
/// u = 2^-24.
void expectFusedProduct(const QuantizeResult &r, const std::string &attribute,
                        int64_t batch) {
  SCOPED_TRACE(attribute);
  const size_t rows = r.packed.rows, cols = r.packed.cols;
  test::JitRunner runner(test::productSource(r.packed, attribute, batch),
                         "qet-cpu-pipeline{backend=scf}");
  ASSERT_NE(runner.engine(), nullptr);
  Rng rng(cols + 7);
  std::vector<float> x(batch * cols), y(batch * rows, -1.0f);
  for (float &v : x)
    v = static_cast<float>(rng.normal());
  auto xd = test::describe(x, batch, cols);
  auto yd = test::describe(y, batch, rows);
  llvm::Error error = runner.engine()->invoke("run", &xd, &yd);
  ASSERT_FALSE(error) << llvm::toString(std::move(error));
  for (int64_t b = 0; b < batch; ++b)
    for (size_t n = 0; n < rows; ++n) {
      double want = 0, magnitude = 0;
      for (size_t k = 0; k < cols; ++k) {
        double term = double(x[b * cols + k]) * r.reconstruction.at(n, k);
        want += term;
        magnitude += std::fabs(term);
      }
      double bound = (double(cols) + 8) * 0x1p-24 * magnitude + 1e-7;
      ASSERT_NEAR(y[b * rows + n], want, bound)
          << "batch " << b << ", output " << n;
    }
}

// The fused product (codebook entries summed against the permuted, scaled
// input) agrees with the fp64 product of the library's reconstruction.
TEST_P(PackedVptq, FusedProductMatchesReconstruction) {
  const VptqCase &c = GetParam();
  QuantizeResult r = quantizeCase(c);
  expectFusedProduct(r, vqAttribute(r.packed), 3);
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, PackedVptq,
    ::testing::Values(
        // name, rows, cols, v, k, k_r, outlier %, groups, normalize, H
        VptqCase{"plain", 24, 32, 4, 16, 0, 0.0, 1, false, false},
        VptqCase{"ragged_rows", 23, 30, 3, 16, 0, 0.0, 1, false, false},
        VptqCase{"act_order", 20, 48, 4, 16, 0, 0.0, 1, false, true},
        VptqCase{"residual_groups", 17, 40, 5, 32, 8, 0.0, 2, false, true},
        VptqCase{"outliers_normalized", 21, 50, 4, 16, 4, 10.0, 2, true, true}),
    [](const ::testing::TestParamInfo<VptqCase> &info) {
      return std::string(info.param.name);
    });

/// #qet.hera<...> or #qet.qet<...> from the library's stored parameters.
std::string qetAttribute(const PackedMatrix &packed) {
  auto p = [&](const std::string &key) {
    auto it = packed.params.find(key);
    if (it == packed.params.end()) {
      ADD_FAILURE() << "no parameter " << key;
      return int64_t{0};
    }
    return it->second;
  };
  std::string m = std::to_string(p("M"));
  if (packed.scheme == "hera")
    return "#qet.hera<subspaces = " + m +
           ", centroids = " + std::to_string(p("Ks")) +
           ", depth = " + std::to_string(p("depth")) + ">";
  std::string depths, centroids, bits;
  for (int64_t s = 0; s < p("stages"); ++s) {
    std::string prefix = qetStagePrefix(static_cast<size_t>(s));
    std::string sep = s ? ", " : "";
    depths += sep + std::to_string(p(prefix + "depth"));
    centroids += sep + std::to_string(p(prefix + "Ks"));
    bits += sep + std::to_string(p(prefix + "codebook_bits"));
  }
  return "#qet.qet<subspaces = " + m + ", depths = [" + depths +
         "], centroids = [" + centroids + "], codebook_bits = [" + bits + "]>";
}

struct QetCase {
  const char *name;
  const char *scheme;
  size_t rows, cols;
  unsigned subspaces;
  std::vector<unsigned> depths, codebookBits;
  DType storage;
};

void PrintTo(const QetCase &c, std::ostream *os) { *os << c.name; }

class PackedQet : public ::testing::TestWithParam<QetCase> {};

// HERA/QET products (each row's codewords unswapped by its tree, stages
// summed, then dotted with every input) against the library.
TEST_P(PackedQet, FusedProductMatchesReconstruction) {
  const QetCase &c = GetParam();
  Matrix w(c.rows, c.cols, c.storage);
  Rng rng(c.rows * 131 + c.cols);
  for (float &x : w.values)
    x = static_cast<float>(rng.normal() * (rng.below(10) ? 1.0 : 5.0));
  QuantizeOptions options;
  options.bpe = 8;
  options.subspaces = c.subspaces;
  options.depths = c.depths;
  options.codebookBits = c.codebookBits;
  options.iterations = 5;
  options.seed = 3;
  QuantizeResult r = quantize(c.scheme, w, options);
  expectFusedProduct(r, qetAttribute(r.packed), 3);
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, PackedQet,
    ::testing::Values(
        // name, scheme, rows, cols, M, depths, codebook bits, storage
        // No tree: plain PQ through the same row loop.
        QetCase{"hera_no_tree", "hera", 20, 32, 4, {0}, {}, DType::F32},
        // Halves of 32, 16, 8: one byte of swap bits per 8 pairs.
        QetCase{"hera_depth3", "hera", 40, 64, 8, {3}, {}, DType::F32},
        // K = 100: halves of 50 and 25 (2 and 1 lanes, unaligned bits),
        // subspaces of 20, a 4-element tail in the product.
        QetCase{"hera_ragged_f16", "hera", 23, 100, 5, {2}, {}, DType::F16},
        // Two swapped stages with grid codebooks.
        QetCase{
            "qet_two_trees", "qet", 30, 96, 12, {3, 2}, {10, 6}, DType::BF16},
        // A float-codebook stage without a tree first, then two trees.
        QetCase{"qet_three_stages",
                "qet",
                33,
                48,
                6,
                {0, 3, 1},
                {0, 8, 10},
                DType::BF16},
        // Default QET shape: a deep first stage, a flat residual one.
        QetCase{"qet_residual_flat",
                "qet",
                20,
                120,
                15,
                {3, 0},
                {10, 10},
                DType::F32}),
    [](const ::testing::TestParamInfo<QetCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
