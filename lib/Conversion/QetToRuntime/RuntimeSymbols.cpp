//===- RuntimeSymbols.cpp - Runtime declarations, globals and buffers -----===//

#include "RuntimeSymbols.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

using namespace mlir;
using namespace mlir::qet;

RuntimeSymbols::RuntimeSymbols(ModuleOp module)
    : module(module), symbols(module),
      bytes(MemRefType::get({ShapedType::kDynamic},
                            IntegerType::get(module.getContext(), 8))),
      matrix(MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                             Float32Type::get(module.getContext()))) {}

FailureOr<func::FuncOp> RuntimeSymbols::function(StringRef name,
                                                 FunctionType type) {
  func::FuncOp &fn = functions[name];
  if (fn)
    return fn;
  if (Operation *existing = symbols.lookup(name)) {
    auto other = dyn_cast<func::FuncOp>(existing);
    if (!other || other.getFunctionType() != type)
      return existing->emitError()
             << "convert-qet-to-runtime: the symbol '" << name
             << "' is taken by something other than the runtime's " << type;
    return fn = other;
  }
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  fn = func::FuncOp::create(b, module.getLoc(), name, type);
  fn.setPrivate();
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  symbols.insert(fn);
  return fn;
}

Value RuntimeSymbols::string(OpBuilder &b, Location loc, StringRef text) {
  auto type =
      MemRefType::get({static_cast<int64_t>(text.size())}, b.getI8Type());
  memref::GlobalOp &global = strings[text];
  if (!global) {
    OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
    auto tensorType = RankedTensorType::get(type.getShape(), top.getI8Type());
    auto value = DenseElementsAttr::get(
        tensorType, ArrayRef<char>(text.data(), text.size()));
    global = memref::GlobalOp::create(top, loc, "qet_str",
                                      top.getStringAttr("private"), type, value,
                                      /*constant=*/true, /*alignment=*/nullptr);
    symbols.insert(global); // renames to a unique symbol
  }
  Value view = memref::GetGlobalOp::create(b, loc, type, global.getSymName());
  return memref::CastOp::create(b, loc, bytes, view);
}

std::pair<memref::GlobalOp, memref::GlobalOp>
RuntimeSymbols::buffer(Location loc, StringRef file, StringRef tensor,
                       StringRef section, int64_t size) {
  auto &globals = buffers[std::make_tuple(file.str(), tensor.str(),
                                          section.str(), size)];
  if (!globals.first) {
    OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
    std::string name = ("qet_" + tensor + "_" + section).str();
    globals.first = memref::GlobalOp::create(
        top, loc, name, top.getStringAttr("private"),
        MemRefType::get({size}, top.getI8Type()), top.getUnitAttr(),
        /*constant=*/false, top.getI64IntegerAttr(64));
    symbols.insert(globals.first); // renames to a unique symbol
    auto flagType = MemRefType::get({1}, top.getI8Type());
    globals.second = memref::GlobalOp::create(
        top, loc, name + "_loaded", top.getStringAttr("private"), flagType,
        DenseElementsAttr::get(RankedTensorType::get({1}, top.getI8Type()),
                               top.getI8IntegerAttr(0)),
        /*constant=*/false, /*alignment=*/nullptr);
    symbols.insert(globals.second);
  }
  return globals;
}

Value mlir::qet::callBuffer(OpBuilder &b, Location loc, Value t,
                            MemRefType dynamic) {
  auto type = cast<RankedTensorType>(t.getType());
  Value buffer = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), t,
      b.getUnitAttr());
  return memref::CastOp::create(b, loc, dynamic, buffer);
}

Value mlir::qet::componentBuffer(OpBuilder &b, Location loc, Value packed,
                                 StringRef name, MemRefType bytes) {
  auto type = cast<PackedType>(packed.getType());
  for (const StorageComponent &c : type.getComponents())
    if (c.name == name) {
      auto t = RankedTensorType::get({static_cast<int64_t>(c.bytes())},
                                     b.getI8Type());
      auto constant = packed.getDefiningOp<ConstantOp>();
      Value stored =
          constant ? arith::ConstantOp::create(
                         b, loc, cast<TypedAttr>(constant.getComponent(name)))
                         .getResult()
                   : StorageOp::create(b, loc, t, packed, name).getResult();
      return callBuffer(b, loc, stored, bytes);
    }
  Value none =
      memref::AllocaOp::create(b, loc, MemRefType::get({0}, b.getI8Type()));
  return memref::CastOp::create(b, loc, bytes, none);
}
