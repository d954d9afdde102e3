//===- ReferenceProducts.h - fp64 products and their error bounds -*- C++
//-*-===//
//
// The reference for every runtime product: W x in fp64 with W the quantizer
// library's reconstruction. The bound per output is 1e-5 times the sum of
// |terms| the runtime kernel really accumulates (for fp32 sums in any order,
// |error| <= n eps sum|terms|; in practice ~eps sum|terms| / 4, so 1e-5 has
// a wide margin and still catches any dropped or misplaced term, which is
// many orders larger). The terms differ from |w_ij x_j| where a kernel
// factors W: rtn's zero point times a group sum of x, opq's rotation of x,
// the stages of hera/qet, vptq's scale and bias, qjl's sketch x = S q.
//
//===----------------------------------------------------------------------===//
#ifndef QET_UNITTESTS_RUNTIME_REFERENCEPRODUCTS_H
#define QET_UNITTESTS_RUNTIME_REFERENCEPRODUCTS_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"

#include <vector>

namespace qet::test {

/// fp64 W x for a rows x cols W.
std::vector<double> referenceProduct(const quant::Matrix &w, const float *x);

/// Per row, 1e-5 times the kernel's sum of |terms| for x (see above).
std::vector<double> productTolerance(const quant::PackedMatrix &packed,
                                     const quant::Matrix &w, const float *x);

} // namespace qet::test

#endif // QET_UNITTESTS_RUNTIME_REFERENCEPRODUCTS_H
