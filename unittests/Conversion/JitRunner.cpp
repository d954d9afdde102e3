//===- JitRunner.cpp - Compile MLIR text through a pipeline and JIT it ----===//

#include "JitRunner.h"

#include "qet/Conversion/Passes.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"
#include "qet/Pipelines/Pipelines.h"
#include "qet/Dialect/Qet/IR/QetDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <mutex>

namespace qet::test {

static void registerOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    mlir::qet::registerQetConversionPasses();
    mlir::qet::registerQetTransformsPasses();
    mlir::qet::registerQetPipelines();
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

JitRunner::JitRunner(const std::string &source, const std::string &pipeline) {
  registerOnce();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::qet::QetDialect>();
  context = std::make_unique<mlir::MLIRContext>(registry);

  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  mlir::ScopedDiagnosticHandler handler(context.get(), [&](mlir::Diagnostic &d) {
    os << d << "\n";
    return mlir::success();
  });

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, context.get());
  if (!module) {
    ADD_FAILURE() << "cannot parse test IR:\n" << diagnostics << source;
    return;
  }
  mlir::PassManager pm(context.get());
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, os))) {
    ADD_FAILURE() << "bad pipeline '" << pipeline << "': " << diagnostics;
    return;
  }
  if (mlir::failed(pm.run(*module))) {
    ADD_FAILURE() << "pipeline failed:\n" << diagnostics;
    return;
  }
  mlir::ExecutionEngineOptions options;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Default;
  static const llvm::StringRef runnerUtils[] = {QET_MLIR_C_RUNNER_UTILS};
  options.sharedLibPaths = runnerUtils;
  auto created = mlir::ExecutionEngine::create(*module, options);
  if (!created) {
    std::string ir;
    llvm::raw_string_ostream irStream(ir);
    module->print(irStream);
    ADD_FAILURE() << "JIT failed: " << llvm::toString(created.takeError())
                  << "\n" << diagnostics << ir.substr(0, 3000);
    return;
  }
  jit = std::move(*created);
}

JitRunner::~JitRunner() = default;

} // namespace qet::test
