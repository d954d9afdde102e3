//===- QetInterfaces.td - Interfaces of the qet dialect ----*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETINTERFACES_TD
#define QET_DIALECT_QET_IR_QETINTERFACES_TD

include "mlir/IR/OpBase.td"

def Qet_SchemeAttrInterface : AttrInterface<"SchemeAttrInterface"> {
  let cppNamespace = "::mlir::qet";
  let description = [{
    A quantization scheme: how a rows x cols matrix of a float type is
    stored. Every scheme attribute names the quantizer library's scheme and
    its decoder parameters, checks a matrix shape, and lists its storage
    components: the bit streams (`count` fields of `bitsEach` bits, packed
    LSB-first as in docs/format.md) that a packed matrix holds, in decoding
    order. The exact bits per element follow from the components.
  }];
  let methods = [
    InterfaceMethod<"The quantizer library's name of the scheme.",
      "std::string", "getLibraryScheme">,
    InterfaceMethod<"The decoder parameters the library stores with the "
                    "streams (not charged to the bit budget).",
      "void", "getLibraryParams",
      (ins "int64_t":$cols, "std::map<std::string, int64_t> &":$params)>,
    InterfaceMethod<"Checks that a rows x cols matrix of `elementType` can "
                    "be stored; emits a diagnostic naming the parameter "
                    "otherwise.",
      "::llvm::LogicalResult", "verifyMatrix",
      (ins "int64_t":$rows, "int64_t":$cols, "::mlir::Type":$elementType,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)>,
    InterfaceMethod<"The storage components of a rows x cols matrix of "
                    "`elementType` (verifyMatrix must have succeeded).",
      "::llvm::SmallVector<::mlir::qet::StorageComponent>", "getComponents",
      (ins "int64_t":$rows, "int64_t":$cols, "::mlir::Type":$elementType)>,
  ];
}

#endif // QET_DIALECT_QET_IR_QETINTERFACES_TD
