//===- RuntimeSymbols.h - Runtime declarations and globals of a module -*- C++ -*-===//
//
// What convert-qet-to-runtime adds to a module, each created once: the
// declarations of the libqet_runtime entry points (llvm.emit_c_interface),
// private constant strings and the uninitialized buffers of externalized
// components; the buffers passed to the runtime; the lowerings of
// RuntimeMatmul.cpp, RuntimeQjl.cpp and ExternalStorage.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef QET_LIB_CONVERSION_QETTORUNTIME_RUNTIMESYMBOLS_H
#define QET_LIB_CONVERSION_QETTORUNTIME_RUNTIMESYMBOLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <map>
#include <string>
#include <tuple>
#include <utility>

namespace mlir::qet {

class RuntimeSymbols {
public:
  explicit RuntimeSymbols(ModuleOp module);

  /// memref<?xi8> and memref<?x?xf32>, the runtime's argument types.
  MemRefType bytesType() const { return bytes; }
  MemRefType matrixType() const { return matrix; }

  /// The declaration of runtime function `name` with `type`; fails with a
  /// diagnostic if the module has another symbol of that name.
  FailureOr<func::FuncOp> function(StringRef name, FunctionType type);

  /// `text` (no terminator) as a memref<?xi8> view of a constant global.
  Value string(OpBuilder &b, Location loc, StringRef text);

  /// The uninitialized buffer of component `section` of tensor `tensor` in
  /// `file` (the size is part of the key: the runtime checks each) and its
  /// zero-initialized one-byte "loaded" flag.
  std::pair<memref::GlobalOp, memref::GlobalOp>
  buffer(Location loc, StringRef file, StringRef tensor, StringRef section,
         int64_t size);

private:
  ModuleOp module;
  SymbolTable symbols;
  MemRefType bytes, matrix;
  llvm::StringMap<func::FuncOp> functions;
  llvm::StringMap<memref::GlobalOp> strings;
  std::map<std::tuple<std::string, std::string, std::string, int64_t>,
           std::pair<memref::GlobalOp, memref::GlobalOp>>
      buffers;
};

/// A read-only memref<?x...> view of tensor `t` for a runtime call (`dynamic`
/// is the runtime's argument type).
Value callBuffer(OpBuilder &b, Location loc, Value t, MemRefType dynamic);

/// The bytes of component `name` of packed `packed` as the runtime's
/// memref<?xi8>: a qet.constant's bytes directly (what qet.storage folds
/// to), else qet.storage; an empty buffer (NULL to the runtime) when the
/// scheme has no such component.
Value componentBuffer(OpBuilder &b, Location loc, Value packed, StringRef name,
                      MemRefType bytes);

/// qet.storage of qet.external_constant -> buffer filled by qetLoadSection,
/// loaded once at the entry of each function that reads it.
LogicalResult lowerExternalStorage(ModuleOp module, RuntimeSymbols &symbols);

/// qet.qmatmul -> qetMatmul (external weights, any scheme) or qetRtnMatmul
/// (RTN weights held by the module).
LogicalResult lowerQMatmuls(ModuleOp module, RuntimeSymbols &symbols);

/// qet.qjl_attention -> qetQjlAttention (external keys) or
/// qetQjlHeldAttention (keys held by the module); qet.qmatmul of QJL keys
/// held by the module -> qetQjlHeldScores. qet.qjl_score and qet.qjl_sketch
/// (an explicit JL matrix, no scheme seed) are errors. Runs before
/// lowerQMatmuls.
LogicalResult lowerQjl(ModuleOp module, RuntimeSymbols &symbols);

} // namespace mlir::qet

#endif // QET_LIB_CONVERSION_QETTORUNTIME_RUNTIMESYMBOLS_H
