//===- PackedSources.cpp - MLIR text around library-packed weights --------===//

#include "PackedSources.h"

#include "JitRunner.h"

#include "qet/Quantizer/Matrix.h"

using namespace qet;

std::string test::packedType(const quant::PackedMatrix &packed,
                             const std::string &attribute) {
  return "!qet.packed<" + std::to_string(packed.rows) + "x" +
         std::to_string(packed.cols) + "x" + quant::dtypeName(packed.storage) +
         ", " + attribute + ">";
}

std::string test::packedConstant(const quant::PackedMatrix &packed,
                                 const std::string &type) {
  std::string components;
  for (const quant::PackedStream &s : packed.streams)
    components += (components.empty() ? "" : ", ") + s.component +
                  " = dense<\"" + hexBytes(s.bytes) + "\"> : tensor<" +
                  std::to_string(s.bytes.size()) + "xi8>";
  return "qet.constant {" + components + "} : " + type;
}

std::string test::productSource(const quant::PackedMatrix &packed,
                                const std::string &attribute, int64_t batch) {
  std::string k = std::to_string(packed.cols), n = std::to_string(packed.rows);
  std::string b = std::to_string(batch);
  std::string type = packedType(packed, attribute);
  std::string xt = "tensor<" + b + "x" + k + "xf32>",
              xm = "memref<" + b + "x" + k + "xf32>";
  std::string yt = "tensor<" + b + "x" + n + "xf32>",
              ym = "memref<" + b + "x" + n + "xf32>";
  return "func.func @run(%xm: " + xm + ", %ym: " + ym +
         ") attributes {llvm.emit_c_interface} {\n"
         "  %x = bufferization.to_tensor %xm restrict : " +
         xm + " to " + xt + "\n  %p = " + packedConstant(packed, type) +
         "\n  %y = qet.qmatmul %x, %p : " + xt + ", " + type + " -> " + yt +
         "\n  bufferization.materialize_in_destination %y in restrict "
         "writable %ym : (" +
         yt + ", " + ym + ") -> ()\n  return\n}\n";
}
