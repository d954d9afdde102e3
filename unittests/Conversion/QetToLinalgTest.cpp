//===- QetToLinalgTest.cpp - Compiled RTN ops vs the quantizer library ----===//
//
// JIT-compiles qet.group_encode / qet.group_decode through
// convert-qet-to-linalg and the CPU pipeline, runs them on random matrices of
// awkward shapes, and requires bit-identical codes, fp16 scales, zero points
// and reconstructions compared with qet::quant::rtnEncode / rtnDecode.
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"

#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Rtn.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace qet;
using namespace qet::quant;

namespace {

const char *kPipeline =
    "convert-qet-to-linalg,"
    "one-shot-bufferize{bufferize-function-boundaries},"
    "convert-linalg-to-loops,expand-strided-metadata,lower-affine,"
    "convert-scf-to-cf,convert-to-llvm,reconcile-unrealized-casts";

std::string rtnRoundTripSource(const RtnConfig &config) {
  std::string attr = "#qet.rtn<bits = " + std::to_string(config.bits) +
                     ", group = " + std::to_string(config.group) +
                     ", symmetric = " + (config.symmetric ? "true" : "false") +
                     ">";
  std::string zeroType = config.symmetric ? "" : ", tensor<?x?xf16>";
  std::string zeroResult = config.symmetric ? "" : ", %z";
  std::string zeroStore =
      config.symmetric
          ? ""
          : "  bufferization.materialize_in_destination %z in restrict "
            "writable %zeros : (tensor<?x?xf16>, memref<?x?xf16>) -> ()\n";
  return "func.func @roundtrip(%w: memref<?x?xf32>, %codes: memref<?x?xi8>, "
         "%scales: memref<?x?xf16>, %zeros: memref<?x?xf16>, "
         "%out: memref<?x?xf32>) attributes {llvm.emit_c_interface} {\n"
         "  %t = bufferization.to_tensor %w restrict : memref<?x?xf32> to "
         "tensor<?x?xf32>\n"
         "  %c, %s" + zeroResult + " = qet.group_encode " + attr +
         " %t : tensor<?x?xf32> -> tensor<?x?xi8>, tensor<?x?xf16>" +
         zeroType + "\n"
         "  %r = qet.group_decode " + attr + " %c, %s" + zeroResult +
         " : tensor<?x?xi8>, tensor<?x?xf16>" + zeroType +
         " -> tensor<?x?xf32>\n"
         "  bufferization.materialize_in_destination %c in restrict writable "
         "%codes : (tensor<?x?xi8>, memref<?x?xi8>) -> ()\n"
         "  bufferization.materialize_in_destination %s in restrict writable "
         "%scales : (tensor<?x?xf16>, memref<?x?xf16>) -> ()\n" +
         zeroStore +
         "  bufferization.materialize_in_destination %r in restrict writable "
         "%out : (tensor<?x?xf32>, memref<?x?xf32>) -> ()\n"
         "  return\n}\n";
}

Matrix randomMatrix(size_t rows, size_t cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (float &v : m.values) // mixed scales, some exact ties and constants
    v = static_cast<float>(rng.normal() * (rng.below(4) == 0 ? 3.0 : 0.02));
  if (cols > 3)
    for (size_t c = 0; c < 3; ++c)
      m.at(0, c) = 0.25f; // a constant run
  return m;
}

class CompiledRtn : public ::testing::TestWithParam<RtnConfig> {};

TEST_P(CompiledRtn, MatchesQuantizerLibraryBitForBit) {
  RtnConfig config = GetParam();
  test::JitRunner runner(rtnRoundTripSource(config), kPipeline);
  ASSERT_NE(runner.engine(), nullptr);

  const std::pair<size_t, size_t> shapes[] = {{1, 1}, {3, 7}, {17, 300}, {64, 129}};
  for (auto [rows, cols] : shapes) {
    Matrix input = randomMatrix(rows, cols, rows * 1000 + cols + config.bits);
    size_t groups = (cols + config.group - 1) / config.group;
    std::vector<int8_t> codes(rows * cols, 0);
    std::vector<uint16_t> scales(rows * groups, 0), zeros(rows * groups, 0);
    std::vector<float> out(rows * cols, 0.0f);
    auto inDesc = test::describe(input.values, rows, cols);
    auto codesDesc = test::describe(codes, rows, cols);
    auto scalesDesc = test::describe(scales, rows, groups);
    auto zerosDesc = test::describe(zeros, rows, groups);
    auto outDesc = test::describe(out, rows, cols);
    llvm::Error error = runner.engine()->invoke(
        "roundtrip", &inDesc, &codesDesc, &scalesDesc, &zerosDesc, &outDesc);
    ASSERT_FALSE(error) << llvm::toString(std::move(error));

    RtnEncoded expected = rtnEncode(input, config);
    Matrix decoded = rtnDecode(expected);
    for (size_t i = 0; i < rows * cols; ++i) {
      ASSERT_EQ(int32_t(config.symmetric ? codes[i] : uint8_t(codes[i])),
                expected.codes[i])
          << rows << "x" << cols << " element " << i;
      ASSERT_EQ(out[i], decoded.values[i]) << rows << "x" << cols << " element " << i;
    }
    for (size_t g = 0; g < rows * groups; ++g) {
      ASSERT_EQ(scales[g], floatToHalfBits(expected.scales[g])) << "group " << g;
      if (!config.symmetric)
        ASSERT_EQ(zeros[g], floatToHalfBits(expected.zeroPoints[g])) << "group " << g;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, CompiledRtn,
    ::testing::Values(RtnConfig{1, 5, false}, RtnConfig{2, 4, false},
                      RtnConfig{4, 128, false}, RtnConfig{8, 32, false},
                      RtnConfig{2, 4, true}, RtnConfig{3, 7, true},
                      RtnConfig{4, 128, true}, RtnConfig{8, 1, true}),
    [](const ::testing::TestParamInfo<RtnConfig> &info) {
      return std::string(info.param.symmetric ? "sym" : "asym") + "_b" +
             std::to_string(info.param.bits) + "_g" +
             std::to_string(info.param.group);
    });

} // namespace
