//===- Pipelines.h - qet's end-to-end pass pipelines ------------*- C++ -*-===//
#ifndef QET_PIPELINES_PIPELINES_H
#define QET_PIPELINES_PIPELINES_H

#include "qet/Conversion/QetToScf/QetToScf.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qet {

enum class CpuBackend { Scf, Runtime };

struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<CpuBackend> backend{
      *this, "backend", llvm::cl::desc("How quantized products run"),
      llvm::cl::init(CpuBackend::Scf),
      llvm::cl::values(
          clEnumValN(CpuBackend::Scf, "scf",
                     "generated loops (convert-qet-to-scf)"),
          clEnumValN(CpuBackend::Runtime, "runtime",
                     "libqet_runtime's kernels (convert-qet-to-runtime)"))};
  PassOptions::Option<ActivationPrecision> activations{
      *this, "activations",
      llvm::cl::desc("Input precision of generated 4-bit RTN products "
                     "(backend=scf; see convert-qet-to-scf)"),
      llvm::cl::init(ActivationPrecision::F32),
      llvm::cl::values(
          clEnumValN(ActivationPrecision::F32, "f32", "f32 input"),
          clEnumValN(ActivationPrecision::I16, "i16",
                     "input quantized per group to 16 bits"),
          clEnumValN(ActivationPrecision::I8, "i8",
                     "input quantized per group to 8 bits"))};
};

/// Tensors with qet ops (weights quantized, e.g. by qet-quantize-weights) to
/// the LLVM dialect: fuse decoding into products, lower them with the chosen
/// backend, decompose what is left, bufferize (destination-passing style,
/// function boundaries included, buffers deallocated), lower vectors, loops
/// and everything to LLVM.
void buildQetCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers `qet-cpu-pipeline{backend=scf|runtime}`.
void registerQetPipelines();

} // namespace mlir::qet

#endif // QET_PIPELINES_PIPELINES_H
