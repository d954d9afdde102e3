//===- ContainerIO.h - Packed matrices in .qpk containers -------*- C++ -*-===//
//
// Stores PackedMatrix values as tensors of the runtime's .qpk container and
// reads them back: streams become sections, hyper-parameters become the
// tensor's parameters, the input dtype its element type.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_CONTAINERIO_H
#define QET_QUANTIZER_CONTAINERIO_H

#include "qet/Quantizer/PackedMatrix.h"
#include "qet/runtime/Container.h"

#include <string>
#include <utility>
#include <vector>

namespace qet::quant {

/// Writes each (name, matrix) pair as one tensor; see runtime::writeContainer
/// for the atomicity and no-overwrite guarantees.
void writePackedMatrices(
    const std::string &path,
    const std::vector<std::pair<std::string, const PackedMatrix *>> &matrices,
    bool replace);

/// The tensor `name` of `container` as a PackedMatrix (section checksums are
/// verified while copying).
PackedMatrix readPackedMatrix(const runtime::Container &container,
                              const std::string &name);

} // namespace qet::quant

#endif // QET_QUANTIZER_CONTAINERIO_H
