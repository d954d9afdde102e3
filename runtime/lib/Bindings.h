//===- Bindings.h - One binder per scheme family ----------------*- C++ -*-===//
//
// Each binder checks a tensor against its scheme's storage (the pack/unpack
// functions of lib/Quantizer define it) and returns the kernels' object. The
// reader (and so the container) outlives the result's use of section bytes
// only through the container, which the caller keeps alive.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_BINDINGS_H
#define QET_RUNTIME_LIB_BINDINGS_H

#include "SectionReader.h"

#include "qet/runtime/PackedTensor.h"

#include <memory>

namespace qet::runtime {

std::unique_ptr<PackedTensor> bindRtn(const TensorReader &reader);
std::unique_ptr<PackedTensor> bindPq(const TensorReader &reader);
std::unique_ptr<PackedTensor> bindOpq(const TensorReader &reader);
std::unique_ptr<PackedTensor> bindLopq(const TensorReader &reader);
/// `hera` and `qet`.
std::unique_ptr<PackedTensor> bindQet(const TensorReader &reader);
std::unique_ptr<PackedTensor> bindVptq(const TensorReader &reader);
std::unique_ptr<PackedTensor> bindQjl(const TensorReader &reader);

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_BINDINGS_H
