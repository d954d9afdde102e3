//===- CApiSmokeTest.cpp - Drives the C11 caller in CApiSmoke.c -----------===//

#include "RuntimeTestSupport.h"

#include "Quantizer/TestSupport.h"

#include "qet/Quantizer/Scheme.h"

extern "C" int qetSmokeMatvec(const char *path, const char *name,
                              const float *x, size_t x_count, float *y,
                              size_t y_count, char *message,
                              size_t message_size);

using namespace qet;
using namespace qet::test;

namespace {

class CApiSmokeTest : public ScratchDirTest {};

TEST_F(CApiSmokeTest, MatvecFromC) {
  quant::QuantizeOptions options;
  options.bits = 4;
  quant::QuantizeResult r =
      quant::quantize("rtn", gaussianMatrix(12, 300, 1, 1.0), options);
  writeOne(file("c.qpk"), "blk.0.ffn", r.packed);
  std::vector<float> x = gaussianVector(300, 2), fromC(12), fromCpp(12);
  char message[256];
  ASSERT_EQ(qetSmokeMatvec(file("c.qpk").c_str(), "blk.0.ffn", x.data(),
                           x.size(), fromC.data(), fromC.size(), message,
                           sizeof message),
            0)
      << message;
  ContainerHandle c = openContainer(file("c.qpk"));
  TensorHandle t = lookupTensor(c.get(), "blk.0.ffn");
  EXPECT_QET_OK(
      qet_tensor_matvec(t.get(), x.data(), x.size(), fromCpp.data(), 12));
  EXPECT_EQ(fromC, fromCpp);
  // A wrong path fails inside C with the message passed back.
  EXPECT_NE(qetSmokeMatvec(file("none.qpk").c_str(), "blk.0.ffn", x.data(),
                           x.size(), fromC.data(), fromC.size(), message,
                           sizeof message),
            0);
  EXPECT_NE(std::string(message).find("cannot open"), std::string::npos)
      << message;
}

} // namespace
