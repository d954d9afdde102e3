//===- QetAttrs.td - Scheme attributes of the qet dialect --*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETATTRS_TD
#define QET_DIALECT_QET_IR_QETATTRS_TD

include "qet/Dialect/Qet/IR/QetDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Qet_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Qet_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Qet_RtnAttr : Qet_Attr<"Rtn", "rtn"> {
  let summary = "Group-wise round-to-nearest scalar quantization";
  let description = [{
    Each row (the last dimension) is cut into groups of `group` consecutive
    elements; the last group may be shorter. Every element is stored as a
    `bits`-wide code, every group as an fp16 scale plus, unless `symmetric`,
    an fp16 minimum (the zero point):

    * asymmetric: `x' = min + q * scale`, `q` in `[0, 2^bits - 1]`;
    * symmetric:  `x' = q * scale`, `q` in `[-2^(bits-1), 2^(bits-1) - 1]`.

    Exact storage: `bits` per element plus 32 (asymmetric) or 16 (symmetric)
    bits per group.

    ```mlir
    #qet.rtn<bits = 4, group = 128, symmetric = false>
    ```
  }];
  let parameters = (ins "unsigned":$bits, "uint64_t":$group, "bool":$symmetric);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of groups in a row of `rowLength` elements: ceil(rowLength / group).
    int64_t getNumGroups(int64_t rowLength) const;
    /// Smallest and largest code value.
    int64_t getMinCode() const;
    int64_t getMaxCode() const;
    /// Exact stored bits for a rows x rowLength matrix (codes + fp16 metadata).
    uint64_t getStorageBits(int64_t rows, int64_t rowLength) const;
  }];
}

#endif // QET_DIALECT_QET_IR_QETATTRS_TD
