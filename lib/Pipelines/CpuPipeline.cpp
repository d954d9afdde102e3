//===- CpuPipeline.cpp - qet-cpu-pipeline ---------------------------------===//

#include "qet/Pipelines/Pipelines.h"

#include "qet/Conversion/Passes.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::qet;

void mlir::qet::buildQetCpuPipeline(OpPassManager &pm,
                                    const CpuPipelineOptions &options) {
  pm.addPass(createQetFuseDequant());
  if (options.backend == CpuBackend::Scf)
    pm.addPass(createConvertQetToScf(
        ConvertQetToScfOptions{options.activations.getValue()}));
  pm.addPass(createQetDecompose());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertQetToRuntime());
  pm.addPass(createConvertQetToLinalg());
  pm.addPass(createQetVerifyLowered());
  // Upstream's CPU lowering.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createSCFToControlFlowPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true; // no compiler-rt needed for bf16 conversions
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::qet::registerQetPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "qet-cpu-pipeline",
      "Quantized tensors to the LLVM dialect on CPUs (fused products through "
      "generated loops or the runtime's kernels)",
      buildQetCpuPipeline);
}
