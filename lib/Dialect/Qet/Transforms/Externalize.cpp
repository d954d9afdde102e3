//===- Externalize.cpp - qet.constant payloads into a .qpk container ------===//
//
// qet-externalize: the bytes of every qet.constant go into one container
// file, written with the scheme's library name and parameters so the
// runtime's kernels and `qet-quantize --inspect` read it like any other
// container; the module keeps only qet.external_constant references.
//
//===----------------------------------------------------------------------===//

#include "QuantizerBridge.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::qet {
#define GEN_PASS_DEF_QETEXTERNALIZE
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;
namespace qrt = ::qet::runtime;

namespace {

std::optional<qrt::ElementType> containerElementType(Type type) {
  if (type.isF32())
    return qrt::ElementType::F32;
  if (type.isF16())
    return qrt::ElementType::F16;
  if (type.isBF16())
    return qrt::ElementType::BF16;
  return std::nullopt;
}

struct ExternalizePass
    : public mlir::qet::impl::QetExternalizeBase<ExternalizePass> {
  using QetExternalizeBase::QetExternalizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (file.empty()) {
      emitError(module.getLoc())
          << "qet-externalize: the option file=PATH is required";
      return signalPassFailure();
    }
    // Rewriting a container the module already reads would break those
    // references (the new tensors are numbered from w0 again).
    WalkResult taken = module.walk([&](ExternalConstantOp op) {
      if (op.getFile() != file)
        return WalkResult::advance();
      op.emitError() << "qet-externalize: the module already reads '" << file
                     << "'; write the new weights to another file";
      return WalkResult::interrupt();
    });
    if (taken.wasInterrupted())
      return signalPassFailure();
    SmallVector<ConstantOp> constants;
    module.walk([&](ConstantOp op) { constants.push_back(op); });
    if (constants.empty()) {
      // On the location, not the op: a remark on an op prints the whole op.
      emitRemark(module.getLoc())
          << "qet-externalize: no qet.constant in the module; '" << file
          << "' not written";
      return;
    }

    std::vector<qrt::TensorData> tensors;
    // Splat components are expanded here; the writer borrows the bytes
    // (moving an inner vector keeps its buffer).
    std::vector<std::vector<uint8_t>> expanded;
    uint64_t totalBytes = 0;
    for (auto [index, op] : llvm::enumerate(constants)) {
      PackedType type = op.getResult().getType();
      auto scheme = cast<SchemeAttrInterface>(type.getScheme());
      std::optional<qrt::ElementType> dtype =
          containerElementType(type.getElementType());
      if (!dtype) {
        op.emitError() << "qet-externalize: element type "
                       << type.getElementType()
                       << " has no container dtype (f32, f16, bf16)";
        return signalPassFailure();
      }
      qrt::TensorData tensor;
      tensor.name = "w" + std::to_string(index);
      tensor.scheme = scheme.getLibraryScheme();
      tensor.rows = static_cast<uint64_t>(type.getRows());
      tensor.cols = static_cast<uint64_t>(type.getCols());
      tensor.dtype = *dtype;
      std::map<std::string, int64_t> params;
      scheme.getLibraryParams(type.getCols(), params);
      tensor.params.assign(params.begin(), params.end());
      for (const StorageComponent &component : type.getComponents()) {
        ElementsAttr value = op.getComponent(component.name);
        ArrayRef<char> raw;
        if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
          AsmResourceBlob *blob = resource.getRawHandle().getBlob();
          if (!blob) {
            op.emitError() << "qet-externalize: component '" << component.name
                           << "' is a dense_resource without data (elided?)";
            return signalPassFailure();
          }
          raw = blob->getData();
        } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
          raw = dense.getRawData();
          if (dense.isSplat()) {
            expanded.emplace_back(component.bytes(),
                                  static_cast<uint8_t>(raw.front()));
            raw = ArrayRef<char>(
                reinterpret_cast<const char *>(expanded.back().data()),
                expanded.back().size());
          }
        } else {
          op.emitError() << "qet-externalize: component '" << component.name
                         << "' is neither dense nor dense_resource";
          return signalPassFailure();
        }
        // The verifier checked the tensor size; the blob must agree with it.
        if (raw.size() != component.bytes()) {
          op.emitError() << "qet-externalize: component '" << component.name
                         << "' holds " << raw.size() << " bytes, expected "
                         << component.bytes();
          return signalPassFailure();
        }
        tensor.sections.push_back(
            {component.name, component.bitsEach, component.count,
             reinterpret_cast<const uint8_t *>(raw.data()), raw.size()});
        totalBytes += raw.size();
      }
      tensors.push_back(std::move(tensor));
    }

    std::string error = ::qet::bridge::writeContainer(file, tensors, replace);
    if (!error.empty()) {
      emitError(module.getLoc()) << "qet-externalize: " << error;
      return signalPassFailure();
    }

    for (auto [op, tensor] : llvm::zip_equal(constants, tensors)) {
      OpBuilder b(op);
      Value external = ExternalConstantOp::create(
          b, op.getLoc(), op.getResult().getType(), b.getStringAttr(file),
          b.getStringAttr(tensor.name));
      op.getResult().replaceAllUsesWith(external);
      op.erase();
    }
    emitRemark(module.getLoc())
        << "qet-externalize: wrote " << tensors.size() << " tensors ("
        << totalBytes << " bytes) to '" << file << "'";
  }
};

} // namespace
