//===- ContainerIOTest.cpp - Every scheme through a .qpk container --------===//

#include "qet/Quantizer/ContainerIO.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SyntheticData.h"

#include <gtest/gtest.h>

#include <unistd.h>

using namespace qet;
using namespace qet::quant;

namespace {

// Every registered scheme is written, read back and decoded; the decoded
// matrix must equal the in-memory reconstruction bit for bit. fp16 input
// keeps OPQ/LOPQ rotations affordable (d * 16 bits per row each).
TEST(ContainerIO, EverySchemeRoundTripsBitIdentically) {
  Matrix input = makeSynthetic(Family::Laplace, 512, 16, 4);
  input.storage = DType::F16;
  for (float &v : input.values)
    v = roundToHalf(v);
  QuantizeOptions options;
  options.bpe = 6.0;
  options.threads = 1;

  std::vector<QuantizeResult> results;
  for (const std::string &scheme : schemeNames())
    results.push_back(quantize(scheme, input, options));
  std::vector<std::pair<std::string, const PackedMatrix *>> named;
  for (const QuantizeResult &r : results)
    named.emplace_back("m." + r.scheme, &r.packed);

  std::string path = ::testing::TempDir() + "qet-all-schemes.qpk";
  ::unlink(path.c_str());
  writePackedMatrices(path, named, false);
  runtime::Container container = runtime::Container::open(path);
  container.verify();
  ASSERT_EQ(container.tensors().size(), results.size());
  for (const QuantizeResult &r : results) {
    PackedMatrix back = readPackedMatrix(container, "m." + r.scheme);
    EXPECT_EQ(back.scheme, r.packed.scheme);
    EXPECT_EQ(back.params, r.packed.params);
    EXPECT_EQ(back.payloadBits(), r.packed.payloadBits());
    Matrix decoded = dequantize(back);
    ASSERT_EQ(decoded.values.size(), r.reconstruction.values.size()) << r.scheme;
    EXPECT_EQ(decoded.values, r.reconstruction.values) << r.scheme;
  }
}

TEST(ContainerIO, UnknownSchemeIsAClearError) {
  PackedMatrix packed;
  packed.scheme = "zip";
  packed.rows = packed.cols = 1;
  try {
    dequantize(packed);
    FAIL() << "expected FormatError";
  } catch (const FormatError &e) {
    EXPECT_NE(std::string(e.what()).find("unknown scheme 'zip'"),
              std::string::npos);
  }
}

} // namespace
