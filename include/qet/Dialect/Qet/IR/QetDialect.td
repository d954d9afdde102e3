//===- QetDialect.td - The qet dialect ---------------------*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETDIALECT_TD
#define QET_DIALECT_QET_IR_QETDIALECT_TD

include "mlir/IR/OpBase.td"

def Qet_Dialect : Dialect {
  let name = "qet";
  let cppNamespace = "::mlir::qet";
  let summary = "Quantized matrices: schemes, packed storage and their kernels";
  let description = [{
    The `qet` dialect describes how a large matrix (an LLM weight, an
    attention KV cache) is stored in quantized form and how it is decoded.
    Scheme attributes (`#qet.rtn`, ...) carry the parameters of a
    quantization method; ops encode, decode and combine the stored
    components. The namespace is `qet` because upstream MLIR owns `quant`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

class Qet_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qet_Dialect, mnemonic, traits>;

#endif // QET_DIALECT_QET_IR_QETDIALECT_TD
