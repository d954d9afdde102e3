//===- qet-opt.cpp - mlir-opt with the qet dialect and passes -------------===//
//
// Registers every upstream dialect, extension, pass and LLVM IR translation
// (gpu-module-to-binary needs the translations) plus the qet dialect.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "qet/Conversion/Passes.h"
#include "qet/Dialect/Qet/IR/QetDialect.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"
#include "qet/Pipelines/Pipelines.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::qet::registerQetConversionPasses();
  mlir::qet::registerQetTransformsPasses();
  mlir::qet::registerQetPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::qet::QetDialect>();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "qet optimizer driver: MLIR plus the qet dialect\n",
      registry));
}
