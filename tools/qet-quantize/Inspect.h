//===- Inspect.h - qet-quantize --inspect -----------------------*- C++ -*-===//
#ifndef QET_TOOLS_QETQUANTIZE_INSPECT_H
#define QET_TOOLS_QETQUANTIZE_INSPECT_H

#include <string>

namespace qet::tool {

/// Prints the tensor table of a .qpk container, verifies every section
/// checksum and decodes every tensor. Returns the exit status: 0 when all is
/// well, 1 when a tensor is corrupt or cannot be decoded (each named).
int inspectContainer(const std::string &path);

} // namespace qet::tool

#endif // QET_TOOLS_QETQUANTIZE_INSPECT_H
