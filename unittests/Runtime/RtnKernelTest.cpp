//===- RtnKernelTest.cpp - RTN kernels: widths, groups, entry points ------===//
//
// qet_rtn_matvec_f32 / qet_rtn_matmul_f32 on the library's own streams for
// every code width 1..8, both forms and awkward groups, each kernel path
// against the fp64 product; the plain-pointer entry against the tensor
// path; a matrix large enough for several threads; the inline fp16
// conversion against the library's on all 65536 patterns.
//
//===----------------------------------------------------------------------===//

#include "ReferenceProducts.h"
#include "RuntimeTestSupport.h"

#include "Quantizer/TestSupport.h"

#include "SectionReader.h" // runtime/lib: the kernels' fp16 conversion

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Scheme.h"

#include <cstring>

using namespace qet;
using namespace qet::test;

namespace {

/// A quantized RTN matrix and its streams as the plain entry points take them.
struct RtnCase {
  quant::QuantizeResult result;
  quant::Matrix w;
  std::vector<uint8_t> codes;
  std::vector<uint16_t> scales, zeros;
  size_t rows, cols;
  unsigned bits, group;

  const uint16_t *zeroPointer() const {
    return zeros.empty() ? nullptr : zeros.data();
  }
};

std::vector<uint16_t> halves(const quant::PackedStream &s) {
  std::vector<uint16_t> out(s.count);
  std::memcpy(out.data(), s.bytes.data(), s.count * 2);
  return out;
}

RtnCase makeCase(size_t rows, size_t cols, unsigned bits, unsigned group,
                 bool symmetric, uint64_t seed) {
  RtnCase c;
  quant::QuantizeOptions options;
  options.bits = bits;
  options.group = group;
  c.result = quant::quantize(symmetric ? "rtn-sym" : "rtn",
                             gaussianMatrix(rows, cols, seed, 2.0), options);
  c.w = quant::dequantize(c.result.packed);
  // Exactly sized copies, so a read past a stream's end is an ASan error.
  c.codes = c.result.packed.stream("codes").bytes;
  c.scales = halves(c.result.packed.stream("scales"));
  if (!symmetric)
    c.zeros = halves(c.result.packed.stream("zero_points"));
  c.rows = rows;
  c.cols = cols;
  c.bits = bits;
  c.group = group;
  return c;
}

std::vector<float> plainProduct(const RtnCase &c, const std::vector<float> &x,
                                size_t batch) {
  std::vector<float> y(batch * c.rows, -1.0f);
  if (batch == 1)
    EXPECT_QET_OK(qet_rtn_matvec_f32(c.codes.data(), c.scales.data(),
                                     c.zeroPointer(), c.rows, c.cols, c.bits,
                                     c.group, x.data(), y.data()));
  else
    EXPECT_QET_OK(qet_rtn_matmul_f32(c.codes.data(), c.scales.data(),
                                     c.zeroPointer(), c.rows, c.cols, c.bits,
                                     c.group, batch, x.data(), y.data()));
  return y;
}

void expectWithinBound(const RtnCase &c, const std::vector<float> &x,
                       const std::vector<float> &y, size_t batch) {
  for (size_t b = 0; b < batch; ++b) {
    const float *xb = x.data() + b * c.cols;
    std::vector<double> exact = referenceProduct(c.w, xb);
    std::vector<double> tolerance = productTolerance(c.result.packed, c.w, xb);
    for (size_t i = 0; i < c.rows; ++i)
      ASSERT_NEAR(y[b * c.rows + i], exact[i], tolerance[i])
          << "item " << b << ", row " << i;
  }
}

TEST(RtnKernel, EveryWidthFormAndGroup) {
  KernelSettingsScope settings;
  const std::vector<qet_kernel> kernels = availableKernels();
  struct Shape {
    size_t rows, cols;
  };
  const Shape shapes[] = {{1, 1}, {2, 130}, {5, 257}, {9, 64}};
  uint64_t seed = 100;
  for (unsigned bits = 1; bits <= 8; ++bits)
    for (bool symmetric : {false, true})
      for (unsigned group : {1u, 3u, 8u, 100u, 128u, 129u})
        for (const Shape &shape : shapes) {
          SCOPED_TRACE(std::to_string(bits) + " bits, group " +
                       std::to_string(group) + (symmetric ? ", sym " : ", ") +
                       std::to_string(shape.rows) + "x" +
                       std::to_string(shape.cols));
          RtnCase c =
              makeCase(shape.rows, shape.cols, bits, group, symmetric, ++seed);
          std::vector<float> x = gaussianVector(3 * shape.cols, seed);
          for (qet_kernel kernel : kernels) {
            ASSERT_EQ(qet_set_kernel(kernel), QET_OK);
            expectWithinBound(c, x, plainProduct(c, x, 1), 1);
            expectWithinBound(c, x, plainProduct(c, x, 3), 3);
          }
        }
}

class RtnEntryTest : public ScratchDirTest {};

TEST_F(RtnEntryTest, PlainPointersEqualTheTensorPath) {
  KernelSettingsScope settings;
  for (bool symmetric : {false, true}) {
    RtnCase c = makeCase(23, 390, 4, 128, symmetric, 7);
    writeOne(file("w.qpk"), "w", c.result.packed);
    ContainerHandle container = openContainer(file("w.qpk"));
    TensorHandle tensor = lookupTensor(container.get(), "w");
    ASSERT_TRUE(tensor);
    std::vector<float> x = gaussianVector(8 * c.cols, 8);
    for (qet_kernel kernel : availableKernels()) {
      ASSERT_EQ(qet_set_kernel(kernel), QET_OK);
      std::vector<float> viaTensor(8 * c.rows);
      EXPECT_QET_OK(qet_tensor_matmul(tensor.get(), x.data(), 8, x.size(),
                                      viaTensor.data(), viaTensor.size()));
      EXPECT_EQ(plainProduct(c, x, 8), viaTensor);
    }
  }
}

TEST(RtnKernel, ManyRowsSplitOverThreads) {
  KernelSettingsScope settings;
  // 300 rows of 2048: the kernel gives each thread >= 128 rows, so two
  // threads really split the rows.
  RtnCase c = makeCase(300, 2048, 4, 128, false, 9);
  std::vector<float> x = gaussianVector(2 * c.cols, 10);
  for (qet_kernel kernel : availableKernels()) {
    ASSERT_EQ(qet_set_kernel(kernel), QET_OK);
    ASSERT_EQ(qet_set_threads(1), QET_OK);
    std::vector<float> one = plainProduct(c, x, 2);
    ASSERT_EQ(qet_set_threads(2), QET_OK);
    std::vector<float> two = plainProduct(c, x, 2);
    EXPECT_EQ(one, two);
    expectWithinBound(c, x, two, 2);
  }
}

TEST(RtnKernel, PortableAndAvx2AgreeToRounding) {
  KernelSettingsScope settings;
  if (availableKernels().size() < 2)
    GTEST_SKIP() << "this CPU has no AVX2+FMA+F16C";
  RtnCase c = makeCase(64, 1000, 3, 128, true, 11);
  std::vector<float> x = gaussianVector(c.cols, 12);
  ASSERT_EQ(qet_set_kernel(QET_KERNEL_PORTABLE), QET_OK);
  std::vector<float> portable = plainProduct(c, x, 1);
  ASSERT_EQ(qet_set_kernel(QET_KERNEL_AVX2), QET_OK);
  std::vector<float> avx2 = plainProduct(c, x, 1);
  std::vector<double> tolerance =
      productTolerance(c.result.packed, c.w, x.data());
  for (size_t i = 0; i < c.rows; ++i)
    EXPECT_NEAR(portable[i], avx2[i], tolerance[i]) << "row " << i;
}

TEST(RtnKernel, HalfConversionMatchesTheLibrary) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float mine = runtime::halfToFloat(static_cast<uint16_t>(h));
    float library = quant::halfBitsToFloat(static_cast<uint16_t>(h));
    ASSERT_EQ(bitsOf(mine), bitsOf(library)) << "pattern " << h;
  }
}

} // namespace
