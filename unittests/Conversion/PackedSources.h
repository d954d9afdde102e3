//===- PackedSources.h - MLIR text around library-packed weights -*- C++
//-*-===//
//
// The unit tests write the quantizer library's streams as a qet.constant and
// compile functions around it, so the compiler runs on exactly what the
// library packed.
//
//===----------------------------------------------------------------------===//
#ifndef QET_UNITTESTS_CONVERSION_PACKEDSOURCES_H
#define QET_UNITTESTS_CONVERSION_PACKEDSOURCES_H

#include "qet/Quantizer/PackedMatrix.h"

#include <cstdint>
#include <string>

namespace qet::test {

/// `!qet.packed<NxKxT, attribute>` for `packed` (T its storage type).
std::string packedType(const quant::PackedMatrix &packed,
                       const std::string &attribute);

/// `qet.constant {component = dense<...>, ...} : type` of `packed`'s streams.
std::string packedConstant(const quant::PackedMatrix &packed,
                           const std::string &type);

/// func.func @run(%xm: memref<B x K>, %ym: memref<B x N>) computing
/// y = x W^T through qet.qmatmul of the packed weight (convert-qet-to-scf's
/// fused kernels under qet-cpu-pipeline{backend=scf}).
std::string productSource(const quant::PackedMatrix &packed,
                          const std::string &attribute, int64_t batch);

} // namespace qet::test

#endif // QET_UNITTESTS_CONVERSION_PACKEDSOURCES_H
