//===- SchemeKernelsTest.cpp - Every scheme through the C API -------------===//
//
// For every scheme on several shapes (awkward ones included: rows or cols
// off the group / subspace / vector length, one row, tiny), quantize with
// the library, write a container, open it through the C API and check:
// dequantize equals the library's dequantize() bit for bit; matvec and
// matmul (batch 1, 3, 8) match the fp64 product of the reconstruction
// within ReferenceProducts.h's bound, a batch row equals the matvec of that
// row bit for bit, every kernel path (portable, AVX2) meets the bound, and
// the thread count changes no bit.
//
//===----------------------------------------------------------------------===//

#include "ReferenceProducts.h"
#include "RuntimeTestSupport.h"

#include "Quantizer/TestSupport.h"

#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/Vptq.h"

#include <cctype>
#include <cstring>
#include <memory>
#include <set>

using namespace qet;
using namespace qet::test;

namespace {

struct SchemeCase {
  std::string scheme;
  size_t rows, cols;
  quant::QuantizeOptions options;
  quant::DType storage = quant::DType::F32;
};

std::string label(const SchemeCase &c) {
  return c.scheme + " " + std::to_string(c.rows) + "x" +
         std::to_string(c.cols) + " " + quant::dtypeName(c.storage);
}

quant::QuantizeOptions rtnOptions(unsigned bits, unsigned group) {
  quant::QuantizeOptions o;
  o.bits = bits;
  o.group = group;
  return o;
}

/// PQ-family options on an n x d matrix with M subspaces: room in the budget
/// for the codebooks (Ks * d * 32 bits) and, with `rotations`, d x d floats
/// per cluster.
quant::QuantizeOptions pqOptions(size_t n, size_t d, unsigned m,
                                 double rotations = 0) {
  quant::QuantizeOptions o;
  o.subspaces = m;
  o.iterations = 6;
  o.opqRounds = 2;
  o.threads = 2;
  o.bpe = 4 + 96.0 / n + rotations * 32.0 * d / n;
  return o;
}

quant::QuantizeOptions qetOptions(size_t n, size_t d, unsigned m,
                                  std::vector<unsigned> depths,
                                  std::vector<double> split,
                                  std::vector<unsigned> codebookBits) {
  quant::QuantizeOptions o = pqOptions(n, d, m);
  o.bpe = 6 + 3 * 96.0 / n;
  o.depths = std::move(depths);
  o.split = std::move(split);
  o.codebookBits = std::move(codebookBits);
  return o;
}

quant::QuantizeOptions vptqOptions(unsigned v, uint64_t k) {
  quant::QuantizeOptions o;
  o.vectorLength = v;
  o.centroids = k;
  o.iterations = 4;
  o.threads = 2;
  return o;
}

quant::QuantizeOptions qjlOptions(unsigned m, unsigned outliers,
                                  unsigned outlierSketch, unsigned g,
                                  const char *kind) {
  quant::QuantizeOptions o;
  o.sketch = m;
  o.outliers = outliers;
  o.outlierSketch = outlierSketch;
  o.groupTokens = g;
  o.jlMatrix = kind;
  return o;
}

std::vector<SchemeCase> schemeCases() {
  using quant::DType;
  std::vector<SchemeCase> cases = {
      // rtn / rtn-sym: groups cut rows unevenly, rows start mid-byte.
      {"rtn", 1, 130, rtnOptions(4, 128)},
      {"rtn", 37, 300, rtnOptions(3, 128)},
      {"rtn", 5, 64, rtnOptions(8, 7)},
      {"rtn", 3, 9, rtnOptions(1, 4)},
      {"rtn-sym", 16, 257, rtnOptions(4, 128)},
      {"rtn-sym", 7, 33, rtnOptions(5, 10)},
      {"rtn-sym", 1, 1, rtnOptions(2, 128)},
      // PQ family: odd sub-vector widths, one row (Ks = 1: 0-bit codes).
      {"pq", 1, 8, pqOptions(1, 8, 2)},
      {"pq", 37, 12, pqOptions(37, 12, 3)},
      {"pq", 130, 40, pqOptions(130, 40, 5), DType::F16},
      {"pq", 64, 16, pqOptions(64, 16, 4), DType::BF16},
      {"opq", 19, 6, pqOptions(19, 6, 3, 1)},
      {"opq", 64, 16, pqOptions(64, 16, 4, 1), DType::F16},
      {"opq", 300, 24, pqOptions(300, 24, 6, 1)},
      {"lopq", 37, 12, pqOptions(37, 12, 3, 2)},
      {"lopq", 130, 16, pqOptions(130, 16, 4, 2), DType::BF16},
      // hera / qet: gather stages (depth > 0), table stages, CQO levels.
      {"hera", 1, 8, qetOptions(1, 8, 2, {2}, {}, {})},
      {"hera", 37, 12, qetOptions(37, 12, 3, {2}, {}, {})},
      {"hera", 64, 16, qetOptions(64, 16, 4, {3}, {}, {}), DType::F16},
      {"qet", 37, 12, qetOptions(37, 12, 3, {2, 0}, {0.7, 0.3}, {10, 10})},
      {"qet", 130, 40,
       qetOptions(130, 40, 5, {3, 1, 0}, {0.5, 0.3, 0.2}, {10, 0, 8})},
      {"qet", 64, 16, qetOptions(64, 16, 4, {1, 0}, {0.6, 0.4}, {0, 6}),
       DType::F16},
      // vptq: rows off the vector length, outliers, groups, residuals.
      {"vptq", 37, 24, vptqOptions(8, 16)},
      {"vptq", 1, 16, vptqOptions(4, 4)},
      {"vptq", 64, 40, vptqOptions(4, 32)},
      {"vptq", 50, 48, vptqOptions(6, 16)},
      // qjl: partial token groups, outliers, both JL kinds.
      {"qjl", 1, 8, qjlOptions(8, 0, 0, 32, "orthogonal")},
      {"qjl", 37, 64, qjlOptions(40, 3, 16, 8, "orthogonal")},
      {"qjl", 100, 128, qjlOptions(256, 0, 0, 32, "gaussian")},
      {"qjl", 33, 96, qjlOptions(160, 8, 160, 32, "gaussian")},
  };
  // vptq 64x40: 10% outlier columns (v_o 2), 2 groups, residual codebook.
  cases[24].options.outlierPercent = 10;
  cases[24].options.outlierVectorLength = 2;
  cases[24].options.outlierCentroids = 8;
  cases[24].options.groups = 2;
  cases[24].options.residualCentroids = 4;
  // vptq 50x48: a Hessian (act-order permutation stored) and normalization.
  cases[25].options.vptqNormalize = true;
  cases[25].options.hessian = std::make_shared<quant::CalibrationHessian>(
      quant::hessianFromActivations(gaussianMatrix(96, 48, 77, 1.0)));
  return cases;
}

/// Storage features a case exercises, so the list above provably covers
/// them (a change of the library's defaults must not silently drop one).
std::set<std::string> featuresOf(const quant::PackedMatrix &packed) {
  std::set<std::string> features;
  auto has = [&](const std::string &name) {
    for (const quant::PackedStream &s : packed.streams)
      if (s.component == name)
        return true;
    return false;
  };
  for (const quant::PackedStream &s : packed.streams) {
    if (s.component.find("codes") != std::string::npos && s.bitsEach == 0)
      features.insert("0-bit codes");
    if (s.component.find("swap_bits") != std::string::npos)
      features.insert("swap tree");
    if (s.component.find("codebook_levels") != std::string::npos)
      features.insert("codebook levels");
    if (s.component.rfind("c1.", 0) == 0)
      features.insert("second lopq cluster");
  }
  for (const char *name : {"perm", "scale", "Cr", "C_o", "outlier_ids"})
    if (has(name))
      features.insert(packed.scheme + " " + name);
  return features;
}

const std::vector<SchemeCase> &allCases() {
  static const std::vector<SchemeCase> cases = schemeCases();
  return cases;
}

/// The input of case `index` (its seed is the index, so each case runs alone).
quant::QuantizeResult quantizeCase(size_t index) {
  const SchemeCase &c = allCases()[index];
  quant::Matrix input =
      gaussianMatrix(c.rows, c.cols, index + 2, 1.0, c.storage);
  return quant::quantize(c.scheme, input, c.options);
}

class SchemeKernelsTest : public ScratchDirTest,
                          public ::testing::WithParamInterface<size_t> {};

/// matmul of `batch` rows of X with `kernel`: Y (batch x rows).
std::vector<float> multiply(const qet_tensor *t, const std::vector<float> &x,
                            size_t batch, size_t rows) {
  std::vector<float> y(batch * rows, -1.0f);
  EXPECT_QET_OK(qet_tensor_matmul(t, x.data(), int64_t(batch), x.size(),
                                  y.data(), y.size()));
  return y;
}

void expectWithinBound(const quant::QuantizeResult &result,
                       const quant::Matrix &w, const float *x, const float *y,
                       const std::string &what) {
  std::vector<double> exact = referenceProduct(w, x);
  std::vector<double> tolerance = productTolerance(result.packed, w, x);
  for (size_t i = 0; i < w.rows; ++i)
    ASSERT_NEAR(y[i], exact[i], tolerance[i]) << what << ", row " << i;
}

TEST_P(SchemeKernelsTest, MatchesTheLibrary) {
  KernelSettingsScope settings;
  const std::vector<qet_kernel> kernels = availableKernels();
  const SchemeCase &c = allCases()[GetParam()];
  quant::QuantizeResult result = quantizeCase(GetParam());
  const quant::Matrix w = quant::dequantize(result.packed);
  const std::string path = file("case.qpk");
  writeOne(path, "layer.weight", result.packed);

  ContainerHandle container = openContainer(path);
  ASSERT_TRUE(container);
  TensorHandle tensor = lookupTensor(container.get(), "layer.weight");
  ASSERT_TRUE(tensor);
  qet_tensor_info info;
  EXPECT_QET_OK(qet_tensor_get_info(tensor.get(), &info));
  EXPECT_STREQ(info.scheme, c.scheme.c_str());
  EXPECT_EQ(info.rows, int64_t(c.rows));
  EXPECT_EQ(info.cols, int64_t(c.cols));

  std::vector<float> x = gaussianVector(8 * c.cols, GetParam() * 31 + 7);
  for (qet_kernel kernel : kernels) {
    SCOPED_TRACE(kernel == QET_KERNEL_AVX2 ? "avx2" : "portable");
    ASSERT_EQ(qet_set_kernel(kernel), QET_OK);
    // Dequantize: bit for bit, on every path.
    std::vector<float> dense(c.rows * c.cols);
    EXPECT_QET_OK(
        qet_tensor_dequantize(tensor.get(), dense.data(), dense.size()));
    for (size_t i = 0; i < dense.size(); ++i)
      ASSERT_EQ(bitsOf(dense[i]), bitsOf(w.values[i]))
          << "element " << i << ": " << dense[i] << " vs " << w.values[i];
    std::vector<float> y(c.rows);
    EXPECT_QET_OK(
        qet_tensor_matvec(tensor.get(), x.data(), c.cols, y.data(), y.size()));
    expectWithinBound(result, w, x.data(), y.data(), "matvec");
    for (size_t batch : {1, 3, 8}) {
      std::vector<float> xb(x.begin(), x.begin() + batch * c.cols);
      std::vector<float> yb = multiply(tensor.get(), xb, batch, c.rows);
      for (size_t b = 0; b < batch; ++b)
        expectWithinBound(
            result, w, xb.data() + b * c.cols, yb.data() + b * c.rows,
            "batch " + std::to_string(batch) + " item " + std::to_string(b));
      // Batching shares the decoding only: each item is its own matvec.
      std::vector<float> last(c.rows);
      const size_t item = batch - 1;
      EXPECT_QET_OK(qet_tensor_matvec(tensor.get(), xb.data() + item * c.cols,
                                      c.cols, last.data(), last.size()));
      EXPECT_EQ(std::memcmp(last.data(), yb.data() + item * c.rows,
                            c.rows * sizeof(float)),
                0)
          << "batch " << batch;
    }
    // Rows are independent: one thread or two give the same bits.
    ASSERT_EQ(qet_set_threads(1), QET_OK);
    std::vector<float> one = multiply(tensor.get(), x, 8, c.rows);
    ASSERT_EQ(qet_set_threads(2), QET_OK);
    std::vector<float> two = multiply(tensor.get(), x, 8, c.rows);
    ASSERT_EQ(qet_set_threads(0), QET_OK);
    EXPECT_EQ(one, two);
  }
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, SchemeKernelsTest,
                         ::testing::Range<size_t>(0, allCases().size()),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           std::string name = label(allCases()[info.param]);
                           for (char &ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return name;
                         });

TEST(SchemeKernelsCoverage, CasesCoverEveryStorageFeature) {
  std::set<std::string> covered;
  for (size_t i = 0; i < allCases().size(); ++i) {
    std::set<std::string> features = featuresOf(quantizeCase(i).packed);
    covered.insert(features.begin(), features.end());
  }
  for (const char *feature :
       {"0-bit codes", "swap tree", "codebook levels", "second lopq cluster",
        "vptq perm", "vptq scale", "vptq Cr", "vptq C_o", "qjl outlier_ids"})
    EXPECT_TRUE(covered.count(feature)) << "no case has " << feature;
}

} // namespace
