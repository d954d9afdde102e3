//===- ExternalStorage.cpp - External constants read through the runtime -===//
//
// A qet.storage of a qet.external_constant becomes
//   func.call @qetLoadSection(%file, %tensor, %section, %buffer)
//   %t = bufferization.to_tensor %buffer restrict
// where %buffer is a private, uninitialized memref.global of the component's
// size (zero-filled memory at load time, no bytes in object files) that the
// runtime fills from the container on the first call, and the strings are
// private constant globals. A buffer owned by a global, unlike a memref a
// call returns, is never freed by buffer deallocation.
//
//===----------------------------------------------------------------------===//

#include "qet/Conversion/QetToRuntime/QetToRuntime.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

#include <map>
#include <tuple>

namespace mlir::qet {
#define GEN_PASS_DEF_CONVERTQETTORUNTIME
#include "qet/Conversion/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

constexpr StringLiteral kLoadSection = "qetLoadSection";

/// Declarations and string constants added to the module, created once.
class RuntimeSymbols {
public:
  explicit RuntimeSymbols(ModuleOp module)
      : module(module), symbols(module),
        bytes(MemRefType::get({ShapedType::kDynamic},
                              IntegerType::get(module.getContext(), 8))) {}

  MemRefType dynamicBytes() const { return bytes; }

  /// The declaration of qetLoadSection; fails if the module already has a
  /// different symbol of that name.
  FailureOr<func::FuncOp> loadSection() {
    if (loadFn)
      return loadFn;
    auto type = FunctionType::get(module.getContext(),
                                  {bytes, bytes, bytes, bytes}, {});
    if (Operation *existing = symbols.lookup(kLoadSection)) {
      auto fn = dyn_cast<func::FuncOp>(existing);
      if (!fn || fn.getFunctionType() != type)
        return existing->emitError()
               << "convert-qet-to-runtime: the symbol '" << kLoadSection
               << "' is taken by something other than the runtime's " << type;
      return loadFn = fn;
    }
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    loadFn = func::FuncOp::create(b, module.getLoc(), kLoadSection, type);
    loadFn.setPrivate();
    loadFn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    symbols.insert(loadFn);
    return loadFn;
  }

  /// The buffer global of one component, named after tensor and section
  /// (the size is part of the key: the runtime checks each against the file).
  memref::GlobalOp buffer(Location loc, StringRef file, StringRef tensor,
                          StringRef section, int64_t size) {
    memref::GlobalOp &global =
        buffers[std::make_tuple(file.str(), tensor.str(), section.str(), size)];
    if (!global) {
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      global = memref::GlobalOp::create(
          top, loc, ("qet_" + tensor + "_" + section).str(),
          top.getStringAttr("private"),
          MemRefType::get({size}, top.getI8Type()), top.getUnitAttr(),
          /*constant=*/false, top.getI64IntegerAttr(64));
      symbols.insert(global); // renames to a unique symbol
    }
    return global;
  }

  /// `text` (no terminator) as a memref<?xi8> view of a constant global.
  Value string(OpBuilder &b, Location loc, StringRef text) {
    auto type =
        MemRefType::get({static_cast<int64_t>(text.size())}, b.getI8Type());
    memref::GlobalOp &global = strings[text];
    if (!global) {
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      auto tensorType = RankedTensorType::get(type.getShape(), top.getI8Type());
      auto value = DenseElementsAttr::get(
          tensorType, ArrayRef<char>(text.data(), text.size()));
      global = memref::GlobalOp::create(
          top, loc, "qet_str", top.getStringAttr("private"), type, value,
          /*constant=*/true, /*alignment=*/nullptr);
      symbols.insert(global); // renames to a unique symbol
    }
    Value view = memref::GetGlobalOp::create(b, loc, type, global.getSymName());
    return memref::CastOp::create(b, loc, bytes, view);
  }

private:
  ModuleOp module;
  SymbolTable symbols;
  MemRefType bytes;
  func::FuncOp loadFn;
  llvm::StringMap<memref::GlobalOp> strings;
  std::map<std::tuple<std::string, std::string, std::string, int64_t>,
           memref::GlobalOp>
      buffers;
};

struct ConvertQetToRuntimePass
    : qet::impl::ConvertQetToRuntimeBase<ConvertQetToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<StorageOp> reads;
    module.walk([&](StorageOp op) {
      if (op.getPacked().getDefiningOp<ExternalConstantOp>())
        reads.push_back(op);
    });
    if (reads.empty())
      return;

    RuntimeSymbols symbols(module);
    FailureOr<func::FuncOp> load = symbols.loadSection();
    if (failed(load))
      return signalPassFailure();
    for (StorageOp op : reads) {
      auto external = op.getPacked().getDefiningOp<ExternalConstantOp>();
      RankedTensorType resultType = op.getResult().getType();
      OpBuilder b(op);
      Location loc = op.getLoc();
      int64_t size = resultType.getDimSize(0);
      memref::GlobalOp global =
          symbols.buffer(loc, external.getFile(), external.getTensor(),
                         op.getComponent(), size);
      Value buffer = memref::GetGlobalOp::create(b, loc, global.getType(),
                                                 global.getSymName());
      SmallVector<Value> args = {
          symbols.string(b, loc, external.getFile()),
          symbols.string(b, loc, external.getTensor()),
          symbols.string(b, loc, op.getComponent()),
          memref::CastOp::create(b, loc, symbols.dynamicBytes(), buffer)};
      func::CallOp::create(b, loc, *load, args);
      auto toTensor = bufferization::ToTensorOp::create(
          b, loc, resultType, buffer, /*restrict=*/true, /*writable=*/false);
      op.getResult().replaceAllUsesWith(toTensor.getResult());
      op.erase();
    }
    module.walk([](ExternalConstantOp op) {
      if (op.use_empty())
        op.erase();
    });
  }
};

} // namespace
