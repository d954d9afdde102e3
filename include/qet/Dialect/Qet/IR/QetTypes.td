//===- QetTypes.td - Types of the qet dialect --------------*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETTYPES_TD
#define QET_DIALECT_QET_IR_QETTYPES_TD

include "qet/Dialect/Qet/IR/QetDialect.td"
include "qet/Dialect/Qet/IR/QetInterfaces.td"
include "mlir/IR/AttrTypeBase.td"

def Qet_PackedType : TypeDef<Qet_Dialect, "Packed"> {
  let mnemonic = "packed";
  let summary = "A matrix stored in quantized form";
  let description = [{
    A rows x cols matrix of `elementType` (f32, f16 or bf16: the type the
    matrix was given in, which fixes the width of float codebooks) stored
    under `scheme`. Its storage is the scheme's fixed list of components
    (bit streams, see `SchemeAttrInterface`); `qet.storage` reads one of
    them as bytes and `qet.dequantize` rebuilds the dense matrix.

    ```mlir
    !qet.packed<4096x4096xf16, #qet.rtn<bits = 4, group = 128, symmetric = false>>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::mlir::Type":$elementType,
                        "::mlir::qet::SchemeAttrInterface":$scheme);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRows() const { return getShape()[0]; }
    int64_t getCols() const { return getShape()[1]; }
    /// The scheme's storage components for this shape and element type.
    ::llvm::SmallVector<StorageComponent> getComponents() const;
    /// Sum of the components' bits: the exact storage of the matrix.
    uint64_t getStorageBits() const;
    /// The dense tensor type the matrix decodes to.
    ::mlir::RankedTensorType getTensorType() const;
  }];
}

#endif // QET_DIALECT_QET_IR_QETTYPES_TD
